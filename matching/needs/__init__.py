"""Posted needs: a person says what support they need; it reaches the providers whose offers
fit, who answer it."""

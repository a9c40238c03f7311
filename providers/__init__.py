"""Who offers support: provider organisations and their staff, personal assistants, and
(as the marketplace grows) their checks, offers, prices, enquiries and reviews."""

"""Finding support: the search form and results pages, and the same search as JSON."""

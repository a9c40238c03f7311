"""Change of use: requests to spend a fund differently from its plan, the council's rules,
delegated authority, and decisions on the record."""

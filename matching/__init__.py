"""Reach and search: which offers reach a person, ranked; posted needs; unmet demand; and the
gap analysis commissioners use."""

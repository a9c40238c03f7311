"""Shortlists and the side-by-side comparison of up to three offers."""

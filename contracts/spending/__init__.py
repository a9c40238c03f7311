"""Spending an individual service fund: support delivered and bought, approved and paid."""

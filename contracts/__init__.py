"""Individual service funds: support plans, budget lines, the ledger, payments and
change-of-use decisions."""

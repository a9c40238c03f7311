"""Individual service funds: asking for one, the budget, the support plan and the agreement."""

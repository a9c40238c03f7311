"""Accounts: users and their roles, sign-up, sign-in, sessions and the access policy."""

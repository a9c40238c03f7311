"""The application shell of the SDS marketplace and the pieces every package shares."""

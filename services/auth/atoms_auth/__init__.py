"""The Atoms auth service: the one place that decides whether a token is valid."""

"""Staff accounts: passwords with their rules and lockout, the session version, and
two-factor sign-in."""

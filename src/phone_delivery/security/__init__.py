"""Access tokens and client secrets."""

"""Persistence: tables, repositories, the secret cipher and migrations."""

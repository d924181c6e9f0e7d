"""The HTTP edge: routers, request parsing, the one error table."""

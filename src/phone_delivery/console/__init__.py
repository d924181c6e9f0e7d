"""The web console at ``/console``: static files shipped in the package, a pure client of the public API.

The page signs in at ``/{envID}/as/token`` and then calls the same endpoints with the same bearer token
as any other client, so it can do nothing the API forbids. The one thing served here beside the files
is dev mode's own credentials, for the "Use dev credentials" button (``dev_credentials.py``).
"""

from phone_delivery.console.router import console_router

__all__ = ["console_router"]

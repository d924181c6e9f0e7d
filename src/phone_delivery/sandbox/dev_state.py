"""The sandbox as the command line runs it (``phone-delivery dev`` and ``phone-delivery sandbox``).

Three things on top of ``SandboxState``: the seed (dev mode's account, Messaging Services, numbers...)
comes back after every ``POST /_admin/reset``, so the credentials in dev-credentials.json keep
working; the inbox may live in the data directory (``InboxStore(path)``); and the admin API lets in
clients other than loopback that show ``admin_credentials`` (``admin_access.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from phone_delivery.sandbox.inbox_store import InboxStore
from phone_delivery.sandbox.state import SandboxState

INBOX_FILE = "sandbox-inbox.jsonl"

Seed = Callable[[SandboxState], None]


class DevSandboxState(SandboxState):
    def __init__(
        self,
        seed: Seed | None = None,
        inbox: InboxStore | None = None,
        admin_credentials: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        if inbox is not None:
            self.inbox = inbox
        self._seed = seed
        self.admin_credentials = admin_credentials
        if seed is not None:
            seed(self)

    def reset(self) -> None:
        """Forget everything, then seed again: the seeded account survives a reset."""
        super().reset()
        if self._seed is not None:
            self._seed(self)

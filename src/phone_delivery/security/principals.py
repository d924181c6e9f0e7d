"""From a verified token to the calling application and its roles, with a short cache.

Roles are read from the database, so removing a role or an application takes effect within
``ttl`` seconds on every process (at once on the process that made the change).
"""

from __future__ import annotations

from phone_delivery.domain.errors import Unauthenticated
from phone_delivery.domain.models import ENVIRONMENT_ADMIN, ORGANIZATION_ADMIN, Application, Principal, RoleAssignment
from phone_delivery.expiring_cache import ExpiringCache
from phone_delivery.security.tokens import VerifiedToken
from phone_delivery.single_flight import SingleFlight
from phone_delivery.store.database import Conn, Database
from phone_delivery.store.environments_repo import ApplicationRepository


def principal_of(app: Application, roles: list[RoleAssignment]) -> Principal:
    return Principal(
        client_id=app.id,
        environment_id=app.environment_id,
        name=app.name,
        organization_admin=any(r.role == ORGANIZATION_ADMIN for r in roles),
        admin_of=frozenset(
            r.scope_environment_id for r in roles if r.role == ENVIRONMENT_ADMIN and r.scope_environment_id
        ),
    )


async def current_principal(conn: Conn, principal: Principal) -> Principal:
    """The caller as the database says now, in the caller's transaction (not the cached view): for
    the requests that act on applications, where a role removed seconds ago must count."""
    found = await ApplicationRepository(conn).find_for_token(principal.client_id)
    if found is None or not found[0].enabled:
        raise Unauthenticated("The application that received this access token no longer exists or is disabled.")
    return principal_of(*found)


class PrincipalResolver:
    """Each caller's principal is kept ``ttl`` seconds; the requests that miss it together share
    one read (``SingleFlight``). A change made by this process is seen at once (``forget``): a read
    begun before it keeps nothing (``_generation``), and later requests do not join it."""

    def __init__(self, database: Database, ttl: float = 5.0) -> None:
        self._database = database
        self._ttl = ttl
        self._cache: ExpiringCache[str, Principal] = ExpiringCache()
        self._reads: SingleFlight[str, Principal | None] = SingleFlight()
        self._generation = 0

    async def resolve(self, token: VerifiedToken) -> Principal:
        principal = self._cache.get(token.client_id)
        if principal is None:
            principal = await self._reads.run(token.client_id, lambda: self._read(token.client_id))
        # the token's own environment, checked on every use: a kept principal is the application's
        if principal is None or principal.environment_id != token.environment_id:
            raise Unauthenticated("The application that received this access token no longer exists or is disabled.")
        return principal

    async def _read(self, client_id: str) -> Principal | None:
        generation = self._generation
        async with self._database.read() as conn:
            found = await ApplicationRepository(conn).find_for_token(client_id)
        if found is None or not found[0].enabled:
            self._cache.pop(client_id)
            return None
        principal = principal_of(*found)
        if generation == self._generation:
            self._cache.put(client_id, principal, self._ttl)
        return principal

    def forget(self, client_id: str | None = None) -> None:
        self._generation += 1
        self._reads.forget(client_id)
        if client_id is None:
            self._cache.clear()
        else:
            self._cache.pop(client_id)

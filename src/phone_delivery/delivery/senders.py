"""From a chain entry (a phoneDeliverySettings id or ``PINGONE_TWILIO``) to a provider."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from phone_delivery.domain.errors import ProviderRejected
from phone_delivery.domain.notifications import PINGONE_TWILIO
from phone_delivery.domain.ports import ProviderFactory, SenderProvider
from phone_delivery.domain.sender_kinds import SENDER_KINDS
from phone_delivery.expiring_cache import ExpiringCache
from phone_delivery.providers.twilio_accounts import PlatformTwilioProvider
from phone_delivery.providers.twilio_rest import TwilioBases
from phone_delivery.settings import Settings
from phone_delivery.single_flight import SingleFlight
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Database
from phone_delivery.store.senders_repo import SenderRepository


@dataclass(frozen=True)
class ResolvedSender:
    provider: SenderProvider
    provider_name: str  # CUSTOM_TWILIO, ..., or PINGONE_TWILIO
    twilio_auth_token: str | None  # to check Twilio status callbacks


class SenderResolver:
    """Resolved senders are kept for ``ttl`` seconds, so a busy worker does not read and decrypt the
    same sender for every message. A change made by this process is seen at once (``forget``); one
    made by another process (an API process beside separate workers) within ``ttl`` seconds. Test
    sends never use a kept sender (``fresh=True``). The sends that miss a kept sender together share
    one read (``SingleFlight``)."""

    def __init__(
        self,
        database: Database,
        cipher: SecretCipher,
        providers: dict[str, ProviderFactory],
        http: httpx.AsyncClient,
        twilio: TwilioBases,
        settings: Settings,
        ttl: float = 2.0,
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._providers = providers
        self._http = http
        self._twilio = twilio
        self._settings = settings
        self._ttl = ttl
        self._cache: ExpiringCache[tuple[str, str], ResolvedSender] = ExpiringCache()
        self._methods: ExpiringCache[tuple[str, str], tuple[frozenset[str], str]] = ExpiringCache()
        # the sends and accepts that miss a kept one together share one read
        self._sender_reads: SingleFlight[tuple[str, str], ResolvedSender] = SingleFlight()
        self._methods_reads: SingleFlight[tuple[str, str], tuple[frozenset[str], str]] = SingleFlight()
        # Bumped by forget(): a resolve that read the sender before a change never keeps what it read.
        self._generation = 0
        self._platform: ResolvedSender | None = None

    def _platform_sender(self) -> ResolvedSender:
        """PINGONE_TWILIO, from the server's settings: built once, on first use."""
        if self._platform is None:
            self._platform = self._build_platform()
        return self._platform

    def _build_platform(self) -> ResolvedSender:
        s = self._settings
        if (
            not s.platform_twilio_account_sid
            or not s.platform_twilio_auth_token
            or not (s.platform_twilio_messaging_service_sid or s.platform_twilio_from_number)
        ):
            raise ProviderRejected(
                "PINGONE_TWILIO",
                "PINGONE_TWILIO is not configured on this server (PHONE_DELIVERY_PLATFORM_TWILIO_* settings).",
                extra={"kind": "sender"},
            )
        provider = PlatformTwilioProvider(
            self._http,
            self._twilio,
            s.platform_twilio_account_sid,
            s.platform_twilio_auth_token,
            s.platform_twilio_messaging_service_sid,
            s.platform_twilio_from_number,
        )
        return ResolvedSender(provider, PINGONE_TWILIO, s.platform_twilio_auth_token)

    async def resolve(self, environment_id: str, entry: str, *, fresh: bool = False) -> ResolvedSender:
        """The provider for a chain entry; ``fresh`` reads the sender now instead of a kept one."""
        if entry == PINGONE_TWILIO:
            return self._platform_sender()
        key = (environment_id, entry)
        if fresh:
            return await self._read_sender(key)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        return await self._sender_reads.run(key, lambda: self._read_sender(key))

    async def _read_sender(self, key: tuple[str, str]) -> ResolvedSender:
        generation = self._generation
        async with self._database.read() as conn:
            sender = await SenderRepository(conn, self._cipher).get(*key)
        if sender is None:
            raise ProviderRejected("phone-delivery", "The sender was deleted.", extra={"kind": "sender"})
        provider = self._providers[sender.provider](sender.config, sender.secrets)
        token = sender.secrets.get("authToken") if sender.provider.startswith("CUSTOM_TWILIO") else None
        resolved = ResolvedSender(provider, sender.provider, token)
        if generation == self._generation:
            self._cache.put(key, resolved, self._ttl)
        return resolved

    async def delivery_methods(self, environment_id: str, entry: str) -> tuple[frozenset[str], str]:
        """What a chain entry can deliver (SMS, VOICE), and in words what it is or why it can deliver
        nothing. Read from the non-secret configuration (nothing is decrypted) and kept like resolved
        senders."""
        if entry == PINGONE_TWILIO:
            return self._platform_methods()
        key = (environment_id, entry)
        hit = self._methods.get(key)
        if hit is not None:
            return hit
        return await self._methods_reads.run(key, lambda: self._read_methods(key))

    async def _read_methods(self, key: tuple[str, str]) -> tuple[frozenset[str], str]:
        generation = self._generation
        async with self._database.read() as conn:
            row = await SenderRepository(conn, self._cipher).get_public(*key)
        if row is None:
            found: tuple[frozenset[str], str] = (frozenset(), "the sender was deleted")
        else:
            methods = SENDER_KINDS[row["provider"]].delivery_methods(dict(row["config"]))
            found = (methods, _capability_words(row["provider"], methods))
        if generation == self._generation:
            self._methods.put(key, found, self._ttl)
        return found

    def _platform_methods(self) -> tuple[frozenset[str], str]:
        try:
            self._platform_sender()
        except ProviderRejected as exc:
            return frozenset(), exc.message.rstrip(".")
        methods = frozenset({"SMS", "VOICE"} if self._settings.platform_twilio_from_number else {"SMS"})
        return methods, _capability_words(PINGONE_TWILIO, methods)

    def forget(self, environment_id: str, sender_id: str) -> None:
        """The sender changed or is gone: the next resolve reads it again."""
        self._generation += 1
        self._sender_reads.forget((environment_id, sender_id))
        self._methods_reads.forget((environment_id, sender_id))
        self._cache.pop((environment_id, sender_id))
        self._methods.pop((environment_id, sender_id))


def _capability_words(provider: str, methods: frozenset[str]) -> str:
    if not methods:
        return f"{provider} with no number, Messaging Service or channel selected"
    return f"{provider}, which delivers {' and '.join(sorted(methods))} only"

"""The long-lived objects of a running service, built once in the app's lifespan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry

from phone_delivery.delivery.policy_gate import RefusalMetrics, SendContextMetrics
from phone_delivery.delivery.senders import SenderResolver
from phone_delivery.delivery.service import NotificationService
from phone_delivery.domain.ports import ProviderFactory
from phone_delivery.domain.senders import SenderService
from phone_delivery.providers.address_guard import AddressGuard
from phone_delivery.providers.custom_http import OAuthTokenCache
from phone_delivery.providers.http import build_http_client
from phone_delivery.providers.registry import ProviderContext, build_registry
from phone_delivery.providers.twilio_rest import TwilioBases
from phone_delivery.sandbox.state import SandboxState
from phone_delivery.security.principals import PrincipalResolver
from phone_delivery.security.tokens import TokenService
from phone_delivery.settings import Settings
from phone_delivery.store import crypto
from phone_delivery.store.batch_writer import BatchWriter
from phone_delivery.store.crypto import SecretCipher
from phone_delivery.store.database import Database
from phone_delivery.store.migrate import upgrade_to_head
from phone_delivery.store.sender_store import SqlSenderTransactions
from phone_delivery.worker.delivery_worker import DeliveryWorker, WorkerMetrics
from phone_delivery.worker.worker_process import WorkerProcess


@dataclass
class Services:
    settings: Settings
    database: Database
    cipher: SecretCipher
    tokens: TokenService
    principals: PrincipalResolver
    http: httpx.AsyncClient
    tenant_http: httpx.AsyncClient
    providers: dict[str, ProviderFactory]
    senders: SenderService
    notifications: NotificationService
    worker: DeliveryWorker
    sandbox: SandboxState | None
    writer: BatchWriter

    async def close(self) -> None:
        await self.writer.aclose()  # the last group commits, before the database goes
        await self.http.aclose()
        await self.tenant_http.aclose()
        await self.database.dispose()


def open_cipher(settings: Settings) -> SecretCipher:
    return crypto.open_cipher(settings.secret_keys, settings.key_file)


async def build_services(
    settings: Settings,
    sandbox: SandboxState | None = None,
    registry: CollectorRegistry | None = None,
    address_guard: AddressGuard | None = None,
    worker_elsewhere: WorkerProcess | None = None,
) -> Services:
    """``address_guard`` replaces the one built from the settings (tests inject a resolver).
    ``worker_elsewhere``: the delivery worker runs in that process (worker/worker_process.py), woken
    when a notification is accepted and told when a sender changes; this process's worker is never
    run then, and its metrics (the other process's) are not registered in ``registry``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cipher = open_cipher(settings)
    database = Database(settings.resolved_database_url)
    await upgrade_to_head(database)
    tokens = await TokenService.load(
        database, cipher, audience=settings.token_audience, lifetime=settings.token_lifetime_seconds
    )
    url_guard = address_guard or AddressGuard(settings.allowed_hosts)
    http = build_http_client(settings.provider_timeout_seconds)
    tenant_http = build_http_client(settings.provider_timeout_seconds, guard=url_guard)
    twilio = TwilioBases(
        api=settings.twilio_api_base_url,
        messaging=settings.twilio_messaging_base_url,
        verify=settings.twilio_verify_base_url,
    )
    providers = build_registry(
        ProviderContext(
            http=http,
            tenant_http=tenant_http,
            twilio=twilio,
            syniverse_base=settings.syniverse_base_url,
            oauth_tokens=OAuthTokenCache(),
            url_guard=url_guard,
        )
    )
    resolver = SenderResolver(database, cipher, providers, http, twilio, settings)
    senders = SenderService(
        SqlSenderTransactions(database, cipher),
        providers,
        settings.max_senders_per_environment,
        url_guard,
        changed=_forget_everywhere(resolver, worker_elsewhere),
    )
    writer = BatchWriter(database)
    worker = DeliveryWorker(
        database,
        cipher,
        resolver,
        settings,
        WorkerMetrics(registry if registry is not None and worker_elsewhere is None else CollectorRegistry()),
        settings.public_base_url,
        writer,
    )
    refusals = RefusalMetrics(registry) if registry is not None else None
    if registry is not None and database.send_contexts is not None:
        registry.register(SendContextMetrics(database.send_contexts))
    notifications = NotificationService(database, cipher, resolver, (worker_elsewhere or worker).wake, writer, refusals)
    return Services(
        notifications=notifications,
        worker=worker,
        settings=settings,
        database=database,
        cipher=cipher,
        tokens=tokens,
        principals=PrincipalResolver(database),
        http=http,
        tenant_http=tenant_http,
        providers=providers,
        senders=senders,
        sandbox=sandbox,
        writer=writer,
    )


def _forget_everywhere(resolver: SenderResolver, worker: WorkerProcess | None) -> Callable[[str, str], None]:
    """What a sender's replace or delete calls: this process forgets it, and so does the worker."""
    if worker is None:
        return resolver.forget

    def forget(environment_id: str, sender_id: str) -> None:
        resolver.forget(environment_id, sender_id)
        worker.forget(environment_id, sender_id)

    return forget

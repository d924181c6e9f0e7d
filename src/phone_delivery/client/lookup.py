"""Names or ids to ids: environments, senders, notification policies and applications, as the API lists them.

An argument is first compared with the ids, then with the names, of the things the API lists in
the one environment concerned; an id of something elsewhere never matches. When an argument is
one thing's id and another's name, or the name of several, the command refuses to guess.
"""

from __future__ import annotations

from typing import Any

from phone_delivery.client.api import ApiClient
from phone_delivery.client.errors import NotFoundLocally, UsageError

PINGONE_TWILIO = "PINGONE_TWILIO"


def pick(items: list[dict[str, Any]], wanted: str, what: str, where: str = "") -> dict[str, Any]:
    """The one item whose id or name is ``wanted``."""
    by_id = [item for item in items if item.get("id") == wanted]
    by_name = [item for item in items if item.get("name") == wanted]
    if by_id and by_name and by_id[0] is not by_name[0]:
        raise UsageError(
            f"{wanted!r} is the id of one {what}{where} and the name of another ({by_name[0]['id']}): "
            "use the other one's id"
        )
    if by_id:
        return by_id[0]
    if len(by_name) > 1:
        ids = ", ".join(item["id"] for item in by_name)
        raise UsageError(f"{len(by_name)} {what}s{where} are named {wanted!r} ({ids}): use an id")
    if by_name:
        return by_name[0]
    known = ", ".join(repr(item.get("name") or item.get("id")) for item in items[:20]) or "none"
    raise NotFoundLocally(f"no {what}{where} has the name or id {wanted!r} (there are: {known})")


def environment(api: ApiClient, wanted: str | None) -> dict[str, Any]:
    """The environment named (or with the id) ``wanted``, else the credentials' default one."""
    chosen = wanted or api.credentials.environment
    if not chosen:
        raise UsageError(
            "which environment? Give --env NAME-OR-ID, set PHONE_DELIVERY_ENVIRONMENT, or store one with "
            "'phone-delivery login --env'"
        )
    return pick(api.items("/v1/environments", "environments"), chosen, "environment")


def senders(api: ApiClient, env_id: str) -> list[dict[str, Any]]:
    return api.items(api.senders_path(env_id), "phoneDeliverySettings")


def sender(api: ApiClient, env: dict[str, Any], wanted: str) -> dict[str, Any]:
    return pick(senders(api, env["id"]), wanted, "sender", f" in environment {env['name']!r}")


def policies(api: ApiClient, env_id: str) -> list[dict[str, Any]]:
    return api.items(api.policies_path(env_id), "notificationsPolicies")


def policy(api: ApiClient, env: dict[str, Any], wanted: str) -> dict[str, Any]:
    return pick(policies(api, env["id"]), wanted, "notification policy", f" in environment {env['name']!r}")


def application(api: ApiClient, env: dict[str, Any], wanted: str) -> dict[str, Any]:
    apps = api.items(f"/v1/environments/{env['id']}/applications", "applications")
    return pick(apps, wanted, "application", f" in environment {env['name']!r}")


def chain_entries(items: list[dict[str, Any]], wanted: list[str], env_name: str) -> list[str]:
    """Sender ids (or PINGONE_TWILIO) for the names or ids given, in order."""
    return [
        PINGONE_TWILIO
        if entry == PINGONE_TWILIO
        else pick(items, entry, "sender", f" in environment {env_name!r}")["id"]
        for entry in wanted
    ]

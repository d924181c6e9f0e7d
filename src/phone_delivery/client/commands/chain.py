"""``phone-delivery chain show|set``: the environment's smsProvidersFallbackChain."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from phone_delivery.client import lookup
from phone_delivery.client.commands.context import EnvOpt, OutputOpt, ProfileOpt, group, session
from phone_delivery.client.output import Format, Output

app = group("The fallback chain: the senders a notification tries, in order (PINGONE_TWILIO included).")
SETTINGS = "/v1/environments/{env}/notificationsSettings"
# What a PUT of notificationsSettings carries besides the chain (kept as they are).
KEPT = ("deliveryMode", "whitelist", "from", "replyTo")


def _show(output: Output, settings: dict[str, Any], senders: list[dict[str, Any]]) -> None:
    by_id = {s["id"]: s for s in senders}
    chain = settings.get("smsProvidersFallbackChain") or []
    rows = []
    for position, entry in enumerate(chain, start=1):
        sender = by_id.get(entry, {})
        name = "PINGONE_TWILIO" if entry == lookup.PINGONE_TWILIO else sender.get("name")
        provider = "platform Twilio" if entry == lookup.PINGONE_TWILIO else sender.get("provider")
        rows.append((position, name, provider, entry))
    if not chain:
        output.text("The chain is empty: notifications go through PINGONE_TWILIO.")
        return
    output.table(["#", "Sender", "Provider", "Id"], rows)


@app.command("show")
def show(env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """Show the fallback chain with each sender's name."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        settings = s.api.get(SETTINGS.format(env=environment["id"]))
        s.output.result(settings, lambda: _show(s.output, settings, lookup.senders(s.api, environment["id"])))


@app.command("set")
def set_chain(
    senders: Annotated[list[str], typer.Argument(help="Sender names or ids in order; PINGONE_TWILIO allowed.")],
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Replace the fallback chain (the other notification settings stay as they are)."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        items = lookup.senders(s.api, environment["id"])
        chain = lookup.chain_entries(items, senders, environment["name"])
        path = SETTINGS.format(env=environment["id"])
        current = s.api.get(path)
        body = {key: current[key] for key in KEPT if current.get(key) is not None}
        body["smsProvidersFallbackChain"] = chain
        updated = s.api.put(path, body)
        s.output.result(updated, lambda: _show(s.output, updated, items))

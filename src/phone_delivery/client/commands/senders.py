"""``phone-delivery senders list|show|create|apply|delete|test|select``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from phone_delivery.client import lookup, sender_apply, sender_files
from phone_delivery.client.commands.context import EnvOpt, OutputOpt, ProfileOpt, group, session
from phone_delivery.client.errors import SEND_FAILED, ClientError, UsageError
from phone_delivery.client.output import Format, Output
from phone_delivery.client.provider_errors import describe

app = group("Senders (PingOne's phoneDeliverySettings), named by name or id.")
FileOpt = Annotated[
    Path, typer.Option("--file", "-f", help="YAML or JSON sender file (- for stdin).", show_default=False)
]
SenderArg = Annotated[str, typer.Argument(help="Sender name or id.", show_default=False)]
SELECTABLE = ("messagingServices", "numbers", "channels")


def _quoted(word: str) -> str:
    return shlex.quote(word)


def selected(sender: dict[str, Any]) -> str:
    """What the sender sends with: its selected service, numbers or channels."""
    if sender.get("provider") == "CUSTOM_TWILIO_VERIFY":
        return f"Verify {sender.get('verifyServiceId')}"
    chosen = [s.get("name") or s["messagingServiceId"] for s in sender.get("messagingServices") or [] if s["selected"]]
    chosen += [n["number"] for n in sender.get("numbers") or [] if n.get("selected")]
    chosen += [c.get("name") or c["id"] for c in sender.get("channels") or [] if c.get("selected")]
    return ", ".join(chosen) or "(nothing selected)"


def _table(output: Output, items: list[dict[str, Any]]) -> None:
    output.table(
        ["Name", "Provider", "Selected", "Id", "Updated"],
        [(s.get("name"), s.get("provider"), selected(s), s.get("id"), s.get("updatedAt")) for s in items],
    )


def _detail(output: Output, sender: dict[str, Any]) -> None:
    keys = ("name", "id", "provider", "sid", "verifyServiceId", "createdAt", "updatedAt")
    output.fields([(key, sender[key]) for key in keys if sender.get(key) not in (None, "")])
    if sender.get("authentication"):
        auth = sender["authentication"]
        output.fields([("authentication", ", ".join(f"{k}={v}" for k, v in auth.items()))])
    if sender.get("messagingServices"):
        output.table(
            ["Selected", "Messaging Service", "Sid"],
            [(m["selected"], m.get("name"), m["messagingServiceId"]) for m in sender["messagingServices"]],
        )
    if sender.get("numbers"):
        output.table(
            ["Selected", "Number", "Type", "Capabilities", "Countries", "Available"],
            [
                (
                    n.get("selected"),
                    n["number"],
                    n.get("type"),
                    n.get("capabilities"),
                    n.get("supportedCountries"),
                    n.get("available"),
                )
                for n in sender["numbers"]
            ],
        )
    if sender.get("channels"):
        output.table(
            ["Selected", "Channel", "Id", "Capabilities"],
            [(c.get("selected"), c.get("name"), c["id"], c.get("capabilities")) for c in sender["channels"]],
        )
    for request in sender.get("requests") or []:
        output.fields([("request", f"{request['deliveryMethod']} {request['method']} {request['url']}")])


@app.command("list")
def list_senders(env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """List the senders of an environment and what each one has selected."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        items = lookup.senders(s.api, environment["id"])
        s.output.result(items, lambda: _table(s.output, items))


@app.command("show")
def show(sender: SenderArg, env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """Show one sender: its fields and the services, numbers or channels of its account."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.sender(s.api, environment, sender)
        s.output.result(found, lambda: _detail(s.output, found))


@app.command("create")
def create(file: FileOpt, env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """Create the sender(s) of a file as they are (PingOne's first step); see 'senders apply'."""
    with session(profile, output) as s:
        bodies = sender_files.load(file, s.environ)
        environment = lookup.environment(s.api, env)
        created = [s.api.post(s.api.senders_path(environment["id"]), body) for body in bodies]
        if s.output.json:
            s.output.data(created if len(created) > 1 else created[0])
        else:
            for item in created:
                s.output.text(f"created sender {item.get('name')!r} ({item['id']}), {item['provider']}")
            _table(s.output, created)
            for item in created:
                if selected(item) == "(nothing selected)" and any(item.get(k) for k in SELECTABLE):
                    s.output.note(
                        f"next, choose what {item.get('name')!r} sends with: phone-delivery senders select "
                        f"{_quoted(str(item.get('name') or item['id']))} NAME-OR-ID ..."
                    )


@app.command("apply")
def apply(
    file: FileOpt,
    force: Annotated[
        bool, typer.Option("--force", help="Send an update even when nothing but the secrets may differ.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")] = False,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create or update senders by name, so that they are as the file says (idempotent).

    Secrets are write-only and cannot be compared: a sender whose other fields match is left alone
    (no update, no activity); use --force to send changed secrets. If one sender fails, those
    applied before it are listed, then the error.
    """
    with session(profile, output) as s:
        bodies = sender_files.load(file, s.environ)
        for index, body in enumerate(bodies):
            if not isinstance(body.get("name"), str) or not body["name"].strip():
                raise UsageError(f"{file}: sender {index + 1} has no name: apply finds senders by name")
        names = [b["name"].strip() for b in bodies]
        if len(set(names)) != len(names):
            raise UsageError(f"{file} names a sender twice: {sorted({n for n in names if names.count(n) > 1})}")
        environment = lookup.environment(s.api, env)
        existing = {item.get("name"): item for item in lookup.senders(s.api, environment["id"])}
        results: list[dict[str, Any]] = []
        try:
            for name, body in zip(names, bodies, strict=True):
                results.append(_apply_one(s.api, environment["id"], existing.get(name), body, force, dry_run))
        except ClientError:
            if results:  # what was applied before the error, then the error (from the session)
                _results(s.output, results, "applied before the error; the rest was not applied")
            raise
        _results(s.output, results, "dry run: nothing changed" if dry_run else None)


def _results(output: Output, results: list[dict[str, Any]], title: str | None) -> None:
    if output.json:
        output.data(results)
    else:
        output.table(
            ["Name", "Action", "Changed", "Id"],
            [(r["name"], r["action"], r["changed"], r["id"]) for r in results],
            title=title,
        )


def _apply_one(
    api: Any, env_id: str, current: dict[str, Any] | None, body: dict[str, Any], force: bool, dry_run: bool
) -> dict[str, Any]:
    step = sender_apply.plan(current, body, force=force)
    name = body["name"].strip()
    if dry_run or step.body is None:
        return {"name": name, "action": step.action, "changed": step.changed, "id": (current or {}).get("id")}
    if step.action == "create":
        current = api.post(api.senders_path(env_id), step.body)
        assert current is not None
        try:  # PingOne's second step: choose from the lists the account returned
            second = sender_apply.plan(current, body)
            if second.body is not None:
                current = api.put(api.senders_path(env_id, current["id"]), second.body)
        except ClientError as exc:
            exc.message = f"created sender {name!r} ({current['id']}), but could not select: {exc.message}"
            raise
        return {"name": name, "action": "created", "changed": step.changed, "id": current["id"]}
    assert current is not None
    api.put(api.senders_path(env_id, current["id"]), step.body)
    return {"name": name, "action": "updated", "changed": step.changed, "id": current["id"]}


@app.command("delete")
def delete(sender: SenderArg, env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """Delete a sender (the server refuses while the fallback chain uses it)."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.sender(s.api, environment, sender)
        s.api.delete(s.api.senders_path(environment["id"], found["id"]))
        s.output.result(
            {"deleted": {"id": found["id"], "name": found.get("name")}},
            lambda: s.output.text(f"deleted sender {found.get('name')!r} ({found['id']})"),
        )


@app.command("test")
def send_test(
    sender: SenderArg,
    to: Annotated[str, typer.Option("--to", help="Recipient, E.164 (+14155552671).", show_default=False)],
    message: Annotated[str, typer.Option("--message", "-m", help="Text to send.")] = "phone-delivery test message",
    voice: Annotated[bool, typer.Option("--voice", help="A voice call instead of an SMS.")] = False,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Send one message through this sender only, now, and show the provider's answer (exit 4 if it failed)."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.sender(s.api, environment, sender)
        body = {"deliveryMethod": "VOICE" if voice else "SMS", "to": to, "message": message}
        result = s.api.post(s.api.senders_path(environment["id"], found["id"]) + "/test", body)
        if s.output.json:
            s.output.data(result)
        else:
            error = result.get("error") or {}
            s.output.fields(
                [
                    ("status", result.get("status")),
                    ("provider", result.get("provider")),
                    ("providerMessageId", result.get("providerMessageId")),
                    ("providerResponse", result.get("providerResponse")),
                    ("error", describe(error.get("code"), error.get("message"), result.get("provider")) or None),
                ]
            )
        if result.get("status") == "FAILED":
            raise typer.Exit(SEND_FAILED)


SecretOpt = Annotated[
    str | None,
    typer.Option(
        "--secret",
        envvar="PHONE_DELIVERY_SENDER_SECRET",
        help="The sender's secret (authToken, or the custom provider's password/token/client secret/header "
        "value): an update carries it. Default: $PHONE_DELIVERY_SENDER_SECRET, else asked without echo. "
        "Prefer those: a secret on the command line shows in ps and stays in the shell's history.",
        show_default=False,
        show_envvar=False,
    ),
]


@app.command("select")
def select(
    sender: SenderArg,
    choices: Annotated[
        list[str], typer.Argument(help="Messaging Service sids or names, numbers, or channel ids or names.")
    ],
    secret: SecretOpt = None,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Choose what the sender sends with (PingOne's second step); everything else is deselected."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.sender(s.api, environment, sender)
        key = next((k for k in ("messagingServices", "numbers", "channels") if found.get(k)), None)
        if key is None:
            raise UsageError(f"the sender {found.get('name')!r} ({found['provider']}) has nothing to select")
        id_key = {"messagingServices": "messagingServiceId", "numbers": "number", "channels": "id"}[key]
        items = [dict(item) for item in found[key]]
        for choice in choices:
            hits = [i for i in items if choice in (i.get(id_key), i.get("name"))]
            if not hits:
                known = ", ".join(f"{i.get(id_key)}" + (f" ({i['name']})" if i.get("name") else "") for i in items)
                raise UsageError(f"{found.get('name')!r} has no {key} item {choice!r}; it has: {known}")
        for item in items:
            item["selected"] = any(choice in (item.get(id_key), item.get("name")) for choice in choices)
        if secret is None:
            if not sys.stdin.isatty():
                raise UsageError(
                    "an update carries the sender's secret: give --secret or set PHONE_DELIVERY_SENDER_SECRET"
                )
            secret = typer.prompt("The sender's secret (authToken)", hide_input=True)
        body = {k: v for k, v in found.items() if k not in sender_apply.META}
        body[key] = items
        for path in sender_files.secret_paths(found):
            holder = body
            for part in path[:-1]:
                holder = holder.setdefault(part, {})
            holder[path[-1]] = secret
        updated = s.api.put(s.api.senders_path(environment["id"], found["id"]), body)
        s.output.result(updated, lambda: s.output.text(f"{updated.get('name')!r} now sends with: {selected(updated)}"))

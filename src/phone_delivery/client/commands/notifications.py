"""``phone-delivery send`` and ``phone-delivery notifications list|show|tail``."""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from phone_delivery.client import lookup
from phone_delivery.client.api import ApiClient
from phone_delivery.client.commands.context import EnvOpt, OutputOpt, ProfileOpt, group, session
from phone_delivery.client.errors import SEND_FAILED, WAIT_TIMEOUT
from phone_delivery.client.output import Format, Output, safe
from phone_delivery.client.provider_errors import describe

app = group("The delivery log: list, show one with its attempts, follow new ones.")
PATH = "/v1/environments/{env}/notifications"
FINAL = ("DELIVERED", "UNDELIVERED", "FAILED")
FAILED = ("UNDELIVERED", "FAILED")
RELATIVE = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _since(value: str | None) -> str | None:
    """ISO 8601 as it is; ``30s``, ``10m``, ``2h``, ``1d`` as that long before now (this machine's clock)."""
    if value is None:
        return None
    match = RELATIVE.fullmatch(value.strip())
    if match is None:
        return value
    moment = datetime.now(UTC) - timedelta(**{UNITS[match[2]]: int(match[1])})
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sender_names(api: ApiClient, env_id: str) -> dict[str, str]:
    names = {s["id"]: str(s.get("name") or s["id"]) for s in lookup.senders(api, env_id)}
    names[lookup.PINGONE_TWILIO] = lookup.PINGONE_TWILIO
    return names


def _sender_of(item: dict[str, Any], names: dict[str, str]) -> str:
    sender = (item.get("sender") or {}).get("id")
    return names.get(sender, sender) if sender else ""


def _error_of(item: dict[str, Any]) -> str:
    error = item.get("error") or {}
    return describe(error.get("code"), error.get("message"), (item.get("sender") or {}).get("provider"))


def show_notification(output: Output, item: dict[str, Any], names: dict[str, str]) -> None:
    output.fields(
        [
            ("id", item["id"]),
            ("status", item["status"]),
            ("deliveryMethod", item.get("deliveryMethod")),
            ("to", item.get("to")),
            ("sender", _sender_of(item, names)),
            ("providerMessageId", item.get("providerMessageId")),
            ("error", _error_of(item)),
            ("createdAt", item.get("createdAt")),
            ("updatedAt", item.get("updatedAt")),
        ]
    )
    attempts = item.get("attempts") or []
    if attempts:
        output.table(
            ["#", "Sender", "Provider", "Outcome", "Error", "Started", "Finished"],
            [
                (
                    position,
                    (a.get("sender") or {}).get("name") or (a.get("sender") or {}).get("id"),
                    a.get("provider"),
                    a.get("outcome"),
                    describe(a.get("errorCode"), a.get("errorMessage"), a.get("provider")),
                    a.get("startedAt"),
                    a.get("finishedAt"),
                )
                for position, a in enumerate(attempts, start=1)
            ],
            title="Attempts",
        )


def send(
    to: Annotated[str, typer.Option("--to", help="Recipient, E.164 (+14155552671).", show_default=False)],
    message: Annotated[
        str, typer.Option("--message", "-m", help="Text (read aloud with --voice).", show_default=False)
    ],
    voice: Annotated[bool, typer.Option("--voice", help="A voice call instead of an SMS.")] = False,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Follow the status live until it is final.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds (exit 5).")] = 60.0,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Retries with the same key get the same notification.", show_default=False)
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(help="Notification policy (name or id) instead of the default one.", show_default=False),
    ] = None,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Send an SMS (or a voice message) through the environment's fallback chain (or the policy's routing).

    Exit 4 when it ends FAILED or UNDELIVERED, 5 when --wait times out before a final status,
    130 on Ctrl-C (the notification goes on).
    """
    with session(profile, output) as s:
        if not s.output.json:  # which server (and whose credentials): a surprise is visible
            s.output.note(f"server {s.api.credentials.server} ({s.api.credentials.source})")
        environment = lookup.environment(s.api, env)
        path = PATH.format(env=environment["id"])
        body: dict[str, Any] = {"deliveryMethod": "VOICE" if voice else "SMS", "to": to, "message": message}
        if policy is not None:
            body["policy"] = {"id": lookup.policy(s.api, environment, policy)["id"]}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        item = s.api.post(path, body, headers=headers)
        if wait:
            s.interrupted = f"stopped waiting; follow it with: phone-delivery notifications show {item['id']}"
            item = _follow(s.api, s.output, f"{path}/{item['id']}", item, timeout)
            s.interrupted = None
        if s.output.json:
            s.output.data(item)
        elif wait:
            show_notification(s.output, item, _sender_names(s.api, environment["id"]))
        else:
            s.output.text(f"{item['id']} {item['status']} (follow it: phone-delivery notifications show {item['id']})")
        if item["status"] in FAILED:
            raise typer.Exit(SEND_FAILED)
        if wait and item["status"] not in FINAL:
            s.output.note(
                f"still {item['status']} after {timeout:g}s: the provider has not reported a final status "
                "(delivery reports need the server's PHONE_DELIVERY_PUBLIC_BASE_URL)"
            )
            raise typer.Exit(WAIT_TIMEOUT)


def _follow(api: ApiClient, output: Output, path: str, item: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll until a final status or ``timeout``, showing a live status line on stderr."""
    started = time.monotonic()
    deadline = started + timeout
    with output.status(f"{item['id']} {item['status']}") as line:
        while item["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(0.2)
            item = api.get(path)
            line.update(safe(f"{item['id']} {item['status']} ({time.monotonic() - started:.1f}s)"))
    return item


@app.command("list")
def list_notifications(
    to: Annotated[str | None, typer.Option(help="Only to this recipient (E.164).")] = None,
    status: Annotated[
        str | None, typer.Option(help="Comma-separated statuses, e.g. FAILED,UNDELIVERED.", show_default=False)
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Created at or after: ISO 8601, or 30s, 10m, 2h, 1d ago.", show_default=False)
    ] = None,
    until: Annotated[str | None, typer.Option(help="Created before (same forms as --since).")] = None,
    sender: Annotated[
        str | None, typer.Option(help="Sent through this sender (name or id, or PINGONE_TWILIO).")
    ] = None,
    method: Annotated[str | None, typer.Option("--method", help="SMS or VOICE.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many, newest first.")] = 50,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """List notifications, newest first."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        names = _sender_names(s.api, environment["id"])
        sender_id = None
        if sender is not None:
            sender_id = lookup.chain_entries(lookup.senders(s.api, environment["id"]), [sender], environment["name"])[0]
        params: dict[str, Any] = {
            "to": to,
            "status": status.upper() if status else None,
            "since": _since(since),
            "until": _since(until),
            "sender": sender_id,
            "deliveryMethod": method.upper() if method else None,
            "limit": min(limit, 1000),
        }
        pages = s.api.iter_items(PATH.format(env=environment["id"]), "notifications", **params)
        items = list(itertools.islice(pages, limit))  # no page after the one that holds the limit-th
        if s.output.json:
            s.output.data(items)
        else:
            s.output.table(
                ["Created", "Id", "Method", "To", "Status", "Sender", "Error"],
                [
                    (
                        i.get("createdAt"),
                        i["id"],
                        i.get("deliveryMethod"),
                        i.get("to"),
                        i["status"],
                        _sender_of(i, names),
                        _error_of(i),
                    )
                    for i in items
                ],
            )


@app.command("show")
def show(
    notification: Annotated[str, typer.Argument(help="Notification id.")],
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Show one notification with every attempt."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        item = s.api.get(f"{PATH.format(env=environment['id'])}/{notification}")
        s.output.result(item, lambda: show_notification(s.output, item, _sender_names(s.api, environment["id"])))


@app.command("tail")
def tail(
    to: Annotated[str | None, typer.Option(help="Only to this recipient (E.164).")] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 1.0,
    count: Annotated[
        int | None,
        typer.Option(min=1, help="Stop once this many new notifications have reached a final status."),
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Stop after this many seconds.", show_default=False)] = None,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Follow new notifications: one line when one appears and at each change of status.

    Ctrl-C stops it (exit 130); --count or --timeout end it with exit 0. With --output json, one
    notification object per line (NDJSON).
    """
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        path = PATH.format(env=environment["id"])
        follower = _Tail(s.api, s.output, path, to, _sender_names(s.api, environment["id"]))
        deadline = None if timeout is None else time.monotonic() + timeout
        s.interrupted = "stopped"
        while not (count is not None and follower.finished >= count):
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(interval)
            follower.poll()


class _Tail:
    """New notifications are those not on the first page read at start (no clock comparisons)."""

    def __init__(self, api: ApiClient, output: Output, path: str, to: str | None, names: dict[str, str]) -> None:
        self._api, self._output, self._path, self._to, self._names = api, output, path, to, names
        first = list(api.iter_items(path, "notifications", pages=1, limit=100, to=to))
        self._old = {item["id"] for item in first}
        self._since = first[0]["createdAt"] if first else None
        self._status: dict[str, str] = {}
        self.finished = 0

    def poll(self) -> None:
        items = list(
            self._api.iter_items(self._path, "notifications", pages=5, limit=200, to=self._to, since=self._since)
        )
        for item in reversed(items):  # oldest first, as a log reads
            if item["id"] in self._old or self._status.get(item["id"]) == item["status"]:
                continue
            if self._status.get(item["id"]) in FINAL:
                continue
            self._status[item["id"]] = item["status"]
            if item["status"] in FINAL:
                self.finished += 1
            self._print(item)

    def _print(self, item: dict[str, Any]) -> None:
        if self._output.json:
            self._output.line(item)
            return
        sender = _sender_of(item, self._names)
        fields = [item.get("updatedAt"), item["id"], item.get("deliveryMethod"), item.get("to"), item["status"]]
        line = "  ".join(str(f) for f in fields if f)
        extra = " ".join(p for p in (f"via {sender}" if sender else "", _error_of(item)) if p)
        self._output.text(f"{line}  {extra}".rstrip())

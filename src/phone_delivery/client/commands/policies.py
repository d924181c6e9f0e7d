"""``phone-delivery policies list|show|apply|delete|usage``: notification policies (quotas, country
limit, routing per country, cooldowns) named by name or id, and what their counters hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from phone_delivery.client import lookup, policy_files
from phone_delivery.client.api import ApiClient
from phone_delivery.client.commands.context import EnvOpt, OutputOpt, ProfileOpt, group, session
from phone_delivery.client.errors import ClientError, UsageError
from phone_delivery.client.output import Format, Output

app = group("Notification policies: quotas, country limit, routing per country, cooldowns.")
PolicyArg = Annotated[str, typer.Argument(help="Policy name or id.", show_default=False)]
FileOpt = Annotated[
    Path, typer.Option("--file", "-f", help="YAML or JSON policy file (- for stdin).", show_default=False)
]


def _quota(quota: dict[str, Any]) -> str:
    if quota.get("total") is not None:
        return f"{quota['total']} per day"
    parts = [f"{key} {quota[key]}" for key in ("unclaimed", "claimed") if quota.get(key) is not None]
    return ", ".join(parts) + " per day"


def _country_limit(limit: dict[str, Any] | None) -> str:
    if not limit or limit.get("type") in (None, "NONE"):
        return "none"
    methods = "/".join(limit.get("deliveryMethods") or [])
    return f"{limit['type']} for {methods}: {', '.join(limit.get('countries') or [])}"


def _period(period: dict[str, Any]) -> str:
    return f"{period.get('duration')}{'s' if period.get('timeUnit') == 'SECONDS' else 'min'}"


def _names(api: ApiClient, env_id: str) -> dict[str, str]:
    names = {s["id"]: str(s.get("name") or s["id"]) for s in lookup.senders(api, env_id)}
    names[lookup.PINGONE_TWILIO] = lookup.PINGONE_TWILIO
    return names


def _table(output: Output, items: list[dict[str, Any]]) -> None:
    output.table(
        ["Default", "Name", "Quotas", "Country limit", "Routing", "Id"],
        [
            (
                "default" if p.get("default") else "",
                p.get("name"),
                "; ".join(
                    f"{q.get('type')} {'/'.join(q.get('deliveryMethods') or [])} {_quota(q)}"
                    for q in p.get("quotas") or []
                )
                or "none",
                _country_limit(p.get("countryLimit")),
                f"{len((p.get('providerConfiguration') or {}).get('conditions') or [])} conditions"
                if p.get("providerConfiguration")
                else "environment's chain",
                p.get("id"),
            )
            for p in items
        ],
    )


def _detail(output: Output, policy: dict[str, Any], names: dict[str, str]) -> None:
    output.fields(
        [
            ("name", policy.get("name")),
            ("id", policy.get("id")),
            ("default", bool(policy.get("default"))),
            ("countryLimit", _country_limit(policy.get("countryLimit"))),
            ("createdAt", policy.get("createdAt")),
            ("updatedAt", policy.get("updatedAt")),
        ]
    )
    quotas = policy.get("quotas") or []
    if quotas:
        output.table(
            ["#", "Type", "Methods", "Limit"],
            [(i, q.get("type"), q.get("deliveryMethods"), _quota(q)) for i, q in enumerate(quotas)],
            title="Quotas",
        )
    else:
        output.text("Quotas: none")
    conditions = (policy.get("providerConfiguration") or {}).get("conditions") or []
    if conditions:
        output.table(
            ["#", "Methods", "Countries", "Fallback chain"],
            [
                (
                    i,
                    c.get("deliveryMethods"),
                    c.get("countries") if c.get("countries") is not None else "any",
                    " -> ".join(names.get(e.get("id"), str(e.get("id"))) for e in c.get("fallbackChain") or []),
                )
                for i, c in enumerate(conditions)
            ],
            title="Routing (first match wins)",
        )
    else:
        output.text("Routing: the environment's fallback chain")
    cooldowns = policy.get("cooldownConfiguration") or {}
    output.table(
        ["Method", "Enabled", "Periods", "Group by", "Resend limit"],
        [
            (
                method,
                bool(c.get("enabled")),
                [_period(p) for p in c.get("periods") or []],
                c.get("groupBy"),
                c.get("resendLimit"),
            )
            for method, c in cooldowns.items()
            if isinstance(c, dict)
        ],
        title="Cooldowns",
    )
    fraud = policy.get("fraudProtection")
    if fraud:
        output.table(
            ["Rule", "Enabled", "Settings"],
            [
                (
                    rule,
                    bool(settings.get("enabled")),
                    ", ".join(
                        f"{k}={'/'.join(v) if isinstance(v, list) else v}"
                        for k, v in settings.items()
                        if k != "enabled"
                    ),
                )
                for rule, settings in fraud.items()
                if isinstance(settings, dict)
            ],
            title="Fraud protection",
        )


@app.command("list")
def list_policies(env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """List the notification policies of an environment; the default one is marked."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        items = lookup.policies(s.api, environment["id"])
        s.output.result(items, lambda: _table(s.output, items))


@app.command("show")
def show(policy: PolicyArg, env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """Show one policy: default flag, quotas, country limit, routing with sender names, cooldowns."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.policy(s.api, environment, policy)
        s.output.result(found, lambda: _detail(s.output, found, _names(s.api, environment["id"])))


@app.command("apply")
def apply(
    file: FileOpt,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")] = False,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create or replace policies by name, so that they are as the file says (idempotent).

    A PUT replaces the whole policy: a rule the file leaves out goes back to its default. A policy
    that already matches is left alone (no update, no activity). fallbackChain entries may name
    senders of the environment by name or id, or PINGONE_TWILIO.
    """
    with session(profile, output) as s:
        bodies = policy_files.load(file)
        environment = lookup.environment(s.api, env)
        senders = lookup.senders(s.api, environment["id"])
        # Every chain is resolved before anything is sent: a file naming an unknown sender changes nothing.
        resolved = [policy_files.resolve_chains(body, senders, environment["name"]) for body in bodies]
        existing: dict[str, list[dict[str, Any]]] = {}
        for item in lookup.policies(s.api, environment["id"]):
            existing.setdefault(str(item.get("name")), []).append(item)
        results: list[dict[str, Any]] = []
        try:
            for body in resolved:
                results.append(_apply_one(s.api, environment["id"], existing, body, dry_run))
        except ClientError:
            if results:
                _results(s.output, results, "applied before the error; the rest was not applied")
            raise
        _results(s.output, results, "dry run: nothing changed" if dry_run else None)


def _apply_one(
    api: ApiClient, env_id: str, existing: dict[str, list[dict[str, Any]]], body: dict[str, Any], dry_run: bool
) -> dict[str, Any]:
    name = body["name"].strip()
    body = {**body, "name": name}
    same = existing.get(name) or []
    if len(same) > 1:  # names are unique on the server; guard anyway rather than guess
        lookup.pick(same, name, "notification policy")
    current = same[0] if same else None
    step = policy_files.plan(current, body)
    result = {"name": name, "action": step.action, "changed": step.changed, "id": (current or {}).get("id")}
    if dry_run or step.action == "unchanged":
        return result
    if current is None:
        created = api.post(api.policies_path(env_id), body)
        return {**result, "action": "created", "id": created["id"]}
    api.put(api.policies_path(env_id, current["id"]), body)
    return {**result, "action": "updated"}


def _results(output: Output, results: list[dict[str, Any]], title: str | None) -> None:
    if output.json:
        output.data(results)
    else:
        output.table(
            ["Name", "Action", "Changed", "Id"],
            [(r["name"], r["action"], r["changed"], r["id"]) for r in results],
            title=title,
        )


@app.command("delete")
def delete(policy: PolicyArg, env: EnvOpt = None, profile: ProfileOpt = None, output: OutputOpt = Format.table) -> None:
    """Delete a policy (the server refuses to delete the default one)."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        found = lookup.policy(s.api, environment, policy)
        s.api.delete(s.api.policies_path(environment["id"], found["id"]))
        s.output.result(
            {"deleted": {"id": found["id"], "name": found.get("name")}},
            lambda: s.output.text(f"deleted notification policy {found.get('name')!r} ({found['id']})"),
        )


def _who(entry: dict[str, Any]) -> str:
    return f"user {entry['user']['id']}" if "user" in entry else str(entry.get("to"))


def _usage(output: Output, usage: dict[str, Any]) -> None:
    output.fields([("policy", usage["notificationsPolicy"]["name"]), ("at", usage["at"])])
    quotas = usage.get("quotas") or []
    if quotas:
        output.table(
            ["#", "Type", "Methods", "Limit", "Used today", "Remaining", "Resets"],
            [
                (
                    q["index"],
                    q["type"],
                    "/".join(q["deliveryMethods"]),
                    q["limit"],
                    q.get("used", "not counted (Email)"),
                    q.get("remaining", f"{q.get('subjectsAtLimit', 0)} of {q.get('subjects', 0)} users at the limit")
                    if q["counted"]
                    else "",
                    q["window"]["end"],
                )
                for q in quotas
            ],
            title="Quotas (UTC day)",
        )
    else:
        output.text("Quotas: none")
    for q in quotas:
        if q.get("top"):
            output.table(
                ["User or number", "Used", "Remaining"],
                [(_who(t), t["used"], t["remaining"]) for t in q["top"]],
                title=f"Most used (quota {q['index']})",
            )
        if "subject" in q:
            subject = q["subject"]
            output.text(
                f"{_who(subject)}: {subject['used']} used, {subject['remaining']} left today (quota {q['index']})"
            )
    cap = usage.get("numberHourlyCap")
    if cap:
        output.text(
            f"{cap['to']}: {cap['used']} of {cap['limit']} this hour (numberHourlyCap, resets {cap['window']['end']})"
        )
    blocks = usage.get("blocks") or []
    if blocks:
        output.table(
            ["Rule", "Method", "Who", "Until"],
            [
                (
                    b["rule"],
                    b.get("deliveryMethod", ""),
                    f"prefix {b['prefix']}" if "prefix" in b else _who(b) + (f" at {b['to']}" if "user" in b else ""),
                    b["until"],
                )
                for b in blocks
            ],
            title=f"Blocks in force ({usage['blockCount']})",
        )
    else:
        output.text("Blocks in force: none")


@app.command("usage")
def usage(
    policy: Annotated[
        str | None, typer.Argument(help="Policy name or id (default: the default policy).", show_default=False)
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Also this user's use of a USER quota.")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Also this number's use (sends without user.id, the hourly cap).")
    ] = None,
    env: EnvOpt = None,
    profile: ProfileOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Show what a policy's counters hold now: each quota's use today, the most used users, one
    user's or number's use, and the cooldown and prefix blocks in force."""
    with session(profile, output) as s:
        environment = lookup.environment(s.api, env)
        if policy is None:
            found = next((p for p in lookup.policies(s.api, environment["id"]) if p.get("default")), None)
            if found is None:
                raise UsageError(f"environment {environment['name']!r} has no default notification policy")
        else:
            found = lookup.policy(s.api, environment, policy)
        body = s.api.get(s.api.policies_path(environment["id"], found["id"]) + "/usage", **{"user.id": user, "to": to})
        s.output.result(body, lambda: _usage(s.output, body))

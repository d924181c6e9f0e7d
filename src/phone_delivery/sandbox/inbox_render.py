"""The inbox page's HTML: the page, one row per message, one message in full.

Everything that came from outside (a body, a header, a recipient) goes through ``esc``; the page's
script inserts only fragments made here, and the page's Content-Security-Policy runs no script
but ours, so a body holding ``<script>`` is shown as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from phone_delivery.sandbox.inbox_query import KINDS, InboxQuery, kind_label, one_time_code

PREVIEW_CHARS = 140
UNKNOWN = "unknown"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(
    *,
    base: str,
    query: InboxQuery,
    rows: list[dict[str, Any]],
    size: int,
    after: str,
    opened: dict[str, Any] | None = None,
    note: str = "",
) -> str:
    options = "".join(
        f'<option value="{esc(k)}"{" selected" if query.kind == k else ""}>{esc(label)}</option>'
        for k, label in KINDS.items()
    )
    detail = message_detail(opened, base, query) if opened else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox inbox · phone-delivery</title>
<link rel="stylesheet" href="{esc(base)}/inbox/assets/inbox.css">
<script src="{esc(base)}/inbox/assets/inbox.js" defer></script>
</head>
<body data-base="{esc(base)}" data-after="{esc(after)}">
<a class="skip" href="#messages">Skip to the messages</a>
<header class="bar">
<h1>Sandbox inbox</h1>
<form id="search" class="search" role="search" action="{esc(base)}/inbox" method="get">
<label for="q">Search</label>
<input id="q" name="q" type="search" value="{esc(query.text or "")}" maxlength="200" autocomplete="off"
 placeholder="Recipient, sender or text" aria-describedby="search-help">
<label for="kind">Kind</label>
<select id="kind" name="kind"><option value="">All kinds</option>{options}</select>
<button type="submit">Search</button>
<span id="search-help" class="visually-hidden">Results update as you type. Press / to come back here.</span>
</form>
<button id="clear" class="danger" type="button" hidden>Clear inbox</button>
</header>
<p class="summary"><span id="summary">{esc(summary(size))}</span> <span id="note">{esc(note)}</span>
<span id="live" class="live">Live updates need JavaScript.</span></p>
<p id="announce" class="visually-hidden" aria-live="polite"></p>
<main class="panes">
<section class="list-pane" aria-labelledby="list-title">
<h2 id="list-title" class="visually-hidden">Messages, newest first</h2>
<ol id="messages" class="messages">{rows_html(rows, base, query)}</ol>
<p id="empty" class="empty"{"" if not rows else " hidden"}>No messages{" match" if note else " yet"}.</p>
</section>
<section id="detail" class="detail-pane" aria-label="Message"{"" if opened else " hidden"}
 data-seq="{esc(opened["seq"]) if opened else ""}">{detail}</section>
</main>
<footer class="foot">JSON for tests: <a href="{esc(base)}/_admin/inbox">{esc(base)}/_admin/inbox</a> and
<a href="{esc(base)}/_admin/inbox/latest">…/latest?to=</a> (docs/sandbox.md).
Keys: <kbd>/</kbd> search, <kbd>j</kbd> <kbd>k</kbd> next and previous, <kbd>Esc</kbd> close.</footer>
</body>
</html>
"""


def error_page(message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox inbox</title></head>'
        f'<body><h1>Sandbox inbox</h1><p role="alert">{esc(message)}</p></body></html>'
    )


def summary(size: int) -> str:
    return f"{size} message{'' if size == 1 else 's'} in the inbox."


def filter_note(query: InboxQuery) -> str:
    parts = [f"“{query.text}”"] if query.text else []
    if query.kind:
        parts.append(kind_label(query.kind))
    if query.to:
        parts.append(f"to {query.to}")
    return f"Showing those matching {', '.join(parts)}." if parts else ""


def rows_html(rows: list[dict[str, Any]], base: str, query: InboxQuery) -> str:
    return "".join(row(entry, base, query) for entry in rows)


def row(entry: Mapping[str, Any], base: str, query: InboxQuery) -> str:
    seq = int(entry["seq"])
    code = one_time_code(entry)
    status = entry.get("status")
    code_html = f' <span class="code"><span class="visually-hidden">code </span>{esc(code)}</span>' if code else ""
    status_html = f'<span class="status {_status_class(status)}">{esc(status)}</span>' if status else ""
    return (
        f'<li class="msg" id="m-{seq}" data-seq="{seq}">'
        f'<a class="msg-link" href="{esc(message_url(base, seq, query))}">'
        f'<span class="line"><span class="kind {_kind_class(entry)}">{esc(kind_label(entry.get("kind")))}</span>'
        f' <span class="to"><span class="visually-hidden">to </span>{esc(entry.get("to") or UNKNOWN)}</span>'
        f" {_time(entry.get('at'))}</span>"
        f'<span class="from">{esc(sender_line(entry))}</span>'
        f'<span class="preview">{esc(preview(entry))}</span>'
        f'<span class="line">{status_html}{code_html}</span>'
        "</a></li>"
    )


def message_detail(entry: Mapping[str, Any], base: str, query: InboxQuery) -> str:
    facts = [
        ("Kind", kind_label(entry.get("kind"))),
        ("To", entry.get("to") or UNKNOWN),
        ("From", entry.get("from") or UNKNOWN),
        ("Messaging Service", _service(entry)),
        ("Verify service", entry.get("verifyServiceSid")),
        ("Channel", entry.get("channel")),
        ("Status", entry.get("status")),
        ("Error code", entry.get("errorCode")),
        ("Request", f"{entry.get('method')} {entry.get('path')}" if entry.get("method") else None),
        ("Query string", entry.get("query") or None),
        ("Account", entry.get("accountSid")),
        ("Received", entry.get("at")),
        ("ID", entry.get("id")),
    ]
    facts_html = "".join(f"<dt>{esc(name)}</dt><dd>{esc(value)}</dd>" for name, value in facts if value)
    code = one_time_code(entry)
    parts = [
        '<article class="detail" aria-labelledby="detail-title">',
        '<div class="detail-head">',
        f'<h2 id="detail-title" tabindex="-1">{esc(kind_label(entry.get("kind")))} to '
        f"{esc(entry.get('to') or UNKNOWN)}</h2>",
        f'<a class="close" href="{esc(message_url(base, None, query))}" data-close>Close</a></div>',
    ]
    if code:
        parts.append(
            f'<p class="otp">One-time code <strong>{esc(code)}</strong> '
            f'<button type="button" data-copy="{esc(code)}">Copy code</button></p>'
        )
    parts.append(f'<dl class="facts">{facts_html}</dl>')
    if entry.get("kind") == "CALL":
        parts.append(_section("TwiML", f"<pre>{esc(entry.get('twiml') or entry.get('body') or '')}</pre>"))
    else:
        body = entry.get("body")
        text = esc(body) if body else '<span class="muted">(empty)</span>'
        parts.append(_section("Redacted body" if entry.get("redacted") else "Body", f"<pre>{text}</pre>"))
    headers = entry.get("headers")
    if isinstance(headers, list) and headers:
        cells = "".join(
            f'<tr><th scope="row">{esc(pair[0])}</th><td>{esc(pair[1])}</td></tr>'
            for pair in headers
            if isinstance(pair, list | tuple) and len(pair) == 2
        )
        table = f'<table><caption class="visually-hidden">Request headers, secrets masked</caption>{cells}</table>'
        parts.append(_section("Headers (secrets masked)", table))
    parts.append(_section("Status timeline", _timeline(entry.get("timeline"))))
    parts.append("</article>")
    return "".join(parts)


def gone_detail(base: str, query: InboxQuery) -> str:
    return (
        '<article class="detail" aria-labelledby="detail-title"><div class="detail-head">'
        '<h2 id="detail-title" tabindex="-1">Message not found</h2>'
        f'<a class="close" href="{esc(message_url(base, None, query))}" data-close>Close</a></div>'
        "<p>It is no longer in the inbox (cleared, or dropped as the oldest).</p></article>"
    )


def message_url(base: str, seq: int | None, query: InboxQuery) -> str:
    params = {k: v for k, v in query.page_params().items() if k in ("q", "kind", "to")}
    path = f"{base}/inbox/{seq}" if seq is not None else f"{base}/inbox"
    return f"{path}?{urlencode(params)}" if params else path


def sender_line(entry: Mapping[str, Any]) -> str:
    kind = entry.get("kind")
    sender = entry.get("from")
    service = entry.get("messagingServiceName") or entry.get("messagingServiceSid")
    if kind == "VERIFICATION":
        return f"{sender or 'Verify'} · {entry.get('channel') or 'sms'}"
    if kind == "GATEWAY":
        return f"from {sender or UNKNOWN} · {entry.get('method', '')} {entry.get('path', '')}".rstrip()
    if service:
        return f"{sender} via {service}" if sender else str(service)
    return f"from {sender or UNKNOWN}"


def preview(entry: Mapping[str, Any]) -> str:
    text = str(entry.get("body") or "")
    if entry.get("kind") == "CALL":
        text = re.sub(r"<[^>]*>", " ", str(entry.get("twiml") or text))
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def announcement(entry: Mapping[str, Any]) -> str:
    return f"New {kind_label(entry.get('kind'))} to {entry.get('to') or UNKNOWN}"


def _service(entry: Mapping[str, Any]) -> str | None:
    name, sid = entry.get("messagingServiceName"), entry.get("messagingServiceSid")
    if name and sid:
        return f"{name} ({sid})"
    return str(name or sid) if (name or sid) else None


def _section(title: str, content: str) -> str:
    return f"<section><h3>{esc(title)}</h3>{content}</section>"


def _timeline(timeline: object) -> str:
    if not isinstance(timeline, list) or not timeline:
        return '<p class="muted">No status recorded.</p>'
    items = "".join(
        f'<li>{_time(step.get("at"))} <span class="status {_status_class(step.get("status"))}">'
        f"{esc(step.get('status') or '')}</span></li>"
        for step in timeline
        if isinstance(step, dict)
    )
    return f'<ol class="timeline">{items}</ol>'


def _time(at: object) -> str:
    text = str(at or "")
    shown = text[11:19] + " UTC" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", text) else text
    return f'<time datetime="{esc(text)}">{esc(shown)}</time>'


def _kind_class(entry: Mapping[str, Any]) -> str:
    kind = entry.get("kind")
    return f"kind-{str(kind).lower()}" if kind in KINDS else "kind-other"


def _status_class(status: object) -> str:
    return "status-" + re.sub(r"[^a-z-]", "", str(status).lower())[:20]

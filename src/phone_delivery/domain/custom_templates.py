"""Rendering a custom provider's request template for one message.

Variables: ``${to}`` (in the template's ``phoneNumberFormat``), ``${from}``, ``${message}``,
``${otp}``, ``${locale}``, ``${voice}``; unknown variables (PingOne's user and dynamic variables)
render empty. Every value is escaped for where it lands: percent-encoded in the URL, form-encoded
or JSON-string-escaped in the body. For VOICE, ``beforeTag``/``afterTag`` wrap each OTP digit, in
``${otp}`` and wherever the OTP appears in ``${message}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from phone_delivery.domain.ports import OutboundMessage
from phone_delivery.domain.sender_kinds.custom_provider import FORM, JSON_TYPE, PLACEHOLDER


@dataclass(frozen=True)
class RenderedRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


def _values(template: dict[str, Any], message: OutboundMessage, from_number: str | None) -> dict[str, str]:
    to = message.to if template.get("phoneNumberFormat", "FULL") == "FULL" else message.to.lstrip("+")
    text, otp = message.message, message.otp or ""
    if message.delivery_method == "VOICE" and otp and (template.get("beforeTag") or template.get("afterTag")):
        tagged = "".join(f"{template.get('beforeTag', '')}{digit}{template.get('afterTag', '')}" for digit in otp)
        text, otp = text.replace(otp, tagged), tagged
    return {
        "to": to,
        "from": from_number or "",
        "message": text,
        "otp": otp,
        "locale": message.locale or "",
        "voice": "",
    }


def _fill(text: str, values: dict[str, str], escape: Any) -> str:
    return PLACEHOLDER.sub(lambda m: escape(values.get(m.group(0)[2:-1], "")), text)


def render(template: dict[str, Any], message: OutboundMessage, from_number: str | None) -> RenderedRequest:
    values = _values(template, message, from_number)
    url = _fill(str(template["url"]), values, lambda v: quote(v, safe=""))
    headers = dict(template.get("headers") or {})
    body = None
    if template["method"] == "POST":
        media = next((v for k, v in headers.items() if k.lower() == "content-type"), "").split(";")[0].strip().lower()
        if media == JSON_TYPE:
            body = _fill(str(template.get("body") or ""), values, lambda v: json.dumps(v)[1:-1])
        elif media == FORM:
            body = _fill(str(template.get("body") or ""), values, quote_plus)
        else:
            body = _fill(str(template.get("body") or ""), values, str)
    return RenderedRequest(str(template["method"]), url, headers, body)

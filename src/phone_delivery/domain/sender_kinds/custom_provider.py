"""``CUSTOM_PROVIDER``: any HTTP SMS/voice gateway described by request templates."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from phone_delivery.domain.errors import Detail
from phone_delivery.domain.http_headers import TOKEN, name_problem, value_problem
from phone_delivery.domain.models import Sender
from phone_delivery.domain.ports import AccountInventory
from phone_delivery.domain.sender_kinds.base import Name, Secret, SenderDraft, raise_if
from phone_delivery.domain.sender_kinds.numbers import NumberItem, country_rules
from phone_delivery.domain.validation import parse

AUTH_METHODS = ("BASIC", "BEARER", "OAUTH2", "CUSTOM_HEADER")
# Which fields each method needs; secrets are never stored in config nor returned.
AUTH_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "BASIC": (("username",), ("password",)),
    "BEARER": ((), ("authToken",)),
    "OAUTH2": (("authUrl", "clientId"), ("clientSecret",)),
    "CUSTOM_HEADER": (("headerName",), ("headerValue",)),
}
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
PLACEHOLDER = re.compile(r"\$\{[A-Za-z0-9_.]+\}")

Text = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class _Authentication(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    method: Literal["BASIC", "BEARER", "OAUTH2", "CUSTOM_HEADER"]
    username: Text | None = None
    password: Secret | None = None
    authToken: Secret | None = None
    authUrl: Url | None = None
    clientId: Text | None = None
    clientSecret: Secret | None = None
    headerName: Text | None = None
    headerValue: Secret | None = None


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    deliveryMethod: Literal["SMS", "VOICE"]
    url: Url
    method: Literal["GET", "POST"]
    body: Annotated[str, StringConstraints(max_length=16384)] | None = None
    headers: dict[str, Annotated[str, StringConstraints(max_length=4096)]] | None = None
    phoneNumberFormat: Literal["FULL", "NUMBER_ONLY"] = "FULL"
    beforeTag: Annotated[str, StringConstraints(max_length=256)] | None = None
    afterTag: Annotated[str, StringConstraints(max_length=256)] | None = None


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    provider: Literal["CUSTOM_PROVIDER"]
    id: str | None = None
    name: Name
    authentication: _Authentication
    requests: list[_Request] = Field(min_length=1, max_length=8)
    numbers: list[NumberItem] | None = None


def _content_type(headers: dict[str, str] | None) -> tuple[list[str], str | None]:
    values = [v for k, v in (headers or {}).items() if k.lower() == "content-type"]
    media = values[0].split(";", 1)[0].strip().lower() if len(values) == 1 else None
    return values, media


def _body_rules(index: int, request: _Request) -> list[Detail]:
    target = f"requests[{index}]"
    details: list[Detail] = []
    values, media = _content_type(request.headers)
    if len(values) != 1 or media not in (FORM, JSON_TYPE):
        details.append(
            Detail(
                "INVALID_VALUE",
                f"A POST request needs exactly one Content-Type header: {FORM} or {JSON_TYPE}.",
                f"{target}.headers",
                {"allowedValues": [FORM, JSON_TYPE]},
            )
        )
    body = request.body
    if not body:
        details.append(
            Detail("REQUIRED_VALUE", "A POST request needs a body containing ${to} and ${message}.", f"{target}.body")
        )
        return details
    for variable in ("${to}", "${message}"):
        if variable not in body:
            details.append(Detail("INVALID_VALUE", f"The body must contain {variable}.", f"{target}.body"))
    sample = PLACEHOLDER.sub("x", body)
    if media == JSON_TYPE:
        try:
            json.loads(sample)
        except ValueError:
            details.append(
                Detail(
                    "INVALID_VALUE",
                    "The body is not JSON (put each ${variable} inside a JSON string).",
                    f"{target}.body",
                )
            )
    elif media == FORM:
        try:
            parse_qsl(sample, strict_parsing=True)
        except ValueError:
            details.append(
                Detail("INVALID_VALUE", "The body is not form-encoded (name=value&name=value).", f"{target}.body")
            )
    return details


def auth_header(auth: _Authentication) -> str:
    """The header the authentication method writes (lower case)."""
    return str(auth.headerName).lower() if auth.method == "CUSTOM_HEADER" else "authorization"


def header_rules(target: str, headers: dict[str, str] | None, auth_header_name: str) -> list[Detail]:
    """Every template header must be one a tenant may set, with a value that can be sent as it is."""
    details: list[Detail] = []
    for name, value in (headers or {}).items():
        where = f"{target}.headers.{name}" if TOKEN.fullmatch(name) else f"{target}.headers"
        problem = name_problem(name) or value_problem(value)
        if problem is None and name.lower() == auth_header_name:
            problem = f"{name} is written by the authentication settings; remove it from the template."
        if problem is not None:
            details.append(Detail("INVALID_VALUE", problem, where))
    return details


def request_rules(requests: list[_Request], auth_header_name: str = "authorization") -> list[Detail]:
    details: list[Detail] = []
    seen: set[tuple[str, str]] = set()
    for index, request in enumerate(requests):
        target = f"requests[{index}]"
        key = (request.deliveryMethod, request.method)
        if key in seen:
            details.append(
                Detail(
                    "INVALID_VALUE",
                    f"Only one {request.deliveryMethod} {request.method} request template is allowed.",
                    target,
                )
            )
        seen.add(key)
        parts = urlsplit(request.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            details.append(Detail("INVALID_VALUE", "url must be an absolute https URL.", f"{target}.url"))
        if request.method == "GET":
            for variable in ("${to}", "${message}"):
                if variable not in request.url:
                    details.append(
                        Detail("INVALID_VALUE", f"A GET request's url must contain {variable}.", f"{target}.url")
                    )
        else:
            details.extend(_body_rules(index, request))
        if request.deliveryMethod == "SMS":
            for tag in ("beforeTag", "afterTag"):
                if getattr(request, tag) is not None:
                    details.append(Detail("INVALID_VALUE", f"{tag} applies to VOICE requests only.", f"{target}.{tag}"))
        details.extend(header_rules(target, request.headers, auth_header_name))
    return details


def auth_rules(auth: _Authentication) -> list[Detail]:
    """Required fields per method, and every value that travels in a header checked to be sendable
    (messages never quote a value: several are secrets)."""
    plain, secret = AUTH_FIELDS[auth.method]
    details = [
        Detail(
            "REQUIRED_VALUE", f"authentication.{name} is required for method {auth.method}.", f"authentication.{name}"
        )
        for name in (*plain, *secret)
        if getattr(auth, name) is None
    ]
    if auth.method == "OAUTH2" and auth.authUrl:
        parts = urlsplit(auth.authUrl)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            details.append(Detail("INVALID_VALUE", "authUrl must be an absolute https URL.", "authentication.authUrl"))
    for name in ("username", "clientId"):
        value = getattr(auth, name)
        if name in plain and value is not None and (":" in value or not value.isprintable()):
            details.append(
                Detail(
                    "INVALID_VALUE",
                    f"authentication.{name} goes into HTTP Basic authentication: no ':' and no control characters.",
                    f"authentication.{name}",
                )
            )
    if auth.method == "CUSTOM_HEADER" and auth.headerName:
        problem = name_problem(auth.headerName)
        if problem is not None:
            details.append(Detail("INVALID_VALUE", problem, "authentication.headerName"))
    for name in ("authToken", "headerValue"):
        value = getattr(auth, name)
        if name in secret and value is not None:
            problem = value_problem(value)
            if problem is not None:
                details.append(Detail("INVALID_VALUE", f"authentication.{name}: {problem}", f"authentication.{name}"))
    return details


def numbers_rules(numbers: list[NumberItem]) -> list[Detail]:
    details = country_rules(numbers, custom=True)
    for index, number in enumerate(numbers):
        if not number.capabilities:
            details.append(
                Detail("REQUIRED_VALUE", "capabilities needs SMS, VOICE or both.", f"numbers[{index}].capabilities")
            )
    return details


class CustomProviderKind:
    provider = "CUSTOM_PROVIDER"

    def parse_create(self, body: dict[str, Any]) -> SenderDraft:
        model = parse(_Body, body)
        numbers = model.numbers or []
        auth_details = auth_rules(model.authentication)
        header = auth_header(model.authentication) if not auth_details else "authorization"
        raise_if(auth_details + request_rules(model.requests, header) + numbers_rules(numbers))
        auth = model.authentication
        plain, secret = AUTH_FIELDS[auth.method]
        config = {
            "authentication": {"method": auth.method, **{name: getattr(auth, name) for name in plain}},
            "requests": [r.model_dump(exclude_none=True) for r in model.requests],
            "numbers": [
                {
                    "number": n.number,
                    "type": n.type,
                    "selected": n.selected,
                    "available": n.available,
                    "capabilities": list(n.capabilities or []),
                    **({"supportedCountries": n.supportedCountries} if n.supportedCountries is not None else {}),
                }
                for n in numbers
            ],
        }
        secrets = {name: str(getattr(auth, name)) for name in secret}
        return SenderDraft(self.provider, model.name, config, secrets, body_id=model.id)

    parse_replace = parse_create

    def check_replace(self, existing: Sender, draft: SenderDraft) -> None:
        """Everything but ``provider`` may change; secrets are re-sent on every PUT."""

    def build_config(self, draft: SenderDraft, inventory: AccountInventory, existing: Sender | None) -> dict[str, Any]:
        return dict(draft.config)

    def urls(self, draft: SenderDraft) -> list[tuple[str, str]]:
        pairs = [(f"requests[{i}].url", str(r["url"])) for i, r in enumerate(draft.config["requests"])]
        auth_url = draft.config["authentication"].get("authUrl")
        if auth_url:
            pairs.append(("authentication.authUrl", str(auth_url)))
        return pairs

    def delivery_methods(self, config: dict[str, Any]) -> frozenset[str]:
        """The methods it has a request template for (its numbers are only the from-number)."""
        return frozenset(str(r.get("deliveryMethod")) for r in config.get("requests") or [])

"""``numbers[]``: PingOne's phone number items and the ``supportedCountries`` rules.

For Twilio and Syniverse the account's numbers are the truth: type and capabilities come from the
provider, ``available`` says whether the account still has the number, and the body only chooses
``selected`` and ``supportedCountries``. A number in a PUT that the account does not have is kept
with ``available: false`` (never used for sending), so a number that disappears from the account
does not silently vanish from the configuration.
"""

from __future__ import annotations

from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field

from phone_delivery.domain.errors import Detail
from phone_delivery.domain.ports import NumberInfo

NumberType = Literal["PHONE_NUMBER", "TOLL_FREE", "SHORT_CODE"]
Capability = Literal["SMS", "VOICE"]
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)


class NumberItem(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    number: str = Field(min_length=1, max_length=64)
    type: NumberType
    selected: bool = False
    available: bool = False
    capabilities: list[Capability] | None = None
    supportedCountries: list[str] | None = None


def country_rules(items: list[NumberItem], *, custom: bool, prefix: str = "numbers") -> list[Detail]:
    """PingOne's rules: none on PHONE_NUMBER; one on SHORT_CODE; one or more on TOLL_FREE; null is
    US-only for Twilio/Syniverse but required for custom providers; [] is never valid."""
    details: list[Detail] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        target = f"{prefix}[{index}].supportedCountries"
        countries = item.supportedCountries
        if item.number in seen:
            details.append(
                Detail(
                    "INVALID_VALUE", f"{item.number} appears more than once in {prefix}.", f"{prefix}[{index}].number"
                )
            )
        seen[item.number] = index
        if item.type == "PHONE_NUMBER":
            if countries is not None:
                details.append(Detail("INVALID_VALUE", "supportedCountries cannot be set on a PHONE_NUMBER.", target))
            continue
        if countries is None:
            if custom:
                details.append(
                    Detail(
                        "REQUIRED_VALUE",
                        f"supportedCountries is required on a {item.type} of a custom provider.",
                        target,
                    )
                )
            continue
        if not countries:
            details.append(
                Detail("EMPTY_VALUE", "supportedCountries must not be empty; leave it null to mean US only.", target)
            )
            continue
        if item.type == "SHORT_CODE" and len(countries) != 1:
            details.append(Detail("INVALID_VALUE", "A SHORT_CODE has exactly one supported country.", target))
        for position, code in enumerate(countries):
            if code not in COUNTRIES:
                details.append(
                    Detail(
                        "INVALID_VALUE",
                        "Use ISO 3166-1 alpha-2 country codes such as US, GB, CA.",
                        f"{target}[{position}]",
                        {"allowedPattern": "^[A-Z]{2}$"},
                    )
                )
        if len(set(countries)) != len(countries):
            details.append(Detail("INVALID_VALUE", "supportedCountries lists a country twice.", target))
    return details


def number_json(item: NumberItem | None, info: NumberInfo | None) -> dict[str, Any]:
    """One stored number: the account's facts (``info``) with the caller's choices (``item``)."""
    if info is not None:
        body: dict[str, Any] = {
            "number": info.number,
            "type": info.type,
            "selected": item.selected if item else False,
            "available": True,
            "capabilities": list(info.capabilities),
        }
    else:
        assert item is not None
        body = {
            "number": item.number,
            "type": item.type,
            "selected": item.selected,
            "available": False,
            "capabilities": list(item.capabilities or []),
        }
    if item is not None and item.supportedCountries is not None:
        body["supportedCountries"] = list(item.supportedCountries)
    return body


def merge_account_numbers(
    account: list[NumberInfo], requested: list[NumberItem] | None, *, prefix: str = "numbers"
) -> tuple[list[dict[str, Any]], list[Detail]]:
    """The account's numbers with the caller's selections, then requested numbers the account lacks."""
    by_number = {item.number: (index, item) for index, item in enumerate(requested or [])}
    out: list[dict[str, Any]] = []
    details: list[Detail] = []
    for info in account:
        index, item = by_number.pop(info.number, (None, None))
        if item is not None and item.type != info.type:
            details.append(
                Detail(
                    "INVALID_VALUE",
                    f"The account reports {info.number} as {info.type}, not {item.type}.",
                    f"{prefix}[{index}].type",
                    {"allowedValues": [info.type]},
                )
            )
        out.append(number_json(item, info))
    out.extend(number_json(item, None) for _, item in sorted(by_number.values(), key=lambda pair: pair[0]))
    return out, details

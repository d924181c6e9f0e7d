"""Which of a sender's numbers sends a given message (PingOne's number rules)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def admits(number: dict[str, Any], country: str | None) -> bool:
    """PHONE_NUMBER admits any destination; SHORT_CODE and TOLL_FREE their supportedCountries (null: US)."""
    if number.get("type") == "PHONE_NUMBER":
        return True
    countries = number.get("supportedCountries")
    return (country or "") in (countries if countries is not None else ["US"])


def pick_number(numbers: Iterable[dict[str, Any]], delivery_method: str, country: str | None) -> str | None:
    """The first selected, available number with the capability whose countries admit the destination."""
    for number in numbers:
        if (
            number.get("selected")
            and number.get("available", True)
            and delivery_method in (number.get("capabilities") or [])
            and admits(number, country)
        ):
            return str(number["number"])
    return None


def pick_number_custom(numbers: Iterable[dict[str, Any]], delivery_method: str, country: str | None) -> str | None:
    """Custom providers: ``available`` is informational (we cannot check a gateway's numbers)."""
    return pick_number(({**n, "available": True} for n in numbers), delivery_method, country)

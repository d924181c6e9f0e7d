"""Turn pydantic validation errors into PingOne ``details[]`` (never echoing submitted values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from phone_delivery.domain.errors import Detail, InvalidData

ModelT = TypeVar("ModelT", bound=BaseModel)

_TYPE_WORDS = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "int_type": "an integer",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def target_of(loc: tuple[int | str, ...]) -> str:
    """('numbers', 0, 'type') -> 'numbers[0].type' (PingOne's field path style)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def detail_of(error: Mapping[str, Any]) -> Detail:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    target = target_of(loc) or None
    kind = error["type"]
    ctx = error.get("ctx") or {}
    name = target or "The value"
    if kind == "missing":
        return Detail("REQUIRED_VALUE", f"{name} is required.", target)
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        allowed = [v.strip().strip("'\"") for v in str(expected).replace(" or ", ",").split(",") if v.strip()]
        return Detail(
            "INVALID_VALUE",
            f"{name} must be one of: {', '.join(allowed)}.",
            target,
            {"allowedValues": allowed},
        )
    if kind == "string_too_short":
        return Detail("EMPTY_VALUE", f"{name} must not be empty.", target)
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        return Detail(
            "SIZE_LIMIT_EXCEEDED",
            f"{name} is longer than the maximum of {limit}.",
            target,
            {"maximumValue": limit} if isinstance(limit, int) else None,
        )
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return Detail(
            "INVALID_VALUE", f"{name} does not have the required format.", target, {"allowedPattern": pattern}
        )
    if kind in _TYPE_WORDS:
        return Detail("INVALID_VALUE", f"{name} must be {_TYPE_WORDS[kind]}.", target)
    if kind == "value_error":
        return Detail("INVALID_VALUE", str(ctx.get("error", "The value is invalid.")), target)
    return Detail("INVALID_VALUE", f"{name} is invalid.", target)


def parse(model: type[ModelT], data: Any) -> ModelT:
    """Validate ``data`` against ``model`` or raise ``InvalidData`` with one detail per problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidData(details=[detail_of(e) for e in exc.errors(include_input=False)]) from None

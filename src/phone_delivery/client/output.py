"""Rendering: rich tables for people, JSON for scripts, errors on stderr.

``--output json`` prints the API's own objects (PingOne's field names, unchanged) on stdout, one
document per command (``tail`` prints one object per line), and an error as one JSON line
``{"error": {...}}`` on stderr. Tables, notes and errors for people never contain a secret.

What people see is also made harmless for the terminal: names, error messages and other text from
the server (which a tenant or a gateway controls) have their control characters (C0 but newline
and tab, DEL, C1) shown as ``\\x1b``-style escapes, so that they cannot move the cursor, clear the
screen or retitle the window. JSON output stays exact.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from phone_delivery.client.errors import ClientError

# C0 controls but \t and \n, DEL, and C1 controls: what a terminal acts on instead of showing.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with each control character written as a visible escape (ESC becomes ``\\x1b``)."""
    return CONTROL.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)


def safe(text: str) -> str:
    """Text for rich: control characters made visible, markup escaped."""
    return escape(visible(text))


class Format(StrEnum):
    table = "table"
    json = "json"


class Output:
    def __init__(self, fmt: Format = Format.table) -> None:
        self.format = fmt
        self.out = Console(highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    @property
    def json(self) -> bool:
        return self.format is Format.json

    def data(self, value: Any) -> None:
        """A JSON document on stdout (in JSON mode)."""
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def result(self, value: Any, render: Callable[[], object]) -> None:
        """A command's answer: ``value`` as JSON in JSON mode, else what ``render`` prints."""
        if self.json:
            self.data(value)
        else:
            render()

    def line(self, value: Any) -> None:
        """One compact JSON object per line (streams)."""
        sys.stdout.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
        table = Table(title=title, title_justify="left", header_style="bold", expand=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(safe(_cell(v)) for v in row))
        self.out.print(table)

    def fields(self, pairs: Iterable[tuple[str, Any]]) -> None:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in pairs:
            table.add_row(safe(key), safe(_cell(value)))
        self.out.print(table)

    def text(self, message: str) -> None:
        self.out.print(safe(message))

    def note(self, message: str) -> None:
        """A remark for people, on stderr (never in the way of JSON on stdout)."""
        self.err.print(safe(message))

    def status(self, message: str) -> Any:
        """A live status line on stderr (``with output.status(...) as line: line.update(safe(...))``)."""
        return self.err.status(safe(message))

    def error(self, exc: ClientError) -> None:
        if self.json:
            sys.stderr.write(json.dumps({"error": exc.as_json()}, ensure_ascii=False) + "\n")
            return
        status = f" (HTTP {exc.status})" if exc.status else ""
        head = f"error: {exc.message}" if exc.code == "USAGE" else f"error: {exc.code}{status}: {exc.message}"
        self.err.print(safe(head), style="red")
        for detail in exc.details:
            where = f"{detail.target}: " if detail.target else ""
            code = f" [{detail.code}]" if detail.code else ""
            self.err.print(safe(f"  - {where}{detail.message}{code}"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)

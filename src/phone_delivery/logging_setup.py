"""Structured logs: structlog rendering through the standard library, one JSON object per line (or
readable lines on a terminal).

Nothing logs request bodies, so secrets and message texts never reach a log line.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """``fmt`` ``json``, ``console``, or ``auto``: console when the stream is a terminal."""
    out = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if out.isatty() else "json"
    # A terminal shows the time of day; machine-read lines keep the full UTC timestamp.
    stamp = (
        structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
        if fmt == "console"
        else structlog.processors.TimeStamper(fmt="iso", utc=True)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        stamp,
    ]
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=out.isatty()) if fmt == "console" else structlog.processors.JSONRenderer()
    )
    # Our own events are rendered by structlog and written directly (cheap on hot paths);
    # the standard library's records (uvicorn, alembic) go through the same renderer below.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=structlog.WriteLoggerFactory(file=out),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.set_name("phone-delivery")
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == "phone-delivery"]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)

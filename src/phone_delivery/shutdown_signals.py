"""The worker stops claiming the moment SIGTERM or SIGINT arrives, not when the server is done.

uvicorn takes both signals while it serves (``signal.signal``, restored when it stops) and runs the
lifespan's shutdown only after its open connections have closed; a worker told to stop only then
would go on claiming, and starting sends, for as long as a client keeps a connection open. So the
lifespan puts a handler in front of uvicorn's that tells the worker first, then calls uvicorn's.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_on_exit_signals(stop: Callable[[], None]) -> Callable[[], None]:
    """Call ``stop`` (on the running loop) when an exit signal arrives, then the handler that was
    there (uvicorn's). Returns what puts the earlier handlers back (the lifespan calls it when it
    ends). Off the main thread (a server in a test thread) signals are not ours to take."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Callable[[int, FrameType | None], object], object]] = {}
    for signum in EXIT_SIGNALS:
        previous = signal.getsignal(signum)
        if not callable(previous):  # the default action or ignored: not a server's handler, left alone
            continue

        def handler(
            received: int, frame: FrameType | None, previous: Callable[[int, FrameType | None], object] = previous
        ) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(stop)
            previous(received, frame)

        signal.signal(signum, handler)
        installed[signum] = (handler, previous)

    def restore() -> None:
        for signum, (handler, previous) in installed.items():
            if signal.getsignal(signum) is handler:  # uvicorn may have put its own back already
                signal.signal(signum, previous)  # type: ignore[arg-type]

    return restore

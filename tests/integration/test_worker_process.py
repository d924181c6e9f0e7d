"""`phone-delivery serve` with its delivery worker in a process of its own (PHONE_DELIVERY_WORKER_PROCESS
=separate), on SQLite and PostgreSQL: an accepted send wakes the worker at once (its idle poll is 5 s
here), serve's /metrics carries the worker's counters once, a worker that dies is started again and
sends, and a worker whose serve was killed stops by itself."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_delivery import inbox
from tests.integration.test_graceful_shutdown import GONE_OUT, serve, setup, snapshot, worker_child
from tests.integration.test_workers_postgres import deliveries

__all__ = ["setup"]  # the fixture (a stack on each database)

IDLE_POLL_SECONDS = "5"


def numbers(count: int) -> list[str]:
    exchange = random.randrange(200, 1000)  # the sandbox's inbox is the session's: numbers of our own
    return [f"+1631{exchange}{i:04d}" for i in range(count)]


def accept_at(base: str, setup: dict[str, Any], to: list[str]) -> list[str]:
    """A notification to each of ``to``, accepted by the serve at ``base``; their ids."""
    headers = {"Authorization": f"Bearer {setup['api'].token}"}
    ids = []
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for number in to:
            response = client.post(
                f"/v1/environments/{setup['env']}/notifications",
                json={"deliveryMethod": "SMS", "to": number, "message": "m"},
            )
            assert response.status_code == 202, response.text
            ids.append(str(response.json()["id"]))
    return ids


def gone_out(setup: dict[str, Any], ids: list[str], seconds: float) -> float:
    """Waits until every one of ``ids`` has gone out; how long that took."""
    started = time.monotonic()
    while not {snapshot(setup["db"].url)[0].get(i) for i in ids} <= set(GONE_OUT):
        assert time.monotonic() - started < seconds, f"not sent within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def wait_for(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return found


def samples(base: str) -> tuple[dict[tuple[str, tuple[tuple[str, str], ...]], float], Counter[str]]:
    """serve's /metrics: each sample by name and labels, and how often each family is declared."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    declared = Counter(line.split()[2] for line in text.splitlines() if line.startswith("# TYPE "))
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return found, declared


def sent_attempts(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    return sum(
        value
        for (name, labels), value in found.items()
        if name == "phone_delivery_attempts_total" and ("outcome", "SENT") in labels
    )


def test_an_accept_wakes_the_worker_process_and_its_metrics_are_served(setup: dict[str, Any], tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    process, base = serve(setup, log, worker_process="separate", worker_poll_seconds=IDLE_POLL_SECONDS)
    try:
        child = wait_for(lambda: worker_child(process), 10, "serve started no worker process")
        time.sleep(1)  # the worker has made its first claim (of nothing) and waits out its poll
        first = accept_at(base, setup, numbers(1))
        # sent long before the worker's next poll: the accept woke it over the link
        assert gone_out(setup, first, seconds=4) < 2.5
        ids = accept_at(base, setup, numbers(20))
        gone_out(setup, ids, seconds=4)

        found, declared = samples(base)
        assert [name for name, times in declared.items() if times > 1] == []  # each family once
        assert found[("phone_delivery_worker_process_up", ())] == 1
        assert sent_attempts(found) == 21  # the worker process's own counter, through serve
        assert any(name.startswith("phone_delivery_http_") for name, _ in found)  # serve's own, too
        assert worker_child(process) == child
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode in (0, -signal.SIGTERM)
    assert not Path(f"/proc/{child}").exists()
    assert "Traceback" not in log.read_text()


def test_a_worker_process_that_dies_is_started_again(setup: dict[str, Any], tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    process, base = serve(setup, log, worker_process="separate")
    try:
        child = wait_for(lambda: worker_child(process), 10, "serve started no worker process")
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: "worker_process_exited" in log.read_text(), 10, "the worker's exit was not logged")
        replacement = wait_for(
            lambda: (worker_child(process) or child) != child and worker_child(process), 10, "no new worker"
        )
        wait_for(lambda: samples(base)[0].get(("phone_delivery_worker_process_up", ())) == 1, 10, "not up again")
        to = numbers(5)
        ids = accept_at(base, setup, to)
        gone_out(setup, ids, seconds=15)
        assert sent_attempts(samples(base)[0]) == 5  # counted by the new worker
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not Path(f"/proc/{replacement}").exists()
    received = deliveries(setup["sandbox"])
    assert [received[n] for n in to] == [1] * 5
    exited = [line for line in log.read_text().splitlines() if "worker_process_exited" in line]
    assert len(exited) == 1 and str(child) in exited[0] and "-9" in exited[0]


def test_a_worker_process_stops_by_itself_when_serve_is_killed(setup: dict[str, Any], tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    process, _ = serve(setup, log, worker_process="separate")
    child = wait_for(lambda: worker_child(process), 10, "serve started no worker process")
    process.kill()  # no SIGTERM for the worker: serve is gone at once, and its end of the link with it
    process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while Path(f"/proc/{child}").exists() and "zombie" not in _state(child):
        assert time.monotonic() < deadline, "the worker outlived serve"
        time.sleep(0.05)
    text = log.read_text()
    assert "worker_link_closed" in text and "worker_stopped" in text


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (FileNotFoundError, IndexError):
        return "gone"


def test_a_worker_process_that_does_not_answer_does_not_hold_metrics(setup: dict[str, Any], tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    process, base = serve(setup, log, worker_process="separate")
    try:
        child = wait_for(lambda: worker_child(process), 10, "serve started no worker process")
        gone_out(setup, accept_at(base, setup, numbers(3)), seconds=10)
        os.kill(child, signal.SIGSTOP)
        try:
            for _ in range(2):  # the second question is asked with the first answer still owed
                started = time.monotonic()
                found, _ = samples(base)
                assert time.monotonic() - started < 4
                assert any(name.startswith("phone_delivery_http_") for name, _ in found)
                assert sent_attempts(found) == 0  # the worker's families are missing, not stale
        finally:
            os.kill(child, signal.SIGCONT)
        # the late answers are read and dropped; the next is this question's, from the same worker
        found, declared = samples(base)
        assert sent_attempts(found) == 3
        assert [name for name, times in declared.items() if times > 1] == []
        assert worker_child(process) == child
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert "worker_process_metrics_late" in log.read_text()


def test_a_sender_changed_through_serve_is_read_again_by_its_worker_process(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    """The worker process keeps a resolved sender for 2 s; a PUT through serve's API makes it read the
    sender again at once, as the worker on serve's event loop does (the link's ``f`` line)."""
    log = tmp_path / "serve.log"
    process, base = serve(setup, log, worker_process="separate")
    api = setup["api"]
    headers = {"Authorization": f"Bearer {api.token}"}
    try:
        wait_for(lambda: worker_child(process), 10, "serve started no worker process")
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            (sender,) = client.get(api.senders_path(setup["env"])).json()["_embedded"]["phoneDeliverySettings"]
            services = [s["messagingServiceId"] for s in sender["messagingServices"]]
            for turn, to in enumerate(numbers(4)):
                chosen = services[turn % 2]
                body = {
                    **sender,
                    "authToken": setup["account"]["authToken"],
                    "messagingServices": [
                        {**s, "selected": s["messagingServiceId"] == chosen} for s in sender["messagingServices"]
                    ],
                }
                assert client.put(api.senders_path(setup["env"], sender["id"]), json=body).status_code == 200
                (sent,) = accept_at(base, setup, [to])  # at once: the sender resolved for the last one is kept
                gone_out(setup, [sent], seconds=10)
                (message,) = inbox(setup["sandbox"], to)
                assert message["messagingServiceSid"] == chosen, turn
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_a_bad_worker_process_setting_is_one_clear_line(tmp_path: Path) -> None:
    for value in ("both", "separate\r\n", "séparé", "x" * 100_000):
        result = subprocess.run(
            [sys.executable, "-m", "phone_delivery", "serve", "--port", "0", "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PHONE_DELIVERY_WORKER_PROCESS": value},
        )
        assert result.returncode == 2, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "PHONE_DELIVERY_WORKER_PROCESS:" in errors[0], result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "phone-delivery.db").exists()  # refused before anything is written

"""SingleFlight: concurrent callers of one key share one lookup, its result or its exception."""

from __future__ import annotations

import asyncio

import pytest

from phone_delivery.single_flight import SingleFlight


class Lookup:
    def __init__(self, result: object = "value", error: Exception | None = None) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.result, self.error = result, error

    async def __call__(self) -> object:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.result


def test_callers_of_one_key_share_one_lookup_and_other_keys_do_not() -> None:
    async def run() -> None:
        flights: SingleFlight[str, object] = SingleFlight()
        a, b = Lookup("a"), Lookup("b")
        waiting = [asyncio.create_task(flights.run("a", a)) for _ in range(10)]
        other = asyncio.create_task(flights.run("b", b))
        await asyncio.sleep(0)
        a.release.set()
        b.release.set()
        assert await asyncio.gather(*waiting) == ["a"] * 10
        assert await other == "b"
        assert (a.calls, b.calls, flights.lookups) == (1, 1, 2)
        # the flight landed: the next caller looks up again
        again = Lookup("again")
        again.release.set()
        assert await flights.run("a", again) == "again"
        assert again.calls == 1

    asyncio.run(run())


def test_every_caller_gets_the_lookups_exception() -> None:
    async def run() -> None:
        flights: SingleFlight[str, object] = SingleFlight()
        failing = Lookup(error=ValueError("the database is away"))
        waiting = [asyncio.create_task(flights.run("k", failing)) for _ in range(3)]
        await asyncio.sleep(0)
        failing.release.set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert [type(r) for r in results] == [ValueError] * 3
        assert failing.calls == 1

    asyncio.run(run())


def test_a_cancelled_caller_leaves_the_lookup_to_the_others() -> None:
    async def run() -> None:
        flights: SingleFlight[str, object] = SingleFlight()
        lookup = Lookup("kept going")
        first = asyncio.create_task(flights.run("k", lookup))
        second = asyncio.create_task(flights.run("k", lookup))
        await asyncio.sleep(0)
        first.cancel()  # the client that started the lookup went away
        with pytest.raises(asyncio.CancelledError):
            await first
        lookup.release.set()
        assert await second == "kept going"
        assert lookup.calls == 1

    asyncio.run(run())


def test_after_forget_later_callers_start_their_own_lookup() -> None:
    async def run() -> None:
        flights: SingleFlight[str, object] = SingleFlight()
        before, after = Lookup("read before the change"), Lookup("read after it")
        early = asyncio.create_task(flights.run("k", before))
        await asyncio.sleep(0)
        flights.forget("k")
        late = asyncio.create_task(flights.run("k", after))
        await asyncio.sleep(0)
        before.release.set()
        after.release.set()
        assert await early == "read before the change"
        assert await late == "read after it"
        # forgetting every key works the same way
        stale, fresh = Lookup("stale"), Lookup("fresh")
        pending = asyncio.create_task(flights.run("x", stale))
        await asyncio.sleep(0)
        flights.forget()
        newer = asyncio.create_task(flights.run("x", fresh))
        await asyncio.sleep(0)
        stale.release.set()
        fresh.release.set()
        assert (await pending, await newer) == ("stale", "fresh")

    asyncio.run(run())


def test_a_lookup_left_on_a_closed_loop_is_not_shared_with_a_new_one() -> None:
    flights: SingleFlight[str, object] = SingleFlight()
    hanging = Lookup("never")

    async def start() -> asyncio.Task[object]:
        task = asyncio.ensure_future(flights.run("k", hanging))
        await asyncio.sleep(0)
        return task

    loop = asyncio.new_event_loop()
    left = loop.run_until_complete(start())
    loop.close()
    assert not left.done()  # the lookup never landed

    async def later() -> object:
        fresh = Lookup("new loop")
        fresh.release.set()
        return await flights.run("k", fresh)

    assert asyncio.run(later()) == "new loop"
    assert flights._flights == {}  # the closed loop's lookup is not held any more

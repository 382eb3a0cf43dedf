"""Coalesced reads (http/coalesced.py): a crowd shares one read, and no caller gets a value
read before it asked."""

import asyncio
import threading

from optout_tracker.http.coalesced import Coalesced


class Source:
    """A blocking read that returns how many reads began before it, and that the test can
    hold in the middle."""

    def __init__(self) -> None:
        self.reads = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail = False

    def __call__(self) -> int:
        self.reads += 1
        number = self.reads
        self.started.set()
        self.release.wait(5)
        if self.fail:
            raise RuntimeError("the database is gone")
        return number


async def started(source: Source) -> None:
    await asyncio.to_thread(source.started.wait, 5)
    source.started.clear()


def test_a_crowd_that_asks_at_once_shares_one_read() -> None:
    source = Source()
    read = Coalesced(source)

    async def crowd() -> list[int]:
        return await asyncio.gather(*(read() for _ in range(50)))

    assert asyncio.run(crowd()) == [1] * 50
    assert source.reads == 1


def test_who_asks_while_a_read_runs_gets_the_next_read() -> None:
    source = Source()
    source.release.clear()
    read = Coalesced(source)

    async def scenario() -> tuple[list[int], list[int]]:
        first = [asyncio.ensure_future(read()) for _ in range(3)]
        await started(source)  # the first read runs: it began before the next callers asked
        later = [asyncio.ensure_future(read()) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert source.reads == 1  # the next read waits for the running one to end
        source.release.set()
        return list(await asyncio.gather(*first)), list(await asyncio.gather(*later))

    first, later = asyncio.run(scenario())
    assert first == [1, 1, 1]
    assert later == [2, 2, 2]
    assert source.reads == 2


def test_a_failed_read_fails_each_caller_and_the_next_read_is_tried_again() -> None:
    source = Source()
    source.fail = True
    read = Coalesced(source)

    async def scenario() -> list[BaseException | int]:
        return list(await asyncio.gather(read(), read(), return_exceptions=True))

    failures = asyncio.run(scenario())
    assert [str(f) for f in failures] == ["the database is gone"] * 2
    source.fail = False
    assert asyncio.run(scenario()) == [2, 2]


def test_callers_one_after_another_read_each_time() -> None:
    source = Source()
    read = Coalesced(source)

    async def one_by_one() -> list[int]:
        return [await read() for _ in range(3)]

    assert asyncio.run(one_by_one()) == [1, 2, 3]

"""One blocking read shared by the coroutines that ask for it at the same time."""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio.to_thread

T = TypeVar("T")


class Coalesced(Generic[T]):
    """A blocking read (the data version, say) run in a worker thread once for everyone who
    asks while it waits to start.

    Each caller gets the value of a read that started after it asked, so the value is as
    fresh as the caller's own read would have been: a caller who comes while a read runs
    waits for the next one, which starts when that one ends and serves everyone who came
    meanwhile. Alone, a caller costs one read, as before; under a crowd, a read and a thread
    hop serve as many requests as arrive while one read runs, and the database pool sees one
    connection instead of one per request.
    """

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._running: asyncio.Future[T] | None = None
        self._next: asyncio.Future[T] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # the loop holds its tasks weakly

    async def __call__(self) -> T:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._run(self._next))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(self._next)

    async def _run(self, mine: "asyncio.Future[T]") -> None:
        while self._running is not None:  # began before some of our callers asked
            await asyncio.wait([self._running])
        self._next, self._running = None, mine  # who asks from now on waits for the next
        try:
            mine.set_result(await anyio.to_thread.run_sync(self._read))
        except Exception as error:  # each caller gets it, as from its own read
            mine.set_exception(error)
        finally:
            self._running = None
            if not mine.done():  # cancelled (the server stops): so are its callers
                mine.cancel()

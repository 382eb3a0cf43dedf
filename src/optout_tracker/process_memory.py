"""How much memory the server process keeps from the C allocator (glibc's malloc).

A Python object over 512 bytes (a rendered page, a row's dict) comes from malloc, and glibc
gives each thread that allocates an arena of its own, up to eight per core. The server runs
requests on up to 40 worker threads: each arena keeps the pages its thread once used, and
the process's RSS grew to three times what it holds (measured with bench/api.py's load
test). Two arenas, and giving free pages back after a large render, keep it near what it
holds, for a cost the benchmark does not see.
"""

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)
ARENAS = 2
M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_glibc = hasattr(_libc, "mallopt") and hasattr(_libc, "malloc_trim")


def limit_arenas() -> None:
    """Two malloc arenas for this process (arenas made from now on) and, through the
    environment, for the worker processes it starts; nothing where libc is not glibc."""
    os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))
    if _glibc and not _libc.mallopt(M_ARENA_MAX, ARENAS):
        log.warning("mallopt(M_ARENA_MAX) failed: memory may grow with the worker threads")


def give_back() -> None:
    """Return malloc's free pages to the system (after a large render has freed its own)."""
    if _glibc:
        _libc.malloc_trim(0)

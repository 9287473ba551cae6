"""How many threads zoo's compute uses: ``--threads``, else ``ZOO_THREADS``, else the cores not busy.

torch takes every core by default. On a busy machine its threads then wait on each other: on
2 cores at load 8 an RRDBNet ran at 2.9 GFLOP/s with 2 threads and 96.9 with 1, while on a
quiet machine 2 threads win (140 vs 90 GFLOP/s). So zoo gives its work one thread per core
not already busy (from the 1-minute load average), decided once when a run starts and printed
in the JSON ``run`` block; ``--threads N`` or ``ZOO_THREADS=N`` fix it. Everything that runs
threads (torch, the PNG writers, scikit-learn's learners) asks ``default_threads`` the same
question, so one policy holds.
"""

from __future__ import annotations

import os

from .errors import InputError

__all__ = ["default_threads", "parse_threads", "use_threads", "run_threads", "take_threads_option"]

_decided: int | None = None


def parse_threads(value: object, source: str = "--threads") -> int:
    """A thread count from an option or the environment; an ``InputError`` naming ``source`` if invalid."""
    try:
        threads = int(str(value).strip())
    except ValueError:
        shown = f"{source}{value}" if source.endswith("=") else f"{source} {value!r}"
        raise InputError(f"{shown}: give a whole number of threads, e.g. 1") from None
    if threads < 1:
        raise InputError(f"{source} {threads}: give at least 1 thread")
    return threads


def default_threads() -> int:
    """``ZOO_THREADS`` if set, else one thread per core not busy (cores minus the 1-minute
    load, rounded), at least 1 and at most the cores."""
    given = os.environ.get("ZOO_THREADS", "").strip()
    if given:
        return parse_threads(given, "ZOO_THREADS=")
    cores = _cores()
    try:
        busy = os.getloadavg()[0]
    except (OSError, AttributeError):  # not on this platform
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def use_threads(threads: int | None = None, *, torch_now: bool = False) -> int:
    """Decide this process's thread count once (``threads``, else ``default_threads()``) and
    give it to torch (``torch.set_num_threads``) if torch is loaded, or ``torch_now``; returns it.

    Commands that run torch call it when they start; later calls with no ``threads`` keep the
    first load-based decision, so a long run does not change its mind as its own work raises
    the load (``ZOO_THREADS``, set, is read every time: it is the user's word, not a guess)."""
    global _decided
    if threads is not None:
        _decided = parse_threads(threads)
    elif _decided is None or os.environ.get("ZOO_THREADS", "").strip():
        _decided = default_threads()  # an explicit ZOO_THREADS always wins; the load-based default is decided once
    import sys

    if torch_now:
        import torch  # noqa: F401  (loaded now, so that it starts with the decided threads)
    module = sys.modules.get("torch")
    if module is not None and module.get_num_threads() != _decided:
        module.set_num_threads(_decided)
    return _decided


def take_threads_option(args: list[str]) -> tuple[int | None, list[str]]:
    """Split ``--threads N`` (or ``--threads=N``) off a command line handed on to a plugin's own
    command (``zoo train``, ``zoo eval``, task verbs): the core owns that option everywhere."""
    rest: list[str] = []
    threads = None
    items = iter(args)
    for item in items:
        if item == "--":
            rest += [item, *items]
            break
        if item == "--threads":
            value = next(items, None)
            if value is None:
                raise InputError("--threads: give a number of threads, e.g. --threads 1")
            threads = parse_threads(value)
        elif item.startswith("--threads="):
            threads = parse_threads(item.split("=", 1)[1])
        else:
            rest.append(item)
    return threads, rest


def run_threads() -> int:
    """The count decided for this process (``use_threads``), or the default if none was."""
    return _decided if _decided is not None else default_threads()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1

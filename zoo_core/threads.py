"""How many threads zoo's compute uses: ``--threads``, else ``ZOO_THREADS``, else the cores not busy.

torch takes every core by default. On a busy machine its threads then wait on each other: on
2 cores at load 8 an RRDBNet ran at 2.9 GFLOP/s with 2 threads and 96.9 with 1, while on a
quiet machine 2 threads win (140 vs 90 GFLOP/s). So zoo gives its work one thread per core
not already busy, decided once when a run starts and printed in the JSON ``run`` block;
``--threads N`` or ``ZOO_THREADS=N`` fix it. "Busy" is the smaller of the 1-minute load
average and the processes runnable right now (a few samples of the kernel's run queue): the
average alone still counts, for a minute or more, a run that has just ended, and one command
after another then got one thread on an idle machine (1.3-1.7x slower at load 1.7). Everything that runs
threads (torch, the PNG writers, scikit-learn's learners) asks ``default_threads`` the same
question, so one policy holds.
"""

from __future__ import annotations

import os
import time

from .errors import InputError

__all__ = ["default_threads", "busy_cores", "parse_threads", "use_threads", "run_threads", "take_threads_option"]

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
    """``ZOO_THREADS`` if set, else one thread per core not busy (cores minus ``busy_cores()``,
    rounded), at least 1 and at most the cores."""
    given = os.environ.get("ZOO_THREADS", "").strip()
    if given:
        return parse_threads(given, "ZOO_THREADS=")
    cores = _cores()
    return max(1, min(cores, int(cores - busy_cores() + 0.5)))


def busy_cores() -> float:
    """How many cores other work keeps busy: the smaller of the 1-minute load average and the
    median of a few samples of the run queue now (less this process). The average lags: it
    stays high for minutes after a job ends. Where the run queue cannot be read (not Linux),
    the average alone; where neither can, 0."""
    try:
        average = os.getloadavg()[0]
    except (OSError, AttributeError):  # not on this platform
        average = 0.0
    now = _runnable_now()
    return average if now is None else min(average, now)


#: Run-queue samples and the pause between them: 5 over 16 ms, so that a job that sleeps for a
#: moment (reading a file) still counts, at a cost far below what the first torch op takes.
_SAMPLES, _PAUSE_S = 5, 0.004


_sampled: tuple[float, float | None] | None = None  # (when, what) of the last sampling
#: A sampling answers again for this long: a fit that asks once per learner pays once.
_FRESH_S = 5.0


def _runnable_now() -> float | None:
    """Threads runnable now on the machine, less the one asking (``procs_running`` of
    /proc/stat, the median of ``_SAMPLES`` reads), or None where there is no /proc/stat."""
    global _sampled
    if _sampled is not None and time.monotonic() - _sampled[0] < _FRESH_S:
        return _sampled[1]
    value = _sample_run_queue()
    _sampled = (time.monotonic(), value)
    return value


def _sample_run_queue() -> float | None:
    counts = []
    for sample in range(_SAMPLES):
        if sample:
            time.sleep(_PAUSE_S)
        try:
            with open("/proc/stat", "rb") as stat:
                line = next((row for row in stat if row.startswith(b"procs_running ")), None)
        except OSError:
            return None
        if line is None:
            return None
        counts.append(int(line.split()[1]))
    counts.sort()
    return float(max(0, counts[len(counts) // 2] - 1))


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

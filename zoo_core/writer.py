"""Files written in the background while the model makes the next ones.

Encoding a PNG and putting it in place cost as much as making a small image: written one
after the other they halved a run's speed. ``BackgroundWriter`` runs those jobs on a few
threads (PIL's zlib and file writes release the GIL) with a bounded number in flight, so
memory stays flat however many files a run writes. Jobs are retired in the order they were
given, so a caller counts and lists files in order; a job's error is raised in the caller's
thread at its next call, and ``abandon`` (after a stop) drops the jobs not started and waits
for the running ones, so that every file then on disk is whole.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["BackgroundWriter", "writer_threads"]


def writer_threads() -> int:
    """How many writer threads a run uses: none up to 2 threads (measured on 2 cores: next to one
    torch thread a writer thread only queued for the GIL, 1.41x a plain serial script at load
    2.8; next to two, it took a core from torch's OpenMP threads, 1.31x at load 1.3), else one
    per 4 of the run's threads, at most 4 (not measured on more cores here)."""
    from .threads import run_threads

    threads = run_threads()
    return 0 if threads <= 2 else min(4, max(1, threads // 4))


class BackgroundWriter:
    """Run file-writing jobs on ``workers`` threads, at most ``pending`` in flight (``workers=0``:
    each job runs in the caller's thread when it is submitted).

    Use as a context manager: leaving it normally waits for every job; leaving it by an
    exception abandons the jobs not yet started (see ``abandon``).
    """

    def __init__(self, workers: int = 1, pending: int = 16) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoo-writer") if workers > 0 else None
        self._futures: collections.deque[Future[Any]] = collections.deque()
        self._ready: list[Any] = []  # retired, not yet handed to the caller
        self._pending = max(1, pending)

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.abandon()
        self.close()

    def close(self) -> None:
        """Stop the threads (after ``finish`` or ``abandon``)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, job: Callable[..., Any], *args: Any) -> list[Any]:
        """Queue ``job(*args)``; the results of the jobs retired meanwhile (in order).

        Waits for the oldest job while ``pending`` are in flight; raises the error of a job
        that failed (the results retired before it are then handed out by ``abandon``)."""
        if self._pool is None:  # no writer threads: write here and now
            return [job(*args)]
        while len(self._futures) >= self._pending:
            self._retire()
        self._futures.append(self._pool.submit(job, *args))
        while self._futures and self._futures[0].done():
            self._retire()
        return self._hand_out()

    def finish(self) -> Iterator[Any]:
        """Wait for every job; yields their results in order (raises the first error)."""
        while self._futures:
            self._retire()
            yield from self._hand_out()

    def abandon(self) -> list[Any]:
        """After a stop: cancel the jobs not started, wait for those running; the results not
        yet handed out of those that completed, in order (failed ones are left out)."""
        for future in self._futures:
            future.cancel()
        results = self._hand_out()
        while self._futures:
            future = self._futures.popleft()
            if future.cancelled():
                continue
            try:
                results.append(future.result())
            except BaseException:  # noqa: BLE001 - the first error is the one being reported
                continue
        return results

    def _retire(self) -> None:
        """Wait for the oldest job and keep its result (its error propagates; the job stays queued)."""
        result = self._futures[0].result()
        self._futures.popleft()
        self._ready.append(result)

    def _hand_out(self) -> list[Any]:
        ready, self._ready = self._ready, []
        return ready

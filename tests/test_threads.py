"""Threads that fit the machine: ``--threads N`` (and ``ZOO_THREADS``) for commands that run torch,
a default of one thread per core not busy, decided at the start and shown in the JSON run block."""

from __future__ import annotations

import json
import os

import pytest

import zoo_core
from zoo_core import threads
from zoo_core.errors import InputError


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.delenv("ZOO_THREADS", raising=False)
    monkeypatch.setattr(threads, "_cores", lambda: 2)

    def with_load(load, runnable=None):
        """The 1-minute average ``load``; the run queue now ``runnable`` (None: as loaded)."""
        monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
        monkeypatch.setattr(threads, "_sampled", None)
        now = load if runnable is None else runnable
        monkeypatch.setattr(threads, "_sample_run_queue", lambda: now)

    return with_load


def test_the_default_leaves_busy_cores_alone(two_cores, monkeypatch):
    two_cores(0.2)
    assert zoo_core.default_threads() == 2  # a quiet machine: every core
    two_cores(1.2)
    assert zoo_core.default_threads() == 1  # one core busy: the other one
    two_cores(8.0)
    assert zoo_core.default_threads() == 1  # never fewer than one
    monkeypatch.setenv("ZOO_THREADS", "3")
    assert zoo_core.default_threads() == 3  # the user's word wins, even past the cores
    monkeypatch.setenv("ZOO_THREADS", "many")
    with pytest.raises(InputError, match="ZOO_THREADS"):
        zoo_core.default_threads()


def test_a_run_that_just_ended_does_not_count(two_cores):
    """The 1-minute average still counts the previous command for a minute or more; what is
    runnable now decides, so back-to-back commands on an idle machine get every core."""
    two_cores(1.7, runnable=0)
    assert zoo_core.default_threads() == 2
    two_cores(1.7, runnable=2)  # and a job that is still running still counts
    assert zoo_core.default_threads() == 1
    two_cores(0.1, runnable=3)  # a job started a moment ago: the average has not seen it yet
    assert zoo_core.default_threads() == 2  # (the smaller wins: the lag after a run is the common case)


def test_the_run_queue_is_read_from_the_kernel(monkeypatch):
    """On Linux the sample is a real count (this process excluded), at least 0."""
    monkeypatch.setattr(threads, "_sampled", None)
    now = threads._runnable_now()
    if not os.path.exists("/proc/stat"):
        assert now is None
    else:
        assert now is not None and now >= 0
        assert threads.busy_cores() <= os.getloadavg()[0] + 1e-9


def test_docalculus_learners_follow_the_same_policy(two_cores, monkeypatch):
    learners = pytest.importorskip("zoo_docalculus.learners")
    two_cores(1.2)
    assert learners.fitting_threads() == 1
    monkeypatch.setenv("ZOO_THREADS", "2")
    assert learners.fitting_threads() == 2


def test_threads_option_is_split_off_what_a_plugin_command_gets():
    assert threads.take_threads_option(["--epochs", "3", "--threads", "1", "--out", "r"]) == (1, ["--epochs", "3",
                                                                                                 "--out", "r"])
    assert threads.take_threads_option(["--threads=2"]) == (2, [])
    assert threads.take_threads_option(["--x", "--", "--threads", "1"]) == (None, ["--x", "--", "--threads", "1"])
    with pytest.raises(InputError, match="--threads 0"):
        threads.take_threads_option(["--threads", "0"])


def test_zoo_run_takes_threads_and_reports_them(zoo, tmp_path, monkeypatch):
    import torch

    before = torch.get_num_threads()
    code, out, err = zoo("run", "dcgan-fashion", "--num", "2", "--out", str(tmp_path / "a.png"), "--threads", "1",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["run"]["threads"] == 1
    assert torch.get_num_threads() == before  # the in-process fixture gives the test process its threads back
    monkeypatch.setenv("ZOO_THREADS", "1")
    code, out, err = zoo("run", "dcgan-fashion", "--num", "2", "--out", str(tmp_path / "b.png"), "--json")
    assert code == 0, err
    assert json.loads(out)["run"]["threads"] == 1
    code, _, err = zoo("run", "dcgan-fashion", "--num", "2", "--out", str(tmp_path / "c.png"), "--threads", "0")
    assert code == 1 and "--threads 0: give at least 1 thread" in err and err.count("\n") == 1
    assert not (tmp_path / "c.png").exists()


def test_a_model_run_from_python_takes_threads(tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        result = zoo_core.run("dcgan-fashion", num=2, seed=0, device="cpu", threads=1)
        assert result.run["threads"] == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        threads._decided = None

"""serve_all's supervision of one child, on a real process that keeps crashing: it is
restarted after a pause that doubles up to a cap, the pause starts over once the child
has run for a while, and only the web server's exit stops the stack."""

import sys

import pytest

from helpdesk.management.commands import serve_all
from helpdesk.management.commands.serve_all import RESTART_MAX_DELAY, STABLE_AFTER, _Child

CRASH = [sys.executable, "-c", "raise SystemExit(3)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(serve_all.time, "monotonic", fake)
    return fake


def _crash_and_supervise(child: _Child, said: list[str]) -> None:
    assert child.proc is not None
    child.proc.wait(20)
    assert child.supervise(said.append) is False


def test_a_crashing_worker_is_restarted_with_a_doubling_pause_up_to_the_cap(clock):
    child = _Child("worker", CRASH, env={})
    said: list[str] = []
    child.start()
    pauses = []
    for _ in range(9):
        _crash_and_supervise(child, said)
        assert child.restart_at is not None
        pauses.append(child.restart_at - clock.now)
        clock.now = child.restart_at - 0.01
        assert child.supervise(said.append) is False and child.restart_at is not None
        clock.now = child.restart_at  # the pause is over: started again
        assert child.supervise(said.append) is False and child.restart_at is None

    assert pauses == [1, 2, 4, 8, 16, 32, 60, 60, 60] and max(pauses) == RESTART_MAX_DELAY
    assert said[0] == "worker exited with 3; restarting it in 1 s."
    assert said.count("Restarting worker.") == 9
    child.proc.wait(20)


def test_the_pause_starts_over_after_the_child_ran_stably(clock):
    child = _Child("beat", CRASH, env={})
    said: list[str] = []
    child.start()
    for _ in range(3):  # 1, 2, 4 s
        _crash_and_supervise(child, said)
        clock.now = child.restart_at
        child.supervise(said.append)
    clock.now += STABLE_AFTER  # this run lasted a minute before it crashed
    _crash_and_supervise(child, said)

    assert said[-1] == "beat exited with 3; restarting it in 1 s."
    child.proc.wait(20)


def test_the_web_server_exiting_stops_the_stack(clock):
    child = _Child("web", CRASH, env={})
    said: list[str] = []
    child.start()
    child.proc.wait(20)

    assert child.supervise(said.append) is True
    assert said == ["web exited with 3; stopping."]

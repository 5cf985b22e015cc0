import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bus.backoff import Backoff
from crowdmap.processes import Supervisor

# Test targets live in this module, which spawned children cannot import; fork shares them.
FORK = multiprocessing.get_context("fork")


def exit_at_once(code: int) -> None:
    raise SystemExit(code)


def wait_for_stop(stop_event) -> None:
    stop_event.wait(30)


def test_supervisor_restarts_a_dead_child_with_backoff() -> None:
    supervisor = Supervisor(context=FORK)
    supervisor.add("crasher", exit_at_once, 3)
    supervisor.start()
    child = supervisor.children[0]
    child.process.join(10)
    assert child.process.exitcode == 3
    supervisor.poll(now_s=100.0)  # schedules the restart
    assert child.restarts == 0 and child.next_start_s > 100.0
    supervisor.poll(now_s=child.next_start_s + 0.1)
    assert child.restarts == 1
    child.process.join(10)
    supervisor.stop(timeout_s=1.0)


def test_supervisor_stops_children_through_the_stop_event() -> None:
    supervisor = Supervisor(context=FORK)
    supervisor.add("waiter", wait_for_stop, supervisor.stop_event)
    supervisor.start()
    started = time.monotonic()
    supervisor.stop(timeout_s=10.0)
    assert supervisor.children[0].process.exitcode == 0
    assert time.monotonic() - started < 10.0


# A station process that starts one child and waits; the child runs watch_parent and then, like a
# child still loading its detector, ignores the stop event for far longer than the test waits.
ORPHAN_PARENT = """
import multiprocessing, sys, time

def child(stop):
    from crowdmap.processes import watch_parent
    watch_parent(stop, poll_s=0.1, grace_s=float(sys.argv[1]))
    time.sleep(600)

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    process = context.Process(target=child, args=(stop,))
    process.start()
    print(process.pid, flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_an_orphan_busy_elsewhere_exits_on_its_own_after_the_grace_period(tmp_path: Path) -> None:
    script = tmp_path / "station.py"
    script.write_text(ORPHAN_PARENT)
    parent = subprocess.Popen([sys.executable, str(script), "1.0"], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    try:
        time.sleep(1.0)  # let the child reach its 600 s sleep, past any stop check
        assert _alive(child_pid)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 60.0  # generous on loaded cores; without the grace exit: never
        while _alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child_pid), "the orphan kept running"
    finally:
        if _alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)


def report_ready(start, name: str) -> None:
    start.ready(name)


def report_failure(start, name: str) -> None:
    start.failed(name, "port 8124 is already in use")


def never_ready(stop_event) -> None:
    stop_event.wait(30)


def test_the_station_starts_once_every_gated_child_is_ready() -> None:
    supervisor = Supervisor(context=FORK)
    start = supervisor.start_line
    supervisor.add("edge-a", report_ready, start, "edge-a")
    supervisor.add("web", report_ready, start, "web")
    # A real camera may be down at start: it does not hold the station back.
    supervisor.add("edge-real", never_ready, supervisor.stop_event, gate=False)
    supervisor.start()
    try:
        assert supervisor.wait_ready(lambda: False) is None
        assert not start.go.is_set()
        start.open(1234.5)
        assert start.wait(supervisor.stop_event) == 1234.5
    finally:
        supervisor.stop(timeout_s=1.0)


def test_a_child_that_cannot_run_stops_the_start_with_its_reason() -> None:
    supervisor = Supervisor(context=FORK)
    supervisor.add("web", report_failure, supervisor.start_line, "web")
    supervisor.add("edge-a", never_ready, supervisor.stop_event)
    supervisor.start()
    try:
        assert supervisor.wait_ready(lambda: False) == "port 8124 is already in use"
    finally:
        supervisor.stop(timeout_s=1.0)


def test_a_child_that_keeps_crashing_while_starting_stops_the_start() -> None:
    supervisor = Supervisor(context=FORK)
    supervisor.add("edge-a", exit_at_once, 3)
    for child in supervisor.children:
        child.backoff = Backoff((0.05,))
    supervisor.start()
    try:
        reason = supervisor.wait_ready(lambda: False, max_crashes=2)
        assert reason == "edge-a stopped 2 times while starting; see its log above"
    finally:
        supervisor.stop(timeout_s=1.0)


def test_waiting_for_the_start_ends_when_the_station_stops() -> None:
    supervisor = Supervisor(context=FORK)
    supervisor.add("edge-a", never_ready, supervisor.stop_event)
    supervisor.start()
    try:
        assert supervisor.wait_ready(lambda: True) == ""
        supervisor.stop_event.set()
        assert supervisor.start_line.wait(supervisor.stop_event) is None
    finally:
        supervisor.stop(timeout_s=1.0)

import multiprocessing
import time

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

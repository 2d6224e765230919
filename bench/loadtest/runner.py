"""Runs Locust headless through its library API, one user level after another.

Per level: a fresh ``Environment`` and ``LocalRunner`` (so no state leaks between levels),
``runner.start(users, spawn_rate)`` for the ramp-up, then -- once Locust fires
``spawning_complete`` -- a steady-state window of ``duration_s`` during which the
``Recorder`` collects every request event, then ``runner.quit()``. Everything is bounded in
time: the ramp-up gets ``users / spawn_rate`` plus a margin, the window its duration.

Importing this module imports Locust, which monkey-patches the process with gevent: the
command line patches first thing (``__main__._run``), before ``ssl`` or any socket exists.
"""

from __future__ import annotations

import datetime
import platform
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TextIO

import gevent
from gevent.event import Event
from locust.env import Environment
from locust.runners import LocalRunner

from bench.loadtest import users as locust_users
from bench.loadtest.progress import Tick, format_tick
from bench.loadtest.recorder import Recorder
from bench.loadtest.schema import Level, Run

RAMP_MARGIN_S = 15.0
STOP_TIMEOUT_S = 10.0
"""How long Locust may take to stop a level's users before they are killed outright."""
"""Extra time a ramp-up may take beyond ``users / spawn_rate`` before the level is abandoned."""


class LoadTestError(RuntimeError):
    """The run could not be carried out (host unreachable, ramp-up never completed)."""


@dataclass(frozen=True)
class RunConfig:
    host: str
    scenario: str
    users: Sequence[int]
    spawn_rate: float
    duration_s: float
    think_time_s: float = 0.0
    message: str = locust_users.MESSAGE
    label: str = ""
    progress_interval_s: float = 1.0


def check_host(host: str, timeout_s: float = 5.0) -> str | None:
    """``GET /health`` before any load: fail fast on a wrong URL. Returns a warning, if any."""
    try:
        with urllib.request.urlopen(f"{host.rstrip('/')}/health", timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        return f"GET /health answered {exc.code}; running anyway"
    except (OSError, ValueError) as exc:
        raise LoadTestError(f"cannot reach {host}: {exc}") from exc
    return None


def run_level(config: RunConfig, users: int, out: TextIO) -> Level:
    env = Environment(
        user_classes=locust_users.user_classes(config.scenario, config.message, config.think_time_s),
        host=config.host,
        catch_exceptions=True,
    )
    recorder = Recorder()
    env.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    spawned = Event()
    env.events.spawning_complete.add_listener(lambda user_count: spawned.set())  # type: ignore[no-untyped-call]
    runner = env.create_local_runner()
    cpu_started = time.process_time()

    def tick(phase: str, elapsed: float) -> None:
        steady = phase == "steady"
        line = format_tick(
            Tick(
                scenario=config.scenario,
                target_users=users,
                users=runner.user_count,
                phase=phase,
                elapsed_s=elapsed,
                duration_s=config.duration_s,
                requests=recorder.requests if steady else env.stats.total.num_requests,
                failures=recorder.failures if steady else env.stats.total.num_failures,
                p50_ms=recorder.percentile(50) if steady else 0.0,
                p95_ms=recorder.percentile(95) if steady else 0.0,
                p99_ms=recorder.percentile(99) if steady else 0.0,
                cpu_percent=_cpu_percent(cpu_started, elapsed),
            )
        )
        print(line, file=out, flush=True)

    try:
        ramp_started = time.monotonic()
        runner.start(users, spawn_rate=config.spawn_rate)
        ramp_budget = users / config.spawn_rate + RAMP_MARGIN_S
        while not spawned.wait(timeout=config.progress_interval_s):
            elapsed = time.monotonic() - ramp_started
            if elapsed > ramp_budget:
                raise LoadTestError(f"ramp-up to {users} users did not finish within {ramp_budget:.0f}s")
            tick("ramp", elapsed)
        ramp_s = time.monotonic() - ramp_started
        recorder.start()
        window_started = time.monotonic()
        cpu_started = time.process_time()
        _sleep_until(window_started + config.duration_s, config.progress_interval_s, window_started, tick)
        recorder.stop()
        window_s = time.monotonic() - window_started
        cpu_percent = _cpu_percent(cpu_started, window_s)
        user_errors = sum(e["count"] for e in runner.exceptions.values())
        for problem in runner.exceptions.values():
            print(f"error in a Locust user ({problem['count']}x): {problem['msg']}", file=out, flush=True)
        cpu_warning = bool(runner.cpu_warning_emitted)
    finally:
        _stop(runner, out)
    endpoints, total = recorder.snapshot(window_s)
    return Level(
        users=users,
        spawn_rate=config.spawn_rate,
        ramp_s=round(ramp_s, 3),
        duration_s=round(window_s, 3),
        endpoints=endpoints,
        total=total,
        generator_cpu_percent=round(cpu_percent, 1),
        generator_cpu_warning=cpu_warning,
        user_errors=user_errors,
    )


def _stop(runner: LocalRunner, out: TextIO) -> None:
    """``runner.quit()``, bounded: a user that survives its kill (a library swallowing
    ``GreenletExit`` in a bare ``except``) must not hang the whole run; it is killed again."""
    stopper = gevent.spawn(runner.quit)
    stopper.join(timeout=STOP_TIMEOUT_S)
    if stopper.dead:
        runner.user_greenlets.join(timeout=STOP_TIMEOUT_S)  # users close their connections in on_stop
        return
    print(f"warning: users still stopping after {STOP_TIMEOUT_S:.0f}s; killing them", file=out, flush=True)
    stopper.kill(block=False)
    # killall, not Group.kill: the group skips greenlets it has already asked to die once.
    gevent.killall(list(runner.user_greenlets), block=True, timeout=STOP_TIMEOUT_S)
    gevent.killall(list(runner.greenlet), block=True, timeout=STOP_TIMEOUT_S)


def _cpu_percent(cpu_started: float, wall_s: float) -> float:
    """This process's CPU (all threads) since ``cpu_started``, as a percent of one core."""
    return 100.0 * (time.process_time() - cpu_started) / wall_s if wall_s > 0 else 0.0


def _sleep_until(deadline: float, interval: float, started: float, tick: Callable[[str, float], None]) -> None:
    while (remaining := deadline - time.monotonic()) > 0:
        gevent.sleep(min(interval, remaining))
        tick("steady", time.monotonic() - started)


def run(config: RunConfig, out: TextIO = sys.stderr) -> Run:
    warning = check_host(config.host)
    if warning:
        print(f"warning: {warning}", file=out, flush=True)
    levels = []
    for users in config.users:
        levels.append(run_level(config, users, out))
    return Run(
        host=config.host,
        scenario=config.scenario,
        levels=tuple(levels),
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        label=config.label,
        settings={
            "users": list(config.users),
            "spawn_rate": config.spawn_rate,
            "duration_s": config.duration_s,
            "think_time_s": config.think_time_s,
            "message": config.message,
            "turns_per_session": locust_users.TURNS_PER_SESSION,
        },
        tool={
            "name": "bench.loadtest",
            "locust": locust_users.LOCUST_VERSION,
            "hdrhistogram": metadata.version("hdrhistogram"),
            "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}",
        },
    )

"""The two load generators as child processes: ours (replay.py) and telemetrygen (cross-check)."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.collector.payloads import SPANS_PER_TRACE
from bench.collector.stack import ROOT
from bench.collector.steps import Step


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL")}
    env["PYTHONPATH"] = str(ROOT)
    return env


class Replay:
    """``python -m bench.collector.replay``: paced pre-encoded requests (see replay.py)."""

    name = "replay"

    def start(self, step: Step, endpoint: str) -> subprocess.Popen[str]:
        argv = [
            sys.executable,
            "-m",
            "bench.collector.replay",
            f"--signal={step.signal}",
            f"--endpoint={endpoint}",
            f"--rate={step.rate}",
            f"--duration={step.duration_s}",
            f"--batch={step.batch}",
            f"--inflight={step.inflight}",
            f"--instances={step.instances}",
        ]
        proc = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()  # "sending": returns once its imports and templates are done
        return proc

    def result(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"the generator failed ({proc.returncode}): {out[-2000:]}")
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result


class Telemetrygen:
    """telemetrygen traces: ``workers`` x ``rate/workers`` spans/s, traces of SPANS_PER_TRACE spans.

    Its rate limiter waits once per span, so each worker is kept at a rate it can hold
    (~500 spans/s); its SDK's batch processor drops spans when its queue is full, which
    the accounting would show as generated != accepted.
    """

    name = "telemetrygen"

    def __init__(self, binary: Path, per_worker: float = 500.0) -> None:
        self.binary = binary
        self.per_worker = per_worker
        self._cpu0 = 0.0
        self._step: Step | None = None

    def start(self, step: Step, endpoint: str) -> subprocess.Popen[str]:
        workers = max(1, round(step.rate / self.per_worker))
        argv = [
            str(self.binary),
            "traces",
            f"--otlp-endpoint={endpoint}",
            "--otlp-insecure",
            f"--workers={workers}",
            f"--rate={step.rate / workers}",
            f"--duration={step.duration_s}s",
            f"--child-spans={SPANS_PER_TRACE - 1}",
            f"--batch-size={step.batch}",
        ]
        self._cpu0, self._step = _children_cpu(), step
        return subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def result(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        _, err = proc.communicate()
        if proc.returncode != 0 or self._step is None:
            raise RuntimeError(f"telemetrygen failed ({proc.returncode}): {err[-2000:]}")
        traces = sum(int(n) for n in re.findall(r'"traces":\s*(\d+)', err))
        items = traces * SPANS_PER_TRACE
        duration = self._step.duration_s
        return {
            "items": items,
            "accepted": items,  # telemetrygen does not say; the collector's receiver count is compared
            "failed": 0,
            "rejected": 0,
            "retries": {},
            "send_s": duration,
            "achieved_rate": items / duration,
            "max_behind_s": 0.0,
            "cpu_s": _children_cpu() - self._cpu0,
        }

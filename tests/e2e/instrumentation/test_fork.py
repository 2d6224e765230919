"""A forked worker gets its own pipelines and ``service.instance.id``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from otel_chatbot import configure
    from otel_chatbot.telemetry import active
    t = configure(traces_exporter="none", metrics_exporter="none", logs_exporter="none")
    parent = dict(t.tracer_provider.resource.attributes)["service.instance.id"]
    pid = os.fork()
    if pid == 0:
        child = dict(active().tracer_provider.resource.attributes)["service.instance.id"]
        os._exit(0 if child != parent else 3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_has_its_own_instance_id() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


STATS_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, urllib.request
    from otel_chatbot import configure
    from otel_chatbot.telemetry import active
    port = int(sys.argv[1])
    t = configure(traces_exporter="none", metrics_exporter="none", logs_exporter="none", stats_port=port)
    parent = t.stats_url
    assert parent is not None
    pid = os.fork()
    if pid == 0:
        child = active().stats_url
        if port:  # the parent holds the port: the worker logs it and runs on without stats
            os._exit(0 if child is None else 3)
        # a free port: the worker serves its own view
        with urllib.request.urlopen(child + "stats", timeout=5) as response:
            ok = child != parent and json.loads(response.read())["since_start"] is not None
        os._exit(0 if ok else 4)
    _, status = os.waitpid(pid, 0)
    with urllib.request.urlopen(parent + "stats", timeout=5) as response:  # the parent still serves
        assert json.loads(response.read())["service"]["name"]
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("port", ["fixed", "free"])
def test_a_forked_worker_and_the_stats_port(port: str) -> None:
    from otel_chatbot.demo.servers import free_port

    number = str(free_port()) if port == "fixed" else "0"
    result = subprocess.run([sys.executable, "-c", STATS_SCRIPT, number], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    if port == "fixed":
        assert f"OTEL_CHATBOT_STATS_PORT: cannot serve the live stats on 127.0.0.1:{number}" in result.stderr

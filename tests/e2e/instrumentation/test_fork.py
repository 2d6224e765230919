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

"""One GenAI span per call when upstream's OpenAI instrumentation is installed and another distro loads it.

``opentelemetry-instrument`` runs a small script that calls the OpenAI stand-in through the
real SDK, with opentelemetry-distro's entry points put first (so it loads every installed
instrumentor, ``opentelemetry-instrumentation-openai-v2`` included, next to ours). Our
``opentelemetry_post_instrument`` hook undoes upstream's, so the sink receives one CLIENT
span per call, ours (``chat {model}`` with the HTTP attributes), and none of upstream's.
With our recognition off (``genai-http`` disabled) upstream's is left in place and its span
is there: the test can tell the two apart.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_chatbot.testing.openai import OpenAIServer
from otel_chatbot.testing.otlp_sink import OtlpSink
from tests.e2e.distro.distro_harness import BIN, REPO, Received, describe, otlp_env, wait_until
from tests.e2e.distro.test_distro_entry_points import upstream_first  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

UPSTREAM_SCOPE = "opentelemetry.util.genai.handler"
"""Where openai-v2 (through opentelemetry-util-genai) makes its spans."""

SCRIPT = textwrap.dedent(
    """
    import os, openai
    client = openai.OpenAI(base_url=os.environ["STAND_IN"], api_key="k", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}])
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi again"}], stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass
    """
)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


def _run(tmp_path: Path, sink: OtlpSink, stand_in: OpenAIServer, pythonpath: list[Path], **env: str) -> Received:
    service = f"genai-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "calls_openai.py"
    script.write_text(SCRIPT)
    environment = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "PYTHONPATH": ":".join(map(str, [*pythonpath, REPO])),
        "OTEL_SERVICE_NAME": service,
        "OTEL_LOGS_EXPORTER": "none",
        "STAND_IN": stand_in.base_url,
        **otlp_env(sink),
        **env,
    }
    done = subprocess.run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, str(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return wait_until(sink, service, lambda r: len(r.spans) >= 2, timeout_s=10)


def test_upstream_openai_instrumentation_is_undone_when_another_distro_loads_it(
    tmp_path: Path,
    otlp_sink: OtlpSink,
    stand_in: OpenAIServer,
    upstream_first: Path,  # noqa: F811
) -> None:
    received = _run(tmp_path, otlp_sink, stand_in, [upstream_first])
    assert not [s for s in received.spans if s.scope_name == UPSTREAM_SCOPE], describe(received.spans)
    genai = [s for s in received.spans if "gen_ai.operation.name" in s.attributes]
    assert len(genai) == len(received.spans) == 2, describe(received.spans)
    for span in genai:
        assert (span.name, span.kind) == ("chat gpt-4o-mini", "CLIENT")
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["gen_ai.usage.output_tokens"] > 0


def test_with_genai_http_off_upstreams_span_stays(
    tmp_path: Path,
    otlp_sink: OtlpSink,
    stand_in: OpenAIServer,
    upstream_first: Path,  # noqa: F811
) -> None:
    """The control: upstream's instrumentor was loaded; with our GenAI recognition off it is the one left."""
    received = _run(tmp_path, otlp_sink, stand_in, [upstream_first], OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="genai-http")
    upstream = [s for s in received.spans if s.scope_name == UPSTREAM_SCOPE]
    assert len(upstream) == 2, describe(received.spans)
    assert [s.name for s in received.spans if s.scope_name == "otel_chatbot.httpx2"] == ["POST", "POST"]

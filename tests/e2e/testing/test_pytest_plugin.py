"""The README's testing-kit example, run as a user runs it: its own files, its own pytest.

The two code blocks of "Testing your instrumented app" (a ``conftest.py`` that opts in to the
plugin and a test module) are written to an empty directory and run by a pytest with none of
this repository's configuration, warnings as errors, no ``OTEL_*`` variables.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[3] / "README.md"
SECTION = "## Testing your instrumented app"
_BLOCK = re.compile(r"```python\n# (?P<name>[\w.]+\.py)\n(?P<body>.*?)```", re.DOTALL)


def readme_files() -> dict[str, str]:
    """``{file name: content}`` of the section's python blocks whose first line names a file."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return {match["name"]: match["body"] for match in _BLOCK.finditer(section)}


def run_pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(directory)],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_readme_names_a_conftest_and_a_test_module() -> None:
    files = readme_files()
    assert set(files) == {"conftest.py", "test_chat_telemetry.py"}
    assert 'pytest_plugins = ["otel_chatbot.testing.pytest_plugin"]' in files["conftest.py"]


def test_the_readme_example_passes_in_a_pytest_of_its_own(tmp_path: Path) -> None:
    for name, body in readme_files().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b1 passed\b", result.stdout), result.stdout[-2000:]


def test_a_wrong_expectation_in_the_example_fails(tmp_path: Path) -> None:
    """The example's assertions can fail: one more output token than Bedrock reported is caught."""
    files = readme_files()
    expectation = "output.sum == bedrock_said.output_tokens"
    assert expectation in files["test_chat_telemetry.py"]
    files["test_chat_telemetry.py"] = files["test_chat_telemetry.py"].replace(expectation, f"{expectation} + 1")
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b1 failed\b", result.stdout), result.stdout[-2000:]


FIXTURE_TESTS = '''
import logging

from otel_chatbot import configure
from otel_chatbot.telemetry import active

configured_elsewhere = []

def emit(telemetry, name):
    with telemetry.tracer_provider.get_tracer("t").start_as_current_span(name):
        logging.getLogger("t").warning("in %s", name)
    assert telemetry.force_flush()

def test_first(otlp_sink, configure_telemetry):
    emit(configure_telemetry(service_name="first"), "span-1")
    assert [s.name for s in otlp_sink.spans()] == ["span-1"]
    assert [s.resource["service.name"] for s in otlp_sink.spans()] == ["first"]
    assert [log.body for log in otlp_sink.logs()] == ["in span-1"]

def test_second_configures_afresh_and_sees_only_its_own(otlp_sink, configure_telemetry):
    assert active() is None  # the first test's configuration was shut down
    emit(configure_telemetry(service_name="second"), "span-2")
    assert [(s.name, s.resource["service.name"]) for s in otlp_sink.spans()] == [("span-2", "second")]

def test_a_configuration_made_elsewhere_is_left_running(configure_telemetry):
    mine = configure(traces_exporter="none", metrics_exporter="none", logs_exporter="none", set_global_providers=False)
    assert configure_telemetry() is mine
    configured_elsewhere.append(mine)

def test_and_it_is_still_running_afterwards():
    (mine,) = configured_elsewhere
    assert active() is mine
    mine.shutdown()
'''


def test_the_fixtures_isolate_tests_and_leave_foreign_configurations_alone(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(readme_files()["conftest.py"], encoding="utf-8")
    (tmp_path / "test_fixtures.py").write_text(FIXTURE_TESTS, encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout[-2000:]


PROVIDER_TESTS = '''
import httpx

QUESTION = [{"role": "user", "content": "hello there"}]

def test_openai(openai_server):
    body = {"model": "gpt-4o-mini", "messages": QUESTION}
    answer = httpx.post(f"{openai_server.base_url}/chat/completions", json=body, headers={"Authorization": "Bearer k"})
    tokens = answer.json()["usage"]["completion_tokens"]
    assert openai_server.ledger.entry("gpt-4o-mini", "chat.completions").output_tokens == tokens

def test_anthropic(anthropic_server):
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    body = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": QUESTION}
    answer = httpx.post(f"{anthropic_server.url}/v1/messages", json=body, headers=headers)
    assert anthropic_server.ledger.totals().output_tokens == answer.json()["usage"]["output_tokens"]

def test_ollama(ollama_server):
    ollama_server.inject("rate_limit")
    assert httpx.post(f"{ollama_server.url}/api/chat", json={"model": "m", "messages": QUESTION}).status_code == 429

def test_each_test_gets_a_fresh_server(openai_server, anthropic_server, ollama_server):
    assert [s.ledger.totals().calls for s in (openai_server, anthropic_server, ollama_server)] == [0, 0, 0]
'''


def test_the_provider_fixtures_serve_a_fresh_stand_in_per_test(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(readme_files()["conftest.py"], encoding="utf-8")
    (tmp_path / "test_providers.py").write_text(PROVIDER_TESTS, encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout[-2000:]

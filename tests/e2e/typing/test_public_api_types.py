"""A user's type checker sees the public API: mypy (strict) on small user snippets.

A correct snippet passes, even under ``--disallow-any-expr`` (nothing the API returns is
``Any``); a misspelt keyword, a value of the wrong type, a choice the setting does not
have and an app that is not one are each reported where they are written. One cold mypy
run takes ~4 s, hence an end-to-end test. The package is found through ``mypy_path``
(mypy cannot follow the editable install's import hook), as its source with ``py.typed``.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parents[3]

SNIPPETS = {
    "correct.py": """
        from pathlib import Path

        from fastapi import FastAPI
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        from otel_chatbot import SettingsKeywords, Telemetry, configure

        app = FastAPI()
        telemetry: Telemetry = configure(
            app,
            span_exporters=[ConsoleSpanExporter()],
            service_name="chat-api",
            traces_exporter="otlp",
            metrics_exporter=("otlp", "prometheus"),
            otlp_headers={"authorization": "Bearer token"},
            gc_freeze=False,
            sampler_arg=0.5,
            otlp_timeout_ms=5_000,
            service_version=None,
            pricing_file=Path("prices.json"),
            conversation_id_sources=[("header", "x-session-id"), ("path", "session_id")],
        )
        provider: TracerProvider | None = telemetry.tracer_provider
        if provider is not None:
            provider.get_tracer("mine").start_span("work").end()
        more: SettingsKeywords = {"log_level": "warning", "excluded_urls": ["^/internal/"]}
        configure(app, **more)
        telemetry.force_flush(timeout_millis=1_000)
        telemetry.shutdown()
        """,
    "helpers.py": """
        import asyncio

        from otel_chatbot import CacheLookup, FailoverAttempt, cache_lookup, failover, record_feedback


        def cached(prompt: str) -> str | None:
            lookup: CacheLookup
            with cache_lookup("semantic", model="us.anthropic.claude-3-5-haiku-20241022-v1:0") as lookup:
                if prompt:
                    lookup.hit(similarity=0.93, input_tokens=1200, output_tokens=300)
                else:
                    lookup.miss(similarity=0.41)
            return lookup.result


        async def answer() -> str:
            async with failover("chat") as chain:
                for provider, model in (("aws.bedrock", "amazon.nova-lite-v1:0"), ("openai", "gpt-4o-mini")):
                    try:
                        async with chain.attempt(provider=provider, model=model):
                            await asyncio.sleep(0)
                        break
                    except ConnectionError:
                        continue
            served: FailoverAttempt | None = chain.served_by
            return served.provider if served is not None else (chain.outcome or "")


        record_feedback("4bf92f3577b34da6a3ce929d0e0e4736", 0.0, label="thumbs_down", comment="wrong order")
        record_feedback(0x4BF92F3577B34DA6A3CE929D0E0E4736, 1)
        """,
    "wrong_helpers.py": """
        from otel_chatbot import cache_lookup, failover, record_feedback

        with cache_lookup("semantic") as lookup:
            lookup.hit(similarity="high")
        with failover("chat") as chain, chain.attempt("openai"):
            pass
        record_feedback(None, 1)
        """,
    "revealed.py": """
        from otel_chatbot import configure

        telemetry = configure()
        reveal_type(telemetry.tracer_provider)
        reveal_type(telemetry.meter_provider)
        reveal_type(telemetry.logger_provider)
        reveal_type(telemetry.settings.otlp_headers)
        """,
    "tools.py": """
        from otel_chatbot import execute_tool


        @execute_tool("get_weather", tool_type="datastore")
        def weather(city: str) -> str:
            return city


        name: str = weather("Paris")
        with execute_tool("search", call_id="call_1") as span:
            span.set_attribute("app.query", "otel")
        """,
    "wrong_tool_type.py": """
        from otel_chatbot import execute_tool

        execute_tool("search", tool_type="plugin")
        """,
    "wrong_keyword.py": """
        from otel_chatbot import configure

        configure(servce_name="chat-api")
        """,
    "wrong_type.py": """
        from otel_chatbot import configure

        configure(gc_freeze="yes")
        """,
    "wrong_choice.py": """
        from otel_chatbot import configure

        configure(traces_exporter="jaeger")
        """,
    "wrong_app.py": """
        from otel_chatbot import configure

        configure(42)
        """,
}


def run_mypy(tmp_path: Path) -> dict[str, list[str]]:
    """mypy over every snippet at once; its messages by file."""
    for name, code in SNIPPETS.items():
        (tmp_path / name).write_text(textwrap.dedent(code).lstrip())
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\npython_version = 3.10\ndisallow_any_expr = True\n"
        f"mypy_path = {REPO}\ncache_dir = {tmp_path / 'cache'}\n\n"
        "[mypy-otel_chatbot.*]\nfollow_imports = silent\n"
    )
    out, err, _ = api.run(["--config-file", str(config), *(str(tmp_path / name) for name in SNIPPETS)])
    assert err == "", err
    messages: dict[str, list[str]] = {name: [] for name in SNIPPETS}
    for line in out.splitlines():
        match = re.match(r"^.*?([\w]+\.py):\d+: (.*)$", line)
        if match:
            messages[match.group(1)].append(match.group(2))
    return messages


def test_user_snippets_type_check_as_intended(tmp_path: Path) -> None:
    messages = run_mypy(tmp_path)
    assert messages["correct.py"] == []
    assert messages["tools.py"] == []
    (tool_type,) = messages["wrong_tool_type.py"]
    assert tool_type.startswith('error: Argument "tool_type" to "execute_tool" has incompatible type')
    assert messages["revealed.py"] == [
        'note: Revealed type is "opentelemetry.sdk.trace.TracerProvider | None"',
        'note: Revealed type is "opentelemetry.sdk.metrics._internal.MeterProvider | None"',
        'note: Revealed type is "opentelemetry.sdk._logs._internal.LoggerProvider | None"',
        'note: Revealed type is "tuple[tuple[str, str], ...]"',
    ]
    assert messages["helpers.py"] == []
    assert messages["wrong_helpers.py"] == [
        'error: Argument "similarity" to "hit" of "CacheLookup" has incompatible type "str"; expected "float | None"  '
        "[arg-type]",
        'error: Too many positional arguments for "attempt" of "FailoverChain"  [call-arg]',
        'note: "attempt" defined in "otel_chatbot.helpers.failover"',
        'error: Argument 1 to "record_feedback" has incompatible type "None"; expected "str | int"  [arg-type]',
    ]
    assert messages["wrong_keyword.py"][0] == (
        'error: Unexpected keyword argument "servce_name" for "configure"; did you mean "service_name"?  [call-arg]'
    )
    assert messages["wrong_type.py"] == [
        'error: Argument "gc_freeze" to "configure" has incompatible type "str"; expected "bool"  [arg-type]'
    ]
    (choice,) = messages["wrong_choice.py"]
    assert choice.startswith('error: Argument "traces_exporter" to "configure" has incompatible type')
    assert "\"Literal['jaeger']\"; expected \"Literal['otlp', 'console', 'none'] | Sequence[" in choice
    assert messages["wrong_app.py"] == [
        'error: Argument 1 to "configure" has incompatible type "int"; expected "StarletteApp | None"  [arg-type]'
    ]

"""bench/attribution.py: which function a py-spy sample is charged to."""

from __future__ import annotations

import sysconfig

from bench.attribution import APP, attribute, compare, owner, parse_raw

STDLIB = sysconfig.get_paths()["stdlib"]
SITE = "/venv/lib/python3.11/site-packages"
ROOT = f"run (bench/profile_scenarios.py:10);Handle._run ({STDLIB}/asyncio/events.py:80)"
MIDDLEWARE = "TelemetryMiddleware.__call__ (/repo/otel_chatbot/instrumentation/asgi/middleware.py:50)"
HANDLER = f"chat ({SITE}/fastapi/routing.py:300)"
JSON = f"loads ({STDLIB}/json/__init__.py:346)"
PARSER = "converse_response (/repo/otel_chatbot/genai/bedrock.py:70)"
SDK = f"Span.end ({SITE}/opentelemetry/sdk/trace/__init__.py:971)"


def test_a_sample_goes_to_the_innermost_telemetry_frame_the_stdlib_to_its_caller() -> None:
    assert owner([*ROOT.split(";"), MIDDLEWARE, PARSER, JSON]) == "converse_response (otel_chatbot/genai/bedrock.py)"
    assert owner([*ROOT.split(";"), MIDDLEWARE, SDK]) == "Span.end (opentelemetry/sdk/trace/__init__.py)"
    assert owner([*ROOT.split(";"), MIDDLEWARE, PARSER, JSON], by="module") == "otel_chatbot/genai/bedrock.py"


def test_the_apps_frames_under_our_middleware_are_the_apps() -> None:
    assert owner([*ROOT.split(";"), MIDDLEWARE, HANDLER, JSON]) == APP
    assert owner(ROOT.split(";")) == APP


def test_waiting_threads_are_left_out_and_counts_add_up() -> None:
    lines = [
        f"{ROOT};{MIDDLEWARE};{PARSER};{JSON} 3\n",
        f"{ROOT};{MIDDLEWARE};{HANDLER} 5\n",
        f"_work (/repo/otel_chatbot/export/retaining_queue.py:232);Condition.wait ({STDLIB}/threading.py:331) 40\n",
        "\n",
    ]
    charged = attribute(parse_raw(lines))
    assert charged == {"converse_response (otel_chatbot/genai/bedrock.py)": 3, APP: 5}
    table = compare(charged, charged, (1000.0, 500.0), top=5)
    assert "| `converse_response (otel_chatbot/genai/bedrock.py)` | 100.0 % | 1,000 | 100.0 % | 500 |" in table

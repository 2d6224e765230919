"""The report: the worst check decides the exit code; a table for people, JSON for scripts."""

from __future__ import annotations

import json

from otel_chatbot.health.checks import Result
from otel_chatbot.health.report import EXIT_CODES, as_json, overall, table

RESULTS = [
    Result("app", "ok", "GET http://app/health → 200", 0.012),
    Result("collector", "degraded", "cannot reach http://otelcol:13133/: Connection refused"),
]


def test_the_worst_check_decides() -> None:
    assert overall([]) == "ok"
    assert overall(RESULTS) == "degraded"
    assert overall([*RESULTS, Result("chat", "unhealthy", "500")]) == "unhealthy"
    assert EXIT_CODES == {"ok": 0, "degraded": 1, "unhealthy": 2}


def test_the_table_lines_up_and_ends_with_the_verdict() -> None:
    assert table(RESULTS).splitlines() == [
        "CHECK      STATUS    TIME   DETAIL",
        "app        ok        12 ms  GET http://app/health → 200",
        "collector  degraded         cannot reach http://otelcol:13133/: Connection refused",
        "overall: degraded (exit 1)",
    ]


def test_json_for_scripts() -> None:
    document = json.loads(as_json(RESULTS))
    assert (document["status"], document["exit_code"]) == ("degraded", 1)
    assert document["checks"][0] == {
        "name": "app",
        "status": "ok",
        "message": "GET http://app/health → 200",
        "seconds": 0.012,
        "details": {},
    }

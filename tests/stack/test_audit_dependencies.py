"""scripts/audit_dependencies.py: pip-audit's JSON report read honestly (no service reached is no pass).

The reports below have the shape pip-audit 2.10 writes with ``--format json --aliases on``; the
"not found on PyPI" skip is what it reports for every package when PyPI answers 404 per release,
as it does on this project's machines (pip-audit then still says "No known vulnerabilities found").
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest
from stack_lib import REPO


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", REPO / "scripts" / "audit_dependencies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


audit_dependencies = _load()


def dep(name: str, version: str = "1.0", *vulns: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "version": version, "vulns": list(vulns)}


def skipped(name: str) -> dict[str, Any]:
    return {"name": name, "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)"}


VULN = {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": ["CVE-2099-0001", "GHSA-xxxx-yyyy-zzzz"]}
ACCEPTED = "CVE-2099-0001  requests  only reached through the docs build, never at run time\n"


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(dependencies), "fixes": []}


def test_every_package_audited_and_clean_is_ok() -> None:
    verdict = audit_dependencies.judge(report(dep("requests"), dep("pyyaml")), {}, "pypi")
    assert (verdict.status, verdict.exit_code) == ("OK", 0)
    assert verdict.lines == ["pip-audit: OK -- 2 pinned packages audited (pypi), 0 known vulnerabilities"]


def test_a_known_vulnerability_fails_the_build() -> None:
    verdict = audit_dependencies.judge(report(dep("requests", "1.0", VULN), dep("pyyaml")), {}, "pypi")
    assert (verdict.status, verdict.exit_code) == ("FAILED", 1)
    assert "  requests 1.0: PYSEC-2099-1 (fixed in 1.1)" in verdict.lines


def test_an_accepted_vulnerability_passes_with_its_reason_by_any_alias() -> None:
    accepted = audit_dependencies.parse_exceptions(ACCEPTED)
    verdict = audit_dependencies.judge(report(dep("requests", "1.0", VULN)), accepted, "osv")
    assert (verdict.status, verdict.exit_code) == ("OK", 0)
    assert verdict.lines[1] == (
        "  accepted requests 1.0: PYSEC-2099-1 (fixed in 1.1): only reached through the docs build, never at run time"
    )


def test_an_exception_for_another_package_accepts_nothing() -> None:
    accepted = audit_dependencies.parse_exceptions("CVE-2099-0001 urllib3 not this one\n")
    assert audit_dependencies.judge(report(dep("requests", "1.0", VULN)), accepted, "pypi").exit_code == 1


def test_a_stale_exception_is_pointed_out() -> None:
    verdict = audit_dependencies.judge(report(dep("requests")), audit_dependencies.parse_exceptions(ACCEPTED), "pypi")
    assert verdict.status == "OK"
    assert "  accepted exception CVE-2099-0001 matches nothing any more: remove it" in verdict.lines


def test_nothing_audited_is_skipped_not_passed() -> None:
    """pip-audit's own exit code is 0 here, and it prints "No known vulnerabilities found"."""
    verdict = audit_dependencies.judge(report(skipped("requests"), skipped("pyyaml")), {}, "pypi")
    assert (verdict.status, verdict.exit_code) == ("SKIPPED", 0)
    assert verdict.lines[0].startswith("pip-audit: SKIPPED -- pypi: no answer for any of 2 packages (")


def test_a_partial_answer_is_incomplete_and_names_what_was_not_audited() -> None:
    verdict = audit_dependencies.judge(report(dep("requests"), skipped("pyyaml")), {}, "pypi")
    assert verdict.status == "INCOMPLETE"
    assert verdict.lines[0].endswith("no known vulnerability among them; not audited: pyyaml")


def test_the_next_service_is_asked_when_one_does_not_answer() -> None:
    answers = {
        "pypi": (0, '{"dependencies": [{"name": "requests", "skip_reason": "not found"}], "fixes": []}', ""),
        "osv": (0, '{"dependencies": [{"name": "requests", "version": "1.0", "vulns": []}], "fixes": []}', ""),
    }
    verdict = audit_dependencies.audit(lambda service: answers[service], {})
    assert verdict.lines == ["pip-audit: OK -- 1 pinned packages audited (osv), 0 known vulnerabilities"]


def test_no_service_reached_says_why_for_each() -> None:
    answers = {
        "pypi": (0, '{"dependencies": [{"name": "requests", "skip_reason": "Dependency not found on PyPI"}]}', ""),
        "osv": (1, "", "Traceback ...\nrequests.exceptions.ConnectionError: Failed to resolve 'api.osv.dev'"),
    }
    verdict = audit_dependencies.audit(lambda service: answers[service], {})
    assert (verdict.status, verdict.exit_code) == ("SKIPPED", 0)
    assert verdict.lines == [
        "pip-audit: SKIPPED -- no vulnerability service answered, nothing was checked:",
        "  pypi: no answer for any of 1 packages (Dependency not found on PyPI)",
        "  osv: requests.exceptions.ConnectionError: Failed to resolve 'api.osv.dev'",
    ]


def test_audit_required_turns_a_skip_into_a_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(
        audit_dependencies, "pip_audit_runner", lambda requirement: lambda service: (0, '{"dependencies": []}', "")
    )
    exceptions = tmp_path / "exceptions.txt"
    exceptions.write_text("")
    args = ["--exceptions", str(exceptions)]
    assert audit_dependencies.main(args) == 0
    monkeypatch.setenv("AUDIT_REQUIRED", "1")
    assert audit_dependencies.main(args) == 2


def test_an_exception_without_a_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="line 2: expected '<id> <package> <reason>'"):
        audit_dependencies.parse_exceptions("# accepted\nCVE-2099-0001 requests\n")


def test_the_shipped_exceptions_parse_and_every_one_names_a_pinned_package() -> None:
    accepted = audit_dependencies.parse_exceptions((REPO / "requirements" / "audit-exceptions.txt").read_text())
    pinned = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (REPO / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    assert {a.package.replace("_", "-") for a in accepted.values()} <= pinned
    assert "pip-audit" in pinned, "the auditor is pinned like everything else"


def test_ci_runs_the_audit() -> None:
    assert "scripts/audit_dependencies.py" in (REPO / "scripts" / "test.sh").read_text()

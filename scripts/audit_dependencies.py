#!/usr/bin/env python3
"""pip-audit over the pinned dependency set, honest about what it could check.

pip-audit has no offline vulnerability database: it asks PyPI's JSON API for each pinned
release (service ``pypi``) or OSV (``osv``). Where neither answers, pip-audit itself still
says "No known vulnerabilities found" and exits 0 -- PyPI answering 404 per release makes it
skip every package as "not found" -- so its exit code alone would be a fake pass. This script
reads its JSON report instead and says which of four things happened:

* ``OK``: every pinned package audited, no known vulnerability outside the accepted ones;
* ``FAILED`` (exit 1): a known vulnerability that requirements/audit-exceptions.txt does not accept;
* ``INCOMPLETE``: some packages could not be audited (named), none of the others is vulnerable;
* ``SKIPPED``: no service answered for any package (nothing was checked), and why.

INCOMPLETE and SKIPPED exit 0 unless ``AUDIT_REQUIRED=1`` (then 2), so CI without the services
stays green but says so. Accepted vulnerabilities live in requirements/audit-exceptions.txt,
one a line: ``<id> <package> <reason>`` (the id may be any of the vulnerability's aliases).

    .venv/bin/python scripts/audit_dependencies.py [--requirement FILE] [--exceptions FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("pypi", "osv")

Runner = Callable[[str], "tuple[int, str, str]"]
"""service -> (pip-audit's exit code, stdout, stderr)."""


@dataclass(frozen=True)
class Accepted:
    package: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    status: str
    exit_code: int
    lines: list[str] = field(default_factory=list)


def parse_exceptions(text: str) -> dict[str, Accepted]:
    """``<id> <package> <reason>`` per line; ``#`` starts a comment. A line without a reason is an error."""
    accepted: dict[str, Accepted] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValueError(f"audit exceptions, line {number}: expected '<id> <package> <reason>', got {raw!r}")
        vuln_id, package, reason = parts
        accepted[vuln_id] = Accepted(package.lower(), reason)
    return accepted


def judge(report: dict[str, Any], accepted: dict[str, Accepted], service: str) -> Verdict:
    """What a pip-audit JSON report (``--format json --aliases``) says, given the accepted vulnerabilities."""
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    lines: list[str] = []
    unaccepted: list[str] = []
    matched: set[str] = set()
    for dep in audited:
        for vuln in dep.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            hit = next((n for n in ids if n in accepted and accepted[n].package == dep["name"].lower()), None)
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            what = f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})"
            if hit is None:
                unaccepted.append(what)
            else:
                matched.add(hit)
                lines.append(f"  accepted {what}: {accepted[hit].reason}")
    if unaccepted:
        return Verdict(
            "FAILED",
            1,
            [f"pip-audit: FAILED -- {len(unaccepted)} known vulnerabilities ({service}):"]
            + [f"  {u}" for u in unaccepted]
            + lines
            + ["  upgrade the pin in requirements/constraints.txt, or accept it with a reason in audit-exceptions.txt"],
        )
    if not audited:
        reason = skipped[0]["skip_reason"] if skipped else "pip-audit reported no dependency"
        return Verdict(
            "SKIPPED", 0, [f"pip-audit: SKIPPED -- {service}: no answer for any of {len(skipped)} packages ({reason})"]
        )
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        head = (
            f"pip-audit: INCOMPLETE -- audited {len(audited)} of {len(dependencies)} pinned packages ({service}), "
            f"no known vulnerability among them; not audited: {names}"
        )
        return Verdict("INCOMPLETE", 0, [head, *lines])
    stale = sorted(set(accepted) - matched)
    summary = f"pip-audit: OK -- {len(audited)} pinned packages audited ({service}), 0 known vulnerabilities"
    extra = [f"  accepted exception {s} matches nothing any more: remove it" for s in stale]
    return Verdict("OK", 0, [summary + (f", {len(matched)} accepted" if matched else ""), *lines, *extra])


def audit(runner: Runner, accepted: dict[str, Accepted], services: Sequence[str] = SERVICES) -> Verdict:
    """Ask each service in turn; the first that audits anything gives the verdict."""
    why: list[str] = []
    best: Verdict | None = None
    for service in services:
        code, stdout, stderr = runner(service)
        try:
            report = json.loads(stdout)
        except ValueError:
            last = (stderr.strip().splitlines() or [f"exit code {code}"])[-1]
            why.append(f"{service}: {last[:300]}")
            continue
        verdict = judge(report, accepted, service)
        if verdict.status in ("OK", "FAILED"):
            return verdict
        if best is None or (best.status == "SKIPPED" and verdict.status == "INCOMPLETE"):
            best = verdict
        why.append(verdict.lines[0].split(" -- ", 1)[-1])
    if best is not None and best.status == "INCOMPLETE":
        return best
    return Verdict(
        "SKIPPED",
        0,
        ["pip-audit: SKIPPED -- no vulnerability service answered, nothing was checked:"] + [f"  {w}" for w in why],
    )


def pip_audit_runner(requirement: Path) -> Runner:
    def run(service: str) -> tuple[int, str, str]:
        command = [
            sys.executable, "-m", "pip_audit",
            "--requirement", str(requirement),
            "--no-deps", "--disable-pip",  # every line of the file is an exact pin: nothing to resolve
            "--vulnerability-service", service,
            "--format", "json", "--aliases", "on",
            "--progress-spinner", "off",
            "--timeout", "15",
        ]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirement", type=Path, default=REPO / "requirements" / "constraints.txt")
    parser.add_argument("--exceptions", type=Path, default=REPO / "requirements" / "audit-exceptions.txt")
    args = parser.parse_args(argv)
    accepted = parse_exceptions(args.exceptions.read_text())
    verdict = audit(pip_audit_runner(args.requirement), accepted)
    print("\n".join(verdict.lines))
    if verdict.status in ("SKIPPED", "INCOMPLETE") and os.environ.get("AUDIT_REQUIRED") == "1":
        return 2
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())

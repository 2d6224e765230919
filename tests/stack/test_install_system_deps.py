"""scripts/install_system_deps.sh: idempotent, apt only when a tool is missing, sudo only when not root.

Run with a PATH of fake commands (id, apt-get, sudo, promtool, prometheus, chromium, tmux) that log
their calls, so nothing is installed and nothing needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stack_lib import REPO

SCRIPT = REPO / "scripts" / "install_system_deps.sh"
BASH = shutil.which("bash") or "/bin/bash"
CHMOD = shutil.which("chmod") or "/bin/chmod"
TOOLS_OF = {"prometheus": ("promtool", "prometheus"), "chromium": ("chromium",), "tmux": ("tmux",)}
"""The Debian package that brings each tool the tests need."""


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(SCRIPT)],
        env={"PATH": str(bin_dir), "HOME": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def log_of(bin_dir: Path) -> list[str]:
    log = bin_dir / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def make_bin(tmp_path: Path, uid: int, tools: bool | tuple[str, ...], sudo: bool = False) -> Path:
    """``tools``: all of them present (True), none (False), or just these."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = bin_dir / "calls.log"
    fake(bin_dir, "id", f"echo {uid}")
    # apt-get "installs" a package by creating the tools it brings.
    cases = " ".join(f"{package}) tools='{' '.join(names)}';;" for package, names in TOOLS_OF.items())
    fake(
        bin_dir,
        "apt-get",
        f'echo "apt-get $*" >> {log}\n'
        f'if [ "$1" = install ]; then for p in "$@"; do tools=""; case "$p" in {cases} esac; for t in $tools; do '
        f'printf "#!{BASH}\\n" > {bin_dir}/$t; {CHMOD} +x {bin_dir}/$t; done; done; fi',
    )
    if sudo:
        fake(bin_dir, "sudo", f'echo "sudo $*" >> {log}\nshift; exec "$@"')
    present = [t for names in TOOLS_OF.values() for t in names] if tools is True else list(tools or ())
    for tool in present:
        fake(bin_dir, tool, "true")
    return bin_dir


def test_does_nothing_when_the_tools_are_there(tmp_path: Path) -> None:
    bin_dir = make_bin(tmp_path, uid=1000, tools=True)
    proc = run(bin_dir)
    assert proc.returncode == 0, proc.stderr
    assert log_of(bin_dir) == []


def test_installs_debians_prometheus_as_root_without_sudo(tmp_path: Path) -> None:
    bin_dir = make_bin(tmp_path, uid=0, tools=False)
    proc = run(bin_dir)
    assert proc.returncode == 0, proc.stderr
    calls = log_of(bin_dir)
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install -y") and calls[1].endswith(" prometheus chromium tmux")
    assert run(bin_dir).returncode == 0 and log_of(bin_dir) == calls, "a second run installs nothing"


def test_installs_only_the_packages_of_the_missing_tools(tmp_path: Path) -> None:
    bin_dir = make_bin(tmp_path, uid=0, tools=("promtool", "prometheus", "tmux"))
    proc = run(bin_dir)
    assert proc.returncode == 0, proc.stderr
    assert "installing chromium (missing: chromium)" in proc.stderr
    assert log_of(bin_dir)[1].endswith("--no-install-recommends chromium")


def test_uses_sudo_when_not_root(tmp_path: Path) -> None:
    bin_dir = make_bin(tmp_path, uid=1000, tools=False, sudo=True)
    proc = run(bin_dir)
    assert proc.returncode == 0, proc.stderr
    calls = log_of(bin_dir)
    assert any(c.startswith("sudo -n apt-get install") for c in calls), calls


def test_explains_what_is_missing_without_root_or_sudo(tmp_path: Path) -> None:
    bin_dir = make_bin(tmp_path, uid=1000, tools=False)
    proc = run(bin_dir)
    assert proc.returncode == 1
    assert "need root or sudo" in proc.stderr and "promtool" in proc.stderr
    assert log_of(bin_dir) == []
    assert os.access(SCRIPT, os.X_OK)

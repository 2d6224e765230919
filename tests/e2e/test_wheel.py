"""The wheel installs ``otel_chatbot`` and nothing else, with its data files, and the demo runs from it.

Built offline from a copy of the files git tracks (tests/, bench/, docker/ included, so
leaving them out is the packaging's doing) with the venv's own setuptools
(``--no-build-isolation``; setuptools is a dev dependency for this).
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "otel_chatbot"


def tracked_files(under: str = ".") -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", under], cwd=REPO, capture_output=True, check=True, timeout=30
    ).stdout
    return [name for name in out.decode().split("\0") if name and (REPO / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    source = tmp_path_factory.mktemp("source")
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (path,) = out.glob("otel_chatbot-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def _dist_info(archive: zipfile.ZipFile) -> str:
    (name,) = {entry.split("/")[0] for entry in archive.namelist() if entry.split("/")[0].endswith(".dist-info")}
    return name


def test_the_only_top_level_package_is_otel_chatbot(wheel: zipfile.ZipFile) -> None:
    top = {entry.split("/")[0] for entry in wheel.namelist()}
    assert top == {PACKAGE, _dist_info(wheel)}
    assert wheel.read(f"{_dist_info(wheel)}/top_level.txt").decode().split() == [PACKAGE]
    assert not {"examples", "tests", "bench", "docker", "scripts"} & top


def test_every_tracked_file_of_the_package_is_in_the_wheel_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    packaged = {entry for entry in wheel.namelist() if entry.startswith(f"{PACKAGE}/")}
    assert packaged == set(tracked_files(PACKAGE))
    readmes = [f"testing/{provider}/README.md" for provider in ("bedrock", "openai", "anthropic", "ollama")]
    for data in ("py.typed", "genai/pricing.json", "stats/page.html", *readmes):
        assert f"{PACKAGE}/{data}" in packaged
    assert f"{PACKAGE}/testing/pytest_plugin.py" in packaged and f"{PACKAGE}/demo/chatbot/app.py" in packaged


def test_entry_points_are_the_distro_and_the_cli_and_no_pytest_plugin(wheel: zipfile.ZipFile) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(f"{_dist_info(wheel)}/entry_points.txt").decode())
    assert "pytest11" not in entry_points.sections()  # the testing kit's fixtures are opt-in
    assert entry_points["console_scripts"]["otel-chatbot"] == "otel_chatbot.cli:main"
    assert entry_points["opentelemetry_distro"]["otel_chatbot"] == "otel_chatbot.distro:ChatbotDistro"


def test_the_demo_runs_from_the_wheel(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """The wheel's files first on the path, cwd outside the repository: nothing comes from the source tree."""
    site = tmp_path / "site"
    wheel.extractall(site)
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    env["PYTHONPATH"] = str(site)
    code = (
        "import sys, otel_chatbot, otel_chatbot.demo.chatbot.app as app, otel_chatbot.testing.bedrock as bedrock; "
        "print('loaded from', otel_chatbot.__file__, app.__file__, bedrock.__file__, flush=True); "
        "from otel_chatbot.cli import main; "
        "sys.exit(main(['demo', '--requests', '12', '--sessions', '2', '--quiet', '--output', sys.argv[1]]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    loaded = run.stdout.splitlines()[0].split()[2:]
    assert len(loaded) == 3 and all(Path(path).is_relative_to(site) for path in loaded), loaded
    assert "Summary of " in run.stdout
    assert "Cross-check, telemetry vs each stand-in's own ledger (all equal)" in run.stdout
    assert (tmp_path / "out" / "traces.otlp.jsonl").stat().st_size > 0

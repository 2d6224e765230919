"""The binary contains exactly what collector/manifest.yaml names, all of one collector release,
and the shipped configs use exactly those components (plus the debug tooling)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from otelcol_harness import COLLECTOR_DIR, MANIFEST, minimal_env, shipped_config_files

KINDS = ("receivers", "processors", "exporters", "connectors", "extensions", "providers")
# Shipped for debugging/health, whether or not a pipeline uses them by default.
TOOLING = {("exporters", "debug"), ("exporters", "nop"), ("extensions", "health_check")}


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def manifest_modules() -> dict[str, set[str]]:
    data = manifest()
    return {kind: {" ".join(entry["gomod"].split()) for entry in data.get(kind) or []} for kind in KINDS}


def binary_components(binary: Path) -> dict[str, Any]:
    out = subprocess.run(
        [str(binary), "components"], env=minimal_env(), capture_output=True, text=True, timeout=60, check=True
    ).stdout
    parsed: dict[str, Any] = yaml.safe_load(out)
    return parsed


def test_components_lists_exactly_the_manifest_modules(otelcol_binary: Path) -> None:
    listed = binary_components(otelcol_binary)
    for kind, expected in manifest_modules().items():
        got = {entry["module"] for entry in listed.get(kind) or []}
        assert got == expected, kind


def test_binary_reports_the_manifest_distribution(otelcol_binary: Path) -> None:
    listed = binary_components(otelcol_binary)
    dist = manifest()["dist"]
    assert listed["buildinfo"]["command"] == dist["name"] == "otelcol-chatbot"
    assert listed["buildinfo"]["version"] == dist["version"]


def test_every_module_is_pinned_to_one_collector_release() -> None:
    versions: dict[str, set[str]] = {"v0": set(), "v1": set()}
    for modules in manifest_modules().values():
        for module in modules:
            path, version = module.split(" ")
            assert re.fullmatch(r"v\d+\.\d+\.\d+", version), module
            assert path.startswith(
                ("go.opentelemetry.io/collector/", "github.com/open-telemetry/opentelemetry-collector-contrib/")
            ), module
            versions[version.split(".")[0]].add(version)
    # core + contrib v0.N.0 and the matching core v1.(N-94).0 stable modules
    (v0,) = versions["v0"]
    (v1,) = versions["v1"]
    assert int(v1.split(".")[1]) == int(v0.split(".")[1]) - 94


def component_types_used() -> dict[str, set[str]]:
    """Component types each shipped config refers to, by kind (``otlp_grpc/tempo`` -> ``otlp_grpc``)."""
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for name in shipped_config_files():
        config = yaml.safe_load((COLLECTOR_DIR / name).read_text())
        for kind in KINDS[:-1]:
            used[kind] |= {cid.split("/")[0] for cid in config.get(kind) or {}}
        text = (COLLECTOR_DIR / name).read_text()
        used["providers"] |= set(re.findall(r"\$\{(\w+):", text))
    return used


def test_shipped_configs_use_exactly_the_manifest_components(otelcol_binary: Path) -> None:
    listed = binary_components(otelcol_binary)
    in_binary = {
        (kind, entry["scheme" if kind == "providers" else "name"]) for kind in KINDS for entry in listed.get(kind) or []
    }
    used = {(kind, name) for kind, names in component_types_used().items() for name in names}
    assert used - in_binary == set(), "configs use components the distribution lacks"
    unused = in_binary - used - TOOLING - {("providers", "file"), ("providers", "yaml")}
    assert unused == set(), "the manifest builds components no config uses"


def test_configs_use_the_component_type_names_of_the_pinned_release(otelcol_binary: Path) -> None:
    listed = binary_components(otelcol_binary)
    names = {entry["name"] for entry in listed["exporters"]}
    # v0.161.0 names; the old ones (otlp, otlphttp, prometheusremotewrite, loadbalancing) are aliases.
    assert {"otlp_grpc", "prometheus_remote_write", "load_balancing"} <= names
    used = component_types_used()["exporters"]
    assert not used & {"otlp", "otlphttp", "prometheusremotewrite", "loadbalancing"}

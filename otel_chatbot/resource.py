"""Build the Resource every signal carries.

AWS detection reads only local signals first (environment variables, the DMI vendor
string, the Kubernetes service-account file) and calls a metadata service only where
that signal says we are on the platform, so start-up off AWS costs no network wait.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from opentelemetry.sdk.resources import Resource, ResourceDetector
from opentelemetry.semconv._incubating.attributes import (
    deployment_attributes,
    host_attributes,
    os_attributes,
    process_attributes,
    service_attributes,
)
from opentelemetry.semconv.attributes import service_attributes as stable_service

from otel_chatbot.config import Settings
from otel_chatbot.version import __version__

_log = logging.getLogger(__name__)

DISTRO_NAME = "otel_chatbot"
_DMI_VENDOR_FILES = ("/sys/devices/virtual/dmi/id/sys_vendor", "/sys/devices/virtual/dmi/id/board_vendor")
_K8S_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def _read_first_line(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def aws_platforms(
    settings: Settings, environ: Mapping[str, str], read: Callable[[str], str] = _read_first_line
) -> tuple[str, ...]:
    """Which AWS detectors to run, decided from local signals only (pure and cheap)."""
    chosen = settings.aws_detectors
    if "none" in chosen:
        return ()
    explicit = tuple(name for name in chosen if name != "auto")
    if "auto" not in chosen:
        return explicit
    found: list[str] = list(explicit)
    if environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        found.append("lambda")
    if environ.get("ECS_CONTAINER_METADATA_URI_V4") or environ.get("ECS_CONTAINER_METADATA_URI"):
        found.append("ecs")
    if environ.get("KUBERNETES_SERVICE_HOST") and read(_K8S_TOKEN):
        found.append("eks")
    if not found and any("amazon" in read(path).lower() for path in _DMI_VENDOR_FILES):
        found.append("ec2")
    return tuple(dict.fromkeys(found))


def _detector(name: str) -> ResourceDetector:
    from opentelemetry.sdk.extension.aws.resource import (
        AwsEc2ResourceDetector,
        AwsEcsResourceDetector,
        AwsEksResourceDetector,
        AwsLambdaResourceDetector,
    )

    detectors: dict[str, type[ResourceDetector]] = {
        "ec2": AwsEc2ResourceDetector,
        "ecs": AwsEcsResourceDetector,
        "eks": AwsEksResourceDetector,
        "lambda": AwsLambdaResourceDetector,
    }
    return detectors[name]()


def _aws_resource(platforms: tuple[str, ...]) -> Resource:
    resource = Resource.get_empty()
    for name in platforms:
        try:
            resource = resource.merge(_detector(name).detect())
        except Exception:  # a detector failing must not stop start-up
            _log.warning("AWS %s resource detection failed; continuing without it", name, exc_info=True)
    return resource


def base_attributes(settings: Settings, instance_id: str) -> dict[str, str | int]:
    """Attributes that need no detection: service, distro, process and host."""
    attributes: dict[str, str | int] = {
        stable_service.SERVICE_NAME: settings.service_name,
        service_attributes.SERVICE_INSTANCE_ID: instance_id,
        "telemetry.distro.name": DISTRO_NAME,
        "telemetry.distro.version": __version__,
        process_attributes.PROCESS_PID: os.getpid(),
        process_attributes.PROCESS_RUNTIME_NAME: sys.implementation.name,
        process_attributes.PROCESS_RUNTIME_VERSION: platform.python_version(),
        process_attributes.PROCESS_EXECUTABLE_NAME: Path(sys.executable).name,
        host_attributes.HOST_NAME: socket.gethostname(),
        host_attributes.HOST_ARCH: platform.machine().lower(),
        os_attributes.OS_TYPE: sys.platform if sys.platform != "darwin" else "darwin",
    }
    if settings.service_version:
        attributes[stable_service.SERVICE_VERSION] = settings.service_version
    if settings.deployment_environment:
        attributes[deployment_attributes.DEPLOYMENT_ENVIRONMENT_NAME] = settings.deployment_environment
    return attributes


def build_resource(
    settings: Settings, environ: Mapping[str, str] | None = None, instance_id: str | None = None
) -> Resource:
    """The process's Resource: SDK defaults < detected AWS < ours < OTEL_RESOURCE_ATTRIBUTES.

    ``service.name`` from ``OTEL_SERVICE_NAME`` (or the keyword) wins over the one in
    ``OTEL_RESOURCE_ATTRIBUTES``, as the specification says.
    """
    env = os.environ if environ is None else environ
    ours = base_attributes(settings, instance_id or str(uuid.uuid4()))
    user = dict(settings.resource_attributes)
    if _service_name_set(settings, env):
        user.pop(stable_service.SERVICE_NAME, None)
    sdk_defaults = Resource(
        {
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": _sdk_version(),
        }
    )
    return sdk_defaults.merge(_aws_resource(aws_platforms(settings, env))).merge(Resource(ours)).merge(Resource(user))


def _service_name_set(settings: Settings, environ: Mapping[str, str]) -> bool:
    return "OTEL_SERVICE_NAME" in environ or settings.service_name != "chatbot"


def _sdk_version() -> str:
    from importlib.metadata import version

    return version("opentelemetry-sdk")

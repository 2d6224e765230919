"""Resource attributes, and AWS detection that never waits off AWS."""

from __future__ import annotations

import time

from otel_chatbot.config import load_settings
from otel_chatbot.resource import aws_platforms, build_resource


def test_resource_names_service_distro_and_process() -> None:
    settings = load_settings(
        {"service_name": "svc", "service_version": "1.2.3", "deployment_environment": "prod"}, environ={}
    )
    attrs = dict(build_resource(settings, environ={}, instance_id="abc").attributes)
    assert attrs["service.name"] == "svc"
    assert attrs["service.version"] == "1.2.3"
    assert attrs["service.instance.id"] == "abc"
    assert attrs["deployment.environment.name"] == "prod"
    assert attrs["telemetry.distro.name"] == "otel_chatbot"
    assert attrs["telemetry.sdk.language"] == "python"
    assert isinstance(attrs["process.pid"], int)
    assert "host.name" in attrs


def test_otel_service_name_wins_over_resource_attributes() -> None:
    env = {"OTEL_SERVICE_NAME": "a", "OTEL_RESOURCE_ATTRIBUTES": "service.name=b,team=x"}
    attrs = dict(build_resource(load_settings(environ=env), environ=env).attributes)
    assert attrs["service.name"] == "a"
    assert attrs["team"] == "x"


def test_aws_platform_choice_reads_local_signals_only() -> None:
    settings = load_settings(environ={})
    nothing = lambda path: ""  # noqa: E731
    assert aws_platforms(settings, {}, nothing) == ()
    assert aws_platforms(settings, {"AWS_LAMBDA_FUNCTION_NAME": "f"}, nothing) == ("lambda",)
    assert aws_platforms(settings, {"ECS_CONTAINER_METADATA_URI_V4": "http://x"}, nothing) == ("ecs",)
    assert aws_platforms(settings, {}, lambda path: "Amazon EC2") == ("ec2",)
    assert (
        aws_platforms(
            load_settings(environ={"OTEL_CHATBOT_AWS_DETECTORS": "none"}), {"AWS_LAMBDA_FUNCTION_NAME": "f"}, nothing
        )
        == ()
    )


def test_building_the_resource_off_aws_is_fast() -> None:
    started = time.perf_counter()
    build_resource(load_settings(environ={}), environ={})
    assert time.perf_counter() - started < 0.5

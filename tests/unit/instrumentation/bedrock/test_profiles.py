"""Application inference profiles resolved off the request path: the cache, the worker, the failures.

Real boto3 clients answered in-process (``aws_stub``): the runtime client the app calls, and
a ``bedrock`` control-plane client whose ``GetInferenceProfile`` answers stand in for the
lookups (``fetch_profile`` is swapped for one that asks it). The e2e tests run the real
lookup client against the local Bedrock server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config

from otel_chatbot.instrumentation.bedrock import profiles as profiles_module
from otel_chatbot.instrumentation.bedrock.profiles import (
    RETRY_REFUSED_S,
    RETRY_TRANSIENT_S,
    InferenceProfiles,
    ProfileLookup,
    control_plane_client,
    lookup_for,
)
from tests.unit.instrumentation.aws_stub import AwsStub, stubbed

ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
OTHER_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/ffff0000aaaa"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
HAIKU_PRICE = (0.8, 4.0)  # USD per million input / output tokens (pricing.json)
MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
CONVERSE_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "hello"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
}
PROFILE_ANSWER = {
    "inferenceProfileName": "chatbot-prod",
    "inferenceProfileArn": ARN,
    "inferenceProfileId": "a1b2c3d4e5f6",
    "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{HAIKU}"} for r in ("us-east-1", "us-west-2")],
    "status": "ACTIVE",
    "type": "APPLICATION",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def asking(control: AwsStub, gate: threading.Event | None = None) -> Callable[[ProfileLookup], Mapping[str, Any]]:
    """A lookup that asks the stubbed control-plane client (after ``gate`` opens, if given)."""

    def fetch(lookup: ProfileLookup) -> Mapping[str, Any]:
        if gate is not None:
            assert gate.wait(5), "the test never opened the gate"
        answer: Mapping[str, Any] = control.client.get_inference_profile(inferenceProfileIdentifier=lookup.arn)
        return answer

    return fetch


def looked_up(control: AwsStub) -> list[str]:
    """The identifiers the control plane was asked about, in order."""
    return [unquote(request.url.rsplit("/inference-profiles/", 1)[1]) for request in control.sent]


@pytest.fixture
def resolving(
    kit_factory: Any, control: AwsStub, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Any, InferenceProfiles | None]]:
    """A kit with the libraries patched; lookups (if the settings turn them on) ask ``control``."""

    def make(gate: threading.Event | None = None, **settings: Any) -> tuple[Any, InferenceProfiles | None]:
        monkeypatch.setattr(profiles_module, "fetch_profile", asking(control, gate))
        kit = kit_factory(**settings)
        kit.instrumentations.apply_libraries(patch_all_apps=False)
        return kit, kit.instrumentations.inference_profiles

    return make


def metric_models(kit: Any, metric: str) -> set[str]:
    return {dict(p.attributes)["gen_ai.request.model"] for p in kit.points(metric)}


def test_the_first_call_keeps_the_arn_and_later_calls_are_the_base_model(
    resolving: Callable[..., tuple[Any, InferenceProfiles | None]], runtime: AwsStub, control: AwsStub
) -> None:
    gate = threading.Event()
    kit, profiles = resolving(gate, resolve_inference_profiles=True)
    assert profiles is not None
    control.json(PROFILE_ANSWER)
    runtime.json(CONVERSE_ANSWER)
    runtime.json(CONVERSE_ANSWER)

    started = time.perf_counter()
    runtime.client.converse(modelId=ARN, messages=MESSAGES)  # the lookup waits for the gate: not on this path
    assert time.perf_counter() - started < 2.0
    (first,) = kit.finished()
    assert control.sent == [], "the call returned before the lookup was made"
    gate.set()
    assert profiles.wait_idle(5)
    assert looked_up(control) == [ARN]

    runtime.client.converse(modelId=ARN, messages=MESSAGES)
    later = kit.finished()[1]
    assert first.name == later.name == f"chat {ARN}"
    assert first.attributes["gen_ai.request.model"] == later.attributes["gen_ai.request.model"] == ARN
    assert "gen_ai.usage.cost" not in first.attributes  # nothing knew the model yet
    assert "gen_ai.response.model" not in first.attributes
    assert later.attributes["gen_ai.response.model"] == HAIKU
    assert later.attributes["gen_ai.usage.cost"] == pytest.approx((12 * HAIKU_PRICE[0] + 3 * HAIKU_PRICE[1]) / 1e6)
    assert len(kit.finished()) == 2, "the lookup made no span of its own"
    # metrics: the first call under the ARN, the later one under the base model (response model too)
    assert metric_models(kit, "gen_ai.client.operation.duration") == {ARN, HAIKU}
    (cost,) = kit.points("gen_ai.client.cost")[:1]
    assert {dict(p.attributes)["gen_ai.request.model"] for p in kit.points("gen_ai.client.cost")} == {HAIKU}
    assert dict(cost.attributes)["gen_ai.response.model"] == HAIKU
    runtime.client.converse  # noqa: B018 - the client stays usable; no more lookups for a known ARN
    runtime.json(CONVERSE_ANSWER)
    runtime.client.converse(modelId=ARN, messages=MESSAGES)
    assert looked_up(control) == [ARN]


def test_the_lookup_is_suppressed_an_own_control_plane_call_is_not(
    resolving: Callable[..., tuple[Any, InferenceProfiles | None]], runtime: AwsStub, control: AwsStub
) -> None:
    """The control: the same ``GetInferenceProfile`` made by the app is an AWS span, ours is none."""
    kit, profiles = resolving(resolve_inference_profiles=True)
    assert profiles is not None
    control.json(PROFILE_ANSWER)
    control.json(PROFILE_ANSWER)
    runtime.json(CONVERSE_ANSWER)
    runtime.client.converse(modelId=ARN, messages=MESSAGES)
    assert profiles.wait_idle(5)
    control.client.get_inference_profile(inferenceProfileIdentifier=ARN)
    assert [span.name for span in kit.finished()] == [f"chat {ARN}", "Bedrock.GetInferenceProfile"]


def test_an_invoke_model_body_is_read_as_the_base_models_family(
    resolving: Callable[..., tuple[Any, InferenceProfiles | None]], runtime: AwsStub, control: AwsStub
) -> None:
    """An opaque ARN hides the body format; once resolved, the Claude body's stop reason and cache tokens are read."""
    import json

    kit, profiles = resolving(resolve_inference_profiles=True)
    assert profiles is not None
    control.json(PROFILE_ANSWER)
    answer = {
        "id": "msg_01",
        "type": "message",
        "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 4, "cache_read_input_tokens": 2},
    }
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40, "messages": MESSAGES})
    for _ in range(2):
        runtime.raw(json.dumps(answer).encode(), headers={"X-Amzn-Bedrock-Input-Token-Count": "10"})
    runtime.client.invoke_model(modelId=ARN, body=body)["body"].read()  # the span ends when the app has read it
    assert profiles.wait_idle(5)
    runtime.client.invoke_model(modelId=ARN, body=body)["body"].read()
    first, later = kit.finished()
    # read as an unknown family: no stop reason, and the cache tokens are missed
    assert "gen_ai.response.finish_reasons" not in first.attributes
    assert first.attributes["gen_ai.usage.input_tokens"] == 10
    assert "gen_ai.usage.cost" not in first.attributes
    assert later.attributes["gen_ai.request.model"] == ARN
    assert later.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert later.attributes["gen_ai.usage.input_tokens"] == 12
    assert later.attributes["gen_ai.usage.cache_read.input_tokens"] == 2
    expected = (10 * HAIKU_PRICE[0] + 2 * 0.08 + 4 * HAIKU_PRICE[1]) / 1e6
    assert later.attributes["gen_ai.usage.cost"] == pytest.approx(expected)


def test_a_failed_call_of_a_resolved_profile_is_counted_under_the_base_model(
    resolving: Callable[..., tuple[Any, InferenceProfiles | None]], runtime: AwsStub, control: AwsStub
) -> None:
    from botocore.exceptions import ClientError

    kit, profiles = resolving(resolve_inference_profiles=True)
    assert profiles is not None
    control.json(PROFILE_ANSWER)
    runtime.json(CONVERSE_ANSWER)
    runtime.client.converse(modelId=ARN, messages=MESSAGES)
    assert profiles.wait_idle(5)
    runtime.error("ThrottlingException", status=429)
    with pytest.raises(ClientError):
        runtime.client.converse(modelId=ARN, messages=MESSAGES)
    failed = kit.finished()[1]
    assert failed.attributes["gen_ai.request.model"] == ARN
    assert failed.attributes["error.type"] == "ThrottlingException"
    assert metric_models(kit, "gen_ai.client.throttles") == {HAIKU}
    errors = [p for p in kit.points("gen_ai.client.operation.duration") if "error.type" in dict(p.attributes)]
    assert [dict(p.attributes)["gen_ai.request.model"] for p in errors] == [HAIKU]


def test_without_the_setting_no_lookup_is_ever_made(
    resolving: Callable[..., tuple[Any, InferenceProfiles | None]], runtime: AwsStub, control: AwsStub
) -> None:
    kit, profiles = resolving()
    assert profiles is None
    for _ in range(3):
        runtime.json(CONVERSE_ANSWER)
        runtime.client.converse(modelId=ARN, messages=MESSAGES)
    time.sleep(0.05)
    assert control.sent == []
    assert {span.attributes["gen_ai.request.model"] for span in kit.finished()} == {ARN}
    assert metric_models(kit, "gen_ai.client.operation.duration") == {ARN}


@pytest.fixture
def caught(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.WARNING, logger="otel_chatbot"):
        yield caplog


def warnings_about(caplog: pytest.LogCaptureFixture, arn: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if arn in r.getMessage()]


@pytest.mark.parametrize(
    ("code", "status", "wait"),
    [
        ("AccessDeniedException", 403, RETRY_REFUSED_S),
        ("ResourceNotFoundException", 404, RETRY_REFUSED_S),
        ("ThrottlingException", 429, RETRY_TRANSIENT_S),
    ],
)
def test_a_failed_lookup_is_logged_once_and_asked_again_only_after_its_wait(
    code: str,
    status: int,
    wait: float,
    runtime: AwsStub,
    control: AwsStub,
    caught: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    profiles = InferenceProfiles(asking(control), clock=clock)
    control.error(code, status=status)
    assert profiles.model_behind(ARN, runtime.client) is None
    assert profiles.wait_idle(5)
    for _ in range(20):  # calls keep coming: no lookup, no log
        assert profiles.model_behind(ARN, runtime.client) is None
    clock.now += wait - 1
    assert profiles.model_behind(ARN, runtime.client) is None
    assert profiles.wait_idle(5)
    assert looked_up(control) == [ARN]
    (warning,) = warnings_about(caught, ARN)
    assert code in warning
    assert "bedrock:GetInferenceProfile" in warning
    assert "OTEL_CHATBOT_RESOLVE_INFERENCE_PROFILES" in warning

    clock.now += 1  # the wait is over: asked once more, and the same failure is not logged again
    control.error(code, status=status)
    assert profiles.model_behind(ARN, runtime.client) is None
    assert profiles.wait_idle(5)
    assert looked_up(control) == [ARN, ARN]
    assert len(warnings_about(caught, ARN)) == 1

    clock.now += wait  # and a later success is used
    control.json(PROFILE_ANSWER)
    profiles.model_behind(ARN, runtime.client)
    assert profiles.wait_idle(5)
    assert profiles.model_behind(ARN, runtime.client) == HAIKU
    profiles.close()


def test_a_profile_naming_no_single_model_is_logged_once_and_keeps_its_arn(
    runtime: AwsStub, control: AwsStub, caught: pytest.LogCaptureFixture
) -> None:
    profiles = InferenceProfiles(asking(control))
    two = (HAIKU, "amazon.nova-lite-v1:0")
    models = [{"modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{m}"} for m in two]
    control.json({**PROFILE_ANSWER, "models": models})
    profiles.model_behind(ARN, runtime.client)
    assert profiles.wait_idle(5)
    assert profiles.model_behind(ARN, runtime.client) is None
    (warning,) = warnings_about(caught, ARN)
    assert "no single base model" in warning
    assert looked_up(control) == [ARN]
    profiles.close()


def test_an_error_of_our_own_in_the_worker_is_a_failed_lookup(
    runtime: AwsStub, caught: pytest.LogCaptureFixture
) -> None:
    def broken(lookup: ProfileLookup) -> Mapping[str, Any]:
        raise KeyError("surprise")

    profiles = InferenceProfiles(broken)
    profiles.model_behind(ARN, runtime.client)
    assert profiles.wait_idle(5)
    assert profiles.model_behind(ARN, runtime.client) is None
    (warning,) = warnings_about(caught, ARN)
    assert "KeyError" in warning
    profiles.close()


def test_concurrent_calls_of_one_arn_make_one_lookup(runtime: AwsStub, control: AwsStub) -> None:
    gate = threading.Event()
    profiles = InferenceProfiles(asking(control, gate))
    control.json(PROFILE_ANSWER)
    threads = [threading.Thread(target=profiles.model_behind, args=(ARN, runtime.client)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gate.set()
    assert profiles.wait_idle(5)
    assert looked_up(control) == [ARN]
    assert profiles.model_behind(ARN, runtime.client) == HAIKU
    profiles.close()


def test_arns_past_the_limit_are_not_looked_up_and_that_is_said_once(
    runtime: AwsStub, control: AwsStub, caught: pytest.LogCaptureFixture
) -> None:
    profiles = InferenceProfiles(asking(control), max_profiles=1)
    control.json(PROFILE_ANSWER)
    profiles.model_behind(ARN, runtime.client)
    assert profiles.wait_idle(5)
    for _ in range(3):
        assert profiles.model_behind(OTHER_ARN, runtime.client) is None
    assert profiles.wait_idle(5)
    assert looked_up(control) == [ARN]
    notes = [r.getMessage() for r in caught.records if "more than 1 application inference profiles" in r.getMessage()]
    assert len(notes) == 1
    profiles.close()


def test_after_close_nothing_more_is_looked_up(runtime: AwsStub, control: AwsStub) -> None:
    profiles = InferenceProfiles(asking(control))
    control.json(PROFILE_ANSWER)
    profiles.model_behind(ARN, runtime.client)
    assert profiles.wait_idle(5)
    profiles.close()
    assert profiles.model_behind(OTHER_ARN, runtime.client) is None
    assert profiles.wait_idle(1)
    assert looked_up(control) == [ARN]
    assert profiles.model_behind(ARN, runtime.client) == HAIKU  # what is known stays known


def test_the_lookup_takes_the_runtime_clients_region_endpoint_settings_and_credentials() -> None:
    client = boto3.client(
        "bedrock-runtime",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:4566",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        aws_session_token="token",
        config=Config(proxies={"https": "http://proxy:3128"}, read_timeout=99),
    )
    lookup = lookup_for(ARN, client)
    assert (lookup.arn, lookup.region, lookup.endpoint_url) == (ARN, "eu-west-1", "http://127.0.0.1:4566")
    frozen = lookup.credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("AKIDEXAMPLE", "secret", "token")
    assert lookup.client_config == {"proxies": {"https": "http://proxy:3128"}}
    client.close()


@pytest.mark.parametrize(
    ("runtime_config", "control_plane"),
    [
        ({}, "https://bedrock.eu-west-1.amazonaws.com"),
        ({"use_fips_endpoint": True}, "https://bedrock-fips.eu-west-1.amazonaws.com"),
        ({"use_dualstack_endpoint": True}, "https://bedrock.eu-west-1.api.aws"),
    ],
)
def test_a_runtime_client_on_aws_gets_the_control_plane_of_its_region_and_kind(
    runtime_config: dict[str, bool], control_plane: str
) -> None:
    runtime = boto3.client(
        "bedrock-runtime",
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(**runtime_config),
    )
    client = control_plane_client(lookup_for(ARN, runtime))
    assert client.meta.endpoint_url == control_plane
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.retries["total_max_attempts"] == 1
    for made in (client, runtime):
        made.close()


def test_the_lookup_signs_with_the_runtime_clients_keys(control: AwsStub) -> None:
    """The fast path really taken: the control-plane client signs with the app's client's keys, not the chain's."""
    runtime = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url="https://bedrock.us-east-1.amazonaws.test",
        aws_access_key_id="AKIDFROMTHEAPP",
        aws_secret_access_key="secret",
    )
    client = control_plane_client(lookup_for(ARN, runtime))
    with stubbed(client) as stub:
        stub.json(PROFILE_ANSWER)
        client.get_inference_profile(inferenceProfileIdentifier=ARN)
    (request,) = stub.sent
    assert "Credential=AKIDFROMTHEAPP/" in request.headers["Authorization"].decode()
    assert request.url.startswith("https://bedrock.us-east-1.amazonaws.test/inference-profiles/")
    for made in (client, runtime):
        made.close()

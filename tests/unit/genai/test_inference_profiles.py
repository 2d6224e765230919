"""Application inference profile ARNs, GetInferenceProfile answers, and where the control plane is."""

from __future__ import annotations

from typing import Any

import pytest

from otel_chatbot.genai.inference_profiles import (
    control_plane_endpoint,
    endpoint_variants,
    is_application_profile,
    is_transient,
    profile_base_model,
)

ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (ARN, True),
        ("arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/x", True),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku", False),
        (f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}", False),
        (f"us.{HAIKU}", False),
        ("application-inference-profile/a1b2", False),
        (None, False),
        (42, False),
    ],
)
def test_only_application_profile_arns_hide_their_model(model_id: object, expected: bool) -> None:
    assert is_application_profile(model_id) is expected


def _models(*arns: Any) -> dict[str, Any]:
    return {"models": [{"modelArn": arn} for arn in arns], "type": "APPLICATION"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # one region, and a cross-region profile's copy: the same model in each region
        (_models(f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"), HAIKU),
        (
            _models(*(f"arn:aws:bedrock:{r}::foundation-model/{HAIKU}" for r in ("us-east-1", "us-east-2"))),
            HAIKU,
        ),
        # different models: no single cost to take
        (
            _models(
                f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}",
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
            ),
            None,
        ),
        # nothing readable
        ({"models": []}, None),
        ({}, None),
        ({"models": "nope"}, None),
        (_models(None, 7), None),
        (_models("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"), None),
        # an unreadable entry beside a readable one
        (_models(None, f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"), HAIKU),
    ],
)
def test_the_base_model_is_the_one_model_the_answer_names(answer: dict[str, Any], expected: str | None) -> None:
    assert profile_base_model(answer) == expected


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("https://bedrock-runtime.us-east-1.amazonaws.com", None),
        ("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com", None),
        ("https://bedrock-runtime.cn-north-1.amazonaws.com.cn", None),
        ("https://vpce-0abc-runtime.bedrock-runtime.us-east-1.vpce.amazonaws.com", None),
        ("https://bedrock-runtime.us-east-1.api.aws", None),
        ("http://127.0.0.1:4566", "http://127.0.0.1:4566"),
        ("https://llm-proxy.internal:8443/bedrock", "https://llm-proxy.internal:8443/bedrock"),
        (None, None),
        ("", None),
    ],
)
def test_aws_endpoints_let_botocore_choose_the_control_plane_others_are_kept(
    runtime: str | None, expected: str | None
) -> None:
    assert control_plane_endpoint(runtime) == expected


@pytest.mark.parametrize(
    ("error_type", "expected"),
    [
        ("ThrottlingException", True),
        ("InternalServerException", True),
        ("ServiceUnavailableException", True),
        ("EndpointConnectionError", True),
        ("ReadTimeoutError", True),
        ("AccessDeniedException", False),
        ("ResourceNotFoundException", False),
        ("ValidationException", False),
        ("NoCredentialsError", False),
    ],
)
def test_transient_failures_are_told_from_refusals(error_type: str, expected: bool) -> None:
    assert is_transient(error_type) is expected


def variants(fips: bool, dual_stack: bool) -> dict[str, bool]:
    return {"use_fips_endpoint": fips, "use_dualstack_endpoint": dual_stack}


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("https://bedrock-runtime.us-east-1.amazonaws.com", variants(False, False)),
        ("https://bedrock-runtime-fips.us-east-1.amazonaws.com", variants(True, False)),
        ("https://bedrock-runtime.us-east-1.api.aws", variants(False, True)),
        ("https://bedrock-runtime-fips.us-east-1.api.aws", variants(True, True)),
        ("http://127.0.0.1:4566", {}),
        (None, {}),
    ],
)
def test_the_runtime_endpoints_fips_and_dual_stack_choice_is_kept(
    runtime: str | None, expected: dict[str, bool]
) -> None:
    assert endpoint_variants(runtime) == expected

from __future__ import annotations

import pytest

from otel_chatbot.genai.models import base_model_id, model_family

FAMILY_CASES = [
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic"),
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic"),
    ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic"),
    ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"),
    ("us-gov.anthropic.claude-3-haiku-20240307-v1:0", "anthropic"),
    ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"),
    ("au.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic"),
    ("amazon.nova-pro-v1:0", "amazon-nova"),
    ("us.amazon.nova-lite-v1:0", "amazon-nova"),
    ("amazon.titan-text-express-v1", "amazon-titan"),
    ("amazon.titan-embed-text-v2:0", "amazon-titan"),
    ("meta.llama3-70b-instruct-v1:0", "meta"),
    ("us.meta.llama3-3-70b-instruct-v1:0", "meta"),
    ("cohere.command-r-plus-v1:0", "cohere"),
    ("mistral.mistral-large-2407-v1:0", "mistral"),
    ("ai21.jamba-1-5-large-v1:0", "ai21"),
    ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", "anthropic"),
    (
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-3b-instruct-v1:0",
        "meta",
    ),
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6", "unknown"),
    ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefgh", "unknown"),
    ("deepseek.r1-v1:0", "unknown"),
    ("us.deepseek.r1-v1:0", "unknown"),
    ("openai.gpt-oss-120b-1:0", "unknown"),
    ("amazon.rerank-v1:0", "unknown"),
    ("", "unknown"),
    ("not a model", "unknown"),
]


@pytest.mark.parametrize(("model_id", "family"), FAMILY_CASES)
def test_model_family(model_id: str, family: str) -> None:
    assert model_family(model_id) == family


def test_model_family_survives_non_strings() -> None:
    assert model_family(None) == "unknown"  # type: ignore[arg-type]
    assert model_family(42) == "unknown"  # type: ignore[arg-type]


BASE_CASES = [
    ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("us.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("global.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("us-gov.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
    # An unlisted future geography is still stripped when a provider follows.
    ("xx.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
    (
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-micro-v1:0",
        "amazon.nova-micro-v1:0",
    ),
    (
        "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-micro-v1:0",
        "amazon.nova-micro-v1:0",
    ),
    (
        "arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:inference-profile/us-gov.meta.llama3-8b-instruct-v1:0",
        "meta.llama3-8b-instruct-v1:0",
    ),
    ("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", None),
    ("arn:aws:s3:::bucket/key", None),
    ("", None),
]


@pytest.mark.parametrize(("model_id", "base"), BASE_CASES)
def test_base_model_id(model_id: str, base: str | None) -> None:
    assert base_model_id(model_id) == base

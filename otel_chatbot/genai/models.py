"""Bedrock model identifiers: which family a model belongs to, and its base model id.

A chatbot rarely passes a bare foundation-model id. It passes cross-region inference
profiles (``us.anthropic...``, ``global.anthropic...``) or ARNs, and both the body
format and the price depend on the model underneath, so everything keys off
:func:`base_model_id`.
"""

from __future__ import annotations

import re
from typing import Final

ANTHROPIC: Final = "anthropic"
AMAZON_NOVA: Final = "amazon-nova"
AMAZON_TITAN: Final = "amazon-titan"
META: Final = "meta"
COHERE: Final = "cohere"
MISTRAL: Final = "mistral"
AI21: Final = "ai21"
UNKNOWN: Final = "unknown"

FAMILIES: Final = (ANTHROPIC, AMAZON_NOVA, AMAZON_TITAN, META, COHERE, MISTRAL, AI21)
"""Every family :func:`model_family` can return besides ``unknown``."""

# Model providers as they appear as the first segment of a Bedrock model id.
_PROVIDERS: Final = frozenset(
    {
        "ai21",
        "amazon",
        "anthropic",
        "cohere",
        "deepseek",
        "google",
        "luma",
        "meta",
        "minimax",
        "mistral",
        "moonshot",
        "moonshotai",
        "nvidia",
        "openai",
        "qwen",
        "stability",
        "twelvelabs",
        "writer",
    }
)

# Geography prefixes of system-defined cross-region inference profiles. Unlisted
# prefixes are still stripped when the next segment is a known provider.
_PROFILE_PREFIXES: Final = frozenset(
    {"us", "eu", "apac", "global", "us-gov", "jp", "au", "ca", "ap", "sa", "me", "af", "in", "mx"}
)

_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:"
    r"(?P<kind>foundation-model|inference-profile|application-inference-profile|"
    r"provisioned-model|custom-model|imported-model|model-copy-job|marketplace/model-endpoint|"
    r"default-prompt-router|prompt-router)/(?P<resource>.+)$"
)

# ARN kinds whose resource part is (or contains) a readable model id.
_MODEL_BEARING_ARNS: Final = frozenset({"foundation-model", "inference-profile", "custom-model"})


def _strip_profile_prefix(model_id: str) -> str:
    head, dot, rest = model_id.partition(".")
    if not dot:
        return model_id
    next_segment = rest.partition(".")[0]
    if head in _PROFILE_PREFIXES and next_segment in _PROVIDERS:
        return rest
    if head not in _PROVIDERS and next_segment in _PROVIDERS:
        return rest
    return model_id


def base_model_id(model_id: str) -> str | None:
    """The foundation-model id behind ``model_id``, or ``None`` if it cannot be seen.

    ``us.anthropic.claude-sonnet-4-20250514-v1:0`` and
    ``arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-...`` both give
    ``anthropic.claude-sonnet-4-20250514-v1:0``. Application inference profiles,
    provisioned models and imported models hide the model behind an opaque id, so they
    give ``None`` (the price table resolves them through user-supplied aliases).
    """
    if not isinstance(model_id, str):
        return None
    model_id = model_id.strip()
    if not model_id:
        return None
    match = _ARN.match(model_id)
    if match:
        if match["kind"] not in _MODEL_BEARING_ARNS:
            return None
        resource = match["resource"]
        if match["kind"] == "custom-model":
            # custom-model/<base model id>/<custom model id>
            resource = resource.rsplit("/", 1)[0] if "/" in resource else ""
        model_id = resource
        if not model_id:
            return None
    elif model_id.startswith("arn:"):
        return None
    return _strip_profile_prefix(model_id)


def model_family(model_id: str) -> str:
    """Which request/response body format ``model_id`` speaks on InvokeModel.

    One of :data:`FAMILIES` or ``"unknown"``; never raises.
    """
    base = base_model_id(model_id) if isinstance(model_id, str) else None
    if not base:
        return UNKNOWN
    provider, _, name = base.partition(".")
    if provider == "anthropic":
        return ANTHROPIC
    if provider == "amazon":
        if name.startswith("nova"):
            return AMAZON_NOVA
        if name.startswith("titan"):
            return AMAZON_TITAN
        return UNKNOWN
    if provider in (META, COHERE, MISTRAL, AI21):
        return provider
    return UNKNOWN

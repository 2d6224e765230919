"""ApplyGuardrail with deterministic verdicts.

Instrumentation needs both outcomes to test against: text containing an e-mail address is
anonymized (sensitive information policy) and text containing one of ``BLOCKED_WORDS`` is
blocked (word policy); anything else passes with action ``NONE``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from otel_chatbot.testing.bedrock.errors import validation

JsonObject = dict[str, Any]

BLOCKED_WORDS = frozenset({"forbidden", "blockme"})
BLOCKED_MESSAGE = "Sorry, the model cannot answer this question."
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_UNITS_PER_CHARS = 1000


def _texts(body: Mapping[str, Any]) -> list[str]:
    content = body.get("content")
    if body.get("source") not in ("INPUT", "OUTPUT") or not isinstance(content, list):
        raise validation("source must be INPUT or OUTPUT and content a list of blocks")
    texts = []
    for block in content:
        text = (block.get("text") or {}).get("text") if isinstance(block, dict) else None
        if isinstance(text, str):
            texts.append(text)
    return texts


def apply_guardrail_body(body: Mapping[str, Any]) -> JsonObject:
    """The ApplyGuardrail response for a request body."""
    texts = _texts(body)
    joined = " ".join(texts)
    units = sum(max(1, math.ceil(len(text) / _UNITS_PER_CHARS)) for text in texts)
    usage = {
        "topicPolicyUnits": 0,
        "contentPolicyUnits": units,
        "wordPolicyUnits": units,
        "sensitiveInformationPolicyUnits": units,
        "sensitiveInformationPolicyFreeUnits": 0,
        "contextualGroundingPolicyUnits": 0,
    }
    words = {word.strip(".,!?;:").lower() for word in joined.split()}
    blocked = sorted(words & BLOCKED_WORDS)
    emails = _EMAIL.findall(joined)
    assessment: JsonObject = {}
    outputs: list[JsonObject] = []
    action = "NONE"
    if blocked:
        action = "GUARDRAIL_INTERVENED"
        assessment["wordPolicy"] = {
            "customWords": [{"match": word, "action": "BLOCKED"} for word in blocked],
            "managedWordLists": [],
        }
        outputs = [{"text": BLOCKED_MESSAGE}]
    elif emails:
        action = "GUARDRAIL_INTERVENED"
        assessment["sensitiveInformationPolicy"] = {
            "piiEntities": [{"match": email, "type": "EMAIL", "action": "ANONYMIZED"} for email in emails],
            "regexes": [],
        }
        outputs = [{"text": _EMAIL.sub("{EMAIL}", text)} for text in texts]
    reason = {"NONE": "No action.", "GUARDRAIL_INTERVENED": "Guardrail blocked."}[action]
    if action != "NONE" and not blocked:
        reason = "Guardrail masked."
    return {
        "usage": usage,
        "action": action,
        "actionReason": reason,
        "outputs": outputs,
        "assessments": [assessment] if assessment else [],
        "guardrailCoverage": {"textCharacters": {"guarded": len(joined), "total": len(joined)}},
    }

"""The faults the scripted load injects on cue, through the provider stand-ins' control APIs.

A failover turn throttles the app's default Bedrock model once: the app asks its first
candidate without client retries, so that one throttle is exactly one chain that switches.
An exhausted turn also throttles every call the app makes to the fallback (its first
attempt and its client's retries), with a short ``retry-after`` so the retries come fast.
Both stand-ins answer ``POST /__control/faults`` (see their READMEs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otel_chatbot.demo.chatbot.load_plan import FAILOVER, Fault

RETRY_AFTER_S = 0.01


@dataclass(frozen=True)
class FaultTargets:
    """Where the load injects faults, and the models and calls they are aimed at."""

    bedrock_url: str
    """The Bedrock stand-in (``otel_chatbot.testing.bedrock``)."""
    bedrock_model: str
    """The app's default model."""
    fallback_url: str
    """The OpenAI-compatible stand-in the app fails over to (``otel_chatbot.testing.openai``)."""
    fallback_model: str
    fallback_attempts: int
    """Calls the app makes to its last candidate: 1 + its client's retries."""
    fallback_path: str = "/v1/chat/completions"

    def requests(self, fault: Fault) -> list[tuple[str, dict[str, Any]]]:
        """(control URL, fault body) to post before the step, in order."""
        throttle = {"fault": "throttle", "count": 1, "operation": "Converse", "model": self.bedrock_model}
        posts = [(f"{self.bedrock_url.rstrip('/')}/__control/faults", throttle)]
        if fault != FAILOVER:
            rate_limit = {
                "fault": "rate_limit",
                "count": self.fallback_attempts,
                "model": self.fallback_model,
                "path": self.fallback_path,
                "retry_after_s": RETRY_AFTER_S,
            }
            posts.append((f"{self.fallback_url.rstrip('/')}/__control/faults", rate_limit))
        return posts

"""Map REST paths to Bedrock operations, exactly as botocore's service models build them.

One server answers both ``bedrock-runtime`` and ``bedrock-agent-runtime``: their paths do
not overlap. Path labels are percent-decoded one segment at a time, because botocore
encodes ``:`` and ``/`` inside model ids and ARNs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

CONVERSE = "Converse"
CONVERSE_STREAM = "ConverseStream"
INVOKE_MODEL = "InvokeModel"
INVOKE_MODEL_STREAM = "InvokeModelWithResponseStream"
APPLY_GUARDRAIL = "ApplyGuardrail"
INVOKE_AGENT = "InvokeAgent"
RETRIEVE = "Retrieve"
RETRIEVE_AND_GENERATE = "RetrieveAndGenerate"

STREAMING_OPERATIONS = frozenset({CONVERSE_STREAM, INVOKE_MODEL_STREAM, INVOKE_AGENT})
OPERATIONS = frozenset(
    {
        CONVERSE,
        CONVERSE_STREAM,
        INVOKE_MODEL,
        INVOKE_MODEL_STREAM,
        APPLY_GUARDRAIL,
        INVOKE_AGENT,
        RETRIEVE,
        RETRIEVE_AND_GENERATE,
    }
)

# (operation, path template); "{name}" segments are labels.
_TEMPLATES: tuple[tuple[str, str], ...] = (
    (CONVERSE, "/model/{modelId}/converse"),
    (CONVERSE_STREAM, "/model/{modelId}/converse-stream"),
    (INVOKE_MODEL, "/model/{modelId}/invoke"),
    (INVOKE_MODEL_STREAM, "/model/{modelId}/invoke-with-response-stream"),
    (APPLY_GUARDRAIL, "/guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply"),
    (INVOKE_AGENT, "/agents/{agentId}/agentAliases/{agentAliasId}/sessions/{sessionId}/text"),
    (RETRIEVE, "/knowledgebases/{knowledgeBaseId}/retrieve"),
    (RETRIEVE_AND_GENERATE, "/retrieveAndGenerate"),
)
_SPLIT_TEMPLATES = tuple((operation, template.split("/")) for operation, template in _TEMPLATES)


@dataclass(frozen=True)
class Route:
    """A matched operation and its decoded path labels."""

    operation: str
    params: dict[str, str]

    @property
    def streaming(self) -> bool:
        return self.operation in STREAMING_OPERATIONS


def path_segments(target: str) -> list[str]:
    """Raw (still percent-encoded) path segments of a request target."""
    return urlsplit(target).path.split("/")


def match(target: str) -> Route | None:
    """The POST operation a request target addresses, if any."""
    segments = path_segments(target)
    for operation, template in _SPLIT_TEMPLATES:
        if len(template) != len(segments):
            continue
        params: dict[str, str] = {}
        for expected, actual in zip(template, segments, strict=True):
            if expected.startswith("{"):
                if not actual:
                    break
                params[expected[1:-1]] = unquote(actual)
            elif expected != actual:
                break
        else:
            return Route(operation, params)
    return None

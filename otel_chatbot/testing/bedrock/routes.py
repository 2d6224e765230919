"""Map REST paths to Bedrock operations, exactly as botocore's service models build them.

One server answers ``bedrock-runtime``, ``bedrock-agent-runtime`` and the one operation of the
``bedrock`` control plane a chatbot's telemetry needs (``GetInferenceProfile``): their paths do
not overlap. Path labels are percent-decoded one segment at a time, because botocore
encodes ``:`` and ``/`` inside model ids and ARNs.
"""

from __future__ import annotations

from dataclasses import dataclass

from otel_chatbot.testing.standin.routes import RouteTable

CONVERSE = "Converse"
CONVERSE_STREAM = "ConverseStream"
INVOKE_MODEL = "InvokeModel"
INVOKE_MODEL_STREAM = "InvokeModelWithResponseStream"
APPLY_GUARDRAIL = "ApplyGuardrail"
INVOKE_AGENT = "InvokeAgent"
RETRIEVE = "Retrieve"
RETRIEVE_AND_GENERATE = "RetrieveAndGenerate"
GET_INFERENCE_PROFILE = "GetInferenceProfile"

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
        GET_INFERENCE_PROFILE,
    }
)
CONTROL_PLANE_OPERATIONS = frozenset({GET_INFERENCE_PROFILE})

# (method, path template, operation); "{name}" segments are labels.
_ROUTES = RouteTable(
    [
        ("POST", "/model/{modelId}/converse", CONVERSE),
        ("POST", "/model/{modelId}/converse-stream", CONVERSE_STREAM),
        ("POST", "/model/{modelId}/invoke", INVOKE_MODEL),
        ("POST", "/model/{modelId}/invoke-with-response-stream", INVOKE_MODEL_STREAM),
        ("POST", "/guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply", APPLY_GUARDRAIL),
        ("POST", "/agents/{agentId}/agentAliases/{agentAliasId}/sessions/{sessionId}/text", INVOKE_AGENT),
        ("POST", "/knowledgebases/{knowledgeBaseId}/retrieve", RETRIEVE),
        ("POST", "/retrieveAndGenerate", RETRIEVE_AND_GENERATE),
        ("GET", "/inference-profiles/{inferenceProfileIdentifier}", GET_INFERENCE_PROFILE),
    ]
)


@dataclass(frozen=True)
class Route:
    """A matched operation and its decoded path labels."""

    operation: str
    params: dict[str, str]

    @property
    def streaming(self) -> bool:
        return self.operation in STREAMING_OPERATIONS

    @property
    def control_plane(self) -> bool:
        return self.operation in CONTROL_PLANE_OPERATIONS


def match(method: str, target: str) -> Route | None:
    """The operation a request (method and target) addresses, if any."""
    found = _ROUTES.match(method, target)
    return None if found is None else Route(*found)

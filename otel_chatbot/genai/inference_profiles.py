"""Bedrock application inference profiles: recognising their ARNs and reading the model behind one.

An application inference profile
(``arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>``) is a
user-made alias of one model, created to tag calls for cost allocation (often one per
tenant or team). Its id is opaque, so :func:`~.models.base_model_id` cannot see the
model: only the control plane's ``GetInferenceProfile`` names it, in ``models[].modelArn``
(one foundation-model ARN per region the profile routes to, all of the same model).

Pure functions of what the SDK hands back; the wiring that calls the control plane, off
the request path, is :mod:`otel_chatbot.instrumentation.bedrock.profiles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from ._coerce import as_dict, as_list, as_str
from .bedrock import is_throttling
from .models import base_model_id

_APPLICATION_PROFILE: Final = ":application-inference-profile/"

# Hosts of AWS's own endpoints: a runtime client aimed at one of these lets botocore
# choose the control plane's endpoint too (its region, FIPS and dual-stack settings).
_AWS_HOST_SUFFIXES: Final = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")

# Failures worth trying again after a short wait; anything else (access denied, not found,
# a profile naming no single model) waits the long one.
_TRANSIENT_ERRORS: Final = frozenset(
    {
        "InternalServerException",
        "ServiceUnavailableException",
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }
)


def is_application_profile(model_id: object) -> bool:
    """Whether ``model_id`` is an application inference profile ARN (the only profiles whose model is hidden)."""
    return isinstance(model_id, str) and model_id.startswith("arn:") and _APPLICATION_PROFILE in model_id


def profile_base_model(answer: Mapping[str, Any]) -> str | None:
    """The one base model a ``GetInferenceProfile`` answer names, or None.

    None when no ``models[].modelArn`` can be read, or when they name different models
    (no profile Bedrock creates does; a cost guessed from one of them would be wrong).
    """
    bases = {base_model_id(as_str(as_dict(model).get("modelArn")) or "") for model in as_list(answer.get("models"))}
    bases.discard(None)
    return bases.pop() if len(bases) == 1 else None


def control_plane_endpoint(runtime_endpoint: str | None) -> str | None:
    """The ``endpoint_url`` of the control-plane client that resolves a runtime client's profiles.

    None (botocore picks ``bedrock.<region>...``) when the runtime client talks to AWS's
    own endpoint; the same URL when it was aimed elsewhere (a proxy, LocalStack, the local
    stand-in), which then has to answer both planes. A VPC endpoint of the runtime is an
    AWS host, so the lookup goes to the public control plane; where that is unreachable
    the lookup fails, is logged once and the ARN stays the model.
    """
    if not runtime_endpoint:
        return None
    host = (urlsplit(runtime_endpoint).hostname or "").lower()
    if host.endswith(_AWS_HOST_SUFFIXES):
        return None
    return runtime_endpoint


def endpoint_variants(runtime_endpoint: str | None) -> dict[str, bool]:
    """The FIPS / dual-stack choice a runtime client on AWS's endpoint made, for its control-plane twin.

    botocore folds ``use_fips_endpoint`` / ``use_dualstack_endpoint`` into the endpoint it
    resolves, so they are read back from the host (``bedrock-runtime-fips.``, ``.api.aws``).
    Empty for any other endpoint: it is used as it is.
    """
    host = (urlsplit(runtime_endpoint or "").hostname or "").lower()
    if not host.endswith(_AWS_HOST_SUFFIXES):
        return {}
    return {"use_fips_endpoint": "-fips." in host, "use_dualstack_endpoint": host.endswith(".api.aws")}


def is_transient(error_type: str) -> bool:
    """Whether a failed lookup is worth retrying soon: throttled, a server fault, or no connection."""
    return is_throttling(error_type) or error_type in _TRANSIENT_ERRORS

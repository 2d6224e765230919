"""Inference profiles on the stand-in: application profiles a test registers, system-defined ones by prefix.

Bedrock's control plane answers ``GetInferenceProfile`` (``GET /inference-profiles/{id}``)
with the profile's ``models[].modelArn``; its runtime accepts an application profile's ARN
as ``modelId`` and runs the model behind it. A test registers application profiles with
:meth:`InferenceProfiles.create` (or ``POST /__control/inference-profiles``) and reads how
often each one was looked up (:meth:`InferenceProfiles.lookups`), to prove a lookup
happened once, or never.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from otel_chatbot.testing.bedrock.errors import ApiError
from otel_chatbot.testing.bedrock.families import parse_model_id

APPLICATION = "APPLICATION"
SYSTEM_DEFINED = "SYSTEM_DEFINED"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"

# The regions a system-defined (cross-region) profile of each geography routes to, as Bedrock lists them.
SYSTEM_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-west-1", "eu-west-3"),
    "apac": ("ap-northeast-1", "ap-southeast-1", "ap-southeast-2"),
    "global": ("us-east-1", "eu-west-1", "ap-northeast-1"),
}
_NAME = re.compile(r"^([0-9a-zA-Z][ _-]?)+$")
_CREATED = datetime(2025, 1, 1, tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def foundation_model_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


@dataclass(frozen=True)
class ApplicationProfile:
    """One registered application inference profile."""

    arn: str
    profile_id: str
    name: str
    model_id: str
    regions: tuple[str, ...]

    def answer(self) -> dict[str, Any]:
        """``GetInferenceProfile``'s body for this profile."""
        return _answer(self.name, self.arn, self.profile_id, APPLICATION, self.model_id, self.regions)


def _answer(name: str, arn: str, profile_id: str, kind: str, model_id: str, regions: tuple[str, ...]) -> dict[str, Any]:
    return {
        "inferenceProfileName": name,
        "inferenceProfileArn": arn,
        "inferenceProfileId": profile_id,
        "models": [{"modelArn": foundation_model_arn(region, model_id)} for region in regions],
        "status": "ACTIVE",
        "type": kind,
        "createdAt": _CREATED,
        "updatedAt": _CREATED,
    }


class InferenceProfiles:
    """The application profiles a test registered, and how often each identifier was looked up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._profiles: dict[str, ApplicationProfile] = {}
        self._lookups: Counter[str] = Counter()

    def create(
        self,
        name: str,
        model_id: str,
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        regions: tuple[str, ...] | None = None,
    ) -> ApplicationProfile:
        """Register an application profile of ``model_id`` (a base model or a system profile id, as ``copyFrom``).

        A system profile id (``us.anthropic...``) routes to its geography's regions, a
        base model to ``region`` only, unless ``regions`` says otherwise. The profile's
        ARN is what an app passes as ``modelId``.
        """
        if not isinstance(name, str) or not _NAME.match(name) or len(name) > 64:
            raise ValueError(f"invalid inference profile name {name!r}")
        model = parse_model_id(model_id) if isinstance(model_id, str) else None
        if model is None or model_id.startswith("arn:"):
            raise ValueError(f"unknown model id {model_id!r}")
        base_id = f"{model.provider}.{model.name}"
        prefix = model_id.split(".", 1)[0]
        if regions is None:
            regions = SYSTEM_REGIONS.get(prefix, (region,))
        profile_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{account}/{region}/{name}").hex[:12]
        arn = f"arn:aws:bedrock:{region}:{account}:application-inference-profile/{profile_id}"
        profile = ApplicationProfile(arn, profile_id, name, base_id, tuple(regions))
        with self._lock:
            self._profiles[arn] = profile
        return profile

    def model_behind(self, model_id: str) -> str | None:
        """The base model of a registered application profile ARN; None for anything else."""
        with self._lock:
            profile = self._profiles.get(model_id)
        return profile.model_id if profile is not None else None

    def get(self, identifier: str) -> dict[str, Any]:
        """``GetInferenceProfile``: a registered application profile (by ARN or id) or a system profile id.

        An unknown profile raises the :class:`ApiError` Bedrock answers with (ResourceNotFoundException).
        """
        with self._lock:
            found = self._profiles.get(identifier) or next(
                (p for p in self._profiles.values() if p.profile_id == identifier), None
            )
        if found is not None:
            return found.answer()
        profile_id = identifier.rsplit("/", 1)[-1] if identifier.startswith("arn:") else identifier
        prefix = profile_id.split(".", 1)[0]
        model = parse_model_id(profile_id)
        if prefix not in SYSTEM_REGIONS or model is None or ":application-inference-profile/" in identifier:
            raise ApiError("ResourceNotFoundException", f"Inference profile {identifier} not found.")
        regions = SYSTEM_REGIONS[prefix]
        arn = f"arn:aws:bedrock:{regions[0]}:{DEFAULT_ACCOUNT}:inference-profile/{profile_id}"
        name = f"{prefix.upper()} {model.name}"
        return _answer(name, arn, profile_id, SYSTEM_DEFINED, f"{model.provider}.{model.name}", regions)

    def note_lookup(self, identifier: str) -> None:
        """Count a ``GetInferenceProfile`` request, before any fault or answer."""
        with self._lock:
            self._lookups[identifier] += 1

    def lookups(self, identifier: str | None = None) -> int:
        """``GetInferenceProfile`` calls for ``identifier`` (all of them when None), faulted ones included."""
        with self._lock:
            return self._lookups[identifier] if identifier is not None else sum(self._lookups.values())

    def snapshot(self) -> dict[str, Any]:
        """JSON form, as ``GET /__control/inference-profiles`` returns it."""
        with self._lock:
            return {
                "profiles": [
                    {"inferenceProfileArn": p.arn, "name": p.name, "model": p.model_id, "regions": list(p.regions)}
                    for p in self._profiles.values()
                ],
                "lookups": dict(self._lookups),
            }

    def clear(self) -> None:
        with self._lock:
            self._profiles.clear()
            self._lookups.clear()

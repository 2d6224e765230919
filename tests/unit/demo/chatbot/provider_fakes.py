"""A scripted provider for the app's and the service's unit tests: no SDK, no server.

The real providers run against the stand-ins in tests/e2e/demo/test_providers_e2e.py; here only
the service's and the routes' own logic is under test, so a provider answers from a script:
canned text, and per model a queue of errors to raise (its "client's" errors, which its
``translate`` turns into the API's, as the real ones do).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from otel_chatbot.demo.chatbot.providers import Completion, Delta, Prompt, ProviderError


class ClientFailure(Exception):
    """What the fake provider's "client" raises: a code and an HTTP-like status."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass
class FakeProvider:
    name: str = "bedrock"
    system: str = "aws.bedrock"
    model: str = "model-a"
    failures: dict[str, list[ClientFailure]] = field(default_factory=dict)
    fail_mid_stream: ClientFailure | None = None
    calls: list[tuple[str, bool]] = field(default_factory=list)
    """(model, fail_fast) of every call."""
    prompts: list[Prompt] = field(default_factory=list)

    def fail(self, model: str, *codes: tuple[str, int]) -> None:
        self.failures.setdefault(model, []).extend(ClientFailure(code, status) for code, status in codes)

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def _call(self, model: str, prompt: Prompt, fail_fast: bool) -> None:
        self.calls.append((model, fail_fast))
        self.prompts.append(prompt)
        queue = self.failures.get(model)
        if queue:
            raise queue.pop(0)

    async def complete(self, model: str, prompt: Prompt, *, fail_fast: bool = False) -> Completion:
        self._call(model, prompt, fail_fast)
        return Completion(f"{self.name}/{model}: {prompt.turns[-1].text}", "end_turn", 10 * len(prompt.turns), 3)

    async def stream(self, model: str, prompt: Prompt) -> AsyncGenerator[Delta, None]:
        self._call(model, prompt, False)
        yield Delta(text="Hel")
        if self.fail_mid_stream is not None:
            raise self.fail_mid_stream
        yield Delta(text="lo")
        yield Delta(stop_reason="end_turn")
        yield Delta(input_tokens=7, output_tokens=2)

    def translate(self, error: BaseException) -> ProviderError | None:
        if isinstance(error, ClientFailure):
            return ProviderError(error.code, f"{self.name} said {error.code}", error.status)
        return None

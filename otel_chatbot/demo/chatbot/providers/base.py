"""What every provider of the example chatbot speaks: a prompt in, a completion or deltas out.

The app talks to Bedrock, OpenAI(-compatible), Anthropic and Ollama through each one's own
client; this module is the small surface the service sees. A provider raises its client's
own exceptions, so the distro's helpers record the provider's error type (``RateLimitError``,
``ThrottlingException``) on failover attempts; :meth:`ChatProvider.translate` turns one into
the :class:`ProviderError` the API answers with.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from typing_extensions import Self

from otel_chatbot.demo.chatbot.schemas import Turn

MAX_TOKENS = 512
TEMPERATURE = 0.5


class ProviderError(Exception):
    """A provider's failure, already translated into what the API should answer."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Prompt:
    """A turn to answer: the system prompt, optional long context worth caching, the conversation."""

    system: str
    turns: Sequence[Turn]
    """Past turns, then the new user turn (last)."""
    context: str | None = None
    """A long fixed text after the system prompt (the handbook); providers mark it cacheable."""


@dataclass(frozen=True)
class Completion:
    text: str
    stop_reason: str | None
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Delta:
    """One piece of a streamed answer: text, or the closing stop reason / usage."""

    text: str = ""
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class ChatProvider(Protocol):
    """One provider: its clients are created in :meth:`start` (after ``configure()`` patched them)."""

    name: str
    """The setting's value: ``bedrock``, ``openai``, ``anthropic``, ``ollama``."""
    system: str
    """``gen_ai.provider.name`` of its calls (``aws.bedrock`` ...), what failover attempts are named by."""
    model: str
    """The model a turn gets when it names none."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def complete(self, model: str, prompt: Prompt, *, fail_fast: bool = False) -> Completion:
        """One answer; ``fail_fast``: no client retries (a failover chain has a next candidate)."""
        ...

    def stream(self, model: str, prompt: Prompt) -> AsyncGenerator[Delta, None]:
        """Deltas of one streamed answer; closing the iterator early closes the provider's stream."""
        ...

    def translate(self, error: BaseException) -> ProviderError | None:
        """The API's answer to one of this provider's client errors; ``None``: not one of them."""
        ...


def status_of_http(status: int) -> int:
    """What the API answers for a provider's HTTP status: its own client errors, else a gateway error.

    Throttling stays 429 and overload (Anthropic's 529 too) 503: the two a failover acts on.
    """
    if status in (400, 404, 429):
        return status
    if status in (401, 403):
        return 403
    if status in (503, 529):
        return 503
    return 502


@contextmanager
def translated(translate: Callable[[BaseException], ProviderError | None]) -> Iterator[None]:
    """Re-raise a provider client's error as the API's :class:`ProviderError` (``from`` the original)."""
    try:
        yield
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from exc


class RetryingClient(Protocol):
    """What the ``openai`` and ``anthropic`` SDK clients share: a copy with other retries, ``close()``."""

    def with_options(self, *, max_retries: int) -> Self: ...

    async def close(self) -> None: ...


C = TypeVar("C", bound=RetryingClient)


class ClientPair(Generic[C]):
    """An SDK client and its fail-fast copy (no retries, the same connection pool), made at start-up."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._usual: C | None = None
        self._fail_fast: C | None = None

    def open(self, client: C) -> None:
        self._usual, self._fail_fast = client, client.with_options(max_retries=0)

    def get(self, fail_fast: bool = False) -> C:
        client = self._fail_fast if fail_fast else self._usual
        if client is None:
            raise RuntimeError(f"the {self.provider} provider is not started (the app's lifespan starts it)")
        return client

    async def close(self) -> None:
        if self._usual is not None:
            await self._usual.close()

"""Copy providers: a registry of writers that stream text for a generation request.

A provider turns a `GenerationRequest` and a variant number into a generator of text
chunks whose return value is the token `Usage`. `Stream` wraps that generator for a
caller (the page hands it to st.write_stream, the CLI joins it): it times the first
chunk and the whole run and, once exhausted, holds the finished `Draft`.

Built-ins: `template` (offline, deterministic) and `openai` (any OpenAI-compatible
server, in core.copy.openai_provider). Add one with `register(ProviderSpec(...))`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from core.config import LlmSettings
from core.copy import template_writer
from core.copy.content_types import ContentType
from core.copy.grounding import NO_AUDIENCE, Audience, ProductFacts
from core.copy.prompts import PromptInput
from core.copy.voices import BrandVoice, neutral_voice
from core.errors import UserInputError

MAX_VARIANTS = 10


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one generation used; `estimated` when counted by Beacon, not the server."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything a provider needs to write copy."""

    content_type: ContentType
    product: ProductFacts | None
    audience: Audience = NO_AUDIENCE
    voice: BrandVoice = field(default_factory=neutral_voice)
    keyword: str = ""
    notes: str = ""
    variants: int = 1
    prompt_template: str | None = None
    copy_template: str | None = None
    temperature: float = 0.8

    def __post_init__(self) -> None:
        if not 1 <= self.variants <= MAX_VARIANTS:
            raise UserInputError(f"Ask for 1-{MAX_VARIANTS} variants, not {self.variants}.")
        if not 0 <= self.temperature <= 2:
            raise UserInputError("Temperature must be between 0 and 2.")
        if len(self.keyword) > 100 or len(self.notes) > 2000:
            raise UserInputError("Keep the keyword under 100 and the notes under 2,000 characters.")

    def prompt_input(self) -> PromptInput:
        return PromptInput(
            content_type=self.content_type,
            product=self.product,
            audience=self.audience,
            voice=self.voice,
            keyword=self.keyword,
            notes=self.notes,
            variants=self.variants,
            prompt_template=self.prompt_template,
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """One finished variant and what it cost."""

    index: int
    text: str
    provider: str
    model: str
    usage: Usage
    cost_usd: float | None
    seconds: float
    first_token_seconds: float | None

    @property
    def from_template(self) -> bool:
        return self.provider == "template"


class Provider(Protocol):
    """A copy writer; `stream` yields text chunks and returns the token usage."""

    name: str
    model: str

    def stream(self, request: GenerationRequest, variant: int) -> Generator[str, None, Usage]: ...


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """A registered provider: its name, label, whether it works offline, how to build it."""

    name: str
    label: str
    offline: bool
    factory: Callable[[LlmSettings, str], Provider]
    # Why the provider cannot run with these settings, or None when it can.
    unavailable: Callable[[LlmSettings, str], str | None] = lambda settings, model: None


PROVIDERS: dict[str, ProviderSpec] = {}


def register(spec: ProviderSpec) -> ProviderSpec:
    """Add a provider to the registry (built-ins and extensions alike)."""
    PROVIDERS[spec.name] = spec
    return spec


def spec(name: str) -> ProviderSpec:
    """The registered provider `name`, or a UserInputError naming the choices."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UserInputError(
            f"Unknown copy provider {name!r}: choose {', '.join(PROVIDERS)}."
        ) from None


class Stream:
    """Text chunks of one variant as they arrive; `draft` is set once the stream is used up."""

    def __init__(
        self,
        chunks: Generator[str, None, Usage],
        *,
        index: int,
        provider: str,
        model: str,
        cost: Callable[[Usage], float | None] = lambda usage: None,
        on_done: Callable[[Draft | None, BaseException | None], None] | None = None,
    ) -> None:
        self._chunks = chunks
        self._index, self._provider, self._model = index, provider, model
        self._cost, self._on_done = cost, on_done
        self._used = False
        self.draft: Draft | None = None

    @property
    def index(self) -> int:
        """The variant number, from 0."""
        return self._index

    def __iter__(self) -> Iterator[str]:
        if self._used:
            raise RuntimeError("a generation stream can be read only once")
        self._used = True
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        failure: BaseException | None = None
        try:
            while True:
                try:
                    chunk = next(self._chunks)
                except StopIteration as stop:
                    usage = stop.value or Usage()
                    break
                if chunk:
                    if first is None:
                        first = time.perf_counter() - started
                    parts.append(chunk)
                    yield chunk
            text = "".join(parts).strip()
            self.draft = Draft(
                index=self._index,
                text=text,
                provider=self._provider,
                model=self._model,
                usage=usage,
                cost_usd=self._cost(usage),
                seconds=time.perf_counter() - started,
                first_token_seconds=first,
            )
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._chunks.close()
            if self._on_done is not None and (self.draft is not None or failure is not None):
                self._on_done(self.draft, failure if self.draft is None else None)

    def text(self) -> str:
        """Read the whole stream and return the finished text."""
        for _ in self:
            pass
        assert self.draft is not None
        return self.draft.text


# --- the template provider -------------------------------------------------------------


class TemplateProvider:
    """Deterministic offline copy from the content type's templates."""

    name = "template"
    model = ""

    def stream(self, request: GenerationRequest, variant: int) -> Generator[str, None, Usage]:
        if request.product is None:
            raise UserInputError("Template copy is written from a product: choose one first.")
        text = template_writer.write(
            request.content_type,
            request.product,
            request.audience,
            request.voice,
            keyword=request.keyword,
            variant=variant,
            template=request.copy_template,
        )
        # Word by word, so pages stream template copy the way they stream a model's.
        yield from re.findall(r"\s*\S+", text)
        return Usage()


def _openai(settings: LlmSettings, model: str) -> Provider:
    from core.copy.openai_provider import OpenAIProvider

    return OpenAIProvider(settings, model)


def _openai_unavailable(settings: LlmSettings, model: str) -> str | None:
    if not model:
        return "no model is configured (BEACON_LLM_MODEL)"
    if settings.api_key is None and settings.base_url is None:
        return "no API key (OPENAI_API_KEY or BEACON_LLM_API_KEY) and no local server URL"
    return None


register(
    ProviderSpec("template", "Offline templates", True, lambda settings, model: TemplateProvider())
)
register(
    ProviderSpec(
        "openai", "OpenAI-compatible model", False, _openai, unavailable=_openai_unavailable
    )
)

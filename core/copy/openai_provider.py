"""The `openai` provider: chat completions, streamed, from OpenAI or any compatible server.

Built on the official SDK (Ollama, vLLM and LM Studio speak the same API at their own
base URL). The client is created once per endpoint and kept, so later generations
reuse its connection. Every failure becomes one IntegrationError line that names
the server (never the key) and says what to fix.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from functools import lru_cache
from urllib.parse import urlsplit

import openai

from core.config import LlmSettings, Secret
from core.copy import prompts
from core.copy.providers import GenerationRequest, Usage
from core.copy.redaction import one_line, protect_loggers, redact
from core.errors import IntegrationError

log = logging.getLogger(__name__)
OPENAI_API = "https://api.openai.com/v1"
NO_KEY = "no-key-needed"  # local servers ignore the key, but the SDK insists on one


def server_label(base_url: str | None) -> str:
    """The server's scheme, host and path, without credentials or query."""
    parts = urlsplit(base_url or OPENAI_API)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


@lru_cache(maxsize=8)
def _client(base_url: str | None, key: Secret | None, timeout: float, retries: int):
    if key is not None:
        protect_loggers([key.reveal()])
    return openai.OpenAI(
        api_key=key.reveal() if key is not None else NO_KEY,
        base_url=base_url or OPENAI_API,
        timeout=openai.Timeout(timeout, connect=min(timeout, 5.0)),
        max_retries=retries,
    )


class OpenAIProvider:
    """Streams chat completions from an OpenAI-compatible server."""

    name = "openai"

    def __init__(self, settings: LlmSettings, model: str) -> None:
        self.settings = settings
        self.model = model
        self.server = server_label(settings.base_url)

    def client(self):
        s = self.settings
        return _client(s.base_url, s.api_key, s.timeout_seconds, s.max_retries)

    def _secrets(self) -> list[str]:
        return [self.settings.api_key.reveal()] if self.settings.api_key else []

    def _error(self, exc: Exception) -> IntegrationError:
        """One line that says which server failed, why, and what to fix."""
        server, model, s = self.server, self.model, self.settings
        detail = one_line(redact(getattr(exc, "message", None) or str(exc), self._secrets()))
        detail = re.sub(r"^Error code: \d+ - ", "", detail)
        if isinstance(exc, openai.AuthenticationError):
            text = (
                f"The model server at {server} refused the API key (401): "
                "check OPENAI_API_KEY or BEACON_LLM_API_KEY."
            )
        elif isinstance(exc, openai.NotFoundError):
            text = (
                f"The model server at {server} has no model {model!r} (404): check "
                "BEACON_LLM_MODEL and BEACON_LLM_BASE_URL."
            )
        elif isinstance(exc, openai.RateLimitError):
            wait = exc.response.headers.get("retry-after") if exc.response is not None else None
            hint = f"try again in {wait} s" if wait else "try again in a minute"
            text = (
                f"The model server at {server} is rate-limiting Beacon (429) after "
                f"{s.max_retries} retries: {hint}, or raise BEACON_LLM_MAX_RETRIES."
            )
        elif isinstance(exc, openai.APITimeoutError):
            text = (
                f"The model server at {server} did not answer within {s.timeout_seconds:g} s: "
                "check the server or raise BEACON_LLM_TIMEOUT_SECONDS."
            )
        elif isinstance(exc, openai.APIConnectionError):
            text = (
                f"Cannot reach the model server at {server}: check BEACON_LLM_BASE_URL "
                "and that the server is running."
            )
        elif isinstance(exc, openai.APIStatusError):
            text = f"The model server at {server} failed ({exc.status_code}): {detail}"
        else:
            text = (
                f"The model server at {server} sent a malformed stream ({type(exc).__name__}): "
                "check that it speaks the OpenAI chat completions API."
            )
        return IntegrationError(redact(text, self._secrets()))

    def stream(self, request: GenerationRequest, variant: int) -> Generator[str, None, Usage]:
        messages = prompts.messages(request.prompt_input(), variant)
        usage: Usage | None = None
        finished = False
        produced = 0
        try:
            response = self.client().chat.completions.create(
                model=self.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=self.settings.max_tokens,
                temperature=request.temperature,
            )
            with response:
                for chunk in response:
                    if getattr(chunk, "usage", None) is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices or ():
                        if choice.finish_reason:
                            finished = True
                        text = choice.delta.content if choice.delta is not None else None
                        if text:
                            produced += len(text)
                            yield text
        except openai.OpenAIError as exc:
            log.info("model server error: %s", type(exc).__name__)
            raise self._error(exc) from None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # sse.json() on a broken event, or a chunk without the expected fields
            raise self._error(exc) from None
        if not finished:
            raise IntegrationError(
                f"The model server at {self.server} closed the stream before finishing: "
                "check the server's logs, then try again."
            )
        if usage is None:  # the server did not report usage: about 4 characters a token
            prompt_chars = sum(len(m["content"]) for m in messages)
            usage = Usage(round(prompt_chars / 4), round(produced / 4), estimated=True)
        return usage

    def ping(self) -> str:
        """A tiny non-streamed completion: proves the server, the key and the model work."""
        try:
            reply = self.client().chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": "Reply with the single word OK."}],
                max_tokens=5,
                temperature=0,
            )
            return (reply.choices[0].message.content or "").strip() if reply.choices else ""
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise self._error(exc) from None

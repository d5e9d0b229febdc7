"""Keeping API keys out of every error message and log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "****"
# Key shapes worth hiding even when Beacon was not told the value.
_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._\-]{8,}"),
    re.compile(r"(?i)(api[_-]?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._\-]{8,}"),
)
# Loggers of the HTTP stack under the model client.
SDK_LOGGERS = ("openai", "httpx2", "httpcore2", "httpx", "httpcore")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each known secret and anything shaped like an API key masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(
            lambda m: (m.group(1) if m.re.groups else "") + MASK,
            text,
        )
    return text


def one_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of `text`, at most `limit` characters."""
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


class RedactingFilter(logging.Filter):
    """A log filter that masks secrets in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's business, not ours
            return True
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def protect_loggers(secrets: Iterable[str], names: Iterable[str] = SDK_LOGGERS) -> None:
    """Attach a redacting filter to the model client's loggers and their existing children."""
    secrets = tuple(s for s in secrets if s)
    names = tuple(names)
    known = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in names]
    for name in dict.fromkeys((*names, *known)):
        logger = logging.getLogger(name)
        present = [f for f in logger.filters if isinstance(f, RedactingFilter)]
        if present:
            present[0].secrets = tuple(dict.fromkeys((*present[0].secrets, *secrets)))
        else:
            logger.addFilter(RedactingFilter(secrets))

"""Offline scoring of any text: readability, sentiment and checks that each say why.

Checks are a registry of small functions (channel limits, SMS encoding, SEO keyword
placement and density, brand-voice compliance); each returns a `Check` with a status
and a sentence explaining it, or None when it does not apply to this text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.copy import readability, sentiment
from core.copy.content_types import ContentType
from core.copy.voices import BrandVoice

PASS, WARN, FAIL = "pass", "warn", "fail"
# GSM 03.38 basic set plus its extension table (extension characters take two slots).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€")
_CONTRACTION = re.compile(r"\b\w+['’](s|re|ve|ll|d|t|m)\b", re.IGNORECASE)
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|\*\*[^*]+\*\*|^#{1,6}\s|\[[^\]]+\]\([^)]+\)", re.M)


@dataclass(frozen=True, slots=True)
class Check:
    """One rule applied to a text: its group, status and the reason."""

    key: str
    group: str  # channel, seo or voice
    label: str
    status: str  # pass, warn or fail
    why: str


@dataclass(frozen=True, slots=True)
class ScoreInput:
    """A text and what it is checked against."""

    text: str
    content_type: ContentType | None = None
    voice: BrandVoice | None = None
    keyword: str = ""


@dataclass(frozen=True, slots=True)
class TextScore:
    """Every score of a text."""

    characters: int
    readability: readability.Readability
    sentiment: sentiment.Sentiment
    checks: tuple[Check, ...]

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)

    def as_json(self) -> dict[str, Any]:
        r, s = self.readability, self.sentiment
        return {
            "characters": self.characters,
            "words": r.words,
            "sentences": r.sentences,
            "syllables": r.syllables,
            "flesch_reading_ease": None if r.reading_ease is None else round(r.reading_ease, 2),
            "flesch_kincaid_grade": None if r.grade is None else round(r.grade, 2),
            "reading_ease_band": r.ease_band(),
            "sentiment": {
                "compound": s.compound,
                "label": s.label,
                "positive": s.positive,
                "neutral": s.neutral,
                "negative": s.negative,
                "why": s.why(),
            },
            "checks": [
                {"check": c.key, "group": c.group, "status": c.status, "why": c.why}
                for c in self.checks
            ],
        }


Rule = Callable[[ScoreInput, readability.Readability], Check | None]
CHECKS: dict[str, Rule] = {}


def register(key: str) -> Callable[[Rule], Rule]:
    """Decorator adding a check to the registry (built-ins and extensions alike)."""

    def add(rule: Rule) -> Rule:
        CHECKS[key] = rule
        return rule

    return add


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.lower().split()]
    return re.compile(r"\b" + r"\s+".join(words) + r"\b", re.IGNORECASE)


def sms_segments(text: str) -> tuple[str, int, int]:
    """(encoding, characters counted, segments) of an SMS text."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = len(text) + sum(1 for ch in text if ch in _GSM_EXTENDED)
        return "GSM-7", units, 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
    return "UCS-2", units, 1 if units <= 70 else -(-units // 67)


def _words(n: int) -> str:
    return f"{n} word" if n == 1 else f"{n} words"


@register("length")
def _length(data: ScoreInput, read: readability.Readability) -> Check | None:
    ct = data.content_type
    if ct is None:
        return None
    limit, chars, n_words = ct.limit, len(data.text), read.words
    label = f"{ct.label} length"
    status, problems = PASS, []
    if limit.max_chars and chars > limit.max_chars:
        status = FAIL if limit.hard else WARN
        problems.append(f"{chars} characters, over the {limit.max_chars} maximum")
    if limit.min_chars and chars < limit.min_chars:
        status = WARN if status == PASS else status
        problems.append(f"{chars} characters, under the {limit.min_chars} minimum")
    if limit.max_words and n_words > limit.max_words:
        status = WARN if status == PASS else status
        problems.append(f"{_words(n_words)}, over the {limit.max_words} maximum")
    if limit.min_words and n_words < limit.min_words:
        status = WARN if status == PASS else status
        problems.append(f"{_words(n_words)}, under the {limit.min_words} minimum")
    rule = limit.describe() + (f"; {limit.note}" if limit.note else "")
    if problems:
        consequence = " The channel will reject or cut it." if status == FAIL else ""
        return Check(
            "length", "channel", label, status, f"{'; '.join(problems)} ({rule}).{consequence}"
        )
    return Check(
        "length", "channel", label, PASS, f"{chars} characters, {_words(n_words)}: within {rule}."
    )


@register("sms_encoding")
def _sms(data: ScoreInput, _: readability.Readability) -> Check | None:
    if data.content_type is None or not data.content_type.sms:
        return None
    encoding, units, segments = sms_segments(data.text)
    if encoding == "UCS-2":
        odd = sorted({ch for ch in data.text if ch not in _GSM_BASIC and ch not in _GSM_EXTENDED})
        shown = " ".join(odd[:8])
        return Check(
            "sms_encoding",
            "channel",
            "SMS encoding",
            FAIL if segments > 1 else WARN,
            f"{shown} are not GSM-7 characters, so the message is sent as UCS-2: 70 characters "
            f"a segment; this one needs {segments} segment(s). Replace them to get 160.",
        )
    status = PASS if segments == 1 else FAIL
    return Check(
        "sms_encoding",
        "channel",
        "SMS encoding",
        status,
        f"GSM-7, {units} of 160 characters: {segments} segment(s)"
        + ("." if segments == 1 else ", so each recipient is charged for several messages."),
    )


def _keyword(data: ScoreInput) -> re.Pattern[str] | None:
    if not data.keyword.strip() or data.content_type is None or not data.content_type.seo:
        return None
    return _phrase_pattern(data.keyword)


@register("keyword_title")
def _keyword_title(data: ScoreInput, _: readability.Readability) -> Check | None:
    pattern = _keyword(data)
    if pattern is None:
        return None
    title = data.text.strip().splitlines()[0] if data.text.strip() else ""
    if pattern.search(title):
        return Check(
            "keyword_title",
            "seo",
            "Keyword in title",
            PASS,
            f"'{data.keyword}' appears in the first line, where search engines weigh it most.",
        )
    return Check(
        "keyword_title",
        "seo",
        "Keyword in title",
        WARN,
        f"'{data.keyword}' is not in the first line (the title or headline): put it there.",
    )


@register("keyword_early")
def _keyword_early(data: ScoreInput, _: readability.Readability) -> Check | None:
    pattern = _keyword(data)
    if pattern is None:
        return None
    first = " ".join(readability.words(data.text)[:100])
    if pattern.search(first):
        return Check(
            "keyword_early",
            "seo",
            "Keyword early",
            PASS,
            f"'{data.keyword}' appears within the first 100 words.",
        )
    return Check(
        "keyword_early",
        "seo",
        "Keyword early",
        WARN,
        f"'{data.keyword}' is not within the first 100 words: mention it sooner.",
    )


@register("keyword_density")
def _keyword_density(data: ScoreInput, read: readability.Readability) -> Check | None:
    pattern = _keyword(data)
    if pattern is None or read.words < 50:
        return None  # density means little in short copy
    hits = len(pattern.findall(" ".join(readability.words(data.text))))
    density = 100 * hits * len(data.keyword.split()) / read.words
    if 0.5 <= density <= 3.0:
        status, advice = PASS, "within the usual 0.5-3%"
    elif density < 0.5:
        status, advice = WARN, "under 0.5%: use it once or twice more"
    else:
        status, advice = WARN, "over 3%: it reads as keyword stuffing, use it less"
    return Check(
        "keyword_density",
        "seo",
        "Keyword density",
        status,
        f"'{data.keyword}' {hits} time(s) in {read.words} words = {density:.1f}%, {advice}.",
    )


@register("banned_words")
def _banned(data: ScoreInput, _: readability.Readability) -> Check | None:
    if data.voice is None or not data.voice.banned:
        return None
    found = [w for w in data.voice.banned if _phrase_pattern(w).search(data.text)]
    if found:
        return Check(
            "banned_words",
            "voice",
            "Banned words",
            FAIL,
            f"Uses {', '.join(repr(w) for w in found)}, banned by the {data.voice.name} voice.",
        )
    return Check(
        "banned_words",
        "voice",
        "Banned words",
        PASS,
        f"None of the {len(data.voice.banned)} banned words appear.",
    )


@register("preferred_words")
def _preferred(data: ScoreInput, read: readability.Readability) -> Check | None:
    if data.voice is None or not data.voice.preferred or read.words < 25:
        return None  # a headline is not expected to carry the brand's vocabulary
    found = [w for w in data.voice.preferred if _phrase_pattern(w).search(data.text)]
    if found:
        return Check(
            "preferred_words",
            "voice",
            "Preferred words",
            PASS,
            f"Uses {', '.join(repr(w) for w in found)} from the voice's preferred words.",
        )
    return Check(
        "preferred_words",
        "voice",
        "Preferred words",
        WARN,
        "Uses none of the voice's preferred words: " + ", ".join(data.voice.preferred[:5]) + ".",
    )


@register("reading_level")
def _reading_level(data: ScoreInput, read: readability.Readability) -> Check | None:
    if data.voice is None or data.voice.reading_grade is None or read.grade is None:
        return None
    if read.words < 10:
        return None  # grade formulas are unstable on a handful of words
    target, grade = data.voice.reading_grade, read.grade
    if abs(grade - target) <= 2:
        return Check(
            "reading_level",
            "voice",
            "Reading level",
            PASS,
            f"Grade {grade:.1f}, within 2 of the voice's target {target:g}.",
        )
    if grade > target:
        advice = (
            f"{read.words_per_sentence:.0f} words a sentence and "
            f"{read.syllables_per_word:.2f} syllables a word: use shorter sentences and words"
        )
        return Check(
            "reading_level",
            "voice",
            "Reading level",
            WARN,
            f"Grade {grade:.1f} is above the target {target:g} ({advice}).",
        )
    return Check(
        "reading_level",
        "voice",
        "Reading level",
        WARN,
        f"Grade {grade:.1f} is below the target {target:g}: the voice allows fuller sentences.",
    )


@register("formality")
def _formality(data: ScoreInput, read: readability.Readability) -> Check | None:
    if data.voice is None:
        return None
    level, contractions = data.voice.level("formality"), _CONTRACTION.findall(data.text)
    if level <= 30 and contractions:
        return Check(
            "formality",
            "voice",
            "Formality",
            WARN,
            f"{len(contractions)} contraction(s) in a formal voice: write them out.",
        )
    if (
        level >= 70
        and read.words >= 25
        and not contractions
        and not re.search(r"\byou", data.text, re.I)
    ):
        return Check(
            "formality",
            "voice",
            "Formality",
            WARN,
            "No contractions and no 'you' in a casual voice: it may read stiffly.",
        )
    return Check(
        "formality",
        "voice",
        "Formality",
        PASS,
        f"Matches the voice's formality ({level}/100 towards casual; "
        f"{len(contractions)} contraction(s)).",
    )


@register("energy")
def _energy(data: ScoreInput, _: readability.Readability) -> Check | None:
    if data.voice is None:
        return None
    level, marks = data.voice.level("energy"), data.text.count("!")
    if level <= 35 and marks:
        return Check(
            "energy",
            "voice",
            "Energy",
            WARN,
            f"{marks} exclamation mark(s) in a calm voice: end on a full stop.",
        )
    if marks > 3:
        return Check(
            "energy",
            "voice",
            "Energy",
            WARN,
            f"{marks} exclamation marks: more than three reads as shouting.",
        )
    return Check(
        "energy",
        "voice",
        "Energy",
        PASS,
        f"{marks} exclamation mark(s), fitting {level}/100 towards enthusiastic.",
    )


@register("markup")
def _markup(data: ScoreInput, _: readability.Readability) -> Check | None:
    found = _MARKUP.search(data.text)
    if found:
        return Check(
            "markup",
            "channel",
            "Plain text",
            WARN,
            f"Contains markup ({found.group(0)[:30]!r}) that channels show literally: remove it.",
        )
    return None


def score(data: ScoreInput) -> TextScore:
    """Readability, sentiment and every applicable check of `data.text`."""
    read = readability.analyse(data.text)
    checks = tuple(c for rule in CHECKS.values() if (c := rule(data, read)) is not None)
    return TextScore(len(data.text), read, sentiment.analyse(data.text), checks)


def score_text(
    text: str,
    content_type: ContentType | None = None,
    voice: BrandVoice | None = None,
    keyword: str = "",
) -> TextScore:
    """Shorthand for `score(ScoreInput(...))`."""
    return score(ScoreInput(text, content_type, voice, keyword))

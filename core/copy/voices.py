"""Brand voices: tone sliders, audience, preferred and banned words, reading level, samples."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User, require
from core.copy.models import CopyVoiceRow
from core.errors import NotFound, UserInputError
from core.store import Store
from core.store.models import as_utc, utcnow


@dataclass(frozen=True, slots=True)
class Tone:
    """A tone slider from `left` (0) to `right` (100)."""

    key: str
    left: str
    right: str
    help: str


TONES: dict[str, Tone] = {}


def register_tone(tone: Tone) -> Tone:
    """Add a tone slider (built-ins and extensions alike)."""
    TONES[tone.key] = tone
    return tone


for _tone in (
    Tone("formality", "Formal", "Casual", "Formal avoids contractions and slang."),
    Tone("humour", "Serious", "Playful", "Playful allows wordplay and a lighter touch."),
    Tone("energy", "Calm", "Enthusiastic", "Enthusiastic uses exclamation marks and urgency."),
    Tone("detail", "Simple", "Technical", "Technical names specifications and materials."),
):
    register_tone(_tone)

MAX_SAMPLES = 5
MAX_WORDS = 100


@dataclass(frozen=True, slots=True)
class BrandVoice:
    """How a brand sounds; applied in prompts and checked on every text."""

    name: str
    brand: str
    description: str = ""
    tone: Mapping[str, int] = field(default_factory=dict)
    audience: str = ""
    preferred: tuple[str, ...] = ()
    banned: tuple[str, ...] = ()
    reading_grade: float | None = None
    samples: tuple[str, ...] = ()
    updated_by: str = ""
    updated_at: datetime | None = None

    def level(self, tone: str) -> int:
        """The slider value 0-100 of `tone` (50 when unset)."""
        return int(self.tone.get(tone, 50))

    def describe_tone(self) -> str:
        """'fairly casual, very playful, calm, balanced simple/technical'."""
        parts = []
        for key, spec in TONES.items():
            value = self.level(key)
            if 40 <= value <= 60:
                parts.append(f"balanced {spec.left.lower()}/{spec.right.lower()}")
            else:
                word = spec.right if value > 50 else spec.left
                strength = "very " if abs(value - 50) >= 35 else "fairly "
                parts.append(strength + word.lower())
        return ", ".join(parts)


def neutral_voice(brand: str = "") -> BrandVoice:
    """The voice used when none is chosen: every slider in the middle, no word lists."""
    return BrandVoice(name="Neutral", brand=brand, tone={k: 50 for k in TONES})


def sample_voice() -> BrandVoice:
    """A ready-made voice for the sample company, so the studio has one on first start."""
    from core.data.sample import COMPANY_NAME

    return BrandVoice(
        name=f"{COMPANY_NAME} everyday",
        brand=COMPANY_NAME,
        description="Warm, practical and outdoorsy; talks like a friend who has tried the gear.",
        tone={"formality": 70, "humour": 55, "energy": 60, "detail": 40},
        audience="Active people who buy gear to use it, not to collect it",
        preferred=("adventure", "built to last", "everyday", "trail"),
        banned=("cheap", "revolutionary", "world-class", "synergy"),
        reading_grade=7.0,
        samples=(
            "Rain or shine, the Ridge Parka keeps you out there longer.",
            "Light enough for every day, tough enough for the weekend.",
            "Pack it, wear it, forget it's there. That's the point.",
        ),
    )


def split_words(text: str | Iterable[str]) -> tuple[str, ...]:
    """Comma- or line-separated words and phrases, trimmed, lower-case, without repeats."""
    items = re.split(r"[,\n]", text) if isinstance(text, str) else list(text)
    seen: dict[str, None] = {}
    for item in items:
        word = " ".join(str(item).split()).lower()
        if word:
            seen.setdefault(word, None)
    return tuple(seen)


def validate(voice: BrandVoice) -> BrandVoice:
    """A cleaned copy of `voice`, or a UserInputError that says what to fix."""
    name, brand = voice.name.strip(), voice.brand.strip()
    if not 1 <= len(name) <= 100:
        raise UserInputError("A brand voice needs a name of 1-100 characters.")
    if not 1 <= len(brand) <= 100:
        raise UserInputError("A brand voice needs the brand's name (1-100 characters).")
    tone = {}
    for key, value in voice.tone.items():
        if key not in TONES:
            raise UserInputError(f"Unknown tone {key!r}: use {', '.join(TONES)}.")
        if not 0 <= int(value) <= 100:
            raise UserInputError(f"Tone {key!r} must be 0-100, got {value}.")
        tone[key] = int(value)
    preferred, banned = split_words(voice.preferred), split_words(voice.banned)
    if len(preferred) > MAX_WORDS or len(banned) > MAX_WORDS:
        raise UserInputError(f"Keep preferred and banned words to {MAX_WORDS} each.")
    if clash := sorted(set(preferred) & set(banned)):
        raise UserInputError(f"{', '.join(clash)} is both preferred and banned: keep one.")
    if any(len(w) > 60 for w in (*preferred, *banned)):
        raise UserInputError("A preferred or banned word or phrase is longer than 60 characters.")
    grade = voice.reading_grade
    if grade is not None and not 1 <= grade <= 18:
        raise UserInputError("The reading level target is a school grade from 1 to 18.")
    samples = tuple(s.strip() for s in voice.samples if s.strip())
    if len(samples) > MAX_SAMPLES:
        raise UserInputError(f"Give at most {MAX_SAMPLES} reference samples (3-5 work best).")
    if any(len(s) > 2000 for s in samples):
        raise UserInputError("Each reference sample must be at most 2,000 characters.")
    return BrandVoice(
        name=name,
        brand=brand,
        description=voice.description.strip()[:2000],
        tone=tone,
        audience=voice.audience.strip()[:500],
        preferred=preferred,
        banned=banned,
        reading_grade=grade,
        samples=samples,
    )


def _voice(row: CopyVoiceRow) -> BrandVoice:
    return BrandVoice(
        name=row.name,
        brand=row.brand,
        description=row.description,
        tone=dict(row.tone),
        audience=row.audience,
        preferred=tuple(row.preferred_words),
        banned=tuple(row.banned_words),
        reading_grade=row.reading_grade,
        samples=tuple(row.samples),
        updated_by=row.updated_by,
        updated_at=as_utc(row.updated_at),
    )


def list_voices(store: Store, user: User) -> list[BrandVoice]:
    """Every saved voice, by name."""
    require(user, Role.VIEWER, "Reading brand voices")
    with store.session() as s:
        return [_voice(r) for r in s.scalars(select(CopyVoiceRow).order_by(CopyVoiceRow.name))]


def get_voice(store: Store, user: User, name: str) -> BrandVoice:
    """One saved voice by name."""
    require(user, Role.VIEWER, "Reading brand voices")
    with store.session() as s:
        row = s.scalar(select(CopyVoiceRow).where(CopyVoiceRow.name == name))
        if row is None:
            raise NotFound(f"No brand voice named {name!r}.")
        return _voice(row)


def save_voice(store: Store, user: User, voice: BrandVoice) -> BrandVoice:
    """Create or replace the voice with `voice.name`."""
    require(user, Role.ANALYST, "Saving brand voices")
    voice = validate(voice)
    with store.session() as s:
        row = s.scalar(select(CopyVoiceRow).where(CopyVoiceRow.name == voice.name))
        created = row is None
        if row is None:
            row = CopyVoiceRow(name=voice.name)
            s.add(row)
        row.brand = voice.brand
        row.description = voice.description
        row.tone = dict(voice.tone)
        row.audience = voice.audience
        row.preferred_words = list(voice.preferred)
        row.banned_words = list(voice.banned)
        row.reading_grade = voice.reading_grade
        row.samples = list(voice.samples)
        row.updated_by = user.email
        row.updated_at = utcnow()
        audit.record(s, user, "copy.voice.save", voice.name, created=created)
        s.flush()
        return _voice(row)


def delete_voice(store: Store, user: User, name: str) -> None:
    """Remove a saved voice (library items keep its name as history)."""
    require(user, Role.ANALYST, "Deleting brand voices")
    with store.session() as s:
        row = s.scalar(select(CopyVoiceRow).where(CopyVoiceRow.name == name))
        if row is None:
            raise NotFound(f"No brand voice named {name!r}.")
        s.delete(row)
        audit.record(s, user, "copy.voice.delete", name)

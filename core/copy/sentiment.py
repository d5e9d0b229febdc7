"""Sentiment with VADER (vaderSentiment ships its lexicon, so it works offline).

The compound score runs from -1 (most negative) to +1 (most positive); VADER's authors
call >= 0.05 positive and <= -0.05 negative. The words that carried the score are
listed so the score can explain itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE, NEGATIVE = 0.05, -0.05
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|[:;=8][-o*']?[()\[\]dDpP/\\|]")


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@dataclass(frozen=True, slots=True)
class Sentiment:
    """VADER's scores and the lexicon words behind them."""

    compound: float
    positive: float
    neutral: float
    negative: float
    drivers: tuple[tuple[str, float], ...]  # (word, lexicon valence), strongest first

    @property
    def label(self) -> str:
        if self.compound >= POSITIVE:
            return "positive"
        if self.compound <= NEGATIVE:
            return "negative"
        return "neutral"

    def why(self) -> str:
        """A sentence that explains the label."""
        if not self.drivers:
            return f"{self.label.capitalize()} ({self.compound:+.2f}): no words with a strong tone."
        shown = ", ".join(f"{w} ({v:+.1f})" for w, v in self.drivers[:5])
        return f"{self.label.capitalize()} ({self.compound:+.2f}), carried by: {shown}."


def analyse(text: str) -> Sentiment:
    """VADER sentiment of `text`."""
    analyzer = _analyzer()
    scores = analyzer.polarity_scores(text)
    lexicon = analyzer.lexicon
    found: dict[str, float] = {}
    for token in _TOKEN.findall(text):
        word = token.lower()
        if word in lexicon:
            found.setdefault(word, float(lexicon[word]))
    drivers = tuple(sorted(found.items(), key=lambda kv: -abs(kv[1])))
    return Sentiment(
        compound=float(scores["compound"]),
        positive=float(scores["pos"]),
        neutral=float(scores["neu"]),
        negative=float(scores["neg"]),
        drivers=drivers,
    )

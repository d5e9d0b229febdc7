"""Country risk scores (1 = low, 5 = high) for the country/geopolitical risk rule.

The default table is deliberately small. It lists only countries the OECD export-credit
Arrangement leaves unclassified because they are high-income OECD or euro-area members:
the Arrangement prices them like its lowest-risk category 0, so Beacon scores them 1.
Every other country gets UNKNOWN_SCORE until an admin enters a score (for example from
the OECD Country Risk Classification, categories 0-7, via `score_from_oecd_category`).
Beacon does not ship guessed scores for other countries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from core.errors import UserInputError

SOURCE = (
    "Beacon default: high-income OECD and euro-area members, which the OECD Arrangement on "
    "Officially Supported Export Credits does not classify and prices like category 0 "
    "(score 1). Other countries are unscored until an admin adds them."
)
UNKNOWN_SCORE = 3  # unscored countries sit in the middle: neither hidden nor alarming
MAX_ROWS = 400
_LOW = "High-income OECD/euro-area member: not classified by the OECD Arrangement (category 0)"
DEFAULT_TABLE: dict[str, tuple[int, str]] = {
    name: (1, _LOW)
    for name in (
        "Australia", "Austria", "Belgium", "Canada", "Denmark", "Finland", "France", "Germany",
        "Iceland", "Ireland", "Italy", "Japan", "Luxembourg", "Netherlands", "New Zealand",
        "Norway", "Poland", "Portugal", "South Korea", "Spain", "Sweden", "Switzerland",
        "United Kingdom", "United States",
    )
}  # fmt: skip
# Common spellings of the same country, so a supplier master's "USA" finds "United States".
ALIASES = {
    "usa": "united states",
    "us": "united states",
    "united states of america": "united states",
    "uk": "united kingdom",
    "great britain": "united kingdom",
    "korea": "south korea",
    "republic of korea": "south korea",
    "korea, republic of": "south korea",
    "the netherlands": "netherlands",
}


@dataclass(frozen=True, slots=True)
class CountryScore:
    """A country's score and where it came from."""

    country: str
    score: int
    known: bool
    note: str


def _norm(name: str) -> str:
    key = " ".join(str(name).split()).casefold()
    return ALIASES.get(key, key)


def score_from_oecd_category(category: int) -> int:
    """Map an OECD country risk category (0-7) onto Beacon's 1-5 scale."""
    if not 0 <= category <= 7:
        raise UserInputError("An OECD country risk category is a whole number from 0 to 7.")
    return 1 + round(category * 4 / 7)


def lookup(table: Mapping[str, tuple[int, str]], country: str) -> CountryScore:
    """The score of `country` in `table`, or the stated default when it is not listed."""
    index = {_norm(k): (k, v) for k, v in table.items()}
    found = index.get(_norm(country))
    if found is None:
        return CountryScore(
            country, UNKNOWN_SCORE, False, f"not in the country table: default {UNKNOWN_SCORE}"
        )
    return CountryScore(country, found[1][0], True, found[1][1])


def table_frame(table: Mapping[str, tuple[int, str]]) -> pd.DataFrame:
    """The table for display and editing (columns: country, score, note)."""
    rows = sorted(table.items(), key=lambda kv: kv[0].casefold())
    return pd.DataFrame(
        {
            "country": [k for k, _ in rows],
            "score": [v[0] for _, v in rows],
            "note": [v[1] for _, v in rows],
        }
    )


def parse_table(frame: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """Validate an edited table (country, score 1-5, optional note) into a mapping."""
    missing = {"country", "score"} - set(frame.columns)
    if missing:
        raise UserInputError("The country table needs the columns country and score.")
    if len(frame) > MAX_ROWS:
        raise UserInputError(f"The country table holds at most {MAX_ROWS} countries.")
    table: dict[str, tuple[int, str]] = {}
    seen: set[str] = set()
    for i, row in enumerate(frame.to_dict("records"), start=1):
        name = " ".join(str(row.get("country") or "").split())
        if not name or name.casefold() == "nan":
            continue  # an empty row left by the editor
        if len(name) > 100:
            raise UserInputError(f"Row {i}: a country name has at most 100 characters.")
        if _norm(name) in seen:
            raise UserInputError(f"Row {i}: {name!r} is listed twice.")
        score = row.get("score")
        try:
            value = float(score)
        except (TypeError, ValueError):
            value = math.nan
        if not (value.is_integer() and 1 <= value <= 5):
            raise UserInputError(f"Row {i}: the score of {name!r} must be a whole number 1-5.")
        note = row.get("note")
        note = "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)
        seen.add(_norm(name))
        table[name] = (int(value), note[:300])
    return table

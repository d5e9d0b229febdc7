"""The country risk table: lookups, aliases, the stated default and validation of edits."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import UserInputError
from core.supply_chain import countries


def test_lookup_aliases_and_default():
    assert countries.lookup(countries.DEFAULT_TABLE, "USA").score == 1
    assert countries.lookup(countries.DEFAULT_TABLE, "  united   kingdom ").known
    unknown = countries.lookup(countries.DEFAULT_TABLE, "Atlantis")
    assert (unknown.score, unknown.known) == (countries.UNKNOWN_SCORE, False)
    assert "default 3" in unknown.note


def test_oecd_category_mapping():
    assert [countries.score_from_oecd_category(c) for c in range(8)] == [1, 2, 2, 3, 3, 4, 4, 5]
    with pytest.raises(UserInputError):
        countries.score_from_oecd_category(8)


@pytest.mark.parametrize(
    "rows, message",
    [
        ({"country": ["A", "a"], "score": [1, 2]}, "listed twice"),
        ({"country": ["A"], "score": [6]}, "whole number 1-5"),
        ({"country": ["A"], "score": [2.5]}, "whole number 1-5"),
        ({"country": ["A"], "score": ["=cmd"]}, "whole number 1-5"),
        ({"name": ["A"], "score": [1]}, "columns country and score"),
    ],
)
def test_parse_rejects(rows, message):
    with pytest.raises(UserInputError, match=message):
        countries.parse_table(pd.DataFrame(rows))


def test_parse_skips_blank_rows_and_round_trips():
    frame = countries.table_frame(countries.DEFAULT_TABLE)
    blank = pd.DataFrame({"country": [None], "score": [None], "note": [None]})
    assert countries.parse_table(pd.concat([frame, blank])) == countries.DEFAULT_TABLE

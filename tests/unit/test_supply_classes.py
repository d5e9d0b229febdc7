"""ABC and XYZ classes with hand-checked cut-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import UserInputError
from core.supply_chain.classes import abc_classes, xyz_classes


def test_abc_by_cumulative_share_before_each_sku() -> None:
    values = pd.Series({"d": 6.0, "a": 50.0, "c": 10.0, "e": 4.0, "b": 30.0, "z": 0.0})
    # Shares before each, largest first: a 0, b .5, c .8, d .9, e .96 -> A A B B C; zero is C.
    got = abc_classes(values)
    assert got.to_dict() == {"d": "B", "a": "A", "c": "B", "e": "C", "b": "A", "z": "C"}


def test_abc_dominant_sku_stays_a_and_cutoffs_are_configurable() -> None:
    assert abc_classes(pd.Series({"x": 95.0, "y": 5.0})).to_dict() == {"x": "A", "y": "C"}
    values = pd.Series({"a": 50.0, "b": 30.0, "c": 20.0})
    assert abc_classes(values, (0.5, 0.9)).to_dict() == {"a": "A", "b": "B", "c": "B"}
    assert abc_classes(pd.Series({"a": 0.0})).to_dict() == {"a": "C"}


def test_xyz_by_coefficient_of_variation() -> None:
    cv = pd.Series([0.2, 0.5, 0.7, 1.0, 1.5, np.nan], index=list("abcdef"))
    assert list(xyz_classes(cv)) == ["X", "X", "Y", "Y", "Z", "Z"]
    assert list(xyz_classes(cv, (0.3, 0.8))) == ["X", "Y", "Y", "Z", "Z", "Z"]


@pytest.mark.parametrize("cutoffs", [(0.95, 0.8), (0.8,), (0.0, 0.5), (0.8, 1.2)])
def test_bad_abc_cutoffs(cutoffs) -> None:
    with pytest.raises(UserInputError, match="cut-off"):
        abc_classes(pd.Series({"a": 1.0}), cutoffs)

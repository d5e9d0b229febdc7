"""Estimated cost of a generation from the configured price table (BEACON_LLM_PRICES)."""

from __future__ import annotations

from collections.abc import Mapping

from core.copy.providers import Usage

PER_TOKENS = 1_000_000  # prices are quoted per million tokens


def price_for(prices: Mapping[str, tuple[float, float]], model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for `model`: an exact entry, else the longest
    entry the model name starts with (so gpt-4o-mini-2024-07-18 uses gpt-4o-mini)."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None


def estimate(prices: Mapping[str, tuple[float, float]], model: str, usage: Usage) -> float | None:
    """USD for `usage` on `model`, or None when the table has no price for it."""
    price = price_for(prices, model)
    if price is None:
        return None
    return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / PER_TOKENS

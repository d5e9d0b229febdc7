"""Generating a batch of variants outside the page: scored, optionally saved to the library.

The CLI (`python -m core copy generate`) and the workflow step (generate copy) both run
a GenerationRequest through the studio and report each variant the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.auth.roles import User
from core.copy import library, scoring
from core.copy.grounding import best_product_dataset
from core.copy.providers import GenerationRequest
from core.copy.voices import BrandVoice
from core.errors import UserInputError
from core.services import Services


def product_dataset(services: Services, user: User) -> str:
    """The catalog dataset products come from when none is named (as the page picks it)."""
    best = best_product_dataset(services.catalog.datasets(user))
    if best is None:
        raise UserInputError(
            "No dataset has a Product or SKU column: give --dataset, or load the sample "
            "company with `python -m core sample load`."
        )
    return best.name


def variant_json(draft, score: scoring.TextScore) -> dict[str, Any]:
    """One generated variant with its usage, timing and offline scores."""
    return {
        "variant": draft.index + 1,
        "text": draft.text,
        "usage": {
            "prompt_tokens": draft.usage.prompt_tokens,
            "completion_tokens": draft.usage.completion_tokens,
            "estimated": draft.usage.estimated,
        },
        "cost_usd": draft.cost_usd,
        "seconds": round(draft.seconds, 4),
        "first_token_seconds": None
        if draft.first_token_seconds is None
        else round(draft.first_token_seconds, 4),
        "scores": score.as_json(),
    }


def finish(
    services: Services,
    user: User,
    streams: Sequence,
    request: GenerationRequest,
    voice: BrandVoice | None,
    *,
    save: bool,
    tags: str | list[str],
    batch: str,
) -> list[dict[str, Any]]:
    """Read every stream to its end, score each variant and save it when asked."""
    variants = []
    for stream in streams:
        stream.text()
        draft = stream.draft
        entry = variant_json(
            draft, scoring.score_text(draft.text, request.content_type, voice, request.keyword)
        )
        if save:
            item = library.save_item(
                services.store,
                user,
                title=f"{request.product.name}: {request.content_type.label} {draft.index + 1}",
                content_type=request.content_type.key,
                body=draft.text,
                provider=draft.provider,
                model=draft.model,
                voice=voice.name if voice else None,
                grounding={"product": request.product.as_json(), "keyword": request.keyword},
                tags=tags,
                batch=batch,
                variant=draft.index,
            )
            entry["saved_id"] = item.id
        variants.append(entry)
    return variants

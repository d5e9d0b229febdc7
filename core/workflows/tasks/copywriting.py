"""Generate-copy step: copy for a product from the copy studio, scored, optionally saved.

It uses core.copy exactly as the Copy studio page and `python -m core copy generate` do:
the configured writer (template offline, or the OpenAI-compatible model), a saved brand
voice, and the offline scores of every variant.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from core.workflows.tasks.base import Params, StepContext, TaskType, register


class GenerateCopyParams(Params):
    content_type: str = Field(title="Content type", description="e.g. product_description, sms")
    product: str = Field(title="Product", description="A product name or SKU")
    dataset: str = Field("", title="Products dataset", description="Empty: sample_products")
    voice: str = Field("", title="Brand voice", description="A saved voice; empty = neutral")
    audience: str = Field("", title="Audience", description="Who the copy is for")
    keyword: str = Field("", title="SEO keyword")
    variants: int = Field(1, ge=1, le=5, title="Variants")
    provider: str = Field("", title="Writer", description="template or openai; empty = default")
    save: bool = Field(False, title="Save to the content library")


def _tag(name: str) -> str:
    """A workflow name as a library tag (letters, digits, spaces, '-' and '_')."""
    return re.sub(r"[^A-Za-z0-9 _-]+", "-", name).strip("- ")[:50] or "workflow"


def run_generate_copy(ctx: StepContext, params: GenerateCopyParams) -> dict[str, Any]:
    from core.copy import batches
    from core.copy.content_types import get
    from core.copy.grounding import audience_from_text, lookup_product
    from core.copy.providers import GenerationRequest
    from core.copy.studio import CopyStudio
    from core.copy.voices import get_voice, neutral_voice

    services, user = ctx.services, ctx.user
    content_type = get(params.content_type)
    voice = get_voice(services.store, user, params.voice) if params.voice else None
    dataset = services.catalog.get(user, params.dataset or batches.product_dataset(services, user))
    product = lookup_product(services.catalog, dataset, params.product)
    request = GenerationRequest(
        content_type=content_type,
        product=product,
        audience=audience_from_text(params.audience),
        voice=voice or neutral_voice(),
        keyword=params.keyword,
        variants=params.variants,
    )
    streams = CopyStudio(services.store, services.settings.llm).generate(
        user, request, params.provider or None
    )
    variants = batches.finish(
        services,
        user,
        streams,
        request,
        voice,
        save=params.save,
        tags=["workflow", _tag(ctx.workflow)],
        batch=f"{ctx.workflow}-{ctx.run_id}",
    )
    first = streams[0].draft
    ctx.log(
        f"{len(variants)} {content_type.label} variant(s) for {product.name} by {first.provider}"
    )
    return {
        "type": content_type.key,
        "provider": first.provider,
        "from_template": first.from_template,
        "product": product.as_json(),
        "variants": variants,
    }


register(
    TaskType(
        name="generate_copy",
        label="Generate copy",
        help="Write copy for a product with the copy studio; outputs the scored variants.",
        params=GenerateCopyParams,
        run=run_generate_copy,
    )
)

"""Offline copy: a content type's template filled with product, audience and voice facts.

Deterministic: the same facts, voice and variant number always give the same text.
The voice's sliders pick the phrasing (formal or casual openers, calm or enthusiastic
endings, simple or technical detail); the variant number rotates through the phrase
banks and the type's alternative templates, so variants differ. Text over a channel's
maximum falls back to a shorter template, then is cut at a word boundary.
"""

from __future__ import annotations

import re
from typing import Any

from core.copy import sandbox
from core.copy.content_types import ContentType
from core.copy.grounding import NO_AUDIENCE, Audience, ProductFacts
from core.copy.voices import BrandVoice

_LIMITS = sandbox.TemplateLimits(max_output_chars=8_000, max_value_chars=8_000, seconds=0.5)


def _register(voice: BrandVoice) -> str:
    formality = voice.level("formality")
    return "casual" if formality >= 60 else "formal" if formality <= 40 else "neutral"


# Phrase banks per register; {n} product name, {c} category, {a} " for <audience>",
# {k} keyword, {p} price, {b} brand. The variant number picks the entry.
_BANKS: dict[str, dict[str, tuple[str, ...]]] = {
    "formal": {
        "opener": ("Introducing the {n}", "Discover the {n}", "The {n}, considered"),
        "pitch": ("A considered addition to any {c} collection{a}",
                  "Quality {c}{a}, made to perform season after season",
                  "Refined {c}{a}, designed with care"),
        "pitch_kw": ("A considered choice for {k}{a}", "{K}, refined{a}"),
        "reason": ("It suits daily use as well as special occasions.",
                   "It is as suited to daily use as it is to the occasions that matter."),
        "benefit": ("Designed to perform, season after season",
                    "Made to be relied on, day after day"),
        "short_benefit": ("{C} of lasting quality", "Considered {c}, built well",
                          "Quality {c}, thoughtfully made"),
        "question": ("Looking for dependable {c}?", "Seeking {c} that lasts?",
                     "Is it time to upgrade your {c}?"),
        "cta": ("Order today", "Shop now", "Explore the range"),
        "button": ("Order now", "Shop now", "Explore the range"),
        "greeting": ("Hello,", "Dear customer,"),
        "signoff": ("Kind regards,\nThe {b} team",),
        "value": ("Available now at {p}.", "Priced at {p}."),
    },
    "neutral": {
        "opener": ("Meet the {n}", "Discover the {n}", "Introducing the {n}"),
        "pitch": ("{Ac} essential{a}, ready when you are",
                  "Dependable {c}{a} that earns its place",
                  "Well-made {c}{a} for everyday use"),
        "pitch_kw": ("A smart pick for {k}{a}", "{K}, done right{a}"),
        "reason": ("It's as suited to everyday use as it is to the big occasions.",
                   "Use it every day, or save it for the days that count."),
        "benefit": ("Made to be used, day in and day out", "Built for the way you live"),
        "short_benefit": ("{C} that keeps up", "Everyday {c}, done right", "{C} made simple"),
        "question": ("Need new {c}?", "Ready for an upgrade?", "Still looking for the right {c}?"),
        "cta": ("Shop now", "Order today", "Get yours today"),
        "button": ("Shop now", "Get yours", "Order today"),
        "greeting": ("Hello there,", "Hi,"),
        "signoff": ("Best wishes,\nThe {b} team",),
        "value": ("Yours for {p}.", "Available now for {p}."),
    },
    "casual": {
        "opener": ("Meet the {n}", "Say hello to the {n}", "Your new go-to: the {n}"),
        "pitch": ("It's the {c} upgrade you'll actually use{a}",
                  "Good-looking, hard-working {c}{a}",
                  "The {c} you'll reach for first{a}"),
        "pitch_kw": ("Searching for {k}{a}? Start here", "{K}, sorted{a}"),
        "reason": ("Whether it's for every day or the odd big day out, it's ready when you are.",
                   "Take it everywhere. That's what it's for."),
        "benefit": ("You'll wonder how you managed without it", "It just works, every time"),
        "short_benefit": ("The {c} you'll reach for first", "Your new favourite {c}",
                          "{C} that keeps up with you"),
        "question": ("Need new {c}?", "Ready for an upgrade?", "Still hunting for the right {c}?"),
        "cta": ("Grab yours today", "Get yours now", "Treat yourself"),
        "button": ("Grab yours", "Get yours", "Shop now"),
        "greeting": ("Hi there,", "Hey,"),
        "signoff": ("Cheers,\nThe {b} team",),
        "value": ("All yours for {p}.", "Just {p}."),
    },
}  # fmt: skip
_DETAIL = {
    "technical": ("Every detail is listed, so you know exactly what you are getting.",
                  "Here are the specifics."),
    "simple": ("No fuss, no jargon: just what you need.", "Here's what matters."),
}  # fmt: skip


def _camel(text: str) -> str:
    return "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", text))


def phrases(
    product: ProductFacts, audience: Audience, voice: BrandVoice, keyword: str, variant: int
) -> dict[str, str]:
    """The phrases a template uses, picked for the voice and rotated by the variant."""
    bank = _BANKS[_register(voice)]
    category = (product.category or "gear").lower()
    values = {
        "n": product.name,
        "c": category,
        "C": category.capitalize(),
        "Ac": ("An " if category[:1] in "aeiou" else "A ") + category,
        "a": f" for {audience.name.lower()}" if audience.name else "",
        "k": keyword.strip().lower(),
        "K": keyword.strip().capitalize(),
        "p": product.price_text or "a fair price",
        "b": voice.brand,
    }

    def pick(key: str, shift: int = 0) -> str:
        options = bank[key]
        return options[(variant + shift) % len(options)].format(**values)

    enthusiastic = voice.level("energy") >= 65
    technical = voice.level("detail") >= 60
    tags = [voice.brand, product.category or "", keyword]
    return {
        "opener": pick("opener"),
        "pitch": pick("pitch_kw") if keyword.strip() else pick("pitch"),
        "benefit": pick("benefit"),
        "reason": pick("reason"),
        "kw_title": keyword.strip().title(),
        "audience_line": f"We chose it with {audience.name.lower()} in mind."
        if audience.name
        else "",
        "short_benefit": pick("short_benefit"),
        "question": pick("question"),
        "cta": pick("cta"),
        "button": pick("button"),
        "greeting": pick("greeting"),
        "signoff": pick("signoff") if voice.brand else pick("signoff").split("\n")[0],
        "value": pick("value") if product.price is not None else "Available now.",
        "detail": _DETAIL["technical" if technical else "simple"][variant % 2],
        "features_intro": "Specifications:" if technical else "What you get:",
        "subject": (pick("opener"), f"New in {category}: {product.name}", pick("question"))[
            variant % 3
        ],
        "headline": (product.name, pick("short_benefit"))[variant % 2],
        "hashtags": " ".join(f"#{_camel(t)}" for t in dict.fromkeys(tags) if _camel(t))[:80],
        "blog_title": (
            f"How to choose {category}: a closer look at the {product.name}",
            f"The {product.name} and the case for better {category}",
        )[variant % 2],
        "angle": f"What {audience.name.lower() or 'shoppers'} should know before buying "
        f"{category}, with the {product.name} as the example.",
        "press_headline": ("Launches the {n}", "Introduces the {n}")[variant % 2].format(**values),
        "press_what": f"a new addition to its {category} range",
        "quote": f"We made the {product.name} for customers who want {category} that simply "
        "works, and keeps working",
        "boilerplate": voice.description or f"designs and sells {category} and more.",
        "end": "!" if enthusiastic else ".",
    }


def _context(
    product: ProductFacts, audience: Audience, voice: BrandVoice, keyword: str, variant: int
) -> dict[str, Any]:
    return {
        "p": product.as_context(),
        "a": audience.as_context(),
        "v": {"name": voice.name, "brand": voice.brand, "audience": voice.audience},
        "ph": phrases(product, audience, voice, keyword, variant),
        "keyword": keyword,
        "variant": variant + 1,
    }


def _tidy(text: str) -> str:
    text = re.sub(r"(?<=\S)[ \t]{2,}", " ", text)
    text = re.sub(r" ([,.!?:])", r"\1", text)
    text = re.sub(r"([.!?])[.!]+", r"\1", text)  # "today!." -> "today!"
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def cut_to(text: str, max_chars: int) -> str:
    """`text` cut at the last whole word that fits in `max_chars`."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars + 1].rsplit(maxsplit=1)[0] if " " in text[:max_chars] else ""
    cut = cut[:max_chars] if cut else text[:max_chars]
    return cut.rstrip(" ,;:-|–")


def write(
    content_type: ContentType,
    product: ProductFacts,
    audience: Audience = NO_AUDIENCE,
    voice: BrandVoice | None = None,
    *,
    keyword: str = "",
    variant: int = 0,
    template: str | None = None,
) -> str:
    """Variant `variant` (0-based) of `content_type` copy, from a template."""
    from core.copy.voices import neutral_voice

    voice = voice or neutral_voice()
    context = _context(product, audience, voice, keyword, variant)
    templates = (template,) if template else content_type.templates
    limit = content_type.limit.max_chars
    first = variant % len(templates)
    candidates = [templates[(first + i) % len(templates)] for i in range(len(templates))]
    texts = []
    for source in candidates:
        text = _tidy(sandbox.render(source, context, _LIMITS))
        if limit is None or len(text) <= limit:
            return text
        texts.append(text)
    return cut_to(min(texts, key=len), limit)

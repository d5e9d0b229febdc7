"""Content types: what each piece of copy is for, its channel limits, prompt and templates.

Each type carries a prompt (instructions for a model, a sandboxed Jinja template that
sees only Beacon's own values: the type's limits and the variant number) and one or
more copy templates for the offline `template` provider (sandboxed Jinja over the
product, audience, voice and phrase facts; see core.copy.template_provider). Built-ins
register the same way an extension would: `register(ContentType(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    """A channel's length rule. `hard`: the platform rejects or cuts text over the maximum."""

    max_chars: int | None = None
    min_chars: int | None = None
    max_words: int | None = None
    min_words: int | None = None
    hard: bool = False
    note: str = ""

    def describe(self) -> str:
        """'at most 30 characters (hard limit)' and the like."""
        parts = []
        if self.min_chars and self.max_chars:
            parts.append(f"{self.min_chars}-{self.max_chars} characters")
        elif self.max_chars:
            parts.append(f"at most {self.max_chars} characters")
        if self.min_words and self.max_words:
            parts.append(f"{self.min_words}-{self.max_words} words")
        elif self.max_words:
            parts.append(f"at most {self.max_words} words")
        elif self.min_words:
            parts.append(f"at least {self.min_words} words")
        text = ", ".join(parts) or "no fixed length"
        return text + (" (hard limit)" if self.hard else "")


@dataclass(frozen=True, slots=True)
class ContentType:
    """A kind of copy: label, channel, length rule, model prompt and offline templates."""

    key: str
    label: str
    channel: str
    limit: Limit
    prompt: str
    templates: tuple[str, ...]
    seo: bool = False  # keyword placement and density are checked
    sms: bool = False  # counted in SMS segments (GSM-7 or UCS-2)


CONTENT_TYPES: dict[str, ContentType] = {}


def register(content_type: ContentType) -> ContentType:
    """Add a content type to the registry (built-ins and extensions alike)."""
    CONTENT_TYPES[content_type.key] = content_type
    return content_type


def get(key: str) -> ContentType:
    """The content type `key`, or a UserInputError listing the known ones."""
    from core.errors import UserInputError

    try:
        return CONTENT_TYPES[key]
    except KeyError:
        known = ", ".join(CONTENT_TYPES)
        raise UserInputError(f"Unknown content type {key!r}: choose one of {known}.") from None


_FOR = "{% if a.name %} for {{ a.name|lower }}{% endif %}"  # " for business customers"
_BRAND = "{% if v.brand %} | {{ v.brand }}{% endif %}"  # " | Lumen Goods"
# Copy templates see `p` (product facts), `a` (audience), `v` (voice) and `ph`
# (phrases picked for the voice and the variant number).
for _type in (
    ContentType(
        "product_description",
        "Product description",
        "Website / marketplace",
        Limit(min_words=50, max_words=300),
        "Write a product description of 60-150 words: a one-line hook, two or three short "
        "paragraphs on what the product does and why it matters to the audience, then a "
        "call to action. Use only the facts given; invent no specifications.",
        (
            "{{ ph.opener }}{{ ph.end }} {{ ph.pitch }}{{ ph.end }}\n\n"
            "{{ ph.detail }}{% if p.features %} {{ ph.features_intro }} "
            "{{ p.features|sentence }}.{% endif %} {{ ph.benefit }}{{ ph.end }} {{ ph.reason }}"
            "{% if ph.audience_line %} {{ ph.audience_line }}{% endif %}\n\n"
            "{{ ph.value }} {{ ph.cta }}{{ ph.end }}",
        ),
        seo=True,
    ),
    ContentType(
        "google_ads_headline",
        "Google Ads headline",
        "Google Ads",
        Limit(max_chars=30, hard=True, note="Responsive search ad headline"),
        "Write one Google Ads headline of at most 30 characters including spaces. "
        "No exclamation mark, no all-caps words. Return only the headline.",
        (
            "{% if keyword %}{{ ph.kw_title }}: {% endif %}{{ p.name }}",
            "{{ p.name }} {{ p.price_text }}",
            "Shop {{ p.name }}",
            "{{ p.category }} from {{ p.price_text }}",
            "{{ p.name }}",
        ),
        seo=True,
    ),
    ContentType(
        "google_ads_description",
        "Google Ads description",
        "Google Ads",
        Limit(max_chars=90, hard=True, note="Responsive search ad description"),
        "Write one Google Ads description of at most 90 characters including spaces, "
        "ending with a call to action. Return only the description.",
        (
            "{{ p.name }}" + _FOR + " at {{ p.price_text }}. {{ ph.cta }}.",
            "{{ ph.short_benefit }}. {{ p.name }}, {{ p.price_text }}. {{ ph.cta }}.",
        ),
        seo=True,
    ),
    ContentType(
        "meta_ad",
        "Meta / Facebook ad",
        "Facebook / Instagram ads",
        Limit(max_chars=125, note="Primary text; Meta cuts longer text with 'See more'"),
        "Write the primary text of a Facebook/Instagram ad, at most 125 characters, that "
        "stops the scroll and ends with a call to action. Return only the text.",
        (
            "{{ ph.opener }}{{ ph.end }} {{ ph.short_benefit }}, {{ p.price_text }}. "
            "{{ ph.cta }}{{ ph.end }}",
            "{{ ph.question }} {{ p.name }}, {{ p.price_text }}. {{ ph.cta }}{{ ph.end }}",
        ),
    ),
    ContentType(
        "email_subject",
        "Email subject line",
        "Email",
        Limit(max_chars=60, note="Most inboxes show about 60 characters"),
        "Write one email subject line of at most 60 characters. No spammy words "
        "(free!!!, act now), no all-caps. Return only the subject line.",
        (
            "{{ ph.subject }}",
            "{{ p.name }}: {{ ph.short_benefit|lower }}",
            "{{ ph.question }}",
        ),
    ),
    ContentType(
        "email_preview",
        "Email preview text",
        "Email",
        Limit(min_chars=40, max_chars=90, note="Shown after the subject in most inboxes"),
        "Write email preview (pre-header) text of 40-90 characters that adds to the subject "
        "line instead of repeating it. Return only the text.",
        (
            "The {{ p.name }}" + _FOR + ", {{ p.price_text }}. {{ ph.cta }}.",
            "{{ p.name }}: {{ ph.short_benefit|lower }}. {{ ph.cta }}.",
        ),
    ),
    ContentType(
        "email_body",
        "Marketing email body",
        "Email",
        Limit(min_words=60, max_words=250),
        "Write a marketing email body of 80-180 words: greeting, a short hook, two short "
        "paragraphs on the product, one clear call to action and a sign-off from the brand. "
        "No subject line.",
        (
            "{{ ph.greeting }}\n\n{{ ph.opener }}{{ ph.end }} {{ ph.pitch }}{{ ph.end }}\n\n"
            "{{ ph.detail }}{% if p.features %} {{ ph.features_intro }} "
            "{{ p.features|sentence }}.{% endif %} {{ ph.benefit }}{{ ph.end }} "
            "{{ ph.reason }}{% if ph.audience_line %} {{ ph.audience_line }}{% endif %}\n\n"
            "{{ ph.value }}\n\n{{ ph.cta }}{{ ph.end }}\n\n{{ ph.signoff }}",
        ),
    ),
    ContentType(
        "linkedin_post",
        "LinkedIn post",
        "LinkedIn",
        Limit(max_chars=3000, hard=True, note="About 210 characters show before 'see more'"),
        "Write a LinkedIn post of 60-150 words for a professional audience: a first line "
        "that earns the click on 'see more', short paragraphs, at most three hashtags.",
        (
            "{{ ph.opener }}{{ ph.end }}\n\n{{ ph.pitch }}{{ ph.end }} {{ ph.detail }}\n\n"
            "{% if p.features %}{{ ph.features_intro }} {{ p.features|sentence }}.\n\n{% endif %}"
            "{{ ph.benefit }}{{ ph.end }} {{ ph.cta }}{{ ph.end }}\n\n{{ ph.hashtags }}",
        ),
    ),
    ContentType(
        "x_post",
        "X post",
        "X (Twitter)",
        Limit(max_chars=280, hard=True),
        "Write one post for X of at most 280 characters, with at most two hashtags. "
        "Return only the post.",
        (
            "{{ ph.opener }}{{ ph.end }} {{ ph.short_benefit }}, {{ p.price_text }}. "
            "{{ ph.cta }}{{ ph.end }} {{ ph.hashtags }}",
            "{{ ph.question }} {{ p.name }}: {{ ph.short_benefit|lower }}. "
            "{{ ph.cta }}{{ ph.end }} {{ ph.hashtags }}",
        ),
    ),
    ContentType(
        "instagram_caption",
        "Instagram caption",
        "Instagram",
        Limit(max_chars=2200, hard=True, note="About 125 characters show before 'more'"),
        "Write an Instagram caption: a first line under 125 characters that works alone, "
        "one or two short lines after it, a call to action, then 3-6 relevant hashtags.",
        (
            "{{ ph.opener }}{{ ph.end }}\n\n{{ ph.pitch }}{{ ph.end }}"
            "{% if p.features %} {{ ph.features_intro }} {{ p.features[:2]|sentence }}.{% endif %}"
            "\n\n"
            "{{ ph.cta }}{{ ph.end }}\n\n{{ ph.hashtags }}",
        ),
    ),
    ContentType(
        "sms",
        "SMS",
        "SMS",
        Limit(max_chars=160, hard=True, note="One GSM-7 segment; 70 characters with emoji"),
        "Write one SMS marketing message of at most 160 characters using only plain "
        "characters (no emoji), with a call to action and 'Reply STOP to opt out'.",
        (
            "{% if v.brand %}{{ v.brand }}: {% endif %}{{ p.name }}, {{ p.price_text }}. "
            "{{ ph.cta }}. Reply STOP to opt out",
            "{% if v.brand %}{{ v.brand }}: {% endif %}{{ ph.short_benefit }}. {{ ph.cta }}. "
            "Reply STOP to opt out",
        ),
        sms=True,
    ),
    ContentType(
        "landing_hero",
        "Landing-page hero",
        "Website",
        Limit(max_words=45, note="Headline, subheadline and button label"),
        "Write a landing-page hero as three lines: a headline of at most 8 words, a "
        "subheadline of at most 25 words, and a button label of at most 4 words.",
        (
            "{% if keyword %}{{ ph.kw_title }}{% else %}{{ ph.headline }}{% endif %}\n"
            "{{ ph.pitch }}{{ ph.end }}\n{{ ph.button }}",
            "{{ p.name }}"
            + _FOR
            + "\n{{ ph.short_benefit }}, {{ p.price_text }}.\n{{ ph.button }}",
        ),
        seo=True,
    ),
    ContentType(
        "meta_title",
        "Meta title",
        "Search (SEO)",
        Limit(max_chars=60, note="Search results cut titles past about 60 characters"),
        "Write an HTML page title of at most 60 characters with the keyword near the start "
        "and the brand at the end. Return only the title.",
        (
            "{% if keyword %}{{ ph.kw_title }}: {% endif %}{{ p.name }} | {{ p.category }}"
            + _BRAND,
            "{% if keyword %}{{ ph.kw_title }}: {% endif %}{{ p.name }}" + _BRAND,
            "{{ p.name }}" + _BRAND,
        ),
        seo=True,
    ),
    ContentType(
        "meta_description",
        "Meta description",
        "Search (SEO)",
        Limit(min_chars=70, max_chars=160, note="Search results cut descriptions past 155-160"),
        "Write a meta description of 120-155 characters with the keyword once and a reason "
        "to click. Return only the description.",
        (
            "{{ ph.pitch }}. {{ ph.short_benefit }}, {{ p.price_text }}. "
            "{{ ph.cta }}{% if v.brand %} at {{ v.brand }}{% endif %}.",
            "{{ p.name }}: {{ ph.short_benefit|lower }}. {{ ph.cta }}"
            "{% if v.brand %} at {{ v.brand }}{% endif %}.",
        ),
        seo=True,
    ),
    ContentType(
        "blog_outline",
        "Blog outline",
        "Blog",
        Limit(min_words=60, max_words=400),
        "Write a blog post outline: a working title, a one-sentence angle, 4-6 section "
        "headings with 1-2 bullet points each, and a closing call to action. Markdown-free "
        "plain text with numbered sections.",
        (
            "Title: {{ ph.blog_title }}\n"
            "Angle: {{ ph.angle }}\n\n"
            "1. Why {{ p.category|lower }} matters" + _FOR + "\n"
            "   - The problem {{ a.name|lower if a.name else 'shoppers' }} run into\n"
            "   - What to look for\n"
            "2. Meet the {{ p.name }}\n"
            "   - {{ ph.short_benefit }}\n"
            "{% for f in p.features[:3] %}   - {{ f }}\n{% endfor %}"
            "3. How to choose the right {{ p.category|lower }}\n"
            "   - Price: {{ p.price_text }} and what it buys\n"
            "   - Questions to ask before you buy\n"
            "4. Getting the most from it\n"
            "   - Care and everyday use\n"
            "   - Pairing it with the rest of your kit\n"
            "5. Wrap-up\n"
            "   - {{ ph.cta }}",
        ),
        seo=True,
    ),
    ContentType(
        "press_release",
        "Press release",
        "PR",
        Limit(min_words=120, max_words=800),
        "Write a press release: headline, dateline, a lead paragraph (who, what, when, "
        "where, why), two body paragraphs, one quote attributed to 'a spokesperson' (never "
        "invent names), availability and pricing, then an 'About' boilerplate and ###.",
        (
            "{% if v.brand %}{{ v.brand }} {{ ph.press_headline }}{% else %}Introducing the "
            "{{ p.name }}{% endif %}\n\n"
            "FOR IMMEDIATE RELEASE\n\n"
            "{{ v.brand or 'The company' }} today announced the {{ p.name }}, {{ ph.press_what }}"
            "{% if a.name %}, designed for {{ a.name|lower }}{% endif %}. "
            "{{ ph.pitch }}.\n\n"
            "{{ ph.detail }}{% if p.features %} {{ ph.features_intro }} "
            "{{ p.features|sentence }}.{% endif %} {{ ph.benefit }}.\n\n"
            '"{{ ph.quote }}," said a spokesperson'
            "{% if v.brand %} for {{ v.brand }}{% endif %}.\n\n"
            "Availability and pricing\n"
            "The {{ p.name }} is available now at {{ p.price_text }}.\n\n"
            "{% if v.brand %}About {{ v.brand }}\n{{ v.brand }} {{ ph.boilerplate }}\n\n"
            "{% endif %}###",
        ),
    ),
):
    register(_type)

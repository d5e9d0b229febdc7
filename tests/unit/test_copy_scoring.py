"""Scoring checks: channel limits, SMS encoding, SEO placement and density, brand voice."""

from __future__ import annotations

import pytest

from core.copy.content_types import get
from core.copy.scoring import FAIL, PASS, WARN, score_text, sms_segments
from core.copy.voices import BrandVoice


def check(score, key):
    found = [c for c in score.checks if c.key == key]
    assert len(found) == 1, [c.key for c in score.checks]
    return found[0]


def test_a_google_headline_over_30_characters_fails_and_says_why():
    headline = get("google_ads_headline")
    ok = check(score_text("Trail Backpack, $129.99", headline), "length")
    assert ok.status == PASS and ok.why.startswith("23 characters, 3 words: within at most 30")
    long = check(score_text("The Trail Backpack for every weekend", headline), "length")
    assert long.status == FAIL
    assert long.why == (
        "36 characters, over the 30 maximum (at most 30 characters (hard limit); "
        "Responsive search ad headline). The channel will reject or cut it."
    )


def test_soft_limits_warn_and_minimums_count():
    preview = get("email_preview")
    short = check(score_text("New tents.", preview), "length")
    assert short.status == WARN and "10 characters, under the 40 minimum" in short.why
    subject = check(score_text("x" * 61, get("email_subject")), "length")
    assert subject.status == WARN and "61 characters, over the 60 maximum" in subject.why


def test_sms_counts_gsm7_and_ucs2_segments():
    assert sms_segments("a" * 160) == ("GSM-7", 160, 1)
    assert sms_segments("a" * 161) == ("GSM-7", 161, 2)
    assert sms_segments("€" * 80) == ("GSM-7", 160, 1)  # extension characters take two slots
    assert sms_segments("Tents 🏕") == ("UCS-2", 8, 1)  # an emoji is two UTF-16 units
    assert sms_segments("é" * 70 + "🏕")[2] == 2 or sms_segments("ż" * 71) == ("UCS-2", 71, 2)
    emoji = check(score_text("Sale on tents 🏕 today", get("sms")), "sms_encoding")
    assert emoji.status == WARN
    assert "🏕 are not GSM-7 characters, so the message is sent as UCS-2" in emoji.why
    long = check(score_text("a" * 200, get("sms")), "sms_encoding")
    assert long.status == FAIL and "200 of 160 characters: 2 segment(s)" in long.why


def test_seo_keyword_in_title_early_and_density():
    text = "Hiking backpacks for every trail\n\n" + " ".join(["word"] * 60) + " hiking backpack."
    description = get("product_description")
    score = score_text(text, description, keyword="Hiking backpack")
    assert check(score, "keyword_title").status == WARN  # "backpacks" is not "backpack"
    early = check(score, "keyword_early")
    assert (
        early.status == PASS
        and early.why == "'Hiking backpack' appears within the first 100 words."
    )
    density = check(score, "keyword_density")
    assert density.status == PASS
    assert density.why == (
        "'Hiking backpack' 1 time(s) in 67 words = 3.0%, within the usual 0.5-3%."
    )
    stuffed = " ".join(["hiking backpack"] * 30)
    assert check(score_text(stuffed, description, keyword="hiking backpack"),
                 "keyword_density").status == WARN  # fmt: skip
    # Not an SEO channel, or no keyword: no SEO checks at all.
    assert not [c for c in score_text(text, get("sms"), keyword="x").checks if c.group == "seo"]
    assert not [c for c in score_text(text, description).checks if c.group == "seo"]


VOICE = BrandVoice(
    name="Lumen",
    brand="Lumen Goods",
    tone={"formality": 20, "energy": 20},
    preferred=("trail", "built to last"),
    banned=("cheap", "world-class"),
    reading_grade=6.0,
)


def test_brand_voice_checks_name_the_problem_words():
    text = (
        "Our world-class tent isn't cheap to make, and you'll love it! It is built to last "
        "through many long seasons of rain, wind, sun and everyday wear on the trail."
    )
    score = score_text(text, None, VOICE)
    banned = check(score, "banned_words")
    assert banned.status == FAIL
    assert banned.why == "Uses 'cheap', 'world-class', banned by the Lumen voice."
    assert check(score, "preferred_words").status == PASS
    assert "'built to last'" in check(score, "preferred_words").why
    formality = check(score, "formality")
    assert formality.status == WARN and formality.why.startswith("2 contraction(s)")
    energy = check(score, "energy")
    assert energy.status == WARN and "1 exclamation mark(s) in a calm voice" in energy.why


def test_reading_level_against_the_voice_target():
    simple = "The tent is light. It packs small. You can set it up in a minute or two."
    hard = (
        "Engineered with proprietary hydrostatic membranes, this configuration "
        "demonstrates considerable environmental resilience during extraordinary "
        "meteorological circumstances."
    )
    assert check(score_text(simple, None, VOICE), "reading_level").status == WARN  # too easy
    too_hard = check(score_text(hard, None, VOICE), "reading_level")
    assert too_hard.status == WARN and "is above the target 6" in too_hard.why
    assert "use shorter sentences and words" in too_hard.why
    easy_target = BrandVoice(name="x", brand="x", reading_grade=1.0)
    assert check(score_text(simple, None, easy_target), "reading_level").status == PASS


def test_markup_in_model_output_is_flagged():
    score = score_text("**Big** sale on <b>tents</b>")
    assert check(score, "markup").status == WARN
    assert not [c for c in score_text("Plain sale on tents.").checks if c.key == "markup"]


@pytest.mark.parametrize("key", ["google_ads_headline", "sms", "meta_description", "x_post"])
def test_score_json_is_complete(key):
    payload = score_text("Meet the Trail Backpack. Get yours now.", get(key)).as_json()
    assert set(payload) >= {"words", "flesch_reading_ease", "flesch_kincaid_grade", "sentiment"}
    assert all(c["why"] for c in payload["checks"])

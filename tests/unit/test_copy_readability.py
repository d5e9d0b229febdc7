"""Readability and sentiment against known answers (textbook sentences, VADER's own examples)."""

from __future__ import annotations

import pytest

from core.copy import readability, sentiment
from core.copy.readability import analyse, flesch, syllables


def test_the_cat_sat_on_the_mat():
    # 6 words, 1 sentence, 6 syllables: 206.835 - 1.015 * 6 - 84.6 * 1 = 116.145
    r = analyse("The cat sat on the mat.")
    assert (r.words, r.sentences, r.syllables) == (6, 1, 6)
    assert r.reading_ease == pytest.approx(116.145, abs=0.005)
    assert r.grade == pytest.approx(0.39 * 6 + 11.8 - 15.59, abs=0.005)  # -1.45
    assert r.ease_band() == "very easy"


def test_the_platypus_sentence_of_the_flesch_kincaid_article():
    # The published worked example: 13 words and 24 syllables give grade 11.3 (ease 37.5).
    r = analyse("The Australian platypus is seemingly a hybrid of a mammal and reptilian creature.")
    assert (r.words, r.sentences, r.syllables) == (13, 1, 24)
    assert round(r.grade, 1) == 11.3
    assert round(r.reading_ease, 1) == 37.5


def test_a_two_sentence_passage_counted_by_hand():
    # The(1) quick(1) brown(1) fox(1) jumps(1) over(2) the(1) lazy(2) dog(1) = 11 / 9 words
    # It(1) was(1) not(1) amused(2) = 5 / 4 words  ->  13 words, 2 sentences, 16 syllables
    r = analyse("The quick brown fox jumps over the lazy dog. It was not amused!")
    assert (r.words, r.sentences, r.syllables) == (13, 2, 16)
    assert r.reading_ease == pytest.approx(206.835 - 1.015 * 6.5 - 84.6 * 16 / 13, abs=0.005)
    assert r.grade == pytest.approx(0.39 * 6.5 + 11.8 * 16 / 13 - 15.59, abs=0.005)


def test_formulas_from_counts():
    ease, grade = flesch(100, 5, 150)
    assert ease == pytest.approx(206.835 - 1.015 * 20 - 84.6 * 1.5)
    assert grade == pytest.approx(0.39 * 20 + 11.8 * 1.5 - 15.59)


@pytest.mark.parametrize(
    ("word", "count"),
    [("every", 3), ("beautiful", 3), ("platypus", 3), ("creature", 2), ("the", 1),
     ("Hiking", 2), ("don't", 1), ("brand's", 1), ("zorblax", 2), ("ache", 1), ("2024", 4)],
)  # fmt: skip
def test_syllables_from_the_pronouncing_dictionary_or_vowel_groups(word, count):
    assert syllables(word) == count


def test_line_breaks_end_sentences_for_headlines_and_lists():
    assert readability.sentence_count("Summer sale\nEverything must go\n\n") == 2
    assert readability.sentence_count("Price 3.5 kg. Done") == 2  # a decimal is not an end
    assert analyse("").reading_ease is None and analyse("!!! ...").words == 0


def test_dictionary_ships_with_the_package():
    readability.load()
    assert len(readability._dictionary()) > 100_000


def test_vader_on_its_own_readme_examples():
    good = sentiment.analyse("VADER is smart, handsome, and funny.")
    assert good.compound == pytest.approx(0.8316, abs=1e-4)
    assert (good.positive, good.neutral, good.negative) == pytest.approx((0.746, 0.254, 0.0))
    assert good.label == "positive"
    bad = sentiment.analyse("VADER is not smart, handsome, nor funny.")
    assert bad.compound == pytest.approx(-0.7424, abs=1e-4) and bad.label == "negative"


def test_sentiment_explains_itself_with_the_words_that_carried_it():
    s = sentiment.analyse("A great tent, but the zip is terrible.")
    words = [w for w, _ in s.drivers]
    assert words[:2] == ["great", "terrible"]  # strongest valence first
    assert "carried by: great (+3.1), terrible (-2.1)." in s.why()
    assert sentiment.analyse("The tent is green.").why() == (
        "Neutral (+0.00): no words with a strong tone."
    )

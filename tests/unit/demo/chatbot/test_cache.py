"""The example app's semantic cache: cosine of word counts, a threshold, a bound."""

from __future__ import annotations

import pytest

from otel_chatbot.demo.chatbot.cache import CachedAnswer, SemanticCache, cosine, words

ANSWER = CachedAnswer("It ships tomorrow.", "end_turn", 120, 30)


def test_the_same_question_in_other_words_is_a_hit_and_another_question_a_miss() -> None:
    cache = SemanticCache()
    cache.store("Where is my order?", ANSWER)
    assert cache.lookup("where is my ORDER") == (ANSWER, pytest.approx(1.0))
    found, similarity = cache.lookup("Can you recommend a rain jacket?")
    assert found is None and similarity == 0.0
    found, similarity = cache.lookup("where is the order I placed yesterday")
    assert found is None and 0.3 < similarity < 0.85, "close, not close enough: the similarity says how close"


def test_cosine_of_word_counts() -> None:
    assert cosine(words("order status"), words("status order")) == pytest.approx(1.0)
    assert cosine(words("order status"), words("order")) == pytest.approx(2**-0.5)
    assert cosine(words(""), words("order")) == 0.0


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = SemanticCache(capacity=2)
    cache.store("first question", ANSWER)
    cache.store("second question", ANSWER)
    assert cache.lookup("first question")[0] is ANSWER  # used: now the most recent
    cache.store("third question", ANSWER)
    assert len(cache) == 2
    assert cache.lookup("second question")[0] is None
    assert cache.lookup("first question")[0] is ANSWER


@pytest.mark.parametrize(("threshold", "capacity"), [(0.0, 1), (1.5, 1), (0.85, 0)])
def test_bad_settings_are_refused(threshold: float, capacity: int) -> None:
    with pytest.raises(ValueError):
        SemanticCache(threshold=threshold, capacity=capacity)

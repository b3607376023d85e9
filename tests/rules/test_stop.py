"""STOP replies: whole text or first word, case, accents and punctuation folded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscope.config import DEFAULT_STOP_KEYWORDS, StopConfig
from smscope.rules.stop import StopMatcher, fold

MATCHER = StopMatcher(DEFAULT_STOP_KEYWORDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the keyword itself, in any case
        ("STOP", True),
        ("stop", True),
        ("Stop", True),
        ("sToP", True),
        # punctuation and whitespace around it
        ("Stop!", True),
        ("stop.", True),
        ("  STOP  \n", True),
        ("« STOP »", True),
        ('"stop"', True),
        ("¡BAJA!", True),
        ("STOP!!!", True),
        ("...stop", True),
        # emoji and symbols around it
        ("STOP 🙏", True),
        ("STOP🙏", True),
        ("🙏 stop 🙏", True),
        ("STOP ❤️", True),
        # accents and compatibility forms
        ("Arrêt", True),
        ("ARRÊT", True),
        ("arrêter", True),
        ("Désabonner", True),
        ("ＳＴＯＰ", True),
        ("stop\u00a0!", True),
        # first word
        ("STOP merci", True),
        ("Stop, please", True),
        ("arrêt svp", True),
        ("Baja por favor", True),
        ("stopp\tbitte", True),
        ("Fin.", True),
        # not an unsubscribe
        ("stopper", False),
        ("Don't stop", False),
        ("don’t stop", False),
        ("please stop", False),
        ("Ne pas arrêter", False),
        ("unstoppable", False),
        ("St op", False),
        ("S.T.O.P", False),
        ("stop-smoking tips?", False),
        ("", False),
        ("   ", False),
        ("!!!", False),
        ("🙏", False),
        ("🙏🙏 ❤️", False),
        ("Bonjour", False),
        ("OK", False),
    ],
)
def test_default_keywords(text: str, expected: bool) -> None:
    assert MATCHER.matches(text) is expected


def test_keyword_with_a_space_matches_the_whole_text() -> None:
    matcher = StopMatcher(["STOP SMS"])
    assert matcher.matches("stop sms")
    assert matcher.matches("  Stop   SMS ! ")
    assert not matcher.matches("stop")
    assert not matcher.matches("stop sms please")


def test_configured_keywords_replace_the_defaults() -> None:
    matcher = StopMatcher(StopConfig(keywords=["désinscrire", "NON"]).keywords)
    assert matcher.matches("DESINSCRIRE")
    assert matcher.matches("non!")
    assert not matcher.matches("STOP")


def test_keywords_are_folded_and_trimmed_once() -> None:
    assert StopMatcher(["  Arrêt! ", "STOP"]).keywords == {"arret", "stop"}


def test_default_matcher_uses_the_default_keywords() -> None:
    assert StopMatcher().keywords == {fold(k) for k in DEFAULT_STOP_KEYWORDS}


def test_no_keyword_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        StopMatcher(["", " ! "])


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Arrêt", "arret"), ("STRASSE", "strasse"), ("Straße", "strasse"),
     ("ＳＴＯＰ", "stop"), ("Ñandú", "nandu"), ("ﬁn", "fin"), ("", "")],
)
def test_fold_removes_case_accents_and_compatibility_forms(text: str, folded: str) -> None:
    assert fold(text) == folded


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_matches_never_raises(text: str) -> None:
    assert MATCHER.matches(text) in (True, False)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(DEFAULT_STOP_KEYWORDS), st.text(alphabet=" .!?«»\"'🙏\n"))
def test_keyword_wrapped_in_punctuation_always_matches(keyword: str, junk: str) -> None:
    assert MATCHER.matches(junk + keyword.lower() + junk)

"""The search parser: Anki's syntax to a tree, errors with positions, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studylog.cardsearch import (
    CARD_KINDS,
    IS_KINDS,
    OPERATORS,
    PROPERTIES,
    Added,
    All,
    And,
    Concept,
    Deck,
    Introduced,
    Is,
    Kind,
    Not,
    Or,
    Prop,
    Rated,
    SearchSyntaxError,
    Tag,
    Text,
    parse,
    render,
)

PARSED = [
    ("", All()),
    ("dog", Text("dog")),
    ("dog cat", And((Text("dog"), Text("cat")))),
    ("dog and cat", And((Text("dog"), Text("cat")))),
    ("dog or cat", Or((Text("dog"), Text("cat")))),
    ("a b OR c", Or((And((Text("a"), Text("b"))), Text("c")))),  # AND binds tighter
    ("a (b OR c)", And((Text("a"), Or((Text("b"), Text("c")))))),
    ("-dog", Not(Text("dog"))),
    ("-(a OR b)", Not(Or((Text("a"), Text("b"))))),
    ('"a dog"', Text("a dog")),
    ('-"a dog"', Not(Text("a dog"))),
    ("d_g d*g", And((Text("d_g"), Text("d*g")))),
    (r"d\_g d\*g a\\b", And((Text(r"d\_g"), Text(r"d\*g"), Text(r"a\\b")))),
    (r"a\:b \-x \(y\)", And((Text("a:b"), Text("-x"), Text("(y)")))),
    ("어텐션 🧠", And((Text("어텐션"), Text("🧠")))),
    ("deck:딥러닝::RNN", Deck("딥러닝::RNN")),
    ('deck:"밑바닥 2"', Deck("밑바닥 2")),
    ('"deck:밑바닥 2"', Deck("밑바닥 2")),
    ("DECK:a*", Deck("a*")),
    ("tag:attention", Tag("attention")),
    ("tag:none", Tag("none")),
    ("concept:lstm", Concept("lstm")),
    ("is:due -is:suspended", And((Is("due"), Not(Is("suspended"))))),
    ("is:LEECH", Is("leech")),
    ("kind:computed -kind:Exercise", And((Kind("computed"), Not(Kind("exercise"))))),
    ("kind:basic OR kind:cloze", Or((Kind("basic"), Kind("cloze")))),
    ("prop:ivl>=10", Prop("ivl", ">=", 10)),
    ("prop:due=-1", Prop("due", "=", -1)),
    ("prop:reps!=0", Prop("reps", "!=", 0)),
    ("prop:lapses>3", Prop("lapses", ">", 3)),
    ("prop:s<=2.5", Prop("s", "<=", 2.5)),
    ("prop:d>0.7", Prop("d", ">", 0.7)),
    ("prop:r<.9", Prop("r", "<", 0.9)),
    ("rated:7", Rated(7)),
    ("rated:2:1", Rated(2, 1)),
    ("added:1", Added(1)),
    ("introduced:30", Introduced(30)),
    ("--a", Not(Not(Text("a")))),
    ("((a))", Text("a")),
]


@pytest.mark.parametrize(("text", "tree"), PARSED)
def test_parse(text: str, tree) -> None:  # noqa: ANN001
    assert parse(text) == tree
    assert parse(render(tree)) == tree


# (search, 1-based column of the problem, words of the message)
MALFORMED = [
    ("(", 2, "missing"),
    ("a )", 3, "without a matching '('"),
    ("(a", 1, "never closed"),
    ("a OR", 5, "OR needs a term after it"),
    ("OR a", 1, "OR needs a term before it"),
    ("a OR OR b", 6, "OR needs a term before it"),
    ("()", 2, "empty parentheses"),
    ('say "hi', 5, "quote is never closed"),
    ('a"b', 2, "quote inside a word"),
    ("- a", 1, "'-' must be followed by a term"),
    ("a -", 3, "'-' must be followed by a term"),
    ("foo:bar", 1, "unknown search key 'foo'"),
    ("deck:", 6, "deck: needs a name"),
    ("is:fresh", 4, "is: takes new, learn"),
    ("prop:x>1", 6, "prop: takes ivl"),
    ("prop:ivl", 9, "needs an operator"),
    ("prop:ivl>1.5", 10, "whole number"),
    ("prop:s>abc", 8, "needs a number"),
    ("prop:r>1.5", 8, "between 0 and 1"),
    ("rated:0", 7, "number of days"),
    ("rated:1:5", 9, "rating 1-4"),
    ("added:x", 7, "number of days"),
    ("a\\", 2, "backslash at the end"),
    (r"a\q", 1, r"unknown escape \q"),
    ("(" * 150 + "a" + ")" * 150, 101, "nested more than 100 deep"),
]


@pytest.mark.parametrize(("text", "column", "words"), MALFORMED)
def test_malformed_search_names_the_position(text: str, column: int, words: str) -> None:
    with pytest.raises(SearchSyntaxError) as caught:
        parse(text)
    err = caught.value
    assert words in err.reason
    assert err.position + 1 == column
    assert str(err).startswith(f"search error at column {column}: ")
    assert "\n" not in str(err)


# --- property tests ------------------------------------------------------------------

_ALPHABET = st.sampled_from(list('ab -"()\\:*_OoRrAaNnDd한🧠\t') + [":", "deck:", "is:", "prop:"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_any_text_parses_or_raises_one_search_error(text: str) -> None:
    try:
        tree = parse(text)
    except SearchSyntaxError as err:
        assert 0 <= err.position <= len(text)
        return
    # What parses renders to text that parses to the same tree.
    assert parse(render(tree)) == tree


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_never_crashes(text: str) -> None:
    try:
        tree = parse(text)
    except SearchSyntaxError:
        return
    assert parse(render(tree)) == tree


def _pattern_chars() -> st.SearchStrategy[str]:
    plain = st.characters(blacklist_categories=("Cs",), blacklist_characters="\\")
    escaped = st.sampled_from([r"\*", r"\_", r"\\"])
    return st.lists(st.one_of(plain, escaped), min_size=1, max_size=8).map("".join)


_patterns = _pattern_chars()
_leaves = st.one_of(
    _patterns.map(Text),
    _patterns.map(Deck),
    _patterns.map(Tag),
    _patterns.map(Concept),
    st.sampled_from(IS_KINDS).map(Is),
    st.sampled_from(CARD_KINDS).map(Kind),
    st.builds(
        Prop,
        st.sampled_from([k for k, whole in PROPERTIES.items() if whole]),
        st.sampled_from(OPERATORS),
        st.integers(-1000, 100_000),
    ),
    st.builds(
        Prop,
        st.sampled_from(["s"]),
        st.sampled_from(OPERATORS),
        st.floats(0, 36500).map(lambda x: round(x, 6)),
    ),
    st.builds(
        Prop,
        st.sampled_from(["d", "r"]),
        st.sampled_from(OPERATORS),
        st.floats(0, 1).map(lambda x: round(x, 6)),
    ),
    st.builds(Rated, st.integers(1, 365), st.one_of(st.none(), st.integers(1, 4))),
    st.integers(1, 365).map(Added),
    st.integers(1, 365).map(Introduced),
)
_trees = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=4).map(lambda c: And(tuple(c))),
        st.lists(inner, min_size=2, max_size=4).map(lambda c: Or(tuple(c))),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_trees)
def test_render_then_parse_is_the_same_tree(tree) -> None:  # noqa: ANN001
    assert parse(render(tree)) == tree

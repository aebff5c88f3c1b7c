"""Structural checks of every concept file in the built-in pack (content/concepts/*.md).

Runs over whatever files exist, so it covers concepts added later too. Demo
modules are checked by parsing their source (AST), never by importing them.
"""

import ast
import re
from pathlib import Path

import pytest

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept

ROOT = Path(__file__).resolve().parents[2]
CONCEPTS = ROOT / "content" / "concepts"
DEMOS = ROOT / "content" / "demos"
CONCEPT_FILES = sorted(CONCEPTS.glob("*.md"))

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# [[slug]] or [[slug|shown text]]; code spans and fenced blocks are removed first,
# so NumPy fancy indexing like `a[[0, 2]]` is not mistaken for a link.
LINK = re.compile(r"\[\[([^\]|]+)(?:\|[^\]]*)?\]\]")
FENCED = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)

# Issue 5: the concepts the built-in pack must contain (29 slugs).
EXPECTED_SLUGS = [
    "rnn",
    "vanishing-exploding-gradients",
    "lstm",
    "gru",
    "bidirectional-rnn",
    "seq2seq",
    "peeky-seq2seq",
    "alignment",
    "attention",
    "scaled-dot-product-attention",
    "multi-head-attention",
    "masked-attention",
    "positional-encoding",
    "layer-normalization",
    "skip-connection",
    "transformer-block",
    "neural-turing-machine",
    "vit-patch-embedding",
    "conv-as-dense",
    "autoregressive-models",
    "generative-models",
    "gpt-pretraining",
    "bleu",
    "softmax",
    "bootstrapping",
    "data-preprocessing",
    "np-dot-shapes",
    "ites-uint32",
    "cofactor-expansion",
]


def existing_slugs() -> set[str]:
    return {p.stem for p in CONCEPTS.glob("*.md")}


def wiki_links(markdown: str) -> list[str]:
    """The targets of [[...]] links outside code."""
    text = CODE_SPAN.sub("", FENCED.sub("", markdown))
    return [m.group(1).strip() for m in LINK.finditer(text)]


def defines_top_level_demo(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "demo"
        for node in tree.body
    )


@pytest.fixture(params=CONCEPT_FILES, ids=[p.stem for p in CONCEPT_FILES])
def concept(request):
    path = request.param
    return path, parse_concept(path.read_text(encoding="utf-8"), str(path))


def test_the_pack_has_concept_files():
    assert CONCEPT_FILES, f"no concept files in {CONCEPTS}"


def test_slug_equals_file_name(concept):
    path, c = concept
    assert c.slug == path.stem


def test_at_least_three_cards(concept):
    _, c = concept
    keys = {card.key for card in c.cards}
    assert len(keys) >= 3, f"only {len(keys)} cards: {sorted(keys)}"


def test_has_a_korean_alias(concept):
    _, c = concept
    assert any(HANGUL.search(a) for a in c.aliases), f"no Hangul in aliases {c.aliases}"


def test_has_sources(concept):
    _, c = concept
    assert c.sources and all(s.strip() for s in c.sources)


def test_demo_file_exists_and_defines_demo(concept):
    _, c = concept
    assert c.demo, "front matter has no 'demo:'"
    assert c.demo == c.slug.replace("-", "_") + ".py", "demo module should be the slug with _"
    path = DEMOS / c.demo
    assert path.is_file(), f"{path} does not exist"
    assert defines_top_level_demo(path), f"{path} has no top-level def demo()"


def test_related_slugs_exist(concept):
    _, c = concept
    missing = sorted(set(c.related) - existing_slugs())
    assert not missing, f"related slugs without a concept file: {missing}"
    assert c.slug not in c.related


def test_wiki_links_point_to_concept_files(concept):
    _, c = concept
    texts = [c.body] + [card.front for card in c.cards] + [card.back for card in c.cards]
    links = {link for text in texts for link in wiki_links(text)}
    missing = sorted(links - existing_slugs())
    assert not missing, f"[[links]] without a concept file: {missing}"


def test_cloze_deletions_have_balanced_braces(concept):
    # CLOZE stops at the first '}}', so '{{c1::$u_{ii}$}}' works but '{{c1::u_{ii}}}' is cut short.
    _, c = concept
    for card in c.cards:
        if card.kind != "cloze":
            continue
        for m in CLOZE.finditer(card.front):
            answer = m.group(2)
            assert answer.count("{") == answer.count("}"), f"card {card.key}: {{{{...{answer}}}}}"


def test_helpers_find_links_and_demo():
    assert wiki_links("see [[rnn]] and [[lstm|the LSTM]], not `a[[0, 1]]`") == ["rnn", "lstm"]
    assert wiki_links("```python\nx = a[[1, 2]]\n```\n[[gru]]") == ["gru"]
    assert defines_top_level_demo(DEMOS / "common.py") is False


def test_all_expected_concepts_exist():
    assert len(EXPECTED_SLUGS) == len(set(EXPECTED_SLUGS)) == 29
    missing = [s for s in EXPECTED_SLUGS if not (CONCEPTS / f"{s}.md").is_file()]
    assert not missing, f"{len(missing)} of {len(EXPECTED_SLUGS)} concepts missing: {missing}"


def test_no_name_belongs_to_two_concepts():
    # A slug, title or alias is how [[links]], search and the palette find a concept;
    # one name for two concepts (it was 어텐션, 어텐션 가중치 and context vector) makes
    # [[어텐션]] open whichever comes first. Compared case-insensitively, as resolve() does.
    owners: dict[str, set[str]] = {}
    for path in CONCEPT_FILES:
        c = parse_concept(path.read_text(encoding="utf-8"), str(path))
        for name in {c.slug, c.title, *c.aliases}:
            owners.setdefault(name.strip().casefold(), set()).add(c.slug)
    shared = {name: sorted(slugs) for name, slugs in owners.items() if len(slugs) > 1}
    assert not shared, f"names of more than one concept: {shared}"


# Issue 16: six concepts the learners' notes need, each with at least five cards.
NEW_SLUGS = [
    "transformer",
    "convolution",
    "word-embedding",
    "hadamard-product",
    "unet-skip-connection",
    "sequence-data",
]


@pytest.mark.parametrize("slug", NEW_SLUGS)
def test_issue16_concepts_exist_with_five_cards(slug):
    path = CONCEPTS / f"{slug}.md"
    assert path.is_file(), f"{path} missing"
    c = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert len({card.key for card in c.cards}) >= 5
    assert len(c.sources) >= 2 and c.demo

"""Math as readable Unicode: expected strings written by hand from the Unicode charts,
pylatexenc itself as the reference where studylog adds nothing, markdown-it as the
judge of what a Markdown renderer makes of the result, and code left byte for byte."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pylatexenc.latex2text import LatexNodes2Text

from studylog.tui.mathtext import (
    _SUB,
    _SUP,
    latex_to_unicode,
    render_math,
    split_code,
    transform_prose,
)


def test_the_attention_weight_of_the_brief_reads_as_unicode() -> None:
    assert render_math(r"$\alpha_t = \mathrm{softmax}(e_t)$") == "αₜ = softmax\\(eₜ\\)"
    assert render_math(r"$\alpha_t = \mathrm{softmax}(e_t)$", markdown=False) == "αₜ = softmax(eₜ)"


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"x^2 + y_{ij}", "x² + yᵢⱼ"),
        (r"h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b)", "hₜ = tanh(Wₕₕ hₜ₋₁ + Wₓₕ xₜ + b)"),
        (r"\frac{QK^\top}{\sqrt{d_k}}", "QKᵀ/√dₖ"),
        (r"\frac{a+b}{c}", "(a+b)/c"),  # pylatexenc alone writes "a+b/c"
        (r"\frac{\partial L}{\partial W}", "∂L/∂W"),
        (r"\sum_{i=1}^{n} x_i", "∑ᵢ₌₁ⁿ xᵢ"),
        (r"e^{-x}", "e⁻ˣ"),
        (r"x^{(t)}", "x⁽ᵗ⁾"),
        (r"d_{model}", "d_model"),  # no subscript d: kept readable as written
        (r"\mathbb{R}^{d_{model}}", "ℝ^(d_model)"),
        (r"\hat{y} \in \mathbb{R}^{d}", "ŷ ∈ ℝᵈ"),
        (r"\text{if } x \geq 0", "if x ≥ 0"),
        (r"p(y \mid x)", "p(y ∣ x)"),
        (r"\log p(x)", "log p(x)"),
        (r"\sqrt{2}", "√2"),
        (r"\sqrt[3]{x}", "³√x"),
        (r"\mathbf{W} \odot \nabla L", "W ⊙ ∇L"),
        (r"a_{i,j}", "aᵢ,ⱼ"),
        (r"\beta_1, \beta_2", "β₁, β₂"),
        (
            r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V",
            "Attention(Q, K, V) = softmax(QKᵀ/√dₖ)V",
        ),
    ],
)
def test_formulas_read_as_expected(latex: str, expected: str) -> None:
    assert latex_to_unicode(latex) == expected


@pytest.mark.parametrize(
    "latex", [r"\alpha + \beta", r"\partial L / \partial W", r"\hat{y}", r"\mathcal{L}", r"\infty"]
)
def test_without_scripts_or_fractions_the_text_is_pylatexencs(latex: str) -> None:
    reference = LatexNodes2Text(math_mode="text").latex_to_text(latex)
    assert latex_to_unicode(latex) == " ".join(reference.split())


def test_script_tables_map_each_character_to_its_own_unicode_sub_or_superscript() -> None:
    # The Unicode names must agree (LATIN SMALL LETTER T -> LATIN SUBSCRIPT SMALL LETTER T,
    # DIGIT TWO -> SUPERSCRIPT TWO); the listed pairs are deliberate stand-ins.
    stand_ins = {("-", "₋"), ("-", "⁻"), ("ε", "ᵋ"), ("⊤", "ᵀ"), ("'", "′")}
    for table, kind in ((_SUB, "SUBSCRIPT"), (_SUP, "SUPERSCRIPT")):
        for plain, script in table.items():
            if (plain, script) in stand_ins or plain == script:
                continue
            name = unicodedata.name(script)
            assert name.split()[-1] == unicodedata.name(plain).split()[-1], (plain, script)
            assert kind in name or "MODIFIER LETTER" in name, (plain, script, name)


def test_display_math_and_multiline_environments() -> None:
    assert render_math("$$\\frac{1}{2}$$", markdown=False) == "1/2"
    text = "before\n$$\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n$$\nafter"
    assert render_math(text, markdown=False) == "before\na = b\nc = d\nafter"


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $10.",  # no math: a digit follows the closing dollar
        "a lone $ sign",
        "$ x$ has a space after the opening dollar",
        "shell: echo $HOME",
        "escaped \\$x\\$ stays",
    ],
)
def test_dollars_that_are_not_math_stay(text: str) -> None:
    assert render_math(text) == text


def test_escaped_dollars_become_dollars_in_plain_text() -> None:
    assert render_math("price \\$5", markdown=False) == "price $5"


def test_code_is_never_touched() -> None:
    text = (
        "inline `$x_1$` and ``a `$y$` b``\n\n"
        "```python\nprint('$x_1$')\n```\n\n"
        "~~~\n$y^2$\n~~~\n\n"
        "    $indented_code$\n\n"
        "math $z_1$ here\n"
    )
    out = render_math(text, markdown=False)
    for kept in ("`$x_1$`", "``a `$y$` b``", "print('$x_1$')", "$y^2$", "    $indented_code$"):
        assert kept in out
    assert "math z₁ here" in out


def test_an_unclosed_fence_runs_to_the_end() -> None:
    text = "$a$\n```\n$b$\nmore $c$\n"
    assert render_math(text, markdown=False) == "a\n```\n$b$\nmore $c$\n"


def test_list_continuations_are_not_code() -> None:
    text = "- item\n\n    more $y_1$\n"
    assert render_math(text, markdown=False) == "- item\n\n    more y₁\n"


def test_converted_math_stays_literal_in_markdown() -> None:
    # Underscores and stars in the converted text must not become emphasis.
    html = MarkdownIt().render(render_math(r"see $d_{model} * k * n_{heads}$ here"))
    assert "<em>" not in html and "<strong>" not in html
    assert "d_model * k * n_heads" in html


def test_malformed_tex_never_raises() -> None:
    for latex in ("\\frac{a", "x^", "}{", "\\begin{matrix} a", "_"):
        assert isinstance(latex_to_unicode(latex), str)
    assert render_math("$\\frac{a$ text", markdown=False).endswith("text")


@given(st.text(alphabet=st.sampled_from(list("ab $`~\n\\_^{}-*4 "))))
def test_split_code_gives_the_text_back(text: str) -> None:
    assert "".join(piece for _, piece in split_code(text)) == text
    assert transform_prose(text, lambda s: s) == text


@given(st.text(alphabet=st.sampled_from(list("ab $`~\n#*x"))))
def test_text_without_dollars_is_returned_as_is(text: str) -> None:
    text = text.replace("$", "")
    assert render_math(text) == text

"""GPT pre-training: shifted-target loss, gradients, entropy floors, causality, fine-tuning."""

import math
from pathlib import Path

import numpy as np
import pytest
from common import numerical_gradient, relative_error
from gpt_pretraining import (
    FINETUNE_LR,
    FINETUNE_STEPS,
    PRETRAIN_LR,
    PRETRAIN_STEPS,
    TOKEN,
    VOCAB,
    conditional_entropy,
    decode,
    demo,
    forward,
    generate,
    init_params,
    label_loss_and_accuracy,
    next_token_loss,
    pretraining_corpus,
    task_data,
    train,
)

from studylog.content.cloze import CLOZE
from studylog.content.concept_file import parse_concept
from studylog.demo import api as out


def small_model(seed=0, dim=8, scale=0.3):
    rng = np.random.default_rng(seed)
    p = init_params(len(VOCAB), 6, dim, rng)
    for k in p:  # larger weights than the init so every path carries gradient
        p[k] = p[k] + scale * rng.normal(size=p[k].shape)
    return rng, p


def test_loss_is_shifted_cross_entropy_written_out():
    _, p = small_model()
    tokens = pretraining_corpus()[[0, 7, 11]]
    loss, _ = next_token_loss(p, tokens, with_grads=False)
    logits, _ = forward(p, tokens[:, :-1])
    terms = []
    for b in range(tokens.shape[0]):
        for t in range(tokens.shape[1] - 1):
            z = logits[b, t]
            log_z = math.log(sum(math.exp(v) for v in z))
            terms.append(log_z - z[tokens[b, t + 1]])  # -log softmax(z)[next token]
    assert loss == pytest.approx(sum(terms) / len(terms), rel=1e-12)


@pytest.mark.parametrize("num_heads", [1, 2])
def test_gradients_match_numerical(num_heads):
    # Weights of scale 0.5 and eps = 1e-5 keep every gradient entry well above the
    # rounding noise of central differences (near-zero entries would need more digits).
    rng, p = small_model(seed=1, scale=0.5)
    tokens = pretraining_corpus()[[1, 4, 9]]
    weights = rng.uniform(0.2, 1.0, size=(3, 4))  # random weights per predicted position

    def loss():
        return next_token_loss(p, tokens, weights, with_grads=False, num_heads=num_heads)[0]

    _, grads = next_token_loss(p, tokens, weights, num_heads=num_heads)
    for name in p:
        assert relative_error(grads[name], numerical_gradient(loss, p[name], eps=1e-5)) < 1e-6, name


def test_initial_loss_is_about_ln_vocab():
    p = init_params(len(VOCAB), 6, 16, np.random.default_rng(0))
    loss, _ = next_token_loss(p, pretraining_corpus(), with_grads=False)
    assert loss == pytest.approx(math.log(len(VOCAB)), abs=0.15)


def test_logits_at_t_ignore_future_tokens():
    rng, p = small_model(seed=2)
    tokens = pretraining_corpus()[:2].copy()
    base, _ = forward(p, tokens)
    changed = tokens.copy()
    changed[:, 3:] = rng.integers(0, len(VOCAB), size=(2, 2))
    new, _ = forward(p, changed)
    np.testing.assert_array_equal(new[:, :3], base[:, :3])
    assert np.abs(new[:, 3:] - base[:, 3:]).max() > 1e-6


def test_entropy_floors_closed_form():
    corpus = pretraining_corpus()
    # After <s>: 4 equally likely subjects; after a subject: 3 objects; then certain.
    assert conditional_entropy(corpus, "prefix") == pytest.approx((math.log(4) + math.log(3)) / 4)
    # With only the last token, the verb after an object is a coin flip (honorific or not).
    assert conditional_entropy(corpus, "last") == pytest.approx(
        (math.log(4) + math.log(3) + math.log(2)) / 4
    )


def test_first_adam_step_moves_each_weight_by_lr():
    # With bias correction, Adam's first update is lr * g / |g| = lr * sign(g) per entry.
    _, p = small_model(seed=3)
    before = {k: v.copy() for k, v in p.items()}
    tokens = pretraining_corpus()
    _, grads = next_token_loss(p, tokens)
    train(p, tokens, steps=1, lr=0.01)
    for k in p:
        mask = np.abs(grads[k]) > 1e-6
        np.testing.assert_allclose(
            (before[k] - p[k])[mask], 0.01 * np.sign(grads[k][mask]), rtol=1e-3
        )


def test_pretraining_reaches_the_floor_but_never_below():
    corpus = pretraining_corpus()
    p = init_params(len(VOCAB), 6, 16, np.random.default_rng(0))
    train(p, corpus, PRETRAIN_STEPS, PRETRAIN_LR)
    loss, _ = next_token_loss(p, corpus, with_grads=False)
    floor, bigram = conditional_entropy(corpus, "prefix"), conditional_entropy(corpus, "last")
    assert floor - 1e-9 <= loss < floor + 0.005  # cross-entropy >= conditional entropy
    assert loss < bigram - 0.1  # so it uses the subject two tokens back
    assert generate(p, ["<s>", "할머니께서", "물을"], 3) == [
        "<s>",
        "할머니께서",
        "물을",
        "드신다",
        ".",
    ]
    assert generate(p, ["<s>", "고양이는", "물을"], 3) == ["<s>", "고양이는", "물을", "마신다", "."]


def test_finetuning_same_objective_lowers_task_loss():
    corpus = pretraining_corpus()
    task_train, task_held = task_data()
    assert decode(task_train[0]) == ["<s>", "할머니께서", "=", "사람"]
    assert not set(task_held[:, 1]) & set(task_train[:, 1])  # held-out subjects are new
    p = init_params(len(VOCAB), 6, 16, np.random.default_rng(0))
    train(p, corpus, PRETRAIN_STEPS, PRETRAIN_LR)
    held_before, _ = label_loss_and_accuracy(p, task_held)
    losses = train(p, task_train, FINETUNE_STEPS, FINETUNE_LR)
    assert losses[-1] < 0.05 * losses[0]  # the same next-token loss, on the task lines
    held_after, acc = label_loss_and_accuracy(p, task_held)
    assert held_after < 0.05 < held_before and acc == 1.0
    # The same model without pre-training cannot label the unseen subjects.
    q = init_params(len(VOCAB), 6, 16, np.random.default_rng(0))
    train(q, task_train, FINETUNE_STEPS, FINETUNE_LR)
    assert label_loss_and_accuracy(q, task_held)[0] > 0.5


def test_label_metric_counts_only_the_last_position():
    _, p = small_model(seed=4)
    _, held = task_data()
    loss, acc = label_loss_and_accuracy(p, held)
    logits, _ = forward(p, held[:, :-1])
    z = logits[:, -1]
    ref = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(2), held[:, -1]])
    assert loss == pytest.approx(ref, rel=1e-12)
    assert acc == np.mean(z.argmax(axis=1) == held[:, -1])


def test_demo_outputs():
    with out.collect() as outputs:
        demo()
    pre = next(o for o in outputs if o.get("label") == "pre-training loss")
    after_loss, floor, bigram = pre["rows"][1][1], pre["rows"][2][1], pre["rows"][3][1]
    assert floor <= after_loss < floor + 0.005 and bigram == pytest.approx(0.7945, abs=1e-4)
    probs = next(o for o in outputs if o.get("label") == "P(next token) after pre-training")
    assert probs["data"][0][1] > 0.95 and probs["data"][1][2] > 0.95  # 마신다 vs 드신다
    sim = np.array(next(o for o in outputs if o["kind"] == "heatmap")["data"])
    assert sim[0, 1] > 0.8 and sim[2, 3] > 0.8 and abs(sim[0, 2]) < 0.3
    table = next(o for o in outputs if o.get("label") == "before vs after fine-tuning")
    rows = {r[0]: r[1:] for r in table["rows"]}
    assert rows["pre-trained: held-out accuracy"] == [0.0, 1.0]
    assert rows["pre-trained: held-out label loss"][1] < 0.05
    assert rows["from scratch: held-out accuracy"][1] <= 0.5
    assert rows["pre-trained: loss on the pre-training corpus"][1] > 1.0  # forgetting shown
    lines = [o for o in outputs if o["kind"] == "line"]
    assert len(lines) == 2 and len(lines[1]["x"]) == FINETUNE_STEPS
    assert TOKEN["="] == 2


def test_concept_file_parses():
    path = Path(__file__).resolve().parents[2] / "content/concepts/gpt-pretraining.md"
    concept = parse_concept(path.read_text(encoding="utf-8"), str(path))
    assert concept.slug == "gpt-pretraining"
    assert concept.demo == "gpt_pretraining.py"
    assert len({card.key for card in concept.cards}) >= 3
    for match in CLOZE.finditer(path.read_text(encoding="utf-8")):
        assert match.group(2).count("{") == match.group(2).count("}"), match.group(0)


def test_the_stated_stuck_seeds_are_stuck_and_others_reach_the_floor():
    # The text: of seeds 0-99, 9 end pre-training stuck (loss 0.68-0.80 instead of 0.621).
    # Checked here on two of the stated stuck seeds and two that succeed (the full sweep of
    # 100 seeds takes ~10 s; it was run to get the number).
    from gpt_pretraining import conditional_entropy, pretrain, pretraining_corpus

    floor = conditional_entropy(pretraining_corpus(), "prefix")
    bigram = conditional_entropy(pretraining_corpus(), "last")
    for seed in (0, 1):
        assert pretrain(seed)[1] < floor + 0.01, seed
    for seed in (17, 96):
        loss = pretrain(seed)[1]
        assert floor + 0.05 < loss < bigram + 0.01, (seed, loss)

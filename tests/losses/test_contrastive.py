"""vidpred/losses/contrastive.py: InfoNCE against hand-worked values and its own definition."""

from __future__ import annotations

import math

import pytest
import torch

from vidpred.losses.contrastive import info_nce


def test_two_orthogonal_pairs_by_hand():
    # Cosines: 1 with its own positive, 0 with the other; tau 1:
    # -log(e / (e + 1)) = log(1 + 1/e) for both rows.
    a = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    assert info_nce(a, torch.eye(2), temperature=1.0).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    # Swapped positives: each anchor's own positive is the orthogonal one.
    swapped = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert info_nce(a, swapped, temperature=1.0).item() == pytest.approx(math.log(1 + math.e), abs=1e-6)
    # A lower temperature sharpens: log(1 + exp(-1 / 0.1)).
    assert info_nce(a, torch.eye(2), temperature=0.1).item() == pytest.approx(math.log(1 + math.exp(-10)), abs=1e-6)


def test_equal_similarities_give_log_batch():
    same = torch.ones(5, 3)
    assert info_nce(same, same).item() == pytest.approx(math.log(5), abs=1e-5)


def test_matches_the_written_out_sum():
    g = torch.Generator().manual_seed(0)
    a, p = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    cos = torch.tensor([[torch.dot(x, y) / (x.norm() * y.norm()) for y in p] for x in a]) / 0.2
    expected = -sum(cos[i, i] - torch.logsumexp(cos[i], 0) for i in range(6)) / 6
    assert info_nce(a, p, temperature=0.2).item() == pytest.approx(expected.item(), abs=1e-5)


def test_gradient_pulls_an_anchor_toward_its_positive():
    a = torch.tensor([[1.0, 1.0], [0.0, 1.0]], requires_grad=True)
    info_nce(a, torch.eye(2), temperature=0.5).backward()
    step = a.detach() - 0.1 * a.grad
    before, after = torch.cosine_similarity(a.detach()[0], torch.tensor([1.0, 0.0]), 0), \
        torch.cosine_similarity(step[0], torch.tensor([1.0, 0.0]), 0)
    assert after > before


@pytest.mark.parametrize("anchors, positives, temperature, match", [
    (torch.ones(1, 3), torch.ones(1, 3), 0.1, "at least 2"),
    (torch.ones(2, 3), torch.ones(2, 4), 0.1, r"\(B, D\)"),
    (torch.ones(2, 3), torch.ones(2, 3), 0.0, "temperature"),
])
def test_bad_input_is_a_clear_error(anchors, positives, temperature, match):
    with pytest.raises(ValueError, match=match):
        info_nce(anchors, positives, temperature)

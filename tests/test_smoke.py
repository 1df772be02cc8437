"""Smoke test (well under a second): create, add, matmul, backward, one SGD step."""

import ember


def test_smoke_train_step():
    ember.manual_seed(0)
    x = ember.randn(8, 3)
    w = ember.randn(3, 1, requires_grad=True)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5]])
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    assert w.grad.shape == (3, 1)
    before = loss.item()
    with ember.no_grad():
        w -= 0.1 * w.grad
    after = ((x @ w - y) ** 2).mean().item()
    assert after < before

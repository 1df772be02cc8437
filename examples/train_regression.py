"""A short training example: fit a small two-layer network to a noisy sine with plain
tensors, autograd and a hand-written SGD step. Prints the loss; exits non-zero if it does
not learn."""

import math
import sys

import ember as torch

torch.manual_seed(0)
x = torch.linspace(-math.pi, math.pi, 256).reshape(-1, 1)
y = x.sin() + 0.05 * torch.randn(256, 1)

w1 = (torch.randn(1, 32) * 1.0).requires_grad_()
b1 = torch.zeros(32, requires_grad=True)
w2 = (torch.randn(32, 1) / math.sqrt(32)).requires_grad_()
b2 = torch.zeros(1, requires_grad=True)
params = [w1, b1, w2, b2]

lr = 0.05
for step in range(1, 1501):
    pred = (x @ w1 + b1).tanh() @ w2 + b2
    loss = ((pred - y) ** 2).mean()
    for p in params:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    if step % 300 == 0:
        print(f"step {step:5d}  loss {loss.item():.4f}")

final = loss.item()
print(f"final loss {final:.4f}")
sys.exit(0 if final < 0.02 else 1)

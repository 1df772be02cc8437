"""Small models train on learnable synthetic data to a stated accuracy (seconds each)."""

import math

import ember
import ember.nn as nn
import ember.nn.functional as F


def _blobs(n_per_class=100, classes=4, seed=0):
    g = ember.Generator().manual_seed(seed)
    centers = ember.tensor([[math.cos(2 * math.pi * k / classes),
                             math.sin(2 * math.pi * k / classes)] for k in range(classes)]) * 3
    x = ember.cat([centers[k] + ember.randn(n_per_class, 2, generator=g)
                   for k in range(classes)])
    y = ember.arange(classes).repeat_interleave(n_per_class)
    return x, y


def test_mlp_learns_blobs_to_95_percent():
    ember.manual_seed(0)
    x, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 4))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    model.eval()
    with ember.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert acc >= 0.95, f"accuracy {acc:.3f}, loss {loss.item():.3f}"


def _bars(n=256, seed=0):
    """8x8 images with one bright bar; the label is its orientation and half (4 classes)."""
    g = ember.Generator().manual_seed(seed)
    labels = ember.randint(0, 4, (n,), generator=g)
    pos = ember.randint(0, 4, (n,), generator=g)
    img = ember.randn(n, 1, 8, 8, generator=g) * 0.3
    for i, (lab, p) in enumerate(zip(labels.tolist(), pos.tolist())):
        offset = p + (4 if lab % 2 else 0)
        if lab < 2:
            img[i, 0, offset, :] += 2.0
        else:
            img[i, 0, :, offset] += 2.0
    return img, labels


def test_cnn_with_batchnorm_learns_bars_to_95_percent():
    ember.manual_seed(0)
    x, y = _bars()
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(15):
        for i in range(0, 256, 64):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[i:i + 64]), y[i:i + 64])
            loss.backward()
            opt.step()
    model.eval()
    xt, yt = _bars(seed=1)
    with ember.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    assert acc >= 0.95, f"held-out accuracy {acc:.3f}"

"""Markers, --runslow, a seeded rng, the device list and the torch oracle."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    skip_gpu = pytest.mark.skip(reason="gpu: no CUDA device (cupy) here")
    has_gpu = ember.cuda.is_available()
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip_gpu)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed_and_restore():
    ember.manual_seed(0)
    default = ember.get_default_dtype()
    grad = ember.is_grad_enabled()
    yield
    ember.set_default_dtype(default)
    ember.set_grad_enabled(grad)


DEVICES = ["cpu"] + (["cuda"] if ember.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param

"""The Example: sections of ember.distributions' docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ember
import ember.distributions

MODULES = sorted(m.name for m in pkgutil.iter_modules(ember.distributions.__path__,
                                                      "ember.distributions."))


@pytest.mark.parametrize("name", ["ember.distributions"] + MODULES)
def test_distribution_docstring_examples(name):
    module = importlib.import_module(name)
    ember.manual_seed(0)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{name}: {result.failed} failing example(s)"

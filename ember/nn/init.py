"""ember.nn.init: parameter initialisation drawing from the same distributions as PyTorch."""

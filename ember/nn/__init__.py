"""ember.nn: modules, functional, init, Parameter, utils."""

import importlib as _importlib

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa

# The star import above also binds the submodule ember.nn.modules.attention under the name
# `attention` (and `from . import attention` would then return it): ember.nn.attention is
# torch.nn.attention (sdpa_kernel, SDPBackend), imported by its full name.
attention = _importlib.import_module(__name__ + ".attention")

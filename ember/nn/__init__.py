"""ember.nn: modules, functional, init, Parameter, utils."""

from . import attention, functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa

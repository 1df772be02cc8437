"""ember.nn.functional: the functional form of every layer; the ops live in ember/ops/."""

from ..ops.activation import *  # noqa: F401,F403
from ..ops.attention import *  # noqa: F401,F403
from ..ops.conv import *  # noqa: F401,F403
from ..ops.loss import *  # noqa: F401,F403
from ..ops.nn import *  # noqa: F401,F403
from ..ops.norm import *  # noqa: F401,F403
from ..ops.rnn import *  # noqa: F401,F403

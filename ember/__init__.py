"""ember: PyTorch's programming model in readable Python over NumPy and CuPy."""

from __future__ import annotations

from . import _dtype
from ._device import device, get_default_device, set_default_device
from ._dtype import (bfloat16, bool, complex64, complex128, dtype, float16, float32, float64,
                     get_default_dtype, int8, int16, int32, int64, promote_types, result_type,
                     set_default_dtype, uint8, uint16, uint32, uint64, can_cast, finfo, iinfo,
                     float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
from ._layout import *  # noqa: F401,F403
from ._tensortype import CPU_TYPES as _CPU_TYPES
from ._tensor import Size, Tensor
from . import ops as _ops  # noqa: F401  (attaches Tensor methods)
from . import autograd
from .autograd import (enable_grad, inference_mode, is_grad_enabled,
                       is_inference_mode_enabled, no_grad, set_grad_enabled)
from .ops.creation import *  # noqa: F401,F403
from .ops.elementwise import *  # noqa: F401,F403
from .ops.foreach import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .ops.nn import *  # noqa: F401,F403
from .ops.random import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.scatter_views import *  # noqa: F401,F403
from .ops.signal import *  # noqa: F401,F403
from .ops.stats import *  # noqa: F401,F403
from .backends.interop import from_dlpack
from . import accelerator, backends, cuda, fft, hub, linalg, random, special, testing, version
from . import nn
from .multiprocessing import reductions as _mp_reductions  # noqa: F401  (Queue pickling)
# nn ops that PyTorch also has in its top namespace with the same signature (others, such as
# torch.batch_norm or torch.embedding, take their arguments in another order: not re-exported).
from .nn.functional import (adaptive_avg_pool1d, adaptive_max_pool1d, alpha_dropout,
                            avg_pool1d, celu, celu_, channel_shuffle, conv1d, conv2d, conv3d,
                            conv_transpose1d, conv_transpose2d, conv_transpose3d,
                            cosine_similarity, dropout, feature_alpha_dropout, group_norm,
                            hardshrink, layer_norm, max_pool1d, max_pool2d, max_pool3d,
                            pairwise_distance, pdist, pixel_shuffle, pixel_unshuffle, prelu,
                            rrelu, rrelu_, selu, selu_, threshold, threshold_)
from . import optim
from . import serialization
from .serialization import load, save
from . import amp, cpu
from . import profiler
from . import jit
from .jit.compile import compile
from . import compiler, _dynamo
from . import onnx
from . import distributions
from .amp.autocast_mode import (autocast, get_autocast_dtype, is_autocast_enabled,
                                set_autocast_dtype, set_autocast_enabled)
from ._utils import *  # noqa: F401,F403
from ._runtime import *  # noqa: F401,F403

half = float16
float = float32
double = float64
short = int16
int = int32
long = int64
cfloat = complex64
cdouble = complex128

globals().update(_CPU_TYPES)   # FloatTensor, LongTensor, ... (legacy constructors)

# Constants of the torch namespace.
import math as _math
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None

__version__ = version.__version__

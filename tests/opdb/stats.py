"""Statistics: cov, corrcoef, quantile, histogram, trapezoid, gradient, renorm, dist."""

from __future__ import annotations

import re

import numpy as np

import ember

from .spec import OpSpec, Sample, draw

FLOAT = ("float32", "float64")


def _s(*args, grad=None, **kwargs):
    return Sample(tuple(args), kwargs, grad=grad)


def _cov_samples(rng, dtype):
    x = draw(rng, (3, 5), dtype)
    fw = rng.integers(0, 4, size=(5,))
    aw = rng.uniform(0.1, 2.0, size=(5,)).astype(dtype)
    return [_s(x), _s(x, correction=0), _s(draw(rng, (6,), dtype)),
            _s(x, fweights=fw), _s(x, aweights=aw), _s(x, fweights=fw, aweights=aw),
            _s(x, correction=2, aweights=aw), _s(draw(rng, (1, 4), dtype), correction=0)]


def _corrcoef_samples(rng, dtype):
    return [_s(draw(rng, (3, 5), dtype)), _s(draw(rng, (5,), dtype))]


def _cov_ref(x, correction=1, fweights=None, aweights=None):
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32)
    return np.cov(x, ddof=correction, fweights=fweights, aweights=aweights)


def _quantile_samples(rng, dtype):
    x = draw(rng, (3, 5), dtype)
    q = np.array([0.0, 0.3, 0.5, 1.0], dtype=dtype)
    out = [_s(x, 0.4), _s(x, q, grad=(0,)), _s(x, 0.25, dim=1), _s(x, q, dim=0, keepdim=True,
                                                                     grad=(0,)),
           _s(x, 0.7, keepdim=True), _s(draw(rng, (), dtype), 0.5, dim=0),
           _s(x, np.array(0.6, dtype=dtype), dim=-1, grad=(0,))]
    for mode in ("lower", "higher", "midpoint", "nearest"):
        out.append(_s(x, q, dim=1, interpolation=mode, grad=(0,)))
    return out


def _nanquantile_samples(rng, dtype):
    x = draw(rng, (3, 5), dtype)
    x[0, 1] = x[2, 0] = x[2, 3] = np.nan
    q = np.array([0.1, 0.5, 0.9], dtype=dtype)
    out = [_s(x[0], 0.5), _s(x, q, dim=1, grad=(0,)), _s(x[:, 1:], 0.3, dim=0)]
    for mode in ("lower", "higher", "midpoint", "nearest"):
        out.append(_s(x, q, dim=1, interpolation=mode, grad=(0,)))
    all_nan = x.copy()
    all_nan[1, :] = np.nan                  # an all-NaN slice gives NaN (no gradcheck there)
    out.append(_s(all_nan, q, dim=1, grad=()))
    return out


def _nanquantile_ref(x, q, dim=None, keepdim=False, interpolation="linear"):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # NumPy's "All-NaN slice"
        return np.nanquantile(x, q, axis=dim, keepdims=keepdim, method=interpolation)


def _quantile_nan_samples(rng, dtype):
    x = draw(rng, (3, 5), dtype)
    x[0, 2] = np.nan
    # Rows with a NaN give NaN; gradcheck cannot difference those, so no input is checked.
    return [_s(x, 0.5, dim=1, grad=()), _s(x, np.array([0.2, 0.8], dtype=dtype), dim=0,
                                           grad=())]


def _qerr(args, exc, text, **kwargs):
    return (Sample(tuple(args), kwargs), exc, re.escape(text))


def _histogram_samples(rng, dtype):
    x = draw(rng, (20,), dtype)
    w = rng.uniform(0, 2, size=(20,)).astype(dtype)
    edges = np.array([-2.0, -0.5, 0.0, 1.0, 2.0], dtype=dtype)
    return [_s(x, 4), _s(x, bins=5, range=(-1.0, 1.5)), _s(x, 3, weight=w),
            _s(x, 6, density=True), _s(x, edges), _s(x, edges, weight=w, density=True),
            _s(np.full((4,), 2.0, dtype=dtype), 2), _s(x.reshape(4, 5), 3)]


def _histogramdd_samples(rng, dtype):
    x = draw(rng, (15, 2), dtype)
    w = rng.uniform(0, 2, size=(15,)).astype(dtype)
    return [_s(x, [2, 3]), _s(x, 3, weight=w), _s(x, [2, 2], range=[-1.0, 1.0, -2.0, 2.0],
                                                    density=True),
            _s(x.reshape(3, 5, 2), 2)]


def _hist_fn(module, name):
    def call(*args, **kwargs):
        res = getattr(module, name)(*args, **kwargs)
        hist, edges = res
        return [hist] + (list(edges) if isinstance(edges, (list, tuple)) else [edges])
    return call


def _lazy(make, name):
    def call(*args, **kwargs):
        import torch
        return make(torch, name)(*args, **kwargs)
    return call


def _histogram_ref(x, bins, range=None, weight=None, density=False):
    hist, edges = np.histogram(x.reshape(-1), bins, range, weights=None if weight is None
                               else weight.reshape(-1), density=density)
    return [hist, edges]


def _trapezoid_samples(rng, dtype):
    y = draw(rng, (3, 5), dtype)
    x = np.sort(draw(rng, (5,), dtype))
    return [_s(y), _s(y, x), _s(y, dx=0.5), _s(y, dim=0), _s(y, np.sort(draw(rng, (3, 5), dtype),
                                                                        axis=0), dim=0),
            _s(y[:, :1]), _s(draw(rng, (4,), dtype), dx=2)]


def _trapezoid_int_samples(rng, dtype):
    y = rng.integers(-5, 5, size=(3, 4))
    return [_s(y), _s(y, dx=2), _s(y, np.array([0, 1, 3, 4]))]


def _gradient_samples(rng, dtype):
    y = draw(rng, (4, 5), dtype)
    coords = np.array([0.0, 0.5, 1.5, 1.7, 3.0], dtype=dtype)
    coords0 = np.array([0.0, 1.0, 1.5, 3.0], dtype=dtype)
    return [_s(y), _s(y, spacing=2.0), _s(y, spacing=[0.5, 2.0]), _s(y, dim=1),
            _s(y, spacing=[coords], dim=1, grad=(0,)), _s(y, edge_order=2),
            _s(y, spacing=(coords0, coords), edge_order=2, grad=(0,)),
            _s(y, dim=[-1, 0], spacing=3.0), _s(draw(rng, (3,), dtype))]


def _gradient_fn(module):
    def call(y, **kwargs):
        if "spacing" in kwargs and isinstance(kwargs["spacing"], (list, tuple)):
            sp = [module.tensor(s) if isinstance(s, np.ndarray) else s
                  for s in kwargs["spacing"]]
            kwargs = dict(kwargs, spacing=sp if isinstance(kwargs["spacing"], list)
                          else tuple(sp))
        return module.gradient(y, **kwargs)
    return call


def _renorm_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype)
    return [_s(x, 2, 0, 1.0), _s(x, 1, 1, 1.5), _s(x, float("inf"), -1, 0.8),
            _s(draw(rng, (2, 3, 2), dtype), 3, 1, 0.9), _s(x, 2, 0, 100.0)]


def _dist_samples(rng, dtype):
    a, b = draw(rng, (3, 4), dtype), draw(rng, (4,), dtype)
    return [_s(a, b), _s(a, b, 1), _s(a, b, 3.5), _s(a, b, float("inf")),
            _s(a, b, float("-inf")), _s(a, b, 0, grad=())]


def _torch(name):
    def call(*args, **kwargs):
        import torch
        return getattr(torch, name)(*args, **kwargs)
    return call


SPECS = [
    OpSpec("cov", samples=_cov_samples, ref=_cov_ref,
           errors=[_qerr((np.ones((2, 2, 2)),), RuntimeError, "cov(): expected input to have "
                         "two or fewer dimensions but got an input with 3 dimensions"),
                   _qerr((np.ones((4,)),), RuntimeError, "expected fweights to have integral "
                         "dtype", fweights=np.ones(4)),
                   _qerr((np.ones((4,)),), RuntimeError, "fweights cannot be negative",
                         fweights=np.array([1, 1, -1, 1])),
                   _qerr((np.ones((4,)),), RuntimeError, "aweights cannot be negative",
                         aweights=np.array([1.0, 1, -1, 1])),
                   _qerr((np.ones((4,)),), RuntimeError, "but got 3 != 4",
                         fweights=np.array([1, 1, 1]))]),
    OpSpec("cov", variant="int", dtypes=("int64",), grad=False, ref=_cov_ref,
           samples=lambda rng, dtype: [_s(rng.integers(-5, 5, size=(2, 6)))]),
    OpSpec("corrcoef", samples=_corrcoef_samples,
           ref=lambda x: np.corrcoef(x)),
    OpSpec("quantile", samples=_quantile_samples,
           errors=[_qerr((np.ones(4), 1.5), RuntimeError,
                         "quantile() q must be in the range [0, 1] but got 1.5"),
                   _qerr((np.ones(4), np.array([1.5])), RuntimeError,
                         "quantile() q values must be in the range [0, 1]"),
                   _qerr((np.ones(4, dtype=np.int64), 0.5), RuntimeError,
                         "quantile() input tensor must be either float or double dtype"),
                   _qerr((np.ones(4), np.array([0.5], dtype=np.float32)), RuntimeError,
                         "quantile() q tensor must be same dtype as the input tensor"),
                   _qerr((np.ones(4), np.array([[0.5]])), RuntimeError,
                         "quantile() q must be a scalar or 1D tensor"),
                   _qerr((np.ones((2, 0)), 0.5), RuntimeError,
                         "quantile() input tensor must be non-empty", dim=1),
                   _qerr((np.ones(4), 0.5), RuntimeError, "quantile() interpolation must be "
                         "one of linear, lower, higher, midpoint or nearest, but got foo",
                         interpolation="foo")]),
    OpSpec("quantile", variant="nan", samples=_quantile_nan_samples, gradgrad=False),
    OpSpec("nanquantile", samples=_nanquantile_samples,
           ref=_nanquantile_ref),
    OpSpec("histogram", samples=_histogram_samples, grad=False, ref=_histogram_ref,
           fn=_hist_fn(ember, "histogram"), torch_fn=_lazy(_hist_fn, "histogram"),
           errors=[_qerr((np.ones(4), 0), RuntimeError, "bins must be > 0"),
                   _qerr((np.ones(4), 3), RuntimeError, "min should not exceed max",
                         range=(3.0, 1.0)),
                   _qerr((np.ones(4), np.array([0.0, 1.0], dtype=np.float32)), RuntimeError,
                         "input tensor and bins tensors should have the same dtype"),
                   _qerr((np.ones(4, dtype=np.int64), 2), NotImplementedError,
                         "not implemented for 'Long'"),
                   _qerr((np.ones(4), 3), RuntimeError, "if weight tensor is provided it should "
                         "have the same shape", weight=np.ones(3))]),
    OpSpec("histogramdd", samples=_histogramdd_samples, grad=False,
           fn=_hist_fn(ember, "histogramdd"), torch_fn=_lazy(_hist_fn, "histogramdd")),
    OpSpec("trapezoid", samples=_trapezoid_samples, ref=lambda y, x=None, dx=1.0, dim=-1:
           np.trapezoid(y, x, dx=dx, axis=dim),
           errors=[_qerr((np.ones((3,)), np.ones(2)), RuntimeError,
                         "There must be one `x` value for each sample point")]),
    OpSpec("trapezoid", variant="int", dtypes=("int64",), grad=False,
           samples=_trapezoid_int_samples),
    OpSpec("trapz", samples=lambda rng, dtype: _trapezoid_samples(rng, dtype)[:4]),
    OpSpec("cumulative_trapezoid", samples=_trapezoid_samples),
    OpSpec("cumulative_trapezoid", variant="int", dtypes=("int64",), grad=False,
           samples=_trapezoid_int_samples),
    OpSpec("gradient", samples=_gradient_samples, fn=_gradient_fn(ember),
           torch_fn=lambda *a, **k: _gradient_fn(__import__("torch"))(*a, **k),
           errors=[_qerr((np.ones(2),), RuntimeError, "torch.gradient expected each dimension "
                         "size to be at least edge_order+1", edge_order=2),
                   _qerr((np.ones(4),), RuntimeError, "torch.gradient only supports "
                         "edge_order=1 and edge_order=2.", edge_order=3),
                   _qerr((np.ones((3, 4)),), RuntimeError, "torch.gradient expected spacing to "
                         "be unspecified, a scalar, or a list of length equal to 'self.dim() = "
                         "2'", spacing=[1.0, 2.0, 3.0])]),
    OpSpec("gradient", variant="int", dtypes=("int64",), grad=False,
           samples=lambda rng, dtype: [_s(rng.integers(-5, 5, size=(3, 4)))],
           fn=_gradient_fn(ember), torch_fn=lambda *a, **k: _gradient_fn(
               __import__("torch"))(*a, **k)),
    OpSpec("renorm", samples=_renorm_samples,
           errors=[_qerr((np.ones((3, 4)), -1, 0, 1.0), RuntimeError,
                         "renorm: non-positive-norm not supported"),
                   _qerr((np.ones((3, 4)), 2, 0, -1.0), RuntimeError,
                         "renorm: expected maxnorm to be >= 0")]),
    OpSpec("renorm_", fn=lambda x, *a: x.clone().renorm_(*a),
           torch_fn=lambda x, *a: x.clone().renorm_(*a),
           samples=lambda rng, dtype: _renorm_samples(rng, dtype)[:2]),
    OpSpec("dist", samples=_dist_samples,
           errors=[_qerr((np.ones((3, 4)), np.ones(2)), RuntimeError, "must match")]),
]

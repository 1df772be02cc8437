"""Statistics: cov, corrcoef, quantile, histogram, trapezoid, gradient, renorm, dist.

Most are compositions of existing ops (so gradients, double gradients and devices come for
free); histograms are integer counting and are not differentiable, like PyTorch's.
"""

from __future__ import annotations

import builtins
import math
import warnings

from .._dispatch import Op, apply
from .._errors import fmt_shape, wrap_dim
from ._names import named, named_inplace
from .reduce import _return_type

_HISTOGRAM = _return_type("histogram", ("hist", "bin_edges"))
_HISTOGRAMDD = _return_type("histogramdd", ("hist", "bin_edges"))

__all__ = ["cov", "corrcoef", "quantile", "nanquantile", "histogram", "histogramdd",
           "trapezoid", "trapz", "cumulative_trapezoid", "gradient", "renorm", "dist"]


def _is_float(t) -> bool:
    return t._data.dtype.kind in "fc" or t.dtype.is_floating_point


def _to_float(t):
    from .. import _dtype
    return t if (t.dtype.is_floating_point or t.dtype.is_complex) else \
        t.to(_dtype.get_default_dtype())


# -- covariance --------------------------------------------------------------------------------

def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of input (observations in the columns).

    Args:
        input: a 1-D tensor (one variable) or 2-D (variables, observations) tensor.
        correction: subtracted from the number (or weight sum) of observations; 1 is the
            unbiased estimate, 0 the maximum likelihood one.
        fweights: integer frequency weight per observation.
        aweights: float importance weight per observation.

    Returns:
        The (variables, variables) covariance matrix, 0-D for one variable.

    Example:
        >>> import ember
        >>> round(ember.cov(ember.tensor([1.0, 2.0, 4.0])).item(), 4)
        2.3333
    """
    from .elementwise import clamp
    from .linalg import matmul
    from .reduce import sum as _sum
    if input._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input._data.ndim} dimensions")
    x = input.reshape(1, -1) if input._data.ndim < 2 else input
    x = _to_float(x)
    n_obs = x._data.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n_obs, integral=True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n_obs, integral=False)
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1)
        w_sum = n_obs
        norm = n_obs - correction
    else:
        w = w.to(x.dtype) if not w.dtype.is_complex else w
        w_sum = _sum(w)
        avg = _sum(x * w, 1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * _sum(w * aweights) / w_sum
    if float(norm) <= 0:                 # PyTorch reads the weight sum back to check too
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = 0 if isinstance(norm, (int, float)) else clamp(norm, min=0, max=0)
    xc = x - avg.unsqueeze(1)
    xw = xc if w is None else xc * w
    c = matmul(xw, xc.t().conj()) / norm
    return c.squeeze()


def _check_weights(name, w, n_obs, integral):
    if w._data.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w._data.ndim} dimensions")
    if w._data.size != n_obs:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w._data.size} != {n_obs}")
    kind = w._data.dtype.kind
    if integral and kind not in "iu":
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights "
                           f"with {_legacy(w)} dtype")
    if not integral and kind not in "f" and w.dtype.name != "bfloat16":
        raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                           f"aweights with {_legacy(w)} dtype")
    if bool((w < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def _legacy(t) -> str:
    from .._dispatch import _legacy_name
    return _legacy_name(t.dtype)


def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of input.

    Example:
        >>> import ember
        >>> ember.corrcoef(ember.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    from .elementwise import clamp, sqrt
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = c.diagonal()
    std = sqrt(d.real if d.dtype.is_complex else d)
    c = c / std.unsqueeze(1)
    c = c / std.unsqueeze(0)
    # Rounding can push coefficients just past +-1; PyTorch clips them back.
    if c.dtype.is_complex:
        from .elementwise import complex as _complex
        return _complex(clamp(c.real, -1, 1), clamp(c.imag, -1, 1))
    return clamp(c, -1, 1)


# -- quantiles ---------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op, input, q, dim, keepdim, interpolation, ignore_nan):
    from .._tensor import Tensor
    from .creation import tensor as _tensor
    from .elementwise import ceil, floor, isnan, lerp, round, where
    from .index import gather
    from .reduce import any as _any
    from .reduce import sort
    from .reduce import sum as _sum
    from .shape import movedim
    arr = input._data
    if arr.dtype.name not in ("float32", "float64"):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        if q.device != input.device:
            raise RuntimeError(f"{op}() q tensor must be on the same device as the input "
                               f"tensor, got {q.device} and {input.device}")
        if bool(((q < 0) | (q > 1)).any()):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
        scalar_q = q._data.ndim == 0
        qs = q.detach().reshape(-1)
    else:
        q = float(q)
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        scalar_q = True
        qs = _tensor([q], dtype=input.dtype, device=input.device)
    if arr.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    ndim = arr.ndim
    if dim is None:
        x = input.reshape(-1)
        out_shape = (1,) * ndim if keepdim else ()
    else:
        d = wrap_dim(op, dim, builtins.max(ndim, 1))
        x = input.reshape(1) if ndim == 0 else movedim(input, d, -1)
        shape = list(arr.shape)
        if keepdim and ndim:
            shape[d] = 1
        elif ndim:
            del shape[d]
        out_shape = tuple(shape)
    srt = sort(x).values                                  # NaN sorts last
    n = srt._data.shape[-1]
    nan_mask = isnan(srt)
    if ignore_nan:
        count = _sum(~nan_mask, -1, keepdim=True).to(input.dtype)
        ranks = (qs * (count - 1)).clamp(min=0)
    else:
        ranks = (qs * (n - 1)).expand(*srt.shape[:-1], qs.shape[0])
        ranks = where(_any(nan_mask, -1, keepdim=True), float(n - 1), ranks)
    if interpolation == "lower":
        ranks = floor(ranks)
    elif interpolation == "higher":
        ranks = ceil(ranks)
    elif interpolation == "nearest":
        ranks = round(ranks)
    below = floor(ranks)
    values_below = gather(srt, -1, below.long())
    if interpolation in ("linear", "midpoint"):
        weights = ranks - below if interpolation == "linear" else 0.5
        values_above = gather(srt, -1, ceil(ranks).long())
        result = lerp(values_below, values_above, weights)
    else:
        result = values_below
    result = movedim(result, -1, 0).reshape((qs.shape[0],) + out_shape)
    return result[0] if scalar_q else result


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles of input along dim (of all elements when dim is None).

    Args:
        input: a float32 or float64 tensor.
        q: a float in [0, 1], or a 0-D or 1-D tensor of them (input's dtype).
        dim: the dim to reduce; None flattens input first.
        keepdim: keep the reduced dim (size 1).
        interpolation: between the two nearest values: ``linear`` (default), ``lower``,
            ``higher``, ``midpoint`` or ``nearest`` (half to even).

    Returns:
        The quantiles; a 1-D q adds a leading dim of len(q). NaN where a slice has a NaN.

    Example:
        >>> import ember
        >>> ember.quantile(ember.tensor([1.0, 2.0, 3.0, 4.0]), 0.5).item()
        2.5
    """
    from .elementwise import _out
    res = _quantile("quantile", input, q, dim, keepdim, interpolation, False)
    return _out(named(res, "SqueezeBackward4", input), out)     # PyTorch ends in a squeeze


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile() that ignores NaN values (NaN only where a slice is all NaN).

    Example:
        >>> import ember
        >>> ember.nanquantile(ember.tensor([1.0, float("nan"), 3.0]), 0.5).item()
        2.0
    """
    from .elementwise import _out
    res = _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)
    return _out(named(res, "SqueezeBackward4", input), out)


# -- histograms --------------------------------------------------------------------------------

def _linspace_edges(lo, hi, bins, dtype, device):
    """bins + 1 evenly spaced edges in dtype, computed like PyTorch's linspace (from both
    ends), so values on an edge land in the same bin as PyTorch's."""
    from .creation import linspace
    return linspace(lo, hi, bins + 1, dtype=dtype, device=device)._data


class HistogramDD(Op):
    """Counts (or weight sums) of the points of x (N, D) in the bins given by edges."""
    name = "histogramdd"
    differentiable = False

    @staticmethod
    def forward(ctx, x, weight, *edges, density):
        xp = ctx.xp
        dims = x.shape[1]
        counts = tuple(int(e.shape[0]) - 1 for e in edges)
        flat = xp.zeros(x.shape[0], dtype=xp.int64)
        inside = xp.ones(x.shape[0], dtype=bool)
        for k in range(dims):
            e = edges[k]
            v = x[:, k]
            idx = xp.searchsorted(e, v, side="right") - 1
            # The last bin is closed on the right, like PyTorch's and NumPy's.
            idx = xp.where(v == e[-1], counts[k] - 1, idx)
            inside &= (v >= e[0]) & (v <= e[-1])
            flat = flat * counts[k] + xp.clip(idx, 0, builtins.max(counts[k] - 1, 0))
        total = 1
        for c in counts:
            total *= c
        w = inside.astype(x.dtype) if weight is None else xp.where(inside, weight, 0)
        hist = xp.bincount(flat, weights=w, minlength=total)[:total].astype(x.dtype)
        hist = hist.reshape(counts)
        if density:
            norm = hist.sum()
            for k in range(dims):
                widths = (edges[k][1:] - edges[k][:-1]).astype(x.dtype)
                view = [1] * dims
                view[k] = counts[k]
                hist = hist / widths.reshape(view)
            hist = hist / norm
        return hist.astype(x.dtype)


def _histogramdd(op, input, bins, range, weight, density):
    from .._tensor import Tensor
    arr = input._data
    if arr.dtype.kind != "f" or arr.dtype.name in ("float16", "bfloat16"):
        raise NotImplementedError(f'"{op}" not implemented for \'{_legacy(input)}\'')
    if arr.ndim < 1:
        raise RuntimeError(f"torch.{op}: input tensor should have at least 1 dimension, but "
                           "got 0")
    dims = arr.shape[-1]
    points = input.detach().reshape(-1, dims)
    if weight is not None:
        if tuple(weight._data.shape) != tuple(arr.shape[:-1]):
            raise RuntimeError(
                f"torch.histogramdd: if weight tensor is provided it should have the same shape "
                f"as the input tensor excluding its innermost dimension, but got input with "
                f"shape {list(arr.shape)} and weight with shape {list(weight._data.shape)}")
        if weight.dtype != input.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor "
                               "and weight tensor should have the same dtype")
        weight = weight.detach().reshape(-1)
    if isinstance(bins, int) or (isinstance(bins, (list, tuple)) and bins and
                                 all(isinstance(b, int) for b in bins)):
        counts = [bins] * dims if isinstance(bins, int) else list(bins)
        if len(counts) != dims:
            raise RuntimeError(f"torch.histogramdd: expected {dims} sequences of bin edges for "
                               f"each dimension of the input, but got {len(counts)}")
        for k, c in enumerate(counts):
            if c <= 0:
                raise RuntimeError(f"torch.{op}(): bins must be > 0, but got {c} for "
                                   f"dimension {k}")
        if range is not None:
            range = [float(r) for r in range]
            if len(range) != 2 * dims:
                raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram, "
                                   f"range should have {2 * dims} elements, but got "
                                   f"{len(range)}")
        edges = []
        for k, c in enumerate(counts):
            if range is not None:
                lo, hi = range[2 * k], range[2 * k + 1]
            elif points._data.shape[0]:
                col = points._data[:, k]
                lo, hi = float(col.min()), float(col.max())
            else:
                lo, hi = 0.0, 1.0
            if lo > hi:
                raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                                   f"{lo:g} max {hi:g} for dimension {k}")
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise RuntimeError(f"torch.histogramdd: dimension {k}'s range [{lo:g}, {hi:g}] "
                                   "is not finite")
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges.append(_linspace_edges(lo, hi, c, input.dtype, input.device))
    else:
        seq = [bins] if isinstance(bins, Tensor) else list(bins)
        if len(seq) != dims:
            raise RuntimeError(f"torch.histogramdd: expected {dims} sequences of bin edges for "
                               f"each dimension of the input, but got {len(seq)}")
        edges = []
        for k, b in enumerate(seq):
            if b.dtype != input.dtype:
                raise RuntimeError(
                    f"torch.histogramdd: input tensor and bins tensors should have the same "
                    f"dtype, but got input with dtype {input.dtype} and bins for dimension {k} "
                    f"with dtype {b.dtype}")
            if b._data.ndim != 1 or b._data.shape[0] < 1:
                raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension "
                                   f"and at least 1 element, but got {fmt_shape(b._data.shape)}")
            edges.append(b._data)
    edge_tensors = tuple(Tensor._make(e) for e in edges)
    hist = apply(HistogramDD, points, weight, *edge_tensors, density=builtins.bool(density))
    return hist, edge_tensors


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """Histogram of input's values: ``(hist, bin_edges)``.

    Args:
        input: a float tensor (flattened).
        bins: the number of equal-width bins, or a 1-D tensor of increasing edges.
        range: (min, max) of the bins (default: the data's min and max).
        weight: a tensor shaped like input; each value adds its weight instead of 1.
        density: normalise so the histogram integrates to 1.

    Returns:
        A named tuple (hist, bin_edges), both in input's dtype.

    Example:
        >>> import ember
        >>> ember.histogram(ember.tensor([1.0, 2.0, 1.0]), bins=2).hist.tolist()
        [2.0, 1.0]
    """
    if isinstance(bins, int) and bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    if weight is not None and tuple(weight._data.shape) != tuple(input._data.shape):
        raise RuntimeError(
            f"torch.histogram: if weight tensor is provided it should have the same shape as "
            f"the input tensor, but got input with shape {list(input._data.shape)} and weight "
            f"with shape {list(weight._data.shape)}")
    w = weight.reshape(-1) if weight is not None else None
    hist, edges = _histogramdd("histogram", input.reshape(-1, 1), bins, range, w, density)
    res = (hist, edges[0])
    if out is not None:
        out[0].resize_(res[0].shape).copy_(res[0])
        out[1].resize_(res[1].shape).copy_(res[1])
        res = (out[0], out[1])
    return _HISTOGRAM(*res)


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """Histogram of the points in input's last dim: ``(hist, bin_edges)``.

    Args:
        input: a float tensor (..., D): points of D coordinates.
        bins: an int (bins per dim), a list of D ints, or a list of D 1-D edge tensors.
        range: a flat list (min0, max0, min1, max1, ...) (default: the data's extent).
        weight: a tensor shaped like input without its last dim.
        density: normalise so the histogram integrates to 1.

    Returns:
        A named tuple (hist, bin_edges): a D-dim tensor and a tuple of D edge tensors.

    Example:
        >>> import ember
        >>> ember.histogramdd(ember.tensor([[0.0, 0.0], [1.0, 1.0]]), bins=2).hist.tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    hist, edges = _histogramdd("histogramdd", input, bins, range, weight, density)
    return _HISTOGRAMDD(hist, list(edges))


# -- integration and differences ---------------------------------------------------------------

def _trapezoid_parts(op, y, x, dx, dim):
    """(y_left + y_right) / 2 and the widths along dim (y's float dtype), dim wrapped."""
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(op, dim, y._data.ndim)
    n = y._data.shape[d]
    y = _to_float(y)
    if n == 0:
        return None, None, d
    left = y.narrow(d, 0, n - 1)
    right = y.narrow(d, 1, n - 1)
    mid = (left + right) / 2
    if x is None:
        return mid, dx, d
    x = _to_float(x)
    if x._data.ndim == 1:
        if x._data.shape[0] != n:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        widths = x[1:] - x[:-1]
        view = [1] * y._data.ndim
        view[d] = n - 1
        widths = widths.reshape(view)
    else:
        xd = wrap_dim(op, dim, x._data.ndim)
        m = x._data.shape[xd]
        if m != n:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        widths = x.narrow(xd, 1, m - 1) - x.narrow(xd, 0, m - 1)
    return mid, widths, d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of y along dim by the trapezoid rule, at points x or a constant spacing dx.

    Args:
        y: the sampled values.
        x: sample positions (1-D of y.size(dim), or broadcastable to y); optional.
        dx: constant spacing when x is not given (default 1).
        dim: the dim integrated over.

    Returns:
        y's float dtype, with dim removed.

    Example:
        >>> import ember
        >>> ember.trapezoid(ember.tensor([1.0, 2.0, 4.0])).item()
        4.5
    """
    from .reduce import sum as _sum
    if x is not None and dx is not None:
        raise TypeError("trapezoid(): pass either x or dx, not both")
    mid, widths, d = _trapezoid_parts("trapezoid", y, x, 1 if dx is None else dx, dim)
    if mid is None:
        return _sum(_to_float(y), d)
    # PyTorch's last op: the sum times dx, or (with x) a halving of sum(widths * (l + r))
    return named(_sum(mid * widths, d), "MulBackward1" if x is None else "DivBackward1", y)


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of trapezoid()."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoid-rule integral of y along dim (one element fewer than y).

    Example:
        >>> import ember
        >>> ember.cumulative_trapezoid(ember.tensor([1.0, 2.0, 4.0])).tolist()
        [1.5, 4.5]
    """
    from .reduce import cumsum
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid(): pass either x or dx, not both")
    mid, widths, d = _trapezoid_parts("cumulative_trapezoid", y, x, 1 if dx is None else dx,
                                      dim)
    if mid is None:
        return _to_float(y).clone()
    return named(cumsum(mid * widths, d), "CumsumBackward0" if x is None else "DivBackward1", y)


def _gradient_dims(input, spacing, dim, edge_order):
    ndim = input._data.ndim
    if dim is None:
        dims = list(range(ndim))
        given = False
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [wrap_dim("gradient", d, ndim) for d in dims]
        given = True
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            where = (f"equal to 'len(dim) = {len(dims)}'" if given else
                     f"equal to 'self.dim() = {ndim}', since dim argument was not given")
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, "
                               f"or a list of length {where}, but got a list of length "
                               f"{len(spacing)}")
        spacings = list(spacing)
        for h in spacings:
            if hasattr(h, "_data") and h._data.ndim != 1:
                raise RuntimeError(f"torch.gradient expected each element of spacing to have "
                                   f"one dimension, but got an element with {h._data.ndim} "
                                   "dimensions!")
    elif hasattr(spacing, "_data"):
        if spacing._data.ndim:
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, "
                               "or a list")
        spacings = [spacing.item()] * len(dims)
    else:
        spacings = [spacing] * len(dims)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input._data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    return dims, spacings


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimate the derivative of input along each dim by central differences.

    Args:
        input: the sampled values.
        spacing: a number (the same step everywhere), a list of numbers (one step per dim),
            or a list of 1-D tensors (the sample coordinates along each dim).
        dim: an int or list of ints (default: every dim).
        edge_order: 1 or 2, the accuracy of the one-sided differences at the edges.

    Returns:
        A tuple with one tensor shaped like input per dim.

    Example:
        >>> import ember
        >>> ember.gradient(ember.tensor([1.0, 2.0, 4.0, 8.0]))[0].tolist()
        [1.0, 1.5, 3.0, 4.0]
    """
    from .._tensor import Tensor
    from .shape import cat
    dims, spacings = _gradient_dims(input, spacing, dim, edge_order)
    f = _to_float(input)
    outs = []
    for d, h in zip(dims, spacings):
        n = f._data.shape[d]

        def part(start, length, d=d):
            return f.narrow(d, start, length)

        if isinstance(h, Tensor):
            if h._data.ndim != 1 or h._data.shape[0] != n:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                                   f"device and to have size {n} along dim {d}, got "
                                   f"{fmt_shape(h._data.shape)}")
            x = _to_float(h)
            view = [1] * f._data.ndim
            dx = (x[1:] - x[:-1])
            view[d] = n - 1
            dx = dx.reshape(view)
            hd = dx.narrow(d, 0, n - 2)           # x[i] - x[i-1]
            hs = dx.narrow(d, 1, n - 2)           # x[i+1] - x[i]
            interior = (hd * hd * part(2, n - 2) + (hs * hs - hd * hd) * part(1, n - 2)
                        - hs * hs * part(0, n - 2)) / (hs * hd * (hd + hs))
            h0, h1 = dx.narrow(d, 0, 1), dx.narrow(d, n - 2, 1)
            if edge_order == 1:
                first = (part(1, 1) - part(0, 1)) / h0
                last = (part(n - 1, 1) - part(n - 2, 1)) / h1
            else:
                h0b, h1b = dx.narrow(d, 1, 1), dx.narrow(d, n - 3, 1)
                first = (-(2 * h0 + h0b) / (h0 * (h0 + h0b)) * part(0, 1)
                         + (h0 + h0b) / (h0 * h0b) * part(1, 1)
                         - h0 / (h0b * (h0 + h0b)) * part(2, 1))
                last = (h1 / (h1b * (h1b + h1)) * part(n - 3, 1)
                        - (h1b + h1) / (h1b * h1) * part(n - 2, 1)
                        + (2 * h1 + h1b) / (h1 * (h1b + h1)) * part(n - 1, 1))
        else:
            h = float(h)
            interior = (part(2, n - 2) - part(0, n - 2)) / (2 * h)
            if edge_order == 1:
                first = (part(1, 1) - part(0, 1)) / h
                last = (part(n - 1, 1) - part(n - 2, 1)) / h
            else:
                first = (-1.5 * part(0, 1) + 2 * part(1, 1) - 0.5 * part(2, 1)) / h
                last = (0.5 * part(n - 3, 1) - 2 * part(n - 2, 1) + 1.5 * part(n - 1, 1)) / h
        outs.append(cat([first, interior, last], d))
    return tuple(outs)


# -- norms -------------------------------------------------------------------------------------

def _renorm_factor(input, p, dim, maxnorm):
    from .elementwise import where
    from .linalg import vector_norm
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy(input)}")
    p = float(p)
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if float(maxnorm) < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")
    d = wrap_dim("renorm", dim, ndim)
    others = tuple(k for k in range(ndim) if k != d)
    norms = vector_norm(input, p, others, keepdim=True) if others else input.abs()
    # PyTorch's constant: 1e-7 keeps the factor finite for zero-norm slices.
    return where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0).to(input.dtype)


def renorm(input, p, dim, maxnorm, *, out=None):
    """Rescale each slice along dim whose p-norm exceeds maxnorm to norm maxnorm.

    Args:
        input: a float tensor.
        p: the norm's order (> 0, inf allowed).
        dim: the dim that indexes the slices (the norm is over every other dim).
        maxnorm: the largest norm a slice keeps.

    Example:
        >>> import ember
        >>> ember.renorm(ember.ones(2, 4), 2, 0, 1.0).tolist()[0]
        [0.5, 0.5, 0.5, 0.5]
    """
    from .elementwise import _out
    return _out(named(input * _renorm_factor(input, p, dim, maxnorm), "RenormBackward0"), out)


class _Assign(Op):
    """x replaced by value (same shape): how renorm_ writes its result in place."""
    name = "renorm"

    @staticmethod
    def forward(ctx, x, value):
        return value

    @staticmethod
    def backward(ctx, grad):
        return None, grad


def renorm_(self, p, dim, maxnorm):
    """In-place renorm()."""
    from .creation import clone
    # Computed from a copy: self is overwritten, but the norms saved for backward must not be.
    result = renorm(clone(self), p, dim, maxnorm)
    return named_inplace(_Assign, self, "RenormBackward0", result)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements.

    Example:
        >>> import ember
        >>> ember.dist(ember.tensor([3.0, 0.0]), ember.tensor([0.0, 4.0])).item()
        5.0
    """
    from .._tensor import Tensor
    from .linalg import vector_norm
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return named(vector_norm(input - other, float(p)), "DistBackward0")


TENSOR_METHODS = {
    "cov": cov, "corrcoef": corrcoef, "quantile": quantile, "nanquantile": nanquantile,
    "histogram": histogram, "renorm": renorm, "renorm_": renorm_, "dist": dist,
}

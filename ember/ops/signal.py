"""Signal processing: window functions, differentiable FFTs and the short-time Fourier
transform (stft / istft).

The FFT ops run ``xp.fft`` (NumPy or CuPy) on whole arrays. Their backward passes are FFTs
again (the adjoint of a DFT is the inverse DFT with the dual normalisation), written with the
same ember ops so that double backward works. ``ember.fft`` re-exports the FFT functions.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as D
from .._dispatch import Op, apply
from .._tensor import Tensor
from .creation import arange, ones, tensor, zeros
from .elementwise import _bessel_i, cos, i0, sqrt

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window", "stft", "istft"]

# -- windows -----------------------------------------------------------------------------------


def _window(name, window_length, periodic, dtype, device, requires_grad, formula):
    """Shared checks and the periodic trick: a periodic window of length N is the symmetric
    window of length N + 1 without its last point."""
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if window_length <= 1:
        out = ones(window_length, dtype=dt, device=device)
    else:
        n = window_length + 1 if periodic else window_length
        # computed in float64 and rounded once
        k = arange(n, dtype=D.float64, device=device)
        out = formula(k, n)
        if periodic:
            out = out[:window_length]
        out = out.to(dt)
    if requires_grad:
        out.requires_grad_(True)
    return out


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False) -> Tensor:
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``.

    Args:
        window_length: number of points.
        periodic: True for a window to use with an FFT (the symmetric window of length
            window_length + 1, last point dropped); False for the symmetric one.
        dtype, device, requires_grad: as for factory functions (floating dtypes only).

    Example:
        >>> import ember
        >>> ember.hann_window(4).tolist()
        [0.0, 0.5, 1.0, 0.5]
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 0.5 - 0.5 * cos(k * (2 * math.pi / (n - 1))))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False) -> Tensor:
    """The Hamming window ``alpha - beta cos(2 pi n / (N - 1))`` (see hann_window).

    Example:
        >>> import ember
        >>> [round(v, 2) for v in ember.hamming_window(4).tolist()]
        [0.08, 0.54, 1.0, 0.54]
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: alpha - beta * cos(k * (2 * math.pi / (n - 1))))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False) -> Tensor:
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (N-1)) + 0.08 cos(4 pi n / (N-1))``.

    Example:
        >>> import ember
        >>> [round(v, 2) for v in ember.blackman_window(4).tolist()]
        [-0.0, 0.34, 1.0, 0.34]
    """
    def formula(k, n):
        step = 2 * math.pi / (n - 1)
        return 0.42 - 0.5 * cos(k * step) + 0.08 * cos(k * (2 * step))
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   formula)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False) -> Tensor:
    """The Bartlett (triangular) window ``1 - |2n / (N - 1) - 1|``.

    Example:
        >>> import ember
        >>> ember.bartlett_window(4).tolist()
        [0.0, 0.5, 1.0, 0.5]
    """
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 1 - (k * (2.0 / (n - 1)) - 1).abs())


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False) -> Tensor:
    """The Kaiser window ``I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta)``, a = (N - 1) / 2.

    Example:
        >>> import ember
        >>> [round(v, 4) for v in ember.kaiser_window(3, periodic=False).tolist()]
        [0.0001, 1.0, 0.0001]
    """
    def formula(k, n):
        half = (n - 1) / 2
        ratio = (k - half) / half
        scale = float(_bessel_i(np, 0, np.asarray(beta, dtype=np.float64)))
        return i0(sqrt((1 - ratio * ratio).clamp_min(0)) * beta) / scale
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   formula)


# -- FFT ops -----------------------------------------------------------------------------------
#
# Note [FFT adjoints]
# With PyTorch's convention for complex gradients, the gradient of a linear map y = A x is
# A^H g. A DFT scaled by s has adjoint "the inverse DFT scaled by s": fft(norm=m) is undone by
# ifft(norm=dual(m)) with dual swapping "backward" and "forward" ("ortho" is its own dual).
# rfft's adjoint zero-fills the missing half before a complex inverse and keeps the real part;
# irfft's is rfft with the bins that stand for two conjugate bins (all but DC and Nyquist)
# doubled. A length n other than the input's (crop or zero-pad) is undone by the opposite.

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_NORMS = (None, "backward", "forward", "ortho")


def _check_norm(norm):
    if norm not in _NORMS:
        raise ValueError(f"Invalid normalization mode: {norm}")
    return norm or "backward"


def _fit(t, dim, size):
    """Crop or zero-pad t along dim to size (the adjoint of the FFTs' own crop/pad)."""
    have = t.shape[dim]
    if have == size:
        return t
    if have > size:
        return t.narrow(dim, 0, size)
    pad_shape = list(t.shape)
    pad_shape[dim] = size - have
    from .shape import cat
    return cat([t, t.new_zeros(tuple(pad_shape))], dim)


def _complex_dtype(np_dtype):
    if np_dtype.kind == "c":
        return np_dtype
    return np.dtype(np.complex128 if np_dtype == np.float64 else np.complex64)


def _real_dtype(np_dtype):
    if np_dtype.kind == "c":
        return np.dtype(np.float64 if np_dtype == np.complex128 else np.float32)
    if np_dtype.kind == "f" and np_dtype.itemsize >= 4:
        return np_dtype
    return np.dtype(np.float32)


def _fft_input(name, a):
    if a.dtype.kind in "biu":
        return a.astype(D.get_default_dtype().np)
    if a.dtype.kind == "V" or (a.dtype.kind == "f" and a.dtype.itemsize < 4):
        raise RuntimeError(f"{name}: Unsupported dtype {D.from_numpy_dtype(a.dtype)}")
    return a


class FFT(Op):
    """Complex-to-complex DFT (or its inverse) along one dim."""
    name = "fft_c2c"

    @staticmethod
    def forward(ctx, a, *, n, dim, norm, inverse):
        a = _fft_input("fft", a)
        ctx.dim, ctx.norm, ctx.inverse, ctx.n = dim, norm, inverse, n
        ctx.real_input = a.dtype.kind != "c"
        kernel = ctx.xp.fft.ifft if inverse else ctx.xp.fft.fft
        return kernel(a, n=n, axis=dim, norm=norm).astype(_complex_dtype(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        g = apply(FFT, grad, n=ctx.n, dim=ctx.dim, norm=_DUAL[ctx.norm],
                  inverse=not ctx.inverse)
        g = _fit(g, ctx.dim, ctx.in_shapes[0][ctx.dim])
        return g.real if ctx.real_input else g


class RFFT(Op):
    """Real-to-complex DFT along one dim: the n // 2 + 1 non-negative frequencies."""
    name = "fft_r2c"

    @staticmethod
    def forward(ctx, a, *, n, dim, norm):
        a = _fft_input("rfft", a)
        if a.dtype.kind == "c":
            raise RuntimeError("rfft expects a real input tensor, but got "
                               f"{D.from_numpy_dtype(a.dtype)}")
        ctx.dim, ctx.norm, ctx.n = dim, norm, n
        out = ctx.xp.fft.rfft(a, n=n, axis=dim, norm=norm)
        return out.astype(_complex_dtype(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        full = _fit(grad, ctx.dim, ctx.n)
        g = apply(FFT, full, n=ctx.n, dim=ctx.dim, norm=_DUAL[ctx.norm], inverse=True).real
        return _fit(g, ctx.dim, ctx.in_shapes[0][ctx.dim])


class IRFFT(Op):
    """Complex-to-real inverse DFT along one dim (input: the non-negative frequencies)."""
    name = "fft_c2r"

    @staticmethod
    def forward(ctx, a, *, n, dim, norm):
        a = _fft_input("irfft", a)
        ctx.dim, ctx.norm, ctx.n = dim, norm, n
        out = ctx.xp.fft.irfft(a, n=n, axis=dim, norm=norm)
        return out.astype(_real_dtype(a.dtype), copy=False)

    @staticmethod
    def backward(ctx, grad):
        g = apply(RFFT, grad, n=ctx.n, dim=ctx.dim, norm=_DUAL[ctx.norm])
        bins = g.shape[ctx.dim]
        doubled = ctx.n - bins
        if doubled > 0:
            scale = [1.0] * bins
            for k in range(1, 1 + doubled):
                scale[k] = 2.0
            shape = [1] * g.dim()
            shape[ctx.dim] = bins
            factor = tensor(scale, dtype=D.from_numpy_dtype(_real_dtype(g._data.dtype)),
                            device=g.device)
            g = g * factor.reshape(shape)
        g = _fit(g, ctx.dim, ctx.in_shapes[0][ctx.dim])
        return g


def _dim_and_n(input, n, dim, op):
    from .._errors import wrap_dim
    dim = wrap_dim(op, dim, input.dim()) if input.dim() else dim
    if input.dim() == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    size = input.shape[dim]
    if n is None:
        n = size
    if n < 1:
        raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")
    return n, dim


def fft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """One-dimensional discrete Fourier transform (torch.fft.fft).

    Args:
        input: a real or complex tensor.
        n: signal length (input cropped or zero-padded along dim); default its size.
        dim: the dim to transform.
        norm: "backward" (default, no scaling), "forward" (1/n) or "ortho" (1/sqrt(n)).

    Example:
        >>> import ember
        >>> ember.fft.fft(ember.tensor([1.0, 0.0, 0.0, 0.0])).tolist()
        [(1+0j), (1+0j), (1+0j), (1+0j)]
    """
    n, dim = _dim_and_n(input, n, dim, "fft")
    return _out(apply(FFT, input, n=n, dim=dim, norm=_check_norm(norm), inverse=False), out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """One-dimensional inverse DFT (torch.fft.ifft); "backward" norm scales by 1/n.

    Example:
        >>> import ember
        >>> ember.fft.ifft(ember.tensor([4.0, 0.0, 0.0, 0.0])).tolist()
        [(1+0j), (1+0j), (1+0j), (1+0j)]
    """
    n, dim = _dim_and_n(input, n, dim, "ifft")
    return _out(apply(FFT, input, n=n, dim=dim, norm=_check_norm(norm), inverse=True), out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """DFT of a real signal: the n // 2 + 1 non-negative frequencies (torch.fft.rfft).

    Example:
        >>> import ember
        >>> ember.fft.rfft(ember.tensor([1.0, 1.0, 1.0, 1.0])).tolist()
        [(4+0j), 0j, 0j]
    """
    n, dim = _dim_and_n(input, n, dim, "rfft")
    return _out(apply(RFFT, input, n=n, dim=dim, norm=_check_norm(norm)), out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Inverse of rfft: a real signal of length n (default 2 * (input.size(dim) - 1)).

    Example:
        >>> import ember
        >>> ember.fft.irfft(ember.tensor([4 + 0j, 0j, 0j])).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    if input.dim() == 0:
        raise IndexError("irfft: Dimension specified as -1 but tensor has no dimensions")
    from .._errors import wrap_dim
    dim = wrap_dim("irfft", dim, input.dim())
    if n is None:
        n = 2 * (input.shape[dim] - 1)
    if n < 1:
        raise RuntimeError(f"irfft: Invalid number of data points ({n}) specified")
    # the transform reads n // 2 + 1 bins: crop or zero-pad the input to that first
    bins = n // 2 + 1
    if input.shape[dim] != bins:
        input = _fit(input, dim, bins)
    return _out(apply(IRFFT, input, n=n, dim=dim, norm=_check_norm(norm)), out)


def _nd_plan(input, s, dim, op):
    """(dims, lengths) of an n-dimensional transform, PyTorch's defaults: all dims, or the
    last len(s) dims when only s is given."""
    from .._errors import wrap_dim
    if dim is None:
        dims = list(range(input.dim())) if s is None else \
            list(range(input.dim() - len(s), input.dim()))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [wrap_dim(op, d, input.dim()) for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dims must be unique")
    if s is None:
        lengths = [None] * len(dims)
    else:
        if len(s) != len(dims):
            raise RuntimeError(f"{op}: When given, dim and shape arguments must have the same "
                               f"length (got s of length {len(s)} and {len(dims)} dims)")
        lengths = [None if n == -1 else n for n in s]
    return dims, lengths


def fftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """N-dimensional DFT: one-dimensional fft along each of ``dim`` (default all dims).

    Example:
        >>> import ember
        >>> ember.fft.fftn(ember.ones(2, 2)).tolist()
        [[(4+0j), 0j], [0j, 0j]]
    """
    dims, lengths = _nd_plan(input, s, dim, "fftn")
    for d, n in zip(dims, lengths):
        input = fft(input, n, d, norm)
    return _out(input, out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """N-dimensional inverse DFT (see fftn)."""
    dims, lengths = _nd_plan(input, s, dim, "ifftn")
    for d, n in zip(dims, lengths):
        input = ifft(input, n, d, norm)
    return _out(input, out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """N-dimensional DFT of a real signal: rfft along the last of ``dim``, fft along the rest."""
    dims, lengths = _nd_plan(input, s, dim, "rfftn")
    input = rfft(input, lengths[-1], dims[-1], norm)
    for d, n in zip(dims[:-1], lengths[:-1]):
        input = fft(input, n, d, norm)
    return _out(input, out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Inverse of rfftn: ifft along all but the last of ``dim``, then irfft along the last."""
    dims, lengths = _nd_plan(input, s, dim, "irfftn")
    for d, n in zip(dims[:-1], lengths[:-1]):
        input = ifft(input, n, d, norm)
    return _out(irfft(input, lengths[-1], dims[-1], norm), out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Two-dimensional DFT (fftn over the last two dims)."""
    return fftn(input, s, dim, norm, out=out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Two-dimensional inverse DFT."""
    return ifftn(input, s, dim, norm, out=out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Two-dimensional DFT of a real signal."""
    return rfftn(input, s, dim, norm, out=out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Inverse of rfft2."""
    return irfftn(input, s, dim, norm, out=out)


def _out(result, out):
    if out is None:
        return result
    return out.resize_(result.shape).copy_(result) if tuple(out.shape) != tuple(
        result.shape) else out.copy_(result)


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """Sample frequencies of an n-point DFT: [0, 1, ..., -1] / (d * n).

    Example:
        >>> import ember
        >>> ember.fft.fftfreq(4).tolist()
        [0.0, 0.25, -0.5, -0.25]
    """
    k = arange(n, dtype=D.float64, device=device)
    k = k - (k >= (n + 1) // 2).to(D.float64) * n
    out = (k / (d * n)).to(D.get_default_dtype() if dtype is None else D.to_dtype(dtype))
    return out.requires_grad_(True) if requires_grad else out


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """Sample frequencies of rfft: [0, 1, ..., n // 2] / (d * n).

    Example:
        >>> import ember
        >>> ember.fft.rfftfreq(4).tolist()
        [0.0, 0.25, 0.5]
    """
    k = arange(n // 2 + 1, dtype=D.float64, device=device)
    out = (k / (d * n)).to(D.get_default_dtype() if dtype is None else D.to_dtype(dtype))
    return out.requires_grad_(True) if requires_grad else out


def _shift(input, dim, sign):
    if dim is None:
        dim = tuple(range(input.dim()))
    elif isinstance(dim, int):
        dim = (dim,)
    shifts = tuple(sign * (input.shape[d] // 2) for d in dim)
    return input.roll(shifts, dim)


def fftshift(input, dim=None) -> Tensor:
    """Move the zero frequency to the centre (a roll by size // 2 along each dim).

    Example:
        >>> import ember
        >>> ember.fft.fftshift(ember.fft.fftfreq(4)).tolist()
        [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift(input, dim, 1)


def ifftshift(input, dim=None) -> Tensor:
    """The inverse of fftshift.

    Example:
        >>> import ember
        >>> ember.fft.ifftshift(ember.tensor([-0.5, -0.25, 0.0, 0.25])).tolist()
        [0.0, 0.25, -0.5, -0.25]
    """
    return _shift(input, dim, -1)


# -- short-time Fourier transform --------------------------------------------------------------

def _stft_window(window, n_fft, win_length, ref, op):
    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win_length}")
    if window is None:
        window = ones(win_length, dtype=_real_of(ref.dtype), device=ref.device)
    if window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{op}: expected a 1D window tensor of size equal to win_length="
                           f"{win_length}, but got window with size {tuple(window.shape)}")
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        from .shape import cat
        window = cat([window.new_zeros((left,)), window,
                      window.new_zeros((n_fft - win_length - left,))])
    return window


def _real_of(dt):
    if dt.is_complex:
        return D.float64 if dt == D.complex128 else D.float32
    return dt if dt.is_floating_point else D.get_default_dtype()


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None) -> Tensor:
    """Short-time Fourier transform: the DFT of overlapping windowed frames.

    Args:
        input: a 1-D (L,) or 2-D (B, L) signal.
        n_fft: frame size; hop_length: frame step (default n_fft // 4); win_length: window
            size (default n_fft; the window is zero-padded to n_fft, centred).
        window: 1-D tensor of size win_length (default all ones, with PyTorch's warning).
        center: pad the signal by n_fft // 2 on both sides (pad_mode: "reflect", "constant",
            "replicate" or "circular") so frame t is centred at t * hop_length.
        normalized: multiply by n_fft ** -0.5.
        onesided: keep the n_fft // 2 + 1 non-negative frequencies (default for real input and
            window).
        return_complex: must be given for real inputs; False returns view_as_real of the
            result (deprecated, as in PyTorch).

    Returns:
        A complex tensor (B?, n_fft // 2 + 1 or n_fft, n_frames).

    Example:
        >>> import ember
        >>> ember.stft(ember.ones(8), 4, window=ember.ones(4), return_complex=True).shape
        torch.Size([3, 9])
    """
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_input:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor "
                           f"of shape {tuple(input.shape)}")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied,which is "
                      "known to cause spectral leakage. Other windows such as torch.hann_window "
                      "or torch.hamming_window are recommended to reduce spectral leakage.To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    if center:
        from ..nn.functional import pad
        half = n_fft // 2
        x = pad(x.unsqueeze(1), (half, half), mode=pad_mode).squeeze(1)
    length = x.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    window = _stft_window(window, n_fft, win_length, x, "stft")
    frames = x.unfold(-1, n_fft, hop_length) * window            # (B, frames, n_fft)
    if onesided is None:
        onesided = not complex_input
    if onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    if onesided:
        spec = rfft(frames, dim=-1, norm=norm)
    else:
        spec = fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(1, 2)
    if not batched:
        spec = spec.squeeze(0)
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch "
                      "release, stft will return complex tensors for all inputs, and "
                      "return_complex=False will raise an error.\nNote: you can still call "
                      "torch.view_as_real on the complex output to recover the old return "
                      "format.", UserWarning, stacklevel=2)
        from .scatter_views import view_as_real
        spec = view_as_real(spec)
    return spec


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False) -> Tensor:
    """Inverse short-time Fourier transform: inverse DFT of each frame, windowed overlap-add,
    divided by the summed squared window (least-squares inverse of stft).

    Args:
        input: complex (B?, freq, n_frames) as returned by stft.
        n_fft, hop_length, win_length, window, center, normalized, onesided: as given to stft.
        length: trim or zero-pad the output to this many samples.
        return_complex: the output is complex (requires a two-sided input).

    Returns:
        The signal (B?, L).

    Example:
        >>> import ember
        >>> w = ember.hann_window(8)
        >>> x = ember.arange(32.0)
        >>> y = ember.istft(ember.stft(x, 8, window=w, return_complex=True), 8, window=w)
        >>> bool((y - x).abs().max() < 1e-4)
        True
    """
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"dtype, but got {input.dim()}D of shape {tuple(input.shape)}")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    batched = input.dim() == 3
    spec = input if batched else input.unsqueeze(0)
    n_frames = spec.shape[-1]
    freq = spec.shape[-2]
    if onesided is None:
        onesided = freq != n_fft
    if onesided:
        if freq != n_fft // 2 + 1:
            raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of "
                               f"the input tensor to match n_fft / 2 + 1 when onesided=True, "
                               f"but got {freq}")
        if return_complex:
            raise RuntimeError("cannot have onesided output if window or input is complex")
    elif freq != n_fft:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {freq}")
    norm = "ortho" if normalized else "backward"
    frames_spec = spec.transpose(1, 2)                          # (B, frames, freq)
    if onesided:
        frames = irfft(frames_spec, n=n_fft, dim=-1, norm=norm)
    else:
        frames = ifft(frames_spec, n=n_fft, dim=-1, norm=norm)
        if not return_complex:
            frames = frames.real
    window = _stft_window(window, n_fft, win_length, frames if not frames.is_complex()
                          else frames.real, "istft")
    frames = frames * window
    expected = n_fft + hop_length * (n_frames - 1)
    # overlap-add as one index_add over the flattened frames
    index = (arange(n_frames, device=frames.device).unsqueeze(1) * hop_length
             + arange(n_fft, device=frames.device)).reshape(-1)
    batch = frames.shape[0]
    y = zeros((batch, expected), dtype=frames.dtype, device=frames.device)
    y = y.index_add(1, index, frames.reshape(batch, n_frames * n_fft))
    window_sq = (window * window).detach().expand(n_frames, n_fft).reshape(-1)
    envelope = zeros(expected, dtype=window_sq.dtype, device=window_sq.device)
    envelope = envelope.index_add(0, index, window_sq)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = expected - n_fft // 2
    else:
        end = expected
    end = min(end, expected)
    y = y[:, start:end]
    envelope = envelope[start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError("istft: window overlap add min: 1e-11 is not met: the window and "
                           "hop_length do not satisfy the NOLA (nonzero overlap add) condition")
    y = y / envelope
    if length is not None and y.shape[-1] < length:
        warnings.warn("The length of signal is shorter than the length parameter. Result is "
                      "being padded with zeros in the tail. Please check your center and "
                      "hop_length settings.", UserWarning, stacklevel=2)
        y = _fit(y, y.dim() - 1, length)
    return y if batched else y.squeeze(0)


TENSOR_METHODS = {"stft": stft, "istft": istft}

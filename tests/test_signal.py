"""Signal processing: windows, ember.fft and stft/istft, values and gradients against torch,
plus float64 gradcheck (first and second order) of the FFT ops."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


@needs_torch
@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("periodic", [True, False])
def test_window_matches_torch(name, periodic):
    for n in (0, 1, 2, 5, 8, 33):
        for dtype in ("float32", "float64"):
            e = getattr(ember, name)(n, periodic, dtype=getattr(ember, dtype))
            t = getattr(torch, name)(n, periodic, dtype=getattr(torch, dtype))
            assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


@needs_torch
def test_window_parameters_match_torch():
    np.testing.assert_allclose(ember.kaiser_window(9, False, 3.5, dtype=ember.float64).numpy(),
                               torch.kaiser_window(9, False, 3.5, dtype=torch.float64).numpy(),
                               rtol=1e-13)
    np.testing.assert_allclose(
        ember.hamming_window(7, True, 0.5, 0.4, dtype=ember.float64).numpy(),
        torch.hamming_window(7, True, 0.5, 0.4, dtype=torch.float64).numpy(), rtol=1e-13)
    assert ember.hann_window(4).dtype is ember.get_default_dtype()
    assert ember.hann_window(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", WINDOWS)
def test_window_errors(name):
    with pytest.raises(RuntimeError, match="expects floating point dtypes"):
        getattr(ember, name)(4, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="requires non-negative window_length"):
        getattr(ember, name)(-1)


def _compare(e, t, rtol=1e-10):
    e = e.detach().numpy()
    t = t.detach().resolve_conj().numpy()
    assert e.shape == t.shape and e.dtype == t.dtype, (e.shape, t.shape, e.dtype, t.dtype)
    np.testing.assert_allclose(e, t, rtol=rtol, atol=1e-10)


FFT_CASES = [(f, n, norm) for f in ("fft", "ifft", "rfft", "irfft")
             for n in (None, 3, 4, 7, 9) for norm in (None, "ortho", "forward")]


@needs_torch
@pytest.mark.parametrize("name,n,norm", FFT_CASES)
def test_fft_values_and_grads_match_torch(name, n, norm):
    rng = np.random.default_rng(0)
    if name == "rfft":
        data = rng.standard_normal((3, 6))
    else:
        data = rng.standard_normal((3, 6)) + 1j * rng.standard_normal((3, 6))
    dim = 0 if name in ("fft", "ifft") else -1
    xe = ember.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    ye = getattr(ember.fft, name)(xe, n=n, dim=dim, norm=norm)
    yt = getattr(torch.fft, name)(xt, n=n, dim=dim, norm=norm)
    _compare(ye, yt)
    g = rng.standard_normal(tuple(yt.shape))
    if yt.is_complex():
        g = g + 1j * rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    _compare(xe.grad, xt.grad)


@needs_torch
def test_fft_of_real_input_and_dtypes():
    x = np.random.default_rng(1).standard_normal(5).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ember.fft.fft(xe), torch.fft.fft(xt)
    assert str(ye.dtype) == str(yt.dtype) == "torch.complex64"
    g = np.arange(5) + 1j
    ye.backward(ember.tensor(g.astype(np.complex64)))
    yt.backward(torch.tensor(g.astype(np.complex64)))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5)
    assert ember.fft.irfft(ember.ones(3, dtype=ember.complex64)).dtype is ember.float32
    assert ember.fft.fft(ember.arange(4)).dtype is ember.complex64
    with pytest.raises(ValueError, match="Invalid normalization mode"):
        ember.fft.fft(ember.ones(4), norm="bad")
    with pytest.raises(RuntimeError, match="Invalid number of data points"):
        ember.fft.rfft(ember.ones(4), n=0)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft"])
def test_fft_gradcheck_and_gradgradcheck(name):
    # gradcheck takes real inputs: complex ones enter as (real, imag) pairs
    rng = np.random.default_rng(2)
    re = ember.tensor(rng.standard_normal((2, 5)), requires_grad=True)
    im = ember.tensor(rng.standard_normal((2, 5)), requires_grad=True)
    fn = getattr(ember.fft, name)

    def f(a, b):
        out = fn(a if name == "rfft" else ember.complex(a, b), n=6, norm="ortho")
        return ember.view_as_real(out) if out.is_complex() else out
    assert ember.autograd.gradcheck(f, (re, im))
    assert ember.autograd.gradgradcheck(f, (re, im))


@needs_torch
def test_fft_helpers_match_torch():
    for n in (1, 4, 5):
        np.testing.assert_allclose(ember.fft.fftfreq(n, 0.5).numpy(),
                                   torch.fft.fftfreq(n, 0.5).numpy())
        np.testing.assert_allclose(ember.fft.rfftfreq(n).numpy(), torch.fft.rfftfreq(n).numpy())
    data = np.arange(12).reshape(3, 4)
    for dim in (None, 0, (0, 1), -1):
        assert (ember.fft.fftshift(ember.tensor(data), dim).tolist()
                == torch.fft.fftshift(torch.tensor(data), dim).tolist())
        assert (ember.fft.ifftshift(ember.tensor(data), dim).tolist()
                == torch.fft.ifftshift(torch.tensor(data), dim).tolist())


STFT_CASES = [(8, None, None, True, "reflect", False, None),
              (8, 3, 6, True, "constant", True, None),
              (16, 4, 16, False, "reflect", False, False),
              (8, 2, None, True, "replicate", False, True)]


@needs_torch
@pytest.mark.parametrize("n_fft,hop,win,center,pad_mode,normalized,onesided", STFT_CASES)
def test_stft_istft_match_torch(n_fft, hop, win, center, pad_mode, normalized, onesided):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 40))
    we = ember.hann_window(win or n_fft, dtype=ember.float64)
    wt = torch.hann_window(win or n_fft, dtype=torch.float64)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    args = (hop, win)
    se = ember.stft(xe, n_fft, *args, we, center, pad_mode, normalized, onesided,
                    return_complex=True)
    st = torch.stft(xt, n_fft, *args, wt, center, pad_mode, normalized, onesided,
                    return_complex=True)
    _compare(se, st)
    g = rng.standard_normal(tuple(st.shape)) + 1j * rng.standard_normal(tuple(st.shape))
    se.backward(ember.tensor(g))
    st.backward(torch.tensor(g))
    _compare(xe.grad, xt.grad)
    if not center:          # the periodic Hann window's zero breaks NOLA at the first sample
        with pytest.raises(RuntimeError, match="window overlap add min"):
            ember.istft(se.detach(), n_fft, *args, we, center, normalized, onesided)
        return
    for length in (None, 37):
        ze, zt = se.detach().requires_grad_(True), st.detach().requires_grad_(True)
        ye = ember.istft(ze, n_fft, *args, we, center, normalized, onesided, length=length)
        yt = torch.istft(zt, n_fft, *args, wt, center, normalized, onesided, length=length)
        _compare(ye, yt)
        gy = rng.standard_normal(tuple(yt.shape))
        ye.backward(ember.tensor(gy))
        yt.backward(torch.tensor(gy))
        _compare(ze.grad, zt.grad)


@needs_torch
def test_stft_complex_input_round_trip():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(30) + 1j * rng.standard_normal(30)
    we, wt = ember.hann_window(8, dtype=ember.float64), torch.hann_window(8, dtype=torch.float64)
    se = ember.stft(ember.tensor(x), 8, window=we)            # complex input: no flag needed
    st = torch.stft(torch.tensor(x), 8, window=wt, return_complex=True)
    _compare(se, st)
    ye = ember.istft(se, 8, window=we, return_complex=True)
    yt = torch.istft(st, 8, window=wt, return_complex=True)
    _compare(ye, yt)
    np.testing.assert_allclose(ye.numpy(), x[:ye.shape[0]], atol=1e-12)


def test_stft_warnings_and_errors():
    x = ember.arange(20.0)
    with pytest.raises(RuntimeError, match="requires the return_complex parameter"):
        ember.stft(x, 8, window=ember.ones(8))
    with pytest.warns(UserWarning, match="A window was not provided"):
        ember.stft(x, 8, return_complex=True)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        out = ember.stft(x, 8, window=ember.ones(8), return_complex=False)
    assert tuple(out.shape) == (5, 11, 2) and not out.is_complex()
    with pytest.raises(RuntimeError, match="1D or 2D"):
        ember.stft(ember.ones(1, 2, 20), 8, window=ember.ones(8), return_complex=True)
    spec = ember.stft(x, 8, window=ember.hann_window(8), return_complex=True)
    with pytest.raises(RuntimeError, match="complex-valued input"):
        ember.istft(spec.real, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ember.istft(spec, 8, window=ember.hann_window(8), length=20)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-4)
    with pytest.warns(UserWarning, match="padded with zeros"):
        assert ember.istft(spec, 8, window=ember.hann_window(8), length=25).shape[0] == 25


@pytest.mark.gpu
def test_gpu_stft_round_trip_matches_cpu():
    x = np.random.default_rng(5).standard_normal((2, 64))
    outs = []
    for dev in ("cpu", "cuda"):
        w = ember.hann_window(16, dtype=ember.float64, device=dev)
        spec = ember.stft(ember.tensor(x, device=dev), 16, window=w, return_complex=True)
        outs.append((spec.cpu().numpy(), ember.istft(spec, 16, window=w).cpu().numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(outs[1][1], x, atol=1e-10)


ND_CASES = [("fftn", None, None), ("fftn", (3, 5), None), ("ifftn", None, (0, 2)),
            ("rfftn", None, None), ("rfftn", (4, 6), (1, 2)), ("irfftn", None, None),
            ("irfftn", (3, 6), (0, 2)), ("fft2", None, (-2, -1)), ("ifft2", (2, 3), (-2, -1)),
            ("rfft2", None, (-2, -1)), ("irfft2", (4, 4), (-2, -1))]


@needs_torch
@pytest.mark.parametrize("name,s,dim", ND_CASES)
def test_fftn_family_matches_torch(name, s, dim):
    rng = np.random.default_rng(6)
    data = rng.standard_normal((2, 3, 4))
    if not name.startswith("rfft"):
        data = data + 1j * rng.standard_normal((2, 3, 4))
    xe, xt = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    kw = {} if dim is None else {"dim": dim}
    ye = getattr(ember.fft, name)(xe, s, norm="ortho", **kw)
    yt = getattr(torch.fft, name)(xt, s, norm="ortho", **kw)
    _compare(ye, yt)
    g = rng.standard_normal(tuple(yt.shape))
    if yt.is_complex():
        g = g + 1j * rng.standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    _compare(xe.grad, xt.grad)


def test_stft_is_a_tensor_method():
    x = ember.arange(16.0)
    w = ember.hann_window(8)
    spec = x.stft(8, window=w, return_complex=True)
    assert tuple(spec.shape) == (5, 9)
    np.testing.assert_allclose(spec.istft(8, window=w, length=16).numpy(), x.numpy(), atol=1e-4)

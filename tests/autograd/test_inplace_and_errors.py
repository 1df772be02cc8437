"""In-place ops under autograd (version counters, views, leaves), anomaly detection, and the
errors whose PyTorch wording users search for."""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import assert_close, needs_torch, torch

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def _leaf(lib=ember):
    return lib.tensor(A, requires_grad=True)


# -- in-place on leaves -----------------------------------------------------------------------

def test_inplace_on_leaf_requiring_grad_raises():
    a = _leaf()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        a.mul_(2)
    with ember.no_grad():
        a.mul_(2)                           # allowed outside grad mode (optimizer steps)
    np.testing.assert_array_equal(a.detach().numpy(), 2 * A)
    assert a.requires_grad and a.is_leaf


def test_inplace_on_view_of_leaf_raises():
    a = _leaf()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation"):
        a[0].mul_(2)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0] = 5.0


# -- saved tensors modified in place ------------------------------------------------------------

def test_inplace_on_saved_output_raises_with_versions():
    a = _leaf()
    y = a.exp()                             # exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: \[torch.DoubleTensor "
                                           r"\[2, 3\]\].*is at version 1; expected version 0"):
        y.sum().backward()


def test_inplace_on_saved_input_raises_and_counts_versions():
    a = _leaf()
    y = a * 1
    z = y * y                               # mul saves y (version 0)
    y.add_(1)
    y.add_(1)
    assert y._version == 2
    with pytest.raises(RuntimeError, match="output 0 of AddBackward0, is at version 2; expected "
                                           "version 0 instead"):
        z.sum().backward()


def test_inplace_on_tensor_not_saved_is_fine():
    a = _leaf()
    y = a * 1
    z = y.sigmoid()                         # sigmoid saves its output, not y
    y.mul_(2)
    z.sum().backward()
    s = 1 / (1 + np.exp(-A))
    np.testing.assert_allclose(a.grad.numpy(), s * (1 - s), rtol=1e-6)


def test_version_counter_shared_by_views_and_detach():
    a = _leaf()
    y = a * 1
    v = y[0]
    d = y.detach()
    v.mul_(2)
    assert y._version == v._version == d._version == 1


# -- in-place on views --------------------------------------------------------------------------

@needs_torch
def test_setitem_with_grad_matches_torch():
    res = []
    for lib in (ember, torch):
        a = _leaf(lib)
        b = lib.tensor([7.0, 8.0, 9.0], requires_grad=True)
        x = a * 1
        x[0] = b * 2
        (x * lib.tensor(W)).sum().backward()
        res.append((a.grad, b.grad))
    assert_close(res[0][0], res[1][0])
    assert_close(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][0].numpy(), [[0, 0, 0], [4, 5, 6]])


@needs_torch
def test_view_inplace_then_backward_through_base_matches_torch():
    res = []
    for lib in (ember, torch):
        a = _leaf(lib)
        x = a * 1
        v = x[:, 1]
        v.mul_(3)
        assert x.grad_fn is not None
        (x * x).sum().backward()
        res.append(a.grad)
    assert_close(res[0], res[1])
    np.testing.assert_array_equal(res[0].numpy(), [[2, 36, 6], [8, 90, 12]])


@needs_torch
def test_view_sees_inplace_change_of_base_matches_torch():
    res = []
    for lib in (ember, torch):
        a = _leaf(lib)
        x = a * 1
        v = x[0]
        x.mul_(2)
        v.sum().backward()
        res.append(a.grad)
    assert_close(res[0], res[1])
    np.testing.assert_array_equal(res[0].numpy(), [[2, 2, 2], [0, 0, 0]])


@needs_torch
def test_inplace_on_view_of_view_matches_torch():
    res = []
    for lib in (ember, torch):
        a = _leaf(lib)
        x = a * 1
        x.permute(1, 0)[1].mul_(10)          # column 1 of x
        (x * lib.tensor(W)).sum().backward()
        res.append(a.grad)
    assert_close(res[0], res[1])


# -- errors users search for ----------------------------------------------------------------------

def test_backward_twice_error_wording():
    a = _leaf()
    y = (a * a).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"Trying to backward through the graph a second time "
                                           r"\(or directly access saved tensors after they have "
                                           r"already been freed\)"):
        y.backward()


def test_non_scalar_backward_error_wording():
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        (_leaf() * 2).backward()


def test_gradient_shape_mismatch_error():
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (_leaf() * 2).backward(ember.ones(3))


@pytest.mark.gpu
def test_cross_device_op_error():
    a = _leaf()
    b = ember.ones(2, 3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a * b


@pytest.mark.gpu
def test_backward_across_devices_gives_grads_on_each_device():
    a = _leaf()
    y = (a.to("cuda") * 2).sum()
    y.backward()
    assert a.grad.device.type == "cpu"
    np.testing.assert_array_equal(a.grad.numpy(), np.full(A.shape, 2.0))


# -- anomaly detection ------------------------------------------------------------------------------

def _nan_forward(a):
    poison = ember.tensor([[1.0, float("nan"), 1.0], [1.0, 1.0, 1.0]])
    return (a * poison).sum()                   # MulBackward0 returns NaN for a


def test_detect_anomaly_names_the_forward_op_and_its_traceback():
    a = _leaf()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        guard = ember.autograd.detect_anomaly()
    with guard:
        assert ember.autograd.is_anomaly_enabled()
        y = _nan_forward(a)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="Function 'MulBackward0' returned nan values in "
                                                   "its 0th output"):
                y.backward()
    assert not ember.autograd.is_anomaly_enabled()
    messages = [str(w.message) for w in caught]
    trace = [m for m in messages if "Error detected in MulBackward0" in m]
    assert trace and "_nan_forward" in trace[0]       # the forward call site is reported


def test_without_anomaly_mode_nan_grads_pass_silently():
    a = _leaf()
    _nan_forward(a).backward()
    assert np.isnan(a.grad.numpy()[0, 1])


def test_set_detect_anomaly_check_nan_false_does_not_raise():
    a = _leaf()
    with ember.autograd.set_detect_anomaly(True, check_nan=False):
        _nan_forward(a).backward()
    assert not ember.autograd.is_anomaly_enabled()


def test_detect_anomaly_reports_forward_of_failing_backward():
    class Broken(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    a = _leaf()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guard = ember.autograd.detect_anomaly()
    with guard:
        y = Broken.apply(a).sum()
        with pytest.warns(UserWarning, match="Error detected in BrokenBackward"), \
                pytest.raises(ValueError, match="broken backward"):
            y.backward()

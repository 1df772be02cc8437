"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,) if not isinstance(x, list) else tuple(x)


def _needs_grad(x) -> bool:
    return getattr(x, "_rg", False) is True


def _differentiable_outputs(outputs):
    return [o for o in outputs if o is not None and o._rg]


def _host(arr, dtype):
    """A float64 (or complex128) NumPy copy of a backend array, flattened."""
    if type(arr) is not np.ndarray:
        arr = arr.get()                         # cupy -> host
    return np.array(arr, dtype=dtype).reshape(-1)


def _float_outputs(outputs):
    """Indices of outputs that are floating-point or complex tensors."""
    from .._tensor import Tensor
    return [i for i, o in enumerate(outputs)
            if isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex())]


def _numerical_jacobians(fn, inputs, out_indices, eps):
    """Central differences: {(out_index, input_index): (input_numel, output_numel) matrix}.

    Each element of each input that requires grad is perturbed in place (any layout, any
    device), and fn is evaluated twice per element; grad mode stays on, since fn may itself
    differentiate (gradgradcheck).
    """
    jac = {}
    for k, x in enumerate(inputs):
        if not _needs_grad(x):
            continue
        data = x._data
        rows = {oi: [] for oi in out_indices}
        for flat_i in range(data.size):
            idx = np.unravel_index(flat_i, data.shape)
            orig = data[idx].item()
            # Outputs are copied at once: they may be views of the perturbed input.
            data[idx] = orig + eps
            plus = _outputs_on_host(fn(*inputs), out_indices)
            data[idx] = orig - eps
            minus = _outputs_on_host(fn(*inputs), out_indices)
            data[idx] = orig
            for oi in out_indices:
                rows[oi].append((plus[oi] - minus[oi]) / (2 * eps))
        for oi in out_indices:
            if rows[oi]:
                jac[(oi, k)] = np.stack(rows[oi])
    return jac


def _outputs_on_host(outputs, out_indices):
    outputs = _as_tuple(outputs)
    res = {}
    for oi in out_indices:
        o = outputs[oi]
        res[oi] = _host(o.detach()._data, np.complex128 if o.is_complex() else np.float64)
    return res


def _analytical_jacobian(out, inputs, check_grad_dtypes):
    """d(out)/d(input) for each input that requires grad: one backward per output element."""
    from .. import autograd
    from ..ops.creation import zeros_like
    diff = [k for k, x in enumerate(inputs) if _needs_grad(x)]
    n_out = out._data.size
    cols = {k: np.zeros((inputs[k]._data.size, n_out)) for k in diff}
    for j in range(n_out):
        g = zeros_like(out)
        g._data[np.unravel_index(j, g._data.shape)] = 1
        grads = autograd.grad(out, [inputs[k] for k in diff], g, retain_graph=True,
                              allow_unused=True)
        for k, gr in zip(diff, grads):
            if gr is None:
                continue
            if check_grad_dtypes and gr.dtype != inputs[k].dtype:
                raise GradcheckError(f"Gradient has dtype mismatch: input {k} is "
                                     f"{inputs[k].dtype}, its gradient is {gr.dtype}")
            cols[k][:, j] = _host(gr._data, np.float64)
    return cols


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_backward_ad=True, fast_mode=False,
              masked=None, check_forward_ad=False, check_batched_forward_grad=False):
    """Check analytical gradients of ``func`` at ``inputs`` against finite differences.

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of arguments; the Tensors that require grad are checked
            (they should be float64).
        eps, atol, rtol: finite-difference step and the tolerances of the comparison.
        raise_exception: raise GradcheckError on a mismatch (else return False).
        check_grad_dtypes: also require each gradient to have its input's dtype.

    Returns:
        True, or raises GradcheckError naming the output and input whose Jacobians differ.
        Outputs that do not require grad must have a numerical gradient of zero. The
        forward-mode, batched and fast-mode options are accepted and ignored.

    Example:
        >>> import ember
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> ember.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    for k, x in enumerate(inputs):
        if _needs_grad(x) and x.dtype.name not in ("float64", "complex128"):
            warnings.warn(f"Input #{k} requires gradient and is not a double precision "
                          "floating point or complex. This check will likely fail if all the "
                          "inputs are not of double precision floating point or complex. ",
                          UserWarning, stacklevel=2)
    try:
        _gradcheck(func, inputs, eps, atol, rtol, check_grad_dtypes)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck(func, inputs, eps, atol, rtol, check_grad_dtypes):
    outputs = _as_tuple(func(*inputs))
    out_indices = _float_outputs(outputs)
    for oi in out_indices:
        if outputs[oi].is_complex():
            raise GradcheckError("gradcheck: complex outputs are not supported")
    numerical = _numerical_jacobians(func, inputs, out_indices, eps)
    for oi in out_indices:
        out = outputs[oi]
        if not out._rg:
            for (o, k), n in numerical.items():
                if o == oi and not np.allclose(n, 0.0, rtol=rtol, atol=atol):
                    raise GradcheckError(f"Numerical gradient for function expected to be zero: "
                                         f"output {oi} does not require grad but changes with "
                                         f"input {k}")
            continue
        analytical = _analytical_jacobian(out, inputs, check_grad_dtypes)
        for k, a in analytical.items():
            n = numerical.get((oi, k), np.zeros_like(a))
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {oi} with respect to input {k},\n"
                    f"numerical:{n}\nanalytical:{a}\n")


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of ``(inputs, v) -> grad(func(inputs), v)``.

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as for gradcheck.
        grad_outputs: the cotangents v (random, seeded, requiring grad when None).

    Returns:
        True, or raises GradcheckError.

    Example:
        >>> import ember
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> ember.autograd.gradgradcheck(lambda t: (t * t * t).sum(), (x,))
        True
    """
    from .. import autograd
    from ..ops.creation import tensor
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        gen = np.random.default_rng(0)
        grad_outputs = [tensor(gen.standard_normal(tuple(o.shape)), dtype=o.dtype,
                               device=o.device, requires_grad=True) for o in outputs]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if _needs_grad(x)]

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(_as_tuple(func(*ins)))
        grads = autograd.grad(outs, [ins[i] for i in diff_idx], gos, create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)

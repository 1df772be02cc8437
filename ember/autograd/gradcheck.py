"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,) if not isinstance(x, list) else tuple(x)


def _differentiable_outputs(outputs):
    return [o for o in outputs if o is not None and o._rg]


def _numerical_jvp_columns(fn, inputs, out_index, eps):
    """Numerical d(outputs[out_index]) / d(input) for each differentiable input, as a list of
    (input_numel, output_numel) matrices (central differences in place on the input)."""
    jacobians = []
    for x in inputs:
        if not (hasattr(x, "_rg") and x._rg):
            jacobians.append(None)
            continue
        flat = x._data.reshape(-1) if x._data.flags.c_contiguous else None
        if flat is None:
            raise GradcheckError("gradcheck: inputs must be contiguous")
        rows = []
        for i in range(flat.size):
            orig = flat[i].item()
            # Grad mode stays on: fn may itself differentiate (gradgradcheck).
            flat[i] = orig + eps
            plus = _as_tuple(fn(*inputs))[out_index]
            plus = np.array(plus.detach()._data, dtype=np.complex128 if plus.is_complex()
                            else np.float64).reshape(-1)
            flat[i] = orig - eps
            minus = _as_tuple(fn(*inputs))[out_index]
            minus = np.array(minus.detach()._data, dtype=plus.dtype).reshape(-1)
            flat[i] = orig
            rows.append((plus - minus) / (2 * eps))
        jacobians.append(np.stack(rows) if rows else np.zeros((0, 0)))
    return jacobians


def _analytical_rows(outputs, out, inputs):
    """Analytical Jacobian of out w.r.t. each input, one backward per output element."""
    from .. import autograd
    from ..ops.creation import zeros_like
    diff_inputs = [x for x in inputs if hasattr(x, "_rg") and x._rg]
    n_out = out._data.size
    cols = [np.zeros((x._data.size, n_out)) for x in diff_inputs]
    for j in range(n_out):
        g = zeros_like(out)
        g._data.reshape(-1)[j] = 1
        grads = autograd.grad(out, diff_inputs, g, retain_graph=True, allow_unused=True)
        for k, gr in enumerate(grads):
            if gr is not None:
                cols[k][:, j] = np.asarray(gr._data, dtype=np.float64).reshape(-1)
    it = iter(cols)
    return [next(it) if hasattr(x, "_rg") and x._rg else None for x in inputs]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_backward_ad=True, fast_mode=False,
              masked=None, check_forward_ad=False, check_batched_forward_grad=False):
    """Check analytical gradients of ``func`` at ``inputs`` against finite differences.

    Inputs that require grad should be float64 (or complex128). Returns True, or raises
    GradcheckError naming the input and output whose Jacobians differ.

    Example:
        >>> import ember
        >>> x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        >>> ember.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    for x in inputs:
        if hasattr(x, "_rg") and x._rg and x.dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #{inputs.index(x)} requires gradient and is not a double "
                          "precision floating point or complex. This check will likely fail if "
                          "all the inputs are not of double precision floating point or "
                          "complex. ", UserWarning, stacklevel=2)
    outputs = _as_tuple(func(*inputs))
    try:
        for oi, out in enumerate(outputs):
            if out is None or not out._rg:
                continue
            if out.is_complex():
                raise GradcheckError("gradcheck: complex outputs are not supported")
            numerical = _numerical_jvp_columns(func, inputs, oi, eps)
            analytical = _analytical_rows(outputs, out, inputs)
            for ii, (a, n) in enumerate(zip(analytical, numerical)):
                if a is None:
                    continue
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    raise GradcheckError(
                        f"Jacobian mismatch for output {oi} with respect to input {ii},\n"
                        f"numerical:{n}\nanalytical:{a}\n")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of the function input -> grad(func(input))."""
    from .. import autograd
    from ..ops.random import randn
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        gen = np.random.default_rng(0)
        grad_outputs = []
        for o in outputs:
            g = randn(*o.shape, dtype=o.dtype)
            g._data[...] = gen.standard_normal(o.shape)
            g.requires_grad_(True)
            grad_outputs.append(g)
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if hasattr(x, "_rg") and x._rg]

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(_as_tuple(func(*ins)))
        grads = autograd.grad(outs, [ins[i] for i in diff_idx], gos, create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)

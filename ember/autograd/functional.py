"""Higher-level autograd: jacobian, hessian, vjp, jvp, hvp, vhp of Python functions.

Every function takes ``func`` and ``inputs`` (a Tensor or a tuple of Tensors) and returns
results shaped the way PyTorch's ``torch.autograd.functional`` does: a Tensor where the user
gave a Tensor, a tuple where the user gave a tuple. Forward-mode products (jvp, hvp) use the
double-backward trick, so ``func`` needs only reverse-mode derivatives (twice for hvp).

``vectorize`` is accepted for compatibility; the Jacobian is built from one vector-Jacobian
product per output element either way (the values are the same).
"""

from __future__ import annotations

from .grad_mode import enable_grad, set_grad_enabled
from .grad_mode import state as _grad_state

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# -- helpers -----------------------------------------------------------------------------------

def _as_tuple(x, arg_name, fn_name):
    """(was it a tuple, the tuple); anything but Tensors is a TypeError."""
    from .._tensor import Tensor
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    if not is_tuple and not isinstance(x, Tensor):
        raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                        f"of Tensors but the given {arg_name} has type {type(x)}.")
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the value at index {i} has type "
                            f"{type(el)}.")
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    """Undo _as_tuple: to_unpack is one flag, or (outer, inner) flags for nested results."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Fresh tensors to differentiate with respect to. With create_graph, an input that
    requires grad stays connected to its history (so the result can be differentiated with
    respect to the caller's tensors); otherwise it is detached."""
    from ..ops.creation import clone
    res = []
    for inp in inputs:
        if create_graph and inp._rg:
            with enable_grad():
                res.append(clone(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    from .._tensor import Tensor
    if isinstance(inputs[0], Tensor):
        if create_graph:
            return tuple(inputs)
        return tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.shape} but got "
                               f"{el_v.shape}.")


_STRICT_REQUIRES_GRAD = {
    "outputs": ("Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode."),
    "hessian": ("The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided "
                 "function with respect to input {i} is independent of the input. This is not "
                 "allowed in strict mode. You should ensure that your function is twice "
                 "differentiable and that the jacobian depends on the inputs (this would be "
                 "violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of "
                    "the user-provided function. This is not allowed in strict mode."),
}


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not inp._rg:
            raise RuntimeError(_STRICT_REQUIRES_GRAD[input_type].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad; (None, ...) when none does."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o._rg]
    if not pairs:
        return (None,) * len(inputs)
    return grad([p[0] for p in pairs], list(inputs), [p[1] for p in pairs], allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


_STRICT_ZEROS = {
    "back": ("The output of the user-provided function is independent of input {i}. This is "
             "not allowed in strict mode."),
    "back_trick": ("The gradient with respect to the input is independent of entry {i} in the "
                   "grad_outputs when using the double backward trick to compute forward mode "
                   "gradients. This is not allowed in strict mode."),
    "double_back": ("The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."),
    "double_back_trick": ("The hessian of the user-provided function is independent of entry "
                          "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                          "prevents from using the double backward trick to replace forward "
                          "mode AD."),
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros (shaped like refs) where no gradient flowed; an error instead in strict mode."""
    from ..ops.creation import zeros_like
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_ZEROS[stage].format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g._rg:
            if "double" not in stage:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            raise RuntimeError(f"The hessian of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _v_or_default(v, refs, is_refs_tuple, create_graph, what):
    if v is not None:
        _, v = _as_tuple(v, "v", what[0])
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, refs, is_refs_tuple)
        return v
    if len(refs) != 1 or refs[0]._data.size != 1:
        raise RuntimeError(f"The vector v can only be None if the {what[1]} is a single Tensor "
                           "with a single element.")
    return None


def _single_scalar_output(outputs, is_outputs_tuple, fn_name):
    from .._tensor import Tensor
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0]._data.size != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


# -- public API --------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like func's output (may be None when the output has one element).
        create_graph: make the results differentiable.
        strict: raise when an output does not depend on an input, instead of giving zeros.

    Returns:
        (func_output, vjp), vjp shaped like inputs.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import vjp
        >>> vjp(lambda x: x * x, ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))[1]
        tensor([2., 4.])
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
    with set_grad_enabled(True if create_graph else _grad_state.enabled):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (double-backward trick).

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like inputs (may be None when the input is one single-element Tensor).
        create_graph: make the results differentiable.
        strict: raise when an output does not depend on an input, instead of giving zeros.

    Returns:
        (func_output, jvp), jvp shaped like func's output.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import jvp
        >>> jvp(lambda x: x * x, ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0]))[1]
        tensor([2., 0.])
    """
    from ..ops.creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _v_or_default(v, inputs, is_inputs_tuple, create_graph,
                          ("jvp", "input to the user-provided function"))
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # J v = d/du <J^T u, v>: grad_outputs u is a dummy that the first grad is linear in.
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else _grad_state.enabled):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_outputs_tuple))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Jacobian differentiable.
        strict: raise when an output does not depend on an input, instead of giving zeros.
        vectorize: accepted; ember computes the same values row by row.
        strategy: "reverse-mode" or "forward-mode" (forward-mode needs vectorize=True, as in
            PyTorch; ember then computes it in reverse mode, with the same values).

    Returns:
        For output i and input j, a Tensor of shape ``out_i.shape + in_j.shape``, nested as
        ``((J_00, J_01, ...), ...)`` when func returns a tuple and inputs is a tuple; a tuple
        level is dropped wherever the user passed or returned a single Tensor.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import jacobian
        >>> jacobian(lambda x: x * x, ember.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                         'If your function has more outputs than inputs, "forward-mode" tends to '
                         'be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian is only implemented for `vectorize=True`.")
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    from ..ops.creation import zeros_like
    from ..ops.shape import stack
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out._data.size):
                vj = _autograd_grad((flat[j],), inputs, retain_graph=True,
                                    create_graph=create_graph)
                for k, (g, inp) in enumerate(zip(vj, inputs)):
                    if g is not None and strict and create_graph and not g._rg:
                        raise RuntimeError("The jacobian of the user-provided function is not "
                                           f"differentiable with respect to input {k}. This is "
                                           "not allowed in strict mode when create_graph=True.")
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {k}. This is not allowed "
                                               "in strict mode.")
                        g = zeros_like(inp)
                    rows[k].append(g)
            per_input = []
            for k, inp in enumerate(inputs):
                shape = tuple(out.shape) + tuple(inp.shape)
                if rows[k]:
                    per_input.append(stack(rows[k], 0).reshape(shape))
                else:                           # an empty output: an empty Jacobian
                    per_input.append(zeros_like(inp).reshape(-1)[:0].reshape(shape))
            jac.append(tuple(per_input))
        jac = _grad_postprocess(tuple(jac), create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function ``func`` at ``inputs``.

    Args:
        func: takes the inputs, returns a Tensor with a single element.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Hessian differentiable.
        strict: raise when the Jacobian does not depend on an input, instead of giving zeros.
        vectorize: accepted; see jacobian.
        outer_jacobian_strategy: "reverse-mode" or "forward-mode" (see jacobian).

    Returns:
        For inputs i and j a Tensor of shape ``in_i.shape + in_j.shape``, nested
        ``((H_00, H_01), (H_10, H_11))`` when inputs is a tuple.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import hessian
        >>> hessian(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function",
                                        "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        _single_scalar_output(t_out, is_out_tuple, "hessian")
        return out.reshape(())

    def jac_func(*inp):
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_func_jacobian(func, inputs, v, create_graph, strict, fn_name):
    """Shared start of vhp and hvp: outputs, preprocessed inputs and v, and d(func)/d(inputs)
    with a graph."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _v_or_default(v, inputs, is_inputs_tuple, create_graph,
                          (fn_name, "input to the user-provided function"))
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              fn_name)
        _check_requires_grad(outputs, "outputs", strict)
        _single_scalar_output(outputs, is_outputs_tuple, fn_name)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Hessian product ``v^T H`` of a scalar function ``func`` at ``inputs``.

    Args:
        func: takes the inputs, returns a Tensor with a single element.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like inputs (may be None when the input is one single-element Tensor).
        create_graph: make the results differentiable.
        strict: raise when the Jacobian does not depend on an input, instead of giving zeros.

    Returns:
        (func_output, vhp), vhp shaped like inputs.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import vhp
        >>> vhp(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))[1]
        tensor([ 6., 12.])
    """
    is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_func_jacobian(
        func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(True if create_graph else _grad_state.enabled):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Hessian-vector product ``H v`` of a scalar function ``func`` at ``inputs``.

    Computed with the double-backward trick, so it equals vhp for twice continuously
    differentiable functions (whose Hessian is symmetric).

    Args:
        func: takes the inputs, returns a Tensor with a single element.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like inputs (may be None when the input is one single-element Tensor).
        create_graph: make the results differentiable.
        strict: raise when the Jacobian does not depend on an input, instead of giving zeros.

    Returns:
        (func_output, hvp), hvp shaped like inputs.

    Example:
        >>> import ember
        >>> from ember.autograd.functional import hvp
        >>> hvp(lambda x: (x ** 3).sum(), ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]))[1]
        tensor([ 6., 12.])
    """
    from ..ops.creation import zeros_like
    is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_func_jacobian(
        func, inputs, v, create_graph, strict, "hvp")
    with enable_grad():
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else _grad_state.enabled):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))

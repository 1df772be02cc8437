"""PyTorch's names for graph nodes (``grad_fn.name()``) where one ember op serves several.

# Note [grad_fn names]
Users print tensors (``grad_fn=<NllLossBackward0>``) and walk ``next_functions``, so a node
is named as PyTorch names it for the same call. An Op class names its nodes with
``backward_name`` (or per call with ``ctx.backward_name`` set in ``forward``); a public
function that reuses another op (transpose over Permute) or composes several (mse_loss ends in
a mean) names the node it created last with ``named``. Only names change: the graph keeps its
own structure.
"""

from __future__ import annotations

from .._dispatch import apply_inplace


def named(out, name: str, *inputs):
    """Name the node that produced ``out`` (a tensor or a tuple of them) and return ``out``.

    A node is renamed only when this call created it: not when ``out`` carries the node of
    one of ``inputs`` (a function that returned its input, or an in-place call that recorded
    nothing)."""
    try:
        fn = out.grad_fn
    except AttributeError:                  # a tuple or list of outputs
        fn = out[0].grad_fn if out else None
    if fn is None:
        return out
    for t in inputs:
        if fn is getattr(t, "grad_fn", None):
            return out
    try:
        fn.backward_name = name
    except AttributeError:                  # a node type without per-node names keeps its own
        return out
    return out


def named_inplace(op, self, name: str, *args, **attrs):
    """``apply_inplace(op, self, *args, **attrs)`` whose new node (if any) is called ``name``."""
    before = self.grad_fn
    out = apply_inplace(op, self, *args, **attrs)
    fn = out.grad_fn
    if fn is not None and fn is not before:
        try:
            fn.backward_name = name
        except AttributeError:
            return out
    return out

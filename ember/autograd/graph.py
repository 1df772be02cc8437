"""``torch.autograd.graph``: hooks on the tensors a graph saves for backward, and the graph's
node type.

While ``saved_tensors_hooks(pack, unpack)`` is active in a thread, every tensor an op saves
for backward (ember's ops and custom Functions alike) goes through ``pack`` when it is saved;
the node keeps whatever ``pack`` returns, and backward reads ``unpack(packed)`` instead of the
tensor. The innermost region wins. ``save_on_cpu`` is the classic use; activation
checkpointing (``ember.utils.checkpoint``, non-reentrant) is another.
"""

from __future__ import annotations

import abc

from .. import _dispatch
from .grad_mode import flags, state

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "Node",
           "get_gradient_edge", "GradientEdge"]


class Node(abc.ABC):  # noqa: B024  (a virtual base: nodes are registered, not derived)
    """The type of every graph node (``grad_fn`` of a tensor, a leaf's AccumulateGrad), for
    ``isinstance`` checks."""


Node.register(_dispatch.Node)
Node.register(_dispatch.AccumulateGrad)


class saved_tensors_hooks:
    """Pack/unpack hooks for the tensors saved for backward inside the block.

    ``pack_hook(tensor) -> Any`` must not modify the tensor in place; ``unpack_hook(packed) ->
    Tensor`` must return a tensor with the same content.

    Example:
        >>> import ember
        >>> x = ember.ones(3, requires_grad=True)
        >>> with ember.autograd.graph.saved_tensors_hooks(lambda t: t * 2, lambda t: t / 2):
        ...     y = x * x
        >>> y.sum().backward(); x.grad.tolist()
        [2.0, 2.0, 2.0]
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if state.hooks_disabled is not None:
            raise RuntimeError(state.hooks_disabled)
        state.saved_hooks = state.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        flags.saved_hooks += 1
        return self

    def __exit__(self, *exc):
        state.saved_hooks = state.saved_hooks[:-1]
        flags.saved_hooks -= 1
        return False


class save_on_cpu(saved_tensors_hooks):
    """Keep the tensors saved for backward in host memory (optionally pinned) and move them
    back to their device when backward needs them: GPU memory for CPU time."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack(t):
            if t.device.type == "cpu":
                return (t.device, t)
            host = t.cpu()
            if pin_memory:
                host = host.pin_memory()
            return (t.device, host)

        def unpack(packed):
            device, t = packed
            return t if device.type == "cpu" else t.to(device, non_blocking=pin_memory)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside the block, entering ``saved_tensors_hooks`` raises RuntimeError(error_message)
    (for code that must not have its saved tensors intercepted)."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        self._prev = state.hooks_disabled
        state.hooks_disabled = self.error_message
        return self

    def __exit__(self, *exc):
        state.hooks_disabled = self._prev
        return False


class GradientEdge(tuple):
    """(node, output_nr): where a tensor's gradient enters the graph."""

    __slots__ = ()

    def __new__(cls, node, output_nr):
        return super().__new__(cls, (node, output_nr))

    @property
    def node(self):
        return self[0]

    @property
    def output_nr(self):
        return self[1]


def get_gradient_edge(tensor) -> GradientEdge:
    """The edge a tensor's gradient flows into: its grad_fn (or, for a leaf, its
    AccumulateGrad node) and its output number."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    return GradientEdge(*_dispatch.grad_edge(tensor))

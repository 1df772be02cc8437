"""Activation checkpointing: trade compute for memory by recomputing a region in backward.

``checkpoint(fn, *args, use_reentrant=...)`` runs ``fn`` without keeping its intermediate
activations; backward runs ``fn`` again (with the forward's RNG state, so dropout draws the
same mask) and differentiates the recomputed graph.

Note [Two checkpoint variants]
    use_reentrant=True, PyTorch's original variant: a custom Function whose forward runs fn
    under no_grad and whose backward recomputes it under enable_grad and calls
    ``ember.autograd.backward`` on the recomputed outputs (a backward inside a backward:
    "reentrant"). Gradients of parameters used inside fn are accumulated into their ``.grad``
    directly by that inner call, so this variant cannot serve ``autograd.grad`` or
    ``backward(inputs=...)``, and nothing flows when no input requires grad.

    use_reentrant=False, PyTorch's recommended variant: fn runs with grad enabled inside
    ``autograd.graph.saved_tensors_hooks`` whose pack hook keeps only the position of each
    tensor the graph saves (so the activations are freed) and whose unpack hook recomputes fn
    once, on first use, collecting what the recomputation saves in the same order. The graph
    is the ordinary graph of fn, so parameters, ``autograd.grad``, ``backward(inputs=...)``,
    kwargs, nested outputs and double backward work as without checkpointing. The inputs are
    kept by a no-op Function outside the hooks, so modifying one in place before backward is
    caught by the version check.
"""

from __future__ import annotations

import contextlib
import warnings

from .. import _dispatch
from .._tensor import Tensor
from ..autograd import _is_checkpoint_valid
from ..autograd import backward as _autograd_backward
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..autograd.graph import saved_tensors_hooks
from ..ops.random import fork_rng, get_rng_state, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn",
           "set_checkpoint_debug_enabled", "detach_variable", "check_backward_validity"]


class CheckpointError(RuntimeError):
    """A recomputation differs from the original forward (non-reentrant checkpoint)."""


def noop_context_fn():
    """The default context_fn: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


_debug_enabled = None


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None):
    """Override every checkpoint's ``debug`` flag inside the block (None: use the flag)."""
    global _debug_enabled
    prev = _debug_enabled
    _debug_enabled = enabled
    try:
        yield
    finally:
        _debug_enabled = prev


def detach_variable(inputs: tuple) -> tuple:
    """Detached copies of the tensors in inputs, keeping their requires_grad."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x.detach()
            d.requires_grad_(x.requires_grad)
            x = d
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs) -> None:
    """Warn when no tensor input requires grad (the reentrant checkpoint then gives none)."""
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=3)


# -- RNG state ---------------------------------------------------------------------------------

class _RngState:
    """The RNG state a checkpointed forward starts from, to be replayed by the recompute.

    cpu: the default generator's state. cuda (when a tensor argument is on cuda, as PyTorch
    decides): CuPy's generators cannot export their state, so the forward draws from fresh
    generators seeded here (from the current ones), and the recompute reseeds them alike.
    """

    def __init__(self, enabled: bool, args=()):
        self.enabled = enabled
        self.cpu = get_rng_state() if enabled else None
        self.cuda_seeds = None
        if enabled and any(isinstance(a, Tensor) and a.device.type == "cuda" for a in args):
            from ..backends import cupy_backend
            if cupy_backend.initialized():
                cp = cupy_backend.load()
                self.cuda_seeds = []
                for i in range(cp.cuda.runtime.getDeviceCount()):
                    with cp.cuda.Device(i):
                        seed = int(cp.random.get_random_state().randint(0, 2 ** 31 - 1))
                        self.cuda_seeds.append(seed)
                        cp.random.set_random_state(cp.random.RandomState(seed))

    @contextlib.contextmanager
    def replay(self):
        """Run the block from the forward's RNG state; the current state is back after it."""
        with fork_rng(enabled=self.enabled):
            if self.enabled:
                set_rng_state(self.cpu)
                if self.cuda_seeds is not None:
                    from ..backends import cupy_backend
                    cp = cupy_backend.load()
                    for i, seed in enumerate(self.cuda_seeds):
                        with cp.cuda.Device(i):
                            cp.random.set_random_state(cp.random.RandomState(seed))
            yield


class _AutocastState:
    """The autocast regions active at the forward, re-entered by the recompute (the engine
    turns autocast off during backward, where the recompute runs)."""

    def __init__(self):
        try:
            from .. import _autocast
        except ImportError:         # an ember without autocast
            self.regions = {}
        else:
            self.regions = dict(getattr(_autocast.state, "dtypes", {}))

    def replay(self):
        stack = contextlib.ExitStack()
        if self.regions:
            from ..amp import autocast
            for device_type, dtype in self.regions.items():
                stack.enter_context(autocast(device_type, dtype=dtype))
        return stack


# -- use_reentrant=True ------------------------------------------------------------------------

class CheckpointFunction(Function):
    """The reentrant checkpoint (see Note [Two checkpoint variants])."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.rng = _RngState(preserve_rng_state, args)
        ctx.autocast = _AutocastState()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensors = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensors.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensors)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not _is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with ctx.rng.replay():
            detached = detach_variable(tuple(inputs))
            with enable_grad(), ctx.autocast.replay():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not "
                               "necessary")
        _autograd_backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


# -- use_reentrant=False -----------------------------------------------------------------------

def _metadata(t) -> dict:
    return {"shape": tuple(t.shape), "dtype": t.dtype, "device": t.device}


class _SaveInputs(Function):
    """Keeps the region's tensor inputs the ordinary way (outside the region's hooks), so
    the recompute reads them with autograd's version check, as PyTorch does."""

    @staticmethod
    def forward(ctx, *tensors):
        ctx.save_for_backward(*tensors)
        return tensors[0].new_empty(0)

    @staticmethod
    def backward(ctx, grad):
        return (None,) * len(ctx.needs_input_grad)


class _Frame:
    """One non-reentrant checkpoint (see Note [Two checkpoint variants]): the forward's saved
    tensors are replaced by their position; the first unpack recomputes the region and every
    unpack returns the recomputed tensor at that position."""

    def __init__(self, function, args, kwargs, rng, recompute_context, check, debug):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng = rng
        self.autocast = _AutocastState()
        self.recompute_context = recompute_context
        self.check, self.debug = check, debug
        self.saved_meta = []        # metadata of what the forward saved, in order
        self.forward_ops = []
        self.recomputed = None
        self.inputs_node = None     # _SaveInputs' node, holding the tensor inputs

    def pack(self, t):
        self.saved_meta.append(_metadata(t) if self.check else None)
        return len(self.saved_meta) - 1

    def unpack(self, index):
        if self.recomputed is None:
            self._recompute()
        return self.recomputed[index]

    def _recompute(self):
        args = list(self.args)
        if self.inputs_node is not None:
            saved = iter(self.inputs_node.saved_tensors)    # raises if modified in place
            args = [next(saved) if isinstance(a, Tensor) else a for a in args]
        recomputed, ops = [], []

        def keep(t):
            recomputed.append(t)

        def never(_):
            raise RuntimeError("torch.utils.checkpoint: the recomputed graph is not meant to be "
                               "backpropagated")

        observe = (lambda op, inputs, attrs, outputs: ops.append(op.name)) if self.debug \
            else None
        with self.rng.replay(), enable_grad(), self.autocast.replay(), \
                self.recompute_context, saved_tensors_hooks(keep, never):
            if observe is not None:
                _dispatch.observers.append(observe)
            try:
                self.function(*args, **self.kwargs)
            finally:
                if observe is not None:
                    _dispatch.observers.remove(observe)
        if self.check:
            _check_recomputed(self, recomputed, ops)
        self.recomputed = recomputed


def _check_recomputed(frame, recomputed, ops) -> None:
    """CheckpointError when the recomputation saved other tensors than the forward (number,
    shapes, dtypes, devices), as PyTorch's determinism check."""
    tip = ("\nTip: pass debug=True to checkpoint(...) to see the ops of both runs."
           if not frame.debug else
           f"\nops in the forward: {frame.forward_ops}\nops in the recomputation: {ops}")
    if len(recomputed) != len(frame.saved_meta):
        raise CheckpointError(
            "torch.utils.checkpoint: A different number of tensors was saved during the "
            f"original forward and recomputation.\nNumber of tensors saved during forward: "
            f"{len(frame.saved_meta)}\nNumber of tensors saved during recomputation: "
            f"{len(recomputed)}.{tip}")
    diffs = "".join(f"tensor at position {i}:\nsaved metadata: {a}\nrecomputed metadata: "
                    f"{_metadata(b)}\n"
                    for i, (a, b) in enumerate(zip(frame.saved_meta, recomputed))
                    if a != _metadata(b))
    if diffs:
        raise CheckpointError(
            "torch.utils.checkpoint: Recomputed values for the following tensors have different "
            f"metadata than during the forward pass.\n{diffs}{tip}")


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check,
                                  debug, args, kwargs):
    if _debug_enabled if _debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        debug = True
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        return function(*args, **kwargs)
    frame = _Frame(function, args, kwargs, _RngState(preserve_rng_state, args),
                   recompute_context, determinism_check == "default", debug)
    tensors = [a for a in args if isinstance(a, Tensor)]
    if any(t.requires_grad for t in tensors):
        frame.inputs_node = _SaveInputs.apply(*tensors).grad_fn
    observe = (lambda op, inputs, attrs, outputs: frame.forward_ops.append(op.name)) \
        if debug else None
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        if observe is not None:
            _dispatch.observers.append(observe)
        try:
            return function(*args, **kwargs)
        finally:
            if observe is not None:
                _dispatch.observers.remove(observe)


# -- public API --------------------------------------------------------------------------------

def checkpoint(function, *args, use_reentrant: bool | None = None,
               context_fn=noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its activations for backward.

    Args:
        function: what to run; its tensor outputs get gradients by recomputation.
        use_reentrant: pass it explicitly (as PyTorch asks; None warns and means True).
            False is recommended: kwargs, non-tensor outputs, ``autograd.grad`` and
            parameters used by a function whose inputs need no grad all work.
        preserve_rng_state (keyword, default True): replay the RNG in the recomputation, so
            dropout draws the same mask.
        context_fn: (non-reentrant) returns two context managers, for the forward and for the
            recomputation.
        determinism_check: (non-reentrant) "default" checks that the recomputed outputs have
            the forward's shapes, dtypes and devices; "none" skips that.
        debug: (non-reentrant) list the ops of both runs in a CheckpointError.
        early_stop: accepted for PyTorch compatibility (the recomputation always runs to
            the end of function).

    Returns:
        What function returns.

    Example:
        >>> import ember
        >>> from ember.utils.checkpoint import checkpoint
        >>> x = ember.tensor([1.0, 2.0], requires_grad=True)
        >>> checkpoint(lambda t: (t.exp() * 2).sum(), x, use_reentrant=False).backward()
        >>> x.grad
        tensor([ 5.4366, 14.7781])
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         debug, args, kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None,
                          **kwargs):
    """Checkpoint a sequential model in ``segments`` chunks; the last chunk runs normally.

    Args:
        functions: an ``nn.Sequential`` or a list of modules/functions run in order.
        segments: number of chunks.
        input: the input of the first function.
        use_reentrant: as for checkpoint (None warns and means True).
        preserve_rng_state (keyword, default True): as for checkpoint.

    Returns:
        The output of the last function.
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)

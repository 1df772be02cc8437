"""ONNX import: ``load(model) -> OnnxModule``, an ``nn.Module`` that runs the ONNX graph with
ember ops.

Initialisers become Parameters (floating point) or buffers (integer, bool), so an imported
model trains like any other module. Their state_dict names follow the ONNX names: a dotted
name (``fc.weight``, as ``torch.onnx.export`` writes) becomes nested submodules, other
characters turn into ``_``; ``OnnxModule.onnx_names`` maps each ONNX name to its state_dict
name.

Note [Compiled ONNX graphs]
The GraphProto is walked once, at load: each node becomes a step (its op function from
``_import_ops.OPS``, input names, output names and parsed attributes; subgraph attributes of
If/Loop/Scan become compiled graphs too). ``forward`` then only looks names up in a dict and
calls ember ops, so autograd, devices and tracing work as in eager code. ONNX graphs are
topologically sorted, so the steps run in order.
"""

from __future__ import annotations

import re

from .. import nn
from .._dtype import from_numpy_dtype
from .._tensor import Tensor

__all__ = ["load", "OnnxModule", "supported_ops"]

_DEFAULT_DOMAINS = ("", "ai.onnx")


def _onnx():
    try:
        import onnx
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ember.onnx.load needs the 'onnx' package: pip install onnx "
                          "(or ember[onnx])") from e
    return onnx


def supported_ops() -> set[str]:
    """The ONNX op types (default domain) that ``load`` can import.

    Returns:
        A set of op type names such as ``{"Add", "Conv", ...}``.
    """
    from ._import_ops import OPS
    return set(OPS)


def load(f) -> OnnxModule:
    """Load an ONNX model as an ember module that runs it with ember ops.

    Args:
        f: a path, a binary file object, serialized bytes or an ``onnx.ModelProto``.

    Returns:
        An :class:`OnnxModule`; call it with the graph inputs (Tensors or NumPy arrays) in
        the order of ``graph.input``.

    Raises:
        NotImplementedError: the graph holds an op ember does not import (the message names
            the op type, its domain and the opset).

    Example:
        >>> import onnx, ember
        >>> from onnx import helper, TensorProto
        >>> node = helper.make_node("Relu", ["x"], ["y"])
        >>> g = helper.make_graph([node], "g",
        ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
        >>> m = ember.onnx.load(helper.make_model(g))
        >>> m(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    onnx = _onnx()
    if isinstance(f, onnx.ModelProto):
        model = f
    elif isinstance(f, (bytes, bytearray)):
        model = onnx.load_from_string(bytes(f))
    else:
        model = onnx.load(f)
    return OnnxModule(model)


class _Step:
    __slots__ = ("fn", "op_type", "name", "inputs", "outputs", "attrs")

    def __init__(self, fn, op_type, name, inputs, outputs, attrs):
        self.fn = fn
        self.op_type = op_type
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs


class _Graph:
    """A compiled GraphProto (see Note [Compiled ONNX graphs])."""

    def __init__(self, graph, opset: int, constants: dict | None = None):
        onnx = _onnx()
        from ._import_ops import OPS
        self.opset = opset
        self.name = graph.name
        self.input_names = [v.name for v in graph.input]
        self.output_names = [v.name for v in graph.output]
        # Initialisers of subgraphs (rare) are constants; the main graph's go to the module.
        self.constants = dict(constants or {})
        missing = []
        self.steps = []
        for node in graph.node:
            fn = OPS.get(node.op_type) if node.domain in _DEFAULT_DOMAINS else None
            if fn is None:
                missing.append(node)
                continue
            attrs = {a.name: self._attr(onnx, a) for a in node.attribute}
            self.steps.append(_Step(fn, node.op_type, node.name, list(node.input),
                                    list(node.output), attrs))
        if missing:
            node = missing[0]
            others = sorted({n.op_type for n in missing} - {node.op_type})
            more = f" (also not imported: {', '.join(others)})" if others else ""
            raise NotImplementedError(
                f"onnx.load: op {node.op_type!r} (domain {node.domain or 'ai.onnx'!r}, "
                f"opset {opset}) is not imported by ember yet{more}; "
                f"see ember.onnx.supported_ops()")

    def _attr(self, onnx, a):
        from onnx import numpy_helper
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            return value.decode("utf-8")
        if isinstance(value, onnx.TensorProto):
            return numpy_helper.to_array(value)
        if isinstance(value, onnx.GraphProto):
            return _Graph(value, self.opset, _graph_constants(value))
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            return [v.decode("utf-8") for v in value]
        return value

    def run(self, env: dict, device=None) -> list:
        """Run the steps on ``env`` (name -> Tensor, updated in place); return the outputs.
        Tensors the graph creates (constants, shapes) go to ``device``."""
        ctx = _Context(self.opset, device)
        for step in self.steps:
            args = []
            for name in step.inputs:
                if name == "":
                    args.append(None)
                    continue
                try:
                    args.append(env[name])
                except KeyError:
                    raise RuntimeError(f"onnx.load: node {step.name or step.op_type!r} "
                                       f"({step.op_type}) reads {name!r}, which no earlier "
                                       "node, input or initializer defines") from None
            ctx.env = env
            ctx.n_outputs = len(step.outputs)
            try:
                out = step.fn(ctx, args, step.attrs)
            except Exception as e:
                # Keep the exception class (what PyTorch code catches); say which node.
                if hasattr(e, "add_note"):
                    e.add_note(f"while running ONNX node {step.name or '(unnamed)'!r} "
                               f"({step.op_type}, opset {self.opset})")
                raise
            if not isinstance(out, tuple):      # a list is one value: an ONNX sequence
                out = (out,)
            for name, value in zip(step.outputs, out):
                if name != "":
                    env[name] = value
        return [env[name] for name in self.output_names]

    def __call__(self, ctx, *inputs) -> list:
        """Run as a subgraph of the node running with ``ctx``: sees its scope, binds
        ``inputs`` to the graph inputs."""
        env = dict(ctx.env)
        if ctx.device is not None:
            env.update((k, v.to(ctx.device)) for k, v in self.constants.items())
        else:
            env.update(self.constants)
        env.update(zip(self.input_names, inputs))
        return self.run(env, ctx.device)


def _graph_constants(graph) -> dict:
    from onnx import numpy_helper
    return {t.name: _as_tensor(numpy_helper.to_array(t)) for t in graph.initializer}


class _Context:
    """What an op function may use besides its inputs: the opset and the current scope."""

    __slots__ = ("opset", "env", "n_outputs", "device")

    def __init__(self, opset: int, device=None):
        self.opset = opset
        self.env = None
        self.n_outputs = 1
        self.device = device


def _as_tensor(value) -> Tensor:
    import numpy as np

    import ember
    if isinstance(value, Tensor):
        return value
    arr = np.array(value)        # a writable copy: initializers may be read-only buffers
    return ember.from_numpy(arr)


def _as_value(value):
    """A graph input: a tensor, a sequence (list of tensors) or an empty optional (None)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_as_tensor(v) for v in value]
    return _as_tensor(value)


def _sanitize(part: str) -> str:
    part = re.sub(r"[^0-9A-Za-z_]", "_", part)
    return part or "_"


class OnnxModule(nn.Module):
    """An ONNX graph as an ember module (made by :func:`load`).

    Attributes:
        onnx_names: ONNX initializer name -> state_dict name of its Parameter or buffer.
        input_names, output_names: the graph's input (without initializers) and output names.
        opset: the ``ai.onnx`` opset version the model imports.

    Example:
        >>> m = ember.onnx.load("model.onnx")          # doctest: +SKIP
        >>> y = m(x)                                   # doctest: +SKIP
        >>> y.sum().backward()                         # doctest: +SKIP
    """

    def __init__(self, model):
        super().__init__()
        from onnx import numpy_helper
        graph = model.graph
        self.opset = next((imp.version for imp in model.opset_import
                           if imp.domain in _DEFAULT_DOMAINS), 21)
        self.onnx_names = {}
        self._slots = []                  # (onnx name, owning module, attribute name)
        for init in graph.initializer:
            tensor = _as_tensor(numpy_helper.to_array(init))
            self._add_state(init.name, tensor)
        inits = {init.name for init in graph.initializer}
        self.input_names = [v.name for v in graph.input if v.name not in inits]
        self.output_names = [v.name for v in graph.output]
        self._graph = _Graph(graph, self.opset)

    def _add_state(self, onnx_name: str, tensor: Tensor) -> None:
        parts = [_sanitize(p) for p in onnx_name.split(".")]
        owner, path = self, []
        for part in parts[:-1]:
            child = owner._modules.get(part)
            if child is None:
                if hasattr(owner, part):        # a name clash: fall back to a flat name
                    owner, path, parts = self, [], ["_".join(parts)]
                    break
                child = nn.Module()
                owner.add_module(part, child)
            owner = child
            path.append(part)
        attr = parts[-1]
        while hasattr(owner, attr) or attr in owner._modules:
            attr += "_"
        if tensor.is_floating_point() or tensor.is_complex():
            owner.register_parameter(attr, nn.Parameter(tensor))
        else:
            owner.register_buffer(attr, tensor)
        self.onnx_names[onnx_name] = ".".join([*path, attr])
        self._slots.append((onnx_name, owner, attr))

    def forward(self, *inputs):
        """Run the graph on ``inputs`` (Tensors or arrays, in graph input order).

        Returns:
            One Tensor for a single-output graph, else a tuple in graph output order.
        """
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule.forward: the graph takes {len(self.input_names)} "
                            f"inputs {self.input_names}, got {len(inputs)}")
        env = {name: getattr(owner, attr) for name, owner, attr in self._slots}
        for name, value in zip(self.input_names, inputs):
            env[name] = _as_value(value)
        device = next((v.device for v in env.values() if isinstance(v, Tensor)), None)
        outs = self._graph.run(env, device)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def extra_repr(self) -> str:
        return (f"opset={self.opset}, inputs={self.input_names}, "
                f"outputs={self.output_names}, nodes={len(self._graph.steps)}")


def onnx_dtype(elem_type: int):
    """The ember dtype of an ONNX ``TensorProto`` element type."""
    onnx = _onnx()
    return from_numpy_dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))

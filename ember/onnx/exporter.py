"""ONNX export: trace a model into ember's graph IR, then write each node with its ONNX rule.

``export(model, args, f)`` records one call with ``ember.jit.trace_graph``, walks the nodes
in order and calls the rule that ``_export_ops.RULES`` holds for the node's op (keyed by
``op_ref``), builds a ``ModelProto`` with ``onnx.helper``, checks it with
``onnx.checker.check_model`` and writes it to ``f``.

Note [Dynamic axes by a second trace]
    ember's tracer records shapes as numbers: ``x.view(x.size(0), -1)`` reaches the graph as
    ``view(shape=(2, 12))``. To tell which numbers follow a dynamic axis, ``export`` traces
    the model a second time with every dynamic axis one longer (inputs grown by repeating
    their entries, so indices stay valid) and compares the two graphs node by node. An
    attribute that differs depends on a dynamic size: reshape targets then get -1 or 0
    there, expand targets 1; any other differing attribute is an export error naming the
    op, never a graph baked to the example's sizes. The two traces must have the same nodes
    (no Python control flow on the dynamic sizes).

onnx is imported lazily: ``import ember`` never needs it.
"""

from __future__ import annotations

import enum
import io
import os

import numpy as np

from .. import _dtype as D

__all__ = ["export", "UnsupportedOperatorError", "TrainingMode"]

_DEFAULT_OPSET = 17
_MIN_OPSET, _MAX_OPSET = 13, 18


class UnsupportedOperatorError(RuntimeError):
    """An ember op that has no ONNX rule (for the requested opset)."""

    def __init__(self, name: str, opset: int, hint: str = ""):
        msg = (f"Exporting the operator 'ember::{name}' to ONNX opset version {opset} is not "
               "supported.")
        if hint:
            msg += f" {hint}"
        super().__init__(msg)
        self.op_name = name
        self.opset = opset


class TrainingMode(enum.IntEnum):
    """The mode a model is exported in (torch.onnx.TrainingMode)."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def export(model, args, f=None, *, kwargs=None, export_params: bool = True,
           verbose: bool = False, training=TrainingMode.EVAL, input_names=None,
           output_names=None, opset_version: int | None = None, dynamic_axes=None,
           keep_initializers_as_inputs: bool = False, do_constant_folding: bool = True):
    """Export a model (an ``nn.Module`` or a function of tensors) to ONNX.

    Args:
        model: the module or function to trace.
        args: the example input: a Tensor or a tuple of inputs; a dict as the last element
            is taken as keyword arguments (as in torch.onnx.export).
        f: a path or a binary file-like object; None returns the model without writing.
        kwargs: keyword arguments for the call.
        export_params: parameters and buffers become initializers (else graph inputs).
        verbose: print the traced graph and the ONNX graph.
        training: ``TrainingMode.EVAL`` (default) exports in eval mode (dropout is then
            identity); ``PRESERVE`` keeps the module's mode; ``TRAINING`` exports in train
            mode (random ops have no ONNX rule, so only deterministic models export).
        input_names, output_names: names of the graph's inputs and outputs, in order.
        opset_version: the ONNX opset, 13 to 18 (default 17).
        dynamic_axes: ``{name: [axis, ...]}`` or ``{name: {axis: "dim_name"}}`` for inputs
            and outputs whose sizes may change (see Note [Dynamic axes by a second trace]).
        keep_initializers_as_inputs: also list the initializers as graph inputs.
        do_constant_folding: compute nodes whose inputs are all constants at export time.

    Returns:
        The ``onnx.ModelProto`` (also written to ``f`` when given). torch.onnx.export returns
        None (TorchScript exporter) or an ONNXProgram (dynamo); ember returns the proto.

    Raises:
        UnsupportedOperatorError: an op of the model has no ONNX rule for this opset.
        RuntimeError: a dynamic axis reaches something ember cannot export dynamically.

    Example:
        >>> import ember, io
        >>> buf = io.BytesIO()
        >>> _ = ember.onnx.export(ember.nn.Linear(3, 2), ember.randn(1, 3), buf)  # doctest: +SKIP
    """
    import onnx

    from .. import jit
    from ..nn.modules.module import Module

    opset = _DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not _MIN_OPSET <= opset <= _MAX_OPSET:
        raise ValueError(f"onnx.export: opset_version {opset} is not supported; ember exports "
                         f"opset {_MIN_OPSET} to {_MAX_OPSET}")
    args, kwargs = _split_args(args, kwargs)
    is_module = isinstance(model, Module)
    modes = [(m, m.training) for m in model.modules()] if is_module else []
    if is_module:
        mode = _training_mode(training)
        if mode is TrainingMode.EVAL:
            model.train(False)
        elif mode is TrainingMode.TRAINING:
            model.train(True)
    try:
        from ..autograd.grad_mode import no_grad
        with no_grad():
            graph = jit.trace_graph(model, args, kwargs=kwargs)
            alt = None
            if dynamic_axes:
                alt_args, alt_kwargs = _grow_inputs(args, kwargs, graph, dynamic_axes,
                                                    input_names)
                try:
                    alt = jit.trace_graph(model, alt_args, kwargs=alt_kwargs)
                except Exception as e:
                    raise RuntimeError(
                        "onnx export: to find what follows the dynamic axes, ember runs the "
                        "model again with each dynamic axis one longer, and that run failed "
                        f"({type(e).__name__}: {e}); is every axis in dynamic_axes really "
                        "free?") from e
    finally:
        for m, flag in modes:          # each submodule's own mode (one may be frozen in eval)
            m.training = flag
    if verbose:
        print(graph)  # noqa: T201 (asked for by the caller)

    ctx = ExportContext(graph, opset, alt_graph=alt, input_names=input_names,
                        output_names=output_names, dynamic_axes=dynamic_axes,
                        export_params=export_params, fold=do_constant_folding,
                        params=_state_arrays(model) if is_module else {},
                        buffers=_named_arrays(model) if is_module else {},
                        keep_initializers_as_inputs=keep_initializers_as_inputs)
    model_proto = ctx.build(producer="ember")
    onnx.checker.check_model(model_proto)
    if verbose:
        print(onnx.printer.to_text(model_proto.graph))  # noqa: T201
    if f is not None:
        data = model_proto.SerializeToString()
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as fh:
                fh.write(data)
        elif isinstance(f, io.IOBase) or hasattr(f, "write"):
            f.write(data)
        else:
            raise TypeError(f"onnx.export: f must be a path or a writable binary file, not "
                            f"{type(f).__name__}")
    return model_proto


def _training_mode(training) -> TrainingMode:
    if training is None or training is False:
        return TrainingMode.EVAL
    if training is True:
        return TrainingMode.TRAINING
    try:
        return TrainingMode(int(training))
    except (TypeError, ValueError):
        raise ValueError(f"onnx.export: training must be a TrainingMode, not {training!r}") \
            from None


def _split_args(args, kwargs):
    from .._tensor import Tensor
    if isinstance(args, Tensor) or not isinstance(args, (tuple, list)):
        args = (args,)
    args = tuple(args)
    if args and isinstance(args[-1], dict) and kwargs is None:
        kwargs = args[-1]
        args = args[:-1]
    return args, (dict(kwargs) if kwargs else None)


def _state_arrays(model) -> dict:
    """state_dict name -> array of every parameter and buffer."""
    return {name: t._data for name, t in model.state_dict(keep_vars=True).items()
            if t is not None and hasattr(t, "_data")}


def _named_arrays(model) -> dict:
    """id(array) -> state_dict name, for arrays ops take as attributes (batch_norm's running
    statistics)."""
    out = {}
    for name, t in model.state_dict(keep_vars=True).items():
        if t is not None and hasattr(t, "_data"):
            out.setdefault(id(t._data), name)
    return out


def _grow_inputs(args, kwargs, graph, dynamic_axes, input_names):
    """The example inputs with every dynamic axis one longer (entries repeated cyclically)."""
    from .._device import xp_of
    from .._tensor import Tensor
    from ..utils import _pytree
    leaves, spec = _pytree.tree_flatten((args, kwargs or {}))
    positions = [i for i, t in enumerate(leaves) if isinstance(t, Tensor)]
    names = list(input_names or [])
    names += [f"input_{i}" for i in range(len(names), len(positions))]
    grown = list(leaves)
    for k, pos in enumerate(positions):
        axes = dynamic_axes.get(names[k])
        if axes is None:
            continue
        t = leaves[pos]
        arr = t._data
        for axis in (axes.keys() if isinstance(axes, dict) else axes):
            axis = int(axis) % arr.ndim
            n = arr.shape[axis]
            if n == 0:
                raise ValueError(f"onnx.export: dynamic axis {axis} of input '{names[k]}' has "
                                 "size 0 in the example; give an example with a nonzero size")
            index = np.arange(n + 1) % n
            if not isinstance(arr, np.ndarray):
                index = xp_of(arr).asarray(index)     # a CuPy array
            arr = arr.take(index, axis=axis)
        grown[pos] = Tensor._make(arr)
    a, kw = _pytree.tree_unflatten(grown, spec)
    return tuple(a), (kw or None)


def _np_dtype(dt):
    if dt is None:
        return None
    if isinstance(dt, D.dtype):
        return np.dtype(dt.np)
    return np.dtype(dt)


def _onnx_type(np_dtype) -> int:
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))


# -- the context ------------------------------------------------------------------------------

class ExportContext:
    """Names, nodes and initializers of the ONNX graph being built from an ember Graph."""

    def __init__(self, graph, opset, *, alt_graph=None, input_names=None, output_names=None,
                 dynamic_axes=None, export_params=True, fold=True, params=None, buffers=None,
                 keep_initializers_as_inputs=False):
        self.graph = graph
        self.opset = opset
        self.input_names = list(input_names or [])
        self.output_names = list(output_names or [])
        self.dynamic_axes = dict(dynamic_axes or {})
        self.export_params = export_params
        self.fold = fold
        self.params = dict(params or {})          # state_dict name -> array
        self.buffers = dict(buffers or {})        # id(array) -> state_dict name
        self.keep_inits = keep_initializers_as_inputs
        self.nodes = []                           # onnx NodeProto, in order
        self.initializers = {}                    # name -> TensorProto
        self.param_inputs = []                    # ValueInfo of params (export_params=False)
        self.names: dict[int, str] = {}           # Value.id -> ONNX name
        self.values: dict = {}                    # Value.id -> Value, of inputs and outputs
        self.preset: dict[int, str] = {}          # Value.id -> graph output name
        self.folded: dict[int, object] = {}       # Value.id -> array computed at export
        self.dynamic_consts: set[int] = set()     # const Values whose shape follows an axis
        self.alt_attrs: dict[int, dict] = {}      # id(node) -> its attrs in the second trace
        self.alt_shapes: dict[int, tuple] = {}    # Value.id -> its shape in the second trace
        self._taken: set[str] = set()
        self._params_done: set[str] = set()
        self._count = 0
        self._cache: dict = {}
        self.scope = ""
        self.rnn_inputs: dict = {}                # id(layer node) -> its input projection
        self.rnn_pairs: dict = {}                 # the two directions of one RNN layer
        if alt_graph is not None:
            self._match(alt_graph)

    # -- names and values ----------------------------------------------------------------------

    def fresh(self, hint: str = "v") -> str:
        self._count += 1
        name = f"/{self.scope.replace('.', '/')}/{hint}_{self._count}" if self.scope else \
            f"{hint}_{self._count}"
        while name in self._taken:
            self._count += 1
            name = f"{hint}_{self._count}"
        self._taken.add(name)
        return name

    def x(self, v, dtype=None) -> str:
        """The ONNX name of a node input: a Value, a Python number (as a constant of dtype,
        which numbers need) or None (an omitted optional input: ""). With dtype, a tensor of
        another dtype is cast first."""
        from ..jit.ir import Value
        if v is None:
            return ""
        if not isinstance(v, Value):
            if dtype is None:
                raise TypeError("onnx export: a Python number needs a dtype")
            return self.const(np.asarray(v, dtype=_np_dtype(dtype)))
        name = self._name_of(v)
        want = _np_dtype(dtype)
        if want is not None and self.dtype(v) != want:
            return self.op("Cast", [name], to=_onnx_type(want))
        return name

    def _name_of(self, v) -> str:
        name = self.names.get(v.id)
        if name is not None:
            return name
        if v.id in self.folded:
            if v.id in self.dynamic_consts:
                name = self._dynamic_const(v, self.folded[v.id])
            else:
                name = self.const(self.folded[v.id], hint="folded")
        elif v.kind == "param":
            name = v.name
            self._add_param(name)
        elif v.kind == "const":
            if v.id in self.dynamic_consts:
                name = self._dynamic_const(v, self.graph.constants[v.id])
            else:
                name = self.const(self.graph.constants[v.id], hint="const", share=False)
        else:
            raise RuntimeError(f"onnx export: {v!r} is used before the node that makes it")
        self.names[v.id] = name
        return name

    def _dynamic_const(self, v, arr) -> str:
        """A constant whose shape follows a dynamic axis (``zeros_like(x)``, ``ones(B, T)``):
        exported as ConstantOfShape of the shape of a traced tensor that has its shape in both
        traces, when every element is the same; otherwise an error."""
        from onnx import numpy_helper
        arr = np.asarray(_to_host(arr))
        alt = self.alt_shapes.get(v.id)
        if arr.size and alt is not None and bool((arr == arr.flat[0]).all()):
            for src in self.values.values():
                if tuple(src.shape) == tuple(v.shape) and self.alt_shapes.get(src.id) == alt:
                    shape = self.op("Shape", [self.names[src.id]])
                    fill = numpy_helper.from_array(arr.reshape(-1)[:1].copy())
                    return self.op("ConstantOfShape", [shape], value=fill)
        raise self._dynamic_const_error(v)

    def dynamic_dim(self, size, alt_size):
        """A 1-element int64 tensor holding, at run time, the size of a dimension that was
        ``size`` in the first trace and ``alt_size`` in the second: read with Shape from a
        graph input or an exported tensor that has such a dimension in both traces; None if
        there is none."""
        for v in self.values.values():
            alt = self.alt_shapes.get(v.id)
            if alt is None:
                continue
            for j, (s1, s2) in enumerate(zip(v.shape, alt)):
                if s1 == size and s2 == alt_size and s1 != s2:
                    shape = self.op("Shape", [self.names[v.id]])
                    return self.op("Gather", [shape, self.ints([j])], axis=0)
        return None

    def shape_tensor(self, pieces) -> str:
        """An int64 shape from ints and 1-element tensors (names)."""
        if all(isinstance(p, int) for p in pieces):
            return self.ints(pieces)
        parts, run = [], []
        for p in pieces:
            if isinstance(p, int):
                run.append(p)
                continue
            if run:
                parts.append(self.ints(run))
                run = []
            parts.append(p)
        if run:
            parts.append(self.ints(run))
        return self.op("Concat", parts, axis=0)

    def _dynamic_const_error(self, v):
        return RuntimeError(
            f"onnx export: a constant of shape {tuple(v.shape)} made inside the model depends "
            "on the size of a dynamic axis (for example ember.zeros(x.size(0), ...)); ember "
            "cannot export it dynamically. Pass it as an input, or drop that axis from "
            "dynamic_axes")

    def _add_param(self, name, arr=None):
        """The initializer (or, without export_params, the graph input) of a parameter or
        buffer, once."""
        if name in self._params_done:
            return
        self._params_done.add(name)
        self._taken.add(name)
        arr = self.params.get(name) if arr is None else arr
        if arr is None:
            raise RuntimeError(f"onnx export: no value for parameter '{name}'")
        if self.export_params:
            self._initializer(name, arr)
        else:
            self.param_inputs.append(self._value_info(name, arr.dtype, arr.shape))

    def _initializer(self, name, arr):
        from onnx import numpy_helper
        arr = _to_host(arr)
        arr = np.asarray(arr)
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")       # (np.ascontiguousarray would make 0-d arrays 1-d)
        self.initializers[name] = numpy_helper.from_array(arr, name)

    def array(self, arr, hint="const", name=None) -> str:
        """An array an op took as an attribute (batch_norm's running statistics): the
        buffer's state_dict name when it is one, else a constant."""
        from ..jit.ir import Value
        if arr is None:
            return ""
        if isinstance(arr, Value):
            return self._name_of(arr)
        if hasattr(arr, "_data"):           # a Tensor
            arr = arr._data
        name = name or self.buffers.get(id(arr))
        if name is not None:
            self._add_param(name, self.params.get(name, arr))
            return name
        return self.const(np.asarray(_to_host(arr)), hint=hint, share=False)

    def const(self, arr, hint="const", share=True) -> str:
        """An initializer holding arr; small ones are shared by value."""
        arr = np.asarray(_to_host(arr))
        key = None
        if share and arr.size <= 64:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            name = self._cache.get(key)
            if name is not None:
                return name
        self._count += 1
        name = f"{hint}_{self._count}"
        while name in self._taken:
            self._count += 1
            name = f"{hint}_{self._count}"
        self._taken.add(name)
        self._initializer(name, arr)
        if key is not None:
            self._cache[key] = name
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def out(self, node, i=0) -> str:
        """The name node.outputs[i] takes (a graph output's name, or a fresh one)."""
        v = node.outputs[i]
        name = self.preset.get(v.id) or self.fresh(node.op.name)
        self.names[v.id] = name
        self.values[v.id] = v
        return name

    def alias(self, node, name, i=0):
        """node.outputs[i] is the tensor called name (no node), unless it is a graph output."""
        v = node.outputs[i]
        if v.id in self.preset:
            self.op("Identity", [name], outputs=[self.out(node, i)])
        else:
            self.names[v.id] = name
            self.values[v.id] = v

    def op(self, op_type, inputs, outputs=None, n=1, **attrs):
        """Emit one ONNX node; returns its output name (a list when it has several)."""
        from onnx import helper
        if outputs is None:
            outputs = [self.fresh(op_type) for _ in range(n)]
        while inputs and inputs[-1] == "":
            inputs = inputs[:-1]           # trailing omitted optional inputs
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self._count += 1
        node_name = f"{op_type}_{self._count}"
        if self.scope:
            node_name = f"/{self.scope.replace('.', '/')}/{node_name}"
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=node_name,
                                           **attrs))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    # -- metadata ------------------------------------------------------------------------------

    def dtype(self, v):
        """numpy dtype of a Value (None for a Python number)."""
        from ..jit.ir import Value
        if isinstance(v, Value):
            return _np_dtype(v.dtype)
        return None

    def out_dtype(self, node, i=0):
        return _np_dtype(node.outputs[i].dtype)

    def promoted(self, inputs):
        """The dtype PyTorch's promotion gives these inputs (as ``apply`` computes it)."""
        from ..jit.ir import Value
        items = []
        for v in inputs:
            if isinstance(v, Value):
                items.append((D.from_numpy_dtype(self.dtype(v)), 2 if len(v.shape) else 1))
            elif v is not None:
                items.append((D.scalar_dtype(v), 0))
        return np.dtype(D.result_type_of(items).np)

    def const_value(self, v):
        """The array of a constant (or folded) Value, else None."""
        from ..jit.ir import Value
        if not isinstance(v, Value):
            return None
        if v.id in self.folded:
            return self.folded[v.id]
        if v.kind == "const":
            return self.graph.constants.get(v.id)
        return None

    def is_dynamic(self, v, dim) -> bool:
        alt = self.alt_shapes.get(v.id)
        return alt is not None and alt[dim] != v.shape[dim]

    def static_shape(self, v, what):
        """v's shape, refusing one whose size follows a dynamic axis."""
        alt = self.alt_shapes.get(v.id)
        if alt is not None and tuple(alt) != tuple(v.shape):
            raise RuntimeError(f"onnx export: {what} needs the static shape of a tensor whose "
                               f"shape {tuple(v.shape)} depends on a dynamic axis")
        return tuple(v.shape)

    def unsupported(self, node, hint=""):
        return UnsupportedOperatorError(node.op.name, self.opset, hint)

    # -- the second trace ----------------------------------------------------------------------

    def _match(self, alt):
        """Pair the nodes and Values of the dynamic-size trace with this one's."""
        from ..jit.ir import Value
        g = self.graph
        sig = [n.op for n in g.nodes]
        if sig != [n.op for n in alt.nodes] or len(g.inputs) != len(alt.inputs):
            raise RuntimeError(
                "onnx export: the traced graph changes when a dynamic axis changes size "
                "(Python control flow depends on a tensor size); ember can only export such a "
                "model with static shapes")
        for a, b in zip(g.inputs, alt.inputs):
            self.alt_shapes[a.id] = tuple(b.shape)
        for n1, n2 in zip(g.nodes, alt.nodes):
            for o1, o2 in zip(n1.outputs, n2.outputs):
                self.alt_shapes[o1.id] = tuple(o2.shape)
            for i1, i2 in zip(n1.inputs, n2.inputs):
                if isinstance(i1, Value) and isinstance(i2, Value) and i1.kind == "const":
                    self.alt_shapes.setdefault(i1.id, tuple(i2.shape))
                    if tuple(i1.shape) != tuple(i2.shape):
                        self.dynamic_consts.add(i1.id)
            if not _same(n1.attrs, n2.attrs):
                self.alt_attrs[id(n1)] = n2.attrs
        for a, b in zip(g.outputs, alt.outputs):
            self.alt_shapes.setdefault(a.id, tuple(b.shape))

    # -- building the model --------------------------------------------------------------------

    def _value_info(self, name, np_dtype, shape, dims=None):
        from onnx import helper
        dims = dims or {}
        shape = [dims.get(i, s) for i, s in enumerate(shape)]
        return helper.make_tensor_value_info(name, _onnx_type(np_dtype), shape)

    def _dim_names(self, name, value, rank):
        axes = self.dynamic_axes.get(name)
        out = {}
        if axes is not None:
            items = axes.items() if isinstance(axes, dict) else \
                [(a, f"{name}_dynamic_axes_{k + 1}") for k, a in enumerate(axes)]
            for axis, dim_name in items:
                axis = int(axis)
                if not -rank <= axis < rank:
                    raise ValueError(f"onnx.export: dynamic axis {axis} of '{name}' is out of "
                                     f"range for a tensor of {rank} dimensions")
                out[axis % rank] = str(dim_name)
        if value is not None:
            alt = self.alt_shapes.get(value.id)
            if alt is not None:
                for i, (s1, s2) in enumerate(zip(value.shape, alt)):
                    if s1 != s2 and i not in out:
                        out[i] = None       # varies, unnamed
        return out

    def build(self, producer="ember"):
        from onnx import helper

        from ..jit.ir import Value, op_ref
        from ._export_ops import DYNAMIC_OK, RULES, _rnn_pairs, _rnn_projections
        g = self.graph
        inputs_info = []
        for i, v in enumerate(g.inputs):
            name = self.input_names[i] if i < len(self.input_names) else f"input_{i}"
            if name in g.params or name in self._taken:
                raise ValueError(f"onnx.export: input name '{name}' is already the name of a "
                                 "parameter or another input")
            self.names[v.id] = name
            self.values[v.id] = v
            self._taken.add(name)
            rank = len(v.shape)
            inputs_info.append(self._value_info(name, self.dtype(v), v.shape,
                                                self._dim_names(name, v, rank)))
        for name in self.dynamic_axes:
            if name not in self._taken and name not in self.output_names[:len(g.outputs)] \
                    and not name.startswith("output_"):
                raise ValueError(f"onnx.export: dynamic_axes names '{name}', which is neither "
                                 "an input nor an output name")
        reserved = set(g.params) | set(self.params)    # parameters keep their names
        out_names = [self.output_names[i] if i < len(self.output_names) else f"output_{i}"
                     for i in range(len(g.outputs))]
        for v, name in zip(g.outputs, out_names):
            if name in reserved or name in self.names.values():
                raise ValueError(f"onnx.export: output name '{name}' is already the name of an "
                                 "input or a parameter")
            if v.kind == "node" and v.id not in self.preset:
                self.preset[v.id] = name
            self._taken.add(name)
        self._taken |= {n for n in reserved if n not in self.initializers}

        self.rnn_inputs = _rnn_projections(g)
        self.rnn_pairs = _rnn_pairs(g, self.rnn_inputs)
        deps = {k: [v for v in (src["x"], src["w_ih"], src["bias"]) if v is not None] +
                list(node_inputs[1:]) for k, (src, node_inputs) in self.rnn_inputs.items()}
        needed = _live_nodes(g, deps)
        for node in g.nodes:
            if id(node) not in needed:
                continue
            if self.fold and self._fold(node):
                continue
            ref = op_ref(node.op)
            fn = RULES.get(ref)
            if fn is None:
                raise UnsupportedOperatorError(
                    node.op.name, self.opset,
                    "ember has no ONNX rule for it; rewrite the model with supported ops or "
                    f"add a rule for {ref} to ember/onnx/_export_ops.py.")
            if id(node) in self.alt_attrs and ref not in DYNAMIC_OK:
                raise RuntimeError(
                    f"onnx export: the attributes of 'ember::{node.op.name}' depend on the size "
                    f"of a dynamic axis ({node.attrs} vs {self.alt_attrs[id(node)]}); ember "
                    "cannot export it dynamically. Drop that axis from dynamic_axes")
            self.scope = node.scope or ""
            fn(self, node)
            self.scope = ""

        outputs_info = []
        for v, name in zip(g.outputs, out_names):
            src = self._name_of(v) if isinstance(v, Value) else self.x(v)
            if src != name:
                self.op("Identity", [src], outputs=[name])
            outputs_info.append(self._value_info(name, self.dtype(v), v.shape,
                                                 self._dim_names(name, v, len(v.shape))))
        inits = list(self.initializers.values())
        graph_inputs = inputs_info + self.param_inputs
        if self.keep_inits:
            graph_inputs += [self._value_info(t.name, _init_dtype(t), list(t.dims))
                             for t in inits]
        graph_proto = helper.make_graph(self.nodes, "main_graph", graph_inputs, outputs_info,
                                        initializer=inits)
        model = helper.make_model(graph_proto, producer_name=producer,
                                  opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = min(model.ir_version, 8 if self.opset <= 17 else 9)
        return model

    def _fold(self, node) -> bool:
        """Compute a node whose tensor inputs are all constants; True when folded."""
        from ..jit.ir import Value
        if node.op.__module__.endswith(".random"):
            return False
        arrays = []
        dynamic = False
        has_tensor = False
        for v in node.inputs:
            if isinstance(v, Value):
                arr = self.const_value(v)
                if arr is None:
                    return False
                has_tensor = True
                dynamic = dynamic or v.id in self.dynamic_consts
                arrays.append(arr)
            else:
                arrays.append(v)
        if not has_tensor or any(isinstance(a, Value) for a in _walk(node.attrs)):
            return False
        from .._dispatch import apply
        from .._tensor import Tensor
        args = [Tensor._make(a.copy()) if hasattr(a, "dtype") and not isinstance(a, np.generic)
                else a for a in arrays]
        out = apply(node.op, *args, **node.attrs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        for v, t in zip(node.outputs, outs):
            self.folded[v.id] = t._data
            if dynamic:
                self.dynamic_consts.add(v.id)
        return True


def _init_dtype(tensor_proto):
    from onnx import helper
    return helper.tensor_dtype_to_np_dtype(tensor_proto.data_type)


def _to_host(arr):
    if hasattr(arr, "get") and not isinstance(arr, np.ndarray):
        return arr.get()                    # a CuPy array
    return arr


def _walk(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            yield from _walk(v)
    else:
        yield obj


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and \
            all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and \
            all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, (np.dtype, D.dtype)):
        return a is b or (hasattr(b, "shape") and a.shape == b.shape and
                          bool(np.array_equal(_to_host(a), _to_host(b))))
    if hasattr(a, "kind") and hasattr(a, "id") and hasattr(a, "shape"):    # ir.Value
        return hasattr(b, "kind") and a.kind == b.kind and (a.kind != "param" or
                                                              a.name == b.name)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _live_nodes(graph, deps=None) -> set:
    """ids of the nodes the outputs depend on (dead code is not exported). deps: id(node) ->
    the Values a node's rule reads instead of its inputs."""
    from ..jit.ir import Value
    deps = deps or {}
    need = {v.id for v in graph.outputs if isinstance(v, Value)}
    live = set()
    for node in reversed(graph.nodes):
        if any(o.id in need for o in node.outputs):
            live.add(id(node))
            reads = deps.get(id(node))
            if reads is None:
                reads = list(node.inputs) + list(_walk(node.attrs))
            for v in reads:
                if isinstance(v, Value):
                    need.add(v.id)
    return live

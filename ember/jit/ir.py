"""The graph IR of ember's graph mode: what the tracer records, the passes rewrite, the
executor runs, ``jit.save`` writes and ONNX export walks.

A ``Graph`` is a list of ``Node`` in execution order. A node is one call of an ember ``Op``
(the same class ``apply`` runs: ``ember.ops.elementwise.Add``, ``ember.ops.conv.Linear``,
...) with its keyword attributes, its inputs and its outputs. Inputs and outputs are
``Value``s: a graph input, a parameter or buffer (by its dotted name), a tensor constant, or
the output of an earlier node. A Python number an op was given stays inline in
``node.inputs`` (as ``apply`` took it).

    graph(%x : Float(2, 3), %fc.weight : Float(4, 3), %fc.bias : Float(4)):
      %1 : Float(2, 4) = linear(%x, %fc.weight, %fc.bias)
      %2 : Float(2, 4) = relu(%1)
      return (%2)

Node order is a valid execution order; every pass keeps it one.
"""

from __future__ import annotations

import itertools

__all__ = ["Value", "Node", "Graph", "op_ref", "resolve_op"]

_ids = itertools.count()


class Value:
    """A tensor in the graph, with the metadata seen when it was recorded.

    kind: "input" (a graph input, ``index`` its position), "param" (a parameter or buffer,
    ``name`` its dotted name in the module), "const" (a tensor constant, in
    ``Graph.constants``) or "node" (output ``index`` of ``node``).
    """

    __slots__ = ("id", "kind", "node", "index", "name", "shape", "dtype", "device",
                 "requires_grad")

    def __init__(self, kind: str, *, node=None, index: int = 0, name: str | None = None,
                 shape=(), dtype=None, device=None, requires_grad: bool = False):
        self.id = next(_ids)
        self.kind = kind
        self.node = node
        self.index = index
        self.name = name
        self.shape = tuple(shape)
        self.dtype = dtype
        self.device = device
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return f"%{self.name or self.id}"

    def type_str(self) -> str:
        """``Float(2, 3)`` like TorchScript's printing (legacy dtype name and the shape)."""
        from .._dtype import legacy_name
        kind = legacy_name(self.dtype) if self.dtype is not None else "Tensor"
        return f"{kind}({', '.join(str(s) for s in self.shape)})"


class Node:
    """One op call: ``outputs = op(*inputs, **attrs)``; ``inplace`` when it was an in-place
    call on its first input (the executor may run it out of place: ``outputs[0]`` is the
    new version of that tensor).

    ``param_attrs`` maps an attribute name to the dotted name of the parameter or buffer whose
    memory that attribute's array is (batch_norm's ``running_mean``: forward updates it in
    place when training); executors and ``jit.load`` rebind it to the parameter they run
    with. The array in ``attrs`` is the traced module's own (a view of it), so running the
    node as recorded updates the module's buffer.

    ``no_grad`` marks a call the traced code made under ``ember.no_grad()`` (while the trace
    itself ran with grad enabled): the reference executor runs it without recording
    autograd history, as eager code did.
    """

    __slots__ = ("op", "inputs", "attrs", "outputs", "inplace", "scope", "param_attrs",
                 "no_grad")

    def __init__(self, op, inputs, attrs, outputs, *, inplace: bool = False, scope: str = "",
                 param_attrs=None, no_grad: bool = False):
        self.op = op
        self.inputs = list(inputs)
        self.attrs = dict(attrs)
        self.outputs = list(outputs)
        self.inplace = inplace
        self.scope = scope                  # module path, e.g. "encoder.layers.0.linear1"
        self.param_attrs = dict(param_attrs) if param_attrs else {}
        self.no_grad = no_grad

    @property
    def kind(self) -> str:
        return self.op.name

    def __repr__(self) -> str:
        outs = ", ".join(f"{o!r} : {o.type_str()}" for o in self.outputs)
        args = ", ".join(repr(i) for i in self.inputs)
        attrs = "".join(f", {k}={v!r}" for k, v in self.attrs.items())
        tail = f"  # {self.scope}" if self.scope else ""
        return f"{outs} = {self.kind}{'_' if self.inplace else ''}({args}{attrs}){tail}"


class Graph:
    """Inputs, parameters, constants, nodes in execution order and outputs.

    ``outputs`` is a flat list of Values; ``output_spec`` (an ``ember.utils._pytree``
    TreeSpec) rebuilds the structure the traced function returned.
    """

    def __init__(self):
        self.inputs: list[Value] = []
        self.params: dict[str, Value] = {}      # dotted name -> Value (kind "param")
        self.constants: dict[int, object] = {}  # Value.id -> the constant's array (numpy/cupy)
        self.nodes: list[Node] = []
        self.outputs: list[Value] = []
        self.output_spec = None

    # -- building -------------------------------------------------------------------------

    def add_input(self, name=None, **meta) -> Value:
        v = Value("input", index=len(self.inputs), name=name, **meta)
        self.inputs.append(v)
        return v

    def add_param(self, name: str, **meta) -> Value:
        v = self.params.get(name)
        if v is None:
            v = self.params[name] = Value("param", name=name, **meta)
        return v

    def add_constant(self, array, **meta) -> Value:
        v = Value("const", **meta)
        self.constants[v.id] = array
        return v

    def add_node(self, op, inputs, attrs, n_outputs: int, metas=(), *, inplace=False,
                 scope="") -> Node:
        node = Node(op, inputs, attrs, [], inplace=inplace, scope=scope)
        metas = list(metas) or [{}] * n_outputs
        node.outputs = [Value("node", node=node, index=i, **metas[i])
                        for i in range(n_outputs)]
        self.nodes.append(node)
        return node

    def copy(self) -> Graph:
        """A new graph with new Values and Nodes (the same op classes, attribute values and
        constant arrays): rewriting the copy leaves this graph as it is."""
        g = Graph()
        new: dict[int, Value] = {}

        def clone(v: Value, **kw) -> Value:
            c = Value(v.kind, index=v.index, name=v.name, shape=v.shape, dtype=v.dtype,
                      device=v.device, requires_grad=v.requires_grad, **kw)
            new[v.id] = c
            return c

        def get(v):
            if not isinstance(v, Value):
                return v
            c = new.get(v.id)
            if c is None and v.kind == "const":     # constants are met where they are read
                c = clone(v)
                g.constants[c.id] = self.constants[v.id]
            return c

        g.inputs = [clone(v) for v in self.inputs]
        g.params = {name: clone(v) for name, v in self.params.items()}
        for node in self.nodes:
            n = Node(node.op, [get(a) for a in node.inputs], node.attrs, [],
                     inplace=node.inplace, scope=node.scope, param_attrs=node.param_attrs,
                     no_grad=node.no_grad)
            n.outputs = [clone(o, node=n) for o in node.outputs]
            g.nodes.append(n)
        g.outputs = [get(v) for v in self.outputs]
        g.output_spec = self.output_spec
        return g

    # -- queries --------------------------------------------------------------------------

    def uses(self) -> dict[int, list[Node]]:
        """Value.id -> the nodes that read it (in order)."""
        out: dict[int, list[Node]] = {}
        for node in self.nodes:
            for v in node.inputs:
                if isinstance(v, Value):
                    out.setdefault(v.id, []).append(node)
        return out

    def __str__(self) -> str:
        heads = [f"{v!r} : {v.type_str()}" for v in [*self.inputs, *self.params.values()]]
        lines = [f"graph({', '.join(heads)}):"]
        lines += [f"  {node!r}" for node in self.nodes]
        lines.append(f"  return ({', '.join(repr(v) for v in self.outputs)})")
        return "\n".join(lines)

    __repr__ = __str__


def op_ref(op) -> str:
    """The importable name of an Op class: ``ember.ops.elementwise.Add``."""
    return f"{op.__module__}.{op.__qualname__}"


def resolve_op(ref: str):
    """Inverse of op_ref: looked up among the Op subclasses ember defines (so a saved graph can
    name only ember's ops and loading it imports nothing else)."""
    from .._dispatch import Op
    found = _registry(Op).get(ref)
    if found is None:
        _REGISTRY.clear()                       # an op defined since the last lookup
        found = _registry(Op).get(ref)
    if found is None:
        raise ValueError(f"jit: unknown op {ref!r} (not an ember Op)")
    return found


_REGISTRY: dict = {}


def _registry(base) -> dict:
    if not _REGISTRY:
        stack = list(base.__subclasses__())
        while stack:
            cls = stack.pop()
            _REGISTRY.setdefault(op_ref(cls), cls)
            stack.extend(cls.__subclasses__())
    return _REGISTRY

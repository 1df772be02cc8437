"""add_graph: the ops of one forward call as a TensorBoard GraphDef.

Note [Recorded graph]
    The model runs once under no_grad while an observer of ``apply`` (``_dispatch.observers``)
    records every op call, and forward pre/post hooks on every submodule keep a stack of
    scopes named as PyTorch's writer names them: ``Net/Sequential[seq]/Linear[0]``. Each op
    becomes a node ``<scope>/<op name>.<n>`` whose inputs are the nodes that produced its
    tensor arguments: the model inputs (``input/<forward's argument name>``), parameters and
    buffers (``<scope>/<name>``), other ops, or constants (``<scope>/constant.<n>``). The
    outputs are ``output/output.<i>`` nodes (from 1). The model runs in eval mode, as in
    PyTorch. Every node carries ``_output_shapes``. A later traced graph
    (ember.jit) can replace this walk; the GraphDef layout stays.
"""

from __future__ import annotations

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef


def _shape_attr(shapes) -> AttrValue:
    protos = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in s])
              for s in shapes]
    return AttrValue(list=AttrValue.ListValue(shape=protos))


def _node(name: str, op: str, inputs=(), shapes=None, attr: str = "") -> NodeDef:
    attrs = {"attr": AttrValue(s=attr.encode())}
    if shapes is not None:
        attrs["_output_shapes"] = _shape_attr(shapes)
    return NodeDef(name=name, op=op, input=list(inputs), attr=attrs)


def _flatten(obj, out: list) -> list:
    from ..._tensor import Tensor
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _flatten(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _flatten(o, out)
    return out


def _input_names(model, args):
    """(node name, tensor) of the model inputs: ``input/<forward's parameter name>``, with
    ``.<j>`` for tensors nested in one argument."""
    import inspect
    try:
        params = [p.name for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    out = []
    for i, arg in enumerate(args):
        base = f"input/{params[i]}" if i < len(params) else f"input/input.{i}"
        tensors = _flatten(arg, [])
        if len(tensors) == 1 and tensors[0] is arg:
            out.append((base, arg))
        else:
            out.extend((f"{base}.{j}", t) for j, t in enumerate(tensors))
    return out


def graph(model, args):
    """(GraphDef, RunMetadata) of one call ``model(*args)`` (see Note [Recorded graph])."""
    from ... import _dispatch
    from ...autograd.grad_mode import no_grad
    if args is None:
        args = ()
    elif not isinstance(args, (list, tuple)):
        args = (args,)
    args = tuple(args)
    names = {}                  # id(tensor) -> node name
    keep = []                   # tensors named so far, kept alive so their ids stay unique
    nodes = []
    counts = {}
    root = type(model).__name__
    scopes = [root]

    def name_tensor(t, name):
        names[id(t)] = name
        keep.append(t)

    def unique(base):
        n = counts.get(base, 0)
        counts[base] = n + 1
        return f"{base}.{n}" if n else base

    for name, t in _input_names(model, args):
        name_tensor(t, name)
        nodes.append(_node(name, "IO Node", shapes=[tuple(t.shape)]))

    module_scope = {}
    for prefix, module in model.named_modules():
        parts = prefix.split(".") if prefix else []
        scope = root
        sub = model
        for p in parts:
            sub = getattr(sub, p) if not p.isdigit() else sub._modules[p]
            scope += f"/{type(sub).__name__}[{p}]"
        module_scope[module] = scope
        for pname, p in list(module.named_parameters(recurse=False)) + \
                list(module.named_buffers(recurse=False)):
            if id(p) in names:
                continue
            name = f"{scope}/{pname}"
            name_tensor(p, name)
            kind = "Parameter" if p.requires_grad else "Buffer"
            nodes.append(_node(name, kind, shapes=[tuple(p.shape)]))

    def pre_hook(module, inputs):
        scopes.append(module_scope.get(module, scopes[-1] + f"/{type(module).__name__}"))

    def post_hook(module, inputs, output):
        scopes.pop()

    def observe(op, inputs, attrs, outputs):
        scope = scopes[-1]
        in_names = []
        for a in inputs:
            if not hasattr(a, "_data"):
                continue
            name = names.get(id(a))
            if name is None:
                name = unique(f"{scope}/constant")
                name_tensor(a, name)
                nodes.append(_node(name, "prim::Constant", shapes=[tuple(a.shape)]))
            in_names.append(name)
        name = unique(f"{scope}/{op.name}")
        for o in outputs:
            name_tensor(o, name)
        shown = {k: v for k, v in attrs.items() if isinstance(v, (int, float, str, bool, tuple))}
        nodes.append(_node(name, f"ember::{op.name}", in_names,
                           shapes=[tuple(o.shape) for o in outputs], attr=str(shown)))

    handles = []
    for module in model.modules():
        if module is model:
            continue
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook))
    _dispatch.observers.append(observe)
    training = model.training
    model.train(False)              # as PyTorch: the graph of the model in eval mode
    try:
        with no_grad():
            result = model(*args)
    finally:
        _dispatch.observers.remove(observe)
        for h in handles:
            h.remove()
        model.train(training)

    for i, t in enumerate(_flatten(result, [])):
        src = names.get(id(t))
        inputs = [src] if src is not None else []
        nodes.append(_node(f"output/output.{i + 1}", "IO Node", inputs,
                           shapes=[tuple(t.shape)]))
    graph_def = GraphDef(node=nodes, versions=VersionDef(producer=22))
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(
        device="/device:CPU:0")]))
    return graph_def, stats

"""``ember.jit.save`` / ``ember.jit.load``: a traced module as graph + weights, loadable without
the model's Python class or source.

Note [Traced module file]
    A zip archive with
    - ``graph.json``: the graph as JSON (never pickle): inputs, params, constants and nodes
      with their metadata; each node names its op by ``op_ref`` ("ember.ops.conv.Linear")
      and its attributes are encoded by ``_encode`` (tuples, lists, dicts, slices, Ellipsis,
      None, numbers incl. inf/nan, strings, dtypes, devices, NumPy scalars, Op classes);
      arrays in attributes go to the tensor store, or name the parameter whose memory they
      are (``Node.param_attrs``);
    - ``data.pt``: the tensors (parameters, buffers, constants, attribute arrays) written
      by ``ember.save`` (PyTorch's checkpoint format) and read back with ``weights_only``;
    - ``extra/<name>``: ``_extra_files``.
    Loading resolves ops with ``resolve_op`` among ember's own Op classes only, so a file
    cannot make ``load`` import or run anything else.
"""

from __future__ import annotations

import collections
import io
import json
import math
import os
import zipfile

import numpy as np

from .. import _dispatch
from .._dtype import from_numpy_dtype, to_dtype
from ..utils._pytree import LeafSpec, TreeSpec
from .ir import Graph, Value, op_ref, resolve_op

__all__ = ["save", "load"]

_FORMAT = "ember.jit"
_VERSION = 1


def _is_array(a) -> bool:
    return (isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__")) and \
        not isinstance(a, np.generic)


class _Writer:
    def __init__(self):
        self.tensors: dict = {}

    def array(self, a) -> str:
        key = f"attr/{len(self.tensors)}"
        self.tensors[key] = _dispatch._Tensor._make(a)
        return key

    def encode(self, a, where: str):
        """A JSON-able form of an attribute or inline input."""
        from .._device import device as Device
        from .._dtype import dtype as DType
        if a is None or isinstance(a, (bool, str)):
            return a
        if isinstance(a, int) and type(a) is int:
            return a
        if type(a) is float:
            if math.isfinite(a):
                return a
            return {"float": repr(a)}
        if isinstance(a, complex):
            return {"complex": [a.real, a.imag]}
        if a is Ellipsis:
            return {"ellipsis": True}
        if type(a) is tuple:
            return {"tuple": [self.encode(x, where) for x in a]}
        if type(a) is list:
            return [self.encode(x, where) for x in a]
        if type(a) is dict:
            return {"dict": [[self.encode(k, where), self.encode(v, where)]
                             for k, v in a.items()]}
        if type(a) is slice:
            return {"slice": [self.encode(a.start, where), self.encode(a.stop, where),
                              self.encode(a.step, where)]}
        if isinstance(a, DType):
            return {"dtype": a.name}
        if isinstance(a, np.dtype):
            return {"np_dtype": from_numpy_dtype(a).name}
        if isinstance(a, Device):
            return {"device": str(a)}
        if isinstance(a, np.generic):
            return {"np_scalar": [from_numpy_dtype(a.dtype).name,
                                  self.encode(a.item(), where)]}
        if _is_array(a):
            return {"array": self.array(a)}
        if isinstance(a, type) and issubclass(a, _dispatch.Op):
            return {"op": op_ref(a)}
        if isinstance(a, float):                # float and int subclasses (IntEnum, ...)
            return self.encode(float(a), where)
        if isinstance(a, int):
            return self.encode(int(a), where)
        raise TypeError(f"jit.save: cannot save {where}: a {type(a).__name__} "
                        f"({a!r:.80}) is not one of the attribute types a saved graph holds "
                        "(numbers, strings, None, tuples, lists, dicts, slices, dtypes, devices, "
                        "arrays)")


def _decode(a, tensors):
    from .._device import device as Device
    if a is None or isinstance(a, (bool, int, float, str)):
        return a
    if isinstance(a, list):
        return [_decode(x, tensors) for x in a]
    (tag, body), = a.items()
    if tag == "float":
        return float(body)
    if tag == "complex":
        return complex(body[0], body[1])
    if tag == "ellipsis":
        return Ellipsis
    if tag == "tuple":
        return tuple(_decode(x, tensors) for x in body)
    if tag == "dict":
        return {_decode(k, tensors): _decode(v, tensors) for k, v in body}
    if tag == "slice":
        return slice(*(_decode(x, tensors) for x in body))
    if tag == "dtype":
        return to_dtype(body)
    if tag == "np_dtype":
        return to_dtype(body).np
    if tag == "device":
        return Device(body)
    if tag == "np_scalar":
        return to_dtype(body[0]).np.type(_decode(body[1], tensors))
    if tag == "array":
        return tensors[body]._data
    if tag == "op":
        return _resolve(body)
    raise ValueError(f"jit.load: unknown attribute encoding {tag!r}")


def _resolve(ref: str):
    if not ref.startswith("ember."):
        raise ValueError(f"jit.load: refusing op {ref!r}: a saved graph may name ember's own "
                         "ops only")
    if ref.startswith("ember.jit.passes."):
        from . import passes  # noqa: F401  (defines the ops that passes create, e.g. fusion)
    return resolve_op(ref)


def _meta(v: Value) -> dict:
    return {"shape": list(v.shape), "dtype": v.dtype.name if v.dtype is not None else None,
            "device": str(v.device) if v.device is not None else None,
            "requires_grad": bool(v.requires_grad)}


def _unmeta(m: dict) -> dict:
    from .._device import device as Device
    return {"shape": tuple(m["shape"]),
            "dtype": to_dtype(m["dtype"]) if m["dtype"] is not None else None,
            "device": Device(m["device"]) if m["device"] is not None else None,
            "requires_grad": m["requires_grad"]}


# -- tree specs --------------------------------------------------------------------------

def _encode_spec(spec, w: _Writer):
    if spec is None:
        return None
    if spec.is_leaf():
        return {"leaf": True}
    children = [_encode_spec(c, w) for c in spec.children_specs]
    t = spec.type
    if t == "namedtuple":
        cls = spec.context
        return {"namedtuple": [cls.__module__, cls.__qualname__, list(cls._fields)],
                "children": children}
    names = {tuple: "tuple", list: "list", dict: "dict",
             collections.OrderedDict: "OrderedDict", collections.deque: "deque"}
    if t in names:
        return {"type": names[t], "context": w.encode(spec.context, "an output container"),
                "children": children}
    raise TypeError(f"jit.save: cannot save an output container of type {t!r}")


def _decode_spec(d, tensors):
    if d is None:
        return None
    if d.get("leaf"):
        return LeafSpec()
    children = [_decode_spec(c, tensors) for c in d["children"]]
    if "namedtuple" in d:
        module, qualname, fields = d["namedtuple"]
        cls = None
        if module.startswith("ember.") or module == "ember":
            import importlib
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part, None)
            cls = obj if isinstance(obj, type) else None
        if cls is None:
            # The model's own class is not needed: an equivalent namedtuple is rebuilt.
            cls = collections.namedtuple(qualname.rsplit(".", 1)[-1], fields)
        return TreeSpec("namedtuple", cls, children)
    types = {"tuple": tuple, "list": list, "dict": dict,
             "OrderedDict": collections.OrderedDict, "deque": collections.deque}
    return TreeSpec(types[d["type"]], _decode(d["context"], tensors), children)


# -- save --------------------------------------------------------------------------------

def _state(obj) -> list:
    """(name, tensor, kind, persistent) of a traced module's parameters and buffers."""
    from ..nn.parameter import Parameter
    Module = _module_cls()
    if not isinstance(obj, Module):
        return []
    from ._tracer import _non_persistent
    skip = _non_persistent(obj)
    out = []
    seen = set()
    for name, t in list(obj.named_parameters()) + list(obj.named_buffers()):
        if id(t) in seen:
            continue
        seen.add(id(t))
        kind = "parameter" if isinstance(t, Parameter) else "buffer"
        out.append((name, t, kind, name not in skip))
    return out


def _module_cls():
    from ..nn.modules.module import Module
    return Module


def save(m, f, _extra_files=None) -> None:
    """Save a traced module (or traced function) to ``f``: graph and weights in one file that
    ``ember.jit.load`` reads without the model's Python class.

    Args:
        m: a ``TracedModule`` (from ``ember.jit.trace`` or ``ember.jit.load``) or a
            ``TracedFunction``.
        f: a path or a writable binary file object.
        _extra_files: name -> str or bytes, stored alongside (PyTorch's argument).

    Example:
        >>> import io, ember
        >>> traced = ember.jit.trace(ember.nn.Linear(2, 2), ember.ones(1, 2))
        >>> buf = io.BytesIO(); ember.jit.save(traced, buf); _ = buf.seek(0)
        >>> loaded = ember.jit.load(buf)
        >>> bool((loaded(ember.ones(3, 2)) == traced(ember.ones(3, 2))).all())
        True
    """
    from ._tracer import PythonFunction, _TracedBase
    if not isinstance(m, _TracedBase):
        raise TypeError(f"jit.save: expected a traced module or function (ember.jit.trace), got "
                        f"{type(m).__name__}; ember has no TorchScript compiler, so trace the "
                        "model first")
    graph: Graph = m.graph
    w = _Writer()
    state = _state(m)
    state_names = {name for name, _, _, _ in state}
    for name, t, _, _ in state:
        w.tensors[f"state/{name}"] = t.detach()

    ids: dict[int, int] = {}

    def ref(v: Value) -> int:
        if v.id not in ids:
            raise ValueError(f"jit.save: the graph uses {v!r} before it is defined")
        return ids[v.id]

    def define(v: Value) -> int:
        ids[v.id] = len(ids)
        return ids[v.id]

    inputs = [{"id": define(v), "name": v.name, **_meta(v)} for v in graph.inputs]
    params = []
    for name, v in graph.params.items():
        params.append({"id": define(v), "name": name, **_meta(v)})
    constants = []
    const_values = _const_values(graph)
    for vid, arr in graph.constants.items():
        v = const_values.get(vid)
        if v is None:
            continue                            # a constant nothing reads
        key = f"const/{len(constants)}"
        w.tensors[key] = _dispatch._Tensor._make(arr)
        constants.append({"id": define(v), "key": key, **_meta(v)})
    nodes = []
    for k, node in enumerate(graph.nodes):
        where = f"node {k} ({node.kind})"
        if node.op is PythonFunction:
            raise RuntimeError(
                f"jit.save: the graph calls the Python autograd.Function "
                f"{node.attrs['function'].__qualname__} ({where}); a saved graph holds ember "
                "ops only. Write it with ember ops to save the trace")
        ins = [{"v": ref(a)} if isinstance(a, Value) else {"c": w.encode(a, where)}
               for a in node.inputs]
        attrs = {}
        for key, a in node.attrs.items():
            if key in node.param_attrs:
                attrs[key] = {"param_view": [node.param_attrs[key], list(a.shape)]}
            else:
                attrs[key] = w.encode(a, f"attribute {key!r} of {where}")
        outs = [{"id": define(o), **_meta(o)} for o in node.outputs]
        nodes.append({"op": op_ref(node.op), "inputs": ins, "attrs": attrs, "outputs": outs,
                      "inplace": bool(node.inplace), "scope": node.scope,
                      "no_grad": bool(node.no_grad)})
    doc = {
        "format": _FORMAT, "version": _VERSION,
        "kind": "module" if isinstance(m, _module_cls()) else "function",
        "original_name": getattr(m, "original_name", getattr(m, "_name", "fn")),
        "training": bool(getattr(m, "training", False)),
        "modules": {path: getattr(sub, "original_name", type(sub).__name__)
                    for path, sub in m.named_modules() if path}
        if isinstance(m, _module_cls()) else {},
        "state": [{"name": n, "kind": kind, "persistent": p, "requires_grad": t.requires_grad}
                  for n, t, kind, p in state],
        "inputs": inputs, "params": params, "constants": constants, "nodes": nodes,
        "outputs": [ref(v) for v in graph.outputs],
        "output_spec": _encode_spec(graph.output_spec, w),
    }
    missing = [n for n in graph.params if n not in state_names]
    if missing:
        raise ValueError(f"jit.save: the graph reads parameters the module does not hold: "
                         f"{missing}")
    from ..serialization import save as save_tensors
    data = io.BytesIO()
    save_tensors(w.tensors, data)
    payload = json.dumps(doc, indent=1).encode()
    _write_zip(f, payload, data.getvalue(), _extra_files or {})


def _const_values(graph: Graph) -> dict[int, Value]:
    """Value.id -> Value of the constants the graph reads."""
    out = {}
    for node in graph.nodes:
        for a in node.inputs:
            if isinstance(a, Value) and a.kind == "const":
                out[a.id] = a
    for v in graph.outputs:
        if v.kind == "const":
            out[v.id] = v
    return out


def _write_zip(f, payload: bytes, data: bytes, extra: dict) -> None:
    def write(fileobj):
        with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED) as z:
            z.writestr("graph.json", payload)
            z.writestr("data.pt", data)
            for name, content in extra.items():
                z.writestr(f"extra/{name}",
                           content.encode() if isinstance(content, str) else content)

    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        write(f)


# -- load --------------------------------------------------------------------------------

def load(f, map_location=None, _extra_files=None):
    """Load a traced module saved by ``ember.jit.save`` (no Python class or source needed).

    Args:
        f: a path or a readable binary file object.
        map_location: where the tensors go (as ``ember.load``): "cpu", a device, a dict or a
            callable.
        _extra_files: a dict whose keys name extra files to read; their contents (bytes) are
            filled in.

    Returns:
        A ``TracedModule``: forward runs the saved graph; its parameters are Parameters that
        train as usual (gradients reach them, optimizers update them).
    """
    from ..nn.parameter import Parameter
    from ..serialization import load as load_tensors
    from ._tracer import TracedModule
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            raw = fh.read()
        f = io.BytesIO(raw)
    try:
        z = zipfile.ZipFile(f)
    except zipfile.BadZipFile:
        raise RuntimeError("jit.load: not an ember.jit file (not a zip archive)") from None
    with z:
        names = set(z.namelist())
        if "graph.json" not in names or "data.pt" not in names:
            raise RuntimeError("jit.load: not an ember.jit file (graph.json or data.pt "
                               "missing); for a checkpoint use ember.load")
        doc = json.loads(z.read("graph.json"))
        data = z.read("data.pt")
        if _extra_files is not None:
            for key in list(_extra_files):
                name = f"extra/{key}"
                _extra_files[key] = z.read(name) if name in names else b""
    if doc.get("format") != _FORMAT:
        raise RuntimeError("jit.load: not an ember.jit file")
    if doc.get("version", 0) > _VERSION:
        raise RuntimeError(f"jit.load: file format version {doc['version']} is newer than "
                           f"this ember reads ({_VERSION})")
    # Resolve every op before building anything: a file naming a foreign op is refused whole.
    ops = [_resolve(n["op"]) for n in doc["nodes"]]
    tensors = load_tensors(io.BytesIO(data), map_location=map_location, weights_only=True)

    module = TracedModule(None, original_name=doc.get("original_name", "Module"))
    state = {}
    for entry in doc["state"]:
        t = tensors[f"state/{entry['name']}"]
        if entry["kind"] == "parameter":
            t = Parameter(t, requires_grad=entry.get("requires_grad", True))
        module._place(entry["name"], t, persistent=entry["persistent"])
        state[entry["name"]] = t

    from ._tracer import name_modules
    name_modules(module, doc.get("modules", {}))
    graph = Graph()
    values: dict[int, Value] = {}
    for d in doc["inputs"]:
        values[d["id"]] = graph.add_input(d["name"], **_unmeta(d))
    for d in doc["params"]:
        values[d["id"]] = graph.add_param(d["name"], **_unmeta(d))
    for d in doc["constants"]:
        values[d["id"]] = graph.add_constant(tensors[d["key"]]._data, **_unmeta(d))
    for op, d in zip(ops, doc["nodes"]):
        ins = [values[a["v"]] if "v" in a else _decode(a["c"], tensors) for a in d["inputs"]]
        attrs = {}
        param_attrs = {}
        for key, a in d["attrs"].items():
            if isinstance(a, dict) and "param_view" in a:
                name, shape = a["param_view"]
                attrs[key] = state[name]._data.reshape(tuple(shape))
                param_attrs[key] = name
            else:
                attrs[key] = _decode(a, tensors)
        node = graph.add_node(op, ins, attrs, len(d["outputs"]),
                              [_unmeta(o) for o in d["outputs"]], inplace=d["inplace"],
                              scope=d.get("scope", ""))
        node.param_attrs = param_attrs
        node.no_grad = bool(d.get("no_grad", False))
        for o, v in zip(d["outputs"], node.outputs):
            values[o["id"]] = v
    graph.outputs = [values[i] for i in doc["outputs"]]
    graph.output_spec = _decode_spec(doc["output_spec"], tensors)
    object.__setattr__(module, "_graph", graph)
    module.train(doc.get("training", False))
    return module

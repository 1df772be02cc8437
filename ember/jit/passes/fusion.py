"""Fusion of elementwise chains: a tree of elementwise ops whose intermediate results nobody
else reads becomes one ``FusedElementwise`` node.

Contract: ``run(graph)`` rewrites ``graph`` in place and returns it. Each fused group is
replaced by one node at the position of its last member (its root), whose output is the root's
output Value (users and graph outputs need no rewiring).

What fuses: the ops in ``_KINDS`` (arithmetic, unary math, relu/sigmoid/tanh/silu/gelu/
leaky_relu, maximum/minimum, pow) on float32 or float64 tensors, every tensor input of the
op's dtype (so no promotion happens inside a group), Python numbers inline. A member other than
the root must have all its users inside the group and must not be a graph output. Inputs may
broadcast; the fused result has the root's shape.

How it runs (``evaluate``):
- CPU, by default: a NumPy chain, one ufunc call per op, each writing into a buffer of the
  chain (an input's temporary once it is dead, or ``out``): the same kernels as eager mode, so
  the values are bit-identical, with fewer allocations and no per-op dispatch.
- CPU with ``set_cpu_engine("numexpr")``: one ``numexpr`` expression (when every op of the
  group has a numexpr form; GELU with erf has none). Off by default: on this project's
  machines NumPy's SIMD kernels beat single-threaded numexpr 1.2-5x on float32 (tanh 5x),
  see benchmarks/plan.py; numexpr pays off with several threads on arrays larger than cache.
- CUDA: one ``cupy.ElementwiseKernel`` generated from the group (cached per program and dtype).

Autograd: a fused node is differentiable. Its backward replays the group's original ops under
autograd on the saved inputs and differentiates that (Note [Backward of a fused node]), so
graphs that ``run_graph`` executes with autograd keep training after fusion; double backward
works too. The lowered plan (ember/jit/plan.py) is inference-only and never records.
"""

from __future__ import annotations

import math

import numpy as np

from ..._dispatch import Op, apply
from ...backends.numpy_backend import errstate
from ..ir import Graph, Node, Value
from ._util import mutated_values

__all__ = ["FusedElementwise", "run", "match", "evaluate", "describe", "set_cpu_engine"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_engine = ["numpy"]


def set_cpu_engine(name: str) -> None:
    """Pick how fused nodes run on CPU: "numpy" (default) or "numexpr" (needs numexpr)."""
    if name not in ("numpy", "numexpr"):
        raise ValueError(f"fusion: unknown cpu engine {name!r} (expected 'numpy' or 'numexpr')")
    if name == "numexpr":
        import numexpr  # noqa: F401  (fail here, not at the first call)
    _engine[0] = name


# -- the kinds of elementwise op a group may hold ---------------------------------------------
#
# Each kind: how NumPy/CuPy computes it into a buffer (``np(xp, dst, *args)``), whether that
# may write over one of its own inputs (``overwrite``), a numexpr template (None: none), a
# CUDA expression and the ember op (class and attributes) that eager mode ran. Arguments in
# the templates are {0}, {1}; numbers in numexpr go through named float constants ({h}: 0.5,
# {o}: 1.0, {c0}...), since numexpr computes float32 * 2.0 in float64.

class _Kind:
    __slots__ = ("name", "np", "overwrite", "ne", "cu", "op", "attrs")

    def __init__(self, name, np_fn, overwrite, ne, cu, op, attrs=None):
        self.name, self.np, self.overwrite, self.ne, self.cu = name, np_fn, overwrite, ne, cu
        self.op, self.attrs = op, attrs


def _ufunc(name):
    def run(xp, dst, *args):
        return getattr(xp, name)(*args, out=dst)
    return run


def _rsqrt(xp, dst, a):
    r = xp.sqrt(a, out=dst)
    return xp.divide(1, r, out=r)


def _sigmoid(xp, dst, a):
    # eager's kernel (ember/ops/elementwise.py _sigmoid_kernel), step for step
    t = xp.negative(a, out=dst)
    with errstate(xp):
        xp.exp(t, out=t)
    t += 1
    return xp.reciprocal(t, out=t)


def _silu(xp, dst, a):
    t = _sigmoid(xp, dst, a)
    return xp.multiply(a, t, out=t)


def _relu(xp, dst, a):
    return xp.maximum(a, 0, out=dst)


def _leaky_relu(xp, dst, a, slope):
    t = xp.multiply(a, slope, out=dst)
    xp.copyto(t, a, where=a > 0)
    return t


def _gelu(approximate):
    def run(xp, dst, a):
        from ...ops.activation import _gelu_fwd
        return _gelu_fwd(xp, a, approximate)
    return run


_SIG_NE = "({o} / ({o} + exp(-{0})))"
_SIG_CU = "((T)1 / ((T)1 + exp(-{0})))"


def _kinds():
    from ...ops import activation as act
    from ...ops import elementwise as ew
    table = [
        _Kind("add", _ufunc("add"), True, "({0} + {1})", "({0} + {1})", ew.Add),
        _Kind("sub", _ufunc("subtract"), True, "({0} - {1})", "({0} - {1})", ew.Sub),
        _Kind("mul", _ufunc("multiply"), True, "({0} * {1})", "({0} * {1})", ew.Mul),
        _Kind("div", _ufunc("divide"), True, "({0} / {1})", "({0} / {1})", ew.Div),
        _Kind("pow", _ufunc("power"), True, "({0} ** {1})", "pow({0}, {1})", ew.Pow),
        _Kind("maximum", _ufunc("maximum"), True,
              "where(({0} >= {1}) | ({0} != {0}), {0}, {1})",
              "(({0} != {0} || {0} > {1}) ? {0} : {1})", ew.Maximum),
        _Kind("minimum", _ufunc("minimum"), True,
              "where(({0} <= {1}) | ({0} != {0}), {0}, {1})",
              "(({0} != {0} || {0} < {1}) ? {0} : {1})", ew.Minimum),
        _Kind("neg", _ufunc("negative"), True, "(-{0})", "(-{0})", ew.Neg),
        _Kind("abs", _ufunc("abs"), True, "abs({0})", "fabs({0})", ew.Abs),
        _Kind("exp", _ufunc("exp"), True, "exp({0})", "exp({0})", ew.Exp),
        _Kind("expm1", _ufunc("expm1"), True, "expm1({0})", "expm1({0})", ew.Expm1),
        _Kind("log", _ufunc("log"), True, "log({0})", "log({0})", ew.Log),
        _Kind("log1p", _ufunc("log1p"), True, "log1p({0})", "log1p({0})", ew.Log1p),
        _Kind("sqrt", _ufunc("sqrt"), True, "sqrt({0})", "sqrt({0})", ew.Sqrt),
        _Kind("rsqrt", _rsqrt, True, "({o} / sqrt({0}))", "((T)1 / sqrt({0}))", ew.Rsqrt),
        _Kind("sin", _ufunc("sin"), True, "sin({0})", "sin({0})", ew.Sin),
        _Kind("cos", _ufunc("cos"), True, "cos({0})", "cos({0})", ew.Cos),
        _Kind("tanh", _ufunc("tanh"), True, "tanh({0})", "tanh({0})", ew.Tanh),
        _Kind("sigmoid", _sigmoid, True, _SIG_NE, _SIG_CU, ew.Sigmoid),
        _Kind("relu", _relu, True, "where({0} <= 0, 0, {0})",
              "(({0} != {0} || {0} > (T)0) ? {0} : (T)0)", ew.Relu),
        _Kind("silu", _silu, False, "({0} * " + _SIG_NE + ")", "({0} * " + _SIG_CU + ")",
              act.Silu),
        _Kind("leaky_relu", _leaky_relu, False, "where({0} > 0, {0}, {0} * {1})",
              "({0} > (T)0 ? {0} : {0} * {1})", act.LeakyRelu, "negative_slope"),
        _Kind("gelu", _gelu("none"), True, None,
              "({0} * (T)0.5 * ((T)1 + erf({0} * (T)0.7071067811865476)))", act.Gelu,
              {"approximate": "none"}),
        _Kind("gelu_tanh", _gelu("tanh"), True,
              "({h} * {0} * ({o} + tanh({k} * ({0} + {c} * {0} * {0} * {0}))))",
              "((T)0.5 * {0} * ((T)1 + tanh((T)0.7978845608028654 * ({0} + (T)0.044715 * {0}"
              " * {0} * {0}))))", act.Gelu, {"approximate": "tanh"}),
    ]
    return {k.name: k for k in table}


_KINDS: dict = {}
_BY_OP: dict = {}


def _tables():
    if not _KINDS:
        _KINDS.update(_kinds())
        for k in _KINDS.values():
            _BY_OP.setdefault(k.op, []).append(k)
    return _KINDS, _BY_OP


def _np_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype):
        return dtype
    return getattr(dtype, "np", None)


def match(node: Node):
    """(kind name, arguments) when ``node`` can join a fused group, else None. Arguments are
    the node's inputs, with attributes that become operands (leaky_relu's slope) appended."""
    kinds, by_op = _tables()
    cands = by_op.get(node.op)
    if not cands or node.inplace or getattr(node, "param_attrs", None) or \
            len(node.outputs) != 1:
        return None
    dt = _np_dtype(node.outputs[0].dtype)
    if dt not in _FLOATS:
        return None
    n_values = 0
    for v in node.inputs:
        if isinstance(v, Value):
            if _np_dtype(v.dtype) != dt:
                return None
            n_values += 1
        elif type(v) not in (int, float) or not math.isfinite(v):
            return None                     # (inf/nan stay out: no portable CUDA literal)
    if n_values == 0:
        return None
    for kind in cands:
        if kind.attrs is None and not node.attrs:
            return kind.name, tuple(node.inputs)
        if isinstance(kind.attrs, dict) and node.attrs == kind.attrs:
            return kind.name, tuple(node.inputs)
        if isinstance(kind.attrs, str) and set(node.attrs) == {kind.attrs} and \
                type(node.attrs[kind.attrs]) in (int, float):
            return kind.name, (*node.inputs, node.attrs[kind.attrs])
    return None


# -- the fused op --------------------------------------------------------------------------------

# A program is a tuple of steps (kind, args, shape); an arg is ("in", i) (the node's i-th
# input), ("tmp", j) (step j's result) or a Python number. The last step is the result.

class FusedElementwise(Op):
    """Several elementwise ops computed in one pass (see ember/jit/passes/fusion.py)."""

    name = "fused_elementwise"
    backward_name = "FusedElementwiseBackward0"

    @staticmethod
    def forward(ctx, *arrays, program):
        ctx.program = program
        ctx.save(*arrays)
        return evaluate(ctx.xp, program, arrays)

    @staticmethod
    def backward(ctx, grad):
        # Note [Backward of a fused node]
        #     The group's ops are replayed on the saved inputs under autograd and the replay
        #     is differentiated: each op's own backward gives the gradient, broadcasting
        #     included. When backward itself records (create_graph=True) the replay uses the
        #     inputs themselves, so the gradients stay functions of them (double backward);
        #     otherwise detached copies, so the replay's graph stops here.
        from ...autograd import grad as autograd_grad
        from ...autograd.grad_mode import enable_grad, is_grad_enabled
        xs = ctx.saved_tensors
        need = ctx.needs_input_grad
        create = is_grad_enabled()
        if not create:
            xs = [x.detach().requires_grad_(bool(n)) for x, n in zip(xs, need)]
        with enable_grad():
            out = replay(ctx.program, xs)
        wanted = [x for x, n in zip(xs, need) if n]
        if not wanted:
            return (None,) * len(xs)
        grads = iter(autograd_grad(out, wanted, grad, create_graph=create, allow_unused=True))
        return tuple(next(grads) if n else None for n in need)


def replay(program, tensors):
    """The group's ops run one by one through ``apply`` on Tensors (the backward's forward)."""
    kinds, _ = _tables()
    vals = []
    for kind_name, args, _shape in program:
        kind = kinds[kind_name]
        xs = [tensors[a[1]] if type(a) is tuple and a[0] == "in" else
              vals[a[1]] if type(a) is tuple else a for a in args]
        if isinstance(kind.attrs, str):
            vals.append(apply(kind.op, *xs[:-1], **{kind.attrs: xs[-1]}))
        else:
            vals.append(apply(kind.op, *xs, **(kind.attrs or {})))
    return vals[-1]


def describe(program) -> str:
    """A readable one-line form of a program: ``relu((in0 * in1) + 1.0)``."""
    parts = []
    for kind_name, args, _shape in program:
        text = [f"in{a[1]}" if type(a) is tuple and a[0] == "in" else parts[a[1]]
                if type(a) is tuple else repr(a) for a in args]
        parts.append(f"{kind_name}({', '.join(text)})")
    return parts[-1] if parts else ""


# -- evaluation ---------------------------------------------------------------------------------

_LAST_USE: dict = {}


def _last_uses(program):
    lu = _LAST_USE.get(program)
    if lu is None:
        lu = [0] * len(program)
        for j, (_k, args, _s) in enumerate(program):
            for a in args:
                if type(a) is tuple and a[0] == "tmp":
                    lu[a[1]] = j
        _LAST_USE[program] = lu
    return lu


def evaluate(xp, program, arrays, out=None):
    """The program's result on backend arrays; written into ``out`` when given (an array of the
    result's shape and dtype that none of ``arrays`` shares memory with)."""
    if xp is not np:
        return _evaluate_cuda(xp, program, arrays, out)
    if _engine[0] == "numexpr":
        res = _evaluate_numexpr(program, arrays, out)
        if res is not None:
            return res
    return _evaluate_numpy(xp, program, arrays, out)


def _evaluate_numpy(xp, program, arrays, out):
    kinds, _ = _tables()
    last = len(program) - 1
    lu = _last_uses(program)
    vals: list = [None] * len(program)
    ndarray = xp.ndarray
    for j, (kind_name, args, shape) in enumerate(program):
        kind = kinds[kind_name]
        xs = []
        dst = None
        for a in args:
            if type(a) is tuple:
                if a[0] == "in":
                    xs.append(arrays[a[1]])
                    continue
                t = vals[a[1]]
                xs.append(t)
                if dst is None and lu[a[1]] == j and t.shape == shape:
                    dst = t                 # a dead temporary of the right shape
            else:
                xs.append(a)
        if j == last:
            dst = out
        elif dst is not None and not kind.overwrite:
            dst = None
        res = kind.np(xp, dst, *xs)
        if type(res) is not ndarray:                  # NumPy's 0-d results are scalars
            res = xp.asarray(res)
        if j == last and out is not None and res is not out:
            out[...] = res
            res = out
        vals[j] = res
        for a in args:                                # free temporaries after their last use
            if type(a) is tuple and a[0] == "tmp" and lu[a[1]] == j and vals[a[1]] is not res:
                vals[a[1]] = None
    return vals[last]


_NE_CACHE: dict = {}
_NE_CONSTS = {"h": 0.5, "o": 1.0, "k": math.sqrt(2.0 / math.pi), "c": 0.044715}


def _numexpr_program(program, dtype, n_inputs):
    key = (program, dtype.str, n_inputs)
    if key in _NE_CACHE:
        return _NE_CACHE[key]
    kinds, _ = _tables()
    consts: dict = {}
    entry = None

    def const(value):
        name = consts.get(("n", repr(value)))
        if name is None:
            name = consts[("n", repr(value))] = f"c{len(consts)}"
        return name

    exprs: list = []
    for kind_name, args, _shape in program:
        template = kinds[kind_name].ne
        if template is None:
            break
        text = [f"in{a[1]}" if type(a) is tuple and a[0] == "in" else exprs[a[1]]
                if type(a) is tuple else const(float(a)) for a in args]
        named = {k: const(v) for k, v in _NE_CONSTS.items() if "{" + k + "}" in template}
        exprs.append(template.format(*text, **named))
    else:
        if len(exprs[-1]) < 4000:
            from numexpr import necompiler as nc
            sig_type = float if dtype == np.float32 else np.float64
            values = {name: np.asarray(float(k[1]), dtype=dtype) for k, name in consts.items()}
            names = [f"in{i}" for i in range(n_inputs)] + list(values)
            try:
                context = nc.getContext({"truediv": True})
                compiled = nc.NumExpr(exprs[-1], [(n, sig_type) for n in names], **context)
                used, vml = nc.getExprNames(exprs[-1], context, sanitize=True)
                entry = (compiled, names, values, vml)
            except Exception:       # numexpr's private API moved: use its public evaluate
                entry = ("evaluate", exprs[-1], values)
    _NE_CACHE[key] = entry
    return entry


def _evaluate_numexpr(program, arrays, out):
    dtype = arrays[0].dtype
    entry = _numexpr_program(program, dtype, len(arrays))
    if entry is None:
        return None
    if entry[0] == "evaluate":
        import numexpr
        local = {f"in{i}": a for i, a in enumerate(arrays)}
        local.update(entry[2])
        return numexpr.evaluate(entry[1], local_dict=local, out=out)
    compiled, names, values, vml = entry
    args = list(arrays) + [values[n] for n in names[len(arrays):]]
    try:
        return compiled(*args, out=out, order="K", casting="safe", ex_uses_vml=vml)
    except TypeError:
        return None


_CU_CACHE: dict = {}


def _cuda_literal(a) -> str:
    return f"(T)({float(a)!r})"             # finite: match() keeps inf and nan out


def _evaluate_cuda(cp, program, arrays, out):
    n = len(arrays)
    key = (program, n)
    kernel = _CU_CACHE.get(key)
    if kernel is None:
        kinds, _ = _tables()
        lines = []
        for j, (kind_name, args, _shape) in enumerate(program):
            text = [f"in{a[1]}" if type(a) is tuple and a[0] == "in" else f"t{a[1]}"
                    if type(a) is tuple else _cuda_literal(a) for a in args]
            lines.append(f"T t{j} = {kinds[kind_name].cu.format(*text)};")
        lines.append(f"out = t{len(program) - 1};")
        kernel = cp.ElementwiseKernel(
            ", ".join(f"T in{i}" for i in range(n)), "T out", "\n".join(lines),
            f"ember_fused_{abs(hash(program)) % (1 << 32):x}")
        _CU_CACHE[key] = kernel
    if out is None:
        return kernel(*arrays)
    return kernel(*arrays, out)


# -- the pass -----------------------------------------------------------------------------------

def run(graph: Graph, *, min_size: int = 2) -> Graph:
    uses = graph.uses()
    outputs = {v.id for v in graph.outputs}
    written = mutated_values(graph)
    matched = {}
    for node in graph.nodes:
        m = match(node)
        if m is not None and node.outputs[0].id not in written:
            matched[id(node)] = m
    assigned: set[int] = set()
    order = {id(n): i for i, n in enumerate(graph.nodes)}
    groups = []
    for root in reversed(graph.nodes):
        if id(root) not in matched or id(root) in assigned:
            continue
        group = {id(root): root}
        grown = True
        while grown:
            grown = False
            for member in list(group.values()):
                for v in member.inputs:
                    if not isinstance(v, Value) or v.kind != "node":
                        continue
                    p = v.node
                    if id(p) in group or id(p) in assigned or id(p) not in matched or \
                            v.id in outputs:
                        continue
                    if all(id(u) in group for u in uses.get(v.id, ())):
                        group[id(p)] = p
                        grown = True
        if len(group) >= min_size:
            assigned.update(group)
            groups.append((root, sorted(group.values(), key=lambda n: order[id(n)])))
    if not groups:
        return graph
    replace = {}
    for root, members in groups:
        replace[id(root)] = _fuse(root, members, matched)
    graph.nodes = [replace.get(id(n), n) for n in graph.nodes
                   if id(n) not in assigned or id(n) in replace]
    return graph


def _fuse(root: Node, members: list, matched: dict) -> Node:
    step_of = {}
    externals: list[Value] = []
    ext_index: dict[int, int] = {}
    steps = []
    for node in members:
        kind_name, args = matched[id(node)]
        refs = []
        for a in args:
            if isinstance(a, Value):
                if a.kind == "node" and id(a.node) in step_of:
                    refs.append(("tmp", step_of[id(a.node)]))
                else:
                    if a.id not in ext_index:
                        ext_index[a.id] = len(externals)
                        externals.append(a)
                    refs.append(("in", ext_index[a.id]))
            else:
                refs.append(a)
        step_of[id(node)] = len(steps)
        steps.append((kind_name, tuple(refs), tuple(node.outputs[0].shape)))
    out = root.outputs[0]
    fused = Node(FusedElementwise, externals, {"program": tuple(steps)}, [out],
                 scope=root.scope)
    out.node = fused
    out.index = 0
    return fused

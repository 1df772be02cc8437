"""Algebraic simplification: rewrites that give bit-identical results with less work.

Contract: ``run(graph)`` rewrites ``graph`` in place and returns it. Rewritten nodes read
further upstream or are bypassed (their users read an earlier value); nodes left without users
are removed by ``dce`` afterwards (the default pipeline runs it).

Rules (``x`` a tensor value, ``n`` an inline Python number):
- ``permute(permute(x, a), b)`` -> ``permute(x, a[b])``, or ``x`` when that is the identity
  order; ``permute(x, identity)`` -> ``x`` (transpose and ``t`` are permutes in ember).
- ``view``/``reshape`` of a ``view``/``reshape`` -> one, of ``x`` (a ``reshape`` if either
  was one: it copies when strides need it; a ``view`` of the original also falls back to a
  copy there, so values never change); a view or expand to ``x``'s own shape -> ``x``.
- ``neg(neg(x))`` -> ``x``.
- ``x * 1``, ``1 * x``, ``x / 1``, ``x ** 1``, ``x - 0``, ``x + -0.0`` -> ``x`` when the
  result has ``x``'s dtype and shape (promotion or broadcasting would change either
  otherwise). ``x + 0`` is NOT rewritten: IEEE ``-0.0 + 0 == +0.0``, so it is not an identity
  bit for bit.

Rewrites change which values share memory, so values that an in-place node writes (or an alias
of them) are left alone (Note [In-place nodes in passes], dce.py). A graph output is not
replaced by a graph input, parameter or constant (the caller would get that tensor itself
instead of a new one).
"""

from __future__ import annotations

import math

from ..ir import Graph, Value
from ._util import mutated_values, substitute


def _ops():
    from ...ops import elementwise as ew
    from ...ops import shape as sh
    return ew, sh


def _is_number(n, value) -> bool:
    return type(n) in (int, float) and n == value


def _identity_operand(node, ew):
    """The input ``x`` that node computes unchanged (x * 1, ...), or None."""
    op, ins = node.op, node.inputs
    if len(ins) != 2:
        return None
    a, b = ins
    if op is ew.Mul:
        if isinstance(a, Value) and _is_number(b, 1):
            return a
        if isinstance(b, Value) and _is_number(a, 1):
            return b
    elif op is ew.Div or op is ew.Pow:
        if isinstance(a, Value) and _is_number(b, 1) and not node.attrs:
            return a
    elif op is ew.Sub:
        if isinstance(a, Value) and _is_number(b, 0) and \
                not (type(b) is float and math.copysign(1.0, b) < 0):
            return a
    elif op is ew.Add:
        if isinstance(a, Value) and type(b) is float and b == 0 and math.copysign(1.0, b) < 0:
            return a
        if isinstance(b, Value) and type(a) is float and a == 0 and math.copysign(1.0, a) < 0:
            return b
    return None


def _resolve(mapping, v):
    while v.id in mapping:
        v = mapping[v.id]
    return v


def _bypass(mapping, outputs, written, node, x) -> bool:
    """Let node's users read x instead of node's output; False when not allowed."""
    x = _resolve(mapping, x)
    out = node.outputs[0]
    if x.id in written:
        return False
    if out.id in outputs:
        if x.kind != "node":
            return False
        outputs.add(x.id)                   # x is now returned: never bypass it to an input
    mapping[out.id] = x
    return True


def run(graph: Graph, *, max_rounds: int = 4) -> Graph:
    ew, sh = _ops()
    written = mutated_values(graph)
    outputs = {v.id for v in graph.outputs}
    views = (sh.View, sh.ReshapeCopy)

    def producer(v, ops):
        if isinstance(v, Value) and v.kind == "node" and v.node.op in ops and \
                v.id not in written and not v.node.inplace:
            return v.node
        return None

    for _ in range(max_rounds):
        mapping: dict[int, Value] = {}
        changed = False

        for node in graph.nodes:
            if node.inplace or len(node.outputs) != 1 or node.outputs[0].id in written:
                continue
            ins = node.inputs
            x = ins[0] if ins and isinstance(ins[0], Value) else None
            if x is None or x.id in written:
                continue
            x = _resolve(mapping, x)
            op = node.op
            out = node.outputs[0]
            if op is sh.Permute:
                dims = tuple(node.attrs["dims"])
                inner = producer(x, (sh.Permute,))
                if inner is not None:
                    dims = tuple(inner.attrs["dims"][d] for d in dims)
                    x = inner.inputs[0]
                    node.inputs[0] = x
                    node.attrs["dims"] = dims
                    changed = True
                if dims == tuple(range(len(dims))) and _bypass(mapping, outputs, written, node, x):
                    changed = True
            elif op in views:
                inner = producer(x, views)
                if inner is not None:
                    if inner.op is sh.ReshapeCopy:
                        node.op = sh.ReshapeCopy
                    x = inner.inputs[0]
                    node.inputs[0] = x
                    changed = True
                same = tuple(node.attrs.get("shape", ())) == tuple(out.shape) == tuple(x.shape)
                if same and _bypass(mapping, outputs, written, node, x):
                    changed = True
            elif op is sh.Expand:
                if tuple(out.shape) == tuple(x.shape) and \
                        _bypass(mapping, outputs, written, node, x):
                    changed = True
            elif op is ew.Neg:
                inner = producer(x, (ew.Neg,))
                y = inner.inputs[0] if inner is not None else None
                if isinstance(y, Value) and y.dtype == out.dtype and \
                        _bypass(mapping, outputs, written, node, y):
                    changed = True
            else:
                y = _identity_operand(node, ew)
                if y is not None and y.dtype == out.dtype and \
                        tuple(y.shape) == tuple(out.shape) and \
                        _bypass(mapping, outputs, written, node, y):
                    changed = True
        substitute(graph, mapping)
        if not changed:
            break
    return graph

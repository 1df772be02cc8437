"""The backward engine: iterative, dependency-counted, with hooks and saved-tensor release.

Note [Engine order]
    Discovery walks the graph from the roots with an explicit stack (no recursion, so a
    100,000-op chain works) and counts, for every node, the edges that point into it. A node
    runs once all of its consumers have delivered their gradients, which are summed per
    output in its ``pending`` entry. Only leaves accumulate into ``.grad``; intermediate
    gradients live in the entries of one call and are dropped after it, so backward is
    repeatable.
"""

from __future__ import annotations

import numpy as np

from .. import _autocast, _dispatch
from .._dispatch import AccumulateGrad, Node, grad_edge
from .._tensor import Tensor
from .grad_mode import flags as _anomaly_flags
from .grad_mode import state as _grad_state

__all__ = ["run_backward", "register_tensor_hook"]


def register_tensor_hook(t, hook):
    from ..utils.hooks import RemovableHandle
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is None:
        if t._hooks is None:
            t._hooks = {}
        handle = RemovableHandle(t._hooks)
        t._hooks[handle.id] = hook
        return handle
    node = t.grad_fn
    node._special = True
    if node._pre_hooks is None:
        node._pre_hooks = {}
    handle = RemovableHandle(node._pre_hooks)
    node._pre_hooks[handle.id] = (t._out_nr, hook)
    return handle


def _discover(roots):
    """For every node reachable from roots, its entry: ``[grad_0, ..., grad_{n-1}, count]``,
    the gradients arriving for each of its outputs and the number of edges pointing into it."""
    pending = {}
    for r in roots:
        pending[r] = [None] * r._n_out + [0]
    stack = list(roots)
    while stack:
        node = stack.pop()
        for nxt in node.next_nodes:
            if nxt is None:
                continue
            entry = pending.get(nxt)
            if entry is None:
                pending[nxt] = [None, 1] if nxt._n_out == 1 else [None] * nxt._n_out + [1]
                stack.append(nxt)
            else:
                entry[-1] += 1
    return pending


def _needed(roots, targets, seen):
    """Nodes on a path from a root to a target, the target itself excluded unless it lies on
    the path to another: the only nodes autograd.grad must run (a non-leaf target's own node
    does not run, so what it saved stays for a later backward)."""
    # Reverse the reachable graph, then walk back from the targets.
    parents = {}
    for node in seen:
        for nxt in node.next_nodes:
            if nxt is not None:
                parents.setdefault(nxt, []).append(node)
    needed = set()
    stack = [t for t in targets if t in seen]
    while stack:
        node = stack.pop()
        for p in parents.get(node, ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def _add_grads(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None,
                 accumulate=True, allow_unused=True):
    """Backpropagate grad_tensors from tensors. With inputs, returns their gradients (and,
    with accumulate=True, only those leaves accumulate)."""
    roots = []
    root_grads = []
    for t, g in zip(tensors, grad_tensors):
        if not t._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        roots.append(grad_edge(t))
        root_grads.append(g)

    root_nodes = []
    for node, _ in roots:
        if node not in root_nodes:
            root_nodes.append(node)
    pending = _discover(root_nodes)

    captures = None
    needed = None
    if inputs is not None:
        captures = {}
        target_nodes = []
        for i, t in enumerate(inputs):
            if t.grad_fn is None and not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = grad_edge(t)
            captures.setdefault(node, []).append((nr, i))
            target_nodes.append(node)
        needed = _needed(root_nodes, target_nodes, pending)
        results = [None] * len(inputs)

    for (node, nr), g in zip(roots, root_grads):
        entry = pending[node]
        entry[nr] = _add_grads(entry[nr], g)

    ready = [n for n in root_nodes if pending[n][-1] == 0]
    prev_mode, prev_partial = _grad_state.enabled, _grad_state.partial_backward
    _grad_state.enabled = bool(create_graph)
    _grad_state.partial_backward = inputs is not None
    fast = captures is None and not _anomaly_flags.anomaly
    amp_regions = None
    if _autocast.active[0]:     # backward runs each op in its forward's dtype: no autocast
        amp_regions, _autocast.state.dtypes = _autocast.state.dtypes, {}
    try:
        while ready:
            node = ready.pop()
            entry = pending.pop(node)
            if fast and type(node) is Node and not node._special:
                # The common node: one output, no hooks, no casts (see _run_node for all).
                g = entry[0]
                out = None
                if g is not None:
                    out = node.op.backward(node, g)
                    if not retain_graph and node._saved_resolved is not None:
                        node._saved_resolved = None
                        node._freed = True
                    if type(out) is not tuple:
                        out = (out,)
                    if len(out) < len(node.next_nodes):
                        _wrong_count(node, out)
            else:
                del entry[-1]
                out = _run_node(node, entry, retain_graph, create_graph, captures, needed,
                                results if captures is not None else None, accumulate)
            # Deliver the gradients; a node is ready once every edge into it has delivered.
            if out is None:
                for nxt in node.next_nodes:
                    if nxt is not None:
                        entry = pending[nxt]
                        left = entry[-1] - 1
                        entry[-1] = left
                        if left == 0:
                            ready.append(nxt)
                continue
            for nxt, nr, g in zip(node.next_nodes, node.next_nrs, out):
                if nxt is None:
                    continue
                entry = pending[nxt]
                if g is not None:
                    cur = entry[nr]
                    entry[nr] = g if cur is None else _sum_grads(cur, g)
                left = entry[-1] - 1
                entry[-1] = left
                if left == 0:
                    ready.append(nxt)
    finally:
        _grad_state.enabled = prev_mode
        _grad_state.partial_backward = prev_partial
        if amp_regions is not None:
            _autocast.state.dtypes = amp_regions
    if captures is not None:
        return results
    return None


def _sum_grads(a, b):
    """a + b for two gradients of one tensor: outside graph recording (the usual case) the sum
    of the arrays, without apply's dispatch; that is all ``a + b`` would do then."""
    x = a._data
    y = b._data
    if a._rg or b._rg or _dispatch.observers or type(x) is not type(y) or x.dtype is not y.dtype \
            or x.shape != y.shape:
        return a + b
    s = x + y
    if type(s) is not type(x):          # NumPy's sum of 0-d arrays is a NumPy scalar
        s = np.asarray(s)
    return Tensor._make(s)


def _wrong_count(node, out):
    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                       f"(expected {len(node.next_nodes)}, got {len(out)})")


def _run_node(node, grads, retain_graph, create_graph, captures, needed, results,
              accumulate):
    """Run one node with everything the fast loop skips; returns the gradients for
    ``node.next_nodes`` (one per edge, None where none flows), or None when nothing flows."""
    # PyTorch's order: tensor hooks on this node's outputs, then retain_grad (which sees the
    # tensor hooks' result), then the node's own pre-hooks.
    pre = node._pre_hooks
    if pre:
        for nr_hook in list(pre.values()):
            if isinstance(nr_hook, tuple):
                nr, hook = nr_hook
                if grads[nr] is not None:
                    new = hook(grads[nr])
                    if new is not None:
                        grads[nr] = new
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            if t is not None and grads[nr] is not None and t.grad_fn is node:
                g = grads[nr]
                if t._grad is None:
                    t._grad = g if create_graph else g.detach().clone()
                else:
                    t._grad = t._grad + g
    if pre:
        for hook in list(pre.values()):
            if not isinstance(hook, tuple):
                new = hook(tuple(grads))
                if new is not None:
                    grads = list(new)

    if captures is not None:
        caps = captures.get(node)
        if caps:
            for nr, i in caps:
                results[i] = _add_grads(results[i], grads[nr])

    if type(node) is AccumulateGrad:
        if captures is not None and not accumulate:
            return None
        t = node.variable
        if captures is not None and node not in captures:
            return None
        g = grads[0]
        if g is None:
            return None
        if t._hooks:
            for hook in list(t._hooks.values()):
                new = hook(g)
                if new is not None:
                    g = new
        _accumulate(t, g, create_graph)
        if t._post_acc_hooks:
            for hook in list(t._post_acc_hooks.values()):
                hook(t)
        return None

    if needed is not None and node not in needed:
        return None
    if all(g is None for g in grads):
        if not retain_graph:
            node.release()
        return None
    if node._out_meta is not None and getattr(node.op, "materialize_grads", True):
        grads = _materialize(node, grads)
    try:
        out = node.op.backward(node, *grads)
    except Exception as e:
        if _anomaly_flags.anomaly:
            from .anomaly import report_forward_trace
            report_forward_trace(node)
        raise e
    if type(out) is not tuple:
        out = (out,) if not isinstance(out, list) else tuple(out)
    if node._hooks:
        for hook in list(node._hooks.values()):
            new = hook(out, tuple(grads))
            if new is not None:
                out = tuple(new)
    if not retain_graph:
        node.release()
    if _anomaly_flags.anomaly:
        from .anomaly import check_nan
        check_nan(node, out)
    if len(out) < len(node.next_nodes):
        _wrong_count(node, out)
    casts = node._casts
    if casts is not None:
        out = list(out)
        for i, g in enumerate(out):
            if i in casts and g is not None and node.next_nodes[i] is not None \
                    and g._data.dtype != casts[i]:
                from .._dtype import from_numpy_dtype
                out[i] = g.to(from_numpy_dtype(casts[i]))
    return out


def _materialize(node, grads):
    """Zero gradients for differentiable outputs that received none (multi-output ops)."""
    from .._tensor import Tensor
    grads = list(grads)
    for i, (shape, dtype, diff) in enumerate(node._out_meta):
        if grads[i] is None and diff:
            grads[i] = Tensor._make(node.xp.zeros(shape, dtype=dtype))
    return grads


def _accumulate(t, g, create_graph):
    if g._data.shape != t._data.shape:
        if g._data.size == t._data.size:
            g = g.reshape(t._data.shape)
        else:
            raise RuntimeError(f"AccumulateGrad: gradient of shape {tuple(g.shape)} does not "
                               f"match its leaf of shape {tuple(t.shape)}")
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    cur = t._grad
    if cur is None:
        if create_graph:
            t._grad = g
        else:
            # Own the memory: the incoming gradient may alias a user's tensor, a view, or
            # the gradient given to another leaf (add's backward passes grad through).
            from .._tensor import Tensor
            t._grad = Tensor._make(g._data.copy())
    elif create_graph or cur._rg:
        t._grad = cur + g
    else:
        cur._data += g._data
        vc = cur._vc
        if vc is not None:
            vc.value += 1

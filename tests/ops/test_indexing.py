"""Indexing against PyTorch: hypothesis-generated index tuples for getitem/setitem (values,
shapes, grads), plus the cases the op table cannot express (dtype rules, warnings, views,
in-place history, errors of the setitem path, the CUDA fallback of ufunc.at)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from ember.ops import index as index_ops
from tests.oracle import assert_close, needs_torch, to_numpy, torch

SETTINGS = settings(deadline=None, max_examples=60, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


# -- strategies ----------------------------------------------------------------------------------

@st.composite
def shapes(draw):
    return tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))


@st.composite
def index_items(draw, shape):
    """A tuple of (kind, payload) items valid for shape; arrays are NumPy (converted per
    library later)."""
    items = []
    dim = 0
    ellipsis_used = False
    n_items = draw(st.integers(1, len(shape) + 1))
    for _ in range(n_items):
        left = len(shape) - dim
        choices = ["none"]
        if left > 0:
            choices += ["int", "slice", "array", "mask"]
        if not ellipsis_used:
            choices.append("ellipsis")
        kind = draw(st.sampled_from(choices))
        if kind == "none":
            items.append(("none", None))
        elif kind == "ellipsis":
            ellipsis_used = True
            items.append(("ellipsis", None))
            # Dims an ellipsis spans are unknown here: stop adding dim-consuming items after it
            # except from the end, which is still valid because we count from the front.
            dim = len(shape) - builtin_remaining(draw, shape, dim)
        else:
            size = shape[dim]
            if kind == "int":
                items.append(("int", draw(st.integers(-size, size - 1))))
                dim += 1
            elif kind == "slice":
                start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
                stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
                step = draw(st.one_of(st.none(), st.integers(1, 3)))
                items.append(("slice", slice(start, stop, step)))
                dim += 1
            elif kind == "array":
                ashape = draw(st.sampled_from([(2,), (1,), (2, 2), (3,)]))
                vals = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(ashape)),
                                     max_size=int(np.prod(ashape))))
                items.append(("array", np.array(vals, dtype=np.int64).reshape(ashape)))
                dim += 1
            else:
                k = draw(st.integers(1, left))
                bits = draw(st.lists(st.booleans(), min_size=int(np.prod(shape[dim:dim + k])),
                                     max_size=int(np.prod(shape[dim:dim + k]))))
                items.append(("mask", np.array(bits, dtype=bool).reshape(shape[dim:dim + k])))
                dim += k
    return items


@st.composite
def mixed_items(draw):
    """Index tuples with at least one int and one integer tensor, in any order, with slices
    and None between them: where PyTorch and NumPy disagree (see Note [Indexing like
    PyTorch])."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=3, max_size=4)))
    n = len(shape)
    i_int, i_arr = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    items = []
    for d, size in enumerate(shape):
        kind = "int" if d == i_int else "array" if d == i_arr else draw(
            st.sampled_from(["int", "slice", "array", "mask"]))
        if draw(st.integers(0, 4)) == 0:
            items.append(("none", None))
        if kind == "int":
            items.append(("int", draw(st.integers(-size, size - 1))))
        elif kind == "slice":
            items.append(("slice", slice(draw(st.one_of(st.none(), st.integers(-size, size))),
                                         None, draw(st.integers(1, 2)))))
        elif kind == "array":
            vals = draw(st.lists(st.integers(-size, size - 1), min_size=2, max_size=2))
            items.append(("array", np.array(vals, dtype=np.int64)))
        else:
            items.append(("mask", np.array(draw(st.lists(st.booleans(), min_size=size,
                                                         max_size=size)))))
    if draw(st.booleans()):
        k = draw(st.integers(0, n - 1))
        if items[k][0] == "slice" and items[k][1] == slice(None, None, 1):
            items[k] = ("ellipsis", None)
    return shape, items


def builtin_remaining(draw, shape, dim):
    # After an ellipsis only the dims the ellipsis leaves free may be indexed; reserve 0 or 1.
    return draw(st.integers(0, min(1, len(shape) - dim)))


def _array_shapes_broadcast(items):
    shapes_ = []
    for kind, v in items:
        if kind == "array":
            shapes_.append(v.shape)
        elif kind == "mask":
            shapes_.append((int(v.sum()),))
    try:
        np.broadcast_shapes(*shapes_)
    except ValueError:
        return False
    return True


def _build(items, lib):
    out = []
    for kind, v in items:
        if kind in ("array", "mask"):
            out.append(lib.tensor(v) if lib is ember else torch.from_numpy(v.copy()))
        elif kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        else:
            out.append(v)
    return tuple(out)


def _ref_result(x, items):
    try:
        return x[_build(items, torch)], None
    except (IndexError, RuntimeError, ValueError) as e:
        return None, e


# -- property tests ------------------------------------------------------------------------------

@needs_torch
@SETTINGS
@given(st.data())
def test_getitem_matches_torch(data):
    shape = data.draw(shapes())
    items = data.draw(index_items(shape))
    x_np = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    want, err = _ref_result(torch.from_numpy(x_np), items)
    x = ember.tensor(x_np)
    if err is not None:
        with pytest.raises(type(err)):
            x[_build(items, ember)]
        return
    got = x[_build(items, ember)]
    assert tuple(got.shape) == tuple(want.shape), f"{items}: {got.shape} vs {want.shape}"
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want), err_msg=str(items))


@needs_torch
@SETTINGS
@given(st.data())
def test_getitem_grad_matches_torch(data):
    shape = data.draw(shapes())
    items = data.draw(index_items(shape))
    if not _array_shapes_broadcast(items):
        return
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape)
    tx = torch.from_numpy(x_np.copy()).requires_grad_()
    want, err = _ref_result(tx, items)
    if err is not None:
        return
    ex = ember.tensor(x_np, requires_grad=True)
    got = ex[_build(items, ember)]
    cot = rng.standard_normal(tuple(want.shape))
    want.backward(torch.from_numpy(cot))
    got.backward(ember.tensor(cot))
    assert_close(ex.grad, tx.grad, msg=str(items))


@needs_torch
@SETTINGS
@given(st.data())
def test_setitem_matches_torch(data):
    shape = data.draw(shapes())
    items = data.draw(index_items(shape))
    if not _array_shapes_broadcast(items):
        return
    x_np = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    tx = torch.from_numpy(x_np.copy())
    probe, err = _ref_result(tx, items)
    if err is not None:
        return
    has_adv = any(k in ("array", "mask") for k, _ in items)
    if has_adv and data.draw(st.booleans()):
        value_np = -1.5                        # repeated indices: only a number is deterministic
    else:
        value_np = -np.arange(probe.numel(), dtype=np.float64).reshape(tuple(probe.shape)) - 1
        if has_adv:
            _, uniq = np.unique(to_numpy(torch.arange(tx.numel()).reshape(shape)
                                         [_build(items, torch)]), return_counts=True)
            if uniq.size and uniq.max() > 1:
                value_np = -1.5
    ex = ember.tensor(x_np)
    tvalue = value_np if isinstance(value_np, float) else torch.from_numpy(value_np)
    evalue = value_np if isinstance(value_np, float) else ember.tensor(value_np)
    tx[_build(items, torch)] = tvalue
    ex[_build(items, ember)] = evalue
    np.testing.assert_array_equal(to_numpy(ex), to_numpy(tx), err_msg=str(items))


@needs_torch
@SETTINGS
@given(mixed_items(), st.booleans())
def test_getitem_setitem_mixed_int_and_tensor_match_torch(case, use_grad):
    shape, items = case
    if not _array_shapes_broadcast(items):
        return
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(shape)
    tx = torch.from_numpy(x_np.copy()).requires_grad_(use_grad)
    want = tx[_build(items, torch)]
    ex = ember.tensor(x_np, requires_grad=use_grad)
    got = ex[_build(items, ember)]
    assert tuple(got.shape) == tuple(want.shape), f"{items}: {got.shape} vs {want.shape}"
    assert_close(got, want, msg=str(items))
    if use_grad:
        cot = rng.standard_normal(tuple(want.shape))
        want.backward(torch.from_numpy(cot))
        got.backward(ember.tensor(cot))
        assert_close(ex.grad, tx.grad, msg=str(items))
    else:
        tx[_build(items, torch)] = 7.0
        ex[_build(items, ember)] = 7.0
        assert_close(ex, tx, msg=str(items))


# -- getitem: fixed cases ------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("index", [
    "0, :, [1, 2]", "None, 0, :, [1, 2]", "0, ..., [1, 2]", "[1, 0], ..., 0",
    "[[0, 1], [1, 0]], :, [1, 2]", "..., None, [0, 1]", "True", "False", "None, True",
    "0, [1], 0", "[0, 1], None, [0, 1]", ":, [True, False, True], [0, 1]",
    "TI(1), :, [1, 2]", "TB(True)", "1:0", "::2, -1", "...",
])
def test_getitem_index_forms_match_torch(index):
    x_np = np.arange(24.0).reshape(2, 3, 4)

    def run(lib, x):
        env = {"x": x, "TI": lambda v: lib.tensor(v), "TB": lambda v: lib.tensor(v)}
        return eval(f"x[{index}]", env)
    want = run(torch, torch.from_numpy(x_np))
    got = run(ember, ember.tensor(x_np))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def test_getitem_basic_is_view():
    x = ember.arange(12.0).reshape(3, 4)
    v = x[1, ::2]
    v[0] = 100.0
    assert x[1, 0].item() == 100.0
    assert v._base is (x._base if x._base is not None else x)


def test_getitem_advanced_is_copy():
    x = ember.arange(12.0).reshape(3, 4)
    c = x[[1, 2]]
    c[0, 0] = -1.0
    assert x[1, 0].item() == 4.0


@needs_torch
def test_getitem_nested_list_reads_as_tuple_with_warning():
    x_np = np.arange(12.0).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        got = ember.tensor(x_np)[[[0, 1], [1, 0]]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.from_numpy(x_np)[[[0, 1], [1, 0]]]
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


def test_getitem_uint8_mask_warns_and_masks():
    x = ember.arange(4.0)
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        got = x[ember.tensor([1, 0, 1, 0], dtype=ember.uint8)]
    assert got.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("index,exc,msg", [
    ((slice(None), 4), IndexError, "index 4 is out of bounds for dimension 1 with size 4"),
    ((1.5,), IndexError, "only integers, slices"),
    ((Ellipsis, Ellipsis), IndexError, "single ellipsis"),
    (([0, 1], [0, 1, 2]), IndexError, "shape mismatch"),
    ((slice(None), slice(None), [0]), IndexError, "too many indices"),
])
def test_getitem_errors(index, exc, msg):
    x = ember.zeros(3, 4)
    with pytest.raises(exc, match=msg):
        x[index]


def test_getitem_zero_dim_int_error():
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        ember.tensor(1.0)[0]


# -- setitem -------------------------------------------------------------------------------------

@needs_torch
def test_setitem_grads_to_value_and_base():
    rng = np.random.default_rng(3)
    x_np, v_np = rng.standard_normal((4, 5)), rng.standard_normal((2, 1))
    cot = rng.standard_normal((4, 5))
    results = []
    for lib in (ember, torch):
        x = lib.tensor(x_np, requires_grad=True)
        v = lib.tensor(v_np, requires_grad=True)
        y = x * 2
        y[[3, 0], 1:] = v                    # advanced + slice, value broadcast
        y[1, ::2] = v[0, 0] * 3              # basic view, 0-d value
        y.backward(lib.tensor(cot))
        results.append((y, x.grad, v.grad))
    for got, want in zip(results[0], results[1]):
        assert_close(got, want)


@needs_torch
def test_setitem_mask_grad():
    rng = np.random.default_rng(4)
    x_np, cot = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out = []
    for lib in (ember, torch):
        x = lib.tensor(x_np, requires_grad=True)
        v = lib.tensor(2.0, requires_grad=True)
        y = x.clone()
        y[x > 0] = v
        y.backward(lib.tensor(cot))
        out.append((y, x.grad, v.grad))
    for got, want in zip(*out):
        assert_close(got, want)


@needs_torch
def test_setitem_value_dtypes_follow_torch():
    # basic index: the value is cast; advanced index: the dtypes must match (Python numbers
    # are always cast).
    for lib in (ember, torch):
        z = lib.zeros(3, dtype=lib.int64)
        z[1] = 2.7
        z[[2]] = 3.9
        assert z.tolist() == [0, 2, 3]
        y = lib.zeros(2, 3)
        y[0] = lib.ones(3, dtype=lib.float64)
        assert y.dtype == lib.float32 and y[0].tolist() == [1.0, 1.0, 1.0]
        with pytest.raises(RuntimeError, match="Index put requires the source and destination"):
            y[[0, 1]] = lib.ones(3, dtype=lib.float64)


def test_setitem_leaf_requires_grad_refused():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[[0]] = 1.0


def test_setitem_list_value_type_error():
    x = ember.zeros(3)
    with pytest.raises(TypeError, match="can't assign a list"):
        x[0] = [1.0]


def test_setitem_bumps_version():
    x = ember.zeros(3)
    v0 = x._version
    x[[0, 2]] = 1.0
    x[1] = 2.0
    assert x._version >= v0 + 2
    assert x.tolist() == [1.0, 2.0, 1.0]


# -- op behaviour the table cannot express -------------------------------------------------------

@needs_torch
def test_scatter_src_larger_than_index_and_value_form():
    x_np = np.zeros((3, 4))
    src = np.arange(20.0).reshape(4, 5)
    idx = np.array([[2, 0, 1]])
    got = ember.tensor(x_np).scatter(0, ember.tensor(idx), ember.tensor(src))
    want = torch.from_numpy(x_np).scatter(0, torch.from_numpy(idx), torch.from_numpy(src))
    assert_close(got, want)
    got = ember.tensor(x_np).scatter(1, ember.tensor(idx), value=-3)
    want = torch.from_numpy(x_np).scatter(1, torch.from_numpy(idx), value=-3)
    assert_close(got, want)


def test_scatter_src_larger_than_index_grad_is_zero_padded():
    src = ember.ones(3, 4, requires_grad=True)
    out = ember.zeros(3, 4).scatter_add(0, ember.tensor([[0, 2]]), src)
    out.sum().backward()
    want = np.zeros((3, 4))
    want[0, :2] = 1
    np.testing.assert_array_equal(src.grad.numpy(), want)


def test_scatter_reduce_arg_has_no_derivative():
    x = ember.ones(3, requires_grad=True)
    y = x.scatter(0, ember.tensor([0]), ember.ones(1), reduce="add")
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        y.sum().backward()


@needs_torch
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_int64_and_ties(reduce, include_self):
    x_np = np.array([[3, -7, 2], [4, 4, -1]], dtype=np.int64)
    src_np = np.array([[5, -2, 2], [4, 9, -8]], dtype=np.int64)
    idx = np.array([[0, 0, 2], [0, 1, 1]])
    args = (1, idx, src_np, reduce)
    got = ember.tensor(x_np).scatter_reduce(1, ember.tensor(idx), ember.tensor(src_np), reduce,
                                            include_self=include_self)
    want = torch.from_numpy(x_np).scatter_reduce(1, torch.from_numpy(idx),
                                                 torch.from_numpy(src_np), reduce,
                                                 include_self=include_self)
    assert str(got.dtype) == str(want.dtype), args
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))
    # Ties (equal values) share amax/amin gradients evenly, like torch.
    xf, sf = x_np.astype(np.float64), src_np.astype(np.float64)
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(xf, requires_grad=True)
        s = lib.tensor(sf, requires_grad=True)
        out = x.scatter_reduce(1, lib.tensor(idx), s, reduce, include_self=include_self)
        out.backward(lib.tensor(np.arange(6.0).reshape(2, 3) + 1))
        grads.append((out, x.grad, s.grad))
    for got, want in zip(*grads):
        assert_close(got, want)


def test_ufunc_at_rounds_matches_numpy():
    # The CUDA fallback for ufunc.at, run on NumPy: same result as np.<ufunc>.at.
    rng = np.random.default_rng(5)
    for kind in ("multiply", "maximum", "add"):
        out = rng.standard_normal((4, 5))
        want = out.copy()
        idx = (rng.integers(0, 4, (3, 6)), rng.integers(0, 5, (1, 6)))
        vals = rng.standard_normal((3, 6))
        getattr(np, kind).at(want, idx, vals)
        index_ops._ufunc_at_rounds(np, getattr(np, kind), out, idx, vals)
        np.testing.assert_allclose(out, want)
    # Slices, masks and negative indices, into a non-contiguous target.
    base = rng.standard_normal((5, 4))
    out, want = base.T, base.T.copy()
    for index in [(slice(None), np.array([0, -1, 0])), (np.array([3, 3]),),
                  (np.array([True, False, True, True]), slice(1, None))]:
        vals = rng.standard_normal(want[index].shape)
        np.add.at(want, index, vals)
        index_ops._ufunc_at_rounds(np, np.add, out, index, vals)
        np.testing.assert_allclose(out, want)
    np.testing.assert_allclose(base.T, want)


@pytest.mark.gpu
def test_index_ops_cuda_match_cpu():
    rng = np.random.default_rng(7)
    x_np = rng.standard_normal((4, 5)).astype(np.float32)
    idx_np = rng.integers(0, 4, (3, 5))
    i_np = rng.integers(0, 5, (6,))
    res = []
    for dev in ("cpu", "cuda"):
        x = ember.tensor(x_np, device=dev, requires_grad=True)
        xi = ember.tensor((x_np * 10).astype(np.int64), device=dev)
        idx = ember.tensor(idx_np, device=dev)
        i = ember.tensor(i_np, device=dev)
        outs = [
            x[ember.tensor([0, 2])],                     # cpu index into a cuda tensor
            x[1, :, None][[0, 0, 3]], x[x > 0], x.gather(0, idx),
            x.scatter_reduce(0, idx, x[:3] * 2, "prod", include_self=False),
            x.scatter_reduce(0, idx, x[:3], "amax"),
            x.index_add(1, i, ember.ones(4, 6, device=dev)),
            x.masked_fill(x < 0, 0.5), x.masked_scatter(x > 0, x.flatten() * 3),
            x.take(ember.tensor([[0, -1]], device=dev)), x.take_along_dim(idx[:1], 0),
            x.put(ember.tensor([3, 3], device=dev), ember.ones(2, device=dev),
                  accumulate=True),
            xi.scatter_reduce(0, idx, xi[:3], "prod"), xi.scatter_add(0, idx, xi[:3]),
            xi.index_put((ember.tensor([0, 3, 3], device=dev),), ember.tensor(7, device=dev),
                         accumulate=True),
            xi.scatter(0, idx[:1], 3, reduce="multiply"),
            ember.nonzero(x > 0), ember.argwhere(xi),
        ]
        y = x * 1
        y[0, [1, 1, 3]] = ember.tensor(2.0, device=dev)
        y[x > 1] = -1.0
        outs.append(y)
        total = builtin_sum(o.float().sum() for o in outs if o.is_floating_point())
        total.backward()
        outs.append(x.grad)
        res.append([o.detach().cpu().numpy() for o in outs])
    for k, (c, g) in enumerate(zip(*res)):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-5, err_msg=f"output {k}")


def builtin_sum(items):
    total = 0
    for t in items:
        total = total + t
    return total


@needs_torch
def test_zero_dim_index_ops_match_torch():
    for lib in (ember, torch):
        x = lib.tensor(3.0)
        assert x.gather(0, lib.tensor(0)).item() == 3.0
        assert x.index_select(0, lib.tensor([0])).shape == ()
        assert x.index_fill(0, lib.tensor([0]), 1.0).item() == 1.0
        assert x.index_add(0, lib.tensor([0]), lib.tensor(2.0)).item() == 5.0
        with pytest.raises(RuntimeError, match="source tensor shape must match self"):
            x.index_add(0, lib.tensor([0]), lib.tensor([2.0]))
        assert lib.nonzero(x).shape == (1, 0)
        assert lib.nonzero(x, as_tuple=True)[0].tolist() == [0]
        assert lib.masked_select(x, lib.tensor([True, False, True])).tolist() == [3.0, 3.0]


@needs_torch
def test_masked_fill_value_dtype_and_grad():
    rng = np.random.default_rng(6)
    x_np = rng.standard_normal((3, 4))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x_np, requires_grad=True)
        v = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        y = x.float().masked_fill(x > 0, v)
        y.backward(lib.ones(3, 4))
        res.append((y, x.grad, v.grad))
        assert y.dtype == lib.float32 and v.grad.dtype == lib.float64
        z = lib.tensor([1, 2, 3]).masked_fill(lib.tensor([True, False, True]), 2.7)
        assert z.tolist() == [2, 2, 2] and z.dtype == lib.int64
    for got, want in zip(*res):
        assert_close(got, want, rtol=1e-6, atol=1e-6)


def test_masked_fill_inplace_keeps_shape_and_bumps_version():
    x = ember.zeros(2, 3)
    x.masked_fill_(ember.tensor([True, False, True]), 4.0)
    assert x.tolist() == [[4.0, 0.0, 4.0], [4.0, 0.0, 4.0]]
    assert x._version == 1


@needs_torch
def test_nonzero_where_one_argument():
    x_np = np.array([[0.0, 1.0], [2.0, 0.0]])
    got = ember.where(ember.tensor(x_np) > 0.5)
    want = torch.where(torch.from_numpy(x_np) > 0.5)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == ember.int64
        np.testing.assert_array_equal(to_numpy(g), to_numpy(w))


def test_index_add_accumulates_repeats_and_alpha():
    x = ember.zeros(3, 2)
    x.index_add_(0, ember.tensor([0, 0, 2]), ember.ones(3, 2), alpha=-2)
    assert x.tolist() == [[-4.0, -4.0], [0.0, 0.0], [-2.0, -2.0]]


def test_index_put_accumulate_inplace_on_view_tracks_grad():
    x = ember.zeros(2, 3, requires_grad=True)
    y = x * 1
    row = y[1]
    row.index_put_((ember.tensor([0, 0]),), ember.tensor(5.0), accumulate=True)
    assert y[1].tolist() == [10.0, 0.0, 0.0]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_index_ops_are_tensor_methods_and_exports():
    names = ["gather", "scatter", "scatter_", "scatter_add", "scatter_add_", "scatter_reduce",
             "scatter_reduce_", "index_select", "index_add", "index_add_", "index_copy",
             "index_copy_", "index_fill", "index_fill_", "index_put", "index_put_",
             "index_reduce", "index_reduce_", "masked_fill", "masked_fill_", "masked_scatter",
             "masked_scatter_", "masked_select", "take", "take_along_dim", "put", "put_",
             "nonzero", "argwhere"]
    for n in names:
        assert callable(getattr(ember.Tensor, n)), n
    for n in ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select",
              "index_add", "index_copy", "index_fill", "index_put", "index_put_",
              "index_reduce", "masked_fill", "masked_scatter", "masked_select", "take",
              "take_along_dim", "put", "nonzero", "argwhere"]:
        assert callable(getattr(ember, n)), n


def test_gather_on_views_and_noncontiguous():
    x = ember.arange(12.0).reshape(3, 4).t()      # (4, 3), non-contiguous
    idx = ember.tensor([[2, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(x.gather(0, idx).numpy(),
                                  np.take_along_axis(x.numpy(), idx.numpy(), 0))

"""View semantics of the shape ops (shared memory, shared version counter, PyTorch's strides
and storage offsets, in-place through views with autograd) and the shape helpers the table
cannot express."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops.shape import is_channels_last
from tests.oracle import assert_close, needs_torch, to_torch, torch

# (name, fn) where fn works on ember and torch tensors alike; every result is a view in PyTorch.
VIEWS = [
    ("view", lambda x: x.view(4, 6)),
    ("view_as", lambda x: x.view_as(x.new_zeros(2, 12))),
    ("reshape", lambda x: x.reshape(6, 4)),
    ("permute", lambda x: x.permute(2, 0, 1)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("swapaxes", lambda x: x.swapaxes(1, 2)),
    ("mT", lambda x: x.mT),
    ("flatten", lambda x: x.flatten(1)),
    ("unflatten", lambda x: x.unflatten(2, (2, 2))),
    ("ravel", lambda x: x.ravel()),
    ("squeeze", lambda x: x[:1].squeeze(0)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("narrow", lambda x: x.narrow(1, 1, 2)),
    ("select", lambda x: x.select(2, 3)),
    ("split", lambda x: x.split(2, 2)[1]),
    ("split_sizes", lambda x: x.split([1, 2], 1)[1]),
    ("chunk", lambda x: x.chunk(3, 1)[2]),
    ("tensor_split", lambda x: x.tensor_split([1, 3], 2)[1]),
    ("unbind", lambda x: x.unbind(1)[1]),
    ("diagonal", lambda x: x.diagonal(1, 1, 2)),
    ("diagonal_neg", lambda x: x.diagonal(-1, 2, 0)),
    ("unfold", lambda x: x.unfold(2, 2, 2)),
    ("unfold_overlap", lambda x: x.unfold(2, 3, 1)),
    ("as_strided", lambda x: x.as_strided((3, 2), (4, 5), 2)),
    ("movedim", lambda x: x.movedim(0, -1)),
    ("moveaxis", lambda x: x.moveaxis((0, 1), (1, 2))),
    ("T", lambda x: x.view(6, 4).T),
    ("atleast_3d", lambda x: x.select(0, 0).select(0, 0).unsqueeze(0)),
    ("contiguous", lambda x: x.contiguous()),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_view_shares_memory_and_version(name, fn):
    x = ember.arange(24.0).reshape(2, 3, 4)
    v = fn(x)
    assert v.numel() > 0
    before = x._version
    v.mul_(0).add_(-1)      # writing through the view changes the base
    if name not in ("unfold_overlap", "as_strided"):     # those views overlap themselves
        assert (x == -1).sum().item() == v.numel()
    assert x._version > before and v._version == x._version
    x.add_(1)               # and writing to the base changes the view
    assert v._version == x._version
    assert bool((v == 0).all())


@needs_torch
@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_view_strides_match_torch(name, fn):
    x = ember.arange(24.0).reshape(2, 3, 4)
    tx = torch.arange(24.0).reshape(2, 3, 4)
    v, tv = fn(x), fn(tx)
    assert tuple(v.shape) == tuple(tv.shape)
    assert v.stride() == tv.stride(), f"{name}: strides {v.stride()} vs torch's {tv.stride()}"
    assert v.storage_offset() == tv.storage_offset()
    assert_close(v, tv)


def test_view_is_a_view_of_a_view():
    x = ember.arange(24.0).reshape(4, 6)
    v = x.narrow(0, 1, 2).diagonal(1).unsqueeze(0)
    v[0, 0] = 100.0
    assert x[1, 1].item() == 100.0
    assert v._base is x._base


def test_view_on_non_viewable_layout_raises():
    x = ember.ones(4, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's "
                                           r"size and stride .*Use \.reshape\(\.\.\.\) instead"):
        x.view(12)
    assert x.reshape(12).shape == (12,)          # reshape copies instead
    assert x.view(3, 4).shape == (3, 4)          # no change of layout: still a view


@needs_torch
def test_view_of_transposed_split_dims_matches_torch():
    x = ember.arange(24.0).reshape(2, 3, 4).transpose(0, 1)      # (3, 2, 4)
    tx = torch.arange(24.0).reshape(2, 3, 4).transpose(0, 1)
    v, tv = x.view(3, 2, 2, 2), tx.view(3, 2, 2, 2)
    assert v.stride() == tv.stride()
    assert_close(v, tv)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view(3, 8)
    with pytest.raises(RuntimeError):
        tx.view(3, 8)


def test_view_dtype_errors():
    x = ember.zeros(3, dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="self.size\\(-1\\) must be divisible by 2 to view "
                                           "Byte as Short"):
        x.view(ember.int16)
    with pytest.raises(RuntimeError, match="self.dim\\(\\) cannot be 0"):
        ember.zeros((), dtype=ember.uint8).view(ember.int16)
    y = ember.zeros(4, dtype=ember.uint8).view(ember.int16)
    assert y.shape == (2,) and y.dtype is ember.int16


@needs_torch
@pytest.mark.parametrize("make", [
    lambda y: y.narrow(0, 1, 2),
    lambda y: y.diagonal(),
    lambda y: y.select(1, 2),
    lambda y: y.unfold(1, 2, 2),
    lambda y: y.T,
    lambda y: y.as_strided((2, 2), (1, 3), 1),
], ids=["narrow", "diagonal", "select", "unfold", "T", "as_strided"])
def test_inplace_on_view_grads_match_torch(make):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    w = rng.standard_normal((4, 4))
    results = []
    for mod in (ember, torch):
        x = mod.tensor(a, requires_grad=True)
        y = x * 1
        v = make(y)
        v.mul_(3).add_(1)                  # in place through the view
        (y * y * mod.tensor(w)).sum().backward()
        results.append(x.grad)
    assert_close(*results)


@needs_torch
def test_base_modified_after_view_grads_match_torch():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3))
    results = []
    for mod in (ember, torch):
        x = mod.tensor(a, requires_grad=True)
        y = x * 1
        v = y.narrow(0, 1, 2)
        d = y.diagonal()
        y.mul_(2)                          # the views' history must follow the base
        (v * v).sum().add((d * 3).sum()).backward()
        results.append(x.grad)
    assert_close(*results)


def test_split_outputs_are_independent_views():
    x = ember.zeros(6)
    a, b, c = x.chunk(3)
    b.fill_(1)
    c[1] = 2
    assert x.tolist() == [0, 0, 1, 1, 0, 2]
    assert a._version == x._version


def test_chunk_split_unbind_return_tuples():
    x = ember.arange(6.0)
    assert isinstance(ember.chunk(x, 2), tuple)
    assert isinstance(ember.split(x, 4), tuple)
    assert isinstance(x.split([2, 4]), tuple)
    assert isinstance(x.unbind(), tuple)
    assert isinstance(ember.tensor_split(x, 4), tuple)
    assert [t.item() for t in x.reshape(3, 2)[:, 0]] == [0, 2, 4]
    assert [r.tolist() for r in x.reshape(3, 2)] == [[0, 1], [2, 3], [4, 5]]


@needs_torch
def test_tensor_split_with_tensor_indices():
    x = ember.arange(10.0)
    got = ember.tensor_split(x, ember.tensor([2, 5]))
    want = torch.tensor_split(torch.arange(10.0), torch.tensor([2, 5]))
    assert [g.tolist() for g in got] == [w.tolist() for w in want]
    got = ember.tensor_split(x, ember.tensor(3))
    assert [len(g) for g in got] == [4, 3, 3]


@needs_torch
def test_cat_promotes_like_torch():
    pairs = [(ember.int64, ember.float16), (ember.uint8, ember.int8), (ember.bool, ember.int32),
             (ember.float32, ember.float64), (ember.int32, ember.complex64)]
    for a, b in pairs:
        ta, tb = getattr(torch, a.name), getattr(torch, b.name)
        got = ember.cat([ember.ones(2, dtype=a), ember.ones(3, dtype=b)])
        want = torch.cat([torch.ones(2, dtype=ta), torch.ones(3, dtype=tb)])
        assert str(got.dtype) == str(want.dtype), (a, b)


def test_cat_errors():
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0"):
        ember.cat([ember.ones(2), 1])
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        ember.cat(3)


@needs_torch
def test_cat_out_resizes_like_torch():
    out = ember.empty(0)
    res = ember.cat([ember.ones(2, 2), ember.zeros(1, 2)], out=out)
    assert res is out and out.shape == (3, 2)
    assert out.tolist() == [[1, 1], [1, 1], [0, 0]]


def test_resize_keeps_leading_elements():
    x = ember.arange(6.0)
    x.resize_(2, 2)
    assert x.tolist() == [[0, 1], [2, 3]]
    x.resize_((2, 3))
    assert x.shape == (2, 3) and x.reshape(-1)[:4].tolist() == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="negative dimension"):
        x.resize_(-1)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        ember.ones(2, requires_grad=True).resize_(3)
    y = ember.ones(3)
    assert y.resize_as_(ember.zeros(1, 3)).shape == (1, 3)


@needs_torch
def test_new_empty_strided_matches_torch():
    x = ember.ones(2)
    t = x.new_empty_strided((2, 3), (1, 2), dtype=ember.float64)
    tt = torch.ones(2).new_empty_strided((2, 3), (1, 2), dtype=torch.float64)
    assert t.shape == tt.shape and t.stride() == tt.stride() and t.dtype is ember.float64


@needs_torch
@pytest.mark.parametrize("perm,shape", [((0, 2, 3, 1), (2, 3, 4, 5)), ((0, 1, 2, 3), (2, 3, 4, 5)),
                                        ((0, 2, 3, 1), (2, 1, 4, 5)), ((0, 2, 3, 4, 1),
                                                                       (2, 3, 2, 4, 5)),
                                        ((0, 2, 1), (2, 3, 4))])
def test_is_channels_last_matches_torch(perm, shape):
    nhwc = tuple(shape[p] for p in perm)
    inv = tuple(perm.index(i) for i in range(len(perm)))
    x = ember.zeros(*nhwc).permute(*inv)
    tx = torch.zeros(*nhwc).permute(*inv)
    fmt = torch.channels_last_3d if len(shape) == 5 else torch.channels_last
    want = tx.is_contiguous(memory_format=fmt) if len(shape) in (4, 5) else False
    assert is_channels_last(x) == want
    assert x.is_contiguous(memory_format="channels_last") == want


@needs_torch
def test_contiguous_channels_last_strides_match_torch():
    x = ember.arange(120.0).reshape(2, 3, 4, 5)
    tx = torch.arange(120.0).reshape(2, 3, 4, 5)
    y = x.contiguous(memory_format="torch.channels_last")
    ty = tx.contiguous(memory_format=torch.channels_last)
    assert y.stride() == ty.stride() and is_channels_last(y)
    assert_close(y, ty)


@needs_torch
def test_broadcast_shapes_matches_torch():
    cases = [((2, 1), (3,)), ((), (4, 1)), (5, (1, 5)), ((0, 1), (3,)), ((1,), (1, 1, 1))]
    for shapes in cases:
        assert tuple(ember.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    assert isinstance(ember.broadcast_shapes((2, 1), (3,)), ember.Size)
    with pytest.raises(RuntimeError, match="Shape mismatch: objects cannot be broadcast"):
        ember.broadcast_shapes((2, 3), (4,))


def test_broadcast_tensors_are_views():
    a, b = ember.broadcast_tensors(ember.ones(3, 1), ember.zeros(4))
    assert a.shape == b.shape == (3, 4)
    assert a.stride() == (1, 0) and b.stride() == (0, 1)


def test_meshgrid_without_indexing_warns():
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        x, y = ember.meshgrid(ember.arange(2), ember.arange(3))
    assert x.shape == (2, 3)
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        ember.meshgrid(ember.ones(2, 2), indexing="ij")


def test_T_warns_on_non_matrices():
    with pytest.warns(UserWarning, match="other than 2 to reverse their shape is deprecated"):
        assert ember.ones(2, 3, 4).T.shape == (4, 3, 2)
    with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
        ember.ones(()).T


@needs_torch
@pytest.mark.parametrize("name", ["H", "mH", "adjoint"])
def test_conjugate_transposes_of_complex_match_torch(name):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3)))
    w = (rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2)))
    x = ember.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    call = (lambda t: t.adjoint()) if name == "adjoint" else (lambda t: getattr(t, name))
    y, ty = call(x), call(tx)
    assert_close(y, ty.resolve_conj())
    (gx,) = ember.autograd.grad(y, x, ember.tensor(w))
    (tgx,) = torch.autograd.grad(ty, tx, torch.tensor(w))
    assert_close(gx, tgx.resolve_conj())


@needs_torch
def test_repeat_interleave_forms_match_torch():
    r = ember.tensor([1, 0, 3])
    assert ember.repeat_interleave(r).tolist() == torch.repeat_interleave(
        torch.tensor([1, 0, 3])).tolist()
    x = ember.arange(6.0).reshape(3, 2)
    got = ember.repeat_interleave(x, r, dim=0, output_size=4)
    want = torch.repeat_interleave(torch.arange(6.0).reshape(3, 2), torch.tensor([1, 0, 3]),
                                   dim=0, output_size=4)
    assert_close(got, want)
    assert x.repeat_interleave(2).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


@needs_torch
def test_repeat_interleave_tensor_grad_matches_torch():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 2))
    reps = [2, 0, 3]
    w = rng.standard_normal((5, 2))
    x = ember.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    (ember.repeat_interleave(x, ember.tensor(reps), dim=0) * ember.tensor(w)).sum().backward()
    (torch.repeat_interleave(tx, torch.tensor(reps), dim=0) * torch.tensor(w)).sum().backward()
    assert_close(x.grad, tx.grad)


@needs_torch
def test_unfold_overlapping_windows_grad_matches_torch():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 7))
    x = ember.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    w = rng.standard_normal((2, 3, 3))
    (x.unfold(1, 3, 2) * ember.tensor(w)).sum().backward()
    (tx.unfold(1, 3, 2) * torch.tensor(w)).sum().backward()
    assert_close(x.grad, tx.grad)


@needs_torch
def test_as_strided_on_a_view_uses_storage_offset():
    x = ember.arange(12.0)
    tx = torch.arange(12.0)
    v, tv = x[2:], tx[2:]
    a, ta = v.as_strided((2, 2), (3, 1)), tv.as_strided((2, 2), (3, 1))
    assert a.storage_offset() == ta.storage_offset() == 2
    assert_close(a, ta)
    b, tb = v.as_strided((2,), (1,), 0), tv.as_strided((2,), (1,), 0)
    assert_close(b, tb)


def test_as_strided_refuses_memory_outside_storage():
    with pytest.raises(RuntimeError, match="out of bounds for storage"):
        ember.ones(4).as_strided((3,), (2,), 0)


def test_gradients_flow_through_stack_and_unbind():
    x = ember.ones(3, 2, requires_grad=True)
    rows = x.unbind(0)
    ember.stack([rows[0] * 2, rows[2] * 3]).sum().backward()
    assert x.grad.tolist() == [[2, 2], [0, 0], [3, 3]]


@needs_torch
def test_narrow_with_tensor_start_and_narrow_copy():
    x = ember.arange(10.0)
    assert x.narrow(0, ember.tensor(2), 3).tolist() == [2, 3, 4]
    c = ember.narrow_copy(x, 0, 1, 2)
    c.fill_(0)
    assert x[1].item() == 1.0
    assert to_torch(c).tolist() == [0.0, 0.0]


def test_rot90_zero_turns_is_a_copy():
    x = ember.arange(4.0).reshape(2, 2)
    y = ember.rot90(x, 4)
    y.fill_(0)
    assert x.sum().item() == 6.0


def test_tril_inplace():
    x = ember.ones(3, 3)
    x.tril_(-1)
    assert x.tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    x = ember.ones(2, 3)
    x.triu_(1)
    assert x.sum().item() == 3.0


@needs_torch
def test_inplace_view_ops_match_torch():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3))
    w = rng.standard_normal((3, 1, 2))
    results = []
    for mod in (ember, torch):
        x = mod.tensor(a, requires_grad=True)
        y = x * 1
        y.t_().unsqueeze_(1)
        assert tuple(y.shape) == (3, 1, 2) and y._version == 2
        (y * mod.tensor(w)).sum().backward()
        results.append(x.grad)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            x.squeeze_()
    assert_close(*results)
    z = ember.zeros(1, 4, 1)
    assert z.squeeze_().shape == (4,) and z.transpose_(0, 0).shape == (4,)
    assert z.as_strided_((2, 2), (2, 1)).shape == (2, 2)


# -- scatters into views, copies of views, complex views (ember/ops/scatter_views.py) ----------

@needs_torch
@pytest.mark.parametrize("make", [
    lambda m, x: x,                       # contiguous
    lambda m, x: x.t(),                   # transposed: the copy keeps input's stride order
    lambda m, x: x[:, ::2],               # not dense: the copy is contiguous
    lambda m, x: x.reshape(-1)[2:],       # storage offset 2 is the default offset
], ids=["contiguous", "transposed", "strided", "offset"])
def test_as_strided_scatter_layout_matches_torch(make):
    # Values only: torch 2.13 gives input a wrong gradient here (gradcheck in the table).
    a = np.arange(12.0).reshape(3, 4)
    src = -np.arange(1.0, 4.0)
    for args in [((3,), (2,)), ((3,), (1,), 1)]:
        got = ember.as_strided_scatter(make(ember, ember.tensor(a)), ember.tensor(src), *args)
        want = torch.as_strided_scatter(make(torch, torch.tensor(a)), torch.tensor(src), *args)
        assert tuple(got.shape) == tuple(want.shape)
        assert_close(got, want)


def test_scatter_ops_copy_and_cast():
    x = ember.zeros(3, 4, dtype=ember.int64)
    out = ember.diagonal_scatter(x, ember.tensor([1.7, 2.2, 3.9]))
    assert out.dtype == ember.int64 and out.diagonal().tolist() == [1, 2, 3]
    assert x.abs().sum().item() == 0                    # input untouched
    out = x.slice_scatter(ember.ones(3, 2, dtype=ember.int64), 1, 1, None, 2)
    assert out.tolist() == [[0, 1, 0, 1]] * 3
    out = x.select_scatter(ember.full((3,), 5, dtype=ember.int64), 1, -1)
    assert out[:, 3].tolist() == [5, 5, 5] and out[:, :3].abs().sum().item() == 0


def test_scatter_gradients_split_between_input_and_src():
    x = ember.randn(3, 4, requires_grad=True)
    src = ember.randn(4, requires_grad=True)
    out = ember.select_scatter(x, src, 0, 1)
    g = ember.arange(12.0).reshape(3, 4)
    gx, gs = ember.autograd.grad(out, (x, src), g)
    assert gs.tolist() == [4.0, 5.0, 6.0, 7.0]
    assert gx[1].abs().sum().item() == 0 and gx[0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_copy_functions_own_their_memory():
    x = ember.arange(12.0).reshape(3, 4)
    outs = [ember.view_copy(x, (4, 3)), ember.t_copy(x), ember.transpose_copy(x, 0, 1),
            ember.permute_copy(x, (1, 0)), ember.expand_copy(x[:1], (2, 4)),
            ember.diagonal_copy(x), ember.select_copy(x, 0, 1), ember.slice_copy(x, 1, 1, 3),
            ember.unfold_copy(x, 1, 2, 2), ember.as_strided_copy(x, (2, 2), (1, 4)),
            ember.alias_copy(x), ember.detach_copy(x), ember.squeeze_copy(x[None]),
            ember.unsqueeze_copy(x, 0)]
    outs += list(ember.split_copy(x, 2)) + list(ember.unbind_copy(x, 1))
    outs += list(ember.split_with_sizes_copy(x, [1, 3], 1))
    before = [o.clone() for o in outs]
    x.add_(100)
    for o, b in zip(outs, before):
        assert o.is_contiguous()
        assert ember.equal(o, b)                        # writing x changed no copy
    assert ember.view_copy(x, ember.int32).dtype == ember.int32


def test_detach_copy_has_no_history():
    x = ember.randn(3, requires_grad=True)
    assert not ember.detach_copy(x * 2).requires_grad
    assert ember.alias_copy(x * 2).requires_grad


def test_unsafe_split_and_chunk_match_split():
    x = ember.arange(7)
    assert [t.tolist() for t in ember.unsafe_split(x, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [t.tolist() for t in x.unsafe_chunk(2)] == [[0, 1, 2, 3], [4, 5, 6]]
    assert [t.tolist() for t in x.split_with_sizes([2, 5])] == [[0, 1], [2, 3, 4, 5, 6]]
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum"):
        x.split_with_sizes([2, 2])


def test_view_as_real_and_complex_share_memory():
    z = ember.tensor([1 + 2j, 3 - 4j], dtype=ember.complex64)
    r = ember.view_as_real(z)
    assert r.dtype == ember.float32 and r.tolist() == [[1.0, 2.0], [3.0, -4.0]]
    r[0, 1] = 7.0
    assert z[0].item() == 1 + 7j
    assert r._version == z._version
    f = ember.zeros(3, 2, dtype=ember.float64)
    c = ember.view_as_complex(f)
    assert c.dtype == ember.complex128 and tuple(c.shape) == (3,)
    c[1] = 2 + 5j
    assert f[1].tolist() == [2.0, 5.0]
    with pytest.raises(RuntimeError, match="stride divisible by 2"):
        ember.view_as_complex(ember.zeros(3, 3)[:, :2])
    with pytest.raises(RuntimeError, match="only supported for float and double"):
        ember.view_as_complex(ember.zeros(3, 2, dtype=ember.int64))


def test_view_as_real_gradient_is_complex():
    z = ember.tensor([1 + 2j, 3 - 4j], requires_grad=True)
    (g,) = ember.autograd.grad(ember.view_as_real(z).sum(), z)
    assert g.tolist() == [1 + 1j, 1 + 1j]


def test_is_same_size_and_sum_to_size():
    a = ember.ones(2, 3)
    assert a.is_same_size(ember.zeros(2, 3)) and not a.is_same_size(ember.zeros(3, 2))
    assert a.sum_to_size(3).tolist() == [2.0, 2.0, 2.0]
    assert a.sum_to_size(2, 1).tolist() == [[3.0], [3.0]]


def test_fill_diagonal_rules():
    x = ember.zeros(5, 2)
    assert x.fill_diagonal_(1, wrap=True) is x
    assert x.tolist() == [[1, 0], [0, 1], [0, 0], [1, 0], [0, 1]]
    assert ember.zeros(5, 2).fill_diagonal_(1).sum().item() == 2
    c = ember.zeros(2, 2, 2).fill_diagonal_(3.0)
    assert c[0, 0, 0].item() == 3 and c[1, 1, 1].item() == 3 and c.sum().item() == 6
    leaf = ember.zeros(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.fill_diagonal_(1)


def test_nonzero_static_matches_nonzero():
    x = ember.tensor([[0, 2, 0], [3, 0, 4]])
    full = ember.nonzero(x)
    assert ember.equal(ember.nonzero_static(x, size=3), full)
    assert ember.nonzero_static(x, size=2).tolist() == full[:2].tolist()
    assert ember.nonzero_static(x, size=4, fill_value=-7)[3].tolist() == [-7, -7]


def test_combinations_and_cartesian_prod_gradients():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = ember.autograd.grad(ember.combinations(x, 2).sum(), x)
    assert g.tolist() == [2.0, 2.0, 2.0]                # each element is in 2 pairs
    y = ember.tensor([5.0, 6.0], requires_grad=True)
    gx, gy = ember.autograd.grad(ember.cartesian_prod(x, y).sum(), (x, y))
    assert gx.tolist() == [2.0, 2.0, 2.0] and gy.tolist() == [3.0, 3.0]


def test_unravel_index_matches_numpy():
    idx = np.array([0, 5, 17, 23])
    got = ember.unravel_index(ember.tensor(idx), (2, 3, 4))
    for g, w in zip(got, np.unravel_index(idx, (2, 3, 4))):
        assert g.dtype == ember.int64 and g.tolist() == w.tolist()


def test_isin_with_scalars_and_promotion():
    assert ember.isin(ember.tensor([1, 2, 3]), 2).tolist() == [False, True, False]
    assert ember.isin(2.0, ember.tensor([1, 2])).item() is True
    got = ember.isin(ember.tensor([1, 2]), ember.tensor([2.5]), invert=True)
    assert got.tolist() == [True, True]


@pytest.mark.gpu
def test_scatter_views_on_cuda_match_cpu():
    rng = np.random.default_rng(0)
    a, s = rng.standard_normal((3, 4)), rng.standard_normal(3)
    for dev in ("cpu", "cuda"):
        x = ember.tensor(a, device=dev, requires_grad=True)
        src = ember.tensor(s, device=dev, requires_grad=True)
        outs = [ember.diagonal_scatter(x, src), ember.select_scatter(x, src, 1, 2),
                ember.as_strided_scatter(x, src, (3,), (2,), 1),
                ember.nonzero_static(x > 0, size=5), ember.isin(x, x[0]),
                ember.view_as_real(ember.view_as_complex(x.reshape(6, 2)))]
        (g,) = ember.autograd.grad(outs[0].sum() + outs[1].sum() + outs[2].sum(), src)
        if dev == "cpu":
            want = [o.detach().numpy() for o in outs] + [g.numpy()]
        else:
            for o, w in zip(outs + [g], want):
                assert o.device.type == "cuda"
                np.testing.assert_allclose(np.asarray(o.detach().cpu()), w)

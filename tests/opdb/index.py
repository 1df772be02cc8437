"""Indexing ops: getitem/setitem, gather/scatter family, index_*, masked_*, take, put, nonzero."""

from __future__ import annotations

import numpy as np

from .spec import OpSpec, Sample, draw

I64 = np.int64


class Slot:
    """Placeholder in an index template for the k-th index array passed positionally."""

    def __init__(self, k):
        self.k = k

    def __repr__(self) -> str:
        return f"Slot({self.k})"


def _index(template, arrays):
    return tuple(arrays[t.k] if isinstance(t, Slot) else t for t in template)


def _getitem(x, *arrays, template):
    return x[_index(template, arrays)]


def _setitem(x, value, *arrays, template):
    y = x * 1
    y[_index(template, arrays)] = value
    return y


def _setitem_scalar(x, *arrays, template, value):
    y = x * 1
    y[_index(template, arrays)] = value
    return y


# -- getitem / setitem ---------------------------------------------------------------------------

def _getitem_samples(rng, dtype):
    x = draw(rng, (3, 4, 5), dtype)
    s = [
        Sample((x,), {"template": (1, slice(None, None, 2), -1)}),
        Sample((x,), {"template": (Ellipsis, None, slice(1, 4))}),
        Sample((x, np.array([2, 0, 2], I64)), {"template": (Slot(0),)}),
        Sample((x, np.array([[0, 1], [2, 2]], I64), np.array([4, -1], I64)),
               {"template": (Slot(0), slice(None), Slot(1))}),
        Sample((x, np.array([1, 3], I64)), {"template": (0, slice(None), Slot(0))}),
        Sample((x, np.array([1, 3], I64)), {"template": (None, Ellipsis, Slot(0))}),
        Sample((x, rng.random((3, 4)) > 0.5), {"template": (Slot(0),)}),
        Sample((x, rng.random(4) > 0.5), {"template": (slice(None), Slot(0), slice(1, 3))}),
        Sample((x, np.array([0, 2], I64), np.array([1, 0], I64)),
               {"template": (Slot(0), Slot(1))}),
        Sample((x, np.array(True)), {"template": (Slot(0), 1)}),
    ]
    return s


def _setitem_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype)
    return [
        Sample((x, draw(rng, (4,), dtype)), {"template": (1,)}),
        Sample((x, draw(rng, (3, 1), dtype)), {"template": (slice(None), slice(1, None, 2))}),
        Sample((x, draw(rng, (2, 4), dtype), np.array([2, 0], I64)), {"template": (Slot(0),)}),
        Sample((x, draw(rng, (2,), dtype), np.array([3, 1], I64)),
               {"template": (1, Slot(0))}),
        Sample((x, draw(rng, (), dtype), rng.random((3, 4)) > 0.5), {"template": (Slot(0),)}),
        Sample((x, draw(rng, (2,), dtype), np.array([2, 0], I64), np.array([0, 3], I64)),
               {"template": (Slot(0), Slot(1))}),
    ]


def _setitem_scalar_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype)
    return [
        Sample((x,), {"template": (slice(None), 2), "value": 1.5}),
        Sample((x, np.array([0, 2], I64)), {"template": (Slot(0),), "value": -2}),
        Sample((x, rng.random((3, 4)) > 0.5), {"template": (Slot(0),), "value": 0.25}),
    ]


# -- gather / scatter ----------------------------------------------------------------------------

def _gather_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 0, rng.integers(0, 3, (2, 4)))),
        Sample((draw(rng, (3, 4), dtype), 1, rng.integers(0, 4, (3, 6)))),
        Sample((draw(rng, (2, 3, 4), dtype), -1, rng.integers(0, 4, (2, 2, 3)))),
        Sample((draw(rng, (), dtype), 0, np.array(0, I64))),
    ]


def _perm_index(rng, n, shape, dim):
    """Index with no repeats along dim (scatter with repeats is nondeterministic in torch)."""
    idx = np.empty(shape, I64)
    moved = np.moveaxis(idx, dim, -1)
    for pos in np.ndindex(moved.shape[:-1]):
        moved[pos] = rng.permutation(n)[:shape[dim]]
    return idx


def _scatter_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 0, _perm_index(rng, 3, (2, 4), 0),
                draw(rng, (2, 4), dtype))),
        Sample((draw(rng, (3, 5), dtype), 1, _perm_index(rng, 5, (2, 3), 1),
                draw(rng, (2, 3), dtype))),
        Sample((draw(rng, (2, 3, 4), dtype), 2, _perm_index(rng, 4, (2, 3, 2), 2),
                draw(rng, (2, 3, 2), dtype))),
    ]


def _scatter_value_samples(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype), 1, _perm_index(rng, 4, (3, 2), 1)),
                   {"value": 2.5}),
            Sample((draw(rng, (3, 4), dtype), 0, _perm_index(rng, 3, (2, 4), 0), -1.0))]


def _scatter_add_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 0, rng.integers(0, 3, (5, 4)),
                draw(rng, (5, 4), dtype))),
        Sample((draw(rng, (3, 5), dtype), 1, rng.integers(0, 5, (2, 7)),
                draw(rng, (2, 7), dtype))),
        Sample((draw(rng, (4,), dtype), 0, np.array([1, 1, 3], I64), draw(rng, (3,), dtype))),
    ]


def _scatter_reduce_samples(reduce, include_self):
    def samples(rng, dtype):
        kw = {"include_self": include_self}
        out = [
            Sample((draw(rng, (3, 4), dtype), 0, rng.integers(0, 3, (5, 4)),
                    draw(rng, (5, 4), dtype), reduce), kw),
            Sample((draw(rng, (3, 5), dtype), 1, rng.integers(0, 4, (2, 6)),
                    draw(rng, (2, 6), dtype), reduce), kw),
        ]
        if reduce == "prod":
            x = draw(rng, (4,), dtype)
            src = draw(rng, (4,), dtype)
            x[1] = 0
            src[2] = 0
            out.append(Sample((x, 0, np.array([1, 1, 2, 3], I64), src, reduce), kw))
        return out
    return samples


def _index_select_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 0, np.array([2, 0, 2], I64))),
        Sample((draw(rng, (3, 4), dtype), -1, np.array([3, 1], np.int32))),
        Sample((draw(rng, (2, 3, 4), dtype), 1, np.array(1, I64))),
    ]


def _index_add_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 0, np.array([2, 0, 2], I64), draw(rng, (3, 4), dtype))),
        Sample((draw(rng, (3, 4), dtype), 1, np.array([3, 3], I64), draw(rng, (3, 2), dtype)),
               {"alpha": 2.5}),
    ]


def _index_copy_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 0, np.array([2, 0], I64), draw(rng, (2, 4), dtype))),
        Sample((draw(rng, (2, 3, 4), dtype), 2, np.array([3, 0, 1], I64),
                draw(rng, (2, 3, 3), dtype))),
    ]


def _index_fill_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), 1, np.array([0, 3, -1], I64), 1.5)),
        Sample((draw(rng, (3, 4), dtype), 0, np.array([1], I64), draw(rng, (), dtype))),
    ]


def _index_put_samples(accumulate):
    def samples(rng, dtype):
        return [
            Sample((draw(rng, (3, 4), dtype), (np.array([0, 2, 0], I64),),
                    draw(rng, (4,), dtype)), {"accumulate": accumulate} if accumulate else {}),
            Sample((draw(rng, (3, 4), dtype), (np.array([1, 2], I64), np.array([3, 0], I64)),
                    draw(rng, (2,), dtype)), {"accumulate": accumulate}),
        ] if accumulate else [
            Sample((draw(rng, (3, 4), dtype), (np.array([0, 2], I64),),
                    draw(rng, (4,), dtype))),
            Sample((draw(rng, (3, 4), dtype), (np.array([1, 2], I64), np.array([3, 0], I64)),
                    draw(rng, (), dtype))),
        ]
    return samples


def _index_reduce_samples(reduce, include_self):
    def samples(rng, dtype):
        kw = {"include_self": include_self}
        return [
            Sample((draw(rng, (3, 4), dtype), 0, np.array([2, 0, 2], I64),
                    draw(rng, (3, 4), dtype), reduce), kw),
            Sample((draw(rng, (3, 4), dtype), 1, np.array([1, 1], I64),
                    draw(rng, (3, 2), dtype), reduce), kw),
        ]
    return samples


# -- masks, take, put, nonzero -------------------------------------------------------------------

def _masked_fill_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), rng.random((3, 4)) > 0.5, -1.0)),
        Sample((draw(rng, (3, 4), dtype), rng.random((4,)) > 0.5, draw(rng, (), dtype))),
        Sample((draw(rng, (1, 4), dtype), rng.random((3, 1)) > 0.5, 2)),
    ]


def _masked_scatter_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), rng.random((3, 4)) > 0.5, draw(rng, (14,), dtype))),
        Sample((draw(rng, (3, 4), dtype), rng.random((4,)) > 0.5, draw(rng, (3, 5), dtype))),
    ]


def _masked_select_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), rng.random((3, 4)) > 0.5)),
        Sample((draw(rng, (3, 1), dtype), rng.random((4,)) > 0.5)),
        Sample((draw(rng, (), dtype), np.array([True, False, True]))),
    ]


def _take_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), np.array([[0, 11], [-1, 5]], I64))),
        Sample((draw(rng, (5,), dtype), np.array([4, 4, 0], I64))),
        Sample((draw(rng, (2, 3), dtype), np.array(3, I64))),
    ]


def _take_along_dim_samples(rng, dtype):
    return [
        Sample((draw(rng, (3, 4), dtype), rng.integers(0, 4, (3, 2)), 1)),
        Sample((draw(rng, (3, 4), dtype), rng.integers(0, 3, (2, 1)), 0)),
        Sample((draw(rng, (3, 1), dtype), rng.integers(0, 1, (1, 5)), -1)),
        Sample((draw(rng, (3, 4), dtype), rng.integers(0, 12, (5,)))),
    ]


def _put_samples(accumulate):
    def samples(rng, dtype):
        idx = (np.array([[0, 7], [-1, 7]], I64) if accumulate
               else np.array([[0, 7], [-1, 5]], I64))
        return [Sample((draw(rng, (3, 4), dtype), idx, draw(rng, (4,), dtype)),
                       {"accumulate": accumulate})]
    return samples


def _nonzero_samples(rng, dtype):
    def sparse(shape):
        a = draw(rng, shape, dtype)
        return np.where(rng.random(shape) > 0.5, a, np.zeros((), a.dtype))
    return [Sample((sparse((3, 4)),)), Sample((sparse((5,)),)), Sample((sparse((2, 2, 3)),)),
            Sample((np.array(2, dtype=dtype),)), Sample((np.zeros((2, 0), dtype=dtype),))]


def _nonzero_ref(x):
    return np.argwhere(x)


def _clone_then(method):
    def fn(x, *args, **kwargs):
        return getattr(x.clone(), method)(*args, **kwargs)
    return fn


def _quiet(fn):
    """torch warns for scatter(reduce=) (deprecated) and index_reduce (beta)."""
    def wrapped(*args, **kwargs):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)
    return wrapped


def _ember(name):
    def fn(*args, **kwargs):
        import ember
        return getattr(ember, name)(*args, **kwargs)
    return fn


def _err(args, kwargs=None):
    return Sample(tuple(args), kwargs or {})


X = np.zeros((3, 4))

SPECS = [
    OpSpec("getitem", fn=_getitem, torch_fn=_getitem, samples=_getitem_samples,
           errors=[
               (_err([X], {"template": (3,)}), IndexError,
                "index 3 is out of bounds for dimension 0 with size 3"),
               (_err([X], {"template": (slice(None), -5)}), IndexError,
                "index -5 is out of bounds for dimension 1 with size 4"),
               (_err([X], {"template": (0, 0, 0)}), IndexError, "too many indices"),
               (_err([X, np.array([0, 4], I64)], {"template": (slice(None), Slot(0))}),
                IndexError, "index 4 is out of bounds for dimension 0 with size 4"),
               (_err([X, np.ones(4, bool)], {"template": (Slot(0),)}), IndexError,
                r"The shape of the mask \[4\] at index 0 does not match"),
               (_err([X, np.array([0, 1], I64), np.array([0, 1, 2], I64)],
                     {"template": (Slot(0), Slot(1))}), IndexError,
                "shape mismatch: indexing tensors could not be broadcast"),
               (_err([X, np.array([1.0])], {"template": (Slot(0),)}), IndexError,
                "tensors used as indices must be long, int, byte or bool"),
               (_err([X], {"template": (slice(None, None, -1),)}), ValueError,
                "step must be greater than zero"),
           ]),
    OpSpec("setitem", fn=_setitem, torch_fn=_setitem, samples=_setitem_samples,
           errors=[
               (_err([X, np.ones(3), np.array([0, 1], I64)], {"template": (Slot(0),)}),
                RuntimeError, "shape mismatch: value tensor of shape"),
               (_err([X, np.ones(4, np.float32), np.array([0, 1], I64)],
                     {"template": (Slot(0),)}), RuntimeError,
                "Index put requires the source and destination dtypes match"),
           ]),
    OpSpec("setitem", variant="scalar", fn=_setitem_scalar, torch_fn=_setitem_scalar,
           samples=_setitem_scalar_samples),
    OpSpec("gather", samples=_gather_samples,
           errors=[
               (_err([X, 0, np.array([[0, 5]], I64)]), RuntimeError,
                "index 5 is out of bounds for dimension 0 with size 3"),
               (_err([X, 1, np.array([[0, -1]], I64)]), RuntimeError,
                "index -1 is out of bounds for dimension 1 with size 4"),
               (_err([X, 1, np.array([0, 1], I64)]), RuntimeError,
                "Index tensor must have the same number of dimensions as input tensor"),
               (_err([X, 1, np.zeros((4, 1), I64)]), RuntimeError,
                "Size does not match at dimension 0"),
               (_err([X, 1, np.zeros((1, 1), np.int16)]), RuntimeError,
                "Expected dtype int32/int64 for index"),
               (_err([X, 2, np.zeros((1, 1), I64)]), IndexError, "Dimension out of range"),
           ]),
    OpSpec("scatter", samples=_scatter_samples,
           errors=[
               (_err([X, 0, np.array([[0, 5]], I64), np.ones((1, 2))]), RuntimeError,
                "index 5 is out of bounds for dimension 0 with size 3"),
               (_err([X, 0, np.array([[0, 1]], I64), np.ones((1, 2), np.float32)]),
                RuntimeError, "Expected self.dtype to be equal to src.dtype"),
               (_err([X, 0, np.array([[0, 1]], I64), np.ones((1, 1))]), RuntimeError,
                "to be no larger size than src"),
               (_err([X, 0, np.array([[0, 1]], I64), np.ones((1, 2))], {"reduce": "mean"}),
                RuntimeError, "reduce argument must be either add or multiply"),
           ]),
    OpSpec("scatter", variant="value", samples=_scatter_value_samples),
    OpSpec("scatter_", variant="inplace", fn=_clone_then("scatter_"),
           torch_fn=_clone_then("scatter_"), samples=_scatter_samples),
    OpSpec("scatter", variant="reduce", torch_fn=_quiet(lambda *a, **k: __import__("torch")
                                                        .scatter(*a, **k)), samples=lambda rng, dtype: [
        Sample((draw(rng, (3, 4), dtype), 0, rng.integers(0, 3, (5, 4)),
                draw(rng, (5, 4), dtype)), {"reduce": r}) for r in ("add", "multiply")],
        grad=False, dtypes=("float32", "float64", "int64")),
    OpSpec("scatter_add", samples=_scatter_add_samples,
           dtypes=("float32", "float64", "int64"),
           errors=[(_err([X, 0, np.array([[0, 1, 1, 1, 1]], I64), np.ones((1, 5))]),
                    RuntimeError, "to be no larger than self")]),
    OpSpec("scatter_add_", variant="inplace", fn=_clone_then("scatter_add_"),
           torch_fn=_clone_then("scatter_add_"), samples=_scatter_add_samples),
    *[OpSpec("scatter_reduce", variant=f"{r}_{'self' if inc else 'noself'}",
             samples=_scatter_reduce_samples(r, inc), domain=(0.5, 2.0),
             dtypes=("float32", "float64", "int64") if r in ("mean", "amax") else
             ("float32", "float64"))
      for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    OpSpec("scatter_reduce_", variant="inplace", fn=_clone_then("scatter_reduce_"),
           torch_fn=_clone_then("scatter_reduce_"),
           samples=_scatter_reduce_samples("amin", False),
           errors=[(_err([X, 0, np.zeros((1, 1), I64), np.ones((1, 1)), "max"]), RuntimeError,
                    "reduce argument must be either sum, prod, mean, amax or amin")]),
    OpSpec("index_select", samples=_index_select_samples,
           errors=[
               (_err([X, 0, np.array([5], I64)]), IndexError, "index out of range in self"),
               (_err([X, 0, np.array([-1], I64)]), IndexError, "index out of range in self"),
               (_err([X, 0, np.zeros((1, 1), I64)]), IndexError, "Index is supposed to be a "
                                                                "vector"),
               (_err([X, 0, np.array([1.0])]), RuntimeError, "Expected dtype int32 or int64"),
           ]),
    OpSpec("index_add", samples=_index_add_samples, dtypes=("float32", "float64", "int64"),
           errors=[
               (_err([X, 0, np.array([5], I64), np.ones((1, 4))]), RuntimeError,
                "index 5 is out of bounds for dimension 0 with size 3"),
               (_err([X, 0, np.array([1], I64), np.ones((2, 4))]), RuntimeError,
                r"Number of indices \(1\) should be equal to source.size\(dim\): \(2\)"),
               (_err([X, 0, np.array([1], I64), np.ones((1, 3))]), RuntimeError,
                "source tensor shape must match self tensor shape"),
           ]),
    OpSpec("index_add_", variant="inplace", fn=_clone_then("index_add_"),
           torch_fn=_clone_then("index_add_"), samples=_index_add_samples),
    OpSpec("index_copy", samples=_index_copy_samples,
           errors=[(_err([X, 0, np.array([5], I64), np.ones((1, 4))]), IndexError,
                    "index 5 is out of bounds for dimension 0 with size 3")]),
    OpSpec("index_copy_", variant="inplace", fn=_clone_then("index_copy_"),
           torch_fn=_clone_then("index_copy_"), samples=_index_copy_samples),
    OpSpec("index_fill", samples=_index_fill_samples, fn=_clone_then("index_fill"),
           torch_fn=_clone_then("index_fill"),
           errors=[
               (_err([X, 0, np.array([5], I64), 1.0]), IndexError,
                "index 5 is out of bounds for dimension 0 with size 3"),
               (_err([X, 0, np.array([1], I64), np.ones(1)]), RuntimeError,
                "only supports a 0-dimensional value tensor"),
           ]),
    OpSpec("index_fill_", variant="inplace", fn=_clone_then("index_fill_"),
           torch_fn=_clone_then("index_fill_"), samples=_index_fill_samples),
    OpSpec("index_put", samples=_index_put_samples(False),
           errors=[(_err([X, (np.array([5], I64),), np.ones(())]), IndexError,
                    "index 5 is out of bounds for dimension 0 with size 3"),
                   (_err([X, (np.array([1], I64),), np.ones((), np.float32)]), RuntimeError,
                    "Index put requires the source and destination dtypes match")]),
    OpSpec("index_put", variant="accumulate", samples=_index_put_samples(True)),
    OpSpec("index_put_", variant="inplace", fn=_clone_then("index_put_"),
           torch_fn=_clone_then("index_put_"), samples=_index_put_samples(True)),
    *[OpSpec("index_reduce", variant=f"{r}_{'self' if inc else 'noself'}",
             samples=_index_reduce_samples(r, inc), domain=(0.5, 2.0),
             fn=_clone_then("index_reduce"), torch_fn=_quiet(_clone_then("index_reduce")))
      for r in ("prod", "mean", "amax", "amin") for inc in (True, False)],
    OpSpec("index_reduce_", variant="inplace", fn=_clone_then("index_reduce_"),
           torch_fn=_quiet(_clone_then("index_reduce_")), samples=_index_reduce_samples("amax", True),
           errors=[(_err([X, 0, np.array([1], I64), np.ones((1, 4)), "sum"]), RuntimeError,
                    "Expected reduce to be one of prod, mean, amax or amin but got sum")]),
    OpSpec("masked_fill", samples=_masked_fill_samples,
           dtypes=("float32", "float64", "int64", "bfloat16"),
           ref=lambda x, m, v: np.where(m, v, x).astype(x.dtype),
           errors=[
               (_err([X, np.ones((3, 4), np.uint8), 1.0]), RuntimeError,
                "only supports boolean masks, but got mask with dtype unsigned char"),
               (_err([X, np.ones((3, 4), bool), np.ones(1)]), RuntimeError,
                "only supports a 0-dimensional value tensor"),
               (_err([X, np.ones(5, bool), 1.0]), RuntimeError,
                r"The size of tensor a \(4\) must match the size of tensor b \(5\)"),
           ]),
    OpSpec("masked_fill_", variant="inplace", fn=_clone_then("masked_fill_"),
           torch_fn=_clone_then("masked_fill_"), samples=lambda rng, dt: _masked_fill_samples(
               rng, dt)[:2],
           errors=[(_err([X, np.ones((2, 3, 4), bool), 1.0]), RuntimeError,
                    "doesn't match the broadcast shape")]),
    OpSpec("masked_scatter", samples=_masked_scatter_samples,
           errors=[(_err([X, np.ones((3, 4), bool), np.ones(5)]), RuntimeError,
                    "Number of elements of source < number of ones in mask")]),
    OpSpec("masked_scatter_", variant="inplace", fn=_clone_then("masked_scatter_"),
           torch_fn=_clone_then("masked_scatter_"), samples=lambda rng, dt:
           _masked_scatter_samples(rng, dt)[:1]),
    OpSpec("masked_select", samples=_masked_select_samples,
           dtypes=("float32", "float64", "int64"),
           errors=[(_err([X, np.ones((3, 4), I64)]), RuntimeError,
                    "expected BoolTensor for mask")]),
    OpSpec("take", samples=_take_samples, dtypes=("float32", "float64", "int64"),
           errors=[(_err([X, np.array([12], I64)]), IndexError,
                    "out of range: tried to access index 12 on a tensor of 12 elements"),
                   (_err([X, np.array([1], np.int32)]), RuntimeError,
                    "Expected a long tensor for index")]),
    OpSpec("take_along_dim", samples=_take_along_dim_samples,
           errors=[(_err([X, np.zeros((1, 1, 1), I64), 0]), RuntimeError,
                    "input and indices should have the same number of dimensions"),
                   (_err([X, np.zeros((1, 1), np.int32), 0]), RuntimeError,
                    "dtype of indices should be Long")]),
    OpSpec("put", samples=_put_samples(False), fn=_ember("put"),
           errors=[(_err([X, np.array([12], I64), np.ones(1)]), IndexError,
                    "out of range: tried to access index 12"),
                   (_err([X, np.array([0, 0], I64), np.ones(3)]), IndexError,
                    "Expected source and index to have the same number of elements")]),
    OpSpec("put", variant="accumulate", samples=_put_samples(True), fn=_ember("put")),
    OpSpec("put_", variant="inplace", fn=_clone_then("put_"), torch_fn=_clone_then("put_"),
           samples=_put_samples(True)),
    OpSpec("nonzero", samples=_nonzero_samples, grad=False, ref=_nonzero_ref,
           dtypes=("float32", "int64", "bool")),
    OpSpec("nonzero", variant="as_tuple", samples=lambda rng, dt: [
        Sample(s.args, {"as_tuple": True}) for s in _nonzero_samples(rng, dt)],
        grad=False, dtypes=("float64", "bool")),
    OpSpec("argwhere", samples=_nonzero_samples, grad=False, ref=_nonzero_ref,
           dtypes=("float32", "bool")),
    OpSpec("where", variant="cond", samples=lambda rng, dt: [
        Sample(s.args) for s in _nonzero_samples(rng, dt)], grad=False,
        dtypes=("float64", "bool")),
]

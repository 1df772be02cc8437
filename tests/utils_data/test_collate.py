"""default_collate, default_convert and collate(collate_fn_map=...), against PyTorch's."""

from __future__ import annotations

import collections
from collections.abc import Mapping

import numpy as np
import pytest

import ember
from ember.utils.data import default_collate, default_convert
from ember.utils.data._utils.collate import collate, default_collate_fn_map
from tests.oracle import needs_torch, torch

Point = collections.namedtuple("Point", ["x", "y"])


class FrozenMap(Mapping):
    """An immutable Mapping built from a dict (its type must survive collation)."""

    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def _to_torch_sample(obj):
    """The same sample with ember tensors replaced by torch tensors."""
    if isinstance(obj, ember.Tensor):
        return torch.from_numpy(np.array(obj))
    if isinstance(obj, dict):
        return type(obj)((k, _to_torch_sample(v)) for k, v in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_torch_sample(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch_sample(v) for v in obj)
    return obj


def _assert_same(ours, theirs, path="batch"):
    if torch is not None and isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), path
        assert str(ours.dtype) == str(theirs.dtype), path
        assert tuple(ours.shape) == tuple(theirs.shape), path
        np.testing.assert_array_equal(np.asarray(ours), theirs.numpy(), err_msg=path)
        return
    assert type(ours) is type(theirs), (path, type(ours), type(theirs))
    if isinstance(theirs, Mapping):
        assert list(ours) == list(theirs), path
        for k in theirs:
            _assert_same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert ours == theirs, path


SAMPLES = {
    "tensors": lambda i: ember.full((2, 3), float(i)),
    "int_tensors": lambda i: ember.tensor([i, -i]),
    "floats": lambda i: 0.5 * i,
    "ints": lambda i: i,
    "bools": lambda i: i % 2 == 0,
    "strings": lambda i: f"s{i}",
    "bytes": lambda i: b"x" * i,
    "numpy_arrays": lambda i: np.arange(4, dtype=np.int16) * i,
    "numpy_float32": lambda i: np.float32(i) / 3,
    "numpy_bool": lambda i: np.bool_(i > 1),
    "numpy_int8_0d": lambda i: np.array(i, dtype=np.int8),
    "tuple": lambda i: (ember.tensor(float(i)), i, "a"),
    "list": lambda i: [i, 2.0 * i],
    "dict": lambda i: {"img": ember.ones(2) * i, "label": i, "meta": {"name": f"n{i}"}},
    "ordered_dict": lambda i: collections.OrderedDict([("b", i), ("a", float(i))]),
    "namedtuple": lambda i: Point(ember.tensor([i]), float(i)),
    "nested": lambda i: [{"a": (i, [np.float64(i)])}, Point(i, "p")],
}


@needs_torch
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_default_collate_matches_torch(kind):
    batch = [SAMPLES[kind](i) for i in range(3)]
    ours = default_collate(batch)
    theirs = torch.utils.data.default_collate([_to_torch_sample(s) for s in batch])
    _assert_same(ours, theirs)


def test_default_collate_number_dtypes():
    assert default_collate([1.5, 2.0]).dtype is ember.float64       # not the default dtype
    assert default_collate([1, 2]).dtype is ember.int64
    assert default_collate([True, False]).dtype is ember.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype is ember.float32


def test_default_collate_stacks_tensors():
    out = default_collate([ember.tensor([1, 2]), ember.tensor([3, 4])])
    assert out.tolist() == [[1, 2], [3, 4]]


def test_default_collate_mapping_types_preserved():
    out = default_collate([FrozenMap({"a": 1}), FrozenMap({"a": 2})])
    assert type(out) is FrozenMap and out["a"].tolist() == [1, 2]
    dd = collections.defaultdict(list, {"a": 1.0})
    out = default_collate([dd, dd])
    assert type(out) is collections.defaultdict and out["a"].dtype is ember.float64


def test_default_collate_unsupported_type_error():
    with pytest.raises(TypeError, match=r"default_collate: batch must contain tensors, numpy "
                                        r"arrays, numbers, dicts or lists; found <class "
                                        r"'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found object"):
        default_collate([np.array([None]), np.array([1])])


def test_default_collate_unequal_sizes_error():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal "
                                           "size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ember.zeros(2), ember.zeros(3)])


def test_default_collate_keeps_autograd():
    a = ember.ones(2, requires_grad=True)
    out = default_collate([a, 2 * a])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_collate_with_custom_map():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    custom = {**default_collate_fn_map, Box: collate_box}
    out = collate([{"b": Box(1), "n": 1}, {"b": Box(2), "n": 2}], collate_fn_map=custom)
    assert out["b"] == 3 and out["n"].tolist() == [1, 2]
    # isinstance matching for subclasses, in insertion order
    class SubBox(Box):
        pass

    assert collate([SubBox(4), SubBox(5)], collate_fn_map={Box: collate_box}) == 9
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        collate([Box(1)], collate_fn_map=None)


def test_default_convert():
    arr = np.arange(3)
    out = default_convert({"x": arr, "s": "keep", "t": (np.float32(1.5), [np.int8(2)])})
    assert out["x"].tolist() == [0, 1, 2] and out["s"] == "keep"
    assert isinstance(out["t"], list)                       # tuple -> list, like PyTorch
    assert out["t"][0].dtype is ember.float32 and out["t"][1][0].dtype is ember.int8
    out["x"][0] = 7
    assert arr[0] == 7                                      # shares memory
    strings = np.array(["a", "b"])
    assert default_convert(strings) is strings
    assert default_convert(Point(np.ones(1), 2)).x.dtype is ember.float64
    t = ember.ones(2)
    assert default_convert(t) is t
    assert default_convert(5) == 5 and default_convert(np.str_("a")) == "a"


@needs_torch
def test_default_convert_matches_torch():
    sample = {"a": np.arange(4.0), "b": [np.int32(3), (np.ones(2, np.float16), "z")],
              "c": Point(np.zeros((2, 2), np.uint8), 1.0)}
    _assert_same(default_convert(sample), torch.utils.data.default_convert(sample))


def test_torch_style_import_paths():
    from ember.utils.data._utils.collate import default_collate as dc
    from ember.utils.data.dataloader import default_collate as dc2
    assert dc is default_collate is dc2

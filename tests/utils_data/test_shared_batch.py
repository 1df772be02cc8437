"""The worker -> main transport: a batch's small tensors in one shared-memory block."""

from __future__ import annotations

import io
from multiprocessing.reduction import ForkingPickler

import pytest

import ember
from ember.utils.data._utils import shared_batch

pytest.importorskip("ember.multiprocessing")


def _through_queue(obj):
    """What a multiprocessing Queue does to obj (ForkingPickler out and pickle in)."""
    buf = io.BytesIO()
    ForkingPickler(buf).dump(obj)
    return ForkingPickler.loads(buf.getvalue())


def test_pack_puts_small_tensors_in_one_shared_block():
    a = ember.arange(6.0).view(2, 3)[:, 1:]                  # non-contiguous
    b = ember.tensor([True, False])
    c = ember.ones(2, dtype=ember.bfloat16)
    g = ember.ones(2, requires_grad=True)                    # travels on its own
    data = {"a": a, "again": a, "rest": [b, (c, "s", 3)], "grad": g}
    packed = shared_batch.pack(data)
    assert isinstance(packed, shared_batch._PackedBatch) and len(packed.metas) == 3
    out = _through_queue(packed).unpack()
    assert out["a"].tolist() == [[1.0, 2.0], [4.0, 5.0]]
    assert out["a"] is out["again"]                          # identity kept, like pickle
    assert out["rest"][0].tolist() == [True, False] and out["rest"][0].dtype is ember.bool
    assert out["rest"][1][0].dtype is ember.bfloat16 and out["rest"][1][1:] == ("s", 3)
    assert out["grad"].requires_grad and out["grad"].tolist() == [1.0, 1.0]
    assert all(t.is_shared() for t in (out["a"], out["rest"][0], out["rest"][1][0]))
    out["rest"][0][0] = False                                # writable views of the block
    assert out["rest"][0].tolist() == [False, False]


def test_pack_leaves_batches_without_small_tensors_alone():
    assert shared_batch.pack([1, "a"]) == [1, "a"]
    shared = ember.ones(3)
    shared.share_memory_()
    assert shared_batch.pack([shared])[0] is shared         # already shared: sent as it is


def test_share_out_only_in_workers_and_for_large_tensors():
    assert shared_batch.share_out((1 << 22,), ember.float32) is None   # main process

"""Process-wide settings: threads, determinism flags, matmul precision, legacy tensor types."""

import pytest

import ember


def test_num_threads_round_trip():
    before = ember.get_num_threads()
    assert before >= 1
    with pytest.raises(RuntimeError, match="positive"):
        ember.set_num_threads(0)


def test_deterministic_flags():
    try:
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.are_deterministic_algorithms_enabled()
        assert ember.get_deterministic_debug_mode() == 1
        ember.set_deterministic_debug_mode("error")
        assert ember.get_deterministic_debug_mode() == 2
    finally:
        ember.use_deterministic_algorithms(False)
    assert ember.get_deterministic_debug_mode() == 0


def test_float32_matmul_precision():
    try:
        ember.set_float32_matmul_precision("high")
        assert ember.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match="Invalid value"):
            ember.set_float32_matmul_precision("fast")
    finally:
        ember.set_float32_matmul_precision("highest")


def test_set_default_tensor_type_sets_float_dtype():
    with pytest.warns(UserWarning, match="deprecated"):
        ember.set_default_tensor_type("torch.DoubleTensor")
    assert ember.tensor([1.0]).dtype is ember.float64
    with pytest.warns(UserWarning), pytest.raises(TypeError):
        ember.set_default_tensor_type("torch.LongTensor")


def test_is_tensor_and_friends():
    t = ember.tensor([1.5])
    assert ember.is_tensor(t) and not ember.is_tensor([1.5])
    assert ember.is_floating_point(t) and not ember.is_complex(t)
    assert ember.numel(ember.zeros(2, 3)) == 6
    assert ember.is_nonzero(ember.tensor([1]))
    with pytest.raises(RuntimeError, match="more than one value"):
        ember.is_nonzero(ember.tensor([1, 2]))

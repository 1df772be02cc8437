"""ember on a CUDA device (CuPy): every test here is marked gpu and skipped without one.

cuda results are compared with ember's own cpu results (and torch's where it helps). float32
on the GPU may differ from the CPU by a few ulp (other libm, other summation order), hence
GPU_TOL below. Run with ``scripts/gpu_check.sh`` on a machine with a GPU.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
from tests.opdb import ALL_SPECS
from tests.ops.runner import ember_args, flat_outputs, leaves, tolerance
from tests.oracle import to_numpy, torch

pytestmark = pytest.mark.gpu

GPU_TOL = (1e-4, 1e-5)          # (rtol, atol) for float32 cuda vs cpu


def _cp():
    import cupy
    return cupy


def _same(cuda_t, cpu_t, rtol=GPU_TOL[0], atol=GPU_TOL[1], what=""):
    assert cuda_t.is_cuda, f"{what}: expected a cuda tensor"
    assert cuda_t.dtype is cpu_t.dtype, f"{what}: dtype {cuda_t.dtype} != cpu's {cpu_t.dtype}"
    assert cuda_t.shape == cpu_t.shape, f"{what}: shape {cuda_t.shape} != cpu's {cpu_t.shape}"
    np.testing.assert_allclose(to_numpy(cuda_t), to_numpy(cpu_t), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)


# -- creation and movement ---------------------------------------------------------------------

@pytest.mark.parametrize("dev", ["cuda", "cuda:0", ember.device("cuda", 0)], ids=str)
def test_factories_on_cuda(dev):
    cases = [
        (ember.zeros(2, 3, device=dev), np.zeros((2, 3), np.float32)),
        (ember.ones(4, dtype=ember.int64, device=dev), np.ones(4, np.int64)),
        (ember.full((2,), 7.5, device=dev), np.full(2, 7.5, np.float32)),
        (ember.arange(5, device=dev), np.arange(5)),
        (ember.arange(0, 1, 0.25, device=dev), np.arange(0, 1, 0.25, dtype=np.float32)),
        (ember.tensor([[1, 2], [3, 4]], device=dev), np.array([[1, 2], [3, 4]])),
        (ember.tensor([1.5, 2.5], dtype=ember.float16, device=dev),
         np.array([1.5, 2.5], np.float16)),
    ]
    for t, want in cases:
        assert t.is_cuda and t.device == ember.device("cuda", 0)
        assert t.get_device() == 0 and not t.is_cpu
        assert t.dtype.np == want.dtype
        np.testing.assert_array_equal(t.cpu().numpy(), want)
    e = ember.empty(3, device=dev)
    assert e.is_cuda and e.shape == (3,)


def test_like_factories_follow_the_input_device():
    x = ember.ones(2, 3, device="cuda")
    for t in (ember.zeros_like(x), ember.ones_like(x), ember.empty_like(x),
              ember.full_like(x, 2.0), x.new_zeros(4), x.new_tensor([1.0])):
        assert t.is_cuda


def test_to_and_cpu_round_trips():
    x = ember.tensor([[1.5, -2.0], [3.0, 0.25]])
    g = x.to("cuda")
    assert g.is_cuda and g.dtype is ember.float32
    assert g.cpu().tolist() == x.tolist()
    assert x.cuda().to("cpu").tolist() == x.tolist()
    assert x.cuda(0).device == ember.device("cuda:0")
    d = x.to("cuda", ember.float64)
    assert d.is_cuda and d.dtype is ember.float64
    assert d.to(ember.int32).cpu().tolist() == [[1, -2], [3, 0]]
    assert g.to(g) is g and g.to("cuda") is g and g.cuda() is g
    assert x.to(g).is_cuda
    assert g.to(device="cpu", dtype=ember.float16).dtype is ember.float16
    assert g.type() == "torch.cuda.FloatTensor"
    assert x.type("torch.cuda.DoubleTensor").is_cuda


def test_copy_between_devices():
    g = ember.zeros(3, device="cuda")
    g.copy_(ember.tensor([1.0, 2.0, 3.0]))
    assert g.is_cuda and g.tolist() == [1.0, 2.0, 3.0]
    c = ember.zeros(3)
    c.copy_(g)
    assert c.is_cpu and c.tolist() == [1.0, 2.0, 3.0]


def test_to_cuda_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.cuda() * 3).sum()
    y.backward()
    assert x.grad.is_cpu and x.grad.tolist() == [3.0, 3.0]


def test_conversions_from_cuda():
    g = ember.tensor([[1.0, 2.0]], device="cuda")
    assert g.tolist() == [[1.0, 2.0]]
    assert g[0, 1].item() == 2.0
    assert float(g.sum()) == 3.0
    assert np.asarray(g.cpu()).tolist() == [[1.0, 2.0]]
    with pytest.raises(TypeError, match="can't convert cuda"):
        g.numpy()
    assert g.numpy(force=True).tolist() == [[1.0, 2.0]]
    assert bool(ember.tensor([1], device="cuda"))
    assert f"{ember.tensor(1.5, device='cuda'):.2f}" == "1.50"
    assert "device='cuda:0'" in repr(g)


def test_metadata_of_cuda_tensors():
    cp = _cp()
    g = ember.arange(12.0, device="cuda").reshape(3, 4)
    v = g[1:, 2:]
    assert v.stride() == (4, 1) and not v.is_contiguous()
    assert v.storage_offset() == 6
    assert v.data_ptr() == g.data_ptr() + 6 * 4
    assert g.data_ptr() == g._data.data.ptr
    assert isinstance(g._data, cp.ndarray)
    assert g.element_size() == 4 and g.nbytes == 48


@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2, dtype=ember.bfloat16, device="cuda"),
    lambda: ember.tensor([1.0], dtype=ember.bfloat16, device="cuda"),
    lambda: ember.ones(2, dtype=ember.bfloat16).cuda(),
    lambda: ember.ones(2, device="cuda").bfloat16(),
    lambda: ember.ones(2, device="cuda").to(ember.bfloat16),
], ids=["zeros", "tensor", "cuda()", "bfloat16()", "to"])
def test_bfloat16_on_cuda_works_or_raises_clear_typeerror(make):
    if ember.cuda.is_bf16_supported():          # this CuPy computes with bfloat16
        t = make()
        assert t.is_cuda and t.dtype is ember.bfloat16
        assert t.float().cpu().tolist() in ([0.0, 0.0], [1.0], [1.0, 1.0])
        assert (t * 2).float().cpu().tolist() == [v * 2 for v in t.float().cpu().tolist()]
    else:
        with pytest.raises(TypeError, match="bfloat16"):
            make()


# -- math parity with cpu ----------------------------------------------------------------------

def test_arithmetic_matches_cpu():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.uniform(0.5, 2.0, (4, 5)).astype(np.float32)
    ca, cb = ember.tensor(a), ember.tensor(b)
    ga, gb = ca.cuda(), cb.cuda()
    for f in (lambda x, y: x + y, lambda x, y: x - 2 * y, lambda x, y: x * y,
              lambda x, y: x / y, lambda x, y: y ** 1.5, lambda x, y: -x,
              lambda x, y: x.exp() + y.log(), lambda x, y: x.tanh() * y.sqrt(),
              lambda x, y: ember.where(x > 0, x, y), lambda x, y: x > y,
              lambda x, y: x + 1, lambda x, y: 2.0 / y):
        _same(f(ga, gb), f(ca, cb))


def test_integer_and_promotion_on_cuda():
    ci = ember.tensor([1, 2, 3])
    gi = ci.cuda()
    for f in (lambda x: x + 1, lambda x: x * 2.5, lambda x: x / 2, lambda x: x.float(),
              lambda x: x == 2):
        _same(f(gi), f(ci), what="int")


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (4, 3)),
                                    ((5,), (5,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_matches_cpu(shapes):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    _same(ember.tensor(a).cuda() @ ember.tensor(b).cuda(), ember.tensor(a) @ ember.tensor(b),
          rtol=1e-4, atol=1e-4)


def test_matmul_matches_torch():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((8, 16)), rng.standard_normal((16, 4))
    got = (ember.tensor(a, device="cuda") @ ember.tensor(b, device="cuda")).cpu()
    if torch is not None:
        np.testing.assert_allclose(got.numpy(), (torch.tensor(a) @ torch.tensor(b)).numpy(),
                                   rtol=1e-10, atol=1e-10)


def test_reductions_match_cpu():
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((3, 4, 5)).astype(np.float32))
    g = x.cuda()
    for f in (lambda t: t.sum(), lambda t: t.sum(1), lambda t: t.mean(-1, keepdim=True),
              lambda t: t.amax(0), lambda t: t.max(), lambda t: t.sum((0, 2))):
        _same(f(g), f(x))


def test_indexing_matches_cpu():
    x = ember.arange(24.0).reshape(2, 3, 4)
    g = x.cuda()
    idx = ember.tensor([2, 0])
    for f in (lambda t: t[1], lambda t: t[:, 1:, ::2], lambda t: t[..., -1], lambda t: t[None],
              lambda t: t[t > 10], lambda t: t[:, idx.to(t.device)],
              lambda t: t[0, [0, 2], [1, 3]]):
        _same(f(g), f(x))
    gc, cc = g.clone(), x.clone()
    for t in (gc, cc):
        t[0, 1] = 100.0
        t[:, :, 0] = ember.tensor(-1.0)
        t[t > 20] = 0.0
    _same(gc, cc)


# -- autograd on cuda ---------------------------------------------------------------------------

def _mlp_grads(device):
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((8, 5)).astype(np.float32), device=device)
    y = ember.tensor(rng.integers(0, 2, 8).astype(np.float32), device=device)
    w1 = ember.tensor(rng.standard_normal((5, 16)).astype(np.float32) * 0.5, device=device,
                      requires_grad=True)
    b1 = ember.zeros(16, device=device, requires_grad=True)
    w2 = ember.tensor(rng.standard_normal((16, 1)).astype(np.float32) * 0.5, device=device,
                      requires_grad=True)
    h = (x @ w1 + b1).relu()
    p = (h @ w2).squeeze(-1).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.backward()
    return loss, [w1.grad, b1.grad, w2.grad]


def test_mlp_backward_matches_cpu():
    loss_g, grads_g = _mlp_grads("cuda")
    loss_c, grads_c = _mlp_grads("cpu")
    _same(loss_g.detach(), loss_c.detach(), what="loss")
    for k, (g, c) in enumerate(zip(grads_g, grads_c)):
        assert g is not None and g.is_cuda, f"grad {k} not on cuda"
        _same(g, c, what=f"grad {k}")


def test_double_backward_on_cuda():
    x = ember.tensor([0.5, -1.0, 2.0], device="cuda", requires_grad=True)
    (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    assert gg.is_cuda and gg.cpu().tolist() == pytest.approx([3.0, -6.0, 12.0])


# -- the op table on cuda ------------------------------------------------------------------------

# Not compared with cpu: factories (no tensor input decides the device), seeded random draws
# (CuPy's streams are not PyTorch's), and eig/eigvals (CPU only: CuPy has no general eig).
_CPU_ONLY = {"linalg.eig", "linalg.eigvals"}
OPDB = [s for s in ALL_SPECS if "float32" in s.dtypes and not s.id.endswith("_seeded")
        and s.name not in _CPU_ONLY]


@pytest.mark.parametrize("spec", OPDB, ids=[s.id for s in OPDB])
def test_opdb_cuda_matches_cpu(spec):
    rng = np.random.default_rng(0)
    fn = spec.ember_fn()
    rtol, atol = tolerance(spec, "float32")
    rtol, atol = max(rtol, GPU_TOL[0]), max(atol, GPU_TOL[1])
    for sample in spec.make_samples(rng, "float32"):
        if not any(isinstance(a, np.ndarray) for a in sample.args):
            pytest.skip(f"{spec.id}: a factory, no tensor input to place on cuda")
        c_args, c_kw = ember_args(sample, requires_grad=spec.grad, device="cpu")
        g_args, g_kw = ember_args(sample, requires_grad=spec.grad, device="cuda")
        c_out = [o for o in flat_outputs(fn(*c_args, **c_kw)) if isinstance(o, ember.Tensor)]
        g_out = [o for o in flat_outputs(fn(*g_args, **g_kw)) if isinstance(o, ember.Tensor)]
        assert len(c_out) == len(g_out), f"{spec.id}{sample}: output count differs"
        for i, (g, c) in enumerate(zip(g_out, c_out)):
            _same(g, c, rtol, atol, f"{spec.id}{sample} output {i}")
        if not spec.grad:
            continue
        pairs = [(g, c) for g, c in zip(g_out, c_out) if c.requires_grad]
        c_leaves, g_leaves = leaves(c_args), leaves(g_args)
        if not pairs or not c_leaves:
            continue
        gen = np.random.default_rng(1)
        cots = [gen.standard_normal(tuple(c.shape)).astype(c.dtype.np) for _, c in pairs]
        c_grads = ember.autograd.grad([c for _, c in pairs], c_leaves,
                                      [ember.tensor(x) for x in cots], allow_unused=True)
        g_grads = ember.autograd.grad([g for g, _ in pairs], g_leaves,
                                      [ember.tensor(x, device="cuda") for x in cots],
                                      allow_unused=True)
        for k, (g, c) in enumerate(zip(g_grads, c_grads)):
            assert (g is None) == (c is None), f"{spec.id}{sample}: grad {k} presence differs"
            if c is not None:
                _same(g, c, rtol, atol, f"{spec.id}{sample} grad of input {k}")


# -- devices ------------------------------------------------------------------------------------

def test_mixed_devices_raise_torchs_error():
    g = ember.ones(3, device="cuda")
    c = ember.ones(3)
    for f in (lambda: g + c, lambda: c * g, lambda: ember.where(c > 0, g, c),
              lambda: g @ ember.ones(3, 2)):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            f()


def test_cpu_scalar_tensor_joins_cuda_tensor():
    g = ember.tensor([1.0, 2.0], device="cuda")
    s = ember.tensor(3.0)
    for out in (g * s, s * g, g + s, s - g):
        assert out.is_cuda
    assert (s * g).cpu().tolist() == [3.0, 6.0]
    assert (s - g).cpu().tolist() == [2.0, 1.0]


def test_default_device_cuda():
    try:
        ember.set_default_device("cuda")
        assert ember.zeros(2).is_cuda
        assert ember.tensor([1, 2]).is_cuda
        assert ember.get_default_device() == ember.device("cuda", 0)
    finally:
        ember.set_default_device(None)
    with ember.device("cuda:0"):
        assert ember.ones(1).device == ember.device("cuda:0")
    assert ember.ones(1).is_cpu


def test_cuda_module_queries():
    assert ember.cuda.is_available()
    assert ember.cuda.device_count() >= 1
    assert ember.cuda.current_device() == 0
    ember.cuda.set_device(0)
    ember.cuda.set_device("cuda:0")
    with ember.cuda.device(0):
        assert ember.cuda.current_device() == 0
    name = ember.cuda.get_device_name()
    assert isinstance(name, str) and name
    major, minor = ember.cuda.get_device_capability(0)
    assert major >= 3
    props = ember.cuda.get_device_properties(0)
    assert props.total_memory > 2**30 and props.multi_processor_count > 0
    assert ember.cuda.is_initialized()
    ember.cuda.synchronize()
    before = ember.cuda.memory_allocated()
    big = ember.zeros(1024, 1024, device="cuda")
    assert ember.cuda.memory_allocated() >= before + 4 * 2**20
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del big
    ember.cuda.empty_cache()
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total
    if torch is not None and torch.cuda.is_available():
        assert name == torch.cuda.get_device_name(0)


def test_cuda_manual_seed_repeats():
    ember.manual_seed(5)
    a = ember.randn(4, device="cuda")
    ember.manual_seed(5)
    b = ember.randn(4, device="cuda")
    assert a.is_cuda and a.cpu().tolist() == b.cpu().tolist()


def test_pickle_cuda_tensor_keeps_device():
    g = ember.tensor([[1.0, 2.0]], device="cuda", requires_grad=True)
    h = pickle.loads(pickle.dumps(g))
    assert h.is_cuda and h.requires_grad and h.cpu().tolist() == [[1.0, 2.0]]


# -- interop ------------------------------------------------------------------------------------

def test_cuda_array_interface_shares_memory():
    cp = _cp()
    g = ember.arange(6.0, device="cuda").reshape(2, 3)
    cai = g.__cuda_array_interface__
    assert cai["shape"] == (2, 3) and cai["typestr"] == "<f4"
    assert cai["data"][0] == g.data_ptr()
    a = cp.asarray(g)
    a[0, 0] = 42
    assert g[0, 0].item() == 42
    assert ember.as_tensor(a).data_ptr() == g.data_ptr()
    with pytest.raises(RuntimeError, match="requires grad"):
        ember.ones(2, device="cuda", requires_grad=True).__cuda_array_interface__
    with pytest.raises(AttributeError):
        ember.ones(2).__cuda_array_interface__


def test_dlpack_with_cupy_both_ways():
    cp = _cp()
    from ember.backends.interop import from_dlpack
    g = ember.arange(4.0, device="cuda")
    assert tuple(g.__dlpack_device__()) == (2, 0)
    a = cp.from_dlpack(g)
    assert a.data.ptr == g.data_ptr()
    a[1] = 10
    assert g.cpu().tolist() == [0.0, 10.0, 2.0, 3.0]
    b = cp.arange(3, dtype=cp.int32)
    t = from_dlpack(b)
    assert t.is_cuda and t.dtype is ember.int32 and t.data_ptr() == b.data.ptr


def test_dlpack_with_torch_cuda():
    if torch is None or not torch.cuda.is_available():
        pytest.skip("torch with CUDA not available")
    from ember.backends.interop import from_dlpack
    tt = torch.arange(5.0, device="cuda")
    e = from_dlpack(tt)
    assert e.is_cuda and e.data_ptr() == tt.data_ptr()
    back = torch.from_dlpack(ember.arange(3.0, device="cuda"))
    assert back.is_cuda and back.cpu().tolist() == [0.0, 1.0, 2.0]


def test_pin_memory_copies_into_pinned_host_memory():
    x = ember.arange(6.0).reshape(2, 3)
    assert not x.is_pinned()
    p = x.pin_memory()
    assert p.is_pinned() and p.pin_memory() is p and p.device.type == "cpu"
    np.testing.assert_array_equal(p.numpy(), x.numpy())
    np.testing.assert_array_equal(p.to("cuda", non_blocking=True).cpu().numpy(), x.numpy())

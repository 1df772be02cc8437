"""Random numbers: Generator, manual_seed, rand, randn, randint, randperm, normal, bernoulli,
multinomial, poisson and the in-place samplers (uniform_, normal_, bernoulli_, random_, ...).

Note [Matching PyTorch's CPU streams]
    PyTorch's CPU generator is an mt19937 seeded with ``init_genrand(seed & 0xffffffff)``;
    NumPy's ``MT19937`` with the legacy seeding (``RandomState(seed)``) produces the same
    32-bit words, and ``random_raw(n)`` hands out n of them at once. On top of that stream we
    follow PyTorch's CPU kernels, vectorised with NumPy, so that after the same
    ``manual_seed(s)`` ember's cpu values equal PyTorch's bit for bit:

    - uniform_/rand: float32 keeps the low 24 bits of one 32-bit word times 2**-24 (float16
      and bfloat16 round that float32; a value that rounds up to ``to`` wraps to ``from``);
      float64 keeps the low 53 bits of a 64-bit word made of two 32-bit words (first word
      high). ``x * (to - from) + from`` is one fused multiply-add, as in PyTorch's AVX2 build.
    - normal_/randn on a contiguous tensor of 16 or more elements: all n uniforms are drawn,
      then Box-Muller runs on blocks of 16 (element i pairs with i + 8); when n % 16 != 0 the
      last 16 elements are redrawn and transformed again (float16/bfloat16: float32 blocks,
      the tail drawn after the full blocks, then rounded). float32 uses the AVX2 kernel's
      Cephes polynomials for log/sin/cos (reproduced here operation by operation, including
      the fused multiply-adds the compiler forms), float64 the C library's log/sin/cos.
    - normal_ on fewer than 16 elements or a non-contiguous tensor: the scalar path, two
      float64 uniforms per pair of normals; the second normal of a pair is cached in the
      generator and returned by the next scalar normal (also across calls, and in the state).
    - random_/randint: ``word % range + from``, with a 64-bit word when range >= 2**32 (int64,
      float64, float32, bfloat16). randperm: Fisher-Yates with ``word % (n - i)``: a
      sequential Python loop, the one place we loop per element, because every swap depends
      on the previous ones.
    - bernoulli_(p: float): one float64 uniform per element, ``u < p`` (PyTorch on an Intel
      CPU with MKL uses MKL's own stream instead: ember cannot match that one).
      bernoulli_(p: Tensor): a float64 uniform for a float64 p, else a float32 uniform.
    - exponential_, geometric_, cauchy_, log_normal_: PyTorch's formulas over float64
      uniforms (log_normal_ over the scalar normal path); multinomial inverts the cumulative
      distribution at float64 uniforms (with replacement) or takes the top-k of
      ``p / Exponential(1)`` (without). These match PyTorch on CPUs where it does not call
      MKL's samplers (MKL is used on Intel CPUs for bernoulli_(float) and may be for
      exponential_). poisson uses NumPy's sampler seeded from the stream: same distribution,
      other numbers.
    Elements are written in memory order, like PyTorch's TensorIterator. float64 normals use
    NumPy's log/sin/cos: on a CPU where NumPy picks SIMD versions of those (AVX-512 builds)
    the last bit can differ. On cuda ember uses CuPy's generators: same distributions, other
    numbers, and no state export (get_state/set_state of a cuda Generator raise).
"""

from __future__ import annotations

import builtins
import contextlib
import math
import struct

import numpy as np

from .. import _dtype as D
from .._dispatch import Op, apply, apply_inplace
from .._tensor import Tensor

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator",
           "get_rng_state", "set_rng_state", "rand", "rand_like", "randn", "randn_like",
           "randint", "randint_like", "randperm", "normal", "bernoulli", "multinomial",
           "poisson"]

_DEFAULT_SEED = 67280421310721
_U64 = np.uint64
_MASK53 = _U64((1 << 53) - 1)
_STATE_BYTES = 5056
_MT_N = 624


# -- generator ---------------------------------------------------------------------------------

def _mt19937(seed32: int):
    """NumPy's MT19937 in the state init_genrand(seed32) leaves (PyTorch's seeding)."""
    _, key, pos, _, _ = np.random.RandomState(seed32).get_state()
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
    return bg


def _as_seed(seed) -> int:
    seed = int(seed)
    if seed < -(1 << 63) or seed >= (1 << 64):
        raise RuntimeError(f"Overflow when unpacking long long: seed {seed} is outside "
                           "[-0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff]")
    return seed % (1 << 64)


class Generator:
    """A random number generator; pass it to samplers as ``generator=``.

    A cpu generator reproduces PyTorch's cpu stream (see Note [Matching PyTorch's CPU
    streams]); a cuda generator wraps a CuPy ``RandomState``.

    Args:
        device: 'cpu' (default) or a cuda device.

    Example:
        >>> import ember
        >>> g = ember.Generator().manual_seed(0)
        >>> ember.rand(2, generator=g)
        tensor([0.4963, 0.7682])
    """

    def __init__(self, device="cpu"):
        from .._device import to_device
        self.device = to_device(device)
        self._seed = _DEFAULT_SEED
        self._bg = None
        self._cuda_rs = None
        self._normal = None            # PyTorch's cached second scalar normal (float64)
        self._normal_f = None          # its float32 twin; kept only for the state format
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to the stream of ``seed``; returns self."""
        self._seed = _as_seed(seed)
        self._normal = self._normal_f = None
        if self.device.type == "cpu":
            self._bg = _mt19937(self._seed & 0xFFFFFFFF)
        else:
            cp = _cupy()
            with cp.cuda.Device(self.device.index):
                self._cuda_rs = cp.random.RandomState(self._seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed."""
        import secrets
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed last given to manual_seed (or chosen by seed())."""
        return self._seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor; a cpu state has PyTorch's 5056-byte layout, so
        ``torch.set_rng_state`` accepts it (and ember accepts PyTorch's)."""
        if self.device.type != "cpu":
            raise NotImplementedError(
                "Generator.get_state: a cuda generator's state cannot be exported (CuPy's "
                "generators have no state API); re-seed with manual_seed instead")
        st = self._bg.state["state"]
        pos = int(st["pos"])
        head = struct.pack("<QiiQ", self._seed, _MT_N + 1 - pos, 1, pos % _MT_N)
        words = np.asarray(st["key"], dtype="<u8").tobytes()
        valid = self._normal is not None
        tail = struct.pack("<dddi4xf?3x", 0.0, self._normal if valid else 0.0, 0.0, int(valid),
                           self._normal_f if self._normal_f is not None else 0.0,
                           self._normal_f is not None)
        blob = head + words + tail
        return Tensor._make(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from get_state() (ember's or PyTorch's); returns self."""
        arr = np.asarray(new_state.detach().cpu() if isinstance(new_state, Tensor)
                         else new_state)
        if arr.dtype != np.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {D.from_numpy_dtype(arr.dtype)}")
        blob = arr.tobytes()
        if self.device.type != "cpu":
            raise NotImplementedError(
                "Generator.set_state: a cuda generator's state cannot be restored (CuPy's "
                "generators have no state API); re-seed with manual_seed instead")
        if len(blob) != _STATE_BYTES:
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a "
                               f"CPUGeneratorImplState of size 5056 but found the input RNG "
                               f"state size to be {len(blob)}")
        seed, left, _, _ = struct.unpack_from("<QiiQ", blob, 0)
        key = np.frombuffer(blob, dtype="<u8", count=_MT_N, offset=24).astype(np.uint32)
        _, normal_y, _, valid, normal_f, valid_f = struct.unpack_from("<dddi4xf?", blob,
                                                                      24 + 8 * _MT_N)
        bg = np.random.MT19937()
        bg.state = {"bit_generator": "MT19937",
                    "state": {"key": key, "pos": _MT_N + 1 - left}}
        self._bg = bg
        self._seed = seed
        self._normal = normal_y if valid else None
        self._normal_f = normal_f if valid_f else None
        return self

    def __repr__(self) -> str:
        return f"<ember.Generator object at {hex(id(self))}>"


default_generator = Generator()
default_generator.seed()              # like PyTorch: a fresh stream per process until seeded


def _cupy():
    from ..backends import cupy_backend
    return cupy_backend.load()


def manual_seed(seed: int) -> Generator:
    """Seed the default cpu generator and every cuda device's generator; returns the cpu one.

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.randint(0, 10, (4,))
        tensor([4, 9, 3, 0])
    """
    seed = _as_seed(seed)
    default_generator.manual_seed(seed)
    from ..backends import cupy_backend
    if cupy_backend.initialized():
        cp = cupy_backend.load()
        for i in range(cp.cuda.runtime.getDeviceCount()):
            with cp.cuda.Device(i):
                cp.random.seed(seed)
    return default_generator


def seed() -> int:
    """Seed the default generator nondeterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's initial seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default cpu generator's state (a uint8 tensor in PyTorch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default cpu generator's state."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, device_type: str = "cuda"):
    """Restore the cpu (and cuda) generator states on exit, like ``torch.random.fork_rng``."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    cuda_states = None
    from ..backends import cupy_backend
    if cupy_backend.initialized():
        # CuPy's generators cannot export their state: the block draws from fresh generators
        # and the originals, untouched (nothing is drawn from them), come back on exit.
        cp = cupy_backend.load()
        cuda_states = []
        base = int(np.random.SeedSequence(default_generator.initial_seed()).generate_state(1)[0])
        for i in range(cp.cuda.runtime.getDeviceCount()):
            with cp.cuda.Device(i):
                cuda_states.append(cp.random.get_random_state())
                cp.random.set_random_state(cp.random.RandomState(base + i))
    try:
        yield
    finally:
        default_generator.set_state(state)
        if cuda_states is not None:
            cp = cupy_backend.load()
            for i, rs in enumerate(cuda_states):
                with cp.cuda.Device(i):
                    cp.random.set_random_state(rs)


# -- the cpu stream ------------------------------------------------------------------------------

def _gen(generator, xp):
    """The generator to draw from; checks it matches the tensor's device type."""
    if generator is None:
        return default_generator if xp is np else None
    want = "cpu" if xp is np else "cuda"
    if generator.device.type != want:
        raise RuntimeError(f"Expected a '{want}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator


def _words32(gen, n):
    return gen._bg.random_raw(n) if n else np.zeros(0, np.uint64)


def _words64(gen, n):
    v = _words32(gen, 2 * n)
    return (v[0::2] << _U64(32)) | v[1::2]


_DIGITS = {np.dtype(np.float32): 24, np.dtype(np.float16): 11, D.bfloat16.np: 8,
           np.dtype(np.float64): 53}


def _fma32(a, b, c):
    """float32 a * b + c rounded once: a float32 product is exact in float64."""
    return (np.asarray(a, np.float64) * np.float64(b) + c).astype(np.float32)


def _uniform_cpu(gen, n, dt, low=0.0, high=1.0):
    """n uniforms in [low, high) of numpy dtype dt, PyTorch's cpu recipe."""
    if dt == np.float64:
        x = (_words64(gen, n) & _MASK53).astype(np.float64) * 2.0 ** -53
        if low == 0.0 and high == 1.0:
            return x
        return x * (np.float64(high) - np.float64(low)) + np.float64(low)
    # float16 and bfloat16 draw a float32 uniform and round it (PyTorch does the same).
    x = (_words32(gen, n) & _U64((1 << 24) - 1)).astype(np.float32) * np.float32(2.0 ** -24)
    if low == 0.0 and high == 1.0 and dt == np.float32:
        return x
    lo = np.float32(low)
    out = _fma32(x, np.float32(high) - lo, lo).astype(dt, copy=False)
    if dt != np.float32:
        # A value that rounds up to `to` wraps to `from`, as in PyTorch.
        out[out == np.asarray(high, dt)] = np.asarray(low, dt)
    return out


def _normal_scalar_cpu(gen, n, mean, std):
    """PyTorch's scalar normal path: float64 Box-Muller, second value of a pair cached."""
    out = np.empty(n, np.float64)
    k = 0
    if n and gen._normal is not None:
        out[0] = gen._normal
        gen._normal = None
        k = 1
    m = n - k
    if m:
        pairs = (m + 1) // 2
        u = _uniform_cpu(gen, 2 * pairs, np.dtype(np.float64))
        u1, u2 = u[0::2], u[1::2]
        r = np.sqrt(-2.0 * np.log1p(-u2))
        theta = 2.0 * math.pi * u1
        seq = np.empty(2 * pairs, np.float64)
        seq[0::2] = r * np.cos(theta)
        seq[1::2] = r * np.sin(theta)
        out[k:] = seq[:m]
        if m % 2:
            gen._normal = float(seq[m])
    if mean == 0.0 and std == 1.0:
        return out
    return _fma64(out, std, mean)


def _fma64(a, b, c):
    """float64 a * b + c rounded once (PyTorch's build fuses it)."""
    prod = a * b
    # Dekker's two-product recovers the rounding error of a * b exactly.
    err = _two_prod_err(a, b, prod)
    s = prod + c
    bv = s - prod
    err_sum = (prod - (s - bv)) + (c - bv)
    return s + (err_sum + err)


def _two_prod_err(a, b, p):
    split = 134217729.0
    a = np.asarray(a, np.float64)
    b = np.broadcast_to(np.asarray(b, np.float64), a.shape)
    ca = split * a
    ahi = ca - (ca - a)
    alo = a - ahi
    cb = split * b
    bhi = cb - (cb - b)
    blo = b - bhi
    return ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo


# PyTorch's AVX2 float32 normal kernel computes log, sin and cos with the Cephes polynomials of
# avx_mathfun.h; the compiler fuses some multiply-adds (GCC's default fp-contract). Each line
# below is one vector instruction of that kernel.

def _log_ps(x):
    f = np.float32
    x = np.maximum(x, f(1.17549435e-38))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(f) + f(1)
    x = ((bits & ~0x7F800000) | 0x3F000000).view(f)
    mask = x < f(0.707106781186547524)
    tmp = np.where(mask, x, f(0))
    x = x - f(1)
    e = e - np.where(mask, f(1), f(0))
    x = x + tmp
    z = x * x
    y = np.full(x.shape, 7.0376836292e-2, f)
    for p in (-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
              -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1):
        y = _fma32(y, x, f(p))
    y = y * x
    y = _fma32(y, z, e * f(-2.12194440e-4))
    y = _fma32(z, f(-0.5), y)
    x = x + y
    return _fma32(e, f(0.693359375), x)


def _sincos_ps(x):
    f = np.float32
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * f(1.27323954473516)).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(f)
    swap = (j & 4) != 0
    poly = (j & 2) == 0
    x = _fma32(y, f(-0.78515625), x)
    x = _fma32(y, f(-2.4187564849853515625e-4), x)
    x = _fma32(y, f(-3.77489497744594108e-8), x)
    sign_cos = (~(j - 2) & 4) != 0
    sign_sin = sign_sin ^ swap
    z = x * x
    c = _fma32(np.full(z.shape, 2.443315711809948e-5, f), z, f(-1.388731625493765e-3))
    c = _fma32(c, z, f(4.166664568298827e-2))
    c = c * z
    c = _fma32(c, z, -(z * f(0.5)))
    c = c + f(1)
    s = _fma32(np.full(z.shape, -1.9515295891e-4, f), z, f(8.3321608736e-3))
    s = _fma32(s, z, f(-1.6666654611e-1))
    s = s * z
    s = _fma32(s, x, x)
    sin = np.where(poly, s, c)
    cos = np.where(poly, c, s)
    return np.where(sign_sin, -sin, sin), np.where(sign_cos, -cos, cos)


def _box_muller16(u, dt, mean, std):
    """PyTorch's normal_fill_16 on rows of 16 uniforms (u: (k, 16))."""
    if dt == np.float32:
        f = np.float32
        r = np.sqrt(f(-2) * _log_ps(f(1) - u[:, :8]))
        s, c = _sincos_ps(f(2.0 * math.pi) * u[:, 8:])
        a, b = r * c, r * s
        if not (mean == 0.0 and std == 1.0):
            a, b = _fma32(a, f(std), f(mean)), _fma32(b, f(std), f(mean))
        return np.concatenate([a, b], axis=1)
    if dt == np.float64:
        r = np.sqrt(-2.0 * np.log(1.0 - u[:, :8]))
        theta = 2.0 * math.pi * u[:, 8:]
        a, b = r * np.cos(theta), r * np.sin(theta)
        if not (mean == 0.0 and std == 1.0):
            a, b = _fma64(a, std, mean), _fma64(b, std, mean)
        return np.concatenate([a, b], axis=1)
    raise TypeError(f"normal: no Box-Muller kernel for {dt}")


def _normal_cpu(gen, n, dt, mean, std, contiguous):
    if n >= 16 and contiguous:
        full = n // 16 * 16
        if dt == np.float32 or dt == np.float64:
            data = _uniform_cpu(gen, n, dt)
            out = data.copy()
        else:
            # float16/bfloat16: float32 blocks of 16 drawn one after the other, then rounded.
            data = _uniform_cpu(gen, full, np.dtype(np.float32))
            out = np.empty(n, np.float32)
        work = out.dtype
        out[:full] = _box_muller16(data[:full].reshape(-1, 16), work, mean, std).ravel()
        if n % 16:
            tail = _uniform_cpu(gen, 16, work).reshape(1, 16)
            out[n - 16:] = _box_muller16(tail, work, mean, std).ravel()
        return out.astype(dt, copy=False)
    return _normal_scalar_cpu(gen, n, mean, std).astype(dt)


# -- memory order --------------------------------------------------------------------------------

def _memory_order(x):
    """(perm, inverse) that put x's dims outermost-stride first (TensorIterator's order)."""
    if x.flags.c_contiguous or x.ndim < 2:
        return None
    perm = sorted(range(x.ndim), key=lambda d: (-builtins.abs(x.strides[d]) if x.shape[d] > 1
                                                 else 0, d))
    if perm == list(range(x.ndim)):
        return None
    return perm, tuple(int(i) for i in np.argsort(perm))


def _arrange(vals, x):
    """Values produced in x's memory order, laid out in x's logical shape."""
    order = _memory_order(x)
    if order is None:
        return vals.reshape(x.shape)
    perm, inv = order
    return vals.reshape(tuple(x.shape[d] for d in perm)).transpose(inv)


def _in_memory_order(a, x):
    """Elements of a (shaped like x) listed in x's memory order."""
    order = _memory_order(x)
    if order is None:
        return a.reshape(-1)
    return a.transpose(order[0]).reshape(-1)


# -- the cuda stream -----------------------------------------------------------------------------

def _cuda_rs(gen, x):
    if gen is not None:
        return gen._cuda_rs
    cp = _cupy()
    with cp.cuda.Device(x.device.id):
        return cp.random.get_random_state()


def _cuda_float(xp, x):
    return x.dtype if x.dtype in (np.float32, np.float64) else np.float32


# -- in-place samplers (the ops) -----------------------------------------------------------------

class _Sampler(Op):
    """Base of the in-place samplers: the result does not depend on the old values; the
    gradient through them is zero (PyTorch's rule)."""

    @staticmethod
    def backward(ctx, *grads):
        from .creation import zeros_like
        g = zeros_like(grads[0])
        return (g,) + (None,) * (len(ctx.in_shapes) - 1)


def _float_check(op, x):
    if x.dtype.kind != "f" and x.dtype != D.bfloat16.np:
        raise NotImplementedError(f"\"{op}\" not implemented for "
                                  f"'{_legacy(D.from_numpy_dtype(x.dtype))}'")


def _legacy(dt) -> str:
    from .._dispatch import _legacy_name
    return _legacy_name(dt)


class Uniform(_Sampler):
    name = "uniform"

    @staticmethod
    def forward(ctx, x, *, low, high, generator):
        _float_check("check_uniform_bounds", x)
        xp = ctx.xp
        gen = _gen(generator, xp)
        if xp is np:
            return _arrange(_uniform_cpu(gen, x.size, x.dtype, low, high), x)
        u = _cuda_rs(gen, x).random_sample(x.shape, dtype=_cuda_float(xp, x))
        return (u * (high - low) + low).astype(x.dtype)


class Normal(_Sampler):
    name = "normal"

    @staticmethod
    def forward(ctx, x, *, mean, std, generator):
        _float_check("normal_kernel_cpu", x)
        xp = ctx.xp
        gen = _gen(generator, xp)
        if xp is np:
            vals = _normal_cpu(gen, x.size, x.dtype, mean, std, x.flags.c_contiguous)
            return _arrange(vals, x)
        z = _cuda_rs(gen, x).normal(mean, std, x.shape, dtype=_cuda_float(xp, x))
        return z.astype(x.dtype)


class LogNormal(_Sampler):
    name = "log_normal"

    @staticmethod
    def forward(ctx, x, *, mean, std, generator):
        _float_check("log_normal_cpu", x)
        xp = ctx.xp
        gen = _gen(generator, xp)
        if xp is np:
            vals = np.exp(_normal_scalar_cpu(gen, x.size, mean, std)).astype(x.dtype)
            return _arrange(vals, x)
        z = _cuda_rs(gen, x).lognormal(mean, std, x.shape, dtype=_cuda_float(xp, x))
        return z.astype(x.dtype)


def _uniform64(ctx, gen, x):
    if ctx.xp is np:
        return _uniform_cpu(gen, x.size, np.dtype(np.float64))
    return _cuda_rs(gen, x).random_sample(x.size, dtype=np.float64)


class Exponential(_Sampler):
    name = "exponential"

    @staticmethod
    def forward(ctx, x, *, lambd, generator):
        _float_check("exponential_cpu", x)
        xp = ctx.xp
        u = _uniform64(ctx, _gen(generator, xp), x)
        return _arrange((-1.0 / lambd * xp.log1p(-u)).astype(x.dtype), x)


class Geometric(_Sampler):
    name = "geometric"

    @staticmethod
    def forward(ctx, x, *, p, generator):
        xp = ctx.xp
        u = _uniform64(ctx, _gen(generator, xp), x)
        return _arrange(xp.ceil(xp.log(u) / math.log1p(-p)).astype(x.dtype), x)


class Cauchy(_Sampler):
    name = "cauchy"

    @staticmethod
    def forward(ctx, x, *, median, sigma, generator):
        _float_check("cauchy_cpu", x)
        xp = ctx.xp
        u = _uniform64(ctx, _gen(generator, xp), x)
        return _arrange((median + sigma * xp.tan(math.pi * (u - 0.5))).astype(x.dtype), x)


class Bernoulli(_Sampler):
    """bernoulli_(p): p a number (attribute) or a tensor broadcast to self (input 1)."""
    name = "bernoulli"

    @staticmethod
    def forward(ctx, x, p_tensor=None, *, p, generator):
        xp = ctx.xp
        gen = _gen(generator, xp)
        if p_tensor is None:
            if xp is np:
                u = _uniform_cpu(gen, x.size, np.dtype(np.float64))
                return _arrange((u < p).astype(x.dtype), x)
            u = _cuda_rs(gen, x).random_sample(x.shape, dtype=np.float64)
            return (u < p).astype(x.dtype)
        try:
            pb = xp.broadcast_to(p_tensor, x.shape)
        except ValueError:
            from .._errors import fmt_shape
            raise RuntimeError(f"bernoulli_: the size of p {fmt_shape(p_tensor.shape)} must be "
                               f"broadcastable to self {fmt_shape(x.shape)}") from None
        if xp is np:
            pd = np.dtype(np.float64) if pb.dtype == np.float64 else np.dtype(np.float32)
            u = _uniform_cpu(gen, x.size, pd)
            pv = _in_memory_order(pb, x).astype(pd)
            return _arrange((u < pv).astype(x.dtype), x)
        u = _cuda_rs(gen, x).random_sample(x.shape, dtype=np.float64)
        return (u < pb).astype(x.dtype)


_INT_MAX = {np.dtype(t): np.iinfo(t).max for t in (np.int8, np.int16, np.int32, np.int64,
                                                     np.uint8)}


def _random_words(ctx, gen, x, n, wide):
    if ctx.xp is np:
        return _words64(gen, n) if wide else _words32(gen, n)
    rs = _cuda_rs(gen, x)
    bits = rs.randint(0, 1 << 32, size=(2 if wide else 1, n), dtype=np.int64).astype(np.uint64)
    return (bits[0] << _U64(32)) | bits[1] if wide else bits[0]


class Random(_Sampler):
    """random_(from, to): integers from [from, to) (to None: the dtype's whole range)."""
    name = "random"

    @staticmethod
    def forward(ctx, x, *, low, high, generator, to_max=False):
        xp = ctx.xp
        gen = _gen(generator, xp)
        dt = x.dtype
        n = x.size
        if low is None:                       # random_(): [0, 2**digits] or [0, max]
            if dt == np.bool_:
                vals = _random_words(ctx, gen, x, n, False) & _U64(1)
            elif dt.kind == "f" or dt == D.bfloat16.np:
                wide = dt == np.float64
                words = _random_words(ctx, gen, x, n, wide)
                vals = words % _U64((1 << _DIGITS[dt]) + 1)
            else:
                wide = dt == np.int64
                vals = _random_words(ctx, gen, x, n, wide) % _U64(_INT_MAX[dt] + 1)
            out = vals.astype(np.int64).astype(dt)
            return _arrange(out, x) if xp is np else out.reshape(x.shape)
        span = high - low
        # random_(from) (to=None) on int32/int64 takes 64-bit words, like PyTorch.
        wide = (to_max and dt in (np.int32, np.int64)) or (
            span >= (1 << 32) and (dt in (np.int64, np.float64, np.float32) or
                                   dt == D.bfloat16.np))
        words = _random_words(ctx, gen, x, n, wide)
        if span >= (1 << 64):
            vals = words.view(np.int64)
        else:
            vals = (words % _U64(span)).astype(np.int64) + np.int64(low)
        out = vals.astype(dt)
        return _arrange(out, x) if xp is np else out.reshape(x.shape)


def _generator_kw(generator):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"expected a Generator as generator=, got {type(generator).__name__}")
    return generator


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill with uniform samples in [from, to); returns self."""
    from_ = kw.pop("from", from_)
    if kw:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kw)}")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_} > to={to}")
    return apply_inplace(Uniform, self, low=float(from_), high=float(to),
                         generator=_generator_kw(generator))


def _check_std(std, op="normal"):
    if std < 0:
        raise RuntimeError(f"{op} expects std >= 0.0, but found std {_num(std)}")


def _num(v):
    return int(v) if float(v).is_integer() else v


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples N(mean, std**2); returns self."""
    _check_std(std)
    return apply_inplace(Normal, self, mean=float(mean), std=float(std),
                         generator=_generator_kw(generator))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std**2)) samples; returns self."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    return apply_inplace(LogNormal, self, mean=float(mean), std=float(std),
                         generator=_generator_kw(generator))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate lambd; returns self."""
    if not lambd > 0 or math.isinf(lambd):
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return apply_inplace(Exponential, self, lambd=float(lambd),
                         generator=_generator_kw(generator))


def geometric_(self, p, *, generator=None):
    """Fill with geometric samples (trials until the first success, success prob p)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return apply_inplace(Geometric, self, p=float(p), generator=_generator_kw(generator))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples; returns self."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return apply_inplace(Cauchy, self, median=float(median), sigma=float(sigma),
                         generator=_generator_kw(generator))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples, 1 with probability p (a number or a broadcastable tensor)."""
    generator = _generator_kw(generator)
    if isinstance(p, Tensor):
        if p.is_floating_point() is False:
            raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                      f"'{_legacy(p.dtype)}'")
        if p._data.size and (bool((p < 0).any()) or bool((p > 1).any())):
            raise RuntimeError("bernoulli_: Expected p_in >= 0 && p_in <= 1 to be true, but "
                               "got false.")
        return apply_inplace(Bernoulli, self, p.detach(), p=None, generator=generator)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return apply_inplace(Bernoulli, self, p=float(p), generator=generator)


def _random_(self, low=None, high=None, generator=None):
    """random_ with explicit bounds: low None -> the whole range ([0, 2**mantissa] for floats,
    [0, max] for integers); high None -> up to that same maximum."""
    generator = _generator_kw(generator)
    if low is None and high is None:
        return apply_inplace(Random, self, low=None, high=None, generator=generator)
    dt = self.dtype
    if dt.is_floating_point:
        lo_dt, hi_dt = -(1 << _DIGITS[dt.np]), (1 << _DIGITS[dt.np]) + 1
    elif dt is D.bool:
        lo_dt, hi_dt = 0, 2
    else:
        info = np.iinfo(dt.np)
        lo_dt, hi_dt = int(info.min), int(info.max) + 1
    low = int(low)
    to_max = high is None
    high = hi_dt if to_max else int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    if not dt.is_floating_point and (low < lo_dt or high > hi_dt):
        raise RuntimeError(f"random_ expects 'from' and 'to' within [{lo_dt}, {hi_dt}] for "
                           f"{dt}, but got from={low}, to={high}")
    return apply_inplace(Random, self, low=low, high=high, generator=generator, to_max=to_max)


def random_(self, *args, generator=None, **kw):
    """Fill with integers: random_() over [0, 2**mantissa] (floats) or [0, max] (integers);
    random_(to) over [0, to); random_(from, to) over [from, to) (to=None: up to that
    maximum). Returns self."""
    unknown = set(kw) - {"from", "to"}
    if unknown or len(args) > 2:
        raise TypeError(f"random_() received an invalid combination of arguments: "
                        f"{len(args)} positional, keywords {sorted(kw)}")
    if "from" in kw or "to" in kw or len(args) == 2:
        low = kw.pop("from", args[0] if args else 0)
        high = kw.pop("to", args[1] if len(args) > 1 else None)
        return _random_(self, low, high, generator)
    if args:
        return _random_(self, 0, args[0], generator)
    return _random_(self, generator=generator)


# -- factories -----------------------------------------------------------------------------------

def _empty(size, dtype, device, default=None):
    from .creation import empty
    dt = dtype if dtype is not None else (default or D.get_default_dtype())
    return empty(tuple(size), dtype=dt, device=device)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size, op):
    if not size:
        raise TypeError(f"{op}() received an invalid combination of arguments - got (): the "
                        "size is required (pass () for a 0-d tensor)")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return size


def _sample_into(t, sampler, **attrs):
    """Run a sampler op on a fresh tensor outside autograd."""
    from ..autograd.grad_mode import no_grad
    with no_grad():
        apply_inplace(sampler, t, **attrs)
    return t


def _out_or_new(out, size, dtype, device, default=None):
    if out is not None:
        from .creation import _size_arg
        shape = _size_arg(size)
        if tuple(out.shape) != shape:
            resize = getattr(out, "resize_", None)
            if resize is None:
                raise RuntimeError(f"out= tensor of shape {tuple(out.shape)} does not match "
                                   f"{shape}")
            resize(shape)
        return out
    return _empty(size, dtype, device, default)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples in [0, 1).

    Args:
        *size: the shape (ints, or one tuple/list/Size).
        generator: the Generator to draw from (default: the global one).
        dtype, device, requires_grad: as for other factories.

    Returns:
        A tensor of the given shape; equals PyTorch's cpu values for the same seed.

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.rand(3)
        tensor([0.4963, 0.7682, 0.0885])
    """
    t = _out_or_new(out, _size(size, "rand"), dtype, device)
    _sample_into(t, Uniform, low=0.0, high=1.0, generator=_generator_kw(generator))
    return _finish(t, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples.

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.randn(3)
        tensor([ 1.5410, -0.2934, -2.1788])
    """
    t = _out_or_new(out, _size(size, "randn"), dtype, device)
    _sample_into(t, Normal, mean=0.0, std=1.0, generator=_generator_kw(generator))
    return _finish(t, requires_grad)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    """rand with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return rand(input.shape, generator=generator, dtype=dt, device=dev,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    """randn with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return randn(input.shape, generator=generator, dtype=dt, device=dev,
                 requires_grad=requires_grad)


def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False, low=None, high=None):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    Args:
        low: smallest value (default 0). high: one past the largest value.
        size: the shape (a tuple). generator: the Generator to draw from.
        dtype: int64 unless given (float dtypes hold the integers too).

    Returns:
        A tensor of the given shape; equals PyTorch's cpu values for the same seed.

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.randint(3, 10, (5,))
        tensor([7, 6, 3, 5, 4])
    """
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise TypeError(f"randint() received an invalid combination of arguments: {args}")
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: high and size "
                        "(randint(low=0, high, size))")
    low = 0 if low is None else low
    t = _out_or_new(out, tuple(size), dtype, device, default=D.int64)
    if t.dtype is D.bool:
        raise NotImplementedError("\"random_from_to\" not implemented for 'Bool'")
    _sample_into_random(t, int(low), int(high), generator)
    return _finish(t, requires_grad)


def _sample_into_random(t, low, high, generator):
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    from ..autograd.grad_mode import no_grad
    with no_grad():
        _random_(t, low, high, generator)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    """randint with input's shape, dtype and device: ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    dt, dev = _like(input, dtype, device)
    t = _empty(tuple(input.shape), dt, dev)
    _sample_into_random(t, int(low), int(high), generator)
    return _finish(t, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1 (int64 unless dtype is given).

    Args:
        n: the length. generator, dtype, device, requires_grad: as for rand.

    Returns:
        A 1-D tensor; on cpu PyTorch's Fisher-Yates shuffle of the same stream.

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.randperm(5)
        tensor([4, 0, 1, 3, 2])
    """
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    from .creation import _dtype_arg
    dt = _dtype_arg(dtype) if dtype is not None else D.int64
    if dt.is_floating_point and n > (1 << _DIGITS[dt.np]):
        raise RuntimeError(f"n must be less than or equal to {1 << _DIGITS[dt.np]} for "
                           f"{dt} dtype, got {n}")
    from .creation import _resolve_device
    dev = _resolve_device(device)
    gen = _generator_kw(generator)
    if dev.type == "cpu":
        gen = _gen(gen, np)
        perm = list(range(n))
        if n < 0xFFFFFFFF // 20:
            words = _words32(gen, builtins.max(n - 1, 0)).tolist()
            for i in range(n - 1):         # Fisher-Yates: each swap depends on the last
                z = i + words[i] % (n - i)
                perm[i], perm[z] = perm[z], perm[i]
        else:                              # PyTorch's inside-out variant for huge n
            words = _words64(gen, n).tolist()
            for i in range(n):
                z = words[i] % (i + 1)
                perm[i] = perm[z]
                perm[z] = i
        arr = np.asarray(perm, dtype=np.int64).astype(dt.np)
        t = Tensor._make(arr)
    else:
        cp = _cupy()
        with cp.cuda.Device(dev.index):
            rs = gen._cuda_rs if gen is not None else cp.random.get_random_state()
            t = Tensor._make(rs.permutation(n).astype(dt.np))
    if out is not None:
        from .creation import copy_
        return copy_(_out_or_new(out, (n,), dt, dev), t)
    return _finish(t, requires_grad)


# -- normal, bernoulli, multinomial, poisson -----------------------------------------------------

class _Affine(Op):
    """noise * std + mean with PyTorch's gradient for normal(): zero for mean and std."""
    name = "normal"

    @staticmethod
    def forward(ctx, mean, std, *, noise):
        xp = ctx.xp
        out = noise
        if std is not None:
            out = out * std
        if mean is not None:
            out = out + mean
        return xp.asarray(out).astype(noise.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        from ._broadcast import sum_to
        from .creation import zeros_like
        z = zeros_like(grad)
        return tuple(sum_to(z, s) if need else None
                     for s, need in zip(ctx.in_shapes, ctx.needs_input_grad))


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, requires_grad=False, pin_memory=False):
    """Normal samples: ``normal(mean, std)`` with tensor means and/or stds (broadcast), or
    ``normal(mean: float, std: float, size)``.

    Args:
        mean: a tensor or a number. std: a tensor or a non-negative number.
        size: the shape, needed when both mean and std are numbers.
        generator: the Generator to draw from.

    Returns:
        A tensor of the broadcast shape (or ``size``).

    The gradient with respect to tensor mean/std is zero, like PyTorch's (no
    reparameterisation: write ``mean + std * randn_like(std)`` for that).

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.normal(2.0, 3.0, (3,))
        tensor([ 6.6230,  1.1197, -4.5364])
    """
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    generator = _generator_kw(generator)
    if not tm and not ts:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: with "
                            "float mean and std, size is required")
        _check_std(std)
        t = _out_or_new(out, tuple(size), dtype, device)
        _sample_into(t, Normal, mean=float(mean), std=float(std), generator=generator)
        return _finish(t, requires_grad)
    if ts and std._data.size and bool((std < 0).any()):
        raise RuntimeError(f"normal expects all elements of std >= 0.0 (got min "
                           f"{std.min().item()})")
    if not ts:
        _check_std(std)
    ref = mean if tm else std
    if tm and ts:
        shape = np.broadcast_shapes(mean.shape, std.shape)
        res_dt = D.promote_types(mean.dtype, std.dtype)
    else:
        shape = tuple(ref.shape)
        res_dt = ref.dtype
    if not res_dt.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                  f"'{_legacy(res_dt)}'")
    # PyTorch: out.normal_(0, std) + mean for a float std, else out.normal_(0, 1) * std + mean.
    noise = _empty(tuple(shape), res_dt, ref.device)
    if ts:
        _sample_into(noise, Normal, mean=0.0, std=1.0, generator=generator)
        res = apply(_Affine, mean if tm else None, std, noise=noise._data) if tm else \
            apply(_Affine, None, std, noise=noise._data) + mean
    else:
        _sample_into(noise, Normal, mean=0.0, std=float(std), generator=generator)
        res = apply(_Affine, mean, None, noise=noise._data)
    if out is not None:
        from .creation import copy_
        return copy_(out, res)
    return res


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples with probabilities ``input`` (or the number p), in input's dtype.

    Args:
        input: probabilities in [0, 1] (or any tensor whose shape and dtype to use with p).
        p: a probability used for every element instead of input's values.
        generator: the Generator to draw from.

    Returns:
        A tensor shaped and typed like input.

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.bernoulli(ember.tensor([0.0, 1.0, 0.5]))
        tensor([0., 1., 1.])
    """
    from .creation import empty_like
    t = empty_like(input) if out is None else out
    from ..autograd.grad_mode import no_grad
    with no_grad():
        if p is None:
            bernoulli_(t, input.detach(), generator=generator)
        else:
            bernoulli_(t, p, generator=generator)
    return t


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices sampled from the rows of ``input`` (non-negative weights, 1-D or 2-D).

    With replacement, each draw inverts the normalised cumulative distribution at a float64
    uniform (PyTorch's cpu method, same numbers); without replacement, the top
    ``num_samples`` of ``weights / Exponential(1)`` noise (PyTorch's method).

    Args:
        input: 1-D (categories) or 2-D (rows, categories) non-negative weights.
        num_samples: draws per row. replacement: whether a category can repeat.
        generator: the Generator to draw from.

    Returns:
        int64 indices of shape (num_samples,) or (rows, num_samples).

    Example:
        >>> import ember
        >>> _ = ember.manual_seed(0)
        >>> ember.multinomial(ember.tensor([0.0, 1.0, 3.0]), 4, replacement=True)
        tensor([2, 2, 2, 2])
    """
    generator = _generator_kw(generator)
    if input.dim() not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.dim()}-D "
                           f"input of shape {tuple(input.shape)}")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_legacy(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("multinomial: cannot sample n_sample <= 0 samples")
    n_cat = input.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({num_samples} > {n_cat})")
    w = input.detach()
    xp = np if w.is_cpu else _cupy()
    data = w._data.astype(np.float64) if w._data.dtype != np.float64 else w._data
    rows = data.reshape(-1, n_cat)
    if bool(xp.any(rows < 0)) or not bool(xp.all(xp.isfinite(rows))):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    sums = rows.sum(axis=1)
    if bool(xp.any(sums <= 0)):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    gen = _gen(generator, xp)
    if replacement and num_samples > 1:   # one draw: the exponential trick, as PyTorch
        # PyTorch's cpu method: the cumulative sum in the input's dtype, divided by its last
        # element, then for each float64 uniform u a binary search for the first bucket
        # whose cumulative mass is >= u. The search runs on all rows and samples at once.
        work = w._data if w._data.dtype.kind == "f" else w._data.astype(np.float32)
        cum = xp.cumsum(work.reshape(-1, n_cat), axis=1)
        cum = cum / cum[:, -1:]
        cum[:, -1] = 1
        n_rows = cum.shape[0]
        if xp is np:
            u = _uniform_cpu(gen, n_rows * num_samples, np.dtype(np.float64))
        else:
            u = _cuda_rs(gen, rows).random_sample(n_rows * num_samples)
        u = u.reshape(n_rows, num_samples)
        lo = xp.zeros(u.shape, dtype=np.int64)
        hi = xp.full(u.shape, n_cat, dtype=np.int64)
        for _ in range(n_cat.bit_length() + 1):
            active = hi > lo
            mid = lo + (hi - lo) // 2
            probe = xp.take_along_axis(cum, xp.minimum(mid, n_cat - 1), axis=1)
            right = (probe < u) & active
            lo = xp.where(right, mid + 1, lo)
            hi = xp.where(active & ~right, mid, hi)
        idx = lo
    else:
        from .creation import empty
        q = empty(*rows.shape, dtype=w.dtype, device=w.device)
        _sample_into(q, Exponential, lambd=1.0, generator=generator)
        keys = rows.astype(w._data.dtype) / q._data
        keys = xp.where(rows > 0, keys, -1.0)
        order = np.argsort(-keys, axis=1, kind="stable") if xp is np else \
            xp.argsort(-keys, axis=1)
        idx = order[:, :num_samples]
        if not bool(xp.all(xp.take_along_axis(rows, idx, axis=1) > 0)):
            raise RuntimeError("multinomial: invalid multinomial distribution (with "
                               "replacement=False, not enough non-negative category to sample)")
    idx = idx.astype(np.int64)
    if input.dim() == 1:
        idx = idx.reshape(num_samples)
    res = Tensor._make(idx)
    if out is not None:
        from .creation import copy_
        return copy_(out, res)
    return res


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (NumPy's sampler, seeded from the stream).

    Unlike the other samplers, the numbers differ from PyTorch's (same distribution).

    Args:
        input: non-negative rates. generator: the Generator to draw from.

    Returns:
        A tensor shaped and typed like input, holding whole numbers.
    """
    generator = _generator_kw(generator)
    rates = input.detach()._data
    if rates.size and bool((rates < 0).any()):
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    if type(rates) is np.ndarray:
        gen = _gen(generator, np)
        seed = int(_words64(gen, 1)[0])
        draws = np.random.Generator(np.random.PCG64(seed)).poisson(rates.astype(np.float64))
        return Tensor._make(np.asarray(draws).astype(rates.dtype))   # (a 0-d rate: a scalar)
    rs = _cuda_rs(_gen(generator, _cupy()), rates)
    return Tensor._make(rs.poisson(rates.astype(np.float64)).astype(rates.dtype))


def _bernoulli_method(self, p=None, *, generator=None):
    return bernoulli(self, p, generator=generator)


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    return multinomial(self, num_samples, replacement, generator=generator)


TENSOR_METHODS = {
    "uniform_": uniform_, "normal_": normal_, "bernoulli_": bernoulli_,
    "random_": random_, "exponential_": exponential_, "geometric_": geometric_,
    "log_normal_": log_normal_, "cauchy_": cauchy_, "bernoulli": _bernoulli_method,
    "multinomial": _multinomial_method,
}

"""NumPy-only pieces of the cpu backend."""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

# Note [Allocator tuning]
#     Every eager op allocates its output, and glibc serves blocks above 128 KiB (its default
#     mmap threshold) with fresh mmap'd pages that fault in on first touch and are unmapped on
#     free: a training step of a small GPT pays this for every activation, ~25-30% of its
#     time here. Raising the mmap threshold and the trim threshold keeps freed blocks in the
#     heap for reuse, as PyTorch's caching allocators do. The cost: the process keeps its
#     peak heap instead of returning it to the OS at once. Set EMBER_MALLOC_TUNING=0 before
#     importing ember to keep glibc's defaults. Other C libraries are left alone.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def _tune_allocator() -> bool:
    if sys.platform != "linux" or os.environ.get("EMBER_MALLOC_TUNING", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):      # not glibc
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, 512 << 20) and
                libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30) and
                libc.mallopt(_M_TOP_PAD, 64 << 20))


ALLOCATOR_TUNED = _tune_allocator()


class errstate:
    """``numpy.errstate(all='ignore')`` on cpu, nothing on cuda: PyTorch never warns on inf or
    nan results. (np.errstate costs ~4 us a use, so the hottest ops (add, sub, mul) rely on
    the module-scoped warnings filter in _dispatch.py instead.)"""

    __slots__ = ("state",)

    def __init__(self, xp):
        self.state = np.errstate(all="ignore") if xp is np else None

    def __enter__(self):
        if self.state is not None:
            self.state.__enter__()

    def __exit__(self, *exc):
        if self.state is not None:
            self.state.__exit__(*exc)


# Rational approximations of erf and erfc from the Cephes library (S. L. Moshier; BSD, as
# shipped in SciPy): relative error ~1e-16, a few array passes. NumPy has no erf, and this
# is ember's one erf on cpu (torch.erf, GELU, erfinv's refinement steps).
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
          7.00332514112805075473E3, 5.55923013010394962768E4)
_ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
          2.26290000613890934246E4, 4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
           9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
           1.65666309194161350182E3, 5.57535340817727675546E2)
def _poly(coeffs, x):
    """Horner's rule in place (fresh multi-megabyte temporaries per step cost page faults)."""
    acc = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        np.multiply(acc, x, out=acc)
        np.add(acc, c, out=acc)
    return acc


def erf(x):
    """erf of a float64 array (relative error ~1e-16)."""
    if x.ndim == 0:
        return erf(x.reshape(1)).reshape(())
    # For |x| >= 6, erfc(x) < 1e-16, so erf(x) rounds to +-1: Cephes' far branch is moot.
    a = np.abs(x)
    np.minimum(a, 6.0, out=a)
    z = x * x
    small = _poly(_ERF_T, z)
    np.divide(small, _poly(_ERF_U, z), out=small)
    np.multiply(small, x, out=small)
    erfc = np.multiply(a, a, out=z)                 # z is free again
    np.negative(erfc, out=erfc)
    np.exp(erfc, out=erfc)
    np.multiply(erfc, _poly(_ERFC_P, a), out=erfc)
    np.divide(erfc, _poly(_ERFC_Q, a), out=erfc)
    np.subtract(1.0, erfc, out=erfc)                # erf(|x|) for |x| > 1
    np.copysign(erfc, x, out=erfc)
    return np.where(a <= 1.0, small, erfc)

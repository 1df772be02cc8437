"""Linear algebra ops: the matmul family, einsum, products, norms, solvers, decompositions.

Decompositions are checked on well-conditioned random matrices: diagonally dominated for
inverses and solves, A A^T + n I for Cholesky, A + A^T (distinct eigenvalues) for eigh.
Eigenvectors and singular vectors are defined up to sign, so their wrappers fix the sign
(first row positive) before comparing with torch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

import ember
from ember.ops.elementwise import sign as _ember_sign

from .spec import OpSpec, Sample, draw

F = ("float32", "float64")
FC = ("float32", "float64", "complex64")
# Decompositions in float32 go through LAPACK paths that differ from torch's in rounding.
DECOMP_TOL = {"rtol": 1e-4, "atol": 1e-5}


def _arr(rng, shape, dtype, low=-2.0, high=2.0):
    return draw(rng, shape, dtype, low, high)


def _wellcond(rng, n, dtype, batch=()):
    """A random matrix whose diagonal dominates: far from singular."""
    a = rng.uniform(-1, 1, batch + (n, n)) + n * np.eye(n)
    return a.astype(dtype)


def _samples(*builders):
    def make(rng, dtype):
        return [b(rng, dtype) for b in builders]
    return make


def _s(*args, **kwargs):
    return Sample(tuple(args), kwargs)


def _sign(x):
    if isinstance(x, ember.Tensor):
        return _ember_sign(x)
    import torch
    return torch.sign(x)


def _lib(x):
    if isinstance(x, ember.Tensor):
        return ember
    import torch
    return torch


def _svd_fixed(A, full_matrices=False):
    U, S, Vh = _lib(A).linalg.svd(A, full_matrices=full_matrices)
    k = S.shape[-1]
    s = _sign(U[..., :1, :k])
    return U[..., :, :k] * s, S, Vh[..., :k, :] * s.mT


def _torch_svd_fixed(A):
    U, S, V = _lib(A).svd(A)
    s = _sign(U[..., :1, :])
    return U * s, S, V * s


def _eigh_fixed(A, UPLO="L"):
    L, V = _lib(A).linalg.eigh(A + A.mT, UPLO=UPLO)
    return L, V * _sign(V[..., :1, :])


def _eig_parts(A):
    """eig made gauge-free (eigenvectors scaled so their first row is 1) and real-valued (real
    and imaginary parts), so gradcheck and torch's gradients compare."""
    lib = _lib(A)
    L, V = lib.linalg.eig(A)
    W = V / V[..., :1, :]
    return lib.real(L), lib.imag(L), lib.real(W), lib.imag(W)


def _eigvals_parts(A):
    L = _lib(A).linalg.eigvals(A)
    return _lib(A).real(L), _lib(A).imag(L)


def _chol(A, upper=False):
    return _lib(A).linalg.cholesky(A @ A.mT, upper=upper)


def _quiet(fn):
    """fn with warnings off: torch.qr and torch.cholesky warn that they are deprecated."""
    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    return call


def _quiet_torch(name):
    def call(*args, **kwargs):
        return _quiet(getattr(_lib(args[0]), name))(*args, **kwargs)
    return call


def _ref64(fn):
    """fn on float64 (complex128) copies: the reference rounds only once."""
    def wide(a):
        if not isinstance(a, np.ndarray):
            return a
        return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)

    def ref(*args, **kwargs):
        return fn(*[wide(a) for a in args], **kwargs)
    return ref


def _torch_solve(*args, **kwargs):
    # torch may return a conjugate view (left=False); the oracle's to_numpy needs it resolved.
    return _lib(args[0]).linalg.solve(*args, **kwargs).resolve_conj()


MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (3, 4, 2)),
                 ((2, 3, 4), (4,)), ((4,), (4,))]

SPECS = [
    # -- matmul family --------------------------------------------------------------------------
    OpSpec("matmul", ref=_ref64(np.matmul), shapes=MATMUL_SHAPES,
           dtypes=("float32", "float64", "float16", "bfloat16", "int64", "complex64"),
           errors=[(_s(np.ones((3, 4)), np.ones((5, 6))), RuntimeError,
                    r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x6\)"),
                   (_s(np.ones((3, 4), np.float32), np.ones((4, 2))), RuntimeError,
                    "expected m1 and m2 to have the same dtype"),
                   (_s(np.ones(()), np.ones((3,))), RuntimeError, "at least 1D"),
                   (_s(np.ones((2, 3, 4)), np.ones((3, 4, 5))), RuntimeError,
                    "cannot be broadcast")]),
    OpSpec("mm", ref=_ref64(np.matmul), shapes=[((3, 4), (4, 2))],
           dtypes=("float32", "float64", "float16", "bfloat16", "int64"),
           errors=[(_s(np.ones((3, 4)), np.ones((4,))), RuntimeError, "mat2 must be a matrix"),
                   (_s(np.ones((4,)), np.ones((4, 3))), RuntimeError, "self must be a matrix"),
                   (_s(np.ones((3, 4)), np.ones((5, 6))), RuntimeError,
                    "mat1 and mat2 shapes cannot be multiplied")]),
    OpSpec("bmm", ref=_ref64(np.matmul), shapes=[((2, 3, 4), (2, 4, 2))], dtypes=FC,
           errors=[(_s(np.ones((3, 4)), np.ones((3, 4, 5))), RuntimeError,
                    "batch1 must be a 3D tensor"),
                   (_s(np.ones((2, 3, 4)), np.ones((3, 4, 5))), RuntimeError,
                    "Expected size for first two dimensions of batch2 tensor")]),
    OpSpec("mv", ref=_ref64(np.matmul), shapes=[((3, 4), (4,))], dtypes=FC,
           errors=[(_s(np.ones((3, 4)), np.ones((5,))), RuntimeError, "size mismatch"),
                   (_s(np.ones((3, 4)), np.ones((4, 1))), RuntimeError,
                    "vector \\+ matrix @ vector expected")]),
    OpSpec("addmm", shapes=[((3,), (3, 4), (4, 3)), ((3, 3), (3, 4), (4, 3))],
           kwargs={"beta": 0.5, "alpha": 2.0}),
    OpSpec("addmm", variant="beta0", shapes=[((3, 1), (3, 4), (4, 2))],
           kwargs={"beta": 0, "alpha": 1.5}),
    OpSpec("addmm", variant="default", shapes=[((2,), (3, 4), (4, 2))]),
    OpSpec("addbmm", shapes=[((3, 2), (2, 3, 4), (2, 4, 2))], kwargs={"beta": 0.5, "alpha": 2.0}),
    OpSpec("baddbmm", shapes=[((2, 3, 2), (2, 3, 4), (2, 4, 2)), ((2,), (2, 3, 4), (2, 4, 2))],
           kwargs={"beta": 1.5, "alpha": -1.0}),
    OpSpec("addmv", shapes=[((3,), (3, 4), (4,))], kwargs={"beta": 2.0, "alpha": 0.5}),
    OpSpec("addr", shapes=[((3, 4), (3,), (4,)), ((4,), (3,), (4,))],
           kwargs={"beta": 0.5, "alpha": 3.0}),
    OpSpec("outer", ref=_ref64(np.outer), shapes=[((3,), (4,))],
           dtypes=("float32", "float64", "int64", "complex64")),
    OpSpec("ger", shapes=[((3,), (2,))]),
    OpSpec("dot", ref=_ref64(np.dot), shapes=[((5,), (5,))],
           dtypes=("float32", "float64", "int64"),
           errors=[(_s(np.ones(3), np.ones(4)), RuntimeError, "inconsistent tensor size"),
                   (_s(np.ones(3, np.float32), np.ones(3)), RuntimeError,
                    "expected both vectors to have same dtype"),
                   (_s(np.ones((3, 1)), np.ones(3)), RuntimeError, "1D tensors expected")]),
    OpSpec("vdot", shapes=[((5,), (5,))], dtypes=FC),
    OpSpec("inner", ref=_ref64(np.inner), shapes=[((2, 3), (4, 3)), ((3,), (3,)), ((), (2, 3))],
           errors=[(_s(np.ones((2, 3)), np.ones((2, 4))), RuntimeError,
                    "the last dimension must match")]),
    OpSpec("tensordot", samples=_samples(
        lambda r, d: _s(_arr(r, (2, 3, 4), d), _arr(r, (3, 4, 2), d), dims=2),
        lambda r, d: _s(_arr(r, (2, 3, 4), d), _arr(r, (3, 2, 2), d), dims=([1, 0], [0, 2])),
        lambda r, d: _s(_arr(r, (2, 3), d), _arr(r, (4,), d), dims=0)),
        errors=[(_s(np.ones((2, 3)), np.ones((4, 2)), dims=1), RuntimeError,
                 "contracted dimensions need to match")]),
    OpSpec("kron", ref=_ref64(np.kron), shapes=[((2, 3), (3, 2)), ((2, 3), (3,)), ((2,), (3,))],
           dtypes=("float32", "float64", "int64")),
    OpSpec("trace", ref=lambda a: np.trace(a), shapes=[((3, 4),), ((3, 3),)],
           dtypes=("float32", "float64", "int64"),
           errors=[(_s(np.ones(3)), RuntimeError, "expected a matrix")]),
    OpSpec("cross", samples=_samples(
        lambda r, d: _s(_arr(r, (4, 3), d), _arr(r, (4, 3), d), dim=1),
        lambda r, d: _s(_arr(r, (3, 2), d), _arr(r, (3, 1), d), dim=0)),
        errors=[(_s(np.ones((4, 2)), np.ones((4, 2)), dim=1), RuntimeError,
                 "must have length 3")]),
    OpSpec("linalg.cross", shapes=[((4, 3), (4, 3)), ((2, 1, 3), (1, 4, 3))],
           ref=_ref64(lambda a, b: np.cross(a, b))),
    OpSpec("linalg.multi_dot",
           fn=lambda a, b, c: ember.linalg.multi_dot([a, b, c]),
           torch_fn=lambda a, b, c: _lib(a).linalg.multi_dot([a, b, c]),
           shapes=[((3,), (3, 4), (4,)), ((2, 3), (3, 4), (4, 5))]),
    OpSpec("linalg.multi_dot", variant="errors", dtypes=(),
           errors=[(_s([np.ones((2, 3))]), RuntimeError, "expected at least 2 tensors"),
                   (_s([np.ones((2, 3)), np.ones((4, 2))]), RuntimeError,
                    "cannot be multiplied")]),
    OpSpec("cdist", shapes=[((3, 4), (5, 4)), ((2, 3, 2), (2, 4, 2))]),
    OpSpec("cdist", variant="p1", shapes=[((3, 4), (2, 4))], kwargs={"p": 1.0}),

    # -- einsum ---------------------------------------------------------------------------------
    OpSpec("einsum", samples=_samples(
        lambda r, d: _s("ij,jk->ik", _arr(r, (3, 4), d), _arr(r, (4, 2), d)),
        lambda r, d: _s("bij,bjk", _arr(r, (2, 3, 4), d), _arr(r, (2, 4, 2), d)),
        lambda r, d: _s("ii->i", _arr(r, (3, 3), d)),
        lambda r, d: _s("ii", _arr(r, (3, 3), d)),
        lambda r, d: _s("...ij,...jk->...ik", _arr(r, (2, 3, 4), d), _arr(r, (1, 4, 2), d)),
        lambda r, d: _s("ij,k->jk", _arr(r, (2, 3), d), _arr(r, (4,), d)),
        lambda r, d: _s("ij,jk,kl->il", _arr(r, (2, 3), d), _arr(r, (3, 4), d),
                        _arr(r, (4, 2), d)),
        lambda r, d: _s("i...->...", _arr(r, (2, 3, 2), d)),
        lambda r, d: _s("bi,Bj", _arr(r, (2, 3), d), _arr(r, (2, 2), d))),
        dtypes=("float32", "float64", "float16", "int64", "complex64"),
        errors=[(_s("ij,jk", np.ones((3, 4)), np.ones((5, 2))), RuntimeError,
                 "subscript j has size 5 for operand 1"),
                (_s("ij,jk->", np.ones((3, 4))), RuntimeError, "fewer operands"),
                (_s("ij->ii", np.ones((3, 4))), RuntimeError, "appears more than once"),
                (_s("ijk->i", np.ones((3, 4))), RuntimeError, "does not match the number"),
                (_s("ij,jk", np.ones((3, 4), np.float32), np.ones((4, 2))), RuntimeError,
                 "expected scalar type")]),

    # -- norms ----------------------------------------------------------------------------------
    *[OpSpec("linalg.vector_norm", variant=f"ord{o}", samples=_samples(
        lambda r, d, o=o: _s(_arr(r, (3, 4), d), o),
        lambda r, d, o=o: _s(_arr(r, (2, 3, 4), d), o, dim=(0, 2), keepdim=True),
        lambda r, d, o=o: _s(_arr(r, (2, 3), d), o, dim=-1)),
        dtypes=F + (("complex64",) if o in (2, 1, 3, math.inf) else ()))
      for o in (2, 1, 3, 0.5, math.inf, -math.inf, 0)],
    OpSpec("linalg.vector_norm", variant="errors", dtypes=(),
           errors=[(_s(np.arange(3)), RuntimeError, "Expected a floating point or complex")]),
    *[OpSpec("linalg.matrix_norm", variant=f"ord{o}", samples=_samples(
        lambda r, d, o=o: _s(_arr(r, (3, 4), d), o),
        lambda r, d, o=o: _s(_arr(r, (2, 3, 4), d), o, dim=(0, 2), keepdim=True)),
        **({} if o not in ("nuc", 2, -2) else DECOMP_TOL))
      for o in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)],
    OpSpec("linalg.matrix_norm", variant="errors", dtypes=(),
           errors=[(_s(np.ones(3), "fro"), RuntimeError, "at least 2 dimensions"),
                   (_s(np.ones((3, 3)), 3), RuntimeError, "Order 3 not supported")]),
    OpSpec("linalg.norm", samples=_samples(
        lambda r, d: _s(_arr(r, (3, 4), d)),
        lambda r, d: _s(_arr(r, (3, 4), d), 1),
        lambda r, d: _s(_arr(r, (4,), d), 3),
        lambda r, d: _s(_arr(r, (2, 3, 4), d), None, (1, 2)),
        lambda r, d: _s(_arr(r, (2, 3, 4), d), math.inf, 1)),
        errors=[(_s(np.ones((2, 3, 3)), 2), RuntimeError, "input must be 1D or 2D")]),
    OpSpec("linalg.vecdot", shapes=[((3, 4), (4,))]),

    # -- inverses, determinants, solves ---------------------------------------------------------
    OpSpec("linalg.inv", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d)),
                                          lambda r, d: _s(_wellcond(r, 3, d, (2,)))),
           ref=np.linalg.inv, dtypes=FC, **DECOMP_TOL,
           errors=[(_s(np.zeros((3, 3))), ember.linalg.LinAlgError, "singular"),
                   (_s(np.zeros((3, 3))), RuntimeError, "could not be completed"),
                   (_s(np.zeros((3, 4))), RuntimeError, "must be batches of square matrices"),
                   (_s(np.zeros(3)), RuntimeError, "at least 2 dimensions"),
                   (_s(np.zeros((3, 3), np.int64)), RuntimeError, "Expected a floating point"),
                   (_s(np.zeros((3, 3), np.float16)), RuntimeError, "Low precision")]),
    OpSpec("linalg.inv_ex", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d, (2,)))),
           **DECOMP_TOL),
    OpSpec("inverse", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d))), **DECOMP_TOL),
    OpSpec("linalg.det", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d)),
                                          lambda r, d: _s(_wellcond(r, 2, d, (3,)))),
           ref=np.linalg.det, dtypes=FC, **DECOMP_TOL,
           errors=[(_s(np.zeros((3, 4))), RuntimeError, "must be batches of square")]),
    OpSpec("det", samples=_samples(lambda r, d: _s(_arr(r, (3, 3), d))), **DECOMP_TOL),
    OpSpec("linalg.slogdet", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d)),
                                              lambda r, d: _s(-_wellcond(r, 3, d, (2,)))),
           **DECOMP_TOL),
    OpSpec("slogdet", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d))), **DECOMP_TOL),
    OpSpec("logdet", samples=_samples(lambda r, d: _s(_wellcond(r, 3, d))), **DECOMP_TOL),
    OpSpec("linalg.solve", torch_fn=_torch_solve, samples=_samples(
        lambda r, d: _s(_wellcond(r, 3, d), _arr(r, (3, 2), d)),
        lambda r, d: _s(_wellcond(r, 3, d, (2,)), _arr(r, (2, 3), d)),
        lambda r, d: _s(_wellcond(r, 3, d, (2,)), _arr(r, (3,), d)),
        lambda r, d: _s(_wellcond(r, 3, d), _arr(r, (2, 3, 1), d)),
        lambda r, d: _s(_wellcond(r, 3, d), _arr(r, (2, 3), d), left=False)),
        dtypes=F, **DECOMP_TOL,
        errors=[(_s(np.eye(3), np.ones((4, 2))), RuntimeError, "Incompatible shapes"),
                (_s(np.zeros((3, 3)), np.ones((3, 2))), ember.linalg.LinAlgError,
                 "input matrix is singular")]),
    # Complex solve without left=False: torch's gradients there carry the conjugate bit, which
    # tests/oracle.to_numpy does not resolve yet.
    OpSpec("linalg.solve", variant="complex", torch_fn=_torch_solve, samples=_samples(
        lambda r, d: _s(_wellcond(r, 3, d), _arr(r, (3, 2), d)),
        lambda r, d: _s(_wellcond(r, 3, d, (2,)), _arr(r, (3,), d))),
        dtypes=("complex64",), **DECOMP_TOL),
    OpSpec("linalg.lstsq", samples=_samples(
        lambda r, d: _s(_arr(r, (5, 3), d), _arr(r, (5, 2), d)),
        lambda r, d: _s(_arr(r, (2, 5, 3), d), _arr(r, (2, 5, 2), d), driver="gelsd"),
        lambda r, d: _s(_arr(r, (5, 3), d), _arr(r, (5, 2), d), driver="gelss"),
        lambda r, d: _s(_arr(r, (3, 5), d), _arr(r, (3, 2), d), driver="gelsd"),
        lambda r, d: _s(_arr(r, (5, 3), d), _arr(r, (5,), d))),
        grad=False, **DECOMP_TOL),
    OpSpec("linalg.lstsq", variant="grad",
           fn=lambda A, B: ember.linalg.lstsq(A, B).solution,
           torch_fn=lambda A, B: _lib(A).linalg.lstsq(A, B).solution,
           samples=_samples(lambda r, d: _s(_arr(r, (5, 3), d), _arr(r, (5, 2), d))),
           **DECOMP_TOL),

    # -- decompositions -------------------------------------------------------------------------
    OpSpec("linalg.cholesky", fn=_chol, torch_fn=_chol, samples=_samples(
        lambda r, d: _s(_wellcond(r, 3, d)),
        lambda r, d: _s(_wellcond(r, 3, d, (2,)), upper=True)), **DECOMP_TOL),
    OpSpec("linalg.cholesky", variant="direct", grad=False,
           samples=_samples(lambda r, d: _s((lambda a: a @ a.T)(_wellcond(r, 3, d)))),
           ref=np.linalg.cholesky, **DECOMP_TOL,
           errors=[(_s(-np.eye(3)), ember.linalg.LinAlgError, "not positive-definite"),
                   (_s(np.ones((2, 3))), RuntimeError, "square matrices")]),
    OpSpec("cholesky", fn=_quiet(ember.cholesky), torch_fn=_quiet_torch("cholesky"),
           samples=_samples(lambda r, d: _s((lambda a: a @ a.T)(_wellcond(r, 3, d))),
                            lambda r, d: _s((lambda a: a @ a.T)(_wellcond(r, 3, d)), True)),
           grad=False, **DECOMP_TOL),
    OpSpec("cholesky_solve", samples=_samples(
        lambda r, d: _s(_arr(r, (3, 2), d), np.tril(_wellcond(r, 3, d))),
        lambda r, d: _s(_arr(r, (3, 2), d), np.triu(_wellcond(r, 3, d)), True)),
        **DECOMP_TOL),
    OpSpec("cholesky_inverse", samples=_samples(
        lambda r, d: _s(np.tril(_wellcond(r, 3, d))),
        lambda r, d: _s(np.triu(_wellcond(r, 3, d)), True)), **DECOMP_TOL),
    OpSpec("linalg.qr", samples=_samples(
        lambda r, d: _s(_arr(r, (4, 3), d)),
        lambda r, d: _s(_arr(r, (2, 3, 3), d)),
        lambda r, d: _s(_arr(r, (3, 5), d)),
        lambda r, d: _s(_arr(r, (3, 4), d), mode="complete")), **DECOMP_TOL,
        errors=[(_s(np.ones((3, 3)), mode="x"), RuntimeError, "unrecognized mode")]),
    OpSpec("linalg.qr", variant="r", grad=False,
           samples=_samples(lambda r, d: _s(_arr(r, (4, 3), d), mode="r")), **DECOMP_TOL),
    OpSpec("qr", fn=_quiet(ember.qr), torch_fn=_quiet_torch("qr"), samples=_samples(lambda r, d: _s(_arr(r, (4, 3), d)),
                                  lambda r, d: _s(_arr(r, (3, 3), d), False)), **DECOMP_TOL),
    OpSpec("linalg.svd", fn=_svd_fixed, torch_fn=_svd_fixed, samples=_samples(
        lambda r, d: _s(_arr(r, (4, 3), d)),
        lambda r, d: _s(_arr(r, (2, 3, 5), d)),
        lambda r, d: _s(_arr(r, (3, 3), d), full_matrices=True)), **DECOMP_TOL),
    OpSpec("svd", fn=_torch_svd_fixed, torch_fn=_torch_svd_fixed,
           samples=_samples(lambda r, d: _s(_arr(r, (4, 3), d))), **DECOMP_TOL),
    OpSpec("linalg.svdvals", samples=_samples(lambda r, d: _s(_arr(r, (4, 3), d)),
                                              lambda r, d: _s(_arr(r, (2, 2, 3), d))),
           ref=lambda a: np.linalg.svd(a, compute_uv=False), **DECOMP_TOL),
    OpSpec("linalg.eigh", fn=_eigh_fixed, torch_fn=_eigh_fixed, samples=_samples(
        lambda r, d: _s(_arr(r, (4, 4), d)),
        lambda r, d: _s(_arr(r, (2, 3, 3), d), UPLO="U")), **DECOMP_TOL),
    OpSpec("linalg.eigh", variant="errors", dtypes=(),
           errors=[(_s(np.ones((3, 4))), RuntimeError, "square matrices"),
                   (_s(np.eye(3), UPLO="X"), RuntimeError, "UPLO")]),
    OpSpec("linalg.eigvalsh", fn=lambda A: ember.linalg.eigvalsh(A + A.mT),
           torch_fn=lambda A: _lib(A).linalg.eigvalsh(A + A.mT),
           samples=_samples(lambda r, d: _s(_arr(r, (4, 4), d))), **DECOMP_TOL),
    OpSpec("linalg.eig", fn=_eig_parts, torch_fn=_eig_parts, samples=_samples(
        lambda r, d: _s(_arr(r, (3, 3), d)),
        lambda r, d: _s(_arr(r, (2, 3, 3), d))), dtypes=FC, **DECOMP_TOL),
    OpSpec("linalg.eig", variant="values", grad=False, check_dtype=True,
           samples=_samples(lambda r, d: _s(np.diag([1.0, 2.0, 3.0]).astype(d))),
           errors=[(_s(np.ones((2, 3))), RuntimeError, "square matrices")]),
    OpSpec("linalg.eigvals", fn=_eigvals_parts, torch_fn=_eigvals_parts,
           samples=_samples(lambda r, d: _s(_arr(r, (3, 3), d))), **DECOMP_TOL),
    OpSpec("linalg.pinv", samples=_samples(lambda r, d: _s(_arr(r, (4, 3), d)),
                                           lambda r, d: _s(_arr(r, (2, 3, 5), d))),
           ref=np.linalg.pinv, **DECOMP_TOL),
    OpSpec("pinverse", samples=_samples(lambda r, d: _s(_arr(r, (3, 4), d))), **DECOMP_TOL),
    OpSpec("linalg.matrix_power", samples=_samples(
        lambda r, d: _s(_arr(r, (3, 3), d, -1, 1), 3),
        lambda r, d: _s(_arr(r, (2, 3, 3), d, -1, 1), 1),
        lambda r, d: _s(_arr(r, (3, 3), d, -1, 1), 0),
        lambda r, d: _s(_wellcond(r, 3, d), -2)), **DECOMP_TOL,
        errors=[(_s(np.ones((3, 4)), 2), RuntimeError, "square matrices")]),
    OpSpec("linalg.matrix_rank", grad=False, samples=_samples(
        lambda r, d: _s(_arr(r, (4, 2), d) @ _arr(r, (2, 5), d)),
        lambda r, d: _s(_arr(r, (2, 4, 4), d)),
        lambda r, d: _s(np.eye(4, dtype=d), hermitian=True))),
    OpSpec("linalg.diagonal", shapes=[((2, 3, 4),)], kwargs={"offset": 1}),
    OpSpec("linalg.solve_triangular", samples=_samples(
        lambda r, d: _s(_wellcond(r, 3, d), _arr(r, (3, 2), d), upper=True),
        lambda r, d: _s(_wellcond(r, 3, d, (2,)), _arr(r, (3, 2), d), upper=False,
                        unitriangular=True),
        lambda r, d: _s(_wellcond(r, 3, d), _arr(r, (2, 3), d), upper=True, left=False)),
        **DECOMP_TOL),
    # torch cannot differentiate cond for norms other than 2 (its inv_ex output is modified in
    # place), so those variants compare values only; ember's is a composite of tested ops.
    *[OpSpec("linalg.cond", variant=f"p{p}", samples=_samples(
        lambda r, d, p=p: _s(_wellcond(r, 3, d), p)), grad=p in (None, -2), **DECOMP_TOL)
      for p in (None, "fro", -2, 1, math.inf)],
    OpSpec("linalg.vander", samples=_samples(lambda r, d: _s(_arr(r, (3,), d)),
                                             lambda r, d: _s(_arr(r, (2, 3), d), N=4)),
           dtypes=("float32", "float64", "int64")),
    OpSpec("linalg.tensorinv", samples=_samples(
        lambda r, d: _s(_wellcond(r, 4, d).reshape(2, 2, 4))), kwargs={}, **DECOMP_TOL),
    OpSpec("linalg.tensorsolve", samples=_samples(
        lambda r, d: _s(_wellcond(r, 4, d).reshape(2, 2, 4), _arr(r, (2, 2), d)),
        lambda r, d: _s(_wellcond(r, 4, d).reshape(4, 2, 2), _arr(r, (2, 2), d), dims=(0,))),
        **DECOMP_TOL),
    OpSpec("linalg.matrix_exp", samples=_samples(
        lambda r, d: _s(_arr(r, (3, 3), d)),
        lambda r, d: _s(_arr(r, (2, 2, 2), d, -8, 8))), **DECOMP_TOL),
    OpSpec("matrix_exp", samples=_samples(lambda r, d: _s(_arr(r, (2, 2), d))), **DECOMP_TOL),
]

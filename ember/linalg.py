"""ember.linalg: torch.linalg's names (norms, solvers, decompositions); the ops live in
ember/ops/linalg.py."""

from __future__ import annotations

from .ops import linalg as _ops

LinAlgError = _ops.LinAlgError
matmul = _ops.matmul
norm = _ops.norm
vector_norm = _ops.vector_norm
matrix_norm = _ops.matrix_norm
inv = _ops.inv
inv_ex = _ops.inv_ex
solve = _ops.solve
solve_ex = _ops.solve_ex
lstsq = _ops.lstsq
det = _ops.det
slogdet = _ops.linalg_slogdet
cholesky = _ops.linalg_cholesky
cholesky_ex = _ops.cholesky_ex
qr = _ops.linalg_qr
svd = _ops.linalg_svd
svdvals = _ops.svdvals
eigh = _ops.eigh
eigvalsh = _ops.eigvalsh
pinv = _ops.pinv
matrix_power = _ops.matrix_power
matrix_rank = _ops.matrix_rank
multi_dot = _ops.multi_dot
cross = _ops.linalg_cross
vecdot = _ops.vecdot
diagonal = _ops.diagonal
solve_triangular = _ops.solve_triangular
cond = _ops.cond
vander = _ops.vander
tensorinv = _ops.tensorinv
tensorsolve = _ops.tensorsolve
matrix_exp = _ops.matrix_exp
eig = _ops.eig
eigvals = _ops.eigvals

__all__ = sorted(_ops.LINALG_NAMES)

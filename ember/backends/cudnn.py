"""``torch.backends.cudnn``'s flags. ember's CUDA kernels come from CuPy (cuBLAS and its own
kernels), not cuDNN, so ``is_available()`` is False; the flags are kept so training scripts that
set them run unchanged, and ``deterministic`` is honoured trivially: ember's kernels are
deterministic."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None

"""torch.fft: discrete Fourier transforms (defined in ember/ops/signal.py)."""

from __future__ import annotations

from .ops.signal import (
                         fft,
                         fft2,
                         fftfreq,
                         fftn,
                         fftshift,
                         ifft,
                         ifft2,
                         ifftn,
                         ifftshift,
                         irfft,
                         irfft2,
                         irfftn,
                         rfft,
                         rfft2,
                         rfftfreq,
                         rfftn,
)

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

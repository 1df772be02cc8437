"""Helpers of the SummaryWriter: values to NumPy, image layouts, image grids, PNG encoding."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def make_np(x) -> np.ndarray:
    """An ember tensor, NumPy array or Python number as a NumPy array (numbers become (1,))."""
    from ..._tensor import Tensor
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, Tensor):
        arr = x.detach().numpy(force=True)
        if arr.dtype.name == "bfloat16":       # as PyTorch: bfloat16 is logged as float16
            arr = arr.astype(np.float16)
        return arr
    raise NotImplementedError(f"Got {type(x)}, but numpy array or ember tensor are expected.")


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile NCHW images (C is 1 or 3) into one CHW image, row by row, ncols per row.

    Cells past the last image stay zero, as in PyTorch's writer.
    """
    if not isinstance(images, np.ndarray):
        raise AssertionError("plugin error, should pass numpy array here")
    if images.ndim == 4 and images.shape[1] == 1:
        images = np.concatenate([images, images, images], 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = int(np.ceil(float(n) / ncols))
    padded = np.zeros((nrows * ncols, 3, h, w), dtype=images.dtype)
    padded[:n] = images
    grid = padded.reshape(nrows, ncols, 3, h, w).transpose(2, 0, 3, 1, 4)
    return grid.reshape(3, nrows * h, ncols * w)


def convert_to_HWC(tensor: np.ndarray, input_format: str) -> np.ndarray:  # noqa: N802
    """An image in ``input_format`` (NCHW, NHWC, CHW, HWC, HW, ...) as an HWC array with 3
    channels (grayscale is repeated; a batch is tiled with make_grid)."""
    if len(set(input_format)) != len(input_format):
        raise AssertionError("You can not use the same dimension shorthand twice. "
                             f"input_format: {input_format}")
    if len(tensor.shape) != len(input_format):
        raise AssertionError("size of input tensor and input format are different. "
                             f"tensor shape: {tensor.shape}, input_format: {input_format}")
    input_format = input_format.upper()
    if len(input_format) == 4:
        index = [input_format.find(c) for c in "NCHW"]
        return make_grid(tensor.transpose(index)).transpose(1, 2, 0)
    if len(input_format) == 3:
        index = [input_format.find(c) for c in "HWC"]
        hwc = tensor.transpose(index)
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    if len(input_format) == 2:
        index = [input_format.find(c) for c in "HW"]
        hw = tensor.transpose(index)
        return np.stack([hw, hw, hw], 2)
    raise AssertionError(f"input_format must have 2, 3 or 4 letters, got {input_format!r}")


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an HWC (or HW) uint8 image; through PIL when installed, else zlib."""
    try:
        from PIL import Image
    except ImportError:
        return _encode_png_zlib(image)
    import io
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG")
    return buf.getvalue()


def _encode_png_zlib(image: np.ndarray) -> bytes:
    """A minimal PNG writer: 8-bit gray, gray+alpha, RGB or RGBA, filter 0 on every row."""
    if image.ndim == 2:
        image = image[:, :, None]
    h, w, c = image.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = np.zeros((h, 1 + w * c), dtype=np.uint8)      # column 0: the row's filter byte
    rows[:, 1:] = image.reshape(h, w * c)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """Render matplotlib figure(s) to a CHW uint8 RGB array (NCHW for a list)."""
    import matplotlib.backends.backend_agg as backend_agg
    import matplotlib.pyplot as plt

    def render(figure):
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        w, h = figure.canvas.get_width_height()
        chw = np.moveaxis(data.reshape(h, w, 4)[:, :, :3], 2, 0)
        if close:
            plt.close(figure)
        return chw

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)

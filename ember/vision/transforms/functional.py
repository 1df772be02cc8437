"""The functions behind the transforms, as ``torchvision.transforms.functional``.

Each takes a PIL image or a tensor of shape (..., H, W) and returns the same kind (the
conversions excepted). Pillow is optional: without it, only tensors and arrays are handled.
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...nn.functional import interpolate as _interpolate
from ...nn.functional import pad as _nn_pad
from ...ops.creation import as_tensor, from_numpy

__all__ = ["InterpolationMode", "get_dimensions", "to_tensor", "pil_to_tensor", "to_pil_image",
           "convert_image_dtype", "normalize", "pad", "crop", "center_crop", "resize", "hflip",
           "vflip"]

# PIL modes whose pixels are not uint8 (the rest convert through uint8), as torchvision;
# ember has no uint16, so 16-bit images ('I;16') come out as int32 (values unchanged).
_MODE_TO_NPTYPE = {"I": np.int32, "I;16": np.int32, "F": np.float32}
_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _is_pil(img: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _check_image(img: Any, name: str) -> None:
    if not (isinstance(img, Tensor) or _is_pil(img)):
        raise TypeError(f"{name}: img should be PIL Image or Tensor. Got {type(img)}")


def _dimensions(img: Any) -> tuple[int, int, int]:
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"Tensor is not a torch image: expected at least 2 dims (..., H, "
                            f"W), got shape {tuple(img.shape)}")
        channels = 1 if img.ndim == 2 else img.shape[-3]
        return channels, img.shape[-2], img.shape[-1]
    width, height = img.size
    return len(img.getbands()), height, width


def get_dimensions(img: Any) -> list[int]:
    """``[channels, height, width]`` of a PIL image or a (..., H, W) tensor."""
    _check_image(img, "get_dimensions")
    return list(_dimensions(img))


def _pil_to_array(pic, bits_as_bool: bool = False) -> np.ndarray:
    """A PIL image as an (H, W, C) array in torchvision's dtype for its mode; mode '1' gives
    0/255 uint8 (to_tensor) or bool (pil_to_tensor), as torchvision."""
    if pic.mode == "1" and bits_as_bool:
        array = np.array(pic, dtype=np.bool_, copy=True)
    else:
        array = np.array(pic, _MODE_TO_NPTYPE.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            array = array * np.uint8(255)
    return array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))


# -- conversions -------------------------------------------------------------------------------

def to_tensor(pic: Any) -> Tensor:
    """A PIL image or an (H, W[, C]) NumPy array -> a (C, H, W) tensor.

    uint8 pixels become floats of the default dtype in [0, 1] (divided by 255); other dtypes
    keep their type and values, as torchvision does. PIL mode '1' gives 0.0/1.0.

    Example:
        >>> import numpy as np
        >>> from ember.vision.transforms.functional import to_tensor
        >>> to_tensor(np.array([[0, 51], [102, 255]], dtype=np.uint8))
        tensor([[[0.0000, 0.2000],
                 [0.4000, 1.0000]]])
    """
    if _is_pil(pic):
        array = _pil_to_array(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        float_dtype = D.get_default_dtype().np
        chw = chw.astype(float_dtype) / np.asarray(255, float_dtype)
    return from_numpy(chw)


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL image -> a (C, H, W) tensor of its pixel dtype (uint8 for 'L'/'RGB', bool for
    '1'), unscaled."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    return from_numpy(_pil_to_array(pic, bits_as_bool=True)).permute(2, 0, 1)


# Channel count -> PIL mode for uint8 pixels; one channel of other dtypes has its own mode.
_CHANNEL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_SINGLE_CHANNEL_MODES = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                         np.dtype(np.int32): "I", np.dtype(np.float32): "F"}


def to_pil_image(pic: Any, mode: str | None = None):
    """A (C, H, W) tensor or an (H, W, C) array -> a PIL image.

    Float pixels are scaled by 255 and truncated to uint8 (unless ``mode='F'``), as
    torchvision does; 1 channel gives 'L' (or 'I;16', 'I', 'F' by dtype), 2 'LA', 3 'RGB',
    4 'RGBA'.

    Args:
        pic: the image.
        mode: the PIL mode to produce; None infers it.
    """
    from PIL import Image
    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-3]} channels.")
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).to(D.uint8)
        array = pic.detach().cpu().numpy().transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        if array.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-1]} "
                             "channels.")
        if array.dtype.kind == "f" and mode != "F":
            array = (array * 255).astype(np.uint8)
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = array.shape[2]
    if channels == 1:
        array = array[:, :, 0]
        expected = _SINGLE_CHANNEL_MODES.get(array.dtype)
        if mode is not None and expected is not None and mode != expected and not (
                mode == "L" and array.dtype == np.uint8):
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type "
                             f"{array.dtype}. Should be {expected}")
        mode = mode or expected
    else:
        mode = mode or _CHANNEL_MODES[channels]
        if array.dtype != np.uint8:
            raise TypeError(f"to_pil_image: {channels}-channel images must be uint8, got "
                            f"{array.dtype}")
    if mode is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    image = Image.fromarray(np.ascontiguousarray(array))
    return image if image.mode == mode else image.convert(mode)


def _max_value(dtype) -> int:
    if dtype is D.bool:
        return 1
    return D.iinfo(dtype).max


def convert_image_dtype(image: Tensor, dtype=D.float32) -> Tensor:
    """Convert an image tensor's dtype, rescaling values as torchvision does.

    Integer images map [0, max] of their type onto [0, 1] floats and back (floats are
    scaled by ``max + 1 - 1e-3`` and truncated); integer to integer shifts bits.

    Raises:
        RuntimeError: float32 -> int32/int64 or float64 -> int64, which cannot be done safely.
    """
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
    if image.dtype is dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype is D.float32 and dtype in (D.int32, D.int64)) or \
                (image.dtype is D.float64 and dtype is D.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                               "safely.")
        eps = 1e-3
        return image.mul(float(_max_value(dtype)) + 1.0 - eps).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return image.div(factor, rounding_mode="floor").to(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return image.to(dtype) * factor


def _check_normalize_input(tensor: Any) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")


def _normalize_constants(mean, std, dtype, device) -> tuple[Tensor, Tensor]:
    mean = as_tensor(mean, dtype=dtype, device=device)
    std = as_tensor(std, dtype=dtype, device=device)
    if bool((std == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to "
                         "division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return mean, std


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float (..., C, H, W) tensor.

    Example:
        >>> import ember
        >>> from ember.vision.transforms.functional import normalize
        >>> normalize(ember.ones(1, 1, 2), (0.5,), (0.25,))
        tensor([[[2., 2.]]])
    """
    _check_normalize_input(tensor)
    mean, std = _normalize_constants(mean, std, tensor.dtype, tensor.device)
    if inplace:
        return tensor.sub_(mean).div_(std)
    return (tensor - mean) / std


# -- geometry ----------------------------------------------------------------------------------

def _parse_padding(padding) -> list[int]:
    """torchvision's padding forms -> [left, top, right, bottom]."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    if len(padding) not in (1, 2, 4):
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if len(padding) == 1:
        return [int(padding[0])] * 4
    if len(padding) == 2:
        return [int(padding[0]), int(padding[1])] * 2
    return [int(p) for p in padding]


def pad(img: Any, padding, fill=0, padding_mode: str = "constant") -> Any:
    """Pad the last two dims: ``padding`` is an int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom); negative values crop.

    Args:
        img: a PIL image or a (..., H, W) tensor.
        padding: how much to add on each side.
        fill: the constant for 'constant' mode (a tuple per band for PIL).
        padding_mode: 'constant', 'edge', 'reflect' (mirror without repeating the edge) or
            'symmetric' (mirror repeating it).
    """
    _check_image(img, "pad")
    if padding_mode not in _PADDING_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    if min(left, top, right, bottom) < 0:
        _, height, width = _dimensions(img)
        crop_top, crop_left = max(-top, 0), max(-left, 0)
        img = crop(img, crop_top, crop_left, height - crop_top - max(-bottom, 0),
                   width - crop_left - max(-right, 0))
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if (left, top, right, bottom) == (0, 0, 0, 0):
        return img
    if isinstance(img, Tensor):
        return _pad_tensor(img, left, top, right, bottom, fill, padding_mode)
    return _pad_pil(img, left, top, right, bottom, fill, padding_mode)


def _pad_tensor(img: Tensor, left, top, right, bottom, fill, padding_mode) -> Tensor:
    if padding_mode == "constant":
        if isinstance(fill, (tuple, list)):
            if len(set(fill)) != 1:
                raise TypeError("pad: a tensor image takes one fill value for all channels, "
                                f"got {fill}")
            fill = fill[0]
        return _nn_pad(img, (left, right, top, bottom), mode="constant", value=fill)
    # edge/reflect/symmetric all gather rows and columns: NumPy's pad of the index vectors
    # says which source row (column) each output row (column) copies.
    height, width = img.shape[-2:]
    rows = np.pad(np.arange(height), (top, bottom), mode=padding_mode)
    cols = np.pad(np.arange(width), (left, right), mode=padding_mode)
    rows = as_tensor(rows, dtype=D.int64, device=img.device)
    cols = as_tensor(cols, dtype=D.int64, device=img.device)
    return img.index_select(-2, rows).index_select(-1, cols)


def _pad_pil(img, left, top, right, bottom, fill, padding_mode):
    from PIL import Image, ImageOps
    bands = len(img.getbands())
    if padding_mode == "constant" and img.mode != "P":
        if isinstance(fill, (tuple, list)) and len(fill) != bands:
            raise ValueError(f"pad: fill has {len(fill)} values, the image {bands} bands")
        if bands > 1 and not isinstance(fill, (tuple, list)):
            fill = (fill,) * bands                       # PIL would fill only the first band
        return ImageOps.expand(img, border=(left, top, right, bottom),
                               fill=tuple(fill) if isinstance(fill, list) else fill)
    array = np.asarray(img)
    pads = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
    if padding_mode == "constant":                       # a palette image: pad the indices
        out = np.pad(array, pads, mode="constant", constant_values=fill)
    else:
        out = np.pad(array, pads, mode=padding_mode)
    result = Image.fromarray(out)
    if img.mode == "P":                                  # 'L' indices -> 'P' again
        result.putpalette(img.getpalette())
    return result


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The region ``[top, top + height) x [left, left + width)``; outside the image is 0."""
    _check_image(img, "crop")
    if not isinstance(img, Tensor):
        return img.crop((left, top, left + width, top + height))
    _, img_h, img_w = _dimensions(img)
    right, bottom = left + width, top + height
    if left >= 0 and top >= 0 and right <= img_w and bottom <= img_h:
        return img[..., top:bottom, left:right]
    row0, row1 = min(max(top, 0), img_h), min(max(bottom, 0), img_h)
    col0, col1 = min(max(left, 0), img_w), min(max(right, 0), img_w)
    row1, col1 = max(row1, row0), max(col1, col0)
    pad_top, pad_left = min(max(-top, 0), height), min(max(-left, 0), width)
    padding = (pad_left, width - pad_left - (col1 - col0),
               pad_top, height - pad_top - (row1 - row0))
    return _nn_pad(img[..., row0:row1, col0:col1], padding, value=0)


def center_crop(img: Any, output_size) -> Any:
    """Crop the center; an image smaller than ``output_size`` is zero-padded first."""
    _check_image(img, "center_crop")
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    crop_h, crop_w = output_size
    _, height, width = _dimensions(img)
    if crop_w > width or crop_h > height:
        padding = [(crop_w - width) // 2 if crop_w > width else 0,
                   (crop_h - height) // 2 if crop_h > height else 0,
                   (crop_w - width + 1) // 2 if crop_w > width else 0,
                   (crop_h - height + 1) // 2 if crop_h > height else 0]
        img = pad(img, padding, fill=0)
        _, height, width = _dimensions(img)
        if (crop_h, crop_w) == (height, width):
            return img
    top = int(round((height - crop_h) / 2.0))
    left = int(round((width - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    _check_image(img, "hflip")
    if isinstance(img, Tensor):
        return img.flip(-1)
    from PIL import Image
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img: Any) -> Any:
    """Mirror top-bottom."""
    _check_image(img, "vflip")
    if isinstance(img, Tensor):
        return img.flip(-2)
    from PIL import Image
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


# -- resize ------------------------------------------------------------------------------------

class InterpolationMode(enum.Enum):
    """How ``resize`` computes new pixels (torchvision's names and values)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"                                          # PIL images only, as torchvision
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# PIL's resampling constants (Image.NEAREST = 0, LANCZOS = 1, BILINEAR = 2, BICUBIC = 3,
# BOX = 4, HAMMING = 5), both ways.
_FROM_PIL_INT = {0: InterpolationMode.NEAREST, 1: InterpolationMode.LANCZOS,
                 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                 4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}
_TO_PIL_INT = {mode: code for code, mode in _FROM_PIL_INT.items()}
_TO_PIL_INT[InterpolationMode.NEAREST_EXACT] = 0


def _interpolation_mode(interpolation) -> InterpolationMode:
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int) and interpolation in _FROM_PIL_INT:
        return _FROM_PIL_INT[interpolation]
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding "
                    "Pillow integer constant")


def _resized_size(image_size: tuple[int, int], size: list[int],
                  max_size: int | None) -> list[int]:
    """torchvision's output size: (h, w) as given, or the smaller edge matched to size[0]
    keeping the aspect ratio (truncated), the longer edge capped at max_size."""
    height, width = image_size
    if len(size) == 2:
        return [int(size[0]), int(size[1])]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = int(size[0]), int(int(size[0]) * long / short)
    if max_size is not None:
        if max_size <= new_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return [new_h, new_w]


def _triangle(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _cubic(x: np.ndarray) -> np.ndarray:
    # Keys' cubic with a = -0.5: what PIL and PyTorch's antialiased bicubic use.
    a, x = -0.5, np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _aa_weights(in_size: int, out_size: int, kernel, support: float) -> np.ndarray:
    """The (out_size, in_size) matrix of PIL's (and PyTorch's antialias=True) resampling.

    Note [Antialiased resize as two matrix products]: each output pixel is a normalized
    weighted sum of the input pixels within ``support * scale`` of its center, so resizing
    is ``W_h @ image @ W_w.T``: BLAS does the work, with no loop over pixels.
    """
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    reach = support * filter_scale
    centers = (np.arange(out_size) + 0.5) * scale
    low = np.clip((centers - reach + 0.5).astype(np.int64), 0, None)       # C truncation
    high = np.clip((centers + reach + 0.5).astype(np.int64), None, in_size)
    columns = np.arange(in_size)
    weights = kernel((columns[None, :] - centers[:, None] + 0.5) / filter_scale)
    inside = (columns[None, :] >= low[:, None]) & (columns[None, :] < high[:, None])
    weights = np.where(inside, weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    return weights / np.where(totals == 0, 1.0, totals)


def _resize_tensor(img: Tensor, size: list[int], mode: InterpolationMode,
                   antialias: bool) -> Tensor:
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                    InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        raise ValueError(f"resize: interpolation {mode.value} is supported for PIL images "
                         "only; tensors take nearest, nearest-exact, bilinear or bicubic")
    out_dtype = img.dtype
    if out_dtype not in (D.float32, D.float64):
        img = img.to(D.float32)
    height, width = img.shape[-2:]
    smooth = mode in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    if smooth and antialias:
        kernel, support = ((_triangle, 1.0) if mode is InterpolationMode.BILINEAR
                           else (_cubic, 2.0))
        rows = as_tensor(_aa_weights(height, size[0], kernel, support), dtype=img.dtype,
                         device=img.device)
        cols = as_tensor(_aa_weights(width, size[1], kernel, support).T, dtype=img.dtype,
                         device=img.device)
        out = rows.matmul(img).matmul(cols)
    else:
        batch = img.reshape(-1, 1, height, width)
        out = _interpolate(batch, size=tuple(size), mode=mode.value,
                           align_corners=False if smooth else None)
        out = out.reshape(*img.shape[:-2], *size)
    if out_dtype is not out.dtype:
        if mode is InterpolationMode.BICUBIC and out_dtype is D.uint8:
            out = out.clamp(0, 255)
        if not out_dtype.is_floating_point:
            out = out.round()
        out = out.to(out_dtype)
    return out


def resize(img: Any, size, interpolation=InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """Resize to ``size``: (h, w), or an int (or [int]) for the smaller edge, keeping the
    aspect ratio.

    Tensors (..., H, W) use PyTorch's interpolation; with ``antialias=True`` (the default)
    bilinear and bicubic downscaling filter as PIL does, so tensors and PIL images agree.
    Integer tensors are resized in float32 and rounded back.

    Args:
        img: a PIL image or a tensor.
        size: the output size.
        interpolation: an :class:`InterpolationMode` (or a PIL integer constant).
        max_size: cap for the longer edge when ``size`` is an int.
        antialias: filter when downscaling (tensors; PIL always does).
    """
    _check_image(img, "resize")
    mode = _interpolation_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError("Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
    size = [size] if isinstance(size, int) else list(size)
    _, height, width = _dimensions(img)
    output = _resized_size((height, width), size, max_size)
    if [height, width] == output:
        return img
    if isinstance(img, Tensor):
        return _resize_tensor(img, output, mode, bool(antialias))
    if antialias is False:
        import warnings
        warnings.warn("Anti-alias option is always applied for PIL Image input. Argument "
                      "antialias is ignored.", stacklevel=2)
    return img.resize((output[1], output[0]), _TO_PIL_INT[mode])

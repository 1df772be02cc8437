"""Image transforms in torchvision's shape (``torchvision.transforms``, the v1 API).

Conversions (``ToTensor``, ``PILToTensor``, ``ToPILImage``, ``ConvertImageDtype``),
``Normalize``, geometry (``Pad``, ``CenterCrop``, ``Resize``, ``RandomCrop``,
``RandomHorizontalFlip``, ``RandomVerticalFlip``) and glue (``Compose``, ``Lambda``); the
functions behind them are in ``ember.vision.transforms.functional`` (torchvision's
``transforms.functional``). Geometric transforms take a PIL image or a tensor of shape
(..., H, W) and return the same kind. The colour and affine transforms are not here yet.

Random transforms draw from ember's global generator exactly as torchvision draws from
torch's (``randint(0, n, size=(1,))`` per crop offset, ``rand(1) < p`` per flip), and ember's
CPU stream is PyTorch's, so after ``ember.manual_seed(s)`` a pipeline crops and flips as
torchvision's does after ``torch.manual_seed(s)``.

Pillow is optional: without it, images are NumPy arrays and tensors.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ..._tensor import Tensor
from ...nn.modules.module import Module
from ...ops.random import rand, randint
from . import functional as F
from .functional import InterpolationMode, _check_image, _dimensions, _parse_padding

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype",
           "Normalize", "Lambda", "Pad", "CenterCrop", "Resize", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "InterpolationMode", "functional"]


def _setup_size(size, error_msg: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return int(size[0]), int(size[1])


# -- conversions -------------------------------------------------------------------------------

class Compose:
    """Chain transforms: ``Compose([t1, t2])(x) == t2(t1(x))``.

    Args:
        transforms: the transforms, applied in order.

    Example:
        >>> import numpy as np
        >>> from ember.vision import transforms as T
        >>> t = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
        >>> t(np.full((2, 2), 255, dtype=np.uint8))
        tensor([[[1., 1.],
                 [1., 1.]]])
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        lines = [f"{self.__class__.__name__}("]
        lines += [f"    {transform}" for transform in self.transforms]
        return "\n".join(lines) + "\n)"


class ToTensor:
    """A PIL image or an (H, W[, C]) NumPy array -> a (C, H, W) tensor.

    uint8 pixels become floats of the default dtype in [0, 1] (divided by 255); other dtypes
    keep their type and values, as torchvision does. PIL mode '1' counts as 0/255.

    Example:
        >>> import numpy as np
        >>> from ember.vision.transforms import ToTensor
        >>> ToTensor()(np.array([[0, 51], [102, 255]], dtype=np.uint8))
        tensor([[[0.0000, 0.2000],
                 [0.4000, 1.0000]]])
    """

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """A PIL image -> a (C, H, W) tensor of its pixel dtype (uint8 for 'L'/'RGB', bool for
    '1'), unscaled."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """A (C, H, W) tensor or an (H, W, C) array -> a PIL image (see ``functional.to_pil_image``).

    Args:
        mode: the PIL mode to produce; None infers it from the channels and dtype.
    """

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()" if self.mode is None else (
            f"{self.__class__.__name__}(mode={self.mode})")


class ConvertImageDtype(Module):
    """Convert an image tensor's dtype, rescaling values as torchvision does.

    Integer images map [0, max] of their type onto [0, 1] floats and back (floats are
    scaled by ``max + 1 - 1e-3`` and truncated); integer to integer shifts bits.

    Args:
        dtype: the target dtype.

    Raises:
        RuntimeError: float32 -> int32/int64 or float64 -> int64, which cannot be done safely.
    """

    def __init__(self, dtype) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image: Tensor) -> Tensor:
        return F.convert_image_dtype(image, self.dtype)


class Normalize(Module):
    """Normalize a float (..., C, H, W) tensor per channel: ``(input - mean) / std``.

    Args:
        mean: one value per channel (or one for all).
        std: one value per channel (or one for all); must not be zero.
        inplace: write into the input instead of a copy.

    Raises:
        TypeError: a non-tensor or a non-float tensor.
        ValueError: fewer than 3 dims, or a zero std.

    Example:
        >>> import ember
        >>> from ember.vision.transforms import Normalize
        >>> Normalize((0.5,), (0.25,))(ember.ones(1, 1, 2))
        tensor([[[2., 2.]]])
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor: Tensor) -> Tensor:
        F._check_normalize_input(tensor)
        mean, std = self._constants(tensor.dtype, tensor.device)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def _constants(self, dtype, device) -> tuple[Tensor, Tensor]:
        # Built once per dtype/device: a data pipeline calls this per sample, and mean/std
        # do not change between calls (torchvision rebuilds them each time).
        key = (dtype, str(device), _freeze(self.mean), _freeze(self.std))
        cached = self.__dict__.get("_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        mean, std = F._normalize_constants(self.mean, self.std, dtype, device)
        self.__dict__["_cache"] = (key, (mean, std))
        return mean, std

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


def _freeze(values):
    """A comparable snapshot of mean/std (lists, tuples, arrays, tensors, numbers)."""
    if isinstance(values, Tensor):
        return ("tensor", id(values), values._version)
    if isinstance(values, (list, tuple)):
        return tuple(_freeze(v) for v in values)
    if hasattr(values, "tolist"):                       # NumPy arrays and scalars
        return ("array", repr(values.tolist()))
    return values


class Lambda:
    """Wrap a function as a transform.

    Args:
        lambd: the function, called with the image.
    """

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


# -- geometry ----------------------------------------------------------------------------------

class Pad(Module):
    """Pad an image on all sides.

    Args:
        padding: an int (all sides), (left/right, top/bottom) or (left, top, right, bottom);
            negative values crop.
        fill: the constant for ``padding_mode='constant'`` (a tuple per band for PIL).
        padding_mode: 'constant', 'edge', 'reflect' (mirror without repeating the edge) or
            'symmetric' (mirror repeating it).
    """

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        super().__init__()
        _parse_padding(padding)
        if padding_mode not in F._PADDING_MODES:
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img: Any) -> Any:
        _check_image(img, "Pad")
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class CenterCrop(Module):
    """Crop the center; an image smaller than ``size`` is zero-padded first (torchvision).

    Args:
        size: an int (square) or (height, width).
    """

    def __init__(self, size) -> None:
        super().__init__()
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def forward(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size})"


class Resize(Module):
    """Resize to ``size`` (see ``functional.resize``).

    Args:
        size: (h, w), or an int (or [int]) the smaller edge is matched to, keeping the
            aspect ratio.
        interpolation: an :class:`InterpolationMode` (default bilinear) or a PIL constant.
        max_size: cap for the longer edge when ``size`` is an int.
        antialias: filter when downscaling tensors (PIL images always are), as torchvision.

    Example:
        >>> import ember
        >>> from ember.vision.transforms import Resize
        >>> Resize(4)(ember.ones(1, 8, 12)).shape
        torch.Size([1, 4, 6])
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interpolation_mode(interpolation)
        self.antialias = antialias

    def forward(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, "
                f"interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class RandomCrop(Module):
    """Crop a random ``size`` region, after optional padding.

    Offsets are drawn as torchvision draws them: ``randint(0, H - h + 1, size=(1,))`` then
    the same for the width, from ember's global generator (so seeds reproduce torchvision's
    crops).

    Args:
        size: an int (square) or (height, width).
        padding: padding applied first (see :class:`Pad`), or None.
        pad_if_needed: pad an image smaller than ``size`` up to it (right/bottom first
            dimension-wise, as torchvision).
        fill: constant for ``padding_mode='constant'``.
        padding_mode: 'constant', 'edge', 'reflect' or 'symmetric'.

    Raises:
        ValueError: "Required crop size ... is larger than input image size ...".

    Example:
        >>> import ember
        >>> from ember.vision.transforms import RandomCrop
        >>> _ = ember.manual_seed(0)
        >>> RandomCrop(2, padding=1)(ember.ones(1, 2, 2)).shape
        torch.Size([1, 2, 2])
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of a crop of ``output_size``."""
        _, height, width = _dimensions(img)
        crop_h, crop_w = output_size
        if height < crop_h or width < crop_w:
            raise ValueError(f"Required crop size {(crop_h, crop_w)} is larger than input "
                             f"image size {(height, width)}")
        if (height, width) == (crop_h, crop_w):
            return 0, 0, height, width
        top = int(randint(0, height - crop_h + 1, size=(1,)).item())
        left = int(randint(0, width - crop_w + 1, size=(1,)).item())
        return top, left, crop_h, crop_w

    def forward(self, img: Any) -> Any:
        _check_image(img, "RandomCrop")
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = _dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        top, left, crop_h, crop_w = self.get_params(img, self.size)
        return F.crop(img, top, left, crop_h, crop_w)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class _RandomFlip(Module):
    """Flip with probability ``p`` (one ``rand(1)`` draw per call, as torchvision)."""

    _flip = None        # the functional flip

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, img: Any) -> Any:
        _check_image(img, type(self).__name__)
        if float(rand(1)) < self.p:
            return type(self)._flip(img)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p`` (one ``rand(1)`` draw per call).

    Args:
        p: the probability of flipping.
    """

    _flip = staticmethod(F.hflip)


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p`` (one ``rand(1)`` draw per call).

    Args:
        p: the probability of flipping.
    """

    _flip = staticmethod(F.vflip)

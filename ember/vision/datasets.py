"""Image datasets with torchvision's constructors, folder layouts and behaviour.

``MNIST``, ``FashionMNIST`` and ``KMNIST`` read the IDX files under ``root/<Name>/raw/``;
``CIFAR10`` and ``CIFAR100`` read the Python pickles under ``root/cifar-10-batches-py`` (or
``root/cifar-100-python``); ``Digits`` is the small 8x8 digits set bundled with ember, so a
demo or a test can train on real images without a download.

``dataset[i]`` returns ``(image, target)``: a PIL image when Pillow is installed (as
torchvision), else the uint8 NumPy array of the same pixels (``ToTensor`` takes both, so a
transform pipeline works either way).

Differences from torchvision: IDX files may also be kept gzip-compressed (``*.gz``) in the
raw folder; CIFAR pickles are read by a restricted unpickler that loads only NumPy arrays and
plain containers (a tampered file cannot run code); nothing is printed while downloading.
"""

from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import numpy as np

from .._tensor import Tensor
from ..ops.creation import from_numpy
from ..utils.data.dataset import Dataset
from .utils import (
    check_integrity,
    download_and_extract_archive,
    read_idx,
    restricted_pickle_load,
)

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10",
           "CIFAR100", "Digits", "read_image_file", "read_label_file"]

_NOT_FOUND = "Dataset not found. You can use download=True to download it"


def _pil_image():
    """PIL.Image, or None when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _to_image(array: np.ndarray):
    """A uint8 (H, W) or (H, W, 3) array as a PIL image ('L' or 'RGB'), or the array itself
    without Pillow."""
    image = _pil_image()
    if image is None:
        return array
    return image.fromarray(array)


def _numpy(data) -> np.ndarray:
    # Indexing the NumPy view is several times cheaper than a Tensor __getitem__ per sample.
    return data.numpy() if isinstance(data, Tensor) else np.asarray(data)


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target."""

    def __init__(self, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def _format(self, transform, head: str) -> list[str]:
        lines = repr(transform).splitlines()
        return [f"{head}{lines[0]}"] + [f"{' ' * len(head)}{line}" for line in lines[1:]]

    def __repr__(self) -> str:
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += self._format(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format(self.target_transform, "Target transform: ")
        return "\n".join(body)


class VisionDataset(Dataset):
    """Base class of the image datasets: a root folder and optional transforms.

    Args:
        root: the folder the dataset lives under (``~`` is expanded); may be None.
        transforms: a callable taking and returning ``(image, target)``; exclusive with
            ``transform``/``target_transform``.
        transform: a callable applied to each image.
        target_transform: a callable applied to each target.
    """

    _repr_indent = 4

    def __init__(self, root: str | os.PathLike | None = None,
                 transforms: Callable | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if isinstance(root, (str, os.PathLike)):
            root = os.path.expanduser(os.fspath(root))
        self.root = root
        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as "
                             "argument")
        self.transform = transform
        self.target_transform = target_transform
        if separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def _apply_transforms(self, image, target):
        if self.transforms is not None:
            return self.transforms(image, target)
        return image, target

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body.append(repr(self.transforms))           # indented on its first line only,
        lines = [f"Dataset {self.__class__.__name__}"]   # as torchvision prints it
        lines += [" " * self._repr_indent + line for line in body]
        return "\n".join(lines)


# -- MNIST family -------------------------------------------------------------------------------

def read_image_file(path: str | os.PathLike) -> Tensor:
    """An IDX file of uint8 images (N, H, W) as a uint8 tensor."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 3:
        raise RuntimeError(f"read_image_file: {os.fspath(path)} holds a {array.ndim}-D "
                           f"{array.dtype} array; MNIST-style images are 3-D uint8 (N, H, W)")
    return from_numpy(array)


def read_label_file(path: str | os.PathLike) -> Tensor:
    """An IDX file of uint8 labels (N,) as an int64 tensor."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise RuntimeError(f"read_label_file: {os.fspath(path)} holds a {array.ndim}-D "
                           f"{array.dtype} array; MNIST-style labels are 1-D uint8 (N,)")
    return from_numpy(array.astype(np.int64))


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 uint8.

    Files are looked up in ``root/MNIST/raw/`` under their torchvision names
    (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``), decompressed or still ``.gz``.

    Args:
        root: the folder holding ``MNIST/raw``.
        train: the training set (True) or the test set.
        transform: applied to each image (a PIL image, or a uint8 array without Pillow).
        target_transform: applied to each target (an int).
        download: fetch the files (MD5-checked) from the mirrors when they are missing.

    Attributes:
        data: uint8 tensor (N, 28, 28). targets: int64 tensor (N,). classes: class names.

    Raises:
        RuntimeError: "Dataset not found. You can use download=True to download it".

    Example:
        >>> from ember.vision import datasets, transforms
        >>> train = datasets.MNIST("data", train=True, download=True,   # doctest: +SKIP
        ...                        transform=transforms.ToTensor())
    """

    # torchvision's two mirrors, the one that answers reliably first.
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(_NOT_FOUND)
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _raw_path(self, name: str) -> str:
        """The raw file ``name``, or its ``.gz`` twin when only that is on disk."""
        path = os.path.join(self.raw_folder, name)
        if not os.path.isfile(path) and os.path.isfile(path + ".gz"):
            return path + ".gz"
        return path

    def _check_exists(self) -> bool:
        names = (os.path.splitext(os.path.basename(url))[0] for url, _ in self.resources)
        return all(check_integrity(self._raw_path(name)) for name in names)

    def _check_legacy_exist(self) -> bool:
        # torchvision < 0.10 cached the data as processed/{training,test}.pt.
        if not os.path.isdir(self.processed_folder):
            return False
        return all(check_integrity(os.path.join(self.processed_folder, name))
                   for name in (self.training_file, self.test_file))

    def _load_legacy_data(self):
        from ..serialization import load
        name = self.training_file if self.train else self.test_file
        return load(os.path.join(self.processed_folder, name), weights_only=True)

    def _load_data(self) -> tuple[Tensor, Tensor]:
        split = "train" if self.train else "t10k"
        data = read_image_file(self._raw_path(f"{split}-images-idx3-ubyte"))
        targets = read_label_file(self._raw_path(f"{split}-labels-idx1-ubyte"))
        if len(data) != len(targets):
            raise RuntimeError(f"{type(self).__name__}: {len(data)} images but "
                               f"{len(targets)} labels in {self.raw_folder}")
        return data, targets

    def download(self) -> None:
        """Download and decompress the raw files that are missing (MD5-checked)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            failures = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    download_and_extract_archive(url, download_root=self.raw_folder,
                                                 filename=filename, md5=md5)
                except URLError as error:
                    failures.append(f"{url}: {error}")
                    continue
                break
            else:
                raise RuntimeError(f"Error downloading {filename}: tried "
                                   + "; ".join(failures))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Returns ``(image, target)``: a PIL 'L' image (or a uint8 array) and an int."""
        image = _to_image(_numpy(self.data)[index])
        return self._apply_transforms(image, int(_numpy(self.targets)[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's layout and sizes, ten kinds of clothing.

    Files are looked up in ``root/FashionMNIST/raw/``; see :class:`MNIST` for the arguments.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: MNIST's layout and sizes, ten cursive Japanese characters.

    Files are looked up in ``root/KMNIST/raw/``; see :class:`MNIST` for the arguments.
    """

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


# -- CIFAR ---------------------------------------------------------------------------------------

class CIFAR10(VisionDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32x32, ten classes.

    Reads torchvision's layout ``root/cifar-10-batches-py/{data_batch_1..5, test_batch,
    batches.meta}``; every file's MD5 is checked, as torchvision does.

    Args:
        root: the folder holding ``cifar-10-batches-py``.
        train: the training set (True) or the test set.
        transform: applied to each image (a PIL 'RGB' image, or a uint8 HWC array).
        target_transform: applied to each target (an int).
        download: fetch and extract the archive (MD5-checked) when files are missing.

    Attributes:
        data: uint8 NumPy array (N, 32, 32, 3), as torchvision. targets: list of ints.
        classes: class names read from the meta file.

    Raises:
        RuntimeError: "Dataset not found or corrupted. You can use download=True to download
            it" when a file is missing or its checksum differs.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to "
                               "download it")
        batches = self.train_list if self.train else self.test_list
        data, targets = [], []
        for name, _ in batches:
            entry = restricted_pickle_load(os.path.join(self.root, self.base_folder, name))
            data.append(np.asarray(entry["data"], dtype=np.uint8))
            targets.extend(int(t) for t in entry["labels" if "labels" in entry
                                                  else "fine_labels"])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.data = np.ascontiguousarray(self.data)      # HWC, as torchvision keeps it
        self.targets = targets
        self._load_meta()

    def _load_meta(self) -> None:
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use "
                               "download=True to download it")
        self.classes = list(restricted_pickle_load(path)[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        folder = os.path.join(self.root, self.base_folder)
        return all(check_integrity(os.path.join(folder, name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Download and extract the archive unless every batch file is already intact."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename,
                                     md5=self.tgz_md5)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Returns ``(image, target)``: a PIL 'RGB' image (or a uint8 HWC array), an int."""
        image = _to_image(self.data[index])
        return self._apply_transforms(image, self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's sizes with 100 fine classes (``root/cifar-100-python``).

    See :class:`CIFAR10` for the arguments; targets are the fine labels.
    """

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}


# -- the bundled digits ---------------------------------------------------------------------------

_DIGITS_FILE = os.path.join(os.path.dirname(__file__), "data", "digits.csv.gz")
_DIGITS_SPLIT_SEED = 1998          # NumPy's legacy RandomState stream is frozen: a fixed split
_DIGITS_TEST_FRACTION = 0.2


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 (1797, 8, 8) in 0..255, labels int64, is_test bool), read-only."""
    with gzip.open(_DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    counts = table[:, :64]
    labels = table[:, 64].copy()
    # 0..16 "on" counts -> 0..255 (rounded), so ToTensor gives the fractions in [0, 1].
    images = ((counts * 255 + 8) // 16).astype(np.uint8).reshape(-1, 8, 8)
    order = np.random.RandomState(_DIGITS_SPLIT_SEED).permutation(len(labels))
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):                              # stratified: 20% of each class
        members = order[labels[order] == digit]
        is_test[members[:round(_DIGITS_TEST_FRACTION * len(members))]] = True
    for array in (images, labels, is_test):
        array.setflags(write=False)
    return images, labels, is_test


class Digits(VisionDataset):
    """The UCI optical-recognition handwritten digits, bundled with ember (no download).

    1,797 images of 8x8 pixels (E. Alpaydin and C. Kaynak, 1998; CC BY 4.0, see
    ``ember/vision/data/LICENSE-digits.txt``), split once and for all into 1,438 training and
    359 test images, stratified by class. The original 0..16 pixel counts are rescaled to
    uint8 0..255 so the set behaves like a small MNIST.

    Args:
        root: ignored (the data ships with ember); kept for torchvision-style call sites.
        train: the training split (True) or the test split.
        transform: applied to each image (a PIL 'L' image, or a uint8 array without Pillow).
        target_transform: applied to each target (an int).

    Attributes:
        data: uint8 tensor (N, 8, 8). targets: int64 tensor (N,). classes: class names.

    Example:
        >>> from ember.vision import datasets
        >>> train, test = datasets.Digits(train=True), datasets.Digits(train=False)
        >>> len(train), len(test), tuple(train.data.shape)
        (1438, 359, (1438, 8, 8))
    """

    classes = MNIST.classes

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        images, labels, is_test = _digits_arrays()
        keep = ~is_test if train else is_test
        self.data = from_numpy(images[keep])             # boolean indexing copies: writable
        self.targets = from_numpy(labels[keep])

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Returns ``(image, target)``: a PIL 'L' image (or a uint8 array) and an int."""
        image = _to_image(_numpy(self.data)[index])
        return self._apply_transforms(image, int(_numpy(self.targets)[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

"""ember.vision: IDX/CIFAR readers on generated files, downloads from file:// mirrors, the
bundled digits, and transforms against NumPy (and torch's random stream)."""

import gzip
import hashlib
import os
import pickle
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.vision import datasets
from ember.vision import transforms as T
from ember.vision.utils import (
    calculate_md5,
    check_integrity,
    download_url,
    extract_archive,
    read_idx,
    restricted_pickle_load,
)
from tests.oracle import needs_torch, torch

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is in the test extra
    Image = None

needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed")

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
             np.float64: 0x0E}


def write_idx(path, array, gz=False):
    array = np.asarray(array)
    code = IDX_CODES[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if gz:
        body = gzip.compress(body)
    with open(path, "wb") as f:
        f.write(body)
    return path


def make_mnist(root, name="MNIST", n_train=5, n_test=3, gz_test=True, seed=0, side=28):
    rng = np.random.default_rng(seed)
    raw = os.path.join(root, name, "raw")
    os.makedirs(raw, exist_ok=True)
    out = {}
    for split, n, gz in (("train", n_train, False), ("t10k", n_test, gz_test)):
        images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(os.path.join(raw, f"{split}-images-idx3-ubyte{suffix}"), images, gz)
        write_idx(os.path.join(raw, f"{split}-labels-idx1-ubyte{suffix}"), labels, gz)
        out[split] = (images, labels)
    return out


# -- IDX -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_dtypes_round_trip(tmp_path, dtype, gz):
    rng = np.random.default_rng(1)
    array = (rng.standard_normal((3, 4, 2)) * 100).astype(dtype)
    path = write_idx(tmp_path / "x.idx", array, gz=gz)
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype).newbyteorder("=") and got.dtype.isnative
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 1                                       # a writable copy


def test_read_idx_big_endian_layout(tmp_path):
    # 0x0B (short), 1-D, 2 values: 258 and -2, written by hand.
    path = tmp_path / "s.idx"
    path.write_bytes(bytes([0, 0, 0x0B, 1]) + struct.pack(">I", 2) + b"\x01\x02\xff\xfe")
    np.testing.assert_array_equal(read_idx(path), [258, -2])


def test_read_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(RuntimeError, match="not an IDX file"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(RuntimeError, match="unknown IDX type 0x07"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00\x01")
    with pytest.raises(RuntimeError, match="holds 10 bytes.*needs 13"):
        read_idx(bad)


# -- MNIST family ----------------------------------------------------------------------------

@needs_pil
def test_mnist_reads_raw_files_plain_and_gz(tmp_path):
    made = make_mnist(tmp_path)
    train = datasets.MNIST(tmp_path, train=True)
    test = datasets.MNIST(str(tmp_path), train=False)      # the t10k files are only .gz
    for ds, (images, labels) in ((train, made["train"]), (test, made["t10k"])):
        assert ds.data.dtype is ember.uint8 and tuple(ds.data.shape) == images.shape
        assert ds.targets.dtype is ember.int64
        np.testing.assert_array_equal(ds.data.numpy(), images)
        np.testing.assert_array_equal(ds.targets.numpy(), labels)
        assert len(ds) == len(labels)
    image, target = train[2]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), made["train"][0][2])
    assert type(target) is int and target == made["train"][1][2]
    assert train.classes[3] == "3 - three" and train.class_to_idx["9 - nine"] == 9
    assert train.raw_folder == os.path.join(str(tmp_path), "MNIST", "raw")
    assert repr(test).splitlines()[:4] == ["Dataset MNIST", "    Number of datapoints: 3",
                                           f"    Root location: {tmp_path}", "    Split: Test"]


def test_mnist_transforms_applied(tmp_path):
    made = make_mnist(tmp_path)
    ds = datasets.MNIST(tmp_path, transform=T.ToTensor(), target_transform=lambda t: t + 100)
    image, target = ds[1]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype is ember.float32
    np.testing.assert_allclose(image.numpy()[0], made["train"][0][1] / 255.0, rtol=1e-6)
    assert target == made["train"][1][1] + 100
    assert "Transform: ToTensor()" in repr(ds)


def test_fashion_mnist_folder_and_classes(tmp_path):
    make_mnist(tmp_path, name="FashionMNIST")
    ds = datasets.FashionMNIST(tmp_path)
    assert len(ds) == 5 and ds.classes[9] == "Ankle boot"
    make_mnist(tmp_path, name="KMNIST", n_train=2)
    assert len(datasets.KMNIST(tmp_path)) == 2 and datasets.KMNIST.classes[1] == "ki"
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(tmp_path)                           # MNIST/ is a different folder


def test_mnist_missing_raises_torchvision_error(tmp_path):
    with pytest.raises(RuntimeError,
                       match="^Dataset not found. You can use download=True to download it$"):
        datasets.MNIST(tmp_path, train=False)


def test_mnist_rejects_non_uint8_images(tmp_path):
    make_mnist(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((5, 2, 2), np.int16))
    with pytest.raises(RuntimeError, match="3-D uint8"):
        datasets.MNIST(tmp_path)


def _mirror(tmp_path, seed=3):
    """A folder of MNIST .gz files, as a file:// mirror, and their md5s."""
    source = tmp_path / "src"
    make_mnist(source, n_train=4, n_test=2, gz_test=False, seed=seed)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    resources = []
    for path in sorted((source / "MNIST" / "raw").iterdir()):
        gz = mirror / (path.name + ".gz")
        gz.write_bytes(gzip.compress(path.read_bytes()))
        resources.append((gz.name, hashlib.md5(gz.read_bytes()).hexdigest()))
    return mirror.as_uri() + "/", resources, source


def test_mnist_download_from_mirror_with_md5(tmp_path):
    url, resources, source = _mirror(tmp_path)

    class LocalMNIST(datasets.MNIST):
        mirrors = [(tmp_path / "nowhere").as_uri() + "/", url]   # the first one fails
    LocalMNIST.resources = resources

    root = tmp_path / "root"
    ds = LocalMNIST(root, train=True, download=True)
    want = read_idx(source / "MNIST" / "raw" / "train-images-idx3-ubyte")
    np.testing.assert_array_equal(ds.data.numpy(), want)
    assert (root / "LocalMNIST" / "raw" / "t10k-labels-idx1-ubyte").is_file()
    assert (root / "LocalMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").is_file()
    assert len(LocalMNIST(root, train=False)) == 2         # no download needed now


def test_mnist_download_checksum_mismatch(tmp_path):
    url, resources, _ = _mirror(tmp_path)

    class BadMNIST(datasets.MNIST):
        mirrors = [url]
    BadMNIST.resources = [(name, "0" * 32) for name, _ in resources]
    with pytest.raises(RuntimeError, match="MD5 checksum does not match"):
        BadMNIST(tmp_path / "root", download=True)
    assert not list((tmp_path / "root" / "BadMNIST" / "raw").iterdir())  # nothing half-done


def test_mnist_download_all_mirrors_fail(tmp_path):
    class NoMNIST(datasets.MNIST):
        mirrors = [(tmp_path / "a").as_uri() + "/", (tmp_path / "b").as_uri() + "/"]
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        NoMNIST(tmp_path / "root", download=True)


# -- checksums, downloads, archives -------------------------------------------------------------

def test_check_integrity_and_md5(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"ember" * 1000)
    digest = hashlib.md5(b"ember" * 1000).hexdigest()
    assert calculate_md5(path) == digest
    assert calculate_md5(path, chunk_size=7) == digest
    assert check_integrity(path) and check_integrity(path, digest)
    assert check_integrity(path, digest.upper())
    assert not check_integrity(path, "0" * 32)
    assert not check_integrity(tmp_path / "missing", digest)


def test_download_url_skips_verified_and_checks(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    md5 = hashlib.md5(b"payload").hexdigest()
    out = download_url(src.as_uri(), tmp_path / "dl", md5=md5)
    assert Path(out).read_bytes() == b"payload" and os.path.basename(out) == "src.bin"
    src.write_bytes(b"changed")                            # verified file is not fetched again
    assert Path(download_url(src.as_uri(), tmp_path / "dl", md5=md5)).read_bytes() == b"payload"
    with pytest.raises(RuntimeError, match="MD5 checksum"):
        download_url(src.as_uri(), tmp_path / "dl2", md5=md5)
    assert not os.listdir(tmp_path / "dl2")


def test_extract_archive_tar_and_refuses_escape(tmp_path):
    import tarfile
    (tmp_path / "a.txt").write_text("hi")
    archive = tmp_path / "x.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "a.txt", arcname="inner/a.txt")
    extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "inner" / "a.txt").read_text() == "hi"
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        tar.add(tmp_path / "a.txt", arcname="../escaped.txt")
    with pytest.raises(RuntimeError, match="refusing"):
        extract_archive(evil, tmp_path / "out2")
    assert not (tmp_path / "escaped.txt").exists()
    with pytest.raises(RuntimeError, match="unknown archive type"):
        extract_archive(tmp_path / "a.txt")


# -- CIFAR -------------------------------------------------------------------------------------

def make_cifar(root, cls=datasets.CIFAR10, per_batch=2, protocol=2, seed=0):
    """Write CIFAR pickles under root/<base_folder>; return a subclass with their md5s and the
    expected (data CHW-rows, labels)."""
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, cls.base_folder)
    os.makedirs(folder, exist_ok=True)
    label_key = "labels" if cls is datasets.CIFAR10 else "fine_labels"
    n_classes = 10 if cls is datasets.CIFAR10 else 100
    md5s, expected = {}, {}
    for name, _ in cls.train_list + cls.test_list:
        rows = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, n_classes, size=per_batch)]
        entry = {"batch_label": f"batch {name}", "data": rows, label_key: labels,
                 "filenames": [f"img{i}.png" for i in range(per_batch)]}
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            pickle.dump(entry, f, protocol=protocol)
        md5s[name] = calculate_md5(path)
        expected[name] = (rows, labels)
    names = [f"class{i}" for i in range(n_classes)]
    meta_path = os.path.join(folder, cls.meta["filename"])
    with open(meta_path, "wb") as f:
        pickle.dump({cls.meta["key"]: names, "num_vis": 3072}, f, protocol=protocol)

    class Local(cls):
        train_list = [[name, md5s[name]] for name, _ in cls.train_list]
        test_list = [[name, md5s[name]] for name, _ in cls.test_list]
        meta = dict(cls.meta, md5=calculate_md5(meta_path))
    return Local, expected


@needs_pil
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar10_loads_batches(tmp_path, protocol):
    Local, expected = make_cifar(tmp_path, protocol=protocol)
    train = Local(tmp_path, train=True)
    assert isinstance(train.data, np.ndarray) and train.data.dtype == np.uint8
    assert train.data.shape == (10, 32, 32, 3)
    rows = np.vstack([expected[f"data_batch_{i}"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(train.data, rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert train.targets == sum((expected[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert train.classes[4] == "class4" and train.class_to_idx["class7"] == 7
    test = Local(tmp_path, train=False, transform=T.PILToTensor())
    image, target = test[1]
    assert target == expected["test_batch"][1][1]
    np.testing.assert_array_equal(image.numpy(), expected["test_batch"][0][1].reshape(3, 32, 32))
    pil, _ = Local(tmp_path, train=False)[0]
    assert pil.mode == "RGB" and pil.size == (32, 32)


def test_cifar100_fine_labels(tmp_path):
    Local, expected = make_cifar(tmp_path, cls=datasets.CIFAR100, per_batch=3)
    ds = Local(tmp_path, train=True)
    assert len(ds) == 3 and ds.targets == expected["train"][1] and len(ds.classes) == 100


def test_cifar10_checksum_and_missing(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted. You can use "
                                           "download=True to download it"):
        datasets.CIFAR10(tmp_path)
    make_cifar(tmp_path)
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(tmp_path)                         # real md5s != generated files
    Local, _ = make_cifar(tmp_path / "b")
    with open(tmp_path / "b" / "cifar-10-batches-py" / "data_batch_3", "ab") as f:
        f.write(b"\x00")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        Local(tmp_path / "b")


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_cifar_unpickler_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({"data": _Boom()}))
    with pytest.raises(pickle.UnpicklingError, match="refers to .*system"):
        restricted_pickle_load(path)
    assert not (tmp_path / "pwned.txt").exists()
    path.write_bytes(pickle.dumps({"x": ember.zeros(2)}))
    with pytest.raises(pickle.UnpicklingError, match="only NumPy arrays"):
        restricted_pickle_load(path)


def test_restricted_pickle_loads_data(tmp_path):
    obj = {"a": [1, 2.5, "s", b"b"], "n": np.arange(6, dtype=np.int16).reshape(2, 3),
           "f": np.float64(3.5)}
    for protocol in (0, 2, 5):
        path = tmp_path / f"p{protocol}"
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
        got = restricted_pickle_load(path)
        assert got["a"] == obj["a"] and got["f"] == 3.5
        np.testing.assert_array_equal(got["n"], obj["n"])


# -- Digits --------------------------------------------------------------------------------------

@needs_pil
def test_digits_shapes_split_and_classes():
    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    assert tuple(train.data.shape) == (1438, 8, 8) and tuple(test.data.shape) == (359, 8, 8)
    assert train.data.dtype is ember.uint8 and train.targets.dtype is ember.int64
    assert int(train.data.max()) == 255 and int(train.data.min()) == 0
    assert train.classes == datasets.MNIST.classes and len(train) == 1438
    counts = np.bincount(test.targets.numpy(), minlength=10)
    full = np.bincount(np.concatenate([train.targets.numpy(), test.targets.numpy()]))
    np.testing.assert_array_equal(counts, np.round(0.2 * full))    # stratified 20%
    image, target = test[0]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (8, 8)
    assert target == int(test.targets[0])
    again = datasets.Digits(train=False)
    np.testing.assert_array_equal(again.data.numpy(), test.data.numpy())   # deterministic


def test_digits_matches_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    ref = sklearn_datasets.load_digits()
    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    images = np.concatenate([train.data.numpy(), test.data.numpy()])
    labels = np.concatenate([train.targets.numpy(), test.targets.numpy()])
    want = ((ref.images.astype(np.int64) * 255 + 8) // 16).astype(np.uint8)
    # The same 1,797 (image, label) pairs, each exactly once.
    key = lambda im, lab: sorted(bytes(i.tobytes()) + bytes([l]) for i, l in zip(im, lab))
    assert key(images, labels) == key(want, ref.target)


def test_digits_train_not_shared_with_cache():
    ds = datasets.Digits(train=True)
    before = int(datasets.Digits(train=True).data[0, 3, 3])
    ds.data[0, 3, 3] = 255 - before
    assert int(datasets.Digits(train=True).data[0, 3, 3]) == before


# -- transforms: conversions ---------------------------------------------------------------------

def test_to_tensor_ndarray_rules():
    hw = np.array([[0, 51], [102, 255]], dtype=np.uint8)
    out = T.ToTensor()(hw)
    assert out.dtype is ember.float32 and tuple(out.shape) == (1, 2, 2)
    np.testing.assert_allclose(out.numpy()[0], hw / 255.0, rtol=1e-6)
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    np.testing.assert_allclose(T.ToTensor()(hwc).numpy(), hwc.transpose(2, 0, 1) / 255.0,
                               rtol=1e-6)
    floats = np.arange(6, dtype=np.float64).reshape(2, 3)   # not uint8: kept as is
    out = T.ToTensor()(floats)
    assert out.dtype is ember.float64
    np.testing.assert_array_equal(out.numpy(), floats[None])
    ember.set_default_dtype(ember.float64)
    assert T.ToTensor()(hw).dtype is ember.float64
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got"):
        T.ToTensor()(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        T.ToTensor()(np.zeros((1, 1, 1, 1), np.uint8))


@needs_pil
def test_to_tensor_pil_modes():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 7
    out = T.ToTensor()(Image.fromarray(rgb))
    np.testing.assert_allclose(out.numpy(), rgb.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    bits = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(bits).numpy(), [[[0, 1], [1, 0]]])
    f = np.array([[1.5, -2.0]], np.float32)
    out = T.ToTensor()(Image.fromarray(f))               # mode 'F': values kept, float32
    assert out.dtype is ember.float32
    np.testing.assert_array_equal(out.numpy(), f[None])
    i = Image.fromarray(np.array([[70000, -3]], np.int32))
    out = T.ToTensor()(i)
    assert out.dtype is ember.int32
    np.testing.assert_array_equal(out.numpy(), [[[70000, -3]]])


@needs_pil
def test_pil_to_tensor():
    rgb = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
    out = T.PILToTensor()(Image.fromarray(rgb))
    assert out.dtype is ember.uint8
    np.testing.assert_array_equal(out.numpy(), rgb.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="pic should be PIL Image. Got"):
        T.PILToTensor()(rgb)


@needs_pil
@needs_torch
def test_to_tensor_matches_torch_conversion():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    want = torch.from_numpy(rgb.transpose(2, 0, 1).copy()).float().div(255)
    np.testing.assert_array_equal(T.ToTensor()(Image.fromarray(rgb)).numpy(), want.numpy())


def test_convert_image_dtype():
    u8 = ember.tensor([[[0, 1, 128, 255]]], dtype=ember.uint8)
    f = T.ConvertImageDtype(ember.float32)(u8)
    np.testing.assert_allclose(f.numpy(), np.array([[[0, 1, 128, 255]]]) / 255, rtol=1e-6)
    back = T.ConvertImageDtype(ember.uint8)(f)
    np.testing.assert_array_equal(back.numpy(), u8.numpy())
    floats = ember.tensor([[[0.0, 0.5, 0.999, 1.0]]])
    np.testing.assert_array_equal(T.ConvertImageDtype(ember.uint8)(floats).numpy(),
                                  np.floor(np.array([[[0, 0.5, 0.999, 1.0]]]) * 255.999))
    up = T.ConvertImageDtype(ember.int16)(u8)
    np.testing.assert_array_equal(up.numpy(), u8.numpy().astype(np.int16) * 128)
    down = T.ConvertImageDtype(ember.uint8)(ember.tensor([[[32767, 256, 255]]],
                                                         dtype=ember.int16))
    np.testing.assert_array_equal(down.numpy(), [[[255, 2, 1]]])
    assert T.ConvertImageDtype(ember.uint8)(u8) is u8
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        T.ConvertImageDtype(ember.int64)(floats)


# -- Normalize, Compose, Lambda ------------------------------------------------------------------

def test_normalize_values_and_inplace(rng):
    x = ember.tensor(rng.random((2, 3, 4, 5)).astype(np.float32))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    want = (x.numpy() - np.array(mean, np.float32)[:, None, None]) / np.array(
        std, np.float32)[:, None, None]
    out = T.Normalize(mean, std)(x)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    assert out is not x and not np.allclose(x.numpy(), want)
    same = T.Normalize(mean, std, inplace=True)(x)
    assert same is x
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-6)
    one = T.Normalize(0.5, 2.0)(ember.ones(1, 2, 2))                 # scalars broadcast
    np.testing.assert_allclose(one.numpy(), np.full((1, 2, 2), 0.25))
    x64 = ember.ones(1, 1, 1, dtype=ember.float64)
    assert T.Normalize((0.5,), (0.5,))(x64).dtype is ember.float64


def test_normalize_cache_follows_changes():
    norm = T.Normalize([0.0], [1.0])
    x = ember.ones(1, 2, 2)
    np.testing.assert_allclose(norm(x).numpy(), 1.0)
    norm.mean = [1.0]
    np.testing.assert_allclose(norm(x).numpy(), 0.0)
    norm.std[0] = 0.5
    norm.mean = [0.0]
    np.testing.assert_allclose(norm(x).numpy(), 2.0)
    two = ember.ones(2, 1, 1)
    norm = T.Normalize(np.array([0.5, 0.25]), np.array([2.0, 4.0]))    # arrays work too
    np.testing.assert_allclose(norm(two).numpy().ravel(), [0.25, 0.1875])
    mean = ember.tensor([0.5, 0.25])
    norm = T.Normalize(mean, [1.0, 1.0])
    np.testing.assert_allclose(norm(two).numpy().ravel(), [0.5, 0.75])
    mean.zero_()                                            # an in-place change is seen
    np.testing.assert_allclose(norm(two).numpy().ravel(), [1.0, 1.0])


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got torch.uint8"):
        T.Normalize((0.5,), (0.5,))(ember.zeros(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match=r"size \(\.\.\., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(ember.zeros(2, 2))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(ember.zeros(1, 2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.float32))


def test_compose_and_lambda_repr():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize((1.0,), (1.0,))])
    out = pipeline(np.full((2, 2), 255, np.uint8))
    np.testing.assert_allclose(out.numpy(), np.ones((1, 2, 2)))
    assert repr(pipeline) == ("Compose(\n    ToTensor()\n    Lambda()\n"
                              "    Normalize(mean=(1.0,), std=(1.0,))\n)")
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)
    assert repr(T.RandomCrop(4, padding=2)) == "RandomCrop(size=(4, 4), padding=2)"
    assert repr(T.RandomHorizontalFlip(0.3)) == "RandomHorizontalFlip(p=0.3)"


# -- geometry ------------------------------------------------------------------------------------

@needs_pil
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_numpy(mode):
    array = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np_mode = {"constant": "constant"}.get(mode, mode)
    kw = {"constant_values": 0} if mode == "constant" else {}
    # (left, top, right, bottom) = (1, 2, 3, 1)
    want = np.pad(array, [(0, 0), (2, 1), (1, 3)], mode=np_mode, **kw)
    got = T.Pad((1, 2, 3, 1), padding_mode=mode)(ember.tensor(array))
    np.testing.assert_array_equal(got.numpy(), want)
    pil = Image.fromarray(array[0].astype(np.uint8))
    got_pil = T.Pad((1, 2, 3, 1), padding_mode=mode)(pil)
    np.testing.assert_array_equal(np.asarray(got_pil), want[0].astype(np.uint8))


@needs_pil
def test_pad_forms_fill_and_negative():
    x = ember.arange(12.0).reshape(1, 3, 4)
    assert tuple(T.Pad(2)(x).shape) == (1, 7, 8)
    assert tuple(T.Pad([1, 2])(x).shape) == (1, 7, 6)       # left/right 1, top/bottom 2
    filled = T.Pad(1, fill=9)(x).numpy()
    assert filled[0, 0, 0] == 9 and filled[0, 1, 1] == 0
    cropped = T.Pad((-1, 0, 0, -1))(x).numpy()
    np.testing.assert_array_equal(cropped, x.numpy()[:, :2, 1:])
    rgb = Image.fromarray(np.zeros((2, 2, 3), np.uint8))
    np.testing.assert_array_equal(np.asarray(T.Pad(1, fill=(1, 2, 3))(rgb))[0, 0], [1, 2, 3])
    np.testing.assert_array_equal(np.asarray(T.Pad(1, fill=5)(rgb))[0, 0], [5, 5, 5])
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3 element tuple"):
        T.Pad((1, 2, 3))


@needs_pil
def test_center_crop():
    x = ember.arange(30.0).reshape(1, 5, 6)
    np.testing.assert_array_equal(T.CenterCrop((3, 2))(x).numpy(), x.numpy()[:, 1:4, 2:4])
    big = T.CenterCrop(7)(ember.ones(1, 3, 4)).numpy()      # padded with zeros to 7x7
    assert big.shape == (1, 7, 7) and big.sum() == 12 and big[0, 2, 1] == 1
    pil = Image.fromarray(np.arange(30, dtype=np.uint8).reshape(5, 6))
    np.testing.assert_array_equal(np.asarray(T.CenterCrop(3)(pil)),
                                  np.arange(30).reshape(5, 6)[1:4, 2:5])


def _torchvision_crop_offsets(seed, shape, size, calls):
    """The offsets torchvision's RandomCrop draws: torch.randint(0, n + 1, (1,)) twice."""
    torch.manual_seed(seed)
    out = []
    for _ in range(calls):
        i = int(torch.randint(0, shape[0] - size[0] + 1, size=(1,)).item())
        j = int(torch.randint(0, shape[1] - size[1] + 1, size=(1,)).item())
        out.append((i, j))
    return out


@needs_torch
def test_random_crop_matches_torch_stream():
    x = ember.arange(2 * 10 * 9.0).reshape(2, 10, 9)
    crop = T.RandomCrop((4, 3), padding=1)
    offsets = _torchvision_crop_offsets(7, (12, 11), (4, 3), 5)
    ember.manual_seed(7)
    padded = np.pad(x.numpy(), [(0, 0), (1, 1), (1, 1)])
    for i, j in offsets:
        np.testing.assert_array_equal(crop(x).numpy(), padded[:, i:i + 4, j:j + 3])


@needs_pil
def test_random_crop_pil_and_tensor_agree():
    array = np.random.default_rng(0).integers(0, 256, (9, 11), dtype=np.uint8)
    crop = T.RandomCrop(5, padding=2, padding_mode="reflect")
    ember.manual_seed(3)
    from_pil = [np.asarray(crop(Image.fromarray(array))) for _ in range(4)]
    ember.manual_seed(3)
    from_tensor = [crop(ember.tensor(array)).numpy() for _ in range(4)]
    for a, b in zip(from_pil, from_tensor):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(from_pil[0], f) for f in from_pil[1:])


def test_random_crop_pad_if_needed_and_errors():
    x = ember.ones(1, 3, 2)
    out = T.RandomCrop((5, 4), pad_if_needed=True, fill=0)(x)
    assert tuple(out.shape) == (1, 5, 4) and float(out.sum()) == 6
    with pytest.raises(ValueError, match=r"Required crop size \(5, 4\) is larger than input "
                                         r"image size \(3, 2\)"):
        T.RandomCrop((5, 4))(x)
    same = T.RandomCrop((3, 2))
    state = ember.get_rng_state()
    assert same(x) is not None and ember.equal(ember.get_rng_state(), state)  # no draw
    with pytest.raises(ValueError, match="Please provide only two dimensions"):
        T.RandomCrop((1, 2, 3))
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        T.RandomCrop(2)(np.zeros((3, 3)))


@needs_torch
def test_random_flips_match_torch_stream():
    x = ember.arange(6.0).reshape(1, 2, 3)
    torch.manual_seed(11)
    draws = [bool(torch.rand(1) < 0.5) for _ in range(12)]
    ember.manual_seed(11)
    flip = T.RandomHorizontalFlip()
    for flipped in draws:
        want = x.numpy()[..., ::-1] if flipped else x.numpy()
        np.testing.assert_array_equal(flip(x).numpy(), want)
    assert any(draws) and not all(draws)
    torch.manual_seed(2)
    draws = [bool(torch.rand(1) < 0.3) for _ in range(6)]
    ember.manual_seed(2)
    vflip = T.RandomVerticalFlip(0.3)
    for flipped in draws:
        want = x.numpy()[:, ::-1] if flipped else x.numpy()
        np.testing.assert_array_equal(vflip(x).numpy(), want)


@needs_pil
def test_random_flip_pil_and_extremes():
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(Image.fromarray(array))),
                                  array[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(1.0)(Image.fromarray(array))),
                                  array[::-1])
    x = ember.ones(1, 2, 2)
    assert T.RandomHorizontalFlip(0.0)(x) is x


# -- with the DataLoader ---------------------------------------------------------------------

def test_mnist_through_dataloader(tmp_path):
    data = pytest.importorskip("ember.utils.data")
    made = make_mnist(tmp_path, n_train=6)
    ds = datasets.MNIST(tmp_path, transform=T.Compose([T.ToTensor(),
                                                       T.Normalize((0.5,), (0.5,))]))
    batches = list(data.DataLoader(ds, batch_size=4))
    images, labels = batches[0]
    assert tuple(images.shape) == (4, 1, 28, 28) and labels.dtype is ember.int64
    np.testing.assert_allclose(images.numpy()[:, 0], made["train"][0][:4] / 127.5 - 1,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), made["train"][1][:4])
    assert tuple(batches[1][0].shape) == (2, 1, 28, 28)


def test_no_pil_returns_arrays(tmp_path, monkeypatch):
    make_mnist(tmp_path)
    monkeypatch.setattr(datasets, "_pil_image", lambda: None)
    image, _ = datasets.MNIST(tmp_path)[0]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    assert tuple(T.ToTensor()(image).shape) == (1, 28, 28)
    shutil.rmtree(tmp_path / "MNIST")


# -- functional and ToPILImage ---------------------------------------------------------------

@needs_pil
def test_to_pil_image_modes_and_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    chw = T.PILToTensor()(Image.fromarray(rgb))
    image = T.ToPILImage()(chw)
    assert image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(image), rgb)
    floats = ember.tensor([[[0.0, 0.5, 0.999, 1.0]]])
    gray = T.ToPILImage()(floats)                           # float * 255, truncated
    assert gray.mode == "L"
    np.testing.assert_array_equal(np.asarray(gray), [[0, 127, 254, 255]])
    f = T.ToPILImage(mode="F")(floats)
    assert f.mode == "F"
    np.testing.assert_array_equal(np.asarray(f), floats.numpy()[0])
    assert T.ToPILImage()(ember.zeros(4, 2, 2, dtype=ember.uint8)).mode == "RGBA"
    assert T.ToPILImage()(ember.zeros(1, 2, 2, dtype=ember.int32)).mode == "I"
    assert T.ToPILImage()(rgb).mode == "RGB"
    with pytest.raises(ValueError, match="Incorrect mode"):
        T.ToPILImage(mode="F")(ember.zeros(1, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 5 channels."):
        T.ToPILImage()(ember.zeros(5, 2, 2))
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        T.ToPILImage()([1, 2])


def test_functional_matches_transforms():
    from ember.vision.transforms import functional as F
    x = ember.arange(2 * 5 * 6.0).reshape(2, 5, 6)
    assert F.get_dimensions(x) == [2, 5, 6] and F.get_dimensions(x[0]) == [1, 5, 6]
    np.testing.assert_array_equal(F.hflip(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(F.vflip(x).numpy(), x.numpy()[:, ::-1])
    np.testing.assert_array_equal(F.crop(x, 1, 2, 3, 3).numpy(), x.numpy()[:, 1:4, 2:5])
    out = F.crop(x, -1, 4, 3, 4).numpy()                   # outside the image reads 0
    want = np.zeros((2, 3, 4))
    want[:, 1:, :2] = x.numpy()[:, :2, 4:]
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(F.crop(x, -10, 2, 3, 2).numpy(), np.zeros((2, 3, 2)))
    np.testing.assert_array_equal(F.crop(x, 4, 8, 2, 3).numpy(), np.zeros((2, 2, 3)))
    whole = F.crop(x, -1, -1, 7, 8).numpy()
    np.testing.assert_array_equal(whole, np.pad(x.numpy(), [(0, 0), (1, 1), (1, 1)]))
    np.testing.assert_array_equal(F.center_crop(x, 3).numpy(), T.CenterCrop(3)(x).numpy())
    np.testing.assert_allclose(F.normalize(x, (1.0, 2.0), (2.0, 4.0)).numpy(),
                               T.Normalize((1.0, 2.0), (2.0, 4.0))(x).numpy())
    u8 = ember.tensor([[[255]]], dtype=ember.uint8)
    assert float(F.convert_image_dtype(u8)) == 1.0
    np.testing.assert_array_equal(F.to_tensor(np.zeros((2, 3), np.uint8)).numpy(),
                                  np.zeros((1, 2, 3)))


@pytest.mark.gpu
def test_transforms_on_cuda_match_cpu():
    x = ember.arange(2 * 5 * 6.0).reshape(2, 5, 6)
    pipeline = T.Compose([T.Pad(1, padding_mode="reflect"), T.CenterCrop(5), T.Resize((4, 7)),
                          T.Resize(9, T.InterpolationMode.NEAREST), T.Pad(2),
                          T.Normalize((0.5, 1.0), (2.0, 3.0)), T.ConvertImageDtype(ember.float64)])
    want = pipeline(x).numpy()
    got = pipeline(x.to("cuda"))
    assert got.device.type == "cuda"
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6)
    ember.manual_seed(0)
    crop_cpu = T.RandomCrop(4, padding=2, padding_mode="symmetric")(x).numpy()
    ember.manual_seed(0)
    crop_gpu = T.RandomCrop(4, padding=2, padding_mode="symmetric")(x.to("cuda")).cpu().numpy()
    np.testing.assert_array_equal(crop_gpu, crop_cpu)


# -- Resize ------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest", "nearest-exact"])
@pytest.mark.parametrize("size", [(5, 7), (9, 30), (40, 11)])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_tensor_matches_torch_interpolate(mode, size, antialias):
    # torchvision resizes tensors with torch's interpolate (align_corners=False for the
    # smooth modes, antialias as given): the oracle is that call.
    x = np.random.default_rng(0).random((2, 3, 17, 23)).astype(np.float32)
    interp = T.InterpolationMode(mode)
    got = T.Resize(size, interp, antialias=antialias)(ember.tensor(x)).numpy()
    smooth = mode in ("bilinear", "bicubic")
    want = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode,
                                           align_corners=False if smooth else None,
                                           antialias=antialias and smooth).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


@needs_torch
def test_resize_uint8_rounds_like_torchvision():
    x = np.random.default_rng(1).integers(0, 256, (3, 20, 16), dtype=np.uint8)
    got = T.Resize((7, 9))(ember.tensor(x))
    assert got.dtype is ember.uint8
    want = torch.nn.functional.interpolate(torch.from_numpy(x)[None].float(), size=(7, 9),
                                           mode="bilinear", antialias=True)
    want = want.round().to(torch.uint8)[0].numpy()
    assert np.abs(got.numpy().astype(int) - want.astype(int)).max() <= 1


@needs_pil
def test_resize_pil_and_sizes():
    array = np.random.default_rng(2).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    image = Image.fromarray(array)
    out = T.Resize(6)(image)                                # smaller edge 12 -> 6
    assert out.size == (10, 6)
    want = image.resize((10, 6), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(want))
    near = T.Resize((3, 4), T.InterpolationMode.NEAREST)(image)
    np.testing.assert_array_equal(np.asarray(near),
                                  np.asarray(image.resize((4, 3), Image.Resampling.NEAREST)))
    assert T.Resize(6, interpolation=3)(image).size == (10, 6)   # PIL constant: bicubic
    # PIL and tensors filter alike when downscaling (PIL's integer maths: off by <= 1).
    tensor = T.Resize(6)(ember.tensor(array.transpose(2, 0, 1).copy())).numpy()
    assert np.abs(tensor.transpose(1, 2, 0).astype(int) - np.asarray(out).astype(int)).max() <= 1


def test_resize_size_rules_and_errors():
    x = ember.ones(1, 10, 30)
    assert tuple(T.Resize(5)(x).shape) == (1, 5, 15)
    assert tuple(T.Resize([4])(ember.ones(30, 10)).shape) == (12, 4)
    assert tuple(T.Resize(5, max_size=12)(x).shape) == (1, 4, 12)   # long edge capped
    assert T.Resize((10, 30))(x) is x                       # already that size
    with pytest.raises(ValueError, match="max_size = 5 must be strictly greater"):
        T.Resize(5, max_size=5)(x)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies"):
        T.Resize((5, 6), max_size=9)(x)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode"):
        T.Resize(5, interpolation="bilinear")
    with pytest.raises(ValueError, match="supported for PIL images only"):
        T.Resize(5, T.InterpolationMode.LANCZOS)(x)
    assert repr(T.Resize(5, max_size=9)) == ("Resize(size=5, interpolation=bilinear, "
                                             "max_size=9, antialias=True)")

"""File helpers for ember.vision: checksums, downloads, archives, IDX files, safe pickles.

The names and behaviour follow ``torchvision.datasets.utils`` (``check_integrity``,
``calculate_md5``, ``download_url``, ``extract_archive``, ``download_and_extract_archive``),
so dataset code written against torchvision reads the same here. Nothing prints: progress
goes through tqdm when it is installed, failures raise.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import pickle
import shutil
import struct
import tarfile
import urllib.request
import zipfile

import numpy as np

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "extract_archive",
           "download_and_extract_archive", "read_idx", "restricted_pickle_load"]

_USER_AGENT = "ember-vision"
_CHUNK = 1024 * 1024


# -- checksums ---------------------------------------------------------------------------------

def calculate_md5(fpath: str | os.PathLike, chunk_size: int = _CHUNK) -> str:
    """The MD5 hex digest of a file, read in chunks.

    Args:
        fpath: the file.
        chunk_size: bytes read at a time.

    Returns:
        32 lowercase hex digits.

    Example:
        >>> import pathlib, tempfile
        >>> from ember.vision.utils import calculate_md5
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "x"
        >>> _ = path.write_bytes(b"ember")
        >>> calculate_md5(path)
        '98e89bbbb4878ec0cc7833f0f91276c2'
    """
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str | os.PathLike, md5: str) -> bool:
    """True when the file's MD5 digest equals ``md5``."""
    return calculate_md5(fpath) == md5.lower()


def check_integrity(fpath: str | os.PathLike, md5: str | None = None) -> bool:
    """True when ``fpath`` is a file and, if ``md5`` is given, its digest matches.

    Args:
        fpath: the file.
        md5: the expected MD5 hex digest, or None to check only that the file exists.

    Returns:
        bool.
    """
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


# -- downloads and archives --------------------------------------------------------------------

def download_url(url: str, root: str | os.PathLike, filename: str | None = None,
                 md5: str | None = None, timeout: float = 60.0) -> str:
    """Download ``url`` into ``root/filename`` and verify its MD5; skip when already there.

    The file is written to a temporary name and renamed only once complete, so an interrupted
    download never looks finished. ``file://`` URLs work too (handy for mirrors on disk).

    Args:
        url: where to download from.
        root: the folder to put the file in (created if needed).
        filename: the name to save under; default: the last part of the URL.
        md5: the expected MD5 digest; None skips the check.
        timeout: seconds to wait for the server before giving up (urllib's ``URLError``).

    Returns:
        The path of the downloaded file.

    Raises:
        urllib.error.URLError: the server could not be reached.
        RuntimeError: the downloaded file does not match ``md5`` (it is removed).
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url.rstrip("/"))
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return fpath
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    partial = fpath + ".partial"
    with urllib.request.urlopen(request, timeout=timeout) as response, \
            open(partial, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = _progress_bar(total, os.path.basename(fpath))
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
    if not check_integrity(partial, md5):
        os.remove(partial)
        raise RuntimeError(f"download_url: {url} downloaded, but its MD5 checksum does not "
                           f"match {md5}: the file is corrupted or the mirror changed. "
                           "File not found or corrupted.")
    os.replace(partial, fpath)
    return fpath


def _progress_bar(total: int | None, name: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False)


def extract_archive(from_path: str | os.PathLike, to_path: str | os.PathLike | None = None,
                    remove_finished: bool = False) -> str:
    """Extract a ``.tar``, ``.tar.gz``/``.tgz``, ``.zip`` or ``.gz`` file.

    Tar members that would land outside ``to_path`` (absolute paths, ``..``, links out) are
    refused.

    Args:
        from_path: the archive.
        to_path: the folder to extract into; default: the archive's folder.
        remove_finished: delete the archive afterwards.

    Returns:
        The folder extracted into (for ``.gz``: the path of the decompressed file).

    Raises:
        RuntimeError: unknown archive type, or a member escaping ``to_path``.
    """
    from_path = os.fspath(from_path)
    to_path = os.fspath(to_path) if to_path is not None else os.path.dirname(from_path)
    name = from_path.lower()
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz")):
        with tarfile.open(from_path, "r:*") as tar:
            _safe_extract_tar(tar, to_path)
        result = to_path
    elif name.endswith(".zip"):
        with zipfile.ZipFile(from_path) as archive:
            root = os.path.realpath(to_path)
            for member in archive.namelist():
                target = os.path.realpath(os.path.join(to_path, member))
                if os.path.commonpath([root, target]) != root:
                    raise RuntimeError(f"extract_archive: {from_path} holds {member!r}, which "
                                       f"would land outside {to_path}; refusing to extract")
            archive.extractall(to_path)
        result = to_path
    elif name.endswith(".gz"):
        result = os.path.join(to_path, os.path.basename(from_path)[:-3])
        with gzip.open(from_path, "rb") as src, open(result, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        raise RuntimeError(f"extract_archive: unknown archive type of {from_path} (expected "
                           ".tar, .tar.gz, .tgz, .zip or .gz)")
    if remove_finished:
        os.remove(from_path)
    return result


def _safe_extract_tar(tar: tarfile.TarFile, to_path: str) -> None:
    if hasattr(tarfile, "data_filter"):                 # Python >= 3.10.12 / 3.11.4
        try:
            tar.extractall(to_path, filter="data")
        except tarfile.FilterError as error:
            raise RuntimeError(f"extract_archive: refusing to extract {tar.name}: "
                               f"{error}") from error
        return
    root = os.path.realpath(to_path)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(to_path, member.name))
        if os.path.commonpath([root, target]) != root or member.issym() or member.islnk():
            raise RuntimeError(f"extract_archive: {tar.name} holds {member.name!r}, which "
                               f"would land outside {to_path}; refusing to extract")
    tar.extractall(to_path)


def download_and_extract_archive(url: str, download_root: str | os.PathLike,
                                 extract_root: str | os.PathLike | None = None,
                                 filename: str | None = None, md5: str | None = None,
                                 remove_finished: bool = False, timeout: float = 60.0) -> None:
    """``download_url`` then ``extract_archive`` (into ``download_root`` by default).

    Args:
        url: where to download from.
        download_root: the folder for the archive.
        extract_root: the folder to extract into; default: ``download_root``.
        filename: the archive's name; default: the last part of the URL.
        md5: the archive's expected MD5.
        remove_finished: delete the archive after extracting.
        timeout: seconds to wait for the server.
    """
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else os.fspath(extract_root)
    archive = download_url(url, download_root, filename, md5, timeout=timeout)
    extract_archive(archive, extract_root, remove_finished)


# -- IDX files (MNIST's format) -----------------------------------------------------------------

# The IDX type byte -> big-endian NumPy dtype (yann.lecun.com's format description).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":                          # gzip magic: read through it
            with gzip.GzipFile(fileobj=f) as gz:
                return gz.read()
        return f.read()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a native-byte-order NumPy array.

    The header is two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a
    big-endian uint32; the values follow, big-endian.

    Args:
        path: the file; gzip is detected from its first bytes, not its name.

    Returns:
        A writable NumPy array of the stored shape and dtype.

    Raises:
        RuntimeError: not an IDX file, unknown type byte, or a truncated/oversized body.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise RuntimeError(f"read_idx: {path} is not an IDX file (magic number "
                           f"0x{data[:4].hex() or '<empty>'}; expected 0x0000TTDD)")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise RuntimeError(f"read_idx: {path} has unknown IDX type 0x{type_code:02X} (known: "
                           "0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, "
                           "0x0E double)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise RuntimeError(f"read_idx: {path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    count = int(np.prod(shape, dtype=np.int64))
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        raise RuntimeError(f"read_idx: {path} holds {len(data)} bytes, but its header "
                           f"{tuple(shape)} of {dtype.newbyteorder('=').name} needs "
                           f"{expected}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))         # native order, and a writable copy


# -- pickles holding only data ------------------------------------------------------------------

# The globals a pickled NumPy array needs, under the module names NumPy 1 and 2 write.
_NUMPY_GLOBALS = {
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    ("_codecs", "encode"): ("_codecs", "encode"),       # bytes pickled at protocol < 3
}


def _numpy_core(submodule: str):
    # NumPy 2 moved numpy.core to numpy._core (the old name warns on import).
    try:
        return importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:
        return importlib.import_module(f"numpy.core.{submodule}")


class _DataOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file, path: str, **kwargs):
        super().__init__(file, **kwargs)
        self._path = path

    def find_class(self, module: str, name: str):
        where = _NUMPY_GLOBALS.get((module, name))
        if where is None:
            raise pickle.UnpicklingError(
                f"restricted_pickle_load: {self._path} refers to {module}.{name}; only NumPy "
                "arrays, dicts, lists, numbers, strings and bytes may be loaded (the file is "
                "not a plain data pickle, or it was tampered with)")
        owner, attr = where
        if owner == "numpy":
            return getattr(np, attr)
        if owner == "_codecs":
            import codecs
            return codecs.encode
        return getattr(_numpy_core(owner), attr)


def restricted_pickle_load(path: str | os.PathLike, encoding: str = "latin1"):
    """Load a pickle that may hold only NumPy arrays, containers, numbers, strings and bytes.

    CIFAR's batches are Python 2 pickles; ``encoding='latin1'`` reads their strings and
    NumPy buffers as torchvision does. Anything else (a class, a function) is refused instead
    of being run, so a tampered file cannot execute code.

    Args:
        path: the pickle file.
        encoding: how Python 2 ``str`` objects are decoded.

    Returns:
        The unpickled object.

    Raises:
        pickle.UnpicklingError: the pickle refers to anything but NumPy's array machinery.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        return _DataOnlyUnpickler(f, path, encoding=encoding).load()

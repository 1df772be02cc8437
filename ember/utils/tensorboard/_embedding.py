"""Projector files of add_embedding: tensors.tsv, metadata.tsv, sprite.png, the config."""

from __future__ import annotations

import math
import os

import numpy as np

from ._utils import encode_png, make_grid, make_np


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def make_tsv(metadata, save_path: str, metadata_header=None) -> None:
    """metadata.tsv: one label per line, or a header line and tab-separated columns."""
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in "
                                 "metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
    _write(os.path.join(save_path, "metadata.tsv"), ("\n".join(lines) + "\n").encode())


def make_sprite(label_img, save_path: str) -> None:
    """sprite.png: the NCHW label images tiled in a square grid (values in [0, 1])."""
    images = make_np(label_img)
    nrow = math.ceil(images.shape[0] ** 0.5)
    grid_chw = make_grid(images, ncols=nrow)
    # The projector expects a square sprite: pad below to the grid's width, as PyTorch does.
    side = grid_chw.shape[2]
    square = np.zeros((side, side, 3))
    square[:grid_chw.shape[1]] = grid_chw.transpose(1, 2, 0)
    png = encode_png(np.uint8((square * 255).clip(0, 255)))
    _write(os.path.join(save_path, "sprite.png"), png)


def make_mat(mat: np.ndarray, save_path: str) -> None:
    """tensors.tsv: one data point per line, tab-separated."""
    lines = ["\t".join(str(v.item()) for v in row) + "\n" for row in mat]
    _write(os.path.join(save_path, "tensors.tsv"), "".join(lines).encode())


def embedding_info(metadata, label_img, subdir: str, global_step: int, tag: str):
    """The projector's EmbeddingInfo of one add_embedding call."""
    from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo
    info = EmbeddingInfo()
    info.tensor_name = f"{tag}:{str(global_step).zfill(5)}"
    info.tensor_path = subdir + "/tensors.tsv"
    if metadata is not None:
        info.metadata_path = subdir + "/metadata.tsv"
    if label_img is not None:
        shape = make_np(label_img).shape
        info.sprite.image_path = subdir + "/sprite.png"
        info.sprite.single_image_dim.extend([shape[3], shape[2]])
    return info


def write_pbtxt(save_path: str, contents: str) -> None:
    _write(os.path.join(save_path, "projector_config.pbtxt"), contents.encode())

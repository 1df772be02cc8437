"""Summary protocol buffers for the SummaryWriter, in the layout PyTorch's writer produces.

Each function returns a ``tensorboard.compat.proto.summary_pb2.Summary`` (or the pieces of
one); ``writer.py`` wraps them in events. Values may be ember tensors, NumPy arrays or
Python numbers.
"""

from __future__ import annotations

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from ._utils import convert_to_HWC, encode_png, make_np

__all__ = ["scalar", "histogram", "histogram_raw", "make_histogram", "image", "make_image",
           "image_boxes",
           "text", "hparams", "pr_curve", "pr_curve_raw", "compute_curve", "custom_scalars",
           "tensor_proto", "audio", "mesh"]


def _plugin_metadata(name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name,
                                                                  content=content))


def _shape_proto(shape) -> TensorShapeProto:
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in shape])


def scalar(name: str, value, new_style: bool = False, double_precision: bool = False) -> Summary:
    """One scalar: ``simple_value`` (old style) or a float/double TensorProto (new style)."""
    arr = make_np(value).squeeze()
    if arr.ndim != 0:
        raise AssertionError("Tensor should contain one element (0 dimensions). Was given "
                             f"size: {arr.size} and {arr.ndim} dimensions.")
    number = float(arr)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=number)])
    if double_precision:
        proto = TensorProto(double_val=[number], dtype="DT_DOUBLE")
    else:
        proto = TensorProto(float_val=[number], dtype="DT_FLOAT")
    return Summary(value=[Summary.Value(tag=name, tensor=proto,
                                        metadata=_plugin_metadata("scalars"))])


_TENSOR_FIELDS = {      # numpy dtype name -> (TensorProto dtype, value field)
    "float16": ("DT_HALF", "half_val"), "float32": ("DT_FLOAT", "float_val"),
    "float64": ("DT_DOUBLE", "double_val"), "int8": ("DT_INT8", "int_val"),
    "uint8": ("DT_UINT8", "uint32_val"), "int16": ("DT_INT16", "int_val"),
    "int32": ("DT_INT32", "int_val"), "int64": ("DT_INT64", "int64_val"),
    "bool": ("DT_BOOL", "bool_val"), "complex64": ("DT_COMPLEX64", "scomplex_val"),
    "complex128": ("DT_COMPLEX128", "dcomplex_val"),
}


def tensor_proto(tag: str, tensor) -> Summary:
    """The whole tensor as a TensorProto (plugin ``tensor``), as PyTorch's add_tensor."""
    from ..._tensor import Tensor
    bf16 = isinstance(tensor, Tensor) and tensor.dtype.is_floating_point and \
        tensor._data.dtype.name == "bfloat16"
    arr = tensor.detach().numpy(force=True) if isinstance(tensor, Tensor) else make_np(tensor)
    if arr.nbytes >= (1 << 31):
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    name = arr.dtype.name
    if bf16:
        dtype, field = "DT_BFLOAT16", "half_val"
    elif name in _TENSOR_FIELDS:
        dtype, field = _TENSOR_FIELDS[name]
    else:
        raise ValueError(f"{tag} has unsupported tensor dtype {arr.dtype}")
    flat = arr.reshape(-1)
    if field == "half_val":
        # PyTorch stores the bits of the value as a float32, read back as int32.
        values = flat.astype(np.float32).view(np.int32).tolist()
    elif field in ("scomplex_val", "dcomplex_val"):
        values = np.stack([flat.real, flat.imag], -1).reshape(-1).tolist()
    else:
        values = flat.tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=_shape_proto(arr.shape), **{field: values})
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("tensor"),
                                        tensor=proto)])


def histogram_raw(name: str, min, max, num, sum, sum_squares, bucket_limits,  # noqa: A002
                  bucket_counts) -> Summary:
    """A histogram from precomputed statistics and buckets."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name: str, values, bins, max_bins: int | None = None) -> Summary:
    """A histogram of ``values`` with NumPy bin specs (an int, a name such as 'auto', or
    bucket edges); see make_histogram."""
    arr = make_np(values)
    return Summary(value=[Summary.Value(tag=name,
                                        histo=make_histogram(arr.astype(float), bins, max_bins))])


def make_histogram(values: np.ndarray, bins, max_bins: int | None = None) -> HistogramProto:
    """A HistogramProto of values: buckets merged down to max_bins, then trimmed to the
    nonzero range with one empty bucket kept on the left, as PyTorch's writer does."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        group = num_bins // max_bins
        remainder = num_bins % group
        if remainder != 0:
            counts = np.pad(counts, pad_width=[[0, group - remainder]], mode="constant",
                            constant_values=0)
        counts = counts.reshape(-1, group).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:group]
        new_limits[-1] = limits[-1]
        limits = new_limits

    # Find the first and the last bin holding values.
    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side="right")
    start = int(start)
    end = int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=values.dot(values), bucket_limit=limits.tolist(),
                          bucket=counts.tolist())


def make_image(image: np.ndarray, rescale: float = 1, rois=None, labels=None) -> Summary.Image:
    """A Summary.Image (PNG) of an HWC uint8 array, with boxes drawn when rois is given."""
    height, width, channel = image.shape
    scaled_h, scaled_w = int(height * rescale), int(width * rescale)
    if rois is not None or (scaled_h, scaled_w) != (height, width):
        from PIL import Image  # drawing and resampling need PIL; plain images do not
        picture = Image.fromarray(image)
        if rois is not None:
            picture = _draw_boxes(picture, rois, labels)
        picture = picture.resize((scaled_w, scaled_h), Image.Resampling.LANCZOS)
        image = np.asarray(picture)
    return Summary.Image(height=height, width=width, colorspace=channel,
                         encoded_image_string=encode_png(image))


def _draw_boxes(picture, boxes: np.ndarray, labels=None):
    """Red (xmin, ymin, xmax, ymax) boxes, 2 px wide, each with its label on a red band."""
    from PIL import ImageDraw, ImageFont
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    for i, (left, top, right, bottom) in enumerate(boxes[:, :4].tolist()):
        draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)],
                  width=2, fill="Red")
        label = None if labels is None else labels[i]
        if label:
            x0, y0, x1, y1 = font.getbbox(label)
            text_w, text_h = x1 - x0, y1 - y0
            margin = np.ceil(0.05 * text_h)
            draw.rectangle([(left, bottom - text_h - 2 * margin), (left + text_w, bottom)],
                           fill="Red")
            draw.text((left + margin, bottom - text_h - margin), label, fill="black", font=font)
    return picture


def image_boxes(tag: str, tensor_image, tensor_boxes, rescale: float = 1,
                dataformats: str = "CHW", labels=None) -> Summary:
    """An image summary with bounding boxes (N, 4) in pixels, optionally labelled."""
    arr = convert_to_HWC(make_np(tensor_image), dataformats)
    boxes = make_np(tensor_boxes)
    scale = 1 if arr.dtype == np.uint8 else 255
    arr = (arr.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    proto = make_image(arr, rescale=rescale, rois=boxes, labels=labels)
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def image(tag: str, tensor, rescale: float = 1, dataformats: str = "NCHW") -> Summary:
    """An image summary; float images are in [0, 1], uint8 images in [0, 255]."""
    arr = convert_to_HWC(make_np(tensor), dataformats)
    scale = 1 if arr.dtype == np.uint8 else 255
    arr = (arr.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(arr, rescale=rescale))])


def audio(tag: str, tensor, sample_rate: int = 44100) -> Summary:
    """A mono WAV clip from samples in [-1, 1] (clipped beyond)."""
    import io
    import warnings
    import wave
    arr = make_np(tensor).squeeze()
    if abs(arr).max() > 1:
        warnings.warn("audio amplitude out of range, auto clipped.", stacklevel=3)
        arr = arr.clip(-1, 1)
    if arr.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    arr = (arr * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(arr.data)
    clip = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=arr.shape[-1],
                         encoded_audio_string=buf.getvalue(), content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=clip)])


def text(tag: str, text_string: str) -> Summary:
    """A text summary (markdown in TensorBoard), tagged ``<tag>/text_summary``."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    meta = _plugin_metadata("text", TextPluginData(version=0).SerializeToString())
    proto = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf_8")],
                        tensor_shape=_shape_proto([1]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=proto)])


def _hparams_summary(tag: str, **content) -> Summary:
    from tensorboard.plugins.hparams.metadata import PLUGIN_DATA_VERSION, PLUGIN_NAME
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content)
    return Summary(value=[Summary.Value(
        tag=tag, metadata=_plugin_metadata(PLUGIN_NAME, data.SerializeToString()))])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three summaries of the hparams plugin: experiment, session start, session end.

    Values are numbers, strings, bools or one-element tensors; None values are skipped.
    As in PyTorch, a bool is an int, so it is logged as a number.
    """
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams.api_pb2 import (
        DataType,
        Experiment,
        HParamInfo,
        MetricInfo,
        MetricName,
        Status,
    )
    from tensorboard.plugins.hparams.metadata import (
        EXPERIMENT_TAG,
        SESSION_END_INFO_TAG,
        SESSION_START_INFO_TAG,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    from ..._tensor import Tensor
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing "
                        "logged.")
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                            f"type as hparam_dict[{k}].")

    infos = []
    start = SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, (int, float)):
            start.hparams[k].number_value = v
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            kind, field = "DATA_TYPE_STRING", "string_value"
        elif isinstance(v, Tensor):
            start.hparams[k].number_value = v.item()
            infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64")))
            continue
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        domain = None
        if k in domains:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d})
                                                  for d in domains[k]])
        infos.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))

    metrics = [MetricInfo(name=MetricName(tag=k)) for k in metric_dict]
    exp = _hparams_summary(EXPERIMENT_TAG,
                           experiment=Experiment(hparam_infos=infos, metric_infos=metrics))
    ssi = _hparams_summary(SESSION_START_INFO_TAG, session_start_info=start)
    sei = _hparams_summary(SESSION_END_INFO_TAG, session_end_info=SessionEndInfo(
        status=Status.Value("STATUS_SUCCESS")))
    return exp, ssi, sei


def custom_scalars(layout: dict) -> Summary:
    """The custom-scalars layout: {category: {title: ['Multiline' | 'Margin', tags]}}."""
    from tensorboard.plugins.custom_scalar import layout_pb2
    categories = []
    for category, charts_spec in layout.items():
        charts = []
        for title, (kind, tags) in charts_spec.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError("len(tags) != 3")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1],
                                                              upper=tags[2])
                chart = layout_pb2.Chart(title=title,
                                         margin=layout_pb2.MarginChartContent(series=[series]))
            else:
                chart = layout_pb2.Chart(title=title,
                                         multiline=layout_pb2.MultilineChartContent(tag=tags))
            charts.append(chart)
        categories.append(layout_pb2.Category(title=category, chart=charts))
    proto = TensorProto(dtype="DT_STRING",
                        string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
                        tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=proto,
                                        metadata=_plugin_metadata("custom_scalars"))])


def _pr_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                        tensor_shape=_shape_proto(data.shape))
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("pr_curves", content),
                                        tensor=proto)])


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    """A precision-recall curve from precomputed counts (six arrays of one length)."""
    num_thresholds = min(num_thresholds, 127)
    data = np.stack([make_np(a) for a in (tp, fp, tn, fn, precision, recall)])
    return _pr_summary(tag, data, num_thresholds)


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None) -> Summary:
    """A precision-recall curve of predictions in [0, 1] against boolean labels."""
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds, weights)
    return _pr_summary(tag, data, num_thresholds)


def compute_curve(labels, predictions, num_thresholds=None, weights=None) -> np.ndarray:
    """(tp, fp, tn, fn, precision, recall) per threshold, shape (6, num_thresholds)."""
    minimum_count = 1e-7
    if weights is None:
        weights = 1.0
    bucket = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    bounds = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket, bins=num_thresholds, range=bounds,
                                 weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket, bins=num_thresholds, range=bounds,
                                 weights=(1.0 - float_labels) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]      # counts at or above each threshold
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """The mesh plugin's summaries: vertices (B, N, 3), faces (B, F, 3), colors (B, N, 3)."""
    import json

    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
    json_config = json.dumps(config_dict, sort_keys=True) if config_dict is not None else "{}"
    parts = [(vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE),
             (colors, MeshPluginData.COLOR)]
    parts = [(make_np(t), kind) for t, kind in parts if t is not None]
    components = metadata.get_components_bitmask([kind for _, kind in parts])
    values = []
    for arr, kind in parts:
        meta = metadata.create_summary_metadata(tag, display_name, kind, components, arr.shape,
                                                description, json_config=json_config)
        proto = TensorProto(dtype="DT_FLOAT", float_val=arr.reshape(-1).tolist(),
                            tensor_shape=_shape_proto(arr.shape[:3]))
        values.append(Summary.Value(tag=metadata.get_instance_name(tag, kind), tensor=proto,
                                    metadata=meta))
    return Summary(value=values)

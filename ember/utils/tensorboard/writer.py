"""SummaryWriter: log scalars, histograms, images, text, hparams, graphs and embeddings to
TensorBoard event files, with PyTorch's API, directory layout and file names.

Note [Event files]
    Records are written by TensorBoard's own ``EventFileWriter`` (TFRecord framing, masked
    CRC32C, a background thread that flushes every ``flush_secs`` or ``max_queue`` events);
    the file is ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>``. Sub-runs are
    separate writers under the log dir, as in PyTorch: ``add_scalars`` writes each series to
    ``<log_dir>/<main_tag>_<tag>`` and ``add_hparams`` to ``<log_dir>/<run_name>``.
"""

from __future__ import annotations

import os
import time
import warnings

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import _embedding
from ._graph import graph as _record_graph
from ._utils import figure_to_image, make_np
from .summary import (
    audio,
    custom_scalars,
    histogram,
    histogram_raw,
    hparams,
    image,
    image_boxes,
    mesh,
    pr_curve,
    pr_curve_raw,
    scalar,
    tensor_proto,
    text,
)

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes Event protocol buffers to one event file in ``log_dir`` (asynchronously)."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs,
                                            filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        self.add_event(event_pb2.Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None) -> None:
        graph_def, step_stats = graph_profile
        self.add_event(event_pb2.Event(graph_def=graph_def.SerializeToString()), None, walltime)
        trm = event_pb2.TaggedRunMetadata(tag="step1",
                                          run_metadata=step_stats.SerializeToString())
        self.add_event(event_pb2.Event(tagged_run_metadata=trm), None, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()

    def reopen(self) -> None:
        self.event_writer.reopen()


def _default_bins() -> list:
    """TensorFlow's histogram buckets: +-1e-12 growing by 10% up to 1e20, and 0."""
    v = 1e-12
    buckets = []
    while v < 1e20:
        buckets.append(v)
        v *= 1.1
    return [-b for b in reversed(buckets)] + [0] + buckets


class SummaryWriter:
    """Writes entries to event files in ``log_dir`` for TensorBoard to show.

    Args:
        log_dir: the run's directory; default ``runs/<Mon><DD>_<HH-MM-SS>_<host><comment>``.
        comment: appended to the default log_dir (ignored when log_dir is given).
        purge_step: on restart at this step, TensorBoard hides events of later steps.
        max_queue: pending events before a write to disk.
        flush_secs: seconds between flushes to disk.
        filename_suffix: appended to every event file name.

    Example:
        >>> import tempfile, ember
        >>> from ember.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter(tempfile.mkdtemp()) as w:
        ...     w.add_scalar("loss", ember.tensor(0.5), 1)
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            import socket
            from datetime import datetime
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _default_bins()

    def _get_file_writer(self) -> FileWriter:
        """The main writer, (re)opened on first use after close()."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step = self.purge_step
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step,
                                                 session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory event files are written to."""
        return self.log_dir

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name: str | None = None, global_step=None) -> None:
        """Log hyperparameters and their metrics for the HParams dashboard.

        Written to the sub-run ``<log_dir>/<run_name>`` (default: the current time), with
        each metric also logged there as a scalar.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as sub:
            sub.file_writer.add_summary(exp, global_step)
            sub.file_writer.add_summary(ssi, global_step)
            sub.file_writer.add_summary(sei, global_step)
            for k, v in metric_dict.items():
                sub.add_scalar(k, v, global_step)

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Log one number (a Python number, NumPy scalar or one-element tensor)."""
        summary = scalar(tag, scalar_value, new_style=new_style,
                         double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Log several series on one chart; each goes to the sub-run
        ``<log_dir>/<main_tag>_<tag>`` (see Note [Event files])."""
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            key = root + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(key)
            if writer is None:
                writer = FileWriter(key, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[key] = writer
            writer.add_summary(scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag: str, tensor, global_step=None, walltime=None) -> None:
        """Log a whole tensor (as a TensorProto)."""
        self._get_file_writer().add_summary(tensor_proto(tag, tensor), global_step, walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:
        """Log a histogram of values; bins: 'tensorflow' (default) or any NumPy bin spec."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        summary = histogram(tag, values, bins, max_bins=max_bins)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares,  # noqa: A002
                          bucket_limits, bucket_counts, global_step=None,
                          walltime=None) -> None:
        """Log a histogram from precomputed statistics; one count per bucket limit."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        summary = histogram_raw(tag, min, max, num, sum, sum_squares, list(bucket_limits),
                                list(bucket_counts))
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        """Log an image: float in [0, 1] or uint8; dataformats CHW, HWC or HW."""
        summary = image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """Log a batch of images tiled in a grid (8 per row); NCHW or NHWC."""
        summary = image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor, box_tensor, global_step=None,
                             walltime=None, rescale: float = 1, dataformats: str = "CHW",
                             labels=None) -> None:
        """Log an image with boxes (N, 4) as (xmin, ymin, xmax, ymax) pixels; labels (one per
        box, else ignored) are drawn on them. Needs PIL."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != box_tensor.shape[0]:
                labels = None
        summary = image_boxes(tag, img_tensor, box_tensor, rescale=rescale,
                              dataformats=dataformats, labels=labels)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True,
                   walltime=None) -> None:
        """Log a matplotlib figure (or a list of them) as an image; closes it by default."""
        if isinstance(figure, list):
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime,
                           dataformats="NCHW")
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime,
                           dataformats="CHW")

    def add_audio(self, tag: str, snd_tensor, global_step=None, sample_rate: int = 44100,
                  walltime=None) -> None:
        """Log a mono clip of samples in [-1, 1]."""
        summary = audio(tag, snd_tensor, sample_rate=sample_rate)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Log text (markdown)."""
        self._get_file_writer().add_summary(text(tag, text_string), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Log the graph of one forward call ``model(input_to_model)`` (a tensor or a tuple).

        Unlike PyTorch, which traces with TorchScript, the ops are recorded as they run, with
        node names scoped per module (``Net/Linear[fc]/linear``); verbose and
        use_strict_trace are accepted and ignored.
        """
        self._get_file_writer().add_graph(_record_graph(model, input_to_model))

    @staticmethod
    def _encode(rawstr: str) -> str:
        return rawstr.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag: str = "default", metadata_header=None) -> None:
        """Write the projector files of a (N, D) embedding: ``<step>/<tag>/tensors.tsv``,
        optional ``metadata.tsv`` and ``sprite.png`` (label_img: NCHW in [0, 1]), and
        ``projector_config.pbtxt`` in the log dir."""
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        save_path = os.path.join(self._get_file_writer().get_logdir(), subdir)
        if os.path.exists(save_path):
            if not os.path.isdir(save_path):
                raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot "
                                         "proceed.")
            warnings.warn("Embedding dir exists, did you set global_step for add_embedding()?",
                          stacklevel=2)
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _embedding.make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            if mat.shape[0] != make_np(label_img).shape[0]:
                raise AssertionError("#images should equal with #data points")
            _embedding.make_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data "
                                 "points")
        _embedding.make_mat(mat, save_path)
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        info = _embedding.embedding_info(metadata, label_img, subdir, global_step, tag)
        self._projector_config.embeddings.extend([info])
        _embedding.write_pbtxt(self._get_file_writer().get_logdir(),
                               text_format.MessageToString(self._projector_config))

    def add_pr_curve(self, tag: str, labels, predictions, global_step=None,
                     num_thresholds: int = 127, weights=None, walltime=None) -> None:
        """Log a precision-recall curve (labels: 0/1 or bool; predictions in [0, 1])."""
        labels, predictions = make_np(labels), make_np(predictions)
        summary = pr_curve(tag, labels, predictions, num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds: int = 127, weights=None,
                         walltime=None) -> None:
        """Log a precision-recall curve from precomputed counts."""
        summary = pr_curve_raw(tag, true_positive_counts, false_positive_counts,
                               true_negative_counts, false_negative_counts, precision, recall,
                               num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags, category: str = "default",
                                          title: str = "untitled") -> None:
        """One custom-scalars chart with several series (tags or regexes)."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category: str = "default",
                                       title: str = "untitled") -> None:
        """One custom-scalars chart of a value with lower and upper bounds (three tags)."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_custom_scalars(self, layout: dict) -> None:
        """The custom-scalars layout: {category: {title: ['Multiline' | 'Margin', tags]}}."""
        self._get_file_writer().add_summary(custom_scalars(layout))

    def add_mesh(self, tag: str, vertices, colors=None, faces=None, config_dict=None,
                 global_step=None, walltime=None) -> None:
        """Log a 3-D mesh or point cloud: vertices (B, N, 3), colors (B, N, 3), faces."""
        summary = mesh(tag, vertices, colors, faces, config_dict)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def flush(self) -> None:
        """Write pending events of every writer (main and sub-runs) to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file; a later add_* call opens a new file."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self.close()

"""grad_fn names equal to PyTorch's: ``y.grad_fn.name()`` and ``repr(y)`` show the node that
PyTorch shows for the same call (see Note [grad_fn names] in ember/ops/_names.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.opdb import ALL_SPECS
from tests.ops.runner import ember_args, flat_outputs, torch_args
from tests.oracle import needs_torch, torch

# Specs whose output nodes are still named differently from PyTorch's, and why. The test
# checks that each still differs in at least one sample, so the list cannot go stale.
KNOWN_DIFFERENCES = {
    "einsum": "PyTorch decomposes einsum into permutes, bmm and views; ember has one op",
    "gru": "PyTorch's layer ends in cat/stack of its steps; ember has one recurrent-layer op",
    "gru_packed": "as gru",
    "lstm": "as gru",
    "lstm_packed": "as gru",
    "rnn_relu": "as gru",
    "rnn_tanh": "as gru",
    "rnn_tanh_packed": "as gru",
    "lstm_cell": "one ember node gives h' and c'; PyTorch's end in a mul and an add",
    "linalg.cond_p-2": "PyTorch divides singular values and squeezes; ember divides norms",
    "linalg.cond_pNone": "as linalg.cond_p-2",
    "linalg.eig": "PyTorch selects real/imag views of complex outputs; ember builds them",
    "linalg.eigvals": "as linalg.eig",
    "linalg.matrix_power": "n=0: PyTorch copies an identity into a new tensor (CopyBackwards)",
    "linalg.tensorinv": "PyTorch's internal reshape alias (ReshapeAliasBackward0)",
    "nn.functional.scaled_dot_product_attention": "PyTorch picks a kernel by shape and flags "
                                                  "(math path views, flash attention on CPU)",
    "nn.functional.scaled_dot_product_attention_dropout": "as scaled_dot_product_attention",
    "nn.functional.scaled_dot_product_attention_gqa": "as scaled_dot_product_attention",
    "round": "round(x, decimals=0) is PyTorch's round.decimals overload; ember cannot tell an "
             "explicit decimals=0 from the default",
}


def _name(t):
    fn = getattr(t, "grad_fn", None)
    return None if fn is None else fn.name()


def _names(spec, sample):
    """(ember names, torch names) of every output, or None when a side cannot run it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ea, ek = ember_args(sample)
            ta, tk = torch_args(sample)
            eo = flat_outputs(spec.ember_fn()(*ea, **ek))
            to = flat_outputs(spec.get_torch_fn(torch)(*ta, **tk))
    except Exception:       # errors and parity are other tests' business
        return None
    return tuple(_name(o) for o in eo), tuple(_name(o) for o in to)


def _samples(spec):
    try:
        return list(spec.make_samples(np.random.default_rng(0), "float64"))
    except Exception:
        return []


_GRAD_SPECS = [s for s in ALL_SPECS if s.grad]


@needs_torch
@pytest.mark.parametrize("spec", _GRAD_SPECS, ids=lambda s: s.id)
def test_gradfn_names_match_torch(spec):
    results = [(s, _names(spec, s)) for s in _samples(spec)]
    results = [(s, r) for s, r in results if r is not None]
    differ = [(s, r) for s, r in results if r[0] != r[1]]
    if spec.id in KNOWN_DIFFERENCES:
        assert differ, (f"{spec.id}: names now match PyTorch's in every sample; remove it from "
                        f"KNOWN_DIFFERENCES")
        return
    assert not differ, "\n".join(f"{spec.id}{s}: ember {e}, torch {t}" for s, (e, t) in differ)


def test_gradfn_known_differences_are_specs():
    ids = {s.id for s in _GRAD_SPECS}
    assert set(KNOWN_DIFFERENCES) <= ids, sorted(set(KNOWN_DIFFERENCES) - ids)


# -- hand-written calls: the forms real code meets most ---------------------------------------

_SHAPES = {"x": (3, 4), "y": (2, 3, 4), "v": (4,), "w": (5, 4), "b": (5,), "s": (),
           "im": (2, 3, 6, 6), "seq": (2, 3, 6), "vol": (1, 2, 4, 4, 4)}

_CALLS = [
    # views
    "x.t()", "v.t()", "x.T", "y.mT", "y.transpose(0, 2)", "s.transpose(0, -1)", "x.unsqueeze(0)",
    "x.unsqueeze(0).squeeze()", "x.unsqueeze(1).squeeze(1)", "x.unsqueeze(1).squeeze((1,))",
    "x.select(1, 2)", "x.narrow(0, 1, 2)", "x.expand(2, 3, 4)", "x.expand(3, 4)", "x.view(-1)",
    "x.reshape(4, 3)", "x.t().reshape(-1)", "x.t().flatten()", "x.t().ravel()",
    "x.t().contiguous()", "x.permute(1, 0)", "x.movedim(0, 1)", "x.unbind()[0]",
    "x.split(2, 1)[0]", "x.split([1, 3], 1)[0]", "x.chunk(2)[0]", "x.tensor_split(2)[0]",
    "x.diagonal()", "x.unflatten(1, (2, 2))",
    # indexing
    "y[0]", "y[-1]", "y[:]", "y[...]", "y[:, :]", "y[1:]", "y[:, 1]", "y[1, :, 2:]", "y[None]",
    "y[..., None]", "y[None, 1]", "y[1:, None]", "y[:, ::2]", "y[0, 0, 0]", "y[[0, 1]]",
    "y[0, [0, 1]]", "y[y > 0.5]", "y[ember_or_torch.tensor(1)]",
    # reductions
    "x.sum()", "x.sum(0)", "x.sum(-1, keepdim=True)", "x.mean()", "x.mean((0, 1))", "x.prod()",
    "x.prod(1)", "x.std()", "x.var(0)", "x.norm()", "x.logsumexp(1)", "x.cumsum(0)",
    "x.max()", "x.max(0)[0]", "x.amax(1)", "x.median()", "x.median(0)[0]", "x.topk(2)[0]",
    "x.sort()[0]", "x.softmax(1)", "x.log_softmax(-1)",
    # matmul family
    "x @ v", "v @ v", "v @ x.t()", "x @ x.t()", "y @ x.t()", "y @ y.transpose(1, 2)",
    "F.linear(x, w, b)", "F.linear(x, w)", "F.linear(y, w, b)", "F.linear(y, w)",
    "F.linear(v, w, b)", "F.linear(v, w)",
    # elementwise overloads
    "x ** 2", "x ** x", "2 ** x", "x.square()", "x.clamp(0.2, 0.5)", "x.clamp(min=0.2)",
    "x.clamp_min(0.3)", "x.clamp(v * 0, v + 1)", "1 - x", "x - 1", "x.log1p()",
    "x.reciprocal()", "x % v", "x % 2",
    # nn
    "F.relu(x)", "F.gelu(x)", "F.silu(x)", "F.elu(x * 1, inplace=True)",
    "F.leaky_relu(x * 1, inplace=True)", "F.celu(x)", "F.glu(x)", "F.dropout(x, 0.0)",
    "F.layer_norm(x, (4,))", "F.group_norm(im, 3)", "F.batch_norm(im, None, None, training=True)",
    "F.max_pool2d(im, 2)", "F.max_pool1d(seq, 2)", "F.max_pool3d(vol, 2)", "F.avg_pool2d(im, 2)",
    "F.adaptive_avg_pool2d(im, 1)", "F.adaptive_avg_pool2d(im, 2)",
    "F.interpolate(im, scale_factor=2)", "F.interpolate(im, scale_factor=2, mode='bilinear')",
    "F.pad(seq, (1, 1), mode='reflect')", "F.pixel_shuffle(im[:, :2].reshape(2, 4, 3, 6), 2)",
    "F.embedding(ember_or_torch.tensor([0, 1]), x)",
    # losses, every reduction
    *[f"F.{loss}(x, x.detach() * 0.5, reduction='{r}')"
      for loss in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                   "binary_cross_entropy_with_logits", "soft_margin_loss")
      for r in ("mean", "sum", "none")],
    *[f"F.{loss}(x, ember_or_torch.tensor([0, 2, 1]), reduction='{r}')"
      for loss in ("cross_entropy", "nll_loss", "multi_margin_loss")
      for r in ("mean", "sum", "none")],
    "F.cross_entropy(im, ember_or_torch.zeros(2, 6, 6, dtype=ember_or_torch.long))",
    "F.cross_entropy(x, ember_or_torch.tensor([0, 2, 1]), label_smoothing=0.1)",
    "F.cross_entropy(x, x.detach().softmax(1))",
]


def _env(mod, functional):
    rng = np.random.default_rng(0)
    env = {k: mod.tensor(rng.uniform(0.1, 0.9, shape), requires_grad=True)
           for k, shape in _SHAPES.items()}
    env.update(F=functional, ember_or_torch=mod)
    return env


@needs_torch
def test_gradfn_names_common_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = _env(ember, EF), _env(torch, torch.nn.functional)
        bad = []
        for call in _CALLS:
            e = flat_outputs(eval(call, ours))[0]
            t = flat_outputs(eval(call, theirs))[0]
            if _name(e) != _name(t):
                bad.append(f"{call}: ember {_name(e)}, torch {_name(t)}")
    assert not bad, "\n".join(bad)


def test_gradfn_name_in_repr():
    x = ember.tensor([[0.5, 0.25, 0.25]], requires_grad=True)
    loss = EF.nll_loss(x.log(), ember.tensor([0]))
    assert repr(loss) == "tensor(0.6931, grad_fn=<NllLossBackward0>)"
    assert loss.grad_fn.next_functions[0][0].name() == "LogBackward0"


def test_gradfn_name_never_renames_an_input_node():
    x = ember.randn(3, 4, requires_grad=True)
    y = x * 2
    assert y.contiguous() is y and y.grad_fn.name() == "MulBackward0"
    # A function that hands back its input must leave the input's node alone.
    assert ember.broadcast_tensors(y, x)[0] is y
    assert y.grad_fn.name() == "MulBackward0"
    with ember.no_grad():
        y.zero_()                       # records nothing: the old node keeps its name
    assert y.grad_fn.name() == "MulBackward0"
    z = x * 1
    z.zero_()
    assert z.grad_fn.name() == "ZeroBackward0"


def test_gradfn_name_per_call_not_per_op():
    # One Op (Permute, View, Sum) serves several PyTorch functions: each call names its node.
    x = ember.randn(3, 4, requires_grad=True)
    names = [x.t().grad_fn.name(), x.transpose(0, 1).grad_fn.name(),
             x.permute(1, 0).grad_fn.name(), x.sum().grad_fn.name(), x.sum(0).grad_fn.name(),
             x.unsqueeze(0).grad_fn.name(), x.view(12).grad_fn.name()]
    assert names == ["TBackward0", "TransposeBackward0", "PermuteBackward0", "SumBackward0",
                     "SumBackward1", "UnsqueezeBackward0", "ViewBackward0"]


def test_gradfn_name_backward_still_works():
    # Renamed nodes are the same nodes: gradients flow as before.
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = EF.mse_loss(x.t()[0], ember.zeros(2), reduction="sum")
    assert y.grad_fn.name() == "MseLossBackward0"
    y.backward()
    assert x.grad.tolist() == [[2.0, 0.0], [6.0, 0.0]]

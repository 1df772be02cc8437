"""Run ONNX's backend node test suite through ``ember.onnx.load`` and print per-op pass rates.

The ``onnx`` wheel holds the generators of the node cases (``onnx.backend.test.case.node``):
each case is a one-node model (or its function expansion, ``*_expanded``) with input and
expected output arrays. ``onnx.backend.test.cmd_tools generate-data`` writes them as
``data/node/<case>/model.onnx`` + ``test_data_set_0/{input,output}_*.pb``; this script
builds the same cases in memory (about 10 s) instead of writing and re-reading ~1,900
folders. A case counts as imported when ember imports every op in its graph (subgraphs
included); it passes when every output has the expected dtype and shape and matches within
the case's rtol/atol (1e-3/1e-7, as onnx's backend runner checks).

Usage:
    python scripts/onnx_node_suite.py [--op Conv] [--failures]
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import warnings

import numpy as np

_CASES = None

# Ops that draw random numbers: their values cannot match another runtime's generator, so
# cases using them check outputs' dtype and shape only (reported in their own column).
RANDOM_OPS = {"Bernoulli", "Multinomial", "RandomNormal", "RandomNormalLike",
              "RandomUniform", "RandomUniformLike"}


def collect_cases():
    """All node test cases as (case, tested op type) pairs (generated once per process)."""
    global _CASES
    if _CASES is None:
        from onnx.backend.test.case import node
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            cases = node.collect_testcases()
        tested = {name: proto.op_type for name, proto in node._existing_names.items()}
        pairs = []
        for case in cases:
            if case.kind != "node":
                continue
            base = re.sub(r"_expanded(_ver\d+)?$", "", case.name)
            op = tested.get(base) or case.model.graph.node[0].op_type
            pairs.append((case, op))
        _CASES = pairs
    return _CASES


def graph_ops(graph) -> set[tuple[str, str]]:
    """(domain, op type) of every node in ``graph`` and its subgraphs."""
    import onnx
    ops = set()
    for node in graph.node:
        ops.add((node.domain or "", node.op_type))
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                ops |= graph_ops(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    ops |= graph_ops(g)
    return ops


def is_random(case) -> bool:
    """Whether the case draws random numbers (a random op, or Dropout in training mode)."""
    if any(op in RANDOM_OPS for _, op in graph_ops(case.model.graph)):
        return True
    return any(n.op_type == "Dropout" and len(n.input) > 2 and n.input[2]
               for n in case.model.graph.node)


def is_imported(case, supported) -> bool:
    return all(domain in ("", "ai.onnx") and op in supported
               for domain, op in graph_ops(case.model.graph))


def _as_array(value):
    """A case's tensor as an array, a sequence as a list of them, an empty optional as None."""
    from onnx import TensorProto, numpy_helper
    if value is None:
        return None
    if isinstance(value, list):
        return [_as_array(v) for v in value]
    if isinstance(value, TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    raise TypeError(f"{type(value).__name__} values (maps, ...) are not imported")


def _flat_arrays(value):
    value = _as_array(value)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _to_ember(value):
    import ember
    if value is None:
        return None
    if isinstance(value, list):
        return [_to_ember(v) for v in value]
    return ember.from_numpy(np.array(value))


def _compare(i, got, want, case, values=True) -> str | None:
    """Why output ``i`` differs from the expected value, or None."""
    if want is None or isinstance(want, list):
        if want is None or got is None:
            return None if want is None and got is None else f"output {i}: optional differs"
        if not isinstance(got, list) or len(got) != len(want):
            return f"output {i}: expected a sequence of {len(want)} tensors"
        for g, w in zip(got, want):
            why = _compare(i, g, w, case, values)
            if why:
                return why
        return None
    got = got.detach().cpu().numpy()
    if got.dtype != want.dtype:
        return f"output {i}: dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"output {i}: shape {got.shape}, expected {want.shape}"
    if not values:
        return None
    if want.dtype == object or want.dtype.kind in "bUS":
        return None if np.array_equal(got, want) else f"output {i}: values differ"
    if not np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=case.rtol,
                       atol=case.atol, equal_nan=True):
        err = np.nanmax(np.abs(got.astype(np.float64) - want))
        return f"output {i}: values differ (max abs error {err:.3g})"
    return None


def lacks_dtype(case) -> bool:
    """Whether an input or expected output has a dtype ember has no tensor type for
    (uint16/32/64, float8, 4-bit, strings, ...)."""
    from ember._dtype import from_numpy_dtype
    for inputs, outputs in case.data_sets:
        for value in [*inputs, *outputs]:
            try:
                for array in _flat_arrays(value):
                    from_numpy_dtype(array.dtype)
            except (TypeError, KeyError, ValueError):
                return True
    return False


def run_case(case) -> str | None:
    """Run one case through ember; None when it passes, else why it failed."""
    import ember
    values = not is_random(case)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            module = ember.onnx.load(case.model)
            for inputs, expected in case.data_sets:
                args = [_to_ember(_as_array(v)) for v in inputs]
                with ember.no_grad():
                    outs = module(*args)
                outs = outs if isinstance(outs, tuple) and len(expected) > 1 else (outs,)
                if len(outs) != len(expected):
                    return f"{len(outs)} outputs, expected {len(expected)}"
                for i, (out, want) in enumerate(zip(outs, expected)):
                    why = _compare(i, out, _as_array(want), case, values)
                    if why:
                        return why
    except Exception as e:  # a failing case is a result, not a crash of the suite
        return f"{type(e).__name__}: {str(e)[:160]}"
    return None


def run_suite(ops: set[str] | None = None) -> dict:
    """Run every imported case (optionally only those testing ``ops``).

    Returns:
        {"per_op": {op: [cases, passed, cases with a dtype ember lacks, random cases]},
         "failures": {case name: why}, "op_of": {case name: the op it tests},
         "not_imported": sorted op types with cases ember does not import,
         "skipped": number of cases not run}
    """
    import ember.onnx
    supported = ember.onnx.supported_ops()
    per_op = collections.defaultdict(lambda: [0, 0, 0, 0])
    failures, op_of = {}, {}
    not_imported = set()
    skipped = 0
    for case, op in collect_cases():
        if ops is not None and op not in ops:
            continue
        if not is_imported(case, supported):
            skipped += 1
            not_imported |= {o for d, o in graph_ops(case.model.graph)
                             if d not in ("", "ai.onnx") or o not in supported}
            continue
        why = run_case(case)
        op_of[case.name] = op
        per_op[op][0] += 1
        per_op[op][3] += is_random(case)
        if why is None:
            per_op[op][1] += 1
        else:
            failures[case.name] = why
            per_op[op][2] += lacks_dtype(case)
    return {"per_op": dict(per_op), "failures": failures, "op_of": op_of,
            "not_imported": sorted(not_imported), "skipped": skipped}


def overall_rate(result, representable: bool = False) -> tuple[int, int]:
    """(passed, cases) over all imported cases, or only over those whose dtypes ember has
    (``representable=True``; a case with a dtype ember lacks cannot pass)."""
    cases = sum(c - (d if representable else 0) for c, _, d, _ in result["per_op"].values())
    passed = sum(p for _, p, _, _ in result["per_op"].values())
    return passed, cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--op", action="append", help="only cases testing this op type")
    parser.add_argument("--failures", action="store_true", help="list failing cases")
    args = parser.parse_args(argv)
    result = run_suite(set(args.op) if args.op else None)
    print(f"{'op':28} {'cases':>5} {'passed':>6} {'rate':>5} {'dtype ember lacks':>17} "
          f"{'random*':>7}")
    for op, (cases, passed, lacking, random) in sorted(result["per_op"].items()):
        print(f"{op:28} {cases:5d} {passed:6d} {passed / cases:5.0%} {lacking:17d} {random:7d}")
    passed, cases = overall_rate(result)
    print(f"\noverall: {passed}/{cases} = {passed / max(cases, 1):.1%} of the cases whose ops "
          f"ember imports ({result['skipped']} cases not imported)")
    passed, cases = overall_rate(result, representable=True)
    print(f"without the cases that need a dtype ember lacks: {passed}/{cases} = "
          f"{passed / max(cases, 1):.1%}")
    print("* random cases (random ops, training-mode Dropout) check dtype and shape only")
    print(f"ONNX ops not imported ({len(result['not_imported'])}): "
          + ", ".join(result["not_imported"]))
    if args.failures:
        for name, why in sorted(result["failures"].items()):
            print(f"FAIL {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

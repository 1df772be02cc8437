#!/usr/bin/env bash
# One-shot GPU check for a lent CUDA machine (python3 with cupy, numpy, torch; no network).
#
#   bash scripts/gpu_check.sh            # from the repository root
#
# Steps, each under its own time limit (about 6 minutes in all):
#   1. environment: nvidia-smi -L, CuPy's device, ember.cuda.is_available() (must be True)
#   2. tests/test_gpu.py without the op table (creation, movement, math, autograd, interop)
#   3. the op table (tests/opdb) on cuda vs cpu: test_gpu.py::test_opdb_cuda_matches_cpu
#   4. benchmarks/ops.py --device cuda, if that file exists
# Exits non-zero when any step fails; the summary at the end lists each step's status.
# When $OUT is set (the device tool), full logs are written there too.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
LOGDIR=${OUT:-/tmp/ember_gpu_check}
mkdir -p "$LOGDIR"
declare -a SUMMARY=()
STATUS=0

step() {  # step NAME LIMIT_SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo
    echo "=== $name (limit ${limit}s) ==="
    local t0=$SECONDS
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$LOGDIR/$name.log"
    local rc=${PIPESTATUS[0]}
    local took=$((SECONDS - t0))
    if [ "$rc" -eq 0 ]; then
        SUMMARY+=("PASS  $name (${took}s)")
    else
        [ "$rc" -eq 124 ] && SUMMARY+=("FAIL  $name: timed out after ${limit}s") \
                          || SUMMARY+=("FAIL  $name: exit $rc (${took}s)")
        STATUS=1
    fi
    return "$rc"
}

echo "=== environment ==="
nvidia-smi -L || echo "nvidia-smi failed"
if ! step env 60 "$PY" - <<'PYEOF'
import sys
import numpy, cupy
print("python", sys.version.split()[0], "numpy", numpy.__version__, "cupy", cupy.__version__)
dev = cupy.cuda.Device()
props = cupy.cuda.runtime.getDeviceProperties(dev.id)
print("cupy device", dev.id, props["name"].decode(), "cc", dev.compute_capability,
      "memory %.1f GiB" % (props["totalGlobalMem"] / 2**30))
import ember
print("ember from", ember.__file__)
print("ember.cuda.is_available():", ember.cuda.is_available(),
      "device_count:", ember.cuda.device_count())
x = ember.arange(4.0, device="cuda")
print("smoke:", (x * 2 + 1).cpu().tolist(), (x @ x).item())
sys.exit(0 if ember.cuda.is_available() else 1)
PYEOF
then
    echo "ember does not see the GPU: the gpu tests would all be skipped; stopping."
    printf '%s\n' "${SUMMARY[@]}"
    exit 1
fi

PYTEST=("$PY" -m pytest -q -p no:cacheprovider -m gpu -rfE --tb=short)
step gpu_tests 150 "${PYTEST[@]}" tests/test_gpu.py -k "not test_opdb_cuda_matches_cpu"
step gpu_opdb 240 "${PYTEST[@]}" tests/test_gpu.py -k "test_opdb_cuda_matches_cpu"

if [ -f benchmarks/ops.py ]; then
    step benchmark 90 "$PY" benchmarks/ops.py --device cuda
else
    SUMMARY+=("SKIP  benchmark: benchmarks/ops.py not found")
fi

echo
echo "=== summary ==="
printf '%s\n' "${SUMMARY[@]}"
exit "$STATUS"

#!/usr/bin/env bash
# The checks that need a CUDA GPU, as one run (a GPU machine here has CuPy, PyTorch and pytest but no
# network and no Qt, so nothing is installed): the compiler suite with every compile() on the GPU
# against the reference executor, the exported script on CuPy, then the benchmark on the GPU.
# Logs and the benchmark's JSON go to $OUT (or ./gpu-check). About 5 minutes on an H100.
#
#     bash bench/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH=.
python=${PYTHON:-python3}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
"$python" -c "import cupy, numpy; print('cupy', cupy.__version__, 'numpy', numpy.__version__)" | tee -a "$out/gpu.txt"

echo "== compiler and devices suite, every compile() on the GPU"
LOOM_TEST_DEVICE=cuda timeout 360 "$python" -m pytest tests/core/compiler tests/core/devices -q -rs \
    -p no:cacheprovider 2>&1 | tee "$out/tests_cuda.txt" | tail -25

echo "== the exported NumPy script with --device cupy, and every example through compile() on both devices"
timeout 240 "$python" -m pytest tests/core/export/test_numpy_names.py \
    "tests/core/compiler/test_function.py::test_every_example_matches_the_reference_with_gradients" \
    -q -rs -p no:cacheprovider 2>&1 | tee "$out/tests_export.txt" | tail -8

echo "== benchmark on the GPU"
timeout 300 "$python" bench/run.py --device cuda --repeats 5 --json > "$out/bench_cuda.json" \
    && "$python" -c "import json, sys; from bench.run import table; print(table(json.load(open(sys.argv[1]))))" \
        "$out/bench_cuda.json" | tee "$out/bench_cuda.txt"

"""onnxruntime on anshin's own model file, fed the features `anshin featurize` computed
for the same postings: the model step alone, in Python's fastest runtime for it. Prints
one JSON object: session load time, p50 per run, this process's peak memory.

    bench/.venv/bin/python bench/peer_onnxruntime.py MODEL.onnx '{"ordinary": "f.jsonl"}'
"""

import json
import resource
import sys
import time
from pathlib import Path

started = time.perf_counter()
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

import_s = time.perf_counter() - started
t = time.perf_counter()
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
load_s = time.perf_counter() - t

out = {"import_s": import_s, "load_s": load_s, "p50_us": {}}
for kind, path in json.loads(sys.argv[2]).items():
    times = []
    for line in Path(path).read_text().splitlines():
        row = json.loads(line)
        indices = np.array([row["indices"]], dtype=np.int64)
        values = np.array([row["values"]], dtype=np.float32)
        t = time.perf_counter()
        session.run(None, {"indices": indices, "values": values})
        times.append(time.perf_counter() - t)
    out["p50_us"][kind] = float(np.median(times)) * 1e6
out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))

"""Writes docs/BENCHMARKS.md from the stored results of bench/run.sh (bench/results/*.json).

    python3 bench/report.py bench/results docs/BENCHMARKS.md
"""

import json
import math
import sys
from pathlib import Path

# AWS Lambda list prices (us-east-1, arm64), per the public price page at the time of
# writing: compute per GB-second, requests per million.
ARM64_PER_GB_S = 0.0000133334
REQUEST_FEE_PER_MILLION = 0.20
MEMORY_MB = 128


def load(directory):
    results = [json.loads(p.read_text()) for p in sorted(Path(directory).glob("*.json"))]
    # "before" first, then the others by label.
    return sorted(results, key=lambda r: (r["label"] != "before", r["label"]))


def fmt(value, unit="", digits=1):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"


def get(result, *path):
    node = result
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def main():
    results = load(sys.argv[1])
    out = Path(sys.argv[2])
    lines = []
    w = lines.append
    w("# anshin benchmarks")
    w("")
    w("Written by `bench/run.sh` (do not edit by hand): every figure comes from one run of it per")
    w("column, with the Python peers measured in the same run. `anshin screen` is timed as a whole")
    w("process from outside, so binaries built from older commits are measured the same way")
    w("(`bench/run.sh --label before --anshin PATH`). Per-posting time = (time for N postings −")
    w("time for 1) / (N − 1) on one core (`taskset -c 0`), median of 3 runs; cold start = exec to")
    w("the first verdict line on stdout, median of 11 runs; peak memory = the process's max RSS.")
    w("Ordinary text: a job posting with one evasive contact detail; dense text: the training")
    w("corpus's violation examples run together (several hits per sentence).")
    w("")
    for r in results:
        m = r["machine"]
        w(f"- **{r['label']}** ({r['when']}, commit `{m['commit']}` of the tree that ran the bench, binary `{Path(r['binary']).name}`): "
          f"{m['cpu']}, {m['cores']} cores, {m['memory']} RAM, Linux {m['kernel']}, {m['rustc']}, Python {m['python']}.")
    w("")

    base = results[0]
    last = results[-1]
    rows = [
        ("screen one 2,000-char posting, ordinary (µs, 1 core)", ("anshin", "per_posting_us", "ordinary", "2000"), "µs", "≤ 50 µs"),
        ("screen one 2,000-char posting, dense (µs, 1 core)", ("anshin", "per_posting_us", "dense", "2000"), "µs", "≤ 150 µs"),
        ("cold start: exec → first verdict, ordinary (ms)", ("anshin", "cold_start_ms", "first_verdict_p50"), "ms", "≤ 30 ms"),
        ("cold start: exec → first verdict, dense (ms)", ("anshin", "cold_start_ms", "first_verdict_dense_p50"), "ms", "≤ 30 ms"),
        ("peak memory, one posting (MB)", ("anshin", "peak_memory_mb", "one_posting"), "MB", "≤ 48 MB"),
        ("peak memory, 2,000 postings (MB)", ("anshin", "peak_memory_mb", "2000_postings"), "MB", "flat"),
        ("peak memory, 6,000 dense postings (MB)", ("anshin", "peak_memory_mb", "6000_dense_postings"), "MB", "flat"),
        ("2,000 postings, one core (s)", ("anshin", "throughput", "one_core_s"), "s", ""),
        ("2,000 postings, every core (s)", ("anshin", "throughput", "all_cores_s"), "s", ""),
        ("speed-up on every core (×)", ("anshin", "throughput", "speedup"), "×", "≥ 1.8× on 2"),
    ]
    w("## anshin")
    w("")
    header = "| figure | " + " | ".join(r["label"] for r in results) + (" | last / first |" if len(results) > 1 else "") + " target |"
    w(header)
    w("|---" * (header.count("|") - 1) + "|")
    for name, path, unit, target in rows:
        values = [get(r, *path) for r in results]
        cells = [fmt(v, "", 2 if unit in ("s", "×") else 1) for v in values]
        ratio = ""
        if len(results) > 1:
            a, b = values[0], values[-1]
            ratio = f" {b / a:.3f} |" if a and b else " — |"
        w(f"| {name} | " + " | ".join(cells) + " |" + ratio + f" {target} |")
    w("")

    w("### Time per posting against length (µs, one core)")
    w("")
    w("![time per posting against length](bench-time-per-posting.svg)")
    w("")
    lengths = sorted({int(k) for r in results for k in (get(r, "anshin", "per_posting_us", "ordinary") or {})})
    w("| text | chars | " + " | ".join(r["label"] for r in results) + " | µs per 1,000 chars (last) |")
    w("|---|---|" + "---|" * len(results) + "---|")
    for kind in ("ordinary", "dense"):
        for n in lengths:
            values = [get(r, "anshin", "per_posting_us", kind, str(n)) for r in results]
            per_k = values[-1] / n * 1000 if values[-1] else None
            w(f"| {kind} | {n:,} | " + " | ".join(fmt(v) for v in values) + f" | {fmt(per_k)} |")
    w("")

    w("## The peers, same run")
    w("")
    w("| figure | " + " | ".join(r["label"] for r in results) + " |")
    w("|---|" + "---|" * len(results))
    peer_rows = [
        ("scikit-learn peer: p50 per posting, ordinary 2,000 chars (µs)", ("peers", "sklearn", "p50_ms", "ordinary"), 1000),
        ("scikit-learn peer: p50 per posting, dense 2,000 chars (µs)", ("peers", "sklearn", "p50_ms", "dense"), 1000),
        ("scikit-learn peer: batch, ordinary (postings/s)", ("peers", "sklearn", "batch_per_s", "ordinary"), 1),
        ("scikit-learn peer: importing numpy + sklearn (ms)", ("peers", "sklearn", "import_s"), 1000),
        ("scikit-learn peer: peak memory (MB)", ("peers", "sklearn", "peak_memory_mb"), 1),
        ("onnxruntime, anshin's model only: p50 per run, ordinary (µs)", ("peers", "onnxruntime", "p50_us", "ordinary"), 1),
        ("onnxruntime, anshin's model only: p50 per run, dense (µs)", ("peers", "onnxruntime", "p50_us", "dense"), 1),
        ("onnxruntime: import + session load (ms)", None, 1),
    ]
    for name, path, scale in peer_rows:
        if path is None:
            values = [
                (get(r, "peers", "onnxruntime", "import_s") or 0) * 1000 + (get(r, "peers", "onnxruntime", "load_s") or 0) * 1000
                if get(r, "peers", "onnxruntime") else None
                for r in results
            ]
        else:
            values = [(get(r, *path) * scale) if get(r, *path) is not None else None for r in results]
        w(f"| {name} | " + " | ".join(fmt(v) for v in values) + " |")
    for kind in ("ordinary", "dense"):
        ratios = []
        for r in results:
            peer = get(r, "peers", "sklearn", "p50_ms", kind)
            ours = get(r, "anshin", "per_posting_us", kind, "2000")
            ratios.append(peer * 1000 / ours if peer and ours else None)
        w(f"| **peer time / anshin time per posting, {kind}** (target ≥ 100×) | " + " | ".join(fmt(v, "×") for v in ratios) + " |")
    w("")

    w("## The functions")
    w("")
    sizes = get(last, "extra", "binary_bytes") or {}
    if sizes:
        w("Release binaries (the `bootstrap` each Lambda runs; x86_64 here, arm64 in the stack):")
        w("")
        w("| binary | bytes |")
        w("|---|---|")
        for name, size in sorted(sizes.items()):
            w(f"| {name} | {size:,} |")
        w("")
    cold = get(last, "extra", "lambda_cold_start_ms")
    if cold:
        w(f"screen-submission under the Lambda runtime API (`bench/lambda_cold.py`: a runtime API on loopback "
          f"hands the bootstrap one event): exec → first verdict posted, median of {cold['runs']} runs: "
          f"**{cold['p50']:.1f} ms**; peak memory {fmt(get(last, 'extra', 'lambda_peak_memory_mb'))} MB.")
        w("")

    w("## Cost per million screenings on Lambda (arm64, 128 MB)")
    w("")
    per_gb_ms = ARM64_PER_GB_S / 1000
    w(f"Compute is billed per millisecond at ${ARM64_PER_GB_S} per GB-second on arm64; at {MEMORY_MB} MB a")
    w(f"billed millisecond costs ${per_gb_ms * MEMORY_MB / 1024:.3e}. Requests cost ${REQUEST_FEE_PER_MILLION:.2f} per million.")
    w("Duration here is the measured per-posting time on this machine's core (Graviton cores are of")
    w("the same order; a 128 MB function gets a fraction of a vCPU, so multiply by up to ~8 for the")
    w("share of CPU it is given), rounded up to the 1 ms billing step; the runtime's own overhead per")
    w("invocation is not included.")
    w("")
    w("| run | text | measured µs | billed ms (×8 CPU share, rounded up) | compute $ per million | request fee $ per million | total $ per million |")
    w("|---|---|---|---|---|---|---|")
    for r in results:
        for kind in ("ordinary", "dense"):
            us = get(r, "anshin", "per_posting_us", kind, "2000")
            if us is None:
                continue
            billed = max(1, math.ceil(us * 8 / 1000))
            compute = billed * per_gb_ms * MEMORY_MB / 1024 * 1e6
            w(f"| {r['label']} | {kind} | {us:,.1f} | {billed} | {compute:.4f} | {REQUEST_FEE_PER_MILLION:.2f} | {compute + REQUEST_FEE_PER_MILLION:.4f} |")
    w("")
    w("At these durations the request fee is the bill: compute is a rounding error beside it, and")
    w("128 MB is enough memory (see peak memory above), so there is nothing to gain from a larger size.")
    w("")
    w(Path(__file__).with_name("scaling.md").read_text().rstrip())
    w("")
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

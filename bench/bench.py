"""Measures one `anshin` binary, and the Python peers beside it in the same run.

Called by bench/run.sh (which builds, sets up bench/.venv and writes docs/BENCHMARKS.md);
standard library only, so that it runs under any python3. Every figure is a whole process
(`anshin screen`) timed from outside, so that a binary built from any commit can be
measured the same way:

- time per posting = (time for N postings − time for 1) / (N − 1), one core (taskset),
  median of REPEATS runs, for ordinary and trigger-dense text from 100 to 20,000 chars;
- throughput on every core against one core, same input;
- cold start = exec to the first verdict line on stdout, one 2,000-char posting;
- peak memory (max RSS from wait4) for one posting and for many.

Writes one JSON file of results; bench/report.py turns result files into the note.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LENGTHS = [100, 500, 2000, 5000, 20000]
REPEATS = 3
COLD_REPEATS = 11

ORDINARY = [
    "当社は都内で飲食店を5店舗運営している会社です。新しく立ち上げる予約サイトのデザインとコーディングをお願いできる方を募集します。",
    "トップページ、店舗一覧、店舗詳細、予約フォーム、お問い合わせの5ページを想定しています。スマートフォンでの表示を最優先に考えています。",
    "写真素材はこちらで用意しますが、アイコンやイラストはご提案いただけると助かります。ブランドカラーは深い緑と生成りです。",
    "WordPressでの構築を希望しますが、より良い方法があればご提案ください。公開後の保守についても別途ご相談させてください。",
    "納期は契約から6週間、予算は40万円から60万円を想定しています。修正は各ページ2回まで含めてご提案ください。",
    "これまでに制作したサイトのURLをいくつか提案文に添えてください。飲食や小売の実績があれば特に歓迎します。",
]


def violation_texts():
    """Bodies of the training corpus's violation files: text dense with trigger words."""
    texts = []
    for path in sorted((ROOT / "shared/model/corpus").glob("violations-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if item.get("labels") and not item.get("hard_negative"):
                    texts.append(item["body"])
    return texts


DENSE = violation_texts()


def body(kind, length, seed):
    """A posting body of `length` characters; `seed` rotates the paragraphs."""
    source = ORDINARY if kind == "ordinary" else DENSE
    parts, total, i = [], 0, seed
    while total < length:
        p = source[i % len(source)]
        parts.append(p)
        total += len(p) + 1
        i += 1
    text = "\n".join(parts)
    if kind == "ordinary":
        text = text[: length - 20] + "急ぎの場合はＬ Ｉ Ｎ Ｅでご連絡ください。"
    return text[:length]


def postings_file(directory, kind, length, count):
    path = Path(directory) / f"{kind}-{length}-{count}.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as f:
            for i in range(count):
                item = {
                    "submission_id": f"bench-{kind}-{i}",
                    "kind": "job_posting",
                    "author_id": "bench-author",
                    "body": body(kind, length, i),
                }
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    return path


def run(command, stdin_path=None, env=None):
    """Runs `command`; returns (seconds to exit, seconds to first stdout line, max RSS MB)."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    first = proc.stdout.readline()
    first_at = time.perf_counter() - started
    for _ in iter(lambda: proc.stdout.read(1 << 16), b""):
        pass
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdin_path:
        stdin.close()
    if proc.returncode not in (0, 1) or not first:
        raise SystemExit(f"bench: {' '.join(map(str, command))} failed ({proc.returncode})")
    return elapsed, first_at, usage.ru_maxrss / 1024


def one_core(command):
    return ["taskset", "-c", "0", *command]


def count_for(length):
    """Postings per timed run: about 600,000 characters, at least 20."""
    return max(20, min(600, 600_000 // length))


def measure_anshin(binary, work):
    screen = [str(binary), "screen"]
    results = {"per_posting_us": {}, "notes": []}
    for kind in ("ordinary", "dense"):
        series = {}
        for length in LENGTHS:
            n = count_for(length)
            one = postings_file(work, kind, length, 1)
            many = postings_file(work, kind, length, n)
            samples = []
            for _ in range(REPEATS):
                t1 = run(one_core(screen + [str(one)]))[0]
                tn = run(one_core(screen + [str(many)]))[0]
                samples.append((tn - t1) / (n - 1) * 1e6)
            series[str(length)] = statistics.median(samples)
            print(f"  {kind:8} {length:6} chars: {series[str(length)]:9.1f} µs/posting", file=sys.stderr)
        results["per_posting_us"][kind] = series

    many = postings_file(work, "ordinary", 2000, 2000)
    single = statistics.median(run(one_core(screen + [str(many)]))[0] for _ in range(3))
    every = statistics.median(run(screen + [str(many)])[0] for _ in range(3))
    results["throughput"] = {
        "postings": 2000,
        "one_core_s": single,
        "all_cores_s": every,
        "cores": os.cpu_count(),
        "speedup": single / every,
    }

    one = postings_file(work, "ordinary", 2000, 1)
    runs = [run(screen + [str(one)]) for _ in range(COLD_REPEATS)]
    results["cold_start_ms"] = {
        "first_verdict_p50": statistics.median(r[1] for r in runs) * 1e3,
        "exit_p50": statistics.median(r[0] for r in runs) * 1e3,
    }
    dense_one = postings_file(work, "dense", 2000, 1)
    runs = [run(screen + [str(dense_one)]) for _ in range(COLD_REPEATS)]
    results["cold_start_ms"]["first_verdict_dense_p50"] = statistics.median(r[1] for r in runs) * 1e3

    big = postings_file(work, "dense", 2000, 6000)
    results["peak_memory_mb"] = {
        "one_posting": run(screen + [str(one)])[2],
        "2000_postings": run(screen + [str(many)])[2],
        "6000_dense_postings": run(screen + [str(big)])[2],
        "input_mb_2000": many.stat().st_size / 1e6,
        "input_mb_6000": big.stat().st_size / 1e6,
    }
    return results


def measure_peers(python, binary, work):
    """The scikit-learn peer and onnxruntime on anshin's model, in bench/.venv."""
    inputs = {kind: str(postings_file(work, kind, 2000, 300)) for kind in ("ordinary", "dense")}
    features = {}
    for kind, path in inputs.items():
        out = Path(work) / f"features-{kind}.jsonl"
        with open(path, "rb") as src, out.open("wb") as dst:
            subprocess.run([str(binary), "featurize", "-"], stdin=src, stdout=dst, check=True)
        features[kind] = str(out)
    peer = subprocess.run(
        [python, str(ROOT / "bench/peer_sklearn.py"), json.dumps(inputs)],
        check=True, capture_output=True, text=True,
    )
    ort = subprocess.run(
        [python, str(ROOT / "bench/peer_onnxruntime.py"), str(ROOT / "shared/model/anshin-classifier.onnx"), json.dumps(features)],
        check=True, capture_output=True, text=True,
    )
    return {"sklearn": json.loads(peer.stdout), "onnxruntime": json.loads(ort.stdout)}


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    return {
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or platform.processor(),
        "cores": os.cpu_count(),
        "memory": sh("free -h | awk '/Mem:/ {print $2}'"),
        "kernel": platform.release(),
        "rustc": sh("rustc --version"),
        "python": platform.python_version(),
        "commit": sh(f"git -C {ROOT} rev-parse --short HEAD"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--anshin", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--python", help="python of bench/.venv, for the peers")
    parser.add_argument("--out", required=True)
    parser.add_argument("--extra", help="JSON file of figures measured by run.sh (sizes, Lambda)")
    args = parser.parse_args()
    work = ROOT / "bench/work"
    work.mkdir(parents=True, exist_ok=True)
    result = {"label": args.label, "binary": args.anshin, "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    print(f"bench: anshin ({args.label})", file=sys.stderr)
    result["anshin"] = measure_anshin(Path(args.anshin), work)
    if args.python:
        print("bench: peers", file=sys.stderr)
        result["peers"] = measure_peers(args.python, Path(args.anshin), work)
    if args.extra and Path(args.extra).exists():
        result["extra"] = json.loads(Path(args.extra).read_text())
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

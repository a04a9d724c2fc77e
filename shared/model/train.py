#!/usr/bin/env python3
"""Train the anshin classifier and export it as ONNX for tract.

    .venv/bin/python shared/model/train.py            # write the model, manifest and card
    .venv/bin/python shared/model/train.py --check    # retrain in a temp dir, compare hashes

(`tests/run.sh` creates .venv with the pinned libraries of tests/requirements.txt.)

Features come from `anshin featurize` — the Rust featurizer the Lambda serves with — so
training and serving read the same vectors. One logistic regression per category
(multi-label, one-vs-rest) on hashed character n-grams; each is calibrated with Platt
scaling on out-of-fold scores, and the calibration is folded into the exported weights,
so the graph emits calibrated probabilities. The per-category operating point is the
threshold that maximises F1 on the out-of-fold probabilities of the training data.

The graph takes sparse features — `indices` int64 [1, K] and `values` float [1, K]
(padding: index 0, value 0) — and computes sigmoid(values · W[indices] + b): Gather, MatMul,
Add, Sigmoid. That touches K rows of W instead of a dense 2^17-wide input. K is the symbolic
dimension `features`: the server fixes it when it builds a plan, one plan per width up to the
featurizer's `max_features`, and runs a document on the narrowest plan that holds it — the
cost of a run grows with K, and most documents have a few hundred features, not 2,048.

Never reads ../shared/data/policy-eval: that set is the yardstick.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "shared" / "model"
CORPUS_DIR = MODEL_DIR / "corpus"
PUBLIC_DIR = ROOT.parent / "shared" / "data" / "public"

MODEL_FILE = "anshin-classifier.onnx"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "MODEL_CARD.md"

SEED = 20261127
FOLDS = 5
C_GRID = (4.0, 16.0, 64.0)
THRESHOLD_GRID = np.round(np.arange(0.20, 0.991, 0.01), 2)
# The operating point maximises F-beta with beta < 1: precision weighs more than recall,
# because out-of-fold scores on our own corpus flatter the model (its items share a
# style), and a model flag that is wrong costs a poster a held posting.
BETA = 0.5


@dataclass
class Source:
    """One training file and the rows taken from it."""

    path: Path
    licence: str
    rows: list[dict] = field(default_factory=list)

    def describe(self) -> dict:
        return {
            "path": os.path.relpath(self.path, ROOT),
            "sha256": sha256_file(self.path),
            "rows_used": len(self.rows),
            "licence": self.licence,
        }


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def team_corpus() -> list[Source]:
    sources = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        sources.append(Source(path, "Apache-2.0 (written by the anshin team)", rows))
    return sources


def public_row(prefix: str, n: int, body: str, labels: list[str]) -> dict:
    return {"id": f"{prefix}-{n}", "kind": "message", "title": "", "body": body[:20000], "labels": labels}


def public_datasets() -> list[Source]:
    """The public sets, read in place, mapped to the taxonomy by rules fixed in advance."""
    sources = []

    # JCommonsenseMorality: morally permissible everyday sentences as clean text.
    path = PUBLIC_DIR / "commonsense-moral-ja" / "data_train.csv"
    with path.open(encoding="utf-8") as f:
        permissible = [r["sent"] for r in csv.DictReader(f) if r["label"] == "0"]
    sources.append(Source(path, "MIT", [public_row("cmj", i, s, []) for i, s in enumerate(permissible[::10])]))

    # japanese-toxic: majority Not Toxic → clean; majority Toxic/Very Toxic → adult when
    # annotators marked obscenity, harassment otherwise.
    path = PUBLIC_DIR / "japanese-toxic" / "subset.csv"
    rows = []
    with path.open(encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            votes = int(r["annotation_num"]) or 1
            toxic = int(r["Toxic"]) + int(r["Very Toxic"])
            if int(r["Not Toxic"]) * 2 > votes:
                rows.append(public_row("jtox", i, r["text"], []))
            elif toxic * 2 > votes:
                label = "adult" if int(r["category_猥褻"]) > 0 else "harassment"
                rows.append(public_row("jtox", i, r["text"], [label]))
    sources.append(Source(path, "Apache-2.0", rows))

    # RTP-LX Japanese: sexual content → adult; insults, identity attacks or high toxicity
    # → harassment. Mild prompts are left out: they are not clean marketplace text either.
    path = PUBLIC_DIR / "rtp-lx-ja" / "RTP_LX_JA.jsonl"
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        item = json.loads(line)
        a = item["Annotations"]
        text = (item["Prompt"] + item.get("Completion", "")).strip()
        if not text:
            continue
        if a["SexualContent"] >= 3:
            rows.append(public_row("rtp", i, text, ["adult"]))
        elif a["Insult"] >= 3 or a["IdentityAttack"] >= 3 or a["Toxicity"] >= 4:
            rows.append(public_row("rtp", i, text, ["harassment"]))
    sources.append(Source(path, "MIT (source text Apache-2.0)", rows))

    # SMS Spam Collection (English): a sample of spam as spam, of ham as clean.
    path = PUBLIC_DIR / "sms-spam" / "SMSSpamCollection"
    spam, ham = [], []
    with path.open(encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            (spam if label == "spam" else ham).append(text)
    rows = [public_row("sms-spam", i, t, ["spam"]) for i, t in enumerate(spam[::3])]
    rows += [public_row("sms-ham", i, t, []) for i, t in enumerate(ham[::20])]
    sources.append(Source(path, "CC BY 4.0", rows))
    return sources


def anshin_binary() -> list[str]:
    explicit = os.environ.get("ANSHIN_BIN")
    if explicit:
        return [explicit]
    return ["cargo", "run", "--quiet", "--bin", "anshin", "--"]


def featurizer_description() -> dict:
    out = subprocess.run(anshin_binary() + ["featurize", "--describe"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def featurize(rows: list[dict], buckets: int) -> sparse.csr_matrix:
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    out = subprocess.run(anshin_binary() + ["featurize", "-"], cwd=ROOT, check=True,
                         input=payload, capture_output=True, text=True).stdout
    data, indices, indptr = [], [], [0]
    for line in out.splitlines():
        item = json.loads(line)
        indices.extend(item["indices"])
        data.extend(item["values"])
        indptr.append(len(indices))
    if len(indptr) - 1 != len(rows):
        sys.exit(f"featurize returned {len(indptr) - 1} rows for {len(rows)}")
    return sparse.csr_matrix((np.array(data, dtype=np.float32), np.array(indices), np.array(indptr)),
                             shape=(len(rows), buckets))


def f_beta(y: np.ndarray, predicted: np.ndarray, beta: float = 1.0) -> float:
    tp = float(np.sum(predicted & y))
    fp = float(np.sum(predicted & ~y))
    fn = float(np.sum(~predicted & y))
    b2 = beta * beta
    return 0.0 if tp == 0 else (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp)


def out_of_fold_scores(x, y, c: float) -> np.ndarray:
    scores = np.zeros(x.shape[0])
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x, y):
        model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", random_state=SEED)
        model.fit(x[train], y[train])
        scores[test] = model.decision_function(x[test])
    return scores


def platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    calibrator = LogisticRegression(C=1e6, solver="lbfgs")
    calibrator.fit(scores.reshape(-1, 1), y)
    return float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0])


def best_threshold(probabilities: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    best = (0.5, -1.0)
    for t in THRESHOLD_GRID:
        score = f_beta(y, probabilities >= t, BETA)
        if score > best[1] + 1e-12:
            best = (float(t), score)
    return best


def train_category(x, y: np.ndarray) -> dict:
    """Pick C on out-of-fold F-beta, calibrate, choose the threshold, fit on everything."""
    trials = []
    for c in C_GRID:
        scores = out_of_fold_scores(x, y, c)
        a, b = platt(scores, y)
        probabilities = 1.0 / (1.0 + np.exp(-(a * scores + b)))
        threshold, score = best_threshold(probabilities, y)
        trials.append((score, -c, c, a, b, threshold, probabilities))
    score, _, c, a, b, threshold, probabilities = max(trials, key=lambda t: (t[0], t[1]))
    final = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", random_state=SEED)
    final.fit(x, y)
    predicted = probabilities >= threshold
    tp = float(np.sum(predicted & y))
    return {
        "weights": (a * final.coef_[0]).astype(np.float32),
        "bias": np.float32(a * final.intercept_[0] + b),
        "C": c,
        "platt": [a, b],
        "threshold": threshold,
        "oof_f_beta": round(score, 4),
        "oof_f1": round(f_beta(y, predicted), 4),
        "oof_precision": round(tp / max(1.0, float(np.sum(predicted))), 4),
        "oof_recall": round(tp / max(1.0, float(np.sum(y))), 4),
        "positives": int(np.sum(y)),
    }


def export_onnx(weights: np.ndarray, bias: np.ndarray) -> bytes:
    categories = weights.shape[1]
    nodes = [
        helper.make_node("Gather", ["weights", "indices"], ["rows"], axis=0),  # [1, K, C]
        helper.make_node("Unsqueeze", ["values", "middle_axis"], ["values_row"]),  # [1, 1, K]
        # A matrix product, not Mul + ReduceSum: tract runs it with its GEMV kernel
        # instead of generic broadcasting, several times faster.
        helper.make_node("MatMul", ["values_row", "rows"], ["logits_3d"]),  # [1, 1, C]
        helper.make_node("Reshape", ["logits_3d", "scores_shape"], ["logits_unbiased"]),
        helper.make_node("Add", ["logits_unbiased", "bias"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "anshin_classifier",
        inputs=[
            helper.make_tensor_value_info("indices", TensorProto.INT64, [1, "features"]),
            helper.make_tensor_value_info("values", TensorProto.FLOAT, [1, "features"]),
        ],
        outputs=[helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, categories])],
        initializer=[
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(bias, "bias"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "middle_axis"),
            numpy_helper.from_array(np.array([1, categories], dtype=np.int64), "scores_shape"),
        ],
    )
    model = helper.make_model(graph, producer_name="anshin-train", producer_version="2",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


def library_versions() -> dict:
    import scipy
    import sklearn

    return {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "onnx": onnx.__version__}


def train(out_dir: Path) -> dict:
    description = featurizer_description()
    categories = description["categories"]
    config = description["config"]
    sources = team_corpus() + public_datasets()
    rows = [row for source in sources for row in source.rows]
    print(f"train.py: {len(rows)} rows from {len(sources)} files; featurizing", file=sys.stderr)
    x = featurize(rows, config["buckets"])
    labels = np.array([[c in row.get("labels", []) for c in categories] for row in rows], dtype=bool)

    weights = np.zeros((config["buckets"], len(categories)), dtype=np.float32)
    bias = np.zeros(len(categories), dtype=np.float32)
    per_category = {}
    for j, category in enumerate(categories):
        result = train_category(x, labels[:, j])
        weights[:, j] = result.pop("weights")
        bias[j] = result.pop("bias")
        per_category[category] = result
        print(f"train.py: {category}: {result}", file=sys.stderr)

    model_bytes = export_onnx(weights, bias)
    model_sha = hashlib.sha256(model_bytes).hexdigest()
    (out_dir / MODEL_FILE).write_bytes(model_bytes)
    manifest = {
        "model_version": f"clf-{model_sha[:12]}",
        "model_file": MODEL_FILE,
        "model_sha256": model_sha,
        "featurizer": {"version": description["version"], "config": config},
        "categories": categories,
        "thresholds": {c: per_category[c]["threshold"] for c in categories},
        "training": {
            "files": [s.describe() for s in sources],
            "rows": len(rows),
            "algorithm": "one-vs-rest logistic regression (liblinear, class_weight=balanced), "
                         "Platt-calibrated on out-of-fold scores",
            "seed": SEED,
            "folds": FOLDS,
            "c_grid": list(C_GRID),
            "threshold_rule": f"max F-beta (beta={BETA}) on out-of-fold calibrated probabilities",
            "libraries": library_versions(),
        },
        "out_of_fold": per_category,
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
    return manifest


def write_card(out_dir: Path, manifest: dict) -> None:
    lines = [
        "# Model card: anshin classifier",
        "",
        "Written by `shared/model/train.py`; do not edit by hand (retraining rewrites it).",
        "",
        f"- **Version:** `{manifest['model_version']}` (sha256 `{manifest['model_sha256']}`)",
        f"- **Task:** multi-label screening of marketplace postings, proposals, messages and profiles "
        f"into the 13 categories of the taxonomy; a calibrated probability per category.",
        f"- **Features:** `{manifest['featurizer']['version']}` — the rules' normalisation, then hashed character "
        f"1–3-grams ({manifest['featurizer']['config']['buckets']} buckets, at most "
        f"{manifest['featurizer']['config']['max_features']} per document), sublinear counts, L2-normalised; "
        f"computed by the Rust core (`anshin featurize`) for training and serving alike.",
        f"- **Model:** {manifest['training']['algorithm']}; C from {manifest['training']['c_grid']} by "
        f"{FOLDS}-fold out-of-fold F-beta; calibration folded into the weights; exported as an ONNX graph "
        f"(Gather, MatMul, Add, Sigmoid) over [1, K] sparse inputs, K symbolic; the server runs tract plans "
        f"with K fixed at 128, 256, … up to {manifest['featurizer']['config']['max_features']}, the narrowest that holds the document.",
        f"- **Operating points:** {manifest['training']['threshold_rule']}. The screener maps each onto the "
        f"policy's review threshold; the model alone never hides a submission.",
        "",
        "## Training data",
        "",
        "| file | rows used | licence | sha256 |",
        "|---|---|---|---|",
    ]
    for f in manifest["training"]["files"]:
        lines.append(f"| `{f['path']}` | {f['rows_used']} | {f['licence']} | `{f['sha256'][:16]}…` |")
    lines += [
        "",
        "Public sets are read in place from `../shared/data/public` (never copied into the repo) and mapped to the",
        "taxonomy by fixed rules in `train.py`: JCommonsenseMorality permissible sentences (every 10th) and",
        "japanese-toxic majority-Not-Toxic rows as clean; japanese-toxic majority-toxic rows and RTP-LX rows with",
        "Insult / IdentityAttack ≥ 3 or Toxicity ≥ 4 as harassment, with sexual content as adult; SMS Spam",
        "Collection spam (every 3rd) as spam and ham (every 20th) as clean.",
        "",
        "`../shared/data/policy-eval` is never read here: it is the yardstick (`anshin eval`).",
        "",
        "## Out-of-fold metrics on the training data (optimistic: the corpus shares a style)",
        "",
        "| category | positives | C | threshold | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in manifest["categories"]:
        m = manifest["out_of_fold"][c]
        lines.append(f"| {c} | {m['positives']} | {m['C']} | {m['threshold']} | {m['oof_precision']} | "
                     f"{m['oof_recall']} | {m['oof_f1']} |")
    lines += [
        "",
        "Held-out figures (rules, model and combined on the policy evaluation set) are measured with",
        "`anshin eval --data ../shared/data/policy-eval/marketplace-ja.jsonl` and kept in the README.",
        "",
        "## Known limits",
        "",
        "- A bag of character n-grams does not read negation or intent well: 「代筆はお受けしていません」 shares most",
        "  n-grams with a ghostwriting request. Hard negatives in the corpus counter it; support's false positives,",
        "  fed back with `anshin feedback`, are the lasting remedy.",
        "- Categories that overlap in wording (scam / upfront_payment / personal_info) confuse each other; the",
        "  corpus's second labels are not exhaustive.",
        "- Trained almost only on team-written text and short public sentences; the platform's own decisions are",
        "  needed before the model's recall can be trusted alone — which is why it only holds for review.",
        "- English is about a tenth of the training text; other languages are unsupported.",
        "",
    ]
    (out_dir / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="retrain into a temporary folder and compare with the shipped manifest")
    parser.add_argument("--out-dir", type=Path, default=MODEL_DIR,
                        help="where to write the model and manifest (default: shared/model, the shipped one)")
    args = parser.parse_args()
    if args.check:
        shipped = json.loads((MODEL_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            fresh = train(Path(tmp))
        on_disk = sha256_file(MODEL_DIR / MODEL_FILE)
        ok = fresh["model_sha256"] == shipped["model_sha256"] == on_disk
        print(f"train.py --check: retrained {fresh['model_sha256']}, manifest {shipped['model_sha256']}, "
              f"file {on_disk}: {'reproduced' if ok else 'MISMATCH'}")
        sys.exit(0 if ok else 1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    manifest = train(args.out_dir)
    write_card(args.out_dir, manifest)
    print(f"train.py: wrote {MODEL_FILE} ({manifest['model_version']}), {MANIFEST_FILE} and {CARD_FILE}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Train the anshin classifier and export it as ONNX for tract.

    .venv/bin/python shared/model/train.py            # write the model, manifest and card
    .venv/bin/python shared/model/train.py --check    # retrain in a temp dir, compare hashes
    .venv/bin/python shared/model/train.py --check-final
                                                      # CI's quick form: every final fit
                                                      # redone, with the manifest's calibration
    .venv/bin/python shared/model/train.py --fetch    # fetch the pinned public datasets
                                                      # (only needed without ../shared/data)
    .venv/bin/python shared/model/train.py --cross-batch DIR
                                                      # also write each fold's model and
                                                      # score rules / model / combined on
                                                      # its held-out batch with `anshin eval`

(`tests/run.sh` creates .venv with the pinned libraries of tests/requirements.txt.)

Data (`sources.py`): the project's corpus — seven independent batches, the team's files as one
more batch, support's feedback — and the pinned public datasets, near-duplicates removed by
character-shingle similarity. Augmentation (`augment.py`): one seeded evasion variant of every
violating row and formatting variants of a quarter of the clean rows, at training time only.

Features come from `anshin featurize` — the Rust featurizer the Lambda serves with — so
training and serving read the same vectors. One logistic regression per category
(multi-label, one-vs-rest) on hashed character n-grams.

Validation is by batch, not by random split: each marketplace batch in turn is left out, a
model is fitted on the others (and on their variants, and the public sets), and it scores
the left-out batch — text written by someone whose style the model has not seen. Those
out-of-batch scores calibrate the model (Platt scaling, folded into the exported weights)
and choose each category's operating point; their figures per batch are the cross-batch
report in the manifest and card. The final model is fitted on everything.

The graph takes sparse features — `indices` int64 [1, K] and `values` float [1, K]
(padding: index 0, value 0) — and computes sigmoid(values · W[indices] + b): Gather, MatMul,
Add, Sigmoid. That touches K rows of W instead of a dense hash-wide input. K is the symbolic
dimension `features`: the server fixes it when it builds a plan, one plan per width up to the
featurizer's `max_features`, and runs a document on the narrowest plan that holds it.

Never reads ../shared/data/policy-eval (the yardstick) nor shared/model/redteam (the
independent red-team set): neither is ever trained or tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Bit-for-bit retraining (what --check asks) needs the same floating-point kernels wherever it
# runs: OpenBLAS picks its kernels by CPU, and on an AVX-512 machine its last bits differ from
# the AVX2 (Haswell) kernels the shipped model was trained with, enough to change the Platt
# calibration in the sixth decimal and so the model's hash. Set before numpy loads OpenBLAS;
# the fitting workers inherit it.
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

import numpy as np
import onnx
from joblib import Parallel, delayed
from onnx import TensorProto, helper, numpy_helper
from scipy import sparse
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import augment  # noqa: E402
import sources  # noqa: E402

ROOT = sources.ROOT
MODEL_DIR = sources.MODEL_DIR

MODEL_FILE = "anshin-classifier.onnx"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "MODEL_CARD.md"

SEED = 20261127
# Regularisation, chosen once by cross-batch validation (see the card), not re-searched on
# every run: a grid would triple the cost of every retrain and of CI's --check.
C = float(os.environ.get("ANSHIN_TRAIN_C", "16"))
THRESHOLD_GRID = np.round(np.arange(0.20, 0.991, 0.01), 2)
# The operating point maximises F-beta on out-of-batch scores. beta < 1 weighs precision
# more: a model flag that is wrong costs a poster a held posting.
BETA = float(os.environ.get("ANSHIN_TRAIN_BETA", "0.75"))
# Two cores on CI and the developers' machines; the categories are fitted side by side.
JOBS = int(os.environ.get("ANSHIN_TRAIN_JOBS", "2"))


def anshin_binary() -> list[str]:
    explicit = os.environ.get("ANSHIN_BIN")
    if explicit:
        return [explicit]
    return ["cargo", "run", "--quiet", "--bin", "anshin", "--"]


def featurizer_overrides() -> list[str]:
    """ANSHIN_FEATURIZER_CONFIG (JSON) tries other featurizer settings — for experiments: the
    server refuses a model trained on settings other than its own."""
    config = os.environ.get("ANSHIN_FEATURIZER_CONFIG")
    return ["--config", config] if config else []


def featurizer_description() -> dict:
    out = subprocess.run(anshin_binary() + ["featurize", "--describe"] + featurizer_overrides(), cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def featurize(rows: list[dict], buckets: int) -> sparse.csr_matrix:
    payload = "".join(json.dumps({k: r[k] for k in ("id", "kind", "title", "body")}, ensure_ascii=False) + "\n"
                      for r in rows)
    out = subprocess.run(anshin_binary() + ["featurize", "-"] + featurizer_overrides(), cwd=ROOT, check=True,
                         input=payload, stdout=subprocess.PIPE, text=True).stdout
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


def fit(x, y: np.ndarray) -> LogisticRegression:
    model = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=SEED)
    model.fit(x, y)
    return model


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


class Data:
    """Every training row and its features; which rows belong to which fold."""

    def __init__(self, x, labels: np.ndarray, rows: list[dict], n_original: int, origin: np.ndarray,
                 folds: list[str]):
        self.x = x
        self.labels = labels
        self.rows = rows
        # rows[:n_original] are the corpus and public rows; the rest are variants, and
        # origin[i] is the original row a variant was made from (itself for an original).
        self.n_original = n_original
        self.origin = origin
        self.folds = folds
        self.batch = np.array([r["batch"] for r in rows])
        self.origin_batch = self.batch[origin]

    def fold_train(self, held_out: str) -> np.ndarray:
        return np.flatnonzero(self.origin_batch != held_out)

    def fold_test(self, held_out: str) -> np.ndarray:
        return np.flatnonzero(self.batch[: self.n_original] == held_out)


def fit_category(data: Data, j: int) -> dict:
    """Out-of-batch scores for every marketplace row, the final fit, and the fold weights."""
    y = data.labels[:, j]
    oob = np.full(data.n_original, np.nan)
    fold_models = {}
    for held_out in data.folds:
        train, test = data.fold_train(held_out), data.fold_test(held_out)
        model = fit(data.x[train], y[train])
        oob[test] = model.decision_function(data.x[test])
        fold_models[held_out] = (model.coef_[0].astype(np.float32), float(model.intercept_[0]))
    final = fit(data.x, y)
    return {"oob": oob, "final": (final.coef_[0].astype(np.float32), float(final.intercept_[0])),
            "folds": fold_models}


def calibrated(finals: list, platts: list, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """The exported weights and biases: each category's final fit with its Platt pair folded
    in, so that the graph's sigmoid gives calibrated probabilities."""
    weights = np.zeros((buckets, len(finals)), dtype=np.float32)
    bias = np.zeros(len(finals), dtype=np.float32)
    for j, ((coef, intercept), (a, b)) in enumerate(zip(finals, platts)):
        weights[:, j] = a * coef
        bias[j] = np.float32(a * intercept + b)
    return weights, bias


def fit_final(data: Data, j: int) -> tuple[np.ndarray, float]:
    """The final fit of one category alone, as fit_category makes it."""
    final = fit(data.x, data.labels[:, j])
    return final.coef_[0].astype(np.float32), float(final.intercept_[0])


def check_final(shipped: dict) -> tuple[str, list[str]]:
    """The quick reproduction CI runs: the data step, the features and the final fit of every
    category from scratch, calibrated with the Platt pairs the shipped manifest recorded, then
    exported — one fit per category instead of nine. What it leaves to `--check` is only the
    out-of-batch folds that chose those pairs and the thresholds. Returns the model's hash
    and what else differs from the manifest."""
    description = featurizer_description()
    categories, config = description["categories"], description["config"]
    differences = []
    if categories != shipped["categories"] or config != shipped["featurizer"]["config"]:
        differences.append("featurizer or categories")
    data, _, _ = load_data(config, categories)
    n = data.n_original
    if n != shipped["training"]["rows"] or data.x.shape[0] - n != shipped["training"]["augmented_rows"]:
        differences.append(f"rows ({n} + {data.x.shape[0] - n} variants)")
    finals = Parallel(n_jobs=JOBS)(delayed(fit_final)(data, j) for j in range(len(categories)))
    platts = [tuple(shipped["out_of_batch"][c]["platt"]) for c in categories]
    weights, bias = calibrated(finals, platts, config["buckets"])
    return hashlib.sha256(export_onnx(weights, bias)).hexdigest(), differences


def load_data(config: dict, categories: list[str]) -> tuple[Data, list[sources.Source], dict]:
    corpus = sources.corpus_sources()
    public = sources.public_sources()
    ordered = [row for s in corpus + public for row in s.rows]
    kept, dropped = sources.remove_near_duplicates(ordered)
    kept_ids = {id(r) for r in kept}
    for s in corpus + public:
        s.rows = [r for r in s.rows if id(r) in kept_ids]
    variants = augment.augment(kept)
    index_of = {r["id"]: i for i, r in enumerate(kept)}
    origin = np.array(list(range(len(kept))) + [index_of[v["id"].removesuffix(".aug")] for v in variants])
    rows = kept + variants
    print(f"train.py: {len(ordered)} rows, {len(dropped)} near-duplicates removed, {len(kept)} kept, "
          f"{len(variants)} augmented variants; featurizing", file=sys.stderr)
    x = featurize(rows, config["buckets"])
    labels = np.array([[c in row.get("labels", []) for c in categories] for row in rows], dtype=bool)
    # Folds: the marketplace batches written by different hands. Public sets and support's
    # feedback always train: they are not marketplace writing styles to hold out.
    folds = sorted({r["batch"] for r in kept if not r["batch"].startswith("public-") and r["batch"] != "support-feedback"})
    dedup = {
        "shingle": sources.SHINGLE,
        "jaccard": sources.DEDUP_JACCARD,
        "rows_before": len(ordered),
        "removed": len(dropped),
        "rows_after": len(kept),
        "corpus_rows_after": sum(len(s.rows) for s in corpus),
        "removed_by_batch": count_by(dropped, {r["id"]: r["batch"] for r in ordered}),
    }
    return Data(x, labels, rows, len(kept), origin, folds), corpus + public, dedup


def count_by(dropped: list[tuple[str, str, float]], batch_of: dict) -> dict:
    counts: dict[str, int] = {}
    for dropped_id, _, _ in dropped:
        counts[batch_of[dropped_id]] = counts.get(batch_of[dropped_id], 0) + 1
    return dict(sorted(counts.items()))


def batch_metrics(y: np.ndarray, predicted: np.ndarray, hard_negative: np.ndarray) -> dict:
    """The figures `anshin eval` reports, for one column of predictions (rows × categories)."""
    f1s = [f_beta(y[:, j], predicted[:, j]) for j in range(y.shape[1])]
    violating, flagged = y.any(axis=1), predicted.any(axis=1)
    clean = ~violating
    hard = clean & hard_negative
    return {
        "items": int(len(y)),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "any_violation_f1": round(f_beta(violating, flagged), 4),
        "any_violation_recall": round(float(np.sum(violating & flagged) / max(1, np.sum(violating))), 4),
        "fp_rate_clean": round(float(np.sum(clean & flagged) / max(1, np.sum(clean))), 4),
        "fp_rate_hard_negative": round(float(np.sum(hard & flagged) / max(1, np.sum(hard))), 4),
        "per_category_f1": {},
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
    import joblib
    import scipy
    import sklearn

    return {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "onnx": onnx.__version__, "joblib": joblib.__version__}


def train(out_dir: Path, cross_batch_dir: Path | None = None) -> dict:
    description = featurizer_description()
    categories = description["categories"]
    config = description["config"]
    data, all_sources, dedup = load_data(config, categories)
    print(f"train.py: {data.x.shape[0]} rows × {data.x.shape[1]} features, folds {data.folds}, C={C}",
          file=sys.stderr)
    fitted = Parallel(n_jobs=JOBS)(delayed(fit_category)(data, j) for j in range(len(categories)))

    n = data.n_original
    marketplace = np.isin(data.batch[:n], data.folds)
    y_all = data.labels[:n]
    hard_negative = np.array([bool(r.get("hard_negative")) for r in data.rows[:n]])
    platts, thresholds, per_category = [], {}, {}
    oob_predicted = np.zeros((n, len(categories)), dtype=bool)
    for j, category in enumerate(categories):
        scores, y = fitted[j]["oob"][marketplace], y_all[marketplace, j]
        a, b = platt(scores, y)
        probabilities = 1.0 / (1.0 + np.exp(-(a * scores + b)))
        threshold, score = best_threshold(probabilities, y)
        predicted = probabilities >= threshold
        oob_predicted[marketplace, j] = predicted
        platts.append((a, b))
        thresholds[category] = threshold
        tp = float(np.sum(predicted & y))
        per_category[category] = {
            "positives": int(np.sum(y)),
            "threshold": threshold,
            "platt": [a, b],
            "out_of_batch_f_beta": round(score, 4),
            "out_of_batch_f1": round(f_beta(y, predicted), 4),
            "out_of_batch_precision": round(tp / max(1.0, float(np.sum(predicted))), 4),
            "out_of_batch_recall": round(tp / max(1.0, float(np.sum(y))), 4),
        }
        print(f"train.py: {category}: {per_category[category]}", file=sys.stderr)

    cross_batch = {}
    for held_out in data.folds:
        rows = np.flatnonzero(data.batch[:n] == held_out)
        m = batch_metrics(y_all[rows], oob_predicted[rows], hard_negative[rows])
        m["per_category_f1"] = {c: round(f_beta(y_all[rows, j], oob_predicted[rows, j]), 4)
                                for j, c in enumerate(categories) if y_all[rows, j].any()}
        cross_batch[held_out] = m
    every = np.flatnonzero(marketplace)
    cross_batch["all batches"] = batch_metrics(y_all[every], oob_predicted[every], hard_negative[every])
    for name, m in cross_batch.items():
        print(f"train.py: held out {name}: macro-F1 {m['macro_f1']}, any-violation F1 {m['any_violation_f1']}, "
              f"FP clean {m['fp_rate_clean']}, FP hard {m['fp_rate_hard_negative']}", file=sys.stderr)

    weights, bias = calibrated([f["final"] for f in fitted], platts, config["buckets"])
    model_bytes = export_onnx(weights, bias)
    model_sha = hashlib.sha256(model_bytes).hexdigest()
    (out_dir / MODEL_FILE).write_bytes(model_bytes)
    manifest = {
        "model_version": f"clf-{model_sha[:12]}",
        "model_file": MODEL_FILE,
        "model_sha256": model_sha,
        "featurizer": {"version": description["version"], "config": config},
        "categories": categories,
        "thresholds": thresholds,
        "training": {
            "files": [s.describe() for s in all_sources],
            "rows": int(n),
            "augmented_rows": int(data.x.shape[0] - n),
            "augmentation": f"augment.py, seed {augment.SEED}: one evasion variant per violating row, "
                            f"formatting variants of {augment.CLEAN_SHARE:.0%} of clean rows",
            "near_duplicates": dedup,
            "batches": {b: int(np.sum(data.batch[:n] == b)) for b in sorted(set(data.batch[:n].tolist()))},
            "algorithm": "one-vs-rest logistic regression (liblinear, class_weight=balanced), "
                         "Platt-calibrated on out-of-batch scores",
            "seed": SEED,
            "C": C,
            "validation": f"leave one batch out over {len(data.folds)} marketplace batches",
            "threshold_rule": f"max F-beta (beta={BETA}) on out-of-batch calibrated probabilities",
            "libraries": library_versions(),
        },
        "out_of_batch": per_category,
        "cross_batch": cross_batch,
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                         encoding="utf-8")
    if cross_batch_dir is not None:
        write_fold_models(cross_batch_dir, data, fitted, platts, manifest)
    return manifest


def write_fold_models(out: Path, data: Data, fitted: list, platts: list, manifest: dict) -> None:
    """Each fold's model (calibrated like the final one) and its held-out batch, then
    `anshin eval` on it: the rules, the fold's model and the two combined, on text the model
    never saw. The rules were written by people who may have read every batch: their column
    is not out-of-batch."""
    report = {}
    for held_out in data.folds:
        fold_dir = out / held_out
        fold_dir.mkdir(parents=True, exist_ok=True)
        folds = [f["folds"][held_out] for f in fitted]
        weights, bias = calibrated(folds, platts, len(folds[0][0]))
        model_bytes = export_onnx(weights, bias)
        (fold_dir / MODEL_FILE).write_bytes(model_bytes)
        fold_manifest = dict(manifest, model_version=f"fold-{held_out}",
                             model_sha256=hashlib.sha256(model_bytes).hexdigest())
        (fold_dir / MANIFEST_FILE).write_text(json.dumps(fold_manifest, ensure_ascii=False), encoding="utf-8")
        held = [data.rows[i] for i in data.fold_test(held_out)]
        (fold_dir / "held-out.jsonl").write_text(
            "".join(json.dumps({k: r.get(k) for k in ("id", "kind", "title", "body", "labels", "hard_negative")},
                               ensure_ascii=False) + "\n" for r in held), encoding="utf-8")
        env = dict(os.environ, ANSHIN_MODEL_PATH=str(fold_dir / MANIFEST_FILE))
        result = subprocess.run(anshin_binary() + ["eval", "--data", str(fold_dir / "held-out.jsonl"), "--json"],
                                cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout
        report[held_out] = json.loads(result)
        (fold_dir / "eval.json").write_text(result, encoding="utf-8")
    print(f"{'held-out batch':<22} | {'rules':^27} | {'model':^27} | {'combined':^27}")
    print(f"{'':<22} | " + " | ".join(["mF1   anyF1  FPcl  FPhard"] * 3))
    for held_out, r in report.items():
        cells = []
        for column in ("rules", "model", "combined"):
            e = r[column]
            cells.append(f"{e['macro_f1']:.3f} {e['any_violation']['f1']:.3f} "
                         f"{e['false_positive_rate_clean']['rate']:.3f} {e['false_positive_rate_hard_negative']['rate']:.3f}")
        print(f"{held_out:<22} | " + " | ".join(cells))
    (out / "cross-batch.json").write_text(json.dumps(report, indent=1), encoding="utf-8")


def write_card(out_dir: Path, manifest: dict) -> None:
    t = manifest["training"]
    config = manifest["featurizer"]["config"]
    lines = [
        "# Model card: anshin classifier",
        "",
        "Written by `shared/model/train.py`; do not edit by hand (retraining rewrites it).",
        "",
        f"- **Version:** `{manifest['model_version']}` (sha256 `{manifest['model_sha256']}`)",
        "- **Task:** multi-label screening of marketplace postings, proposals, messages and profiles "
        "into the 13 categories of the taxonomy; a calibrated probability per category.",
        f"- **Features:** `{manifest['featurizer']['version']}` — the rules' normalisation, then hashed character "
        f"{config['min_n']}–{config['max_n']}-grams ({config['buckets']} buckets, at most "
        f"{config['max_features']} per document), sublinear counts, L2-normalised; "
        "computed by the Rust core (`anshin featurize`) for training and serving alike.",
        f"- **Model:** {t['algorithm']}; C = {t['C']}; calibration folded into the weights; exported as an ONNX "
        "graph (Gather, MatMul, Add, Sigmoid) over [1, K] sparse inputs, K symbolic; the server runs tract plans "
        f"with K fixed at 128, 256, … up to {config['max_features']}, the narrowest that holds the document.",
        f"- **Validation:** {t['validation']}; operating points: {t['threshold_rule']}. The screener maps each "
        "onto the policy's review threshold; the model alone never hides a submission.",
        f"- **Augmentation:** {t['augmentation']} ({t['augmented_rows']} variants).",
        f"- **Near-duplicates:** character {t['near_duplicates']['shingle']}-gram shingles, Jaccard ≥ "
        f"{t['near_duplicates']['jaccard']}: {t['near_duplicates']['removed']} of {t['near_duplicates']['rows_before']} "
        f"rows removed (by batch: {t['near_duplicates']['removed_by_batch']}); "
        f"{t['near_duplicates']['corpus_rows_after']} corpus rows remain.",
        "",
        "## Training data",
        "",
        "| file | rows used | licence | sha256 |",
        "|---|---|---|---|",
    ]
    for f in t["files"]:
        lines.append(f"| `{f['path']}` | {f['rows_used']} | {f['licence']} | `{f['sha256'][:16]}…` |")
    lines += [
        "",
        "Public sets (`public:` above) are pinned in `shared/model/public-datasets.json` (URL, SHA-256, licence),",
        "read in place from `../shared/data/public` or fetched once with `train.py --fetch`, and mapped to the",
        "taxonomy by fixed rules in `sources.py`: JCommonsenseMorality permissible sentences (every 10th) and",
        "japanese-toxic majority-Not-Toxic rows as clean; japanese-toxic majority-toxic rows and RTP-LX rows with",
        "Insult / IdentityAttack ≥ 3 or Toxicity ≥ 4 as harassment, with sexual content as adult; SMS Spam",
        "Collection spam (every 3rd) as spam and ham (every 20th) as clean; janitr X posts: fraud labels as scam,",
        "promotion labels as spam, clean as clean (handles and links masked).",
        "",
        "`../shared/data/policy-eval` and `shared/model/redteam` are never read here.",
        "",
        "## Cross-batch validation (model alone; each batch scored by a model that never saw it)",
        "",
        "| held-out batch | items | macro-F1 | any-violation F1 | FP clean | FP hard negatives |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in manifest["cross_batch"].items():
        lines.append(f"| {name} | {m['items']} | {m['macro_f1']:.3f} | {m['any_violation_f1']:.3f} | "
                     f"{m['fp_rate_clean']:.1%} | {m['fp_rate_hard_negative']:.1%} |")
    lines += [
        "",
        "Operating points are chosen on these same out-of-batch scores, so the figures are slightly optimistic;",
        "macro-F1 counts only the categories present in the batch (absent ones would score 0 or be undefined).",
        "",
        "## Out-of-batch metrics per category (all marketplace batches together)",
        "",
        "| category | positives | threshold | precision | recall | F1 |",
        "|---|---|---|---|---|---|",
    ]
    for c in manifest["categories"]:
        m = manifest["out_of_batch"][c]
        lines.append(f"| {c} | {m['positives']} | {m['threshold']} | {m['out_of_batch_precision']} | "
                     f"{m['out_of_batch_recall']} | {m['out_of_batch_f1']} |")
    lines += [
        "",
        "Rules, model and combined figures on the policy evaluation set and on the red-team set are measured with",
        "`anshin eval` and kept in the README.",
        "",
        "## Known limits",
        "",
        "- A bag of character n-grams reads words, not intent: a text that talks about a violation (an awareness",
        "  post, a manual) shares its words with one that commits it. Look-alike batches and support's false",
        "  positives teach the difference as far as words go; the screener's discussion signals do the rest.",
        "- The team's files were labelled before the v2 convention and are not exhaustive about second labels.",
        "- English is about a fifth of the marketplace text; other languages are unsupported.",
        "",
    ]
    (out_dir / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="retrain into a temporary folder and compare with the shipped manifest")
    parser.add_argument("--check-final", action="store_true",
                        help="CI's quick check: redo the data step and every category's final fit with the "
                             "manifest's calibration and compare the model's hash (one fit per category "
                             "instead of nine)")
    parser.add_argument("--fetch", action="store_true",
                        help="fetch the pinned public datasets that ../shared/data/public lacks, then stop")
    parser.add_argument("--out-dir", type=Path, default=MODEL_DIR,
                        help="where to write the model and manifest (default: shared/model, the shipped one)")
    parser.add_argument("--cross-batch", type=Path, metavar="DIR",
                        help="also write each fold's model into DIR and score it with `anshin eval`")
    args = parser.parse_args()
    try:
        if args.fetch:
            sources.fetch()
            return
        if args.check_final:
            shipped = json.loads((MODEL_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
            fresh_sha, differences = check_final(shipped)
            on_disk = sources.sha256_file(MODEL_DIR / MODEL_FILE)
            ok = fresh_sha == shipped["model_sha256"] == on_disk and not differences
            print(f"train.py --check-final: refitted {fresh_sha}, manifest {shipped['model_sha256']}, "
                  f"file {on_disk}{', different ' + ', '.join(differences) if differences else ''}: "
                  f"{'reproduced' if ok else 'MISMATCH'}")
            sys.exit(0 if ok else 1)
        if args.check:
            shipped = json.loads((MODEL_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
            with tempfile.TemporaryDirectory() as tmp:
                fresh = train(Path(tmp))
            on_disk = sources.sha256_file(MODEL_DIR / MODEL_FILE)
            # The operating points live in the manifest, not in the model file: compare them too.
            same_thresholds = fresh["thresholds"] == shipped["thresholds"]
            ok = fresh["model_sha256"] == shipped["model_sha256"] == on_disk and same_thresholds
            print(f"train.py --check: retrained {fresh['model_sha256']}, manifest {shipped['model_sha256']}, "
                  f"file {on_disk}, thresholds {'equal' if same_thresholds else 'DIFFERENT'}: "
                  f"{'reproduced' if ok else 'MISMATCH'}")
            sys.exit(0 if ok else 1)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        manifest = train(args.out_dir, args.cross_batch)
    except sources.DataError as e:
        sys.exit(f"train.py: {e}")
    write_card(args.out_dir, manifest)
    print(f"train.py: wrote {MODEL_FILE} ({manifest['model_version']}), {MANIFEST_FILE} and {CARD_FILE}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

"""The scikit-learn peer: char 1–3-gram hashing + one-vs-rest logistic regression, trained
on anshin's own corpus, timed on the same postings anshin screens. Prints one JSON object:
import time, p50 per posting (one at a time, as an on-submit path would call it), batch
throughput, and this process's peak memory.

    bench/.venv/bin/python bench/peer_sklearn.py '{"ordinary": "a.jsonl", "dense": "b.jsonl"}'
"""

import json
import resource
import sys
import time
from pathlib import Path

started = time.perf_counter()
import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import HashingVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.preprocessing import MultiLabelBinarizer  # noqa: E402

import_s = time.perf_counter() - started

ROOT = Path(__file__).resolve().parent.parent


def rows(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


corpus = [r for p in sorted((ROOT / "shared/model/corpus").glob("*.jsonl")) for r in rows(p)]
texts = [(r.get("title") or "") + "\n" + r["body"] for r in corpus]
labels = MultiLabelBinarizer().fit_transform([r.get("labels", []) for r in corpus])
vectorizer = HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=1 << 17, alternate_sign=False, norm="l2", lowercase=True)
model = OneVsRestClassifier(LogisticRegression(max_iter=300, C=4.0))
model.fit(vectorizer.transform(texts), labels)

out = {"import_s": import_s, "p50_ms": {}, "batch_per_s": {}}
for kind, path in json.loads(sys.argv[1]).items():
    bodies = [r["body"] for r in rows(path)]
    times = []
    for b in bodies:
        t = time.perf_counter()
        model.predict_proba(vectorizer.transform([b]))
        times.append(time.perf_counter() - t)
    out["p50_ms"][kind] = float(np.median(times)) * 1e3
    t = time.perf_counter()
    model.predict_proba(vectorizer.transform(bodies))
    out["batch_per_s"][kind] = len(bodies) / (time.perf_counter() - t)
out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))

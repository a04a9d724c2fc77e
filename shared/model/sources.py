"""Where the classifier's training rows come from, and how they are cleaned before training.

- The corpus written for the project (`corpus/*.jsonl`, the team's; `corpus/batches/*.jsonl`,
  seven independent writers; `corpus/feedback.jsonl`, support's decisions), each row with
  the batch it was written in.
- The public datasets pinned in `public-datasets.json` (URL, SHA-256, licence): read in place
  from `../shared/data/public` when that folder is there, else from a cache that `fetch`
  fills from the pinned URLs and checks against the pinned hashes. Absent files and no way
  to fetch them is an error that names the file and what to do — never a silently
  different model.
- Near-duplicates removed by character-shingle similarity (MinHash, then the exact Jaccard
  of the candidates), so that stock lines stop counting many times and a text never sits
  on both sides of a cross-batch split.

Never reads ../shared/data/policy-eval: that set is the yardstick.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sys
import unicodedata
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "shared" / "model"
CORPUS_DIR = MODEL_DIR / "corpus"
BATCH_DIR = CORPUS_DIR / "batches"
PIN_FILE = MODEL_DIR / "public-datasets.json"
# ../shared/data/public beside the checkout; ANSHIN_PUBLIC_DATA names another copy.
SHARED_PUBLIC_DIR = Path(os.environ.get("ANSHIN_PUBLIC_DATA", ROOT.parent / "shared" / "data" / "public"))
# Where fetched public files live when ../shared/data is absent; ignored by git.
DEFAULT_CACHE_DIR = ROOT / "target" / "public-datasets"

TEAM_LICENCE = "Apache-2.0 (written for the anshin project)"
FEEDBACK_FILE = "feedback.jsonl"

# Near-duplicate removal: character 5-gram shingles of the folded text; two rows whose
# shingle sets have a Jaccard similarity of at least DEDUP_JACCARD are one text.
SHINGLE = 5
DEDUP_JACCARD = 0.5
MINHASH_PERMUTATIONS = 64
LSH_BANDS = 32  # 2 rows a band: a pair at Jaccard 0.5 is a candidate with p > 0.9998
MINHASH_SEED = 20261203


class DataError(Exception):
    """A training input is missing or is not what its pin says."""


@dataclass
class Source:
    """One training file and the rows taken from it."""

    path: Path
    licence: str
    rows: list[dict] = field(default_factory=list)
    # How the file is named in the manifest: repo-relative, or `public:<name>/<file>`.
    label: str = ""

    def describe(self) -> dict:
        return {
            "path": self.label or os.path.relpath(self.path, ROOT),
            "sha256": sha256_file(self.path),
            "rows_used": len(self.rows),
            "licence": self.licence,
        }


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- the project's own corpus -------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus_sources() -> list[Source]:
    """Support's feedback first (it is the most trusted label), then the independent batches,
    then the team's files; each row carries its `batch`."""
    sources = []
    feedback = CORPUS_DIR / FEEDBACK_FILE
    if feedback.exists():
        rows = read_jsonl(feedback)
        for row in rows:
            row["batch"] = "support-feedback"
        sources.append(Source(feedback, "platform's own (support decisions)", rows))
    for path in sorted(BATCH_DIR.glob("*.jsonl")):
        rows = read_jsonl(path)
        for row in rows:
            row.setdefault("batch", path.stem)
        sources.append(Source(path, TEAM_LICENCE, rows))
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        if path.name == FEEDBACK_FILE:
            continue
        rows = read_jsonl(path)
        for row in rows:
            # The team wrote its files together, in one style: one batch.
            row["batch"] = "team"
        sources.append(Source(path, TEAM_LICENCE, rows))
    return sources


# ---- the pinned public datasets -----------------------------------------------------------


def pins() -> list[dict]:
    return json.loads(PIN_FILE.read_text(encoding="utf-8"))["datasets"]


def public_file(pin: dict) -> Path:
    """The local copy of one pinned file: ../shared/data/public when present, else the
    fetch cache. Refuses a file whose hash is not the pinned one."""
    shared = SHARED_PUBLIC_DIR / pin["path"]
    cached = cache_dir() / pin["path"]
    for candidate in (shared, cached):
        if candidate.exists():
            actual = sha256_file(candidate)
            if actual != pin["sha256"]:
                raise DataError(f"{candidate}: sha256 {actual}, but public-datasets.json pins {pin['sha256']}; "
                                f"the model would train on other data. Restore the pinned file or update the pin "
                                f"(and retrain) on purpose.")
            return candidate
    raise DataError(f"public dataset file {pin['path']} is neither in {SHARED_PUBLIC_DIR} nor in the cache "
                    f"{cache_dir()}; run `.venv/bin/python shared/model/train.py --fetch` (needs network, or "
                    f"ANSHIN_DATASET_MIRROR pointing at a copy) before training")


def cache_dir() -> Path:
    return Path(os.environ.get("ANSHIN_DATASET_CACHE", DEFAULT_CACHE_DIR))


def source_url(pin: dict) -> str:
    """The pinned URL, or the same path under ANSHIN_DATASET_MIRROR (a file:// or http(s)://
    folder laid out like ../shared/data/public) when that is set."""
    mirror = os.environ.get("ANSHIN_DATASET_MIRROR")
    if mirror:
        return mirror.rstrip("/") + "/" + pin["path"]
    return pin["url"]


def fetch(out=sys.stderr) -> list[Path]:
    """Fills the cache with every pinned file that ../shared/data/public lacks; checks each
    download against its pin before it takes the file's place."""
    written = []
    for pin in pins():
        if (SHARED_PUBLIC_DIR / pin["path"]).exists() or (cache_dir() / pin["path"]).exists():
            continue
        url = source_url(pin)
        target = cache_dir() / pin["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as f:
                shutil.copyfileobj(response, f)
        except (urllib.error.URLError, OSError, ValueError) as e:
            partial.unlink(missing_ok=True)
            raise DataError(f"cannot fetch {pin['path']} from {url}: {e}. Without ../shared/data/public the "
                            f"public datasets must be fetched once (network, or ANSHIN_DATASET_MIRROR="
                            f"file:///a/copy/of/public)") from e
        actual = sha256_file(partial)
        if actual != pin["sha256"]:
            partial.unlink()
            raise DataError(f"{url}: sha256 {actual}, pinned {pin['sha256']}: refusing it")
        partial.replace(target)
        written.append(target)
        print(f"sources.py: fetched {pin['path']} ({pin['licence']})", file=out)
    return written


def public_row(prefix: str, n: int, body: str, labels: list[str]) -> dict:
    return {"id": f"{prefix}-{n}", "kind": "message", "title": "", "body": body[:20000], "labels": labels,
            "batch": f"public-{prefix}"}


HANDLE = re.compile(r"@[A-Za-z0-9_]{1,15}")
URL = re.compile(r"https?://\S+")


def public_sources() -> list[Source]:
    """The public sets, mapped to the taxonomy by rules fixed in advance (never by looking at
    how a mapping scores)."""
    by_name = {pin["name"]: pin for pin in pins()}

    def located(name: str) -> tuple[Path, dict]:
        pin = by_name[name]
        return public_file(pin), pin

    sources = []

    # JCommonsenseMorality: morally permissible everyday sentences as clean text.
    path, pin = located("commonsense-moral-ja")
    with path.open(encoding="utf-8") as f:
        permissible = [r["sent"] for r in csv.DictReader(f) if r["label"] == "0"]
    sources.append(Source(path, pin["licence"], [public_row("cmj", i, s, []) for i, s in enumerate(permissible[::10])],
                          f"public:{pin['path']}"))

    # japanese-toxic: majority Not Toxic → clean; majority Toxic/Very Toxic → adult when
    # annotators marked obscenity, harassment otherwise.
    path, pin = located("japanese-toxic")
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
    sources.append(Source(path, pin["licence"], rows, f"public:{pin['path']}"))

    # RTP-LX Japanese: sexual content → adult; insults, identity attacks or high toxicity
    # → harassment. Mild prompts are left out: they are not clean marketplace text either.
    path, pin = located("rtp-lx-ja")
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
    sources.append(Source(path, pin["licence"], rows, f"public:{pin['path']}"))

    # SMS Spam Collection (English): a sample of spam as spam, of ham as clean.
    path, pin = located("sms-spam")
    spam, ham = [], []
    with path.open(encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            (spam if label == "spam" else ham).append(text)
    rows = [public_row("sms-spam", i, t, ["spam"]) for i, t in enumerate(spam[::3])]
    rows += [public_row("sms-ham", i, t, []) for i, t in enumerate(ham[::20])]
    for row in rows:
        row["batch"] = "public-sms"
    sources.append(Source(path, pin["licence"], rows, f"public:{pin['path']}"))

    # janitr X posts (mostly English): fraud (scam, phishing, recovery scams, fake support,
    # job and romance scams, impersonation) → scam; promotion (spam, promo, affiliate,
    # lead-gen, engagement bait, giveaways, bots) → spam; `clean` alone → clean. Handles and
    # links are masked: user names are personal data, and a link is no label.
    path, pin = located("janitr-x-posts")
    fraud = {"scam", "phishing", "malware", "recovery_scam", "fake_support", "job_scam", "romance_scam",
             "impersonation", "account_compromise"}
    promotion = {"spam", "reply_spam", "dm_spam", "promo", "affiliate", "lead_gen", "engagement_bait",
                 "giveaway", "follow_train", "bot"}
    rows = []
    for i, item in enumerate(read_jsonl(path)):
        upstream = set(item["labels"])
        labels = (["scam"] if upstream & fraud else []) + (["spam"] if upstream & promotion else [])
        if not labels and "clean" not in upstream:
            continue
        text = URL.sub("https://example.com", HANDLE.sub("@user", item["text"])).strip()
        if text:
            rows.append(public_row("janitr", i, text, labels))
    sources.append(Source(path, pin["licence"], rows, f"public:{pin['path']}"))
    return sources


# ---- near-duplicates ----------------------------------------------------------------------


def folded(row: dict) -> str:
    text = unicodedata.normalize("NFKC", (row.get("title") or "") + "\n" + row["body"]).lower()
    return "".join(ch for ch in text if not ch.isspace())


def shingles(text: str) -> np.ndarray:
    if len(text) < SHINGLE:
        grams = {text}
    else:
        grams = {text[i:i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}
    return np.array(sorted(zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64)


def remove_near_duplicates(rows: list[dict]) -> tuple[list[dict], list[tuple[str, str, float]]]:
    """Keeps the first of every group of near-duplicates, in the order given. Returns the
    rows kept and (dropped id, kept id, similarity) for each row dropped."""
    prime = np.uint64((1 << 61) - 1)
    rng = np.random.default_rng(MINHASH_SEED)
    a = rng.integers(1, 1 << 31, MINHASH_PERMUTATIONS, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, MINHASH_PERMUTATIONS, dtype=np.uint64)
    sets = [shingles(folded(r)) for r in rows]
    signatures = np.empty((len(rows), MINHASH_PERMUTATIONS), dtype=np.uint64)
    for i, s in enumerate(sets):
        # (a·x + b) mod p with x < 2^32, a, b < 2^31: fits in 64 bits.
        signatures[i] = ((np.outer(s, a) + b) % prime).min(axis=0)
    per_band = MINHASH_PERMUTATIONS // LSH_BANDS
    candidates: dict[int, set[int]] = {}
    for band in range(LSH_BANDS):
        buckets: dict[bytes, list[int]] = {}
        for i in range(len(rows)):
            buckets.setdefault(signatures[i, band * per_band:(band + 1) * per_band].tobytes(), []).append(i)
        for members in buckets.values():
            for j in members[1:]:
                candidates.setdefault(j, set()).update(m for m in members if m < j)
    dropped_by: dict[int, tuple[int, float]] = {}
    py_sets = {}

    def as_set(i: int) -> set:
        if i not in py_sets:
            py_sets[i] = set(sets[i].tolist())
        return py_sets[i]

    for j in sorted(candidates):
        for i in sorted(candidates[j]):
            if i in dropped_by:
                continue
            x, y = as_set(i), as_set(j)
            similarity = len(x & y) / len(x | y)
            if similarity >= DEDUP_JACCARD:
                dropped_by[j] = (i, similarity)
                break
    kept = [r for i, r in enumerate(rows) if i not in dropped_by]
    dropped = [(rows[j]["id"], rows[i]["id"], round(s, 3)) for j, (i, s) in sorted(dropped_by.items())]
    return kept, dropped

#!/usr/bin/env python3
"""Tests of the data step (`sources.py`): the pinned public datasets are fetched and checked
when ../shared/data is absent, a file that is not the pinned one is refused, and absence with
no way to fetch is a clear error — never a silently different model. The "upstream" is a
file server on loopback serving a copy of the pinned files, and a file:// folder.

    .venv/bin/python shared/model/test_sources.py      (tests/run.sh runs it)
"""

from __future__ import annotations

import functools
import io
import http.server
import os
import shutil
import socket
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sources  # noqa: E402

TINY = {
    # name → (relative path, bytes): small stand-ins, pinned by their own hashes below.
    "commonsense-moral-ja": ("commonsense-moral-ja/data_train.csv", ",sent,label\n0,信号を守った,0\n1,ごみを捨てた,1\n"),
    "japanese-toxic": ("japanese-toxic/subset.csv",
                       "id,text,Not Toxic,Hard to Say,Toxic,Very Toxic,category_猥褻,annotation_num\n"
                       "0,こんにちは,3,0,0,0,0,3\n1,ばか,0,0,3,0,0,3\n"),
    "rtp-lx-ja": ("rtp-lx-ja/RTP_LX_JA.jsonl",
                  '{"Prompt": "くたばれ", "Completion": "", "Annotations": {"SexualContent": 1, "Insult": 4, '
                  '"IdentityAttack": 1, "Toxicity": 4}}\n'),
    "sms-spam": ("sms-spam/SMSSpamCollection", "Label\tSMS\nspam\tWIN a prize now\nham\tsee you at 5\n"),
    "janitr-x-posts": ("janitr-x-posts/sample.jsonl",
                       '{"text": "free airdrop, connect wallet @scammer", "labels": ["scam"]}\n'
                       '{"text": "shipping the release today", "labels": ["clean"]}\n'),
}


def tiny_pins() -> list[dict]:
    import hashlib
    return [{"name": name, "path": path, "url": "http://127.0.0.1:9/unreachable/" + path,
             "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "licence": "test"}
            for name, (path, text) in TINY.items()]


class Upstream:
    """A folder of the tiny files, served over HTTP on a free loopback port."""

    def __init__(self, root: Path):
        for path, text in TINY.values():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *args: None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FetchTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.upstream_dir = self.tmp / "upstream"
        self.upstream = Upstream(self.upstream_dir)
        # No ../shared/data: an empty folder stands for it; the cache is a fresh folder.
        self.patches = [
            mock.patch.object(sources, "SHARED_PUBLIC_DIR", self.tmp / "no-shared"),
            mock.patch.object(sources, "pins", tiny_pins),
            mock.patch.dict(os.environ, {"ANSHIN_DATASET_CACHE": str(self.tmp / "cache")}),
        ]
        for p in self.patches:
            p.start()
        os.environ.pop("ANSHIN_DATASET_MIRROR", None)

    def tearDown(self):
        for p in reversed(self.patches):
            p.stop()
        self.upstream.close()
        shutil.rmtree(self.tmp)

    def test_absent_data_and_no_network_is_a_clear_error_naming_the_file_and_the_fix(self):
        with self.assertRaises(sources.DataError) as caught:
            sources.public_sources()
        self.assertIn("commonsense-moral-ja/data_train.csv", str(caught.exception))
        self.assertIn("--fetch", str(caught.exception))
        with mock.patch.dict(os.environ, {"ANSHIN_DATASET_MIRROR": f"http://127.0.0.1:{closed_port()}"}):
            with self.assertRaises(sources.DataError) as caught:
                sources.fetch(out=io.StringIO())
        self.assertIn("cannot fetch", str(caught.exception))
        self.assertFalse(any((self.tmp / "cache").rglob("*.partial")), "no half-written file is left")

    def test_fetch_over_http_fills_the_cache_and_training_reads_it(self):
        with mock.patch.dict(os.environ, {"ANSHIN_DATASET_MIRROR": self.upstream.url}):
            written = sources.fetch(out=io.StringIO())
        self.assertEqual(len(written), len(TINY))
        rows = {s.label: s.rows for s in sources.public_sources()}
        self.assertEqual([r["labels"] for r in rows["public:janitr-x-posts/sample.jsonl"]], [["scam"], []])
        self.assertIn("@user", rows["public:janitr-x-posts/sample.jsonl"][0]["body"], "handles are masked")
        self.assertEqual(rows["public:rtp-lx-ja/RTP_LX_JA.jsonl"][0]["labels"], ["harassment"])
        # A second fetch has nothing to do.
        with mock.patch.dict(os.environ, {"ANSHIN_DATASET_MIRROR": self.upstream.url}):
            self.assertEqual(sources.fetch(out=io.StringIO()), [])

    def test_fetch_from_a_file_url_folder(self):
        with mock.patch.dict(os.environ, {"ANSHIN_DATASET_MIRROR": self.upstream_dir.as_uri()}):
            self.assertEqual(len(sources.fetch(out=io.StringIO())), len(TINY))

    def test_a_file_that_is_not_the_pinned_one_is_refused_on_fetch_and_on_read(self):
        path = self.upstream_dir / TINY["sms-spam"][0]
        path.write_text(path.read_text() + "spam\tone more\n")
        with mock.patch.dict(os.environ, {"ANSHIN_DATASET_MIRROR": self.upstream.url}):
            with self.assertRaises(sources.DataError) as caught:
                sources.fetch(out=io.StringIO())
        self.assertIn("refusing", str(caught.exception))
        self.assertFalse((self.tmp / "cache" / TINY["sms-spam"][0]).exists())
        # A changed copy already in place is refused when training reads it.
        cached = self.tmp / "cache" / TINY["commonsense-moral-ja"][0]
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text("changed\n")
        with self.assertRaises(sources.DataError) as caught:
            sources.public_file(tiny_pins()[0])
        self.assertIn("pins", str(caught.exception))


class NearDuplicateTest(unittest.TestCase):
    def test_a_reworded_stock_line_is_dropped_and_a_different_text_kept(self):
        rows = [
            {"id": "a", "title": "", "body": "テスト環境の動作版、確認しました。全体的にとても良いです。冒頭の3秒をカットしていただけますか。"},
            {"id": "b", "title": "", "body": "改善提案のレポート、確認しました。全体的にとても良いです。冒頭の3秒をカットしていただけますか。"},
            {"id": "c", "title": "", "body": "ロゴのラフを3案お送りします。方向性をお選びください。"},
        ]
        kept, dropped = sources.remove_near_duplicates(rows)
        self.assertEqual([r["id"] for r in kept], ["a", "c"])
        self.assertEqual([(d, k) for d, k, _ in dropped], [("b", "a")])


class PinnedListTest(unittest.TestCase):
    def test_every_pin_names_a_url_a_sha256_and_a_licence(self):
        for pin in sources.pins():
            self.assertRegex(pin["sha256"], r"^[0-9a-f]{64}$")
            self.assertTrue(pin["url"].startswith("https://"), pin["name"])
            self.assertTrue(pin["licence"].strip(), pin["name"])


if __name__ == "__main__":
    unittest.main(verbosity=1)

"""Evasion augmentation: seeded variants of training rows, written the way posters dodge filters.

Every violating row gets one variant with one to three of the transformations below; a
share of the clean rows gets a variant with formatting-only transformations (full width,
line breaks, emoji), so that formatting alone never reads as a violation. Randomness comes
from the row's id and a fixed seed: the same corpus gives the same variants on every
machine, so retraining stays reproducible.

The normaliser undoes some of these (full width, spaced letters, kana digits) before the
model sees the text; the variants still teach what it leaves behind — a partly widened
handle, a digit run with a word in it, a nickname for an app.
"""

from __future__ import annotations

import hashlib
import random
import re

SEED = 20261203
# Share of clean rows that get a formatting-only variant.
CLEAN_SHARE = 0.25

FULL_WIDTH_OFFSET = 0xFEE0
LOOKALIKE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "k": "κ", "n": "п"}
KANJI_DIGITS = "〇一二三四五六七八九"
KANA_DIGITS = ["ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ"]
EMOJI = ["✨", "⭐", "💕", "🌸", "📩", "👉", "🔥", "・", "★"]
# What posters call the apps instead of their names (taxonomy.md: "the green app", ﾃﾚ).
EUPHEMISMS = {
    r"line|ライン": ["緑のアプリ", "緑の吹き出し", "ﾗｲﾝ", "L1NE", "ら　いん", "🟩アプリ", "いつものトークアプリ"],
    r"telegram|テレグラム": ["ﾃﾚ", "テレ", "紙飛行機のアプリ", "tg", "tele", "✈️のアプリ"],
    r"instagram|インスタ": ["ｲﾝｽﾀ", "いんすた", "insta", "IG", "📷のアプリ"],
    r"discord|ディスコード": ["ディスコ", "dc", "ﾃﾞｨｽｺｰﾄﾞ"],
    r"whatsapp": ["WA", "whats app", "the green chat app"],
    r"paypal|ペイパル": ["ペイパ", "P@yPal", "pp"],
    r"paypay|ペイペイ": ["ﾍﾟｲﾍﾟｲ", "赤いアプリ", "PP払い"],
    r"twitter|ツイッター": ["X", "青い鳥", "ﾂｲｯﾀｰ"],
}
LATIN_RUN = re.compile(r"[A-Za-z0-9@._-]{3,}")
DIGIT_RUN = re.compile(r"[0-9]{2,}")


def _rng(row: dict, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{SEED}:{salt}:{row['id']}".encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def full_width(text: str, rng: random.Random) -> str:
    """ASCII letters and digits → full width, in the whole text or in one run."""
    def widen(s: str) -> str:
        return "".join(chr(ord(c) + FULL_WIDTH_OFFSET) if "!" <= c <= "~" else c for c in s)
    runs = list(LATIN_RUN.finditer(text))
    if runs and rng.random() < 0.5:
        m = rng.choice(runs)
        return text[:m.start()] + widen(m.group()) + text[m.end():]
    return widen(text)


def spacing(text: str, rng: random.Random) -> str:
    """Spaces (or dots) between the letters of one Latin or digit run."""
    runs = list(LATIN_RUN.finditer(text))
    if not runs:
        return text
    m = rng.choice(runs)
    sep = rng.choice([" ", " ", ".", "　", "-"])
    return text[:m.start()] + sep.join(m.group()) + text[m.end():]


def lookalikes(text: str, rng: random.Random) -> str:
    """Cyrillic and Greek letters for their Latin look-alikes."""
    return "".join(LOOKALIKE[c] if c in LOOKALIKE and rng.random() < 0.5 else c for c in text)


def kana_digits(text: str, rng: random.Random) -> str:
    """Digit runs spelled in kanji or katakana."""
    def spell(m: re.Match) -> str:
        if rng.random() < 0.5:
            return "".join(KANJI_DIGITS[int(d)] for d in m.group())
        return "".join(KANA_DIGITS[int(d)] for d in m.group())
    return DIGIT_RUN.sub(spell, text)


def emoji_separators(text: str, rng: random.Random) -> str:
    """An emoji between the characters of one run, or sprinkled between sentences."""
    runs = list(LATIN_RUN.finditer(text))
    emoji = rng.choice(EMOJI)
    if runs and rng.random() < 0.6:
        m = rng.choice(runs)
        return text[:m.start()] + emoji.join(m.group()) + text[m.end():]
    return re.sub(r"([。！!?？])", lambda m: m.group() + rng.choice(EMOJI), text)


def line_breaks(text: str, rng: random.Random) -> str:
    """Sentences on their own lines, or one run broken over two."""
    runs = list(LATIN_RUN.finditer(text))
    if runs and rng.random() < 0.4:
        m = rng.choice(runs)
        cut = rng.randrange(1, len(m.group()))
        return text[:m.start() + cut] + "\n" + text[m.start() + cut:]
    return re.sub(r"([。、！!?？])", lambda m: m.group() + "\n", text)


def euphemisms(text: str, rng: random.Random) -> str:
    """App names replaced by what posters call them."""
    out = text
    for pattern, names in EUPHEMISMS.items():
        out = re.sub(pattern, lambda m: rng.choice(names), out, flags=re.IGNORECASE)
    return out


EVASIONS = [full_width, spacing, lookalikes, kana_digits, emoji_separators, line_breaks, euphemisms]
FORMATTING = [full_width, emoji_separators, line_breaks]


def variant(row: dict, transforms: list, rng: random.Random) -> dict:
    chosen = rng.sample(transforms, k=rng.randint(1, min(3, len(transforms))))
    # Euphemisms where the text names an app are the evasion that matters most.
    if euphemisms in transforms and euphemisms not in chosen and any(
            re.search(p, row["body"], re.IGNORECASE) for p in EUPHEMISMS) and rng.random() < 0.5:
        chosen.append(euphemisms)
    title, body = row.get("title") or "", row["body"]
    for transform in chosen:
        body = transform(body, rng)
        if title and rng.random() < 0.3:
            title = transform(title, rng)
    out = dict(row)
    out["id"] = f"{row['id']}.aug"
    out["title"] = title[:200]
    out["body"] = body[:20000]
    out["augmented"] = [t.__name__ for t in chosen]
    return out


def augment(rows: list[dict]) -> list[dict]:
    """One variant of every violating row and of CLEAN_SHARE of the clean rows, in order."""
    out = []
    for row in rows:
        if row.get("labels"):
            rng = _rng(row, "evasion")
            out.append(variant(row, EVASIONS, rng))
        else:
            rng = _rng(row, "format")
            if rng.random() < CLEAN_SHARE:
                out.append(variant(row, FORMATTING, rng))
    return out

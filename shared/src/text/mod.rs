//! Normalisation of submitted text before keyword and contact-detail rules run.
//!
//! Posters who want to move a deal off the marketplace, or to slip a banned word past the
//! rules, rarely write it plainly: they use full-width or decorated letters, zero-width
//! characters, Cyrillic look-alikes, letters spaced out or separated by emoji, phone
//! numbers in kanji or kana, and `(at)` / `(dot)` spelled-out addresses. [`normalize`]
//! undoes these evasions so that each rule can be written once, against plain lowercase
//! text, instead of once per disguise.
//!
//! The map back to the original matters as much as the folding. A rule matches on the
//! normalised text, but the evidence a reviewer sees (and the poster, when a submission is
//! held) must quote what the poster actually wrote, not our rewriting of it. So every
//! normalised char carries the byte span of the original chars it came from, and
//! [`NormalizedText::original_range`] turns a match back into a span of the original.
//!
//! The text moves through the stages as a vector of (char, original span); a replacement
//! of several chars by one gets the union of their spans, dropped chars disappear. Stages:
//!
//! 1. NFKC, per base char together with its combining marks (so `ｶﾞ` becomes `ガ`).
//! 2. Lowercase. Capital Greek/Cyrillic look-alikes fold straight to Latin here, because
//!    lowercasing first would lose the look: capital `Ν` looks like `N`, small `ν` like `v`.
//! 3. Drop invisible and control chars and leftover combining overlays; collapse whitespace.
//! 4. Fold look-alike letters, accents and dashes to ASCII; `ー` between digits to `-`.
//! 5. Drop emoji and symbols standing between two letters or digits.
//! 6. Rejoin spaced, dotted or line-broken single letters and digits.
//! 7. Kanji and kana digits to ASCII digits, inside digit runs only.
//! 8. `(at)`, `(dot)`, `あっとまーく`, `ドット` and friends to `@` and `.` (bare short forms
//!    only between ASCII words, so `ドット絵` and `アットホーム` stay).
//!
//! Stages 1-5 run fused in one streaming pass (they are per-char maps, or look back only at
//! output already final for them); 6-8 only ever shorten the text and compact the vector in
//! place. Kana, kanji and ASCII skip the Unicode tables altogether. Together these keep a
//! 2,000-char posting in the tens of microseconds, where a copying pass per stage with a
//! table lookup per char took several times that.
//!
//! Ordinary Japanese and English must come through with only width and case changed, because
//! a false fold in a genuine posting can turn into a false accusation: so stages 5-8, whose
//! rewrites could hit real words, act only on what their neighbours show to be filler, or on
//! several hits in a row (three spaced singles, three or four digit words).

use std::ops::Range;

mod at_dot;
mod chars;
mod digits;
mod fold;
pub(crate) mod map_check;
mod rejoin;
#[cfg(test)]
mod tests;

use at_dot::convert_at_dot_words;
use chars::{narrow, Ch};
use digits::convert_digit_words;
use fold::fold_stage;
use rejoin::rejoin_singles;

/// Text after normalisation, with a map from every normalised byte back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedText {
    text: String,
    /// One entry per normalised char, in order.
    map: Vec<Mapped>,
}

/// Where a normalised char is, and the original span it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapped {
    /// Byte offset of the char in the normalised text.
    at: u32,
    /// Byte range in the original text.
    start: u32,
    end: u32,
}

impl NormalizedText {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Byte range in the ORIGINAL text covered by the normalised byte range `normalized`
    /// (which must lie on char boundaries of the normalised text; an empty range maps to an
    /// empty range at the right place).
    /// The result always lies on char boundaries of the original and covers every original
    /// char that produced any normalised char in the range.
    pub fn original_range(&self, normalized: Range<usize>) -> Range<usize> {
        let (Some(first_char), Some(last_char)) = (self.map.first(), self.map.last()) else {
            return 0..0;
        };
        let len = self.text.len();
        // Out-of-contract ranges (past the end, reversed, inside a char) are clamped rather
        // than rejected: a screener must not fail on a caller's off-by-one.
        let a = normalized.start.min(len);
        let b = normalized.end.clamp(a, len);
        if a == len {
            return widen(last_char.end)..widen(last_char.end);
        }
        // The char containing byte `a`, and the last char starting before `b`.
        let first = self
            .map
            .partition_point(|m| widen(m.at) <= a)
            .saturating_sub(1);
        let start = widen(self.map.get(first).unwrap_or(first_char).start);
        if a == b {
            return start..start;
        }
        let last = self
            .map
            .partition_point(|m| widen(m.at) < b)
            .saturating_sub(1)
            .max(first);
        let end = widen(self.map.get(last).unwrap_or(last_char).end).max(start);
        start..end
    }
}

/// Normalises `original` for rule matching; see the module docs for what is undone.
pub fn normalize(original: &str) -> NormalizedText {
    let original = within_offset_limit(original);
    let mut chars = fold_stage(original);
    rejoin_singles(&mut chars);
    convert_digit_words(&mut chars);
    convert_at_dot_words(&mut chars);
    finish(chars)
}

fn widen(offset: u32) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

/// The longest prefix of `original` whose offsets fit in u32. No posting comes near 4 GiB;
/// this only keeps the map exact (and the function panic-free) if one ever did.
fn within_offset_limit(original: &str) -> &str {
    let Ok(limit) = usize::try_from(u32::MAX) else {
        return original;
    };
    if original.len() <= limit {
        return original;
    }
    let mut end = limit;
    while !original.is_char_boundary(end) {
        end -= 1;
    }
    original.get(..end).unwrap_or_default()
}

fn finish(chars: Vec<Ch>) -> NormalizedText {
    let mut text = String::with_capacity(chars.iter().map(|ch| ch.c.len_utf8()).sum());
    let mut map = Vec::with_capacity(chars.len());
    for ch in chars {
        map.push(Mapped {
            at: narrow(text.len()),
            start: ch.start,
            end: ch.end,
        });
        text.push(ch.c);
    }
    NormalizedText { text, map }
}

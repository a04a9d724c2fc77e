//! The characters every stage works on: each normalised char with the span of the
//! original it came from, the in-place compaction the shortening stages share, and the
//! character classes they test against.

use std::ops::Range;

/// One char of the text being normalised and the original byte span it came from. Offsets
/// are u32 to keep the vector small (it is read and written by every stage).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ch {
    pub(super) c: char,
    pub(super) start: u32,
    pub(super) end: u32,
}

impl Ch {
    pub(super) fn with(self, c: char) -> Self {
        Self { c, ..self }
    }
}

pub(super) fn narrow(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

/// `c` carrying the union of the spans of `from`, or `None` if `from` is empty.
pub(super) fn merged<'a>(c: char, from: impl IntoIterator<Item = &'a Ch>) -> Option<Ch> {
    from.into_iter().fold(None, |acc: Option<Ch>, ch| {
        Some(match acc {
            None => ch.with(c),
            Some(m) => Ch {
                c,
                start: m.start.min(ch.start),
                end: m.end.max(ch.end),
            },
        })
    })
}

/// `v[range]`, or nothing if the range is out of bounds (it never is; this keeps the
/// pipeline panic-free even if a stage has a bug).
pub(super) fn slice(v: &[Ch], range: Range<usize>) -> &[Ch] {
    v.get(range).unwrap_or(&[])
}

/// Length in chars of `word` if `v[i..]` starts with it.
pub(super) fn matches_at(v: &[Ch], i: usize, word: &str) -> Option<usize> {
    let mut k = i;
    for w in word.chars() {
        if v.get(k)?.c != w {
            return None;
        }
        k += 1;
    }
    Some(k - i)
}

/// In-place compaction for the stages that only shorten the text: everything before
/// `write` is output, everything from `read` on is still input, and `write <= read`
/// always holds because no stage emits more chars than it has consumed.
pub(super) struct Compactor<'a> {
    chars: &'a mut Vec<Ch>,
    pub(super) write: usize,
    pub(super) read: usize,
}

impl<'a> Compactor<'a> {
    pub(super) fn new(chars: &'a mut Vec<Ch>) -> Self {
        Self {
            chars,
            write: 0,
            read: 0,
        }
    }

    /// The whole buffer; only indices from `read` on are still input.
    pub(super) fn all(&self) -> &[Ch] {
        self.chars
    }

    pub(super) fn get(&self, i: usize) -> Option<Ch> {
        self.chars.get(i).copied()
    }

    pub(super) fn output(&self) -> &[Ch] {
        slice(self.chars, 0..self.write)
    }

    pub(super) fn input(&self) -> &[Ch] {
        slice(self.chars, self.read..self.chars.len())
    }

    /// Consumes the input before `end` as it is.
    pub(super) fn keep_until(&mut self, end: usize) {
        let end = end.min(self.chars.len());
        if end > self.read {
            self.chars.copy_within(self.read..end, self.write);
            self.write += end - self.read;
            self.read = end;
        }
    }

    /// Consumes the input before `end` without output.
    pub(super) fn skip_until(&mut self, end: usize) {
        self.read = self.read.max(end.min(self.chars.len()));
    }

    /// Appends a char made from input already consumed. The bound check cannot fail given
    /// that; it only keeps a bug from overwriting unread input.
    pub(super) fn emit(&mut self, ch: Option<Ch>) {
        if let Some(ch) = ch.filter(|_| self.write < self.read) {
            self.chars[self.write] = ch;
            self.write += 1;
        }
    }

    pub(super) fn unemit_space(&mut self) {
        if self.output().last().is_some_and(|ch| ch.c == ' ') {
            self.write -= 1;
        }
    }

    pub(super) fn finish(mut self) {
        self.keep_until(usize::MAX);
        self.chars.truncate(self.write);
    }
}

/// Hiragana, katakana, the long mark, common kanji and 々〆〇: the bulk of a Japanese posting.
/// They are NFKC-stable, caseless, visible, letters and never symbols, so every stage can
/// pass them through without a Unicode table lookup.
#[inline]
pub(super) fn is_kana_or_kanji(c: char) -> bool {
    matches!(c, '\u{3005}'..='\u{3007}' | '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{30FC}'..='\u{30FE}' | '\u{4E00}'..='\u{9FEF}')
}

/// Blocks of arrows, shapes, miscellaneous symbols and emoji (→ ■ ★ ♥ ⭐ 🔥): symbols
/// through and through, NFKC-stable and caseless, so they too skip the tables, which
/// matters to a posting decorated with hundreds of them.
#[inline]
pub(super) fn is_symbol_block(c: char) -> bool {
    matches!(c, '\u{2190}'..='\u{21FF}' | '\u{2500}'..='\u{26FF}' | '\u{2B00}'..='\u{2BFF}' | '\u{1F300}'..='\u{1FAFF}')
}

/// Arrows point at what follows (`LINE→abc`), so they separate rather than decorate:
/// unlike other symbols they are kept even between letters.
#[inline]
pub(super) fn is_arrow(c: char) -> bool {
    matches!(c, '\u{2190}'..='\u{21FF}' | '\u{27A1}' | '\u{27F5}'..='\u{27FF}' | '\u{2B05}'..='\u{2B07}')
}

/// Japanese punctuation and brackets (、。「」【】・〜): frequent, NFKC-stable, caseless,
/// visible, and neither letters nor symbols; fast-pathed like [`is_kana_or_kanji`].
#[inline]
pub(super) fn is_japanese_punctuation(c: char) -> bool {
    matches!(c, '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301F}' | '・')
}

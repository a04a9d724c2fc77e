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
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

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

/// One char of the text being normalised and the original byte span it came from. Offsets
/// are u32 to keep the vector small (it is read and written by every stage).
#[derive(Clone, Copy, Debug)]
struct Ch {
    c: char,
    start: u32,
    end: u32,
}

impl Ch {
    fn with(self, c: char) -> Self {
        Self { c, ..self }
    }
}

fn widen(offset: u32) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

fn narrow(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
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

/// `c` carrying the union of the spans of `from`, or `None` if `from` is empty.
fn merged<'a>(c: char, from: impl IntoIterator<Item = &'a Ch>) -> Option<Ch> {
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
fn slice(v: &[Ch], range: Range<usize>) -> &[Ch] {
    v.get(range).unwrap_or(&[])
}

/// Length in chars of `word` if `v[i..]` starts with it.
fn matches_at(v: &[Ch], i: usize, word: &str) -> Option<usize> {
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
struct Compactor<'a> {
    chars: &'a mut Vec<Ch>,
    write: usize,
    read: usize,
}

impl<'a> Compactor<'a> {
    fn new(chars: &'a mut Vec<Ch>) -> Self {
        Self {
            chars,
            write: 0,
            read: 0,
        }
    }

    /// The whole buffer; only indices from `read` on are still input.
    fn all(&self) -> &[Ch] {
        self.chars
    }

    fn get(&self, i: usize) -> Option<Ch> {
        self.chars.get(i).copied()
    }

    fn output(&self) -> &[Ch] {
        slice(self.chars, 0..self.write)
    }

    fn input(&self) -> &[Ch] {
        slice(self.chars, self.read..self.chars.len())
    }

    /// Consumes the input before `end` as it is.
    fn keep_until(&mut self, end: usize) {
        let end = end.min(self.chars.len());
        if end > self.read {
            self.chars.copy_within(self.read..end, self.write);
            self.write += end - self.read;
            self.read = end;
        }
    }

    /// Consumes the input before `end` without output.
    fn skip_until(&mut self, end: usize) {
        self.read = self.read.max(end.min(self.chars.len()));
    }

    /// Appends a char made from input already consumed. The bound check cannot fail given
    /// that; it only keeps a bug from overwriting unread input.
    fn emit(&mut self, ch: Option<Ch>) {
        if let Some(ch) = ch.filter(|_| self.write < self.read) {
            self.chars[self.write] = ch;
            self.write += 1;
        }
    }

    fn unemit_space(&mut self) {
        if self.output().last().is_some_and(|ch| ch.c == ' ') {
            self.write -= 1;
        }
    }

    fn finish(mut self) {
        self.keep_until(usize::MAX);
        self.chars.truncate(self.write);
    }
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

/// Hiragana, katakana, the long mark, common kanji and 々〆〇: the bulk of a Japanese posting.
/// They are NFKC-stable, caseless, visible, letters and never symbols, so every stage can
/// pass them through without a Unicode table lookup.
#[inline]
fn is_kana_or_kanji(c: char) -> bool {
    matches!(c, '\u{3005}'..='\u{3007}' | '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{30FC}'..='\u{30FE}' | '\u{4E00}'..='\u{9FEF}')
}

/// Blocks of arrows, shapes, miscellaneous symbols and emoji (→ ■ ★ ♥ ⭐ 🔥): symbols
/// through and through, NFKC-stable and caseless, so they too skip the tables, which
/// matters to a posting decorated with hundreds of them.
#[inline]
fn is_symbol_block(c: char) -> bool {
    matches!(c, '\u{2190}'..='\u{21FF}' | '\u{2500}'..='\u{26FF}' | '\u{2B00}'..='\u{2BFF}' | '\u{1F300}'..='\u{1FAFF}')
}

/// Arrows point at what follows (`LINE→abc`), so they separate rather than decorate:
/// unlike other symbols they are kept even between letters.
#[inline]
fn is_arrow(c: char) -> bool {
    matches!(c, '\u{2190}'..='\u{21FF}' | '\u{27A1}' | '\u{27F5}'..='\u{27FF}' | '\u{2B05}'..='\u{2B07}')
}

/// Japanese punctuation and brackets (、。「」【】・〜): frequent, NFKC-stable, caseless,
/// visible, and neither letters nor symbols; fast-pathed like [`is_kana_or_kanji`].
#[inline]
fn is_japanese_punctuation(c: char) -> bool {
    matches!(c, '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301F}' | '・')
}

// ---------------------------------------------------------------------------------------
// Stages 1-5, fused: NFKC, case folding, invisible chars and whitespace, look-alikes,
// emoji separators. Each char flows from one `push_*` step to the next.

/// Whether `c` must be normalised together with the char before it. Combining marks and
/// chars that may compose with their predecessor (NFKC quick check "Maybe") do; the
/// half-width voiced marks are listed explicitly because their quick check is "No" (they
/// decompose to the combining marks U+3099/U+309A only during normalisation), yet `ｶﾞ`
/// must come out as one `ガ`.
#[inline]
fn joins_previous(c: char) -> bool {
    // ASCII, Japanese, and full-width and half-width forms other than the voiced marks are
    // starters that never compose with what precedes them.
    if c.is_ascii()
        || is_kana_or_kanji(c)
        || is_japanese_punctuation(c)
        || is_symbol_block(c)
        || matches!(c, '\u{FF01}'..='\u{FF9D}' | '\u{FFA0}'..='\u{FFEF}')
    {
        return false;
    }
    matches!(c, '\u{FF9E}' | '\u{FF9F}' | '\u{3099}' | '\u{309A}')
        || canonical_combining_class(c) != 0
        || is_nfkc_quick(std::iter::once(c)) == IsNormalized::Maybe
}

/// NFKC of a char standing alone, where it needs no table: it is its own NFKC, or a
/// full-width ASCII char (the commonest evasion), which is plain ASCII shifted.
#[inline]
fn nfkc_without_tables(c: char) -> Option<char> {
    if c.is_ascii() || is_kana_or_kanji(c) || is_japanese_punctuation(c) || is_symbol_block(c) {
        Some(c)
    } else if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        char::from_u32(u32::from(c) - 0xFEE0)
    } else {
        None
    }
}

/// A base char and the marks that follow it: (start, end, base char, has marks).
type Group = (usize, usize, char, bool);

fn fold_stage(original: &str) -> Vec<Ch> {
    let mut out = Folded {
        chars: Vec::with_capacity(original.len()),
        pending_space: None,
        symbol_run: None,
    };
    let mut group: Option<Group> = None;
    for (i, c) in original.char_indices() {
        let end = i + c.len_utf8();
        if let Some(g) = group.as_mut() {
            if joins_previous(c) {
                g.1 = end;
                g.3 = true;
                continue;
            }
        }
        if let Some(g) = group.take() {
            out.push_group(original, g);
        }
        group = Some((i, end, c, false));
    }
    if let Some(g) = group {
        out.push_group(original, g);
    }
    out.chars
}

/// Output of stages 1-5 being built.
struct Folded {
    chars: Vec<Ch>,
    /// A run of whitespace seen but not yet emitted: it becomes one space if a visible
    /// char follows, and nothing at the end (trimmed).
    pending_space: Option<Ch>,
    /// Index in `chars` of the first symbol of a run of symbols (and spaces) not yet
    /// followed by anything else: whether it is filler is known only when the next char
    /// arrives.
    symbol_run: Option<usize>,
}

/// What stage 5 needs to know about a visible char.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A letter or digit of any script.
    Word,
    /// An emoji or symbol that may be filler.
    Symbol,
    Other,
}

impl Folded {
    /// Stage 1: NFKC of one base char with its marks.
    #[inline(always)]
    fn push_group(&mut self, original: &str, (start, end, c, has_marks): Group) {
        let (start32, end32) = (narrow(start), narrow(end));
        if !has_marks {
            // Most chars need no normaliser call at all.
            let stable = || is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes;
            if let Some(n) = nfkc_without_tables(c).or_else(|| stable().then_some(c)) {
                self.push_nfkc(Ch {
                    c: n,
                    start: start32,
                    end: end32,
                });
                return;
            }
        }
        let group = original.get(start..end).unwrap_or_default();
        for n in group.chars().nfkc() {
            self.push_nfkc(Ch {
                c: n,
                start: start32,
                end: end32,
            });
        }
    }

    /// Stage 2: case folding of one NFKC'd char.
    #[inline(always)]
    fn push_nfkc(&mut self, ch: Ch) {
        let c = ch.c;
        if c.is_ascii_graphic() {
            // Visible ASCII: nothing for stages 3-4 to do.
            let class = if c.is_ascii_alphanumeric() {
                Class::Word
            } else {
                Class::Other
            };
            self.push_visible(ch.with(c.to_ascii_lowercase()), class);
        } else if is_kana_or_kanji(c) {
            self.push_visible(ch, Class::Word);
        } else if is_japanese_punctuation(c) || is_arrow(c) {
            self.push_visible(ch, Class::Other);
        } else if is_symbol_block(c) {
            self.push_visible(ch, Class::Symbol);
        } else if c.is_ascii() {
            self.push_lowercase(ch);
        } else if let Some(latin) = capital_homoglyph(c) {
            self.push_lowercase(ch.with(latin));
        } else {
            for l in c.to_lowercase() {
                self.push_lowercase(ch.with(l));
            }
        }
    }

    /// Stage 3: drop invisible and control chars, collapse and trim whitespace; then
    /// stage 4's per-char folding and the class stage 5 needs.
    fn push_lowercase(&mut self, ch: Ch) {
        if ch.c.is_whitespace() {
            self.pending_space = merged(' ', self.pending_space.iter().chain([&ch]));
            return;
        }
        if ch.c.is_control() || is_invisible(ch.c) || is_stray_mark(ch.c) {
            return;
        }
        let c = fold_look_alike(ch.c);
        let class = if c.is_alphanumeric() {
            Class::Word
        } else if is_symbol(c) {
            Class::Symbol
        } else {
            Class::Other
        };
        self.push_visible(ch.with(c), class);
    }

    /// Stage 4's rule with a neighbour, and stage 5: both look back at the output (final
    /// as far as they are concerned) when the char after arrives.
    #[inline(always)]
    fn push_visible(&mut self, ch: Ch, class: Class) {
        if class == Class::Symbol {
            self.flush_space();
            self.symbol_run = self.symbol_run.or(Some(self.chars.len()));
            self.chars.push(ch);
            return;
        }
        if let Some(run) = self.symbol_run.take() {
            if class == Class::Word && self.word_before(run) {
                // Symbols between two letters or digits (`t⭐a⭐k⭐a`) are filler: drop
                // them with the spaces around them.
                self.chars.truncate(run);
                if self.chars.last().is_some_and(|ch| ch.c == ' ') {
                    self.chars.pop();
                }
                self.pending_space = None;
            }
        }
        self.flush_space();
        // The long mark doubles as a dash between digits (090ー1234) but is a vowel in
        // words (ラーメン).
        if ch.c.is_ascii_digit() {
            if let [.., before, mark] = self.chars.as_mut_slice() {
                if mark.c == 'ー' && before.c.is_ascii_digit() {
                    mark.c = '-';
                }
            }
        }
        self.chars.push(ch);
    }

    /// Whether the char before `chars[run]`, looking past one space, is a letter or digit.
    fn word_before(&self, run: usize) -> bool {
        let before = slice(&self.chars, 0..run);
        let mut back = before.iter().rev();
        let left = match back.next() {
            Some(ch) if ch.c == ' ' => back.next(),
            other => other,
        };
        left.is_some_and(|ch| ch.c.is_alphanumeric())
    }

    #[inline(always)]
    fn flush_space(&mut self) {
        if let Some(space) = self.pending_space.take() {
            // Leading whitespace is trimmed by never emitting it.
            if !self.chars.is_empty() {
                self.chars.push(space);
            }
        }
    }
}

/// Capital Greek and Cyrillic letters that look like a Latin capital but whose lowercase
/// form looks like a different Latin letter (or none), folded before lowercasing.
fn capital_homoglyph(c: char) -> Option<char> {
    Some(match c {
        'Α' | 'А' => 'a',
        'Β' | 'В' => 'b',
        'С' | 'Ϲ' => 'c',
        'Ε' | 'Е' => 'e',
        'Η' | 'Н' => 'h',
        'Ι' | 'І' | 'Ӏ' => 'i',
        'Ј' => 'j',
        'Κ' | 'К' => 'k',
        'Μ' | 'М' => 'm',
        'Ν' => 'n',
        'Ο' | 'О' => 'o',
        'Ρ' | 'Р' => 'p',
        'Ѕ' => 's',
        'Τ' | 'Т' => 't',
        'Υ' | 'Ү' => 'y',
        'Χ' | 'Х' => 'x',
        'Ζ' => 'z',
        _ => return None,
    })
}

/// Chars that render as nothing and exist in a posting only to split a keyword.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                      // soft hyphen
        | '\u{061C}'                    // Arabic letter mark
        | '\u{115F}' | '\u{1160}'       // Hangul fillers (NFKC target of U+3164, U+FFA0)
        | '\u{17B4}' | '\u{17B5}'       // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'       // Mongolian variation selectors and vowel separator
        | '\u{200B}'..='\u{200F}'       // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'       // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'       // word joiner, invisible operators, bidi isolates
        | '\u{3164}' | '\u{FFA0}'       // Hangul fillers
        | '\u{FE00}'..='\u{FE0F}'       // variation selectors
        | '\u{FEFF}'                    // BOM / zero-width no-break space
        | '\u{E0000}'..='\u{E007F}'     // tag characters
        | '\u{E0100}'..='\u{E01EF}'     // variation selectors supplement
    )
}

/// Combining marks still standing alone after NFKC: diacritic stacks, underline and
/// strike-through overlays (`l̲i̲n̲e̲`), the keycap enclosure of `0️⃣`. Marks that compose
/// (`é`, `ガ`) are already part of a precomposed char by now, so only the decoration goes.
/// The kana voiced marks are kept: an uncomposable `あ゙` is odd but not an evasion.
fn is_stray_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
    )
}

/// Stage 4 for one char: look-alike letters, accents, dashes and at signs to ASCII.
fn fold_look_alike(c: char) -> char {
    if c.is_ascii() {
        c
    } else if is_dash(c) {
        '-'
    } else if c == '＠' || c == '﹫' {
        '@'
    } else {
        small_homoglyph(c)
            .or_else(|| strip_latin_accent(c))
            .unwrap_or(c)
    }
}

/// Small Cyrillic, Greek and Latin-extension letters that pass for a Latin letter.
fn small_homoglyph(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' | 'ɑ' | 'ά' => 'a',
        'в' | 'β' | 'ь' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' | 'đ' => 'd',
        'е' | 'ё' | 'ε' | 'έ' => 'e',
        'ɡ' => 'g',
        'һ' | 'н' | 'ħ' => 'h',
        'і' | 'ї' | 'ι' | 'ί' | 'ı' | 'ɩ' => 'i',
        'ј' | 'ϳ' | 'ȷ' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' | 'ł' => 'l',
        'м' => 'm',
        'п' | 'η' | 'ή' => 'n',
        'о' | 'ο' | 'ό' | 'ø' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ύ' | 'μ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' | 'ώ' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'ў' | 'ү' | 'γ' => 'y',
        _ => return None,
    })
}

/// Accented Latin letters (`í`, `ñ`) to their base letter: an accent is enough to dodge
/// an exact keyword match but changes nothing for a reader.
fn strip_latin_accent(c: char) -> Option<char> {
    if !('\u{00C0}'..='\u{024F}').contains(&c) {
        return None;
    }
    let mut base = None;
    decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        }
    });
    base.filter(|b| b.is_ascii_alphabetic())
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'
            ..='\u{2015}'
                | '\u{2043}'
                | '\u{2212}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
    )
}

// ---------------------------------------------------------------------------------------
// Stage 5's symbol test (the dropping itself is in `Folded::push_visible`)

/// Symbols (General Category So, Sk, Sm) as the regex crate's Unicode tables know them;
/// std has no category lookup.
static SYMBOL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{So}\p{Sk}\p{Sm}]$").expect("the symbol pattern is valid"));

/// An emoji or symbol that can be used as filler between letters. ASCII symbols (+ = < >
/// | ~ ^ `) are not: they carry meaning in ordinary text. Nor are × and ÷, for `1920×1080`.
fn is_symbol(c: char) -> bool {
    if c < '\u{A6}'
        || is_kana_or_kanji(c)
        || is_japanese_punctuation(c)
        || is_arrow(c)
        || matches!(c, '×' | '÷')
    {
        return false;
    }
    if is_symbol_block(c) {
        return true;
    }
    // Letters, digits, spaces and combining marks are not symbols, and these checks are
    // cheaper than the regex.
    if c.is_alphanumeric() || c.is_whitespace() || canonical_combining_class(c) != 0 {
        return false;
    }
    let mut buf = [0u8; 4];
    SYMBOL.is_match(c.encode_utf8(&mut buf))
}

// ---------------------------------------------------------------------------------------
// Stage 6: spaced, dotted and line-broken singles

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// Kana and kanji.
    Japanese,
    /// Everything else that makes up words: Latin letters, digits, `_`, `@`.
    Other,
}

fn is_japanese(c: char) -> bool {
    matches!(c,
        '\u{3005}'..='\u{3007}'     // 々 〆 〇
        | '\u{3041}'..='\u{30FF}'   // hiragana, katakana, ー
        | '\u{31F0}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3FFFF}'
    )
}

fn word_script(c: char) -> Option<Script> {
    if c.is_ascii() {
        (c.is_ascii_alphanumeric() || c == '_' || c == '@').then_some(Script::Other)
    } else if is_kana_or_kanji(c) {
        Some(Script::Japanese)
    } else if is_japanese_punctuation(c) {
        None
    } else if is_japanese(c) {
        Some(Script::Japanese)
    } else if c.is_alphanumeric() {
        Some(Script::Other)
    } else {
        None
    }
}

/// Separator chars that may stand between spaced-out singles; the index (1..=7) keys a
/// separator run for counting which run is the chain's usual one.
fn joiner_index(c: char) -> Option<u16> {
    Some(match c {
        ' ' => 1,
        '.' => 2,
        '・' => 3,
        '-' => 4,
        ',' => 5,
        '/' => 6,
        '|' => 7,
        _ => return None,
    })
}

/// A run of at most three separators encodes to a key below 512 (three base-8 digits).
const SEP_KEYS: usize = 512;

fn rejoin_singles(chars: &mut Vec<Ch>) {
    let n = chars.len();
    let scripts: Vec<Option<Script>> = chars.iter().map(|ch| word_script(ch.c)).collect();
    let script = |i: usize| scripts.get(i).copied().flatten();
    // A single is a one-char word. A neighbour of another script counts as a boundary, so
    // that the `E` of `L I N Eで` is a single: Japanese runs straight on after Latin text.
    let is_single = |i: usize| {
        let Some(s) = script(i) else {
            return false;
        };
        script(i + 1) != Some(s) && i.checked_sub(1).is_none_or(|j| script(j) != Some(s))
    };

    let mut text = Compactor::new(chars);
    // Separator runs of the chain being read: (start, end, key).
    let mut seps: Vec<(usize, usize, u16)> = Vec::new();
    let mut i = 0;
    while i < n {
        if !is_single(i) {
            i += 1;
            continue;
        }
        seps.clear();
        let mut last = i;
        loop {
            let mut j = last + 1;
            let mut key = 0u16;
            while j <= last + 3 {
                match text.get(j).and_then(|ch| joiner_index(ch.c)) {
                    Some(k) => key = key * 8 + k,
                    None => break,
                }
                j += 1;
            }
            // A chain keeps to one script: `l.i.n.e で` is a word and a particle.
            if j > last + 1 && is_single(j) && script(j) == script(i) {
                seps.push((last + 1, j, key));
                last = j;
            } else {
                break;
            }
        }
        if seps.len() < 2 {
            i = last + 1;
            continue;
        }
        // The separator the poster used throughout is filler and goes; one that differs
        // from it was meant (`0 9 0 - 1 2 3 4`, `g m a i l . c o m`) and keeps its
        // non-space chars, so phone numbers and addresses keep their shape.
        let mut counts = [0u32; SEP_KEYS];
        let mut usual = 0u16;
        for &(_, _, key) in &seps {
            let idx = usize::from(key) % SEP_KEYS;
            counts[idx] += 1;
            if counts[idx] > counts[usize::from(usual) % SEP_KEYS] {
                usual = key;
            }
        }
        text.keep_until(i + 1);
        for &(start, end, key) in &seps {
            for k in start..end {
                if let Some(sep) = text.get(k).filter(|ch| key != usual && ch.c != ' ') {
                    text.skip_until(k + 1);
                    text.emit(Some(sep));
                }
            }
            text.skip_until(end);
            text.keep_until(end + 1);
        }
        i = last + 1;
    }
    text.finish();
}

// ---------------------------------------------------------------------------------------
// Stage 7: kanji and kana digits

#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Ascii,
    /// `circle` marks 〇, which doubles as the placeholder mark in templates (〇〇〇-〇〇〇〇).
    Kanji {
        circle: bool,
    },
    /// `weak` marks words that are also everyday particles or suffixes (に, ご, さん).
    Kana {
        weak: bool,
    },
}

#[derive(Clone, Copy)]
struct DigitToken {
    at: usize,
    len: usize,
    digit: char,
    kind: TokenKind,
}

fn kanji_digit(c: char) -> Option<char> {
    Some(match c {
        '〇' | '零' => '0',
        '一' => '1',
        '二' => '2',
        '三' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' => '7',
        '八' => '8',
        '九' => '9',
        _ => return None,
    })
}

/// Kana digit words starting with `first`, longest first: (word, digit, weak).
fn kana_digit_words(first: char) -> &'static [(&'static str, char, bool)] {
    match first {
        'ぜ' => &[("ぜろ", '0', false)],
        'ゼ' => &[("ゼロ", '0', false)],
        'れ' => &[("れい", '0', false)],
        'レ' => &[("レイ", '0', false)],
        'ま' => &[("まる", '0', false)],
        'マ' => &[("マル", '0', false)],
        'い' => &[("いち", '1', false)],
        'イ' => &[("イチ", '1', false)],
        'に' => &[("に", '2', true)],
        'ニ' => &[("ニ", '2', true)],
        'さ' => &[("さん", '3', true)],
        'サ' => &[("サン", '3', true)],
        'よ' => &[("よん", '4', false)],
        'ヨ' => &[("ヨン", '4', false)],
        'ご' => &[("ご", '5', true)],
        'ゴ' => &[("ゴ", '5', true)],
        'ろ' => &[("ろく", '6', false)],
        'ロ' => &[("ロク", '6', false)],
        'な' => &[("なな", '7', false)],
        'ナ' => &[("ナナ", '7', false)],
        'し' => &[("しち", '7', false)],
        'シ' => &[("シチ", '7', false)],
        'は' => &[("はち", '8', false)],
        'ハ' => &[("ハチ", '8', false)],
        'き' => &[("きゅう", '9', false), ("きゅー", '9', false)],
        'キ' => &[("キュウ", '9', false), ("キュー", '9', false)],
        _ => &[],
    }
}

fn digit_token(chars: &[Ch], at: usize) -> Option<DigitToken> {
    let c = chars.get(at)?.c;
    if c.is_ascii_digit() {
        return Some(DigitToken {
            at,
            len: 1,
            digit: c,
            kind: TokenKind::Ascii,
        });
    }
    // Everything below 〇 (U+3007) but ASCII digits is no digit token.
    if c < '\u{3007}' {
        return None;
    }
    if let Some(digit) = kanji_digit(c) {
        let kind = TokenKind::Kanji { circle: c == '〇' };
        return Some(DigitToken {
            at,
            len: 1,
            digit,
            kind,
        });
    }
    kana_digit_words(c).iter().find_map(|&(word, digit, weak)| {
        let mut len = matches_at(chars, at, word)?;
        // A long mark after a kana reading is a drawn-out vowel (イチニーサン), not a dash.
        if chars.get(at + len).is_some_and(|ch| ch.c == 'ー') {
            len += 1;
        }
        let kind = TokenKind::Kana { weak };
        Some(DigitToken {
            at,
            len,
            digit,
            kind,
        })
    })
}

fn is_digit_separator(c: char) -> bool {
    matches!(c, ' ' | '・' | '-' | 'ー' | '、' | ',' | '.')
}

/// Whether a run of digit tokens reads as a number someone spelled out, rather than
/// ordinary words that happen to contain digit words (田中さんにご連絡, 二、三日, いちご).
fn is_spelled_number(run: &[DigitToken]) -> bool {
    let n = run.len();
    let spelled = run.iter().filter(|t| t.kind != TokenKind::Ascii).count();
    let kana = run
        .iter()
        .filter(|t| matches!(t.kind, TokenKind::Kana { .. }))
        .count();
    let weak = run
        .iter()
        .filter(|t| t.kind == TokenKind::Kana { weak: true })
        .count();
    // A plain ASCII number is left exactly as written (3.14, 1,000).
    if spelled == 0 {
        return false;
    }
    // 〇〇〇-〇〇〇〇 and 〇〇さん are placeholders in templates, not phone numbers.
    let placeholder = run.iter().all(|t| {
        matches!(
            t.kind,
            TokenKind::Kanji { circle: true } | TokenKind::Kana { weak: true }
        )
    });
    if placeholder {
        return false;
    }
    if kana == 0 {
        // One kanji among ASCII digits is usually a word (100一般), two are a pattern.
        n >= 3 && spelled >= 2
    } else {
        // Kana digit words are also ordinary words, so ask for more of them; three are
        // enough only when none is a particle (ゼロキューゼロ, not さんにご).
        spelled >= 3 && (n >= 4 || (n == 3 && weak == 0))
    }
}

fn convert_digit_words(chars: &mut Vec<Ch>) {
    let n = chars.len();
    let mut text = Compactor::new(chars);
    let mut run: Vec<DigitToken> = Vec::new();
    let mut i = 0;
    while i < n {
        let Some(first) = digit_token(text.all(), i) else {
            i += 1;
            continue;
        };
        run.clear();
        run.push(first);
        let mut end = i + first.len;
        loop {
            let mut k = end;
            while k < end + 3 && text.get(k).is_some_and(|ch| is_digit_separator(ch.c)) {
                k += 1;
            }
            match digit_token(text.all(), k) {
                // に, ご and さん join a run only straight after another kana digit word
                // (いちにさん) or straight before one (・ごろく); otherwise they are the
                // particles of the sentence (〇九〇… に夜かけて).
                Some(t)
                    if t.kind == (TokenKind::Kana { weak: true })
                        && !(k == end
                            && matches!(
                                run.last().map(|r| r.kind),
                                Some(TokenKind::Kana { .. })
                            ))
                        && digit_token(text.all(), k + t.len).is_none() =>
                {
                    break
                }
                Some(t) => {
                    run.push(t);
                    end = k + t.len;
                }
                None => break,
            }
        }
        if !is_spelled_number(&run) {
            i = end;
            continue;
        }
        text.keep_until(i);
        let mut prev_end = None;
        for t in &run {
            if let Some(p) = prev_end {
                // Spaces between digits were filler; a dot, comma or dash was a grouping.
                let between = slice(text.all(), p..t.at);
                let mark = merged('-', between.iter().filter(|ch| ch.c != ' '));
                text.skip_until(t.at);
                text.emit(mark);
            }
            let digit = merged(t.digit, slice(text.all(), t.at..t.at + t.len));
            text.skip_until(t.at + t.len);
            text.emit(digit);
            prev_end = Some(t.at + t.len);
        }
        i = end;
    }
    text.finish();
}

// ---------------------------------------------------------------------------------------
// Stage 8: at and dot words
//
// The matchers look at `left`, the output so far (so a neighbour is what the text reads
// like after earlier replacements), and `rest`, the input from the current char on.

fn is_opener(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '{' | '<' | '【' | '〈' | '《' | '「' | '『' | '〔' | '≪'
    )
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '}' | '>' | '】' | '〉' | '》' | '」' | '』' | '〕' | '≫'
    )
}

/// Words that mean `@` or `.` when bracketed; brackets make them unambiguous.
const BRACKETED: &[(&str, &str)] = &[
    ("at mark", "@"),
    ("atmark", "@"),
    ("at", "@"),
    ("アットマーク", "@"),
    ("アット", "@"),
    ("あっとまーく", "@"),
    ("あっと", "@"),
    ("dot", "."),
    ("ドット", "."),
    ("どっと", "."),
    ("period", "."),
    ("ピリオド", "."),
    ("ぴりおど", "."),
];

fn skip_space(chars: &[Ch], i: usize) -> usize {
    if chars.get(i).is_some_and(|ch| ch.c == ' ') {
        i + 1
    } else {
        i
    }
}

/// The last char of `left`, looking past one space (whitespace is already collapsed).
fn char_before_word(left: &[Ch]) -> Option<char> {
    let mut back = left.iter().rev();
    match back.next()?.c {
        ' ' => back.next().map(|ch| ch.c),
        c => Some(c),
    }
}

/// Whether the word `rest[..end]` sits between two ASCII letters or digits.
fn between_ascii_words(left: &[Ch], rest: &[Ch], end: usize) -> bool {
    let right = rest.get(skip_space(rest, end)).map(|ch| ch.c);
    char_before_word(left).is_some_and(|c| c.is_ascii_alphanumeric())
        && right.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Whether `rest[..end]` is a whole ASCII word, not part of `format` or `dotted`.
fn is_whole_ascii_word(left: &[Ch], rest: &[Ch], end: usize) -> bool {
    let outside = |ch: Option<&Ch>| !ch.is_some_and(|ch| ch.c.is_ascii_alphanumeric());
    outside(left.last()) && outside(rest.get(end))
}

/// `(at)`, `[dot]`, `（アット）`...: length matched and replacement.
fn bracketed_word(rest: &[Ch]) -> Option<(usize, &'static str)> {
    if !is_opener(rest.first()?.c) {
        return None;
    }
    let j = skip_space(rest, 1);
    BRACKETED.iter().find_map(|&(word, replacement)| {
        let k = skip_space(rest, j + matches_at(rest, j, word)?);
        is_closer(rest.get(k)?.c).then_some((k + 1, replacement))
    })
}

/// A bare dot word between two ASCII words: `example dot com`, `exampleドットcom`, but not
/// `ドット絵` or `polka-dotted`. `ドットコム` after an ASCII word is `.com` as a whole.
fn bare_dot_word(left: &[Ch], rest: &[Ch]) -> Option<(usize, &'static str)> {
    let dot_between = |word: &str| {
        let end = matches_at(rest, 0, word)?;
        between_ascii_words(left, rest, end).then_some((end, "."))
    };
    match rest.first()?.c {
        'd' => dot_between("dot").filter(|&(end, _)| is_whole_ascii_word(left, rest, end)),
        'ド' | 'ど' => {
            let after_ascii = char_before_word(left).is_some_and(|c| c.is_ascii_alphanumeric());
            ["ドットコム", "どっとこむ"]
                .iter()
                .find_map(|com| matches_at(rest, 0, com).filter(|_| after_ascii))
                .map(|end| (end, ".com"))
                .or_else(|| dot_between("ドット"))
                .or_else(|| dot_between("どっと"))
        }
        'ピ' => dot_between("ピリオド"),
        'ぴ' => dot_between("ぴりおど"),
        _ => None,
    }
}

/// The English word `at` becomes `@` only in a spelled-out address, `x at y dot z`;
/// `see you at home` and `available at example.com` stay English.
fn english_at(left: &[Ch], rest: &[Ch]) -> Option<(usize, &'static str)> {
    let end = matches_at(rest, 0, "at")?;
    let spaced =
        left.last().is_some_and(|ch| ch.c == ' ') && rest.get(end).is_some_and(|ch| ch.c == ' ');
    if !spaced || !between_ascii_words(left, rest, end) {
        return None;
    }
    let word_start = end + 1;
    let mut k = word_start;
    while rest
        .get(k)
        .is_some_and(|ch| ch.c.is_ascii_alphanumeric() || ch.c == '-' || ch.c == '_')
    {
        k += 1;
    }
    let (before_dot, from_dot) = rest.split_at_checked(skip_space(rest, k))?;
    let dot = bracketed_word(from_dot)
        .or_else(|| bare_dot_word(before_dot, from_dot))
        .is_some_and(|(_, r)| r.starts_with('.'));
    (k > word_start && dot).then_some((end, "@"))
}

fn ja_at_word(left: &[Ch], rest: &[Ch], full: &str, short: &str) -> Option<(usize, &'static str)> {
    if let Some(end) = matches_at(rest, 0, full) {
        return Some((end, "@"));
    }
    let end = matches_at(rest, 0, short)?;
    between_ascii_words(left, rest, end).then_some((end, "@"))
}

fn at_dot_word(left: &[Ch], rest: &[Ch]) -> Option<(usize, &'static str)> {
    let c = rest.first()?.c;
    match c {
        // The full name of the sign is unambiguous; the short one is also the start of
        // アットホーム, so it counts only between ASCII words (taroアットexample).
        'ア' => ja_at_word(left, rest, "アットマーク", "アット"),
        'あ' => ja_at_word(left, rest, "あっとまーく", "あっと"),
        'a' => ["at mark", "atmark"]
            .iter()
            .find_map(|word| {
                let end = matches_at(rest, 0, word)?;
                (is_whole_ascii_word(left, rest, end) && between_ascii_words(left, rest, end))
                    .then_some((end, "@"))
            })
            .or_else(|| english_at(left, rest)),
        'd' | 'ド' | 'ど' | 'ピ' | 'ぴ' => bare_dot_word(left, rest),
        _ if is_opener(c) => bracketed_word(rest),
        _ => None,
    }
}

fn convert_at_dot_words(chars: &mut Vec<Ch>) {
    let n = chars.len();
    let mut text = Compactor::new(chars);
    let mut i = 0;
    while i < n {
        // Most chars cannot start an at or dot word; skip them without building slices.
        let starts_word = text.get(i).is_some_and(|ch| {
            matches!(ch.c, 'a' | 'd' | 'ア' | 'あ' | 'ド' | 'ど' | 'ピ' | 'ぴ') || is_opener(ch.c)
        });
        if !starts_word {
            i += 1;
            continue;
        }
        text.keep_until(i);
        let Some((len, replacement)) = at_dot_word(text.output(), text.input()) else {
            i += 1;
            continue;
        };
        // Addresses are written without spaces; the ones around the word were filler.
        text.unemit_space();
        let end = i + len.max(1);
        let word = merged('@', slice(text.all(), i..end));
        text.skip_until(skip_space(text.all(), end));
        for c in replacement.chars().take(end - i) {
            text.emit(word.map(|w| w.with(c)));
        }
        i = text.read.max(i + 1);
    }
    text.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).as_str().to_string()
    }

    /// The original text behind the first occurrence of `needle` in the normalised text:
    /// what a rule matching `needle` would quote as evidence.
    fn evidence<'a>(original: &'a str, needle: &str) -> &'a str {
        let n = normalize(original);
        let at = n
            .as_str()
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in {:?}", n.as_str()));
        let r = n.original_range(at..at + needle.len());
        &original[r]
    }

    /// What ordinary text must come out as: only width and case changed.
    fn width_and_case_only(s: &str) -> String {
        s.nfkc().collect::<String>().to_lowercase()
    }

    #[test]
    fn arrows_between_letters_are_kept_as_pointers() {
        assert_eq!(norm("Discord→masa_jp8117"), "discord→masa_jp8117");
        assert_eq!(evidence("ﾗｲﾝ→ kaseguyo77", "ライン→"), "ﾗｲﾝ→");
    }

    #[test]
    fn a_particle_after_a_spelled_number_stays_a_particle() {
        assert_eq!(
            norm("〇九〇五八〇五七一九五 に夜かけて"),
            "09058057195 に夜かけて"
        );
        assert_eq!(norm("〇九〇 ご確認ください"), "090 ご確認ください");
        // …but a particle-like digit word that starts a group still counts.
        assert_eq!(
            norm("ぜろきゅうぜろ・いちにさんよん・ごろくななはち"),
            "090-1234-5678"
        );
    }

    #[test]
    fn full_width_email_becomes_ascii() {
        let s = "連絡先：ｗｅｂ．ｓａｔｏｕ＠ｅｘａｍｐｌｅ．ｃｏｍ まで";
        assert_eq!(norm(s), "連絡先:web.satou@example.com まで");
        assert_eq!(
            evidence(s, "satou@example.com"),
            "ｓａｔｏｕ＠ｅｘａｍｐｌｅ．ｃｏｍ"
        );
    }

    #[test]
    fn half_width_katakana_becomes_full_width() {
        assert_eq!(norm("ﾌﾖｳ"), "フヨウ");
        assert_eq!(evidence("ｱﾌﾖｳﾋﾝ", "フヨウ"), "ﾌﾖｳ");
    }

    #[test]
    fn half_width_voiced_marks_compose_with_their_kana() {
        assert_eq!(norm("ｶﾞ"), "ガ");
        assert_eq!(norm("ﾊﾟｽﾜｰﾄﾞ"), "パスワード");
        assert_eq!(evidence("ｶﾞ", "ガ"), "ｶﾞ");
        assert_eq!(evidence("ﾊﾟｽﾜｰﾄﾞを送って", "ワード"), "ﾜｰﾄﾞ");
    }

    #[test]
    fn circled_and_maths_letters_become_plain() {
        assert_eq!(norm("ⓛⓘⓝⓔ"), "line");
        assert_eq!(norm("𝐋𝐈𝐍𝐄"), "line");
        assert_eq!(evidence("ID: 𝐋𝐈𝐍𝐄", "line"), "𝐋𝐈𝐍𝐄");
    }

    #[test]
    fn zero_width_chars_inside_a_word_are_dropped() {
        let s = "LI\u{200B}NE";
        assert_eq!(norm(s), "line");
        assert_eq!(evidence(s, "line"), s);
        assert_eq!(norm("l\u{2060}i\u{FEFF}n\u{00AD}e\u{200D}"), "line");
    }

    #[test]
    fn combining_overlays_are_dropped() {
        let s = "l\u{332}i\u{332}n\u{332}e\u{332}";
        assert_eq!(norm(s), "line");
        assert_eq!(evidence(s, "line"), s);
        assert_eq!(
            norm("0\u{FE0F}\u{20E3}9\u{FE0F}\u{20E3}0\u{FE0F}\u{20E3}"),
            "090"
        );
        // Marks that compose stay composed.
        assert_eq!(norm("Cafe\u{301}"), "cafe");
        assert_eq!(norm("ガ"), "ガ");
    }

    #[test]
    fn whitespace_collapses_to_single_spaces_and_is_trimmed() {
        let s = "\u{3000} 納期は\t\t三日\r\n\n ほど\u{00A0} ";
        assert_eq!(norm(s), "納期は 三日 ほど");
        assert_eq!(evidence(s, "は 三"), "は\t\t三");
    }

    #[test]
    fn control_chars_are_dropped() {
        let s = "li\u{0007}ne\u{007F}";
        assert_eq!(norm(s), "line");
        assert_eq!(evidence(s, "ine"), "i\u{0007}ne");
    }

    #[test]
    fn cyrillic_look_alike_letters_fold_to_latin() {
        let s = "Lіneで連絡"; // і is Cyrillic U+0456
        assert_eq!(norm(s), "lineで連絡");
        assert_eq!(evidence(s, "line"), "Lіne");
        assert_eq!(norm("ТЕLЕGRАМ"), "telegram"); // capital Cyrillic Т Е Е А М
        assert_eq!(norm("ΝΕΤ"), "net"); // capital Greek: Ν looks like N, not like ν
        assert_eq!(norm("ѕkуpе"), "skype");
    }

    #[test]
    fn accented_latin_letters_fold_to_their_base() {
        assert_eq!(norm("Lìñé"), "line");
        assert_eq!(evidence("Lìñé ID", "line"), "Lìñé");
    }

    #[test]
    fn unicode_dashes_become_ascii_hyphens() {
        let s = "090‐1234—5678 − 1";
        assert_eq!(norm(s), "090-1234-5678 - 1");
        assert_eq!(evidence(s, "4-5"), "4—5");
        assert_eq!(norm("＠"), "@");
        assert_eq!(norm("﹫"), "@");
    }

    #[test]
    fn long_mark_between_digits_becomes_a_hyphen() {
        let s = "電話090ー1234ー5678";
        assert_eq!(norm(s), "電話090-1234-5678");
        assert_eq!(evidence(s, "090-1234-5678"), "090ー1234ー5678");
        assert_eq!(norm("090ｰ1234ｰ5678"), "090-1234-5678");
        assert_eq!(evidence("090ｰ1234", "0-1"), "0ｰ1");
    }

    #[test]
    fn long_mark_in_words_stays() {
        assert_eq!(norm("ラーメン"), "ラーメン");
        assert_eq!(norm("ﾗｰﾒﾝ"), "ラーメン");
        assert_eq!(norm("サーバー5台"), "サーバー5台");
    }

    #[test]
    fn emoji_between_letters_are_dropped() {
        let s = "t⭐a⭐k⭐a";
        assert_eq!(norm(s), "taka");
        assert_eq!(evidence(s, "taka"), s);
        let s = "ｗｏｒｋ🔹ｌｕｃｋｙ🔹ｎｅｔ";
        assert_eq!(norm(s), "workluckynet");
        assert_eq!(evidence(s, "luckynet"), "ｌｕｃｋｙ🔹ｎｅｔ");
    }

    #[test]
    fn emoji_with_spaces_around_them_are_dropped_with_the_spaces() {
        let s = "l ♥ i ♥ n ♥ e";
        assert_eq!(norm(s), "line");
        assert_eq!(norm("0 ★ 9 ★ 0"), "090");
        assert_eq!(evidence("ID ｔ ★ ａ ☆ ｋ", "tak"), "ｔ ★ ａ ☆ ｋ");
    }

    #[test]
    fn emoji_sequences_joined_by_zwj_are_dropped_as_one_separator() {
        let s = "l👨\u{200D}👩\u{200D}👧ine";
        assert_eq!(norm(s), "line");
        assert_eq!(evidence(s, "line"), s);
    }

    #[test]
    fn emoji_not_between_letters_stay() {
        assert_eq!(norm("★5レビュー"), "★5レビュー");
        assert_eq!(norm("🔥 sale 🔥"), "🔥 sale 🔥");
        assert_eq!(norm("完成しました！✨"), "完成しました!✨");
        assert_eq!(norm("1920×1080"), "1920×1080");
    }

    #[test]
    fn spaced_letters_are_rejoined() {
        let s = "Ｌ Ｉ Ｎ Ｅで";
        assert_eq!(norm(s), "lineで");
        assert_eq!(evidence(s, "line"), "Ｌ Ｉ Ｎ Ｅ");
        assert_eq!(norm("マ イ ナ ン バ ー"), "マイナンバー");
        assert_eq!(
            evidence("私の マ イ ナ ン バ ー", "マイナンバー"),
            "マ イ ナ ン バ ー"
        );
    }

    #[test]
    fn dotted_letters_are_rejoined() {
        let s = "l.i.n.e で";
        assert_eq!(norm(s), "line で");
        assert_eq!(evidence(s, "line"), "l.i.n.e");
        assert_eq!(norm("L・I・N・E"), "line");
        assert_eq!(norm("l / i / n / e"), "line");
    }

    #[test]
    fn line_broken_letters_are_rejoined() {
        let s = "L\nI\nN\nE";
        assert_eq!(norm(s), "line");
        assert_eq!(evidence(s, "line"), s);
    }

    #[test]
    fn spaced_handle_with_at_and_underscore_is_rejoined() {
        let s = "@ k e n j i _ 9 9";
        assert_eq!(norm(s), "@kenji_99");
        assert_eq!(evidence(s, "kenji"), "k e n j i");
    }

    #[test]
    fn spaced_digits_are_rejoined() {
        let s = "電話 0 9 0 1 2 3 4 まで";
        assert_eq!(norm(s), "電話 0901234 まで");
        assert_eq!(evidence(s, "0901234"), "0 9 0 1 2 3 4");
    }

    #[test]
    fn a_separator_that_differs_from_the_filler_is_kept() {
        let s = "0 9 0 - 1 2 3 4";
        assert_eq!(norm(s), "090-1234");
        assert_eq!(evidence(s, "0-1"), "0 - 1");
        let s = "t a r o @ g m a i l . c o m";
        assert_eq!(norm(s), "taro@gmail.com");
        assert_eq!(evidence(s, "gmail.com"), "g m a i l . c o m");
    }

    #[test]
    fn multi_char_words_are_not_rejoined() {
        assert_eq!(norm("hello world"), "hello world");
        assert_eq!(norm("e.g. this"), "e.g. this");
        assert_eq!(norm("I am a designer"), "i am a designer");
        assert_eq!(norm("version 1.2 of it"), "version 1.2 of it");
    }

    #[test]
    fn kanji_digits_become_ascii_digits() {
        let s = "電話は〇九〇・一二三四・五六七八まで";
        assert_eq!(norm(s), "電話は090-1234-5678まで");
        assert_eq!(evidence(s, "090-1234-5678"), "〇九〇・一二三四・五六七八");
        assert_eq!(evidence(s, "1234"), "一二三四");
        assert_eq!(norm("零九零"), "090");
        assert_eq!(norm("〇九〇"), "090");
    }

    #[test]
    fn hiragana_digit_words_become_ascii_digits() {
        let s = "ぜろきゅうぜろ・いちにさんよん・ごろくななはち";
        assert_eq!(norm(s), "090-1234-5678");
        assert_eq!(evidence(s, "090"), "ぜろきゅうぜろ");
        assert_eq!(evidence(s, "9"), "きゅう");
        assert_eq!(norm("まるきゅうまる"), "090");
        // A drawn-out vowel is part of the reading, not a dash.
        assert_eq!(norm("いちにーさんよん"), "1234");
        assert_eq!(evidence("いちにーさんよん", "2"), "にー");
    }

    #[test]
    fn katakana_digit_words_become_ascii_digits() {
        let s = "ゼロキューゼロ";
        assert_eq!(norm(s), "090");
        assert_eq!(evidence(s, "9"), "キュー");
        let s = "ゼロキュウゼロ イチニサンヨン ゴロクナナハチ";
        assert_eq!(norm(s), "09012345678");
        assert_eq!(evidence(s, "01234"), "ゼロ イチニサンヨン");
    }

    #[test]
    fn mixed_digit_words_and_ascii_digits_become_one_number() {
        let s = "090いちにさんよん5678";
        assert_eq!(norm(s), "09012345678");
        assert_eq!(evidence(s, "0123"), "0いちにさん");
        assert_eq!(norm("〇9〇"), "090");
    }

    #[test]
    fn ordinary_words_containing_digit_words_stay() {
        for s in [
            "田中さんに",
            "ご依頼",
            "一緒に",
            "二、三日",
            "三日",
            "一度",
            "いちご",
            "田中さんにご連絡",
            "いちいち",
            "しちごさん",
            "ろくにごはんを食べない",
            "〇〇〇-〇〇〇〇-〇〇〇〇",
            "〇〇さん",
            "次回は3月に2000円",
            "予算は1,000円、3.14",
        ] {
            assert_eq!(norm(s), width_and_case_only(s), "{s}");
        }
    }

    #[test]
    fn bracketed_at_and_dot_words_become_symbols() {
        let s = "taro (at) example (dot) com";
        assert_eq!(norm(s), "taro@example.com");
        assert_eq!(evidence(s, "@"), "(at)");
        assert_eq!(evidence(s, "taro@example"), "taro (at) example");
        assert_eq!(norm("taro[at]example{dot}com"), "taro@example.com");
        assert_eq!(norm("taro{at}example[dot]com"), "taro@example.com");
        assert_eq!(norm("taro＜ａｔ＞example（ドット）com"), "taro@example.com");
        assert_eq!(
            norm("taro（アット）example（どっと）com"),
            "taro@example.com"
        );
        assert_eq!(norm("taro【アットマーク】example"), "taro@example");
    }

    #[test]
    fn japanese_at_mark_words_become_at() {
        let s = "taro あっとまーく example どっと com";
        assert_eq!(norm(s), "taro@example.com");
        assert_eq!(evidence(s, "@example."), "あっとまーく example どっと");
        assert_eq!(norm("taroアットマークexampleドットcom"), "taro@example.com");
        assert_eq!(norm("taro at mark example.com"), "taro@example.com");
        assert_eq!(
            norm("taroアットマークexampleドットコム"),
            "taro@example.com"
        );
    }

    #[test]
    fn short_japanese_at_word_between_ascii_words_becomes_at() {
        let s = "メールはtaroアットexampleドットcomまで";
        assert_eq!(norm(s), "メールはtaro@example.comまで");
        assert_eq!(evidence(s, "@"), "アット");
        assert_eq!(norm("taro あっと example"), "taro@example");
    }

    #[test]
    fn bare_dot_between_ascii_words_becomes_a_dot() {
        let s = "template-deals dot shop";
        assert_eq!(norm(s), "template-deals.shop");
        assert_eq!(evidence(s, "."), "dot");
        assert_eq!(norm("exampleドットcom"), "example.com");
    }

    #[test]
    fn english_at_becomes_at_only_in_a_spelled_out_address() {
        let s = "mail taro at example dot com please";
        assert_eq!(norm(s), "mail taro@example.com please");
        assert_eq!(evidence(s, "taro@example.com"), "taro at example dot com");
        assert_eq!(norm("see you at home at 5"), "see you at home at 5");
        assert_eq!(norm("available at example.com"), "available at example.com");
    }

    #[test]
    fn ordinary_words_containing_at_and_dot_stay() {
        for s in [
            "ドット絵を描きます",
            "アットホームな職場です",
            "アット驚く",
            "dot絵",
            "the format is dotted",
            "a dot.",
            "polkaドット",
        ] {
            assert_eq!(norm(s), width_and_case_only(s), "{s}");
        }
    }

    #[test]
    fn ordinary_japanese_text_changes_only_in_width_and_case() {
        let s = "はじめまして。ご依頼内容を拝見しました。私はＷｅｂデザイナーとして５年以上の経験があり、\
                 これまでに３０件以上のサイト制作を担当してきました。納期は二、三日ほどいただければ対応可能です。\
                 田中さんにご連絡いたします。一緒に良いものを作りましょう！よろしくお願いいたします。";
        assert_eq!(norm(s), width_and_case_only(s));
        assert_eq!(evidence(s, "web"), "Ｗｅｂ");
    }

    #[test]
    fn ordinary_english_text_changes_only_in_case() {
        let s = "Hello, I am a Web designer with 5 years of experience. I can start at once, \
                 e.g. this week. My rate is $30/hour (negotiable).";
        assert_eq!(norm(s), width_and_case_only(s));
    }

    #[test]
    fn a_posting_with_several_evasions_has_each_undone_and_quoted() {
        let s = "はじめまして！連絡はＬ Ｉ Ｎ Ｅで、IDは t⭐a⭐r⭐o です。\n\
                 電話は〇九〇ー一二三四ー五六七八、メールは taro (at) example (dot) com まで。";
        let n = norm(s);
        assert_eq!(
            n,
            "はじめまして!連絡はlineで、idは taro です。 \
             電話は090-1234-5678、メールは taro@example.com まで。"
        );
        assert_eq!(evidence(s, "line"), "Ｌ Ｉ Ｎ Ｅ");
        assert_eq!(evidence(s, "taro "), "t⭐a⭐r⭐o ");
        assert_eq!(evidence(s, "090-1234-5678"), "〇九〇ー一二三四ー五六七八");
        assert_eq!(
            evidence(s, "taro@example.com"),
            "taro (at) example (dot) com"
        );
    }

    #[test]
    fn empty_and_blank_inputs_give_empty_text() {
        for s in [
            "",
            " ",
            "\n\t \u{3000}",
            "\u{200B}\u{200D}\u{FEFF}",
            " \u{200B} \u{FE0F} ",
        ] {
            let n = normalize(s);
            assert_eq!(n.as_str(), "", "{s:?}");
            assert_eq!(n.original_range(0..0), 0..0);
            assert_eq!(n.original_range(0..5), 0..0);
        }
    }

    #[test]
    fn empty_ranges_map_to_empty_ranges_at_the_matching_place() {
        let s = "  ＡＢ　Ｃ ";
        let n = normalize(s);
        assert_eq!(n.as_str(), "ab c");
        assert_eq!(n.original_range(0..0), 2..2);
        assert_eq!(n.original_range(1..1), 5..5);
        assert_eq!(n.original_range(4..4), s.len() - 1..s.len() - 1);
        assert_eq!(n.original_range(3..4), 11..14);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let long_singles = "a ".repeat(10_000);
        let long_digits = "いち".repeat(10_000);
        let long_marks = format!("a{}", "\u{301}".repeat(20_000));
        let long_japanese = "ご連絡ください。".repeat(2_500);
        let long_emoji = "a⭐".repeat(10_000);
        let long_at = "x at ".repeat(4_000);
        let odd = [
            "\u{301}",
            "\u{301}\u{302}a",
            "\u{FF9E}",
            "\u{FF9E}\u{FF9F}ｶ",
            "\u{3099}",
            "\u{FFFD}",
            "a\u{FFFD}b",
            "\u{0}\u{1}\u{1F}",
            "(",
            "(at",
            "(at)",
            "at",
            " dot ",
            "ドット",
            "ー",
            "0ー",
            "ーー",
            "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "İ",
            "ﷺ",
            "㈱",
            "\u{10FFFF}",
            &long_singles,
            &long_digits,
            &long_marks,
            &long_japanese,
            &long_emoji,
            &long_at,
        ];
        for s in odd {
            let n = normalize(s);
            let len = n.as_str().len();
            let r = n.original_range(0..len);
            assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            // Out-of-contract ranges are clamped, not fatal.
            let _ = n.original_range(len + 5..len + 10);
            #[allow(clippy::reversed_empty_ranges)]
            let _ = n.original_range(3..1);
        }
        assert_eq!(norm(&long_singles).len(), 10_000);
        assert_eq!(norm(&long_digits), "1".repeat(10_000));
        assert_eq!(norm("İ"), "i");
    }

    /// Checks the map invariants over every pair of char boundaries of the normalised text.
    fn assert_map_is_sound(original: &str) {
        let n = normalize(original);
        let text = n.as_str();
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        for (x, &a) in bounds.iter().enumerate() {
            for &b in &bounds[x..] {
                let r = n.original_range(a..b);
                assert!(
                    r.start <= r.end && r.end <= original.len(),
                    "{original:?} {a}..{b} -> {r:?}"
                );
                assert!(
                    original.is_char_boundary(r.start) && original.is_char_boundary(r.end),
                    "{original:?} {a}..{b} -> {r:?}"
                );
                if a < b {
                    // Covers the first and the last char of the range (and, the map being
                    // monotone, everything between).
                    let last = bounds[x..]
                        .iter()
                        .rev()
                        .find(|&&p| p < b)
                        .copied()
                        .unwrap_or(a);
                    let first_char = n.original_range(a..bounds[x + 1]);
                    let last_char = n.original_range(last..b);
                    assert!(r.start <= first_char.start && last_char.end <= r.end);
                }
            }
        }
        let mut previous: Option<Range<usize>> = None;
        for w in bounds.windows(2) {
            let r = n.original_range(w[0]..w[1]);
            assert!(
                r.start < r.end,
                "{original:?}: char at {} maps to nothing",
                w[0]
            );
            if let Some(p) = previous {
                assert!(
                    p.start <= r.start && p.end <= r.end,
                    "{original:?}: {p:?} then {r:?}"
                );
            }
            previous = Some(r);
        }
    }

    #[test]
    fn original_ranges_are_char_boundaries_and_never_go_backwards() {
        let samples = [
            "ｗｅｂ．ｓａｔｏｕ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            "ﾌﾖｳ ｶﾞ ﾊﾟｽﾜｰﾄﾞ",
            "LI\u{200B}NE",
            "Ｌ Ｉ Ｎ Ｅで連絡",
            "l.i.n.e",
            "L\nI\nN\nE",
            "0 9 0 1 2 3 4",
            "マ イ ナ ン バ ー",
            "@ k e n j i _ 9 9",
            "t⭐a⭐k⭐a",
            "ｗｏｒｋ🔹ｌｕｃｋｙ🔹ｎｅｔ",
            "〇九〇・一二三四・五六七八",
            "ぜろきゅうぜろ・いちにさんよん・ごろくななはち",
            "ゼロキューゼロ イチニサンヨン",
            "taro (at) example (dot) com",
            "taro あっとまーく example どっと com",
            "template-deals dot shop",
            "mail taro at example dot com",
            "Lіne",
            "090ー1234ー5678",
            "ドット絵 アットホーム いちご 田中さんにご連絡 ★5",
            "  先頭と末尾の空白  ",
            "㈱テスト ㍻ ﬁle",
            "İstanbul",
            "l\u{332}i\u{332}n\u{332}e\u{332}",
            "0️⃣9️⃣0️⃣",
            "👨‍👩‍👧 family",
            "a\u{301}\u{302}\u{303}b",
            "\u{301}lone mark",
            "\u{FFFD}\u{FFFD}",
            "ΝΕΤ ТЕLЕGRАМ",
            "0 9 0 - 1 2 3 4",
            "t a r o @ g m a i l . c o m",
            "exampleドットコム",
            "ｔ ★ ａ ☆ ｋ",
            "電話は〇九〇ー一二三四",
            "",
            " ",
        ];
        for s in samples {
            assert_map_is_sound(s);
        }
    }

    #[test]
    fn random_mixtures_of_evasion_chars_keep_the_map_sound() {
        const ALPHABET: &[&str] = &[
            "a",
            "L",
            "ｌ",
            "Ｉ",
            " ",
            "　",
            "\n",
            ".",
            "・",
            "-",
            "ー",
            "ｰ",
            "⭐",
            "🔹",
            "\u{200B}",
            "\u{301}",
            "ﾞ",
            "ｶ",
            "ﾊ",
            "ﾟ",
            "0",
            "９",
            "〇",
            "九",
            "きゅう",
            "ぜろ",
            "に",
            "さん",
            "(",
            ")",
            "at",
            "dot",
            "ドット",
            "あっとまーく",
            "@",
            "_",
            "і",
            "Ν",
            "é",
            "㈱",
            "\u{FE0F}",
            "\u{20E3}",
            "、",
            "田",
            "\u{FFFD}",
            "\t",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..400 {
            let len = (next() % 24) as usize;
            let s: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            assert_map_is_sound(&s);
        }
    }
}

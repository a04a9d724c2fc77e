//! Stages 1-5, fused into one streaming pass: NFKC, case folding, invisible characters
//! and whitespace, look-alike letters, emoji separators.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use super::chars::*;

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

pub(super) fn fold_stage(original: &str) -> Vec<Ch> {
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

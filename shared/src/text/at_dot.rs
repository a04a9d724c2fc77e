//! Stage 8: `(at)`, `(dot)`, `あっとまーく`, `ドット` and friends to `@` and `.`.

use super::chars::*;

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

pub(super) fn convert_at_dot_words(chars: &mut Vec<Ch>) {
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

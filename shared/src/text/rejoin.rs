//! Stage 6: spaced, dotted and line-broken single letters and digits, rejoined.

use super::chars::*;

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

pub(super) fn rejoin_singles(chars: &mut Vec<Ch>) {
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

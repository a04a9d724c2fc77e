//! Stage 7: kanji and kana digits to ASCII digits, inside digit runs only.

use super::chars::*;

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

pub(super) fn convert_digit_words(chars: &mut Vec<Ch>) {
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

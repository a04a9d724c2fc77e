//! The promises [`normalize`] and [`NormalizedText::original_range`] make, checked on one
//! input by panicking at the first one broken. The unit tests run it over chosen samples, and
//! the `normalize` fuzz target (`crate::fuzz_checks`) over whatever the fuzzer builds.

use std::ops::Range;

use super::{normalize, NormalizedText};

/// Above this many chars the pair check takes pairs at most [`PAIR_REACH`] chars apart
/// (and every prefix and suffix) instead of all pairs, which grow with the square.
const ALL_PAIRS_UP_TO: usize = 64;
const PAIR_REACH: usize = 8;

/// Normalises `original` and checks the text and the map back to the original.
pub(crate) fn assert_map_is_sound(original: &str) {
    let n = normalize(original);
    assert_text_is_folded(original, n.as_str());
    let text = n.as_str();
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let chars = bounds.len() - 1;
    let in_original = |r: &Range<usize>, asked: &Range<usize>| {
        assert!(
            r.start <= r.end && r.end <= original.len(),
            "{original:?} {asked:?} -> {r:?}: outside the original"
        );
        assert!(
            original.is_char_boundary(r.start) && original.is_char_boundary(r.end),
            "{original:?} {asked:?} -> {r:?}: not on char boundaries"
        );
    };

    // Each char maps to a non-empty span, and the spans never go backwards.
    let mut previous: Option<Range<usize>> = None;
    for w in bounds.windows(2) {
        let r = n.original_range(w[0]..w[1]);
        in_original(&r, &(w[0]..w[1]));
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

    // A range covers the first and the last char in it (and, the map being monotone,
    // everything between); an empty range maps to an empty one where its char begins, or
    // after the last char at the end.
    let check_pair = |x: usize, y: usize| {
        let (a, b) = (bounds[x], bounds[y]);
        let r = n.original_range(a..b);
        in_original(&r, &(a..b));
        if x == y {
            let place = if x < chars {
                n.original_range(a..bounds[x + 1]).start
            } else if chars > 0 {
                n.original_range(bounds[x - 1]..a).end
            } else {
                0
            };
            assert_eq!(r, place..place, "{original:?}: empty range {a}..{b}");
        } else {
            let first_char = n.original_range(a..bounds[x + 1]);
            let last_char = n.original_range(bounds[y - 1]..b);
            assert!(
                r.start <= first_char.start && last_char.end <= r.end,
                "{original:?} {a}..{b} -> {r:?} misses {first_char:?} or {last_char:?}"
            );
        }
    };
    for x in 0..=chars {
        let reach = if chars <= ALL_PAIRS_UP_TO {
            chars
        } else {
            (x + PAIR_REACH).min(chars)
        };
        for y in x..=reach {
            check_pair(x, y);
        }
        check_pair(x, chars);
        check_pair(0, x);
    }
    assert_clamps_out_of_contract_ranges(original, &n, &bounds);
}

/// What stages 2 and 3 leave behind, which the later stages (only ever emitting chars they
/// were given, digits, `-`, `@` and `.`) keep: no ASCII capitals, no control chars, whitespace
/// only as single spaces between visible chars.
fn assert_text_is_folded(original: &str, text: &str) {
    assert!(
        !text.bytes().any(|b| b.is_ascii_uppercase()),
        "{original:?} -> {text:?}: a capital is left"
    );
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() || (c.is_whitespace() && c != ' ')),
        "{original:?} -> {text:?}: a control char or other whitespace is left"
    );
    assert!(
        !text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  "),
        "{original:?} -> {text:?}: whitespace is not collapsed and trimmed"
    );
}

/// Ranges past the end, reversed or inside a char are clamped, never fatal: the result is
/// still a range of the original on char boundaries.
fn assert_clamps_out_of_contract_ranges(original: &str, n: &NormalizedText, bounds: &[usize]) {
    let len = n.as_str().len();
    let step = (bounds.len() / 16).max(1);
    for &a in bounds.iter().step_by(step) {
        #[allow(clippy::reversed_empty_ranges)]
        for asked in [a + 1..a + 3, a..len + 7, a + 5..a, len + 1..len + 9] {
            let r = n.original_range(asked.clone());
            assert!(
                r.start <= r.end
                    && r.end <= original.len()
                    && original.is_char_boundary(r.start)
                    && original.is_char_boundary(r.end),
                "{original:?} {asked:?} -> {r:?}"
            );
        }
    }
}

//! What one pass of literal search can tell about a policy pattern before it runs.
//!
//! The rule engine searches the text once for the literals of every pattern (one
//! Aho-Corasick automaton), and a pattern runs only where that pass says it can match:
//! - [`Gate::Starts`]: every match starts with one of the literals, so the pattern runs
//!   anchored at their occurrences only — each run ends within the match's reach. When
//!   every match must also contain one of another set of literals (`requires`), the
//!   pattern runs only if one of those occurs too: `(で|を)\s?(検索|探)` starts at
//!   every particle of a Japanese text, but needs 検索 or 探 somewhere;
//! - [`Gate::Contains`]: every match contains one of the literals, so the pattern runs
//!   (over the whole text) only when one occurs;
//! - [`Gate::Always`]: no finite literal set is known, so the pattern always runs.
//!
//! Patterns run case-insensitively. The literals are lower-cased and the automaton
//! ignores ASCII case; a non-ASCII character with case variants (`ｉ`/`Ｉ`, `σ`/`ς`,
//! `k`/`K`) is spelled out in every variant that the pattern's case folding accepts, so
//! the gate is sound on any text, normalised or not.
//!
//! This file is also compiled into the core's build script (`shared/build.rs`), which
//! computes the gates of the embedded policy at build time: keep it free of crate imports.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange, Hir, HirKind};

/// How the literal pass gates one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Starts {
        literals: Vec<String>,
        /// One of these occurs in every match (`None`: nothing rarer than the prefixes).
        requires: Option<Vec<String>>,
    },
    Contains(Vec<String>),
    Always,
}

/// The most case variants one literal may be spelled out in before the gate gives up.
const MAX_VARIANTS: usize = 64;
/// The most literals a required-literal set may hold.
const MAX_REQUIRED: usize = 64;
/// Gate literals are cut to this many characters. A prefix of every match's prefix is
/// still one, and a piece of a required literal is still required, so the gate stays
/// sound; what the cut buys is the automaton's size. Uncut, the embedded policy's cross
/// products (`(essay|thesis|…) (writing )?(help|service)s? …` alone spells 6,338) come to
/// ~47,000 literals, and building their automaton was half of a cold start; cut, ~10,000.
/// Measured with `bench/run.sh`'s texts (release build, one core): uncut, cold start
/// 215 ms; cut to four characters, 78 ms; to twelve bytes, 98 ms. The price is paid on
/// text dense with trigger words, where a short literal is a candidate start more often
/// (≈ +10% per posting); cutting only the patterns with many literals was slower on
/// every figure.
const MAX_LITERAL_CHARS: usize = 4;

/// The gate of a policy pattern; `Err` with the parser's message when it does not parse.
pub fn gate_of(pattern: &str) -> Result<Gate, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    let required = required_literals(&hir)
        .map(cut)
        .and_then(spell_case_variants);
    if let Some(literals) = prefix_literals(&hir).map(cut).and_then(spell_case_variants) {
        // A requirement the prefixes already imply adds nothing to the gate.
        let implied = |set: &Vec<String>| {
            literals
                .iter()
                .all(|l| set.iter().any(|r| l.contains(r.as_str())))
        };
        let requires = required.filter(|set| !implied(set));
        return Ok(Gate::Starts { literals, requires });
    }
    if let Some(literals) = required {
        return Ok(Gate::Contains(literals));
    }
    Ok(Gate::Always)
}

/// The literals every match starts with (case-sensitive reading of the pattern), or
/// `None` when there is no finite set of non-empty ones.
fn prefix_literals(hir: &Hir) -> Option<Vec<String>> {
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    literals
        .iter()
        .map(|l| std::str::from_utf8(l.as_bytes()).ok().map(str::to_owned))
        .collect()
}

/// A set of literals one of which every match contains, or `None`.
fn required_literals(hir: &Hir) -> Option<Vec<String>> {
    let set = required(hir)?;
    if set.is_empty() || set.iter().any(String::is_empty) {
        return None;
    }
    Some(set)
}

fn required(hir: &Hir) -> Option<Vec<String>> {
    match hir.kind() {
        HirKind::Literal(literal) => Some(vec![std::str::from_utf8(&literal.0).ok()?.to_owned()]),
        HirKind::Class(regex_syntax::hir::Class::Unicode(class)) => {
            let mut chars = Vec::new();
            for range in class.iter() {
                for c in range.start()..=range.end() {
                    chars.push(c.to_string());
                    if chars.len() > 10 {
                        return None;
                    }
                }
            }
            Some(chars)
        }
        HirKind::Capture(capture) => required(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => required(&repetition.sub),
        HirKind::Alternation(branches) => {
            let mut union = Vec::new();
            for branch in branches {
                union.extend(required(branch)?);
                if union.len() > MAX_REQUIRED {
                    return None;
                }
            }
            union.sort();
            union.dedup();
            Some(union)
        }
        HirKind::Concat(parts) => {
            // Any part's set will do; the one whose shortest literal is longest makes the
            // rarest gate.
            parts.iter().filter_map(required).max_by_key(|set| {
                let shortest = set.iter().map(String::len).min().unwrap_or(0);
                (shortest, std::cmp::Reverse(set.len()))
            })
        }
        _ => None,
    }
}

/// Each literal's first [`MAX_LITERAL_CHARS`] characters, once each.
fn cut(literals: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = literals
        .into_iter()
        .map(|l| l.chars().take(MAX_LITERAL_CHARS).collect())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Lower-cases each literal for an ASCII-case-insensitive search and spells out the
/// non-ASCII case variants that case-insensitive matching accepts; `None` when a literal
/// has more than [`MAX_VARIANTS`] of them.
fn spell_case_variants(literals: Vec<String>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for literal in literals {
        let mut variants = vec![String::new()];
        for c in literal.chars() {
            let accepted = case_variants(c);
            if variants.len() * accepted.len() > MAX_VARIANTS {
                return None;
            }
            variants = variants
                .iter()
                .flat_map(|prefix| {
                    accepted.iter().map(move |v| {
                        let mut s = prefix.clone();
                        s.push(*v);
                        s
                    })
                })
                .collect();
        }
        out.extend(variants);
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The characters a case-insensitive pattern accepts for `c`, with ASCII letters given
/// once in lower case (the search ignores ASCII case).
fn case_variants(c: char) -> Vec<char> {
    let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    class.case_fold_simple();
    let mut chars: Vec<char> = class
        .iter()
        .flat_map(|r| r.start()..=r.end())
        .map(|v| v.to_ascii_lowercase())
        .collect();
    chars.sort_unstable();
    chars.dedup();
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(literals: &[&str]) -> Vec<String> {
        literals.iter().map(|s| s.to_string()).collect()
    }

    fn starts(literals: &[&str]) -> Gate {
        Gate::Starts {
            literals: owned(literals),
            requires: None,
        }
    }

    #[test]
    fn prefixes_are_lower_cased_and_spelled_in_every_case_variant() {
        assert_eq!(
            gate_of("(LINE|ライン)\\s?id"),
            Ok(starts(&["line", "ライン"]))
        );
        assert_eq!(gate_of("(a|)b"), Ok(starts(&["ab", "b"])));
        // Full-width letters have case variants outside ASCII; k and s have Kelvin and long s.
        let Ok(Gate::Starts { literals: id, .. }) = gate_of("ｉｄ") else {
            panic!("ｉｄ has a prefix");
        };
        assert_eq!(id, vec!["ＩＤ", "Ｉｄ", "ｉＤ", "ｉｄ"]);
        assert_eq!(
            gate_of("sk"),
            Ok(starts(&["sk", "s\u{212a}", "ſk", "ſ\u{212a}"]))
        );
    }

    #[test]
    fn literals_are_cut_and_a_rarer_required_literal_gates_the_prefixes() {
        assert_eq!(
            gate_of("(で|を)\\s?(検索|けんさく)"),
            Ok(Gate::Starts {
                literals: owned(&["で", "を"]),
                requires: Some(owned(&["けんさく", "検索"])),
            })
        );
        // Cut to four characters (before the long-s spellings are added)…
        let Ok(Gate::Starts { literals, requires }) = gate_of("essays? writing help") else {
            panic!("a prefix gate");
        };
        assert_eq!(literals, owned(&["essa", "esſa", "eſsa", "eſſa"]));
        assert_eq!(requires, Some(owned(&[" wri"])));
        // …in Japanese too.
        assert_eq!(gate_of("代筆をお願いします"), Ok(starts(&["代筆をお"])));
        // Every prefix already holds a required literal: no requirement.
        assert_eq!(gate_of("(line|ライン)id"), Ok(starts(&["line", "ラインi"])));
    }

    #[test]
    fn a_pattern_without_a_prefix_set_is_gated_on_a_literal_it_must_contain() {
        assert_eq!(
            gate_of("[a-z0-9]{3,}\\s?\\((line|x)"),
            Ok(Gate::Contains(vec!["(".into()]))
        );
        assert_eq!(
            gate_of(".{0,5}(abc|de)"),
            Ok(Gate::Contains(vec!["abc".into(), "de".into()]))
        );
        assert_eq!(gate_of("x?"), Ok(Gate::Always), "an empty match: no gate");
        assert_eq!(gate_of(".{0,5}"), Ok(Gate::Always));
    }

    #[test]
    fn a_pattern_that_does_not_parse_is_an_error() {
        assert!(gate_of("(unclosed").is_err());
    }
}

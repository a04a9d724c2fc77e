//! Discussion signals: the marks of a text that talks *about* a violation instead of
//! committing one — an awareness post about 闇バイト, a customer-harassment manual that
//! quotes abuse, a spec for a phone-number field, a request to use the platform's own
//! identity check. The rules read trigger words; these say what the text does with them.
//!
//! They are policy data (`[discussion]` in the policy file): literal keywords and regexes
//! over the normalised text, like the rules, but they raise no category. The screener
//! lowers the rules' scores of a discussing text by `rule_factor` unless the model, which
//! has read whole look-alike texts, still finds the category, and never hides one on the
//! rules' word alone.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_automata::meta::Regex;
use regex_automata::{Input, PatternSet};
use serde::Deserialize;

use super::rules::compile_pattern_set;
use super::{compile_checked, PolicyError};
use crate::text::normalize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscussionFile {
    rule_factor: f64,
    #[serde(default)]
    signals: Vec<SignalFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalFile {
    id: String,
    description: String,
    #[serde(default)]
    regex: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(Debug)]
struct Signal {
    id: String,
}

/// The compiled discussion signals of a policy. A policy without a `[discussion]` section
/// has none, and its rules are never lowered.
#[derive(Debug)]
pub struct DiscussionSignals {
    rule_factor: f64,
    signals: Vec<Signal>,
    keywords: AhoCorasick,
    keyword_signal: Vec<usize>,
    /// Every signal's regexes in one automaton, scanned once per text (`None`: no regex).
    regexes: Option<Regex>,
    /// Signal of each pattern of `regexes`.
    regex_signal: Vec<usize>,
}

impl Default for DiscussionSignals {
    fn default() -> Self {
        DiscussionSignals {
            rule_factor: 1.0,
            signals: Vec::new(),
            keywords: AhoCorasick::new(Vec::<String>::new()).expect("an empty automaton builds"),
            keyword_signal: Vec::new(),
            regexes: None,
            regex_signal: Vec::new(),
        }
    }
}

impl DiscussionSignals {
    pub(super) fn compile(file: DiscussionFile) -> Result<Self, PolicyError> {
        if !(file.rule_factor > 0.0 && file.rule_factor <= 1.0) {
            return Err(PolicyError::Discussion(format!(
                "rule_factor {} is outside (0, 1]",
                file.rule_factor
            )));
        }
        let mut signals = Vec::new();
        let mut patterns = Vec::new();
        let mut keyword_signal = Vec::new();
        let mut regexes = Vec::new();
        let mut regex_signal = Vec::new();
        for (index, signal) in file.signals.into_iter().enumerate() {
            if signal.description.trim().is_empty() {
                return Err(PolicyError::EmptyField {
                    field: format!("discussion.signals.{}.description", signal.id),
                });
            }
            if signal.regex.is_empty() && signal.keywords.iter().all(|k| k.trim().is_empty()) {
                return Err(PolicyError::EmptyRule(signal.id));
            }
            if signals.iter().any(|s: &Signal| s.id == signal.id) {
                return Err(PolicyError::DuplicateRule(signal.id));
            }
            for keyword in &signal.keywords {
                let normalised = normalize(keyword);
                if !normalised.as_str().is_empty() {
                    patterns.push(normalised.as_str().to_owned());
                    keyword_signal.push(index);
                }
            }
            for pattern in signal.regex {
                regexes.push(pattern);
                regex_signal.push(index);
            }
            signals.push(Signal { id: signal.id });
        }
        let regexes = if regexes.is_empty() {
            None
        } else {
            Some(compile_pattern_set(&regexes).map_err(|_| {
                // Name the pattern that does not compile: compiled alone, it fails too.
                regexes
                    .iter()
                    .zip(&regex_signal)
                    .find_map(|(p, &at)| compile_checked(&signals[at].id, p).err())
                    .unwrap_or_else(|| {
                        PolicyError::Discussion(
                            "the signals' regexes do not compile together".into(),
                        )
                    })
            })?)
        };
        let keywords = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .map_err(|e| PolicyError::Discussion(e.to_string()))?;
        Ok(DiscussionSignals {
            rule_factor: file.rule_factor,
            signals,
            keywords,
            keyword_signal,
            regexes,
            regex_signal,
        })
    }

    /// What the rules' score of a discussing text is multiplied by.
    pub fn rule_factor(&self) -> f64 {
        self.rule_factor
    }

    /// The ids of the signals found in `text` (already normalised), in policy order.
    pub fn found(&self, text: &str) -> Vec<&str> {
        let mut hit = vec![false; self.signals.len()];
        for m in self.keywords.find_iter(text) {
            hit[self.keyword_signal[m.pattern().as_usize()]] = true;
        }
        if let Some(regexes) = &self.regexes {
            let mut matched = PatternSet::new(regexes.pattern_len());
            regexes.which_overlapping_matches(&Input::new(text), &mut matched);
            for pattern in matched.iter() {
                hit[self.regex_signal[pattern.as_usize()]] = true;
            }
        }
        self.signals
            .iter()
            .zip(hit)
            .filter(|(_, hit)| *hit)
            .map(|(s, _)| s.id.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(toml_text: &str) -> Result<DiscussionSignals, PolicyError> {
        let file: DiscussionFile = toml::from_str(toml_text).unwrap();
        DiscussionSignals::compile(file)
    }

    #[test]
    fn keywords_are_normalised_and_regexes_match_the_normalised_text() {
        let s = signals(
            "rule_factor = 0.5\n\
             [[signals]]\nid = \"discussion.awareness\"\ndescription = \"d\"\nkeywords = [\"注意喚起\"]\n\
             [[signals]]\nid = \"discussion.spec\"\ndescription = \"d\"\nregex = ['入力(欄|フォーム)']\n",
        )
        .unwrap();
        assert_eq!(s.rule_factor(), 0.5);
        let text = normalize("【注意喚起】電話番号の入力欄について");
        assert_eq!(
            s.found(text.as_str()),
            vec!["discussion.awareness", "discussion.spec"]
        );
        assert!(s.found(normalize("LINE IDを教えて").as_str()).is_empty());
    }

    /// The embedded policy's signals, found by one scan, are those its regexes find one
    /// by one on the team's texts.
    #[test]
    fn one_scan_finds_what_each_regex_finds_alone() {
        #[derive(Deserialize)]
        struct PolicyDiscussion {
            discussion: toml::Value,
        }
        let embedded = include_str!("../../policy/default.toml");
        let section = toml::from_str::<PolicyDiscussion>(embedded)
            .unwrap()
            .discussion;
        let file: DiscussionFile = section.clone().try_into().unwrap();
        let alone: Vec<(usize, Regex)> = file
            .signals
            .iter()
            .enumerate()
            .flat_map(|(at, s)| s.regex.iter().map(move |p| (at, p)))
            .map(|(at, p)| (at, super::super::rules::compile_pattern(p).unwrap()))
            .collect();
        let signals = DiscussionSignals::compile(file).unwrap();
        let mut found_some = 0;
        for text in super::super::rules::tests::team_texts() {
            let text = normalize(&text);
            let text = text.as_str();
            let mut expected = vec![false; signals.signals.len()];
            for m in signals.keywords.find_iter(text) {
                expected[signals.keyword_signal[m.pattern().as_usize()]] = true;
            }
            for (at, regex) in &alone {
                expected[*at] |= regex.is_match(text);
            }
            let expected: Vec<&str> = signals
                .signals
                .iter()
                .zip(&expected)
                .filter(|(_, hit)| **hit)
                .map(|(s, _)| s.id.as_str())
                .collect();
            found_some += usize::from(!expected.is_empty());
            assert_eq!(signals.found(text), expected);
        }
        assert!(
            found_some > 30,
            "the texts exercise the signals ({found_some})"
        );
    }

    #[test]
    fn a_factor_out_of_range_or_an_empty_signal_is_refused() {
        let err = signals("rule_factor = 0\n").unwrap_err();
        assert!(err.to_string().contains("rule_factor"), "{err}");
        let err = signals("rule_factor = 0.5\n[[signals]]\nid = \"x\"\ndescription = \"d\"\n")
            .unwrap_err();
        assert!(matches!(err, PolicyError::EmptyRule(_)), "{err}");
        let err = signals(
            "rule_factor = 0.5\n[[signals]]\nid = \"x\"\ndescription = \"d\"\nregex = ['(']\n",
        )
        .unwrap_err();
        assert!(matches!(err, PolicyError::Regex { .. }), "{err}");
    }

    #[test]
    fn no_section_means_no_signal_and_no_lowering() {
        let s = DiscussionSignals::default();
        assert_eq!(s.rule_factor(), 1.0);
        assert!(s.found("注意喚起").is_empty());
    }
}

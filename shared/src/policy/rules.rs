//! The rule engine: runs a policy's compiled patterns over normalised text and reports
//! which rules hit where.
//!
//! Keywords of every rule go into one Aho-Corasick automaton, so adding keywords costs
//! nothing per rule. A policy has hundreds of regular expressions, and running each over
//! every text costs more than everything else together; so the literal prefixes every
//! match of a regex must start with are extracted at load and gathered into a second
//! automaton (the gate). One pass of the gate says which regexes can match at all; only
//! those run (a regex without a usable prefix set always runs). Allow-list exceptions run
//! only for a rule that hit, and drop exactly the hits whose span they overlap.

use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Regex, RegexBuilder};

use crate::taxonomy::{Category, SubmissionKind};
use crate::text::normalize;

/// The policy's patterns could not be combined into the engine's automata.
#[derive(Debug, thiserror::Error)]
#[error("policy patterns could not be combined: {0}")]
pub struct RulesError(String);

/// Compiles a policy pattern the way the engine runs it: case-insensitive (the text is
/// already lower-cased, but a pattern author's `LINE` should still mean `line`).
pub fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 22)
        .build()
}

/// One rule of the policy, ready to run.
#[derive(Debug)]
pub struct CompiledRule {
    pub id: String,
    pub description: String,
    pub category: Category,
    /// How sure this rule alone makes us that the category applies, in (0, 1].
    pub weight: f64,
    pub regexes: Vec<Regex>,
    pub keywords: Vec<String>,
    /// The rule's own allow-list; its category's is kept once in the engine.
    pub exceptions: Vec<Regex>,
    /// `None` means every kind.
    pub kinds: Option<Vec<SubmissionKind>>,
}

impl CompiledRule {
    fn applies_to(&self, kind: SubmissionKind) -> bool {
        self.kinds.as_ref().is_none_or(|ks| ks.contains(&kind))
    }
}

/// Where one rule hit, as byte ranges of the normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHit {
    /// Index into [`RuleEngine::rules`].
    pub rule: usize,
    pub spans: Vec<Range<usize>>,
}

#[derive(Debug)]
pub struct RuleEngine {
    rules: Vec<CompiledRule>,
    /// Every (rule, regex) pair, in policy order.
    regex_owner: Vec<(usize, usize)>,
    /// Aho-Corasick over the prefix literals of the gated regexes; pattern id → index
    /// into `regex_owner`.
    gate: AhoCorasick,
    gate_owner: Vec<usize>,
    /// Indices into `regex_owner` of regexes with no finite prefix set: they always run.
    ungated: Vec<usize>,
    /// Per category (by [`Category::index`]), the allow-list shared by all its rules.
    category_exceptions: Vec<Vec<Regex>>,
    keywords: AhoCorasick,
    /// For each keyword pattern id, the rule it belongs to.
    keyword_rule: Vec<usize>,
}

impl RuleEngine {
    pub(crate) fn new(
        rules: Vec<CompiledRule>,
        category_exceptions: Vec<Vec<Regex>>,
    ) -> Result<Self, RulesError> {
        let mut keyword_patterns = Vec::new();
        let mut keyword_rule = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            // Keywords pass through the same normaliser as the text, so an author can
            // write ＬＩＮＥ or ゼロキュウゼロ and still match what the screener sees.
            for keyword in &rule.keywords {
                let normalised = normalize(keyword);
                if !normalised.as_str().is_empty() {
                    keyword_patterns.push(normalised.as_str().to_owned());
                    keyword_rule.push(index);
                }
            }
        }
        let mut regex_owner = Vec::new();
        let mut gate_literals = Vec::new();
        let mut gate_owner = Vec::new();
        let mut ungated = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            for (j, regex) in rule.regexes.iter().enumerate() {
                let slot = regex_owner.len();
                regex_owner.push((index, j));
                match prefix_literals(regex.as_str()) {
                    Some(literals) => {
                        for literal in literals {
                            gate_literals.push(literal);
                            gate_owner.push(slot);
                        }
                    }
                    None => ungated.push(slot),
                }
            }
        }
        let gate = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&gate_literals)
            .map_err(|e| RulesError(e.to_string()))?;
        let keywords = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&keyword_patterns)
            .map_err(|e| RulesError(e.to_string()))?;
        Ok(RuleEngine {
            rules,
            regex_owner,
            gate,
            gate_owner,
            ungated,
            category_exceptions,
            keywords,
            keyword_rule,
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// For each (rule, regex) slot, whether the gate lets it run on `text`.
    fn regexes_that_may_match(&self, text: &str) -> Vec<bool> {
        let mut may_match = vec![false; self.regex_owner.len()];
        for slot in &self.ungated {
            may_match[*slot] = true;
        }
        for m in self.gate.find_overlapping_iter(text) {
            may_match[self.gate_owner[m.pattern().as_usize()]] = true;
        }
        may_match
    }

    /// Every rule that hits `text` (already normalised) for a submission of `kind`, with
    /// its spans, after exceptions. Rules come out in policy order; spans in text order.
    pub fn find_hits(&self, kind: SubmissionKind, text: &str) -> Vec<RuleHit> {
        let mut spans: Vec<Vec<Range<usize>>> = vec![Vec::new(); self.rules.len()];
        for m in self.keywords.find_overlapping_iter(text) {
            spans[self.keyword_rule[m.pattern().as_usize()]].push(m.range());
        }
        let may_match = self.regexes_that_may_match(text);
        for (slot, &(index, j)) in self.regex_owner.iter().enumerate() {
            let rule = &self.rules[index];
            if may_match[slot] && rule.applies_to(kind) {
                spans[index].extend(rule.regexes[j].find_iter(text).map(|m| m.range()));
            }
        }

        // Category allow-lists run at most once per text, and only for a category with a hit.
        let mut category_allowed: Vec<Option<Vec<Range<usize>>>> =
            vec![None; self.category_exceptions.len()];
        let mut hits = Vec::new();
        for (index, mut rule_spans) in spans.into_iter().enumerate() {
            let rule = &self.rules[index];
            if rule_spans.is_empty() || !rule.applies_to(kind) {
                continue;
            }
            let own: Vec<Range<usize>> = matches_of(&rule.exceptions, text);
            let shared = category_allowed.get_mut(rule.category.index()).map(|slot| {
                &*slot.get_or_insert_with(|| {
                    matches_of(&self.category_exceptions[rule.category.index()], text)
                })
            });
            rule_spans.retain(|hit| {
                !own.iter()
                    .chain(shared.into_iter().flatten())
                    .any(|a| overlaps(a, hit))
            });
            if rule_spans.is_empty() {
                continue;
            }
            rule_spans.sort_by_key(|r| (r.start, r.end));
            rule_spans.dedup();
            hits.push(RuleHit {
                rule: index,
                spans: rule_spans,
            });
        }
        hits
    }
}

/// The literals every match of `pattern` starts with, lower-cased (the text is), or `None`
/// when there is no such finite set of non-empty literals (then the regex always runs).
fn prefix_literals(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut extractor = regex_syntax::hir::literal::Extractor::new();
    extractor.kind(regex_syntax::hir::literal::ExtractKind::Prefix);
    let seq = extractor.extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    literals
        .iter()
        .map(|l| {
            std::str::from_utf8(l.as_bytes())
                .ok()
                .map(str::to_lowercase)
        })
        .collect()
}

fn matches_of(regexes: &[Regex], text: &str) -> Vec<Range<usize>> {
    regexes
        .iter()
        .flat_map(|e| e.find_iter(text).map(|m| m.range()))
        .collect()
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(rules: Vec<CompiledRule>) -> Result<RuleEngine, RulesError> {
        RuleEngine::new(rules, vec![Vec::new(); Category::ALL.len()])
    }

    fn rule(id: &str, regexes: &[&str], keywords: &[&str], exceptions: &[&str]) -> CompiledRule {
        CompiledRule {
            id: id.into(),
            description: String::new(),
            category: Category::OffPlatformContact,
            weight: 0.5,
            regexes: regexes
                .iter()
                .map(|r| compile_pattern(r).unwrap())
                .collect(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            exceptions: exceptions
                .iter()
                .map(|e| compile_pattern(e).unwrap())
                .collect(),
            kinds: None,
        }
    }

    #[test]
    fn keywords_are_normalised_like_the_text_and_regexes_ignore_case() {
        let engine = engine(vec![
            rule("kw", &[], &["ＬＩＮＥ交換"], &[]),
            rule("re", &["Telegram"], &[], &[]),
        ])
        .unwrap();
        let text = normalize("line交換しましょう、telegramでも");
        let hits = engine.find_hits(SubmissionKind::Message, text.as_str());
        assert_eq!(hits.len(), 2);
        assert_eq!(&text.as_str()[hits[0].spans[0].clone()], "line交換");
        assert_eq!(&text.as_str()[hits[1].spans[0].clone()], "telegram");
    }

    #[test]
    fn an_exception_drops_only_the_hits_it_overlaps() {
        let engine = engine(vec![rule("line", &["line"], &[], &["lineスタンプ"])]).unwrap();
        let only_sticker = normalize("lineスタンプのデザインをお願いします");
        assert!(engine
            .find_hits(SubmissionKind::JobPosting, only_sticker.as_str())
            .is_empty());

        let both = normalize("lineスタンプ制作です。詳細はline idへ");
        let hits = engine.find_hits(SubmissionKind::JobPosting, both.as_str());
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].spans.len(),
            1,
            "the sticker mention is excused, the ID is not"
        );
    }

    #[test]
    fn prefix_literals_gate_only_regexes_whose_matches_must_start_with_them() {
        assert_eq!(
            prefix_literals("(line|ライン)\\s?id"),
            Some(vec!["line".to_string(), "ライン".to_string()])
        );
        assert_eq!(prefix_literals("LINE"), Some(vec!["line".to_string()]));
        assert_eq!(
            prefix_literals(".{0,5}abc"),
            None,
            "any first char: cannot gate"
        );
        assert_eq!(
            prefix_literals("(a|)b"),
            Some(vec!["ab".into(), "b".into()])
        );
        assert_eq!(prefix_literals("x?"), None, "an empty match: cannot gate");
    }

    /// The gate is an optimisation only: on the team's own labelled texts, every regex of
    /// the shipped policy that matches must have been let through by the gate.
    #[test]
    fn the_gate_lets_through_every_regex_of_the_shipped_policy_that_matches() {
        let policy = crate::policy::Policy::embedded().unwrap();
        let engine = policy.rules();
        let mut matched = 0;
        for line in include_str!("../../policy/dev-examples.jsonl").lines() {
            let item: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = normalize(item["body"].as_str().unwrap());
            let may_match = engine.regexes_that_may_match(text.as_str());
            for (slot, &(i, j)) in engine.regex_owner.iter().enumerate() {
                if engine.rules[i].regexes[j].is_match(text.as_str()) {
                    matched += 1;
                    assert!(
                        may_match[slot],
                        "gate blocked {} regex {j} on {}",
                        engine.rules[i].id, item["id"]
                    );
                }
            }
        }
        assert!(
            matched > 200,
            "the texts exercise the rules ({matched} matches)"
        );
        assert!(
            engine.ungated.len() < engine.regex_owner.len() / 4,
            "most regexes are gated"
        );
    }

    #[test]
    fn a_rule_limited_to_some_kinds_is_silent_for_the_others() {
        let mut limited = rule("msg-only", &["dm"], &[], &[]);
        limited.kinds = Some(vec![SubmissionKind::Message]);
        let engine = engine(vec![limited]).unwrap();
        assert_eq!(engine.find_hits(SubmissionKind::Message, "dm me").len(), 1);
        assert!(engine
            .find_hits(SubmissionKind::Profile, "dm me")
            .is_empty());
    }
}

//! The rule engine: runs a policy's patterns over normalised text and reports which rules
//! hit where.
//!
//! A policy has hundreds of regular expressions (rules and allow-list exceptions), and
//! scanning the text once per regex costs more than everything else together. So the
//! text is scanned once, by one Aho-Corasick automaton holding every keyword and the
//! literals each pattern's matches start with or contain ([`super::gate`]). A pattern
//! whose matches start with known literals then runs anchored at their occurrences only,
//! each run ending within the match's reach; a pattern that must contain a literal runs
//! only when one occurs; the rest run over the whole text. The spans are exactly those
//! of the pattern's own leftmost-first, non-overlapping search (`find_iter`): a match
//! can start nowhere else, and the first match found from a candidate start on is the
//! one the full search would find there.
//!
//! Patterns are compiled on first use: the embedded policy's gates are computed at build
//! time (`shared/build.rs`), so a cold start compiles only the patterns its first texts
//! need. A policy read from a file is compiled completely at load, so that a broken file
//! is refused at cold start. Allow-list exceptions run only for a rule that hit, and drop
//! exactly the hits whose span they overlap.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

use super::gate::{gate_of, Gate};
use crate::taxonomy::{Category, SubmissionKind};
use crate::text::normalize;

/// The policy's patterns could not be made into the engine.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// `place` is a rule id or `categories.<id>.exceptions`.
    #[error("{place}: pattern {pattern:?} does not compile: {source}")]
    Pattern {
        place: String,
        pattern: String,
        source: Box<meta::BuildError>,
    },
    #[error("policy patterns could not be combined: {0}")]
    Automaton(String),
}

/// Compiles a policy pattern the way the engine runs it: case-insensitive (the text is
/// already lower-cased, but a pattern author's `LINE` should still mean `line`), with
/// the `regex` crate's semantics and limits.
pub fn compile_pattern(pattern: &str) -> Result<Regex, Box<meta::BuildError>> {
    pattern_builder(regex_automata::MatchKind::LeftmostFirst)
        .build(pattern)
        .map_err(Box::new)
}

/// Compiles several policy patterns into one automaton that reports every pattern
/// matching anywhere in a text (`which_overlapping_matches`), with the same syntax as
/// [`compile_pattern`]: one scan for a set of yes/no questions.
pub fn compile_pattern_set(patterns: &[String]) -> Result<Regex, Box<meta::BuildError>> {
    pattern_builder(regex_automata::MatchKind::All)
        .build_many(patterns)
        .map_err(Box::new)
}

/// The one configuration every policy pattern is compiled with; only how matches are
/// reported differs between a single pattern and a set.
fn pattern_builder(match_kind: regex_automata::MatchKind) -> meta::Builder {
    let mut builder = meta::Builder::new();
    builder
        .configure(
            meta::Config::new()
                .match_kind(match_kind)
                .utf8_empty(true)
                .nfa_size_limit(Some(1 << 22))
                .hybrid_cache_capacity(2 * (1 << 20)),
        )
        .syntax(syntax::Config::new().utf8(true).case_insensitive(true));
    builder
}

/// One rule of the policy, as written.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub id: String,
    pub description: String,
    pub category: Category,
    pub weight: f64,
    pub regexes: Vec<String>,
    pub keywords: Vec<String>,
    /// The rule's own allow-list; its category's is kept once in the engine.
    pub exceptions: Vec<String>,
    /// `None` means every kind.
    pub kinds: Option<Vec<SubmissionKind>>,
}

/// One rule of the policy, ready to run.
#[derive(Debug)]
pub struct CompiledRule {
    pub id: String,
    pub description: String,
    pub category: Category,
    /// How sure this rule alone makes us that the category applies, in (0, 1].
    pub weight: f64,
    /// Indices into the engine's pattern table.
    regexes: Vec<usize>,
    exceptions: Vec<usize>,
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

/// When the patterns are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compilation {
    /// All at load, every error reported: for a policy file an operator wrote.
    AtLoad,
    /// Each on first use, gates from the build: for the embedded policy, checked by the
    /// build and the tests.
    OnFirstUse,
}

/// One distinct pattern of the policy (a rule's regex or an exception).
#[derive(Debug)]
struct Pattern {
    source: String,
    gate: Gate,
    /// `None` inside: it failed to compile on first use (logged once; it never matches).
    regex: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| match compile_pattern(&self.source) {
                Ok(regex) => Some(regex),
                Err(error) => {
                    // The pattern, not the text: policy content, no personal data.
                    tracing::error!(pattern = %self.source, %error, "policy pattern does not compile; it never matches");
                    None
                }
            })
            .as_ref()
    }
}

/// What an occurrence of one literal of the automaton means.
#[derive(Debug, Clone, Copy)]
enum LiteralOwner {
    /// A match of this pattern may start here.
    StartOf(usize),
    /// This pattern may match somewhere.
    InsideOf(usize),
    /// Keyword `keyword` of rule `rule`, when the text there is exactly the keyword.
    Keyword { rule: usize, keyword: usize },
}

#[derive(Debug)]
pub struct RuleEngine {
    rules: Vec<CompiledRule>,
    patterns: Vec<Pattern>,
    /// Per category (by [`Category::index`]), the allow-list shared by all its rules.
    category_exceptions: Vec<Vec<usize>>,
    /// Every keyword (normalised) and every gate literal, once each, ASCII case ignored.
    literals: AhoCorasick,
    /// For each literal of the automaton, what its occurrence means.
    owners: Vec<Vec<LiteralOwner>>,
    /// Normalised keywords, by [`LiteralOwner::Keyword::keyword`].
    keywords: Vec<String>,
}

/// The gates of the embedded policy's patterns, computed by `shared/build.rs`:
/// `EMBEDDED_GATES: &[(&str, EmbeddedGate)]`, sorted by pattern.
mod embedded {
    pub(super) enum EmbeddedGate {
        Starts(&'static [&'static str], Option<&'static [&'static str]>),
        Contains(&'static [&'static str]),
        // Unused while every shipped pattern has literals; the build writes it for any other.
        #[allow(dead_code)]
        Always,
    }
    include!(concat!(env!("OUT_DIR"), "/embedded_gates.rs"));
}

fn embedded_gate(pattern: &str) -> Option<Gate> {
    use embedded::{EmbeddedGate, EMBEDDED_GATES};
    let owned = |literals: &[&str]| literals.iter().map(|l| (*l).to_owned()).collect();
    let at = EMBEDDED_GATES
        .binary_search_by(|(p, _)| (*p).cmp(pattern))
        .ok()?;
    Some(match &EMBEDDED_GATES[at].1 {
        EmbeddedGate::Starts(literals, requires) => Gate::Starts {
            literals: owned(literals),
            requires: requires.map(owned),
        },
        EmbeddedGate::Contains(literals) => Gate::Contains(owned(literals)),
        EmbeddedGate::Always => Gate::Always,
    })
}

/// Builds the pattern table: one entry per distinct pattern, compiled per `compilation`.
struct PatternTable {
    compilation: Compilation,
    patterns: Vec<Pattern>,
    index: HashMap<String, usize>,
}

impl PatternTable {
    fn add(&mut self, place: &str, source: &str) -> Result<usize, RulesError> {
        if let Some(&at) = self.index.get(source) {
            return Ok(at);
        }
        let pattern = match self.compilation {
            Compilation::AtLoad => {
                let regex = compile_pattern(source).map_err(|e| RulesError::Pattern {
                    place: place.to_owned(),
                    pattern: source.to_owned(),
                    source: e,
                })?;
                let gate = gate_of(source).unwrap_or(Gate::Always);
                Pattern {
                    source: source.to_owned(),
                    gate,
                    regex: OnceLock::from(Some(regex)),
                }
            }
            Compilation::OnFirstUse => Pattern {
                source: source.to_owned(),
                gate: embedded_gate(source)
                    .unwrap_or_else(|| gate_of(source).unwrap_or(Gate::Always)),
                regex: OnceLock::new(),
            },
        };
        self.patterns.push(pattern);
        self.index
            .insert(source.to_owned(), self.patterns.len() - 1);
        Ok(self.patterns.len() - 1)
    }
}

impl RuleEngine {
    /// `category_exceptions`: per category, in taxonomy order, its allow-list patterns.
    pub(crate) fn new(
        rules: Vec<RuleSource>,
        category_exceptions: Vec<Vec<String>>,
        compilation: Compilation,
    ) -> Result<Self, RulesError> {
        let mut table = PatternTable {
            compilation,
            patterns: Vec::new(),
            index: HashMap::new(),
        };
        let mut shared_exceptions = Vec::with_capacity(category_exceptions.len());
        for (category, sources) in Category::ALL.iter().zip(&category_exceptions) {
            let place = format!("categories.{category}.exceptions");
            shared_exceptions.push(
                sources
                    .iter()
                    .map(|p| table.add(&place, p))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let mut compiled = Vec::with_capacity(rules.len());
        let mut keywords = Vec::new();
        let mut keyword_rule = Vec::new();
        for (index, rule) in rules.into_iter().enumerate() {
            let exceptions = rule
                .exceptions
                .iter()
                .map(|p| table.add(&rule.id, p))
                .collect::<Result<Vec<_>, _>>()?;
            let regexes = rule
                .regexes
                .iter()
                .map(|p| table.add(&rule.id, p))
                .collect::<Result<Vec<_>, _>>()?;
            // Keywords pass through the same normaliser as the text, so an author can
            // write ＬＩＮＥ or ゼロキュウゼロ and still match what the screener sees.
            for keyword in &rule.keywords {
                let normalised = normalize(keyword);
                if !normalised.as_str().is_empty() {
                    keywords.push(normalised.as_str().to_owned());
                    keyword_rule.push(index);
                }
            }
            compiled.push(CompiledRule {
                id: rule.id,
                description: rule.description,
                category: rule.category,
                weight: rule.weight,
                regexes,
                exceptions,
                kinds: rule.kinds,
            });
        }

        // One automaton for every literal: keywords and gates alike.
        let mut literal_index: HashMap<String, usize> = HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<LiteralOwner>> = Vec::new();
        let mut own = |literal: &str, owner: LiteralOwner| {
            let key = literal.to_ascii_lowercase();
            let at = *literal_index.entry(key.clone()).or_insert_with(|| {
                literals.push(key);
                owners.push(Vec::new());
                literals.len() - 1
            });
            owners[at].push(owner);
        };
        for (keyword, (text, &rule)) in keywords.iter().zip(&keyword_rule).enumerate() {
            own(text, LiteralOwner::Keyword { rule, keyword });
        }
        for (at, pattern) in table.patterns.iter().enumerate() {
            match &pattern.gate {
                Gate::Starts { literals, requires } => {
                    literals
                        .iter()
                        .for_each(|l| own(l, LiteralOwner::StartOf(at)));
                    requires
                        .iter()
                        .flatten()
                        .for_each(|l| own(l, LiteralOwner::InsideOf(at)));
                }
                Gate::Contains(ls) => ls.iter().for_each(|l| own(l, LiteralOwner::InsideOf(at))),
                Gate::Always => {}
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&literals)
            .map_err(|e| RulesError::Automaton(e.to_string()))?;
        Ok(RuleEngine {
            rules: compiled,
            patterns: table.patterns,
            category_exceptions: shared_exceptions,
            literals: automaton,
            owners,
            keywords,
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Every rule that hits `text` (already normalised) for a submission of `kind`, with
    /// its spans, after exceptions. Rules come out in policy order; spans in text order.
    pub fn find_hits(&self, kind: SubmissionKind, text: &str) -> Vec<RuleHit> {
        let mut pass = LiteralPass::new(self, text);
        let mut spans: Vec<Vec<Range<usize>>> = vec![Vec::new(); self.rules.len()];
        for (rule, range) in pass.keyword_hits.drain(..) {
            spans[rule].push(range);
        }
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.applies_to(kind) {
                for &pattern in &rule.regexes {
                    spans[index].extend(pass.spans_of(pattern).iter().cloned());
                }
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
            let own: Vec<Range<usize>> = rule
                .exceptions
                .iter()
                .flat_map(|&p| pass.spans_of(p).to_vec())
                .collect();
            let shared = category_allowed.get_mut(rule.category.index()).map(|slot| {
                &*slot.get_or_insert_with(|| {
                    self.category_exceptions[rule.category.index()]
                        .iter()
                        .flat_map(|&p| pass.spans_of(p).to_vec())
                        .collect()
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

/// What the one literal pass found in a text, and each pattern's matches, computed once.
struct LiteralPass<'e, 't> {
    engine: &'e RuleEngine,
    text: &'t str,
    /// Per pattern, where a match may start (for [`Gate::Starts`]), in text order.
    starts: Vec<Vec<usize>>,
    /// Per pattern, whether a required literal occurs (for [`Gate::Contains`] and a
    /// [`Gate::Starts`] that `requires` one).
    present: Vec<bool>,
    keyword_hits: Vec<(usize, Range<usize>)>,
    /// Per pattern, its matches once computed.
    matches: Vec<Option<Vec<Range<usize>>>>,
}

impl<'e, 't> LiteralPass<'e, 't> {
    fn new(engine: &'e RuleEngine, text: &'t str) -> Self {
        let count = engine.patterns.len();
        let mut pass = LiteralPass {
            engine,
            text,
            starts: vec![Vec::new(); count],
            present: vec![false; count],
            keyword_hits: Vec::new(),
            matches: vec![None; count],
        };
        for m in engine.literals.find_overlapping_iter(text) {
            for owner in &engine.owners[m.pattern().as_usize()] {
                match *owner {
                    LiteralOwner::StartOf(p) => pass.starts[p].push(m.start()),
                    LiteralOwner::InsideOf(p) => pass.present[p] = true,
                    LiteralOwner::Keyword { rule, keyword } => {
                        // The automaton ignores ASCII case; keywords match exactly.
                        if text.get(m.range()) == Some(engine.keywords[keyword].as_str()) {
                            pass.keyword_hits.push((rule, m.range()));
                        }
                    }
                }
            }
        }
        pass
    }

    /// The pattern's matches in `text`, exactly as its `find_iter` gives them.
    fn spans_of(&mut self, pattern: usize) -> &[Range<usize>] {
        if self.matches[pattern].is_none() {
            let found = self.search(pattern);
            self.matches[pattern] = Some(found);
        }
        self.matches[pattern].as_deref().unwrap_or_default()
    }

    fn search(&mut self, at: usize) -> Vec<Range<usize>> {
        let pattern = &self.engine.patterns[at];
        let text = self.text;
        let whole_text = |regex: &Regex| regex.find_iter(text).map(|m| m.range()).collect();
        match &pattern.gate {
            Gate::Starts {
                requires: Some(_), ..
            } if !self.present[at] => Vec::new(),
            Gate::Starts { .. } => {
                let starts = &mut self.starts[at];
                if starts.is_empty() {
                    return Vec::new();
                }
                let Some(regex) = pattern.regex() else {
                    return Vec::new();
                };
                // Occurrences come out by where they end; a match starts at one of them.
                starts.sort_unstable();
                starts.dedup();
                let mut found = Vec::new();
                let mut from = 0;
                for &start in starts.iter() {
                    if start < from {
                        continue;
                    }
                    let input = Input::new(text).range(start..).anchored(Anchored::Yes);
                    if let Some(m) = regex.search(&input) {
                        found.push(m.range());
                        // Non-overlapping, as `find_iter`; every match here starts with a
                        // non-empty literal, so the next one starts past this one's end.
                        from = m.end().max(start + 1);
                    }
                }
                found
            }
            Gate::Contains(_) if !self.present[at] => Vec::new(),
            Gate::Contains(_) | Gate::Always => pattern.regex().map(whole_text).unwrap_or_default(),
        }
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
pub(crate) mod tests;

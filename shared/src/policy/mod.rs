//! The guideline policy: one versioned TOML file that says, per taxonomy category, what the
//! guideline clause is, which patterns break it, which look-alikes are fine, how severe it
//! is, where review and hide begin, and what to tell the poster.
//!
//! The default policy (`shared/policy/default.toml`) is embedded in every binary; an
//! operator can replace it with a file named by `ANSHIN_POLICY_PATH`.
//! A policy is checked completely at load — syntax, unknown or missing categories, bad
//! regular expressions, thresholds, empty messages — so that a broken file is refused at
//! cold start instead of screening wrongly.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod discussion;
pub mod gate;
pub mod ladder;
pub mod reports;
pub mod rules;

use crate::taxonomy::{Category, Severity, SubmissionKind, UnknownCategory};
use discussion::{DiscussionFile, DiscussionSignals};
use ladder::{LadderPolicy, SeverityPoints};
use reports::ReportPolicy;
use rules::{Compilation, RuleEngine, RuleSource, RulesError};

/// The policy shipped in the binary.
pub const EMBEDDED_POLICY_TOML: &str = include_str!("../../policy/default.toml");

/// Why a policy was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy is not valid TOML or has an unexpected shape: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("policy names {0}; the taxonomy has no such category")]
    UnknownCategory(#[from] UnknownCategory),
    #[error("policy has no section for category {0}")]
    MissingCategory(Category),
    #[error("policy field {field} is empty")]
    EmptyField { field: String },
    #[error("category {category}: {reason}")]
    Thresholds { category: Category, reason: String },
    #[error("rule {rule}: weight {weight} is outside (0, 1]")]
    Weight { rule: String, weight: f64 },
    #[error("rule id {0} is used twice")]
    DuplicateRule(String),
    #[error("rule {0} has no regex and no keyword")]
    EmptyRule(String),
    #[error("rule {rule}: pattern {pattern:?} does not compile: {source}")]
    Regex {
        rule: String,
        pattern: String,
        source: Box<regex_automata::meta::BuildError>,
    },
    #[error(transparent)]
    Rules(RulesError),
    #[error("ladder: {0}")]
    Ladder(String),
    #[error("reports: {0}")]
    Reports(String),
    #[error("discussion: {0}")]
    Discussion(String),
}

/// One category's settings, as the screener uses them.
#[derive(Debug)]
pub struct CategoryPolicy {
    pub category: Category,
    pub name_ja: String,
    pub name_en: String,
    /// The guideline clause this category enforces, quoted for support staff.
    pub clause: String,
    pub severity: Severity,
    /// Alert support already when a submission is held for review in this category.
    pub urgent: bool,
    pub review_threshold: f64,
    pub hide_threshold: f64,
    pub message_ja: String,
    pub message_en: String,
}

/// A loaded, fully checked policy.
#[derive(Debug)]
pub struct Policy {
    version: String,
    /// Indexed by [`Category::index`], so lookups need no map.
    categories: Vec<CategoryPolicy>,
    rules: RuleEngine,
    discussion: DiscussionSignals,
    ladder: LadderPolicy,
    reports: ReportPolicy,
}

// ---- file shape ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: String,
    ladder: LadderFile,
    reports: ReportPolicy,
    categories: BTreeMap<String, CategoryFile>,
    /// Optional: without it no text counts as discussing a violation.
    discussion: Option<DiscussionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LadderFile {
    warning_points: u32,
    suspension_points: u32,
    withdrawal_points: u32,
    strike_expiry_days: u64,
    #[serde(default = "default_true")]
    withdrawal_needs_second_approval: bool,
    points: SeverityPoints,
    #[serde(default)]
    category_points: BTreeMap<Category, SeverityPoints>,
    #[serde(default)]
    straight_to_withdrawal: Vec<Category>,
    #[serde(default)]
    auto_strike: Vec<Category>,
}

fn check_reports(r: ReportPolicy) -> Result<ReportPolicy, PolicyError> {
    let bad = |reason: &str| Err(PolicyError::Reports(reason.to_owned()));
    if r.rate_limit_per_day == 0 {
        return bad("rate_limit_per_day must be at least 1");
    }
    if !(r.threshold > 0.0 && r.severe_threshold > 0.0 && r.severe_threshold <= r.threshold) {
        return bad("thresholds must be positive, severe_threshold at most threshold");
    }
    if !(0.0..=1.0).contains(&r.new_account_weight) {
        return bad("new_account_weight must lie in [0, 1]");
    }
    if r.brigade_min_reports < 2 || r.brigade_window_minutes == 0 {
        return bad("a brigade needs at least 2 reports in a window of at least 1 minute");
    }
    if r.window_days == 0 || r.window_days * 24 * 60 <= r.brigade_window_minutes {
        return bad("window_days must be at least 1 and longer than the brigade window");
    }
    Ok(r)
}

fn default_true() -> bool {
    true
}

fn check_ladder(l: LadderFile) -> Result<LadderPolicy, PolicyError> {
    if !(0 < l.warning_points
        && l.warning_points <= l.suspension_points
        && l.suspension_points <= l.withdrawal_points)
    {
        return Err(PolicyError::Ladder(format!(
            "thresholds must satisfy 0 < warning_points ({}) <= suspension_points ({}) <= withdrawal_points ({})",
            l.warning_points, l.suspension_points, l.withdrawal_points
        )));
    }
    if l.strike_expiry_days == 0 {
        return Err(PolicyError::Ladder(
            "strike_expiry_days must be at least 1".into(),
        ));
    }
    Ok(LadderPolicy {
        warning_points: l.warning_points,
        suspension_points: l.suspension_points,
        withdrawal_points: l.withdrawal_points,
        strike_expiry_days: l.strike_expiry_days,
        withdrawal_needs_second_approval: l.withdrawal_needs_second_approval,
        points: l.points,
        category_points: l.category_points,
        straight_to_withdrawal: l.straight_to_withdrawal.into_iter().collect(),
        auto_strike: l.auto_strike.into_iter().collect(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    name_ja: String,
    name_en: String,
    clause: String,
    severity: Severity,
    #[serde(default)]
    urgent: bool,
    review_threshold: f64,
    hide_threshold: f64,
    message_ja: String,
    message_en: String,
    #[serde(default)]
    exceptions: Vec<String>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    description: String,
    weight: f64,
    #[serde(default)]
    regex: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    exceptions: Vec<String>,
    kinds: Option<Vec<SubmissionKind>>,
}

// ---- loading ------------------------------------------------------------------------------

impl Policy {
    /// The policy compiled into the binary. It is covered by the build and the tests, so
    /// failing here is a build defect, not an operator error; the error is still
    /// returned, not panicked. Its patterns are compiled on first use, with the gates the
    /// build computed: a cold start pays only for the patterns its texts need.
    pub fn embedded() -> Result<Self, PolicyError> {
        Self::parse(EMBEDDED_POLICY_TOML, Compilation::OnFirstUse)
    }

    /// Reads and checks a policy file.
    pub fn from_path(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and checks a policy document, every pattern compiled.
    pub fn from_toml_str(text: &str) -> Result<Self, PolicyError> {
        Self::parse(text, Compilation::AtLoad)
    }

    fn parse(text: &str, compilation: Compilation) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        non_empty("version", &file.version)?;

        let mut sections: BTreeMap<Category, CategoryFile> = BTreeMap::new();
        for (id, section) in file.categories {
            sections.insert(id.parse::<Category>()?, section);
        }

        let mut categories = Vec::with_capacity(Category::ALL.len());
        let mut category_exceptions = Vec::with_capacity(Category::ALL.len());
        let mut rules = Vec::new();
        let mut rule_ids = HashSet::new();
        for category in Category::ALL {
            let section = sections
                .remove(&category)
                .ok_or(PolicyError::MissingCategory(category))?;
            categories.push(check_category(category, &section)?);
            category_exceptions.push(section.exceptions);
            for rule in section.rules {
                if !rule_ids.insert(rule.id.clone()) {
                    return Err(PolicyError::DuplicateRule(rule.id));
                }
                rules.push(check_rule(category, rule)?);
            }
        }
        let rules =
            RuleEngine::new(rules, category_exceptions, compilation).map_err(|e| match e {
                RulesError::Pattern {
                    place,
                    pattern,
                    source,
                } => PolicyError::Regex {
                    rule: place,
                    pattern,
                    source,
                },
                other => PolicyError::Rules(other),
            })?;

        Ok(Policy {
            version: file.version,
            categories,
            rules,
            discussion: match file.discussion {
                Some(section) => DiscussionSignals::compile(section)?,
                None => DiscussionSignals::default(),
            },
            ladder: check_ladder(file.ladder)?,
            reports: check_reports(file.reports)?,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn category(&self, category: Category) -> &CategoryPolicy {
        &self.categories[category.index()]
    }

    pub fn rules(&self) -> &RuleEngine {
        &self.rules
    }

    /// The marks of a text that talks about a violation rather than committing one.
    pub fn discussion(&self) -> &DiscussionSignals {
        &self.discussion
    }

    pub fn ladder(&self) -> &LadderPolicy {
        &self.ladder
    }

    pub fn reports(&self) -> &ReportPolicy {
        &self.reports
    }
}

fn non_empty(field: &str, value: &str) -> Result<(), PolicyError> {
    if value.trim().is_empty() {
        Err(PolicyError::EmptyField {
            field: field.to_owned(),
        })
    } else {
        Ok(())
    }
}

fn check_category(category: Category, s: &CategoryFile) -> Result<CategoryPolicy, PolicyError> {
    for (name, value) in [
        ("name_ja", &s.name_ja),
        ("name_en", &s.name_en),
        ("clause", &s.clause),
        ("message_ja", &s.message_ja),
        ("message_en", &s.message_en),
    ] {
        non_empty(&format!("categories.{category}.{name}"), value)?;
    }
    let in_unit = |t: f64| t > 0.0 && t <= 1.0;
    if !in_unit(s.review_threshold) || !in_unit(s.hide_threshold) {
        return Err(PolicyError::Thresholds {
            category,
            reason: "thresholds must lie in (0, 1]".into(),
        });
    }
    if s.review_threshold > s.hide_threshold {
        return Err(PolicyError::Thresholds {
            category,
            reason: format!(
                "review_threshold {} is above hide_threshold {}",
                s.review_threshold, s.hide_threshold
            ),
        });
    }
    Ok(CategoryPolicy {
        category,
        name_ja: s.name_ja.clone(),
        name_en: s.name_en.clone(),
        clause: s.clause.clone(),
        severity: s.severity,
        urgent: s.urgent,
        review_threshold: s.review_threshold,
        hide_threshold: s.hide_threshold,
        message_ja: s.message_ja.clone(),
        message_en: s.message_en.clone(),
    })
}

/// One policy pattern outside the rules (a discussion signal), compiled as the engine
/// compiles its own, its place named in the error.
fn compile_checked(place: &str, pattern: &str) -> Result<regex_automata::meta::Regex, PolicyError> {
    rules::compile_pattern(pattern).map_err(|source| PolicyError::Regex {
        rule: place.to_owned(),
        pattern: pattern.to_owned(),
        source,
    })
}

fn check_rule(category: Category, rule: RuleFile) -> Result<RuleSource, PolicyError> {
    if !(rule.weight > 0.0 && rule.weight <= 1.0) {
        return Err(PolicyError::Weight {
            rule: rule.id,
            weight: rule.weight,
        });
    }
    if rule.regex.is_empty() && rule.keywords.iter().all(|k| k.trim().is_empty()) {
        return Err(PolicyError::EmptyRule(rule.id));
    }
    Ok(RuleSource {
        id: rule.id,
        description: rule.description,
        category,
        weight: rule.weight,
        regexes: rule.regex,
        keywords: rule.keywords,
        exceptions: rule.exceptions,
        kinds: rule.kinds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid policy: every category with one keyword rule.
    fn minimal_policy() -> String {
        let mut text = String::from(
            "version = \"test-1\"\n[ladder]\nwarning_points = 1\nsuspension_points = 3\nwithdrawal_points = 6\n\
             strike_expiry_days = 365\npoints = { low = 1, medium = 2, high = 3, critical = 6 }\n\
             straight_to_withdrawal = [\"illegal_work\"]\n[reports]\nrate_limit_per_day = 20\nthreshold = 3.0\n\
             severe_threshold = 1.5\nsevere_categories = [\"illegal_work\"]\nnew_account_days = 30\n\
             new_account_weight = 0.5\nbrigade_window_minutes = 60\nbrigade_min_reports = 4\n",
        );
        for c in Category::ALL {
            text.push_str(&format!(
                r#"
[categories.{c}]
name_ja = "名前"
name_en = "name"
clause = "clause"
severity = "medium"
review_threshold = 0.5
hide_threshold = 0.9
message_ja = "直してください"
message_en = "please fix"

[[categories.{c}.rules]]
id = "{c}.kw"
description = "keyword"
weight = 0.6
keywords = ["kw-{c}"]
"#
            ));
        }
        text
    }

    #[test]
    fn the_embedded_policy_loads_and_covers_every_category_with_rules_and_both_messages() {
        let policy = Policy::embedded().expect("embedded policy must load");
        assert!(!policy.version().is_empty());
        for c in Category::ALL {
            let cp = policy.category(c);
            assert_eq!(cp.category, c);
            assert!(!cp.message_ja.trim().is_empty(), "{c} lacks message_ja");
            assert!(!cp.message_en.trim().is_empty(), "{c} lacks message_en");
            assert!(!cp.name_ja.trim().is_empty() && !cp.name_en.trim().is_empty());
            assert!(
                policy.rules().rules().iter().any(|r| r.category == c),
                "{c} has no rule"
            );
        }
    }

    #[test]
    fn the_embedded_policy_also_compiles_completely_as_a_policy_file_would() {
        let policy = Policy::from_toml_str(EMBEDDED_POLICY_TOML).expect("every pattern compiles");
        assert_eq!(
            policy.rules().rules().len(),
            Policy::embedded().unwrap().rules().rules().len()
        );
    }

    #[test]
    fn a_minimal_policy_loads() {
        let policy = Policy::from_toml_str(&minimal_policy()).unwrap();
        assert_eq!(policy.version(), "test-1");
        assert_eq!(policy.rules().rules().len(), 13);
    }

    #[test]
    fn broken_toml_is_refused_with_its_position() {
        let err = Policy::from_toml_str("version = \"x\"\n[categories.spam\n").unwrap_err();
        assert!(matches!(err, PolicyError::Syntax(_)), "{err}");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn an_unknown_category_is_refused_by_name() {
        let text = minimal_policy().replace("[categories.spam]", "[categories.crypto_hype]");
        let text = text.replace(
            "[[categories.spam.rules]]",
            "[[categories.crypto_hype.rules]]",
        );
        let err = Policy::from_toml_str(&text).unwrap_err();
        assert!(matches!(err, PolicyError::UnknownCategory(_)), "{err}");
        assert!(err.to_string().contains("crypto_hype"), "{err}");
    }

    #[test]
    fn a_missing_category_is_refused() {
        let text = minimal_policy();
        let start = text.find("[categories.harassment]").unwrap();
        let err = Policy::from_toml_str(&text[..start]).unwrap_err();
        assert!(
            matches!(err, PolicyError::MissingCategory(Category::Harassment)),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = minimal_policy().replace(
            "weight = 0.6\nkeywords = [\"kw-spam\"]",
            "weight = 0.6\nkeyword = [\"kw-spam\"]",
        );
        let err = Policy::from_toml_str(&text).unwrap_err();
        assert!(err.to_string().contains("keyword"), "{err}");
    }

    #[test]
    fn a_bad_regex_is_refused_naming_rule_and_pattern() {
        let text = minimal_policy().replace("keywords = [\"kw-adult\"]", "regex = ['(unclosed']");
        let err = Policy::from_toml_str(&text).unwrap_err();
        match &err {
            PolicyError::Regex { rule, pattern, .. } => {
                assert_eq!(rule, "adult.kw");
                assert_eq!(pattern, "(unclosed");
            }
            other => panic!("expected a regex error, got {other}"),
        }
    }

    #[test]
    fn thresholds_and_weights_out_of_range_are_refused() {
        let text = minimal_policy().replacen("hide_threshold = 0.9", "hide_threshold = 0.3", 1);
        assert!(matches!(
            Policy::from_toml_str(&text).unwrap_err(),
            PolicyError::Thresholds {
                category: Category::OffPlatformContact,
                ..
            }
        ));
        let text = minimal_policy().replacen("weight = 0.6", "weight = 1.5", 1);
        assert!(matches!(
            Policy::from_toml_str(&text).unwrap_err(),
            PolicyError::Weight { .. }
        ));
    }

    #[test]
    fn empty_messages_duplicate_rule_ids_and_empty_rules_are_refused() {
        let text =
            minimal_policy().replacen("message_en = \"please fix\"", "message_en = \" \"", 1);
        assert!(matches!(
            Policy::from_toml_str(&text).unwrap_err(),
            PolicyError::EmptyField { .. }
        ));

        let text = minimal_policy().replace("id = \"spam.kw\"", "id = \"adult.kw\"");
        assert!(matches!(
            Policy::from_toml_str(&text).unwrap_err(),
            PolicyError::DuplicateRule(_)
        ));

        let text = minimal_policy().replace("keywords = [\"kw-scam\"]", "keywords = []");
        assert!(matches!(
            Policy::from_toml_str(&text).unwrap_err(),
            PolicyError::EmptyRule(_)
        ));
    }

    #[test]
    fn a_ladder_out_of_order_or_naming_an_unknown_category_is_refused() {
        let text = minimal_policy().replace("suspension_points = 3", "suspension_points = 9");
        assert!(matches!(
            Policy::from_toml_str(&text).unwrap_err(),
            PolicyError::Ladder(_)
        ));
        let text = minimal_policy().replace("[\"illegal_work\"]", "[\"murder\"]");
        let err = Policy::from_toml_str(&text).unwrap_err();
        assert!(err.to_string().contains("murder"), "{err}");
    }

    #[test]
    fn a_reports_section_out_of_range_is_refused_as_such() {
        let text = minimal_policy().replace("rate_limit_per_day = 20", "rate_limit_per_day = 0");
        let err = Policy::from_toml_str(&text).unwrap_err();
        assert!(matches!(err, PolicyError::Reports(_)), "{err}");
    }

    #[test]
    fn a_missing_file_is_refused_with_its_path() {
        let err = Policy::from_path(Path::new("/nonexistent/anshin-policy.toml")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/anshin-policy.toml"),
            "{err}"
        );
    }
}

use super::*;

fn engine(rules: Vec<RuleSource>) -> Result<RuleEngine, RulesError> {
    RuleEngine::new(
        rules,
        vec![Vec::new(); Category::ALL.len()],
        Compilation::AtLoad,
    )
}

fn rule(id: &str, regexes: &[&str], keywords: &[&str], exceptions: &[&str]) -> RuleSource {
    let owned = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    RuleSource {
        id: id.into(),
        description: String::new(),
        category: Category::OffPlatformContact,
        weight: 0.5,
        regexes: owned(regexes),
        keywords: owned(keywords),
        exceptions: owned(exceptions),
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
fn keywords_match_exactly_though_the_automaton_ignores_ascii_case() {
    let engine = engine(vec![rule("kw", &[], &["line交換"], &[])]).unwrap();
    assert!(engine
        .find_hits(SubmissionKind::Message, "LINE交換")
        .is_empty());
    assert_eq!(
        engine.find_hits(SubmissionKind::Message, "line交換").len(),
        1
    );
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
fn anchored_runs_give_the_non_overlapping_leftmost_first_matches() {
    // "ab" occurs inside the first match "abab": a candidate start there is skipped,
    // as the pattern's own search skips it.
    let engine = engine(vec![rule("r", &["ab(ab)?c?"], &[], &[])]).unwrap();
    let hits = engine.find_hits(SubmissionKind::Message, "xababc ab abab");
    assert_eq!(hits[0].spans, vec![1..6, 7..9, 10..14]);
}

#[test]
fn an_upper_case_text_still_meets_the_gate() {
    let engine = engine(vec![
        rule("a", &["line\\s?id"], &[], &[]),
        rule("b", &["ｉｄ交換"], &[], &[]),
    ])
    .unwrap();
    let hits = engine.find_hits(SubmissionKind::Message, "LINE ID と Ｉｄ交換");
    assert_eq!(hits.len(), 2);
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

#[test]
fn a_bad_pattern_is_refused_at_load_naming_where_it_stands() {
    let error = engine(vec![rule("bad", &["(unclosed"], &[], &[])]).unwrap_err();
    match error {
        RulesError::Pattern { place, pattern, .. } => {
            assert_eq!(place, "bad");
            assert_eq!(pattern, "(unclosed");
        }
        other => panic!("expected a pattern error, got {other}"),
    }
}

/// The texts the tests read: the policy's own examples and the training corpus.
pub(crate) fn team_texts() -> Vec<String> {
    let mut texts = Vec::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/model/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut lines: Vec<String> = include_str!("../../../policy/dev-examples.jsonl")
        .lines()
        .map(str::to_owned)
        .collect();
    for file in files {
        // Every eighth line: the corpus is large, and a debug build runs every pattern.
        let corpus = std::fs::read_to_string(file).unwrap();
        lines.extend(corpus.lines().step_by(8).map(str::to_owned));
    }
    for line in lines {
        let item: serde_json::Value = serde_json::from_str(&line).unwrap();
        for field in ["title", "body", "text"] {
            if let Some(text) = item[field].as_str() {
                texts.push(text.to_owned());
            }
        }
    }
    texts
}

/// The gate is an optimisation only: on the team's own texts, every pattern of the
/// shipped policy yields exactly the matches of its own full search, and the embedded
/// policy's gates (computed by the build) are the ones computed at run time.
#[test]
fn every_pattern_of_the_shipped_policy_finds_exactly_what_its_own_search_finds() {
    let policy = crate::policy::Policy::embedded().unwrap();
    let engine = policy.rules();
    let mut matched = 0;
    let texts = team_texts();
    assert!(texts.len() > 500, "{} texts", texts.len());
    let full_searches: Vec<Regex> = engine
        .patterns
        .iter()
        .map(|p| compile_pattern(&p.source).unwrap())
        .collect();
    for original in &texts {
        let text = normalize(original);
        let text = text.as_str();
        let mut pass = LiteralPass::new(engine, text);
        for (at, pattern) in engine.patterns.iter().enumerate() {
            let full: Vec<Range<usize>> = full_searches[at]
                .find_iter(text)
                .map(|m| m.range())
                .collect();
            matched += full.len();
            assert_eq!(pass.spans_of(at), &full[..], "pattern {:?}", pattern.source);
        }
    }
    assert!(
        matched > 1_000,
        "the texts exercise the rules ({matched} matches)"
    );
    let always = engine
        .patterns
        .iter()
        .filter(|p| p.gate == Gate::Always)
        .count();
    assert!(
        always < engine.patterns.len() / 10,
        "{always} patterns always run"
    );
    for pattern in &engine.patterns {
        assert_eq!(
            Some(&pattern.gate),
            gate_of(&pattern.source).ok().as_ref(),
            "{:?}",
            pattern.source
        );
    }
}

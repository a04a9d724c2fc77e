//! What support sees over weeks rather than one case at a time: decisions per category per
//! day, accounts that keep offending, and one text posted from several accounts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::case::{CaseOutcome, CaseSummary};
use crate::taxonomy::Category;

/// Decisions of one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayDecisions {
    /// Days since the epoch (UTC).
    pub day: u64,
    /// Confirmed or kept-hidden decisions per final category.
    pub by_category: BTreeMap<Category, u32>,
    /// False positives (released), counted once per case.
    pub released: u32,
}

/// An account with two or more strikes from support's decisions in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatOffender {
    pub author_id: String,
    pub strikes: u32,
    pub categories: BTreeSet<Category>,
}

/// One content hash flagged for several accounts: the same text copied across accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repost {
    pub content_hash: String,
    pub authors: BTreeSet<String>,
    pub case_ids: Vec<String>,
    pub categories: BTreeSet<Category>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trends {
    pub days: Vec<DayDecisions>,
    pub repeat_offenders: Vec<RepeatOffender>,
    pub reposts: Vec<Repost>,
}

/// Trends from the cases closed on each day of the window and the cases opened in it.
pub fn compute(closed: &[(u64, Vec<CaseSummary>)], opened: &[CaseSummary]) -> Trends {
    let mut days = Vec::with_capacity(closed.len());
    let mut strikes: BTreeMap<&str, (u32, BTreeSet<Category>)> = BTreeMap::new();
    for (day, cases) in closed {
        let mut decisions = DayDecisions {
            day: *day,
            ..DayDecisions::default()
        };
        for case in cases {
            let Some(resolution) = &case.resolution else {
                continue;
            };
            match resolution.outcome {
                CaseOutcome::Released => decisions.released += 1,
                CaseOutcome::KeptHidden | CaseOutcome::Removed => {
                    for category in &resolution.final_categories {
                        *decisions.by_category.entry(*category).or_default() += 1;
                    }
                }
            }
            if resolution.outcome == CaseOutcome::Removed {
                let entry = strikes.entry(case.author_id.as_str()).or_default();
                entry.0 += resolution.final_categories.len() as u32;
                entry.1.extend(resolution.final_categories.iter().copied());
            }
        }
        days.push(decisions);
    }
    let mut repeat_offenders: Vec<RepeatOffender> = strikes
        .into_iter()
        .filter(|(_, (n, _))| *n >= 2)
        .map(|(author, (n, categories))| RepeatOffender {
            author_id: author.to_owned(),
            strikes: n,
            categories,
        })
        .collect();
    repeat_offenders.sort_by(|a, b| {
        b.strikes
            .cmp(&a.strikes)
            .then(a.author_id.cmp(&b.author_id))
    });

    let mut by_hash: BTreeMap<&str, Repost> = BTreeMap::new();
    for case in opened {
        let Some(hash) = case.content_hash.as_deref() else {
            continue;
        };
        let repost = by_hash.entry(hash).or_insert_with(|| Repost {
            content_hash: hash.to_owned(),
            authors: BTreeSet::new(),
            case_ids: Vec::new(),
            categories: BTreeSet::new(),
        });
        repost.authors.insert(case.author_id.clone());
        repost.case_ids.push(case.case_id.clone());
        repost.categories.extend(case.categories.iter().copied());
    }
    let mut reposts: Vec<Repost> = by_hash
        .into_values()
        .filter(|r| r.authors.len() >= 2)
        .collect();
    reposts.sort_by(|a, b| {
        b.authors
            .len()
            .cmp(&a.authors.len())
            .then(a.content_hash.cmp(&b.content_hash))
    });
    Trends {
        days,
        repeat_offenders,
        reposts,
    }
}

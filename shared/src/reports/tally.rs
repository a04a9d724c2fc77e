//! A target's tally: what has been reported against one user, each reporter counted once
//! per category at their heaviest, brigades and unsettled new accounts left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::taxonomy::ReportCategory;

/// One report's contribution, kept in the target's tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TallyEntry {
    /// The report behind this entry, so that support can resolve a target's reports from
    /// its tally (absent in entries written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    pub reporter_id: String,
    pub category: ReportCategory,
    pub weight: f64,
    pub new_account: bool,
    pub received_at: Timestamp,
    /// Part of a brigade: does not count toward a crossing.
    pub brigading: bool,
}

/// What has been reported against one user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetTally {
    pub entries: Vec<TallyEntry>,
    /// Categories that have crossed their threshold (and alerted support) already.
    pub crossed: Vec<ReportCategory>,
    /// A brigading alert has gone out for this target.
    pub brigading_flagged: bool,
}

impl TargetTally {
    /// Weighted score per category: each reporter counts once (their heaviest report),
    /// brigading reports not at all, and a new account's report only once it is older than
    /// the brigade window (`settled_before`): until then a burst may still form around it,
    /// so new accounts alone can never push a target over in one sitting.
    pub fn scores(&self, settled_before: Timestamp) -> BTreeMap<ReportCategory, (f64, usize)> {
        let mut best: BTreeMap<(ReportCategory, &str), f64> = BTreeMap::new();
        let counts = |e: &&TallyEntry| {
            let provisional = e.new_account && e.received_at >= settled_before;
            !(e.brigading || provisional)
        };
        for e in self.entries.iter().filter(counts) {
            let w = best
                .entry((e.category, e.reporter_id.as_str()))
                .or_insert(0.0);
            *w = w.max(e.weight);
        }
        let mut scores: BTreeMap<ReportCategory, (f64, usize)> = BTreeMap::new();
        for ((category, _), weight) in best {
            let s = scores.entry(category).or_insert((0.0, 0));
            s.0 += weight;
            s.1 += 1;
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Category;

    #[test]
    fn a_reporter_counts_once_per_category_at_their_heaviest() {
        let entry = |reporter: &str, weight: f64| TallyEntry {
            report_id: None,
            reporter_id: reporter.into(),
            category: ReportCategory::Category(Category::Spam),
            weight,
            new_account: false,
            received_at: 10,
            brigading: false,
        };
        let tally = TargetTally {
            entries: vec![entry("a", 1.0), entry("a", 1.5), entry("b", 1.0)],
            ..TargetTally::default()
        };
        assert_eq!(
            tally.scores(0)[&ReportCategory::Category(Category::Spam)],
            (2.5, 2)
        );
    }
}

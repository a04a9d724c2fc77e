//! The one featurizer of the classifier, shared by training and serving.
//!
//! Training reads its features from `anshin featurize` (this code), and the Lambda
//! computes them with the same function, so the two can never drift. A document becomes
//! hashed character n-grams of its normalised title and body (the rules' normalisation,
//! so evasions look alike to the model too), plus its kind, with sublinear counts
//! (1 + ln count), L2-normalised, sorted by index. A fixed-width model input needs a
//! bounded number of features: beyond `max_features` the lowest-weighted ones are
//! dropped before normalising.

use std::collections::HashMap;
use std::hash::Hasher;

use fnv::FnvHasher;
use serde::{Deserialize, Serialize};

use crate::normalize::NormalizedText;
use crate::submission::SubmissionKind;

/// Stamped into the model manifest; change it with any change to this file's output.
pub const FEATURIZER_VERSION: &str = "charngram-fnv1a-v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeaturizerConfig {
    /// Hash space; a power of two.
    pub buckets: u32,
    pub min_n: usize,
    pub max_n: usize,
    /// The model's fixed input width.
    pub max_features: usize,
}

impl Default for FeaturizerConfig {
    fn default() -> Self {
        FeaturizerConfig {
            buckets: 1 << 18,
            min_n: 1,
            max_n: 3,
            max_features: 2_048,
        }
    }
}

/// A sparse feature vector: strictly increasing `indices`, one `value` each, unit L2 norm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

fn bucket(config: &FeaturizerConfig, bytes: &[u8]) -> u32 {
    let mut hasher = FnvHasher::default();
    hasher.write(bytes);
    // The modulus keeps every index in range whatever `buckets` is.
    (hasher.finish() % u64::from(config.buckets)) as u32
}

pub fn featurize(
    config: &FeaturizerConfig,
    kind: SubmissionKind,
    title: Option<&NormalizedText>,
    body: &NormalizedText,
) -> Features {
    let mut counts: HashMap<u32, u32> = HashMap::new();
    *counts
        .entry(bucket(
            config,
            format!("\u{0}kind:{}", kind.as_str()).as_bytes(),
        ))
        .or_default() += 1;
    for text in title.into_iter().chain([body]) {
        // Byte offsets of every char, and the end, so that windows slice whole chars.
        let bounds: Vec<usize> = text
            .as_str()
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.as_str().len()])
            .collect();
        let chars = bounds.len() - 1;
        for n in config.min_n..=config.max_n {
            for start in 0..chars.saturating_sub(n - 1) {
                let gram = &text.as_str().as_bytes()[bounds[start]..bounds[start + n]];
                *counts.entry(bucket(config, gram)).or_default() += 1;
            }
        }
    }

    let mut weighted: Vec<(u32, f32)> = counts
        .into_iter()
        .map(|(index, count)| (index, 1.0 + (count as f32).ln()))
        .collect();
    if weighted.len() > config.max_features {
        // Keep the heaviest; ties go to the lower index so that the choice is stable.
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        weighted.truncate(config.max_features);
    }
    weighted.sort_by_key(|&(index, _)| index);
    let norm = weighted.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    Features {
        indices: weighted.iter().map(|&(i, _)| i).collect(),
        values: weighted.iter().map(|&(_, v)| v / norm).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn features(kind: SubmissionKind, body: &str) -> Features {
        featurize(&FeaturizerConfig::default(), kind, None, &normalize(body))
    }

    /// Pinned output: if this changes, the shipped model no longer matches its features,
    /// so bump FEATURIZER_VERSION and retrain.
    #[test]
    fn a_fixed_text_gives_the_pinned_vector() {
        let f = features(SubmissionKind::Message, "LINE ID");
        assert_eq!(
            f.indices, PINNED_INDICES,
            "featurizer output changed: bump FEATURIZER_VERSION and retrain"
        );
        for (value, pinned) in f.values.iter().zip(PINNED_VALUES) {
            assert!((value - pinned).abs() < 1e-6, "{value} vs {pinned}");
        }
    }

    #[test]
    fn vectors_are_sorted_unique_unit_length_and_deterministic() {
        let text = "ロゴ制作をお願いします。ロゴ制作の実績がある方、ご応募ください。";
        let a = features(SubmissionKind::JobPosting, text);
        assert_eq!(a, features(SubmissionKind::JobPosting, text));
        assert!(a.indices.windows(2).all(|w| w[0] < w[1]));
        let norm: f32 = a.values.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(a
            .indices
            .iter()
            .all(|&i| i < FeaturizerConfig::default().buckets));
    }

    #[test]
    fn evasions_the_normaliser_undoes_give_the_same_features() {
        assert_eq!(
            features(SubmissionKind::Message, "ＬＩＮＥ ＩＤ"),
            features(SubmissionKind::Message, "L I N E ID")
        );
        assert_ne!(
            features(SubmissionKind::Message, "line id"),
            features(SubmissionKind::Profile, "line id"),
            "the kind is a feature"
        );
    }

    #[test]
    fn long_texts_keep_at_most_max_features() {
        let config = FeaturizerConfig {
            max_features: 64,
            ..FeaturizerConfig::default()
        };
        let body: String = (0..500).map(|i| format!("項目{i}は{}番", i * 7)).collect();
        let body = normalize(&body);
        let f = featurize(&config, SubmissionKind::JobPosting, None, &body);
        assert_eq!(f.indices.len(), 64);
    }

    /// "LINE ID" as a message: 6 distinct unigrams ("i" twice), 6 bigrams, 5 trigrams and
    /// the kind; every weight 1/√(17 + 1.693²) except "i" at 1.693× that.
    const PINNED_INDICES: [u32; 18] = [
        15040, 19390, 35324, 58657, 98687, 105376, 124352, 124787, 128267, 129137, 129572, 143868,
        147668, 153698, 186680, 234034, 243339, 259462,
    ];
    const PINNED_VALUES: [f32; 18] = [
        0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544,
        0.22435544, 0.22435544, 0.22435544, 0.37986678, 0.22435544, 0.22435544, 0.22435544,
        0.22435544, 0.22435544, 0.22435544, 0.22435544,
    ];
}

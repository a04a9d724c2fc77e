//! The one featurizer of the classifier, shared by training and serving.
//!
//! Training reads its features from `anshin featurize` (this code), and the Lambda
//! computes them with the same function, so the two can never drift. A document becomes
//! hashed character n-grams of its normalised title and body (the rules' normalisation,
//! so evasions look alike to the model too), plus its kind, with sublinear counts
//! (1 + ln count), L2-normalised, sorted by index. A fixed-width model input needs a
//! bounded number of features: beyond `max_features` the lowest-weighted ones are
//! dropped before normalising.

use serde::{Deserialize, Serialize};

use crate::normalize::NormalizedText;
use crate::submission::SubmissionKind;

/// Stamped into the model manifest; change it with any change to this file's output.
pub const FEATURIZER_VERSION: &str = "charngram-fnv1a-v2";

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
            buckets: 1 << 17,
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

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

fn bucket_of(config: &FeaturizerConfig, hash: u64) -> u32 {
    let buckets = u64::from(config.buckets);
    // For a power of two the mask is the modulus without a division, which would
    // otherwise cost more than hashing the gram.
    if buckets.is_power_of_two() {
        (hash & (buckets - 1)) as u32
    } else {
        (hash % buckets) as u32
    }
}

pub fn featurize(
    config: &FeaturizerConfig,
    kind: SubmissionKind,
    title: Option<&NormalizedText>,
    body: &NormalizedText,
) -> Features {
    let kind_feature = format!("\u{0}kind:{}", kind.as_str());
    let mut grams: Vec<u32> = Vec::with_capacity(
        1 + (config.max_n - config.min_n + 1)
            * (body.as_str().len() + title.map_or(0, |t| t.as_str().len())),
    );
    grams.push(bucket_of(
        config,
        fnv1a_extend(FNV_OFFSET, kind_feature.as_bytes()),
    ));
    let mut bounds: Vec<usize> = Vec::new();
    for text in title.into_iter().chain([body]) {
        let bytes = text.as_str().as_bytes();
        // Byte offsets of every char, and the end, so that windows slice whole chars.
        bounds.clear();
        bounds.extend(text.as_str().char_indices().map(|(i, _)| i));
        bounds.push(bytes.len());
        let chars = bounds.len() - 1;
        for start in 0..chars {
            // FNV-1a is a running hash over bytes, so the n-gram's hash continues the
            // (n-1)-gram's: every gram starting here costs one pass over its last char.
            let mut hash = FNV_OFFSET;
            for n in 1..=config.max_n.min(chars - start) {
                hash = fnv1a_extend(hash, &bytes[bounds[start + n - 1]..bounds[start + n]]);
                if n >= config.min_n {
                    grams.push(bucket_of(config, hash));
                }
            }
        }
    }

    // Counting by sorting beats a hash map here: one allocation, sequential memory.
    grams.sort_unstable();
    let mut weighted: Vec<(u32, f32)> =
        Vec::with_capacity(grams.len().min(4 * config.max_features));
    for run in grams.chunk_by(|a, b| a == b) {
        weighted.push((run[0], 1.0 + (run.len() as f32).ln()));
    }
    if weighted.len() > config.max_features {
        // Keep the heaviest; ties go to the lower index so that the choice is stable.
        let heavier_first =
            |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        weighted.select_nth_unstable_by(config.max_features - 1, heavier_first);
        weighted.truncate(config.max_features);
        weighted.sort_unstable_by_key(|&(index, _)| index);
    }
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
    fn the_running_hash_is_fnv1a_of_the_whole_gram() {
        use std::hash::Hasher;
        let gram = "ラインID".as_bytes();
        let mut reference = fnv::FnvHasher::default();
        reference.write(gram);
        let (head, tail) = gram.split_at(6);
        assert_eq!(
            fnv1a_extend(fnv1a_extend(FNV_OFFSET, head), tail),
            reference.finish()
        );
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
        12796, 15040, 16596, 19390, 22626, 35324, 55608, 58657, 98687, 102962, 105376, 112267,
        124352, 124787, 128267, 128390, 129137, 129572,
    ];
    const PINNED_VALUES: [f32; 18] = [
        0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544,
        0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544, 0.22435544,
        0.22435544, 0.22435544, 0.22435544, 0.37986678,
    ];
}

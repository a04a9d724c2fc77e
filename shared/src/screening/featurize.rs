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

use crate::taxonomy::SubmissionKind;
use crate::text::NormalizedText;

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

/// One char's UTF-8 bytes, packed little-endian, and how many there are.
#[derive(Debug, Clone, Copy)]
struct PackedChar {
    bytes: u32,
    len: u32,
}

impl PackedChar {
    fn of(c: char) -> PackedChar {
        let mut buffer = [0u8; 4];
        let len = c.encode_utf8(&mut buffer).len() as u32;
        PackedChar {
            bytes: u32::from_le_bytes(buffer),
            len,
        }
    }
}

/// `fnv1a_extend` over one char's bytes, always four steps with the unused ones discarded:
/// a select instead of a loop whose length follows the text means no mispredicted branch
/// between ASCII and kana, and the hashes of neighbouring windows can overlap in the CPU.
fn fnv1a_extend_char(mut hash: u64, c: PackedChar) -> u64 {
    for k in 0..4 {
        let stepped = (hash ^ u64::from((c.bytes >> (8 * k)) & 0xff)).wrapping_mul(FNV_PRIME);
        hash = if k < c.len { stepped } else { hash };
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

/// Reused per thread: a count per bucket and a bitmap of the buckets touched, both left
/// zeroed after every call. A document touches a few thousand of the 2^17 buckets, so
/// counting in place and walking the bitmap in index order costs a fraction of sorting
/// every gram, and clearing only what was touched costs nothing per bucket.
#[derive(Default)]
struct Scratch {
    counts: Vec<u32>,
    touched: Vec<u64>,
    /// The chars of the text being hashed.
    chars: Vec<PackedChar>,
    /// The bucket of every gram, in text order.
    grams: Vec<u32>,
    /// (index, count) of every touched bucket, in index order.
    distinct: Vec<(u32, u32)>,
    counts_only: Vec<u32>,
    /// Set while counting: still set on entry means the last call on this thread unwound
    /// half-way, and the tables must be wiped before they are trusted.
    counting: bool,
}

impl Scratch {
    fn ensure(&mut self, buckets: usize) {
        if self.counts.len() != buckets {
            self.counts = vec![0; buckets];
            self.touched = vec![0; buckets.div_ceil(64)];
        } else if self.counting {
            self.counts.fill(0);
            self.touched.fill(0);
        }
        self.counting = true;
    }

    fn add(&mut self, bucket: u32) {
        let slot = &mut self.counts[bucket as usize];
        *slot = slot.saturating_add(1);
        self.touched[bucket as usize / 64] |= 1 << (bucket % 64);
    }

    /// Moves the touched buckets into `distinct`, in index order, and re-zeroes both tables.
    fn drain_in_index_order(&mut self) {
        self.distinct.clear();
        for (word_index, word) in self.touched.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let bucket = word_index * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.distinct
                    .push((bucket as u32, std::mem::take(&mut self.counts[bucket])));
            }
        }
        self.counting = false;
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

pub fn featurize(
    config: &FeaturizerConfig,
    kind: SubmissionKind,
    title: Option<&NormalizedText>,
    body: &NormalizedText,
) -> Features {
    SCRATCH.with(|scratch| featurize_with(&mut scratch.borrow_mut(), config, kind, title, body))
}

fn featurize_with(
    scratch: &mut Scratch,
    config: &FeaturizerConfig,
    kind: SubmissionKind,
    title: Option<&NormalizedText>,
    body: &NormalizedText,
) -> Features {
    scratch.ensure(config.buckets as usize);
    let kind_feature = format!("\u{0}kind:{}", kind.as_str());
    scratch.add(bucket_of(
        config,
        fnv1a_extend(FNV_OFFSET, kind_feature.as_bytes()),
    ));
    let mut chars = std::mem::take(&mut scratch.chars);
    let mut grams = std::mem::take(&mut scratch.grams);
    grams.clear();
    for text in title.into_iter().chain([body]) {
        chars.clear();
        chars.extend(text.as_str().chars().map(PackedChar::of));
        // Hashing first and counting after keeps this loop free of memory dependences,
        // so the hash chains of neighbouring windows run side by side.
        for start in 0..chars.len() {
            // FNV-1a is a running hash over bytes, so the n-gram's hash continues the
            // (n-1)-gram's: every gram starting here costs one pass over its last char.
            let mut hash = FNV_OFFSET;
            let longest = config.max_n.min(chars.len() - start);
            for (n, &c) in (1..=longest).zip(&chars[start..]) {
                hash = fnv1a_extend_char(hash, c);
                if n >= config.min_n {
                    grams.push(bucket_of(config, hash));
                }
            }
        }
    }
    for &gram in &grams {
        scratch.add(gram);
    }
    scratch.grams = grams;
    scratch.chars = chars;
    scratch.drain_in_index_order();

    // Beyond `max_features`, keep the heaviest; ties go to the lower index so that the
    // choice is stable. The weight grows with the count, so the cut is a count: every
    // bucket above it stays, and of those at it, the lowest indices fill what is left.
    let distinct = &scratch.distinct;
    let (cutoff, mut room_at_cutoff) = if distinct.len() > config.max_features {
        let counts = &mut scratch.counts_only;
        counts.clear();
        counts.extend(distinct.iter().map(|&(_, count)| count));
        let heaviest_first = |a: &u32, b: &u32| b.cmp(a);
        let (_, &mut cutoff, _) =
            counts.select_nth_unstable_by(config.max_features - 1, heaviest_first);
        let above = distinct.iter().filter(|&&(_, c)| c > cutoff).count();
        (cutoff, config.max_features - above)
    } else {
        (0, 0)
    };
    let mut indices = Vec::with_capacity(distinct.len().min(config.max_features));
    let mut values = Vec::with_capacity(indices.capacity());
    for &(index, count) in distinct {
        if count < cutoff || (count == cutoff && room_at_cutoff == 0) {
            continue;
        }
        if count == cutoff {
            room_at_cutoff -= 1;
        }
        indices.push(index);
        // ln 1 = 0: most grams occur once, and the logarithm is the costliest step left.
        values.push(if count == 1 {
            1.0
        } else {
            1.0 + (count as f32).ln()
        });
    }
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    for value in &mut values {
        *value /= norm;
    }
    Features { indices, values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

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
    fn hashing_a_char_at_once_equals_hashing_its_bytes() {
        for c in ['a', 'é', 'ラ', '𠮷', '\u{0}'] {
            let mut buffer = [0u8; 4];
            let bytes = c.encode_utf8(&mut buffer).as_bytes();
            assert_eq!(
                fnv1a_extend_char(FNV_OFFSET, PackedChar::of(c)),
                fnv1a_extend(FNV_OFFSET, bytes),
                "{c:?}"
            );
        }
    }

    #[test]
    fn tables_left_dirty_by_an_interrupted_call_are_wiped_first() {
        let config = FeaturizerConfig::default();
        let body = normalize("ロゴ制作をお願いします。");
        let clean = featurize(&config, SubmissionKind::JobPosting, None, &body);
        let mut scratch = Scratch::default();
        scratch.ensure(config.buckets as usize);
        // As if a call had counted some grams and then unwound before draining.
        scratch.add(7);
        scratch.add(clean.indices[0]);
        let after = featurize_with(
            &mut scratch,
            &config,
            SubmissionKind::JobPosting,
            None,
            &body,
        );
        assert_eq!(after, clean);
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

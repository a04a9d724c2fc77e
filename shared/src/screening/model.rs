//! The ONNX text classifier: the exported linear graph read and run directly
//! ([`super::linear`]), any other graph served with tract.
//!
//! `shared/model/train.py` writes the model and its manifest; both are embedded in the
//! binary, and `ANSHIN_MODEL_PATH` (a manifest file, the model named in it beside it)
//! replaces them. Loading checks the model's hash and that the manifest's featurizer is the
//! one compiled here — a model trained on other features would score garbage without
//! failing. A graph that is not the exported linear one is handed to tract, which builds
//! the narrowest plan (so that a graph tract cannot run fails the cold start) and each
//! wider one on first use. After that, `predict` is a featurize plus one sparse dot
//! product, or one run of a plan.
//!
//! The graph's feature width K is symbolic; each plan fixes it (a symbolic dimension costs
//! two orders of magnitude) at one of 128, 256, … `max_features`. A run costs about in
//! proportion to K, and most documents have a few hundred features, so each runs on the
//! narrowest plan that holds it, padded with index 0 / value 0, which adds nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use tract_onnx::prelude::*;

use super::classifier::{Classifier, ClassifierError, ScreenDocument};
use super::featurize::{featurize, Features, FeaturizerConfig, FEATURIZER_VERSION};
use super::linear::LinearGraph;
use crate::digest::sha256_hex;
use crate::taxonomy::Category;

const EMBEDDED_MODEL: &[u8] = include_bytes!("../../model/anshin-classifier.onnx");
const EMBEDDED_MANIFEST: &str = include_str!("../../model/manifest.json");
// The embedded model's SHA-256, computed by `shared/build.rs` from the same file.
include!(concat!(env!("OUT_DIR"), "/embedded_model_sha256.rs"));

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model manifest: {0}")]
    Manifest(#[from] serde_json::Error),
    #[error("model file hash {actual} does not match the manifest's {expected}")]
    HashMismatch { expected: String, actual: String },
    #[error("model was trained on featurizer {trained} {trained_config:?}, this build serves {served} {served_config:?}")]
    FeaturizerMismatch {
        trained: String,
        trained_config: FeaturizerConfig,
        served: &'static str,
        served_config: FeaturizerConfig,
    },
    #[error("model manifest categories: {0}")]
    Categories(String),
    #[error("model graph: {0}")]
    Graph(String),
}

#[derive(Debug, Clone, Deserialize)]
struct FeaturizerStamp {
    version: String,
    config: FeaturizerConfig,
}

/// The part of `manifest.json` that serving needs; the rest documents the training run.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelManifest {
    pub model_version: String,
    pub model_file: String,
    pub model_sha256: String,
    featurizer: FeaturizerStamp,
    /// The model's output order.
    pub categories: Vec<String>,
    /// Calibrated probability at which a category is flagged (the operating point).
    pub thresholds: std::collections::BTreeMap<String, f64>,
}

type Plan = Arc<TypedRunnableModel>;

/// The narrowest plan's width; below it a run costs about the same whatever K is.
const NARROWEST_PLAN: usize = 128;

/// How the graph runs.
enum Engine {
    /// The exported linear graph, read straight from the file.
    Linear(LinearGraph),
    Tract {
        /// The parsed graph, from which each plan is optimised for its width.
        graph: Box<InferenceModel>,
        /// (width, plan once built), widest last.
        plans: Vec<(usize, std::sync::OnceLock<Result<Plan, String>>)>,
    },
}

/// Which engine to use for a graph both can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefer {
    Linear,
    /// For the parity test: tract's own run of the same file.
    #[cfg_attr(not(test), allow(dead_code))]
    Tract,
}

/// The loaded, optimised model: one per process, shared by every invocation.
pub struct OnnxClassifier {
    engine: Engine,
    manifest: ModelManifest,
    featurizer: FeaturizerConfig,
    /// Output position → category.
    outputs: Vec<Category>,
    thresholds: [f64; Category::ALL.len()],
}

impl std::fmt::Debug for OnnxClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxClassifier")
            .field("model_version", &self.manifest.model_version)
            .finish_non_exhaustive()
    }
}

/// Where the model comes from: embedded in the binary, or a manifest on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    Embedded,
    Manifest(PathBuf),
}

impl ModelSource {
    pub fn load(&self) -> Result<OnnxClassifier, ModelError> {
        match self {
            ModelSource::Embedded => OnnxClassifier::embedded(),
            ModelSource::Manifest(path) => OnnxClassifier::from_manifest_path(path),
        }
    }
}

impl OnnxClassifier {
    /// The embedded model; its hash was computed at build time.
    pub fn embedded() -> Result<Self, ModelError> {
        Self::load(
            EMBEDDED_MODEL,
            EMBEDDED_MODEL_SHA256,
            EMBEDDED_MANIFEST,
            Prefer::Linear,
        )
    }

    pub fn from_manifest_path(path: &Path) -> Result<Self, ModelError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| ModelError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let manifest_text = String::from_utf8_lossy(&read(path)?).into_owned();
        let manifest: ModelManifest = serde_json::from_str(&manifest_text)?;
        let model_path = path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&manifest.model_file);
        Self::from_parts(&read(&model_path)?, &manifest_text)
    }

    pub fn from_parts(model: &[u8], manifest: &str) -> Result<Self, ModelError> {
        Self::load(model, &sha256_hex(model), manifest, Prefer::Linear)
    }

    /// `sha256`: the model's hash, already known (the embedded model's) or just computed.
    fn load(
        model: &[u8],
        sha256: &str,
        manifest: &str,
        prefer: Prefer,
    ) -> Result<Self, ModelError> {
        let manifest: ModelManifest = serde_json::from_str(manifest)?;
        let actual = sha256.to_owned();
        if actual != manifest.model_sha256 {
            return Err(ModelError::HashMismatch {
                expected: manifest.model_sha256,
                actual,
            });
        }
        let served_config = FeaturizerConfig::default();
        if manifest.featurizer.version != FEATURIZER_VERSION
            || manifest.featurizer.config != served_config
        {
            return Err(ModelError::FeaturizerMismatch {
                trained: manifest.featurizer.version.clone(),
                trained_config: manifest.featurizer.config,
                served: FEATURIZER_VERSION,
                served_config,
            });
        }
        let outputs = manifest
            .categories
            .iter()
            .map(|id| {
                id.parse::<Category>()
                    .map_err(|e| ModelError::Categories(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if outputs.len() != Category::ALL.len()
            || Category::ALL.iter().any(|c| !outputs.contains(c))
        {
            return Err(ModelError::Categories(format!(
                "expected each of the {} taxonomy categories once, got {:?}",
                Category::ALL.len(),
                manifest.categories
            )));
        }
        let mut thresholds = [0.5; Category::ALL.len()];
        for category in Category::ALL {
            let t = manifest
                .thresholds
                .get(category.id())
                .copied()
                .ok_or_else(|| ModelError::Categories(format!("no threshold for {category}")))?;
            if !(0.0 < t && t < 1.0) {
                return Err(ModelError::Categories(format!(
                    "threshold for {category} must lie strictly between 0 and 1, got {t}"
                )));
            }
            thresholds[category.index()] = t;
        }
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(model))
            .map_err(|e| ModelError::Graph(format!("{e:#}")))?;
        let linear = LinearGraph::recognise(&proto)
            .filter(|linear| linear.categories() == outputs.len() && prefer == Prefer::Linear);
        let engine = match linear {
            Some(linear) => Engine::Linear(linear),
            None => Engine::Tract {
                graph: Box::new(
                    onnx.model_for_proto_model(&proto)
                        .map_err(|e| ModelError::Graph(format!("{e:#}")))?,
                ),
                plans: plan_widths(served_config.max_features)
                    .into_iter()
                    .map(|width| (width, std::sync::OnceLock::new()))
                    .collect(),
            },
        };
        let classifier = OnnxClassifier {
            engine,
            manifest,
            featurizer: served_config,
            outputs,
            thresholds,
        };
        if let Engine::Tract { .. } = classifier.engine {
            classifier
                .plan(0)
                .map_err(|e| ModelError::Graph(e.to_string()))?;
        }
        Ok(classifier)
    }

    /// The plan at `slot` of [`OnnxClassifier::plan_widths`], optimised on first use.
    fn plan(&self, slot: usize) -> Result<&Plan, ClassifierError> {
        let Engine::Tract { graph, plans } = &self.engine else {
            return Err(ClassifierError("the linear graph has no plans".into()));
        };
        let (width, plan) = &plans[slot];
        plan.get_or_init(|| {
            optimised_plan(graph, *width, self.outputs.len()).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| ClassifierError(e.clone()))
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    pub fn features(&self, document: &ScreenDocument<'_>) -> Features {
        featurize(
            &self.featurizer,
            document.kind,
            document.title,
            document.body,
        )
    }

    /// The feature widths of tract's plans, narrowest first (none for the linear graph).
    pub fn plan_widths(&self) -> Vec<usize> {
        match &self.engine {
            Engine::Linear(_) => Vec::new(),
            Engine::Tract { plans, .. } => plans.iter().map(|&(width, _)| width).collect(),
        }
    }

    /// Whether the graph runs without tract.
    pub fn runs_linear(&self) -> bool {
        matches!(self.engine, Engine::Linear(_))
    }

    /// Calibrated probabilities, in the model's output order (`manifest().categories`).
    pub fn predict_features(&self, features: &Features) -> Result<Vec<f32>, ClassifierError> {
        let used = features.indices.len().min(features.values.len());
        if used > self.featurizer.max_features {
            return Err(ClassifierError(format!(
                "{used} features, more than the widest plan's {}",
                self.featurizer.max_features
            )));
        }
        let plans = match &self.engine {
            Engine::Linear(linear) => {
                return linear
                    .scores(&features.indices[..used], &features.values[..used])
                    .ok_or_else(|| ClassifierError("a feature index is outside the model".into()));
            }
            Engine::Tract { plans, .. } => plans,
        };
        // The widest plan is `max_features` wide, so the check above leaves one that holds.
        let slot = plans
            .iter()
            .position(|&(width, _)| width >= used)
            .unwrap_or(plans.len() - 1);
        let width = plans[slot].0;
        run_padded(self.plan(slot)?, width, features).map_err(|e| ClassifierError(format!("{e:#}")))
    }
}

/// Runs `plan` on `features` padded to its `width` with index 0 / value 0: the padding
/// gathers a row and multiplies it away.
fn run_padded(plan: &Plan, width: usize, features: &Features) -> TractResult<Vec<f32>> {
    let mut indices = vec![0i64; width];
    let mut values = vec![0f32; width];
    for (slot, (&i, &v)) in features.indices.iter().zip(&features.values).enumerate() {
        indices[slot] = i64::from(i);
        values[slot] = v;
    }
    let indices = tract_ndarray::Array2::from_shape_vec((1, width), indices)?;
    let values = tract_ndarray::Array2::from_shape_vec((1, width), values)?;
    let outputs = plan.run(tvec!(
        Tensor::from(indices).into(),
        Tensor::from(values).into()
    ))?;
    Ok(outputs[0]
        .to_plain_array_view::<f32>()?
        .iter()
        .copied()
        .collect())
}

/// The plans' widths: 128, 256, … doubling, and `max_features` last.
fn plan_widths(max_features: usize) -> Vec<usize> {
    let mut widths: Vec<usize> = std::iter::successors(Some(NARROWEST_PLAN), |w| Some(w * 2))
        .take_while(|&w| w < max_features)
        .collect();
    widths.push(max_features);
    widths
}

/// The graph optimised for one width; the plans share the parsed graph's weights.
fn optimised_plan(graph: &InferenceModel, width: usize, categories: usize) -> TractResult<Plan> {
    graph
        .clone()
        .with_input_fact(0, i64::fact([1, width]).into())?
        .with_input_fact(1, f32::fact([1, width]).into())?
        .with_output_fact(0, f32::fact([1, categories]).into())?
        .into_optimized()?
        .into_runnable()
}

impl Classifier for OnnxClassifier {
    fn version(&self) -> &str {
        &self.manifest.model_version
    }

    fn thresholds(&self) -> [f64; Category::ALL.len()] {
        self.thresholds
    }

    fn predict(
        &self,
        document: &ScreenDocument<'_>,
    ) -> Result<[f64; Category::ALL.len()], ClassifierError> {
        let scores = self.predict_features(&self.features(document))?;
        let mut by_category = [0.0; Category::ALL.len()];
        for (category, score) in self.outputs.iter().zip(scores) {
            by_category[category.index()] = f64::from(score);
        }
        Ok(by_category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::SubmissionKind;
    use crate::text::normalize;

    fn score(classifier: &OnnxClassifier, kind: SubmissionKind, body: &str) -> [f64; 13] {
        let body = normalize(body);
        classifier
            .predict(&ScreenDocument {
                kind,
                title: None,
                body: &body,
            })
            .unwrap()
    }

    #[test]
    fn the_build_time_hash_is_the_embedded_model_s() {
        assert_eq!(EMBEDDED_MODEL_SHA256, sha256_hex(EMBEDDED_MODEL));
        assert_eq!(EMBEDDED_MODEL_SHA256.len(), 64);
    }

    #[test]
    fn the_embedded_model_loads_and_scores_every_category_in_0_1() {
        let classifier = OnnxClassifier::embedded().unwrap();
        assert!(classifier.version().starts_with("clf-"));
        let scores = score(&classifier, SubmissionKind::Message, "よろしくお願いします");
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    }

    #[test]
    fn the_embedded_model_separates_an_obvious_violation_from_ordinary_text() {
        let classifier = OnnxClassifier::embedded().unwrap();
        let contact = score(
            &classifier,
            SubmissionKind::Message,
            "手数料がもったいないので、ここからはLINEでやり取りしましょう。IDは abc_123 です。直接取引なら安くします。",
        );
        let ordinary = score(
            &classifier,
            SubmissionKind::Message,
            "納品物を確認しました。修正点はありません。ありがとうございました。",
        );
        let i = Category::OffPlatformContact.index();
        assert!(contact[i] > classifier.thresholds()[i], "{}", contact[i]);
        assert!(ordinary[i] < classifier.thresholds()[i], "{}", ordinary[i]);
    }

    fn embedded_on_tract() -> OnnxClassifier {
        OnnxClassifier::load(
            EMBEDDED_MODEL,
            EMBEDDED_MODEL_SHA256,
            EMBEDDED_MANIFEST,
            Prefer::Tract,
        )
        .unwrap()
    }

    /// The sparse dot product gives tract's own run of the same file, on the team's texts
    /// and at the edges (no feature, the widest document).
    #[test]
    fn the_linear_graph_scores_as_tract_runs_the_same_file() {
        let linear = OnnxClassifier::embedded().unwrap();
        let tract = embedded_on_tract();
        assert!(linear.runs_linear() && !tract.runs_linear());
        let mut documents: Vec<Features> = crate::policy::rules::tests::team_texts()
            .iter()
            .map(|text| {
                let body = normalize(text);
                linear.features(&ScreenDocument {
                    kind: SubmissionKind::JobPosting,
                    title: None,
                    body: &body,
                })
            })
            .collect();
        let max = FeaturizerConfig::default().max_features;
        documents.push(Features {
            indices: Vec::new(),
            values: Vec::new(),
        });
        documents.push(Features {
            indices: (0..max as u32).map(|i| i * 7).collect(),
            values: vec![0.03; max],
        });
        let (mut exact, mut worst) = (0, 0f32);
        for features in &documents {
            let ours = linear.predict_features(features).unwrap();
            let theirs = tract.predict_features(features).unwrap();
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                worst = worst.max((a - b).abs());
                exact += usize::from(a == b);
            }
        }
        assert!(documents.len() > 500, "{} documents", documents.len());
        assert!(worst <= 1e-6, "largest difference {worst}");
        eprintln!(
            "parity: {} documents, {exact} of {} scores bit-identical, largest difference {worst:e}",
            documents.len(),
            documents.len() * Category::ALL.len()
        );
    }

    #[test]
    fn a_feature_index_outside_the_model_is_an_error() {
        let classifier = OnnxClassifier::embedded().unwrap();
        let features = Features {
            indices: vec![u32::MAX],
            values: vec![1.0],
        };
        let error = classifier.predict_features(&features).unwrap_err();
        assert!(error.0.contains("outside the model"), "{}", error.0);
    }

    #[test]
    fn every_plan_width_gives_the_same_scores() {
        let classifier = embedded_on_tract();
        let widths = classifier.plan_widths();
        assert_eq!(widths.first(), Some(&NARROWEST_PLAN));
        assert_eq!(
            widths.last(),
            Some(&FeaturizerConfig::default().max_features)
        );
        let body = normalize("手数料がかからないように、LINEで直接やり取りしませんか。");
        let features = classifier.features(&ScreenDocument {
            kind: SubmissionKind::Message,
            title: None,
            body: &body,
        });
        assert!(features.indices.len() < NARROWEST_PLAN);
        let narrowest = classifier.predict_features(&features).unwrap();
        // The same features on every wider plan: only the padding differs.
        for (slot, &width) in widths.iter().enumerate().skip(1) {
            let wide = run_padded(classifier.plan(slot).unwrap(), width, &features).unwrap();
            for (a, b) in narrowest.iter().zip(&wide) {
                assert!((a - b).abs() < 1e-6, "width {width}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn more_features_than_the_widest_plan_is_an_error_not_a_truncation() {
        let classifier = OnnxClassifier::embedded().unwrap();
        let width = FeaturizerConfig::default().max_features + 1;
        let features = Features {
            indices: (0..width as u32).collect(),
            values: vec![0.01; width],
        };
        let error = classifier.predict_features(&features).unwrap_err();
        assert!(error.0.contains("widest plan"), "{}", error.0);
    }

    #[test]
    fn a_tampered_model_is_refused_by_its_hash() {
        let mut model = EMBEDDED_MODEL.to_vec();
        let last = model.len() - 1;
        model[last] ^= 1;
        assert!(matches!(
            OnnxClassifier::from_parts(&model, EMBEDDED_MANIFEST),
            Err(ModelError::HashMismatch { .. })
        ));
    }

    #[test]
    fn a_model_trained_on_other_features_is_refused() {
        let mut manifest: serde_json::Value = serde_json::from_str(EMBEDDED_MANIFEST).unwrap();
        manifest["featurizer"]["config"]["buckets"] = serde_json::json!(1 << 18);
        let error = OnnxClassifier::from_parts(EMBEDDED_MODEL, &manifest.to_string()).unwrap_err();
        assert!(
            matches!(error, ModelError::FeaturizerMismatch { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_manifest_without_a_category_threshold_is_refused() {
        let mut manifest: serde_json::Value = serde_json::from_str(EMBEDDED_MANIFEST).unwrap();
        manifest["thresholds"]
            .as_object_mut()
            .unwrap()
            .remove("scam");
        let error = OnnxClassifier::from_parts(EMBEDDED_MODEL, &manifest.to_string()).unwrap_err();
        assert!(error.to_string().contains("scam"), "{error}");
    }

    #[test]
    fn a_missing_manifest_file_names_its_path() {
        let error = OnnxClassifier::from_manifest_path(Path::new("/nonexistent/manifest.json"))
            .unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/manifest.json"),
            "{error}"
        );
    }
}

//! The classifier port: how a text classifier plugs into screening. The ONNX model
//! ([`super::model::OnnxClassifier`]) in production; anything in tests.

use crate::taxonomy::{Category, SubmissionKind};
use crate::text::NormalizedText;

/// What a classifier sees: the submission's fields after the rules' normalisation, so
/// that the model and the rules read the same text.
pub struct ScreenDocument<'a> {
    pub kind: SubmissionKind,
    pub title: Option<&'a NormalizedText>,
    pub body: &'a NormalizedText,
}

/// The classifier could not score a document; screening goes on with the rules alone.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("classifier failed: {0}")]
pub struct ClassifierError(pub String);

/// A text classifier that scores every category.
pub trait Classifier: Send + Sync {
    /// Reported in every verdict as `model_version`.
    fn version(&self) -> &str;
    /// The probability at which each category is flagged (the model's operating point,
    /// chosen at training time), indexed by [`Category::index`].
    fn thresholds(&self) -> [f64; Category::ALL.len()];
    /// A probability in 0..1 per category, indexed by [`Category::index`].
    fn predict(
        &self,
        document: &ScreenDocument<'_>,
    ) -> Result<[f64; Category::ALL.len()], ClassifierError>;
}

/// A stand-in classifier for tests: a version, threshold 0.5 everywhere, and scores from a
/// closure, so each test states what the model says instead of writing another impl.
/// What a scripted classifier answers for a document.
#[cfg(test)]
type Script = dyn Fn(&ScreenDocument<'_>) -> Result<[f64; Category::ALL.len()], ClassifierError>
    + Send
    + Sync;

#[cfg(test)]
pub(crate) struct ScriptedClassifier {
    version: &'static str,
    score: Box<Script>,
}

#[cfg(test)]
impl ScriptedClassifier {
    pub(crate) fn new(
        version: &'static str,
        score: impl Fn(&ScreenDocument<'_>) -> Result<[f64; Category::ALL.len()], ClassifierError>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        ScriptedClassifier {
            version,
            score: Box::new(score),
        }
    }

    /// `probability` for `category`, 0 for the others.
    pub(crate) fn fixed(probability: f64, category: Category) -> Self {
        Self::new("fixed-1", move |_| {
            let mut scores = [0.0; Category::ALL.len()];
            scores[category.index()] = probability;
            Ok(scores)
        })
    }

    /// Every prediction fails, as a broken plan would.
    pub(crate) fn failing() -> Self {
        Self::new("broken-1", |_| Err(ClassifierError("plan failed".into())))
    }
}

#[cfg(test)]
impl Classifier for ScriptedClassifier {
    fn version(&self) -> &str {
        self.version
    }

    fn thresholds(&self) -> [f64; Category::ALL.len()] {
        [0.5; Category::ALL.len()]
    }

    fn predict(
        &self,
        document: &ScreenDocument<'_>,
    ) -> Result<[f64; Category::ALL.len()], ClassifierError> {
        (self.score)(document)
    }
}

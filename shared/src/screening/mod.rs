//! Screening: one submission in, one verdict out, and what the verdict calls for.
//!
//! Read in this order: [`submission`] (the parsed, bounded input) → [`screener`] (rules,
//! classifier, decision; the shadow candidate) with [`evidence`] (what the poster wrote that
//! made rules hit) → [`desk`] (alert support, confirm automatic strikes). The classifier
//! plugs in through the [`classifier`] port; [`featurize`] and [`model`] are the ONNX
//! classifier behind it, one featurizer for training and serving, and [`linear`] runs the
//! exported linear graph without tract; `model` and `linear` (tract's ONNX reader) are the
//! `model` cargo feature, which user-escalation leaves off.

pub mod classifier;
pub mod desk;
pub mod evidence;
pub mod featurize;
#[cfg(feature = "model")]
pub mod linear;
#[cfg(feature = "model")]
pub mod model;
pub mod screener;
pub mod submission;

pub use classifier::{Classifier, ClassifierError, ScreenDocument};
pub use desk::{
    auto_strike_id, auto_strikes, submission_alert, ScreenDesk, ScreenDeskError, ScreenOutcome,
    ScreeningRecorder,
};
pub use screener::{Screener, Screening, ShadowComparison, SourceScores};
pub use submission::Submission;

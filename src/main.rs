//! `anshin`: the screening core on the command line, with embedded adapters — no AWS
//! account, no network.
//!
//! - `anshin screen [FILE|-]...`: one verdict JSON per line for each submission read
//!   (a JSON object, or JSON Lines; the evaluation set's schema is accepted as is).
//!   Alerts that would go to support are printed to stderr.
//! - `anshin eval --data FILE.jsonl [--json]`: precision, recall and false-positive rates
//!   on a labelled set.
//! - `anshin normalize [FILE|-]`: text as the rules see it, for policy authors.
//! - `anshin featurize [FILE|-] [--describe]`: the classifier's features, for training.
//! - `anshin demo`: the whole flow — screening, strikes, the ladder, alerts — on embedded
//!   adapters.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anshin_core::adapters::embedded::EmbeddedAlertSink;
use anshin_core::alert::{Alert, AlertSink, SubmissionAlert};
use anshin_core::config::PolicySource;
use anshin_core::eval::{evaluate, EvalReport, LabelledItem};
use anshin_core::screen::Screener;
use anshin_core::submission::{Id, Submission};
use anshin_core::InvalidInput;
use clap::{Parser, Subcommand};

mod demo;
use serde_json::Value;

/// The author given to submissions that carry none, such as evaluation-set lines.
const ANONYMOUS_AUTHOR: &str = "anonymous";

#[derive(Parser)]
#[command(
    name = "anshin",
    version,
    about = "Trust & safety screening for freelance marketplaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Screen submissions and print one verdict JSON per line.
    Screen {
        /// JSON or JSON Lines files; `-` (the default) reads stdin.
        #[arg(default_value = "-")]
        files: Vec<String>,
    },
    /// Print text as the rules see it (normalised), one line per input line; for policy authors.
    Normalize {
        /// A text file; `-` (the default) reads stdin.
        #[arg(default_value = "-")]
        file: String,
    },
    /// Walk through the whole flow on embedded adapters: the sample submissions screened,
    /// accounts struck and climbing the ladder, and every alert support would get.
    Demo,
    /// Print the classifier's features of each submission (JSON Lines: id, labels,
    /// indices, values), for the training script; `--describe` prints the featurizer's
    /// version and parameters instead.
    Featurize {
        #[arg(default_value = "-")]
        file: String,
        #[arg(long)]
        describe: bool,
    },
    /// Measure the screener on a labelled JSON Lines file.
    Eval {
        #[arg(long)]
        data: PathBuf,
        /// Print the report as one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Policy(#[from] anshin_core::policy::PolicyError),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{path}:{line}: {error}")]
    Input {
        path: String,
        line: usize,
        error: InvalidInput,
    },
    #[error("writing output: {0}")]
    Write(#[from] io::Error),
    #[error("{0}")]
    Alert(#[from] anshin_core::alert::AlertError),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Screen { files } => screen(&files).await,
        Command::Eval { data, json } => eval(&data, json),
        Command::Normalize { file } => normalize_lines(&file),
        Command::Featurize { file, describe } => featurize_lines(&file, describe),
        Command::Demo => match load_screener() {
            Ok(screener) => demo::run(screener)
                .await
                .map(|()| ExitCode::SUCCESS)
                .map_err(CliError::from),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("anshin: {error}");
            ExitCode::from(2)
        }
    }
}

fn load_screener() -> Result<Screener, CliError> {
    Ok(Screener::new(PolicySource::from_env().load()?))
}

fn read_input(path: &str) -> Result<String, CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_owned(),
        source,
    };
    if path == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map_err(read_error)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(read_error)
    }
}

/// Splits a file into JSON documents with their line numbers: a file that is one JSON
/// value (pretty-printed events are) is one document; anything else is JSON Lines.
fn documents(text: &str) -> Vec<(usize, Result<Value, InvalidInput>)> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return vec![(1, Ok(value))];
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let parsed = serde_json::from_str::<Value>(line)
                .map_err(|e| InvalidInput::new("$", format!("is not valid JSON: {e}")));
            (i + 1, parsed)
        })
        .collect()
}

async fn screen(files: &[String]) -> Result<ExitCode, CliError> {
    let screener = load_screener()?;
    let alerts = EmbeddedAlertSink::printing();
    let anonymous = Id::parse("author_id", ANONYMOUS_AUTHOR).expect("constant id is valid");
    let mut stdout = io::stdout().lock();
    let mut refused = 0usize;
    for path in files {
        for (line, document) in documents(&read_input(path)?) {
            let submission = document.and_then(|value| {
                Submission::from_json_with_default_author(value, Some(&anonymous))
            });
            let submission = match submission {
                Ok(submission) => submission,
                Err(error) => {
                    // Report and go on: one bad line must not hide the verdicts of the rest.
                    let error = CliError::Input {
                        path: path.clone(),
                        line,
                        error,
                    };
                    eprintln!("anshin: refused {error}");
                    refused += 1;
                    continue;
                }
            };
            let verdict = screener.screen(&submission);
            serde_json::to_writer(&mut stdout, &verdict).map_err(io::Error::from)?;
            writeln!(stdout)?;
            if let Some(alert) = SubmissionAlert::for_verdict(&submission, &verdict) {
                stdout.flush()?;
                alerts.publish(&Alert::Submission(alert)).await?;
            }
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn featurize_lines(path: &str, describe: bool) -> Result<ExitCode, CliError> {
    use anshin_core::featurize::{featurize, FeaturizerConfig, FEATURIZER_VERSION};
    use anshin_core::normalize::normalize;

    let config = FeaturizerConfig::default();
    let mut stdout = io::stdout().lock();
    if describe {
        let description = serde_json::json!({"version": FEATURIZER_VERSION, "config": config});
        writeln!(stdout, "{description}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let anonymous = Id::parse("author_id", ANONYMOUS_AUTHOR).expect("constant id is valid");
    for (line, document) in documents(&read_input(path)?) {
        let item = document.and_then(|value| {
            let labels = value
                .get("labels")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            Submission::from_json_with_default_author(value, Some(&anonymous)).map(|s| (s, labels))
        });
        let (submission, labels) = item.map_err(|error| CliError::Input {
            path: path.to_owned(),
            line,
            error,
        })?;
        let title = submission.title().map(normalize);
        let features = featurize(
            &config,
            submission.kind(),
            title.as_ref(),
            &normalize(submission.body()),
        );
        let row = serde_json::json!({
            "id": submission.submission_id(),
            "labels": labels,
            "indices": features.indices,
            "values": features.values,
        });
        writeln!(stdout, "{row}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn normalize_lines(path: &str) -> Result<ExitCode, CliError> {
    let mut stdout = io::stdout().lock();
    for line in read_input(path)?.lines() {
        writeln!(
            stdout,
            "{}",
            anshin_core::normalize::normalize(line).as_str()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn eval(data: &Path, json: bool) -> Result<ExitCode, CliError> {
    let screener = load_screener()?;
    let path = data.display().to_string();
    let anonymous = Id::parse("author_id", ANONYMOUS_AUTHOR).expect("constant id is valid");
    let mut items = Vec::new();
    for (line, document) in documents(&read_input(&path)?) {
        let item = document.and_then(|value| LabelledItem::from_json(value, &anonymous));
        items.push(item.map_err(|error| CliError::Input {
            path: path.clone(),
            line,
            error,
        })?);
    }
    let report = evaluate(&items, |submission| {
        screener
            .screen(submission)
            .categories
            .iter()
            .map(|c| c.category)
            .collect::<BTreeSet<_>>()
    });
    let mut stdout = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &report).map_err(io::Error::from)?;
        writeln!(stdout)?;
    } else {
        write_table(&mut stdout, &report, screener.policy().version())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_table(out: &mut impl Write, report: &EvalReport, policy_version: &str) -> io::Result<()> {
    writeln!(
        out,
        "policy {policy_version}, {} items, rules only",
        report.items
    )?;
    writeln!(
        out,
        "{:<22} {:>9} {:>7} {:>6} {:>8} {:>4} {:>4} {:>4}",
        "category", "precision", "recall", "f1", "support", "tp", "fp", "fn"
    )?;
    for m in &report.per_category {
        writeln!(
            out,
            "{:<22} {:>9.3} {:>7.3} {:>6.3} {:>8} {:>4} {:>4} {:>4}",
            m.category.id(),
            m.precision,
            m.recall,
            m.f1,
            m.support,
            m.true_positives,
            m.false_positives,
            m.false_negatives
        )?;
    }
    writeln!(out, "macro-F1 {:.3}", report.macro_f1)?;
    let any = &report.any_violation;
    writeln!(
        out,
        "any violation: precision {:.3} recall {:.3} f1 {:.3}",
        any.precision, any.recall, any.f1
    )?;
    let (clean, hard) = (
        &report.false_positive_rate_clean,
        &report.false_positive_rate_hard_negative,
    );
    writeln!(
        out,
        "false-positive rate: clean {}/{} ({:.1}%), hard negatives {}/{} ({:.1}%)",
        clean.flagged,
        clean.total,
        clean.rate * 100.0,
        hard.flagged,
        hard.total,
        hard.rate * 100.0
    )
}

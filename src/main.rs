//! `anshin`: the screening core on the command line, with embedded adapters — no AWS
//! account, no network.
//!
//! - `anshin screen [FILE|-]...`: one verdict JSON per line for each submission read
//!   (a JSON object, or JSON Lines; the evaluation set's schema is accepted as is), in
//!   input order, screened on every core (`screen.rs`). Alerts that would go to support
//!   are printed to stderr, with a progress line when stderr is a terminal.
//! - `anshin eval --data FILE.jsonl... [--json] [--plot-dir DIR] [--errors FILE]
//!   [--baseline MANIFEST]`: precision, recall and false-positive rates on labelled sets,
//!   for the rules, the model and both combined; every error with its evidence; the
//!   promotion gate against the active model.
//! - `anshin normalize [FILE|-]`: text as the rules see it, for policy authors.
//! - `anshin featurize [FILE|-] [--describe]`: the classifier's features, for training.
//! - `anshin feedback --decisions FILE [--corpus FILE]`: support's decisions → corpus rows.
//! - `anshin schemas [--write DIR]`: the JSON Schemas of every payload the functions take or
//!   send (`schemas/` in the repository), printed as one JSON object or written one file each.
//! - `anshin demo`: the whole flow — screening, strikes, the ladder, alerts — on embedded
//!   adapters.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anshin_core::config::{PolicySource, ScreenerSource, ScreeningSetup};
use anshin_core::input::Id;
use anshin_core::offline::compare::{compare_reports, Margins, MetricComparison};
use anshin_core::offline::errors::collect_errors;
use anshin_core::offline::eval::{evaluate_sources, EvalReport, LabelledItem, SourceReports};
use anshin_core::screening::model::ModelSource;
use anshin_core::screening::{ScreenDeskError, Screener, Submission};
use anshin_core::InvalidInput;
use clap::{Parser, Subcommand};

mod demo;
mod plot;
mod screen;
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
        /// Featurizer settings to try instead of the served ones, as JSON (for instance
        /// `{"max_n": 4, "buckets": 262144}`): for training experiments only — the server
        /// refuses a model trained on any other settings than its own.
        #[arg(long)]
        config: Option<String>,
    },
    /// Print the JSON Schemas of every payload the functions take or send, as one object
    /// keyed by file name; with `--write DIR`, write one file each (the repository keeps
    /// them in `schemas/`).
    Schemas {
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Turn support's decisions (JSON Lines of `{submission, decision, categories}`) into
    /// training rows, merged into a corpus file that `train.py` reads.
    Feedback {
        #[arg(long)]
        decisions: PathBuf,
        /// The corpus file to merge into (created if missing).
        #[arg(long, default_value = "shared/model/corpus/feedback.jsonl")]
        corpus: PathBuf,
    },
    /// Measure the screener on labelled JSON Lines files; with `--baseline`, compare it with
    /// the active model and refuse it (exit 1) if it is worse on any file by more than the
    /// margin.
    Eval {
        /// A labelled file; repeat for several (each is measured and compared on its own).
        #[arg(long, required = true)]
        data: Vec<PathBuf>,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Write a precision-recall plot per category (SVG) into this folder.
        #[arg(long)]
        plot_dir: Option<PathBuf>,
        /// Write every false positive and false negative of the verdicts, per category, with
        /// the rules' evidence and each source's score, as JSON Lines into this file.
        #[arg(long)]
        errors: Option<PathBuf>,
        /// The active model's manifest (`off`: rules alone) to compare the candidate with;
        /// the candidate is what ANSHIN_MODEL_PATH / ANSHIN_POLICY_PATH (or the embedded
        /// ones) name.
        #[arg(long)]
        baseline: Option<String>,
        /// The active policy file, when it is not the candidate's policy.
        #[arg(long, requires = "baseline")]
        baseline_policy: Option<PathBuf>,
        /// How much worse (absolute) macro-F1, any-violation F1 or a false-positive rate may
        /// be on any file before the candidate is refused.
        #[arg(long, default_value_t = 0.01)]
        margin: f64,
        /// The same for each category's F1 (fewer items, so a wider margin).
        #[arg(long, default_value_t = 0.05)]
        category_margin: f64,
    },
}

/// The published schemas, printed or written to `dir` (one file each, nothing else touched).
fn schemas(dir: Option<&Path>) -> Result<ExitCode, CliError> {
    let documents = anshin_core::schemas::documents();
    let Some(dir) = dir else {
        let all: serde_json::Map<String, Value> = documents
            .iter()
            .map(|d| (d.file.to_owned(), Value::from(d.schema.clone())))
            .collect();
        let text = serde_json::to_string_pretty(&all).expect("schemas are JSON");
        writeln!(io::stdout().lock(), "{text}")?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir)?;
    for document in &documents {
        std::fs::write(dir.join(document.file), document.to_file_text())?;
    }
    eprintln!(
        "anshin: wrote {} schemas into {}",
        documents.len(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Policy(#[from] anshin_core::policy::PolicyError),
    #[error("{0}")]
    Config(#[from] anshin_core::config::ConfigError),
    #[error("plot {path}: {reason}")]
    Plot { path: String, reason: String },
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
    Record(#[from] ScreenDeskError),
    #[error("{0}")]
    Store(#[from] anshin_core::store::StoreError),
    #[error("{0} messages could not be printed")]
    Publish(usize),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Screen { files } => screen::screen(&files).await,
        Command::Feedback { decisions, corpus } => feedback(&decisions, &corpus),
        Command::Eval {
            data,
            json,
            plot_dir,
            errors,
            baseline,
            baseline_policy,
            margin,
            category_margin,
        } => eval(&EvalArgs {
            data,
            json,
            plot_dir,
            errors,
            baseline,
            baseline_policy,
            margins: Margins {
                headline: margin,
                category: category_margin,
            },
        }),
        Command::Normalize { file } => normalize_lines(&file),
        Command::Schemas { write } => schemas(write.as_deref()),
        Command::Featurize {
            file,
            describe,
            config,
        } => featurize_lines(&file, describe, config.as_deref()),
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

/// The screener the Lambda would build: policy, model and shadow from the same variables.
fn load_screener() -> Result<Screener, CliError> {
    Ok(ScreeningSetup::from_env().load()?)
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

fn featurize_lines(
    path: &str,
    describe: bool,
    overrides: Option<&str>,
) -> Result<ExitCode, CliError> {
    use anshin_core::screening::featurize::{featurize, FeaturizerConfig, FEATURIZER_VERSION};
    use anshin_core::text::normalize;

    let config = match overrides {
        None => FeaturizerConfig::default(),
        Some(text) => {
            let mut value =
                serde_json::to_value(FeaturizerConfig::default()).map_err(io::Error::from)?;
            let given: serde_json::Map<String, Value> =
                serde_json::from_str(text).map_err(|e| CliError::Input {
                    path: "--config".into(),
                    line: 1,
                    error: InvalidInput::new("config", format!("is not a JSON object: {e}")),
                })?;
            for (key, v) in given {
                value[key] = v;
            }
            serde_json::from_value(value).map_err(|e| CliError::Input {
                path: "--config".into(),
                line: 1,
                error: InvalidInput::new("config", e.to_string()),
            })?
        }
    };
    let mut stdout = io::stdout().lock();
    if describe {
        let categories: Vec<&str> = anshin_core::taxonomy::Category::ALL
            .iter()
            .map(|c| c.id())
            .collect();
        let description = serde_json::json!({
            "version": FEATURIZER_VERSION,
            "config": config,
            "categories": categories,
        });
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
        writeln!(stdout, "{}", anshin_core::text::normalize(line).as_str())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn feedback(decisions: &Path, corpus: &Path) -> Result<ExitCode, CliError> {
    use anshin_core::offline::feedback::{merge_rows, row_from_decision, CorpusRow};

    let support = Id::parse("author_id", ANONYMOUS_AUTHOR).expect("constant id is valid");
    let decisions_path = decisions.display().to_string();
    let mut new = Vec::new();
    for (line, document) in documents(&read_input(&decisions_path)?) {
        // All or nothing: a half-merged file would teach half a decision log.
        new.push(
            document
                .and_then(|value| row_from_decision(value, &support))
                .map_err(|error| CliError::Input {
                    path: decisions_path.clone(),
                    line,
                    error,
                })?,
        );
    }
    let corpus_path = corpus.display().to_string();
    let existing_text = match std::fs::read_to_string(corpus) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(CliError::Read {
                path: corpus_path,
                source,
            })
        }
    };
    let mut existing = Vec::new();
    for (i, line) in existing_text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: CorpusRow = serde_json::from_str(line).map_err(|e| CliError::Input {
            path: corpus_path.clone(),
            line: i + 1,
            error: InvalidInput::new("$", format!("is not a corpus row: {e}")),
        })?;
        existing.push(row);
    }
    let (rows, counts) = merge_rows(existing, new);
    let mut text = String::new();
    for row in &rows {
        text.push_str(&serde_json::to_string(row).map_err(io::Error::from)?);
        text.push('\n');
    }
    // Write beside and rename, so that an interrupted run leaves the old file whole.
    let partial = corpus.with_extension("jsonl.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, corpus)?;
    eprintln!(
        "anshin: {} added, {} changed, {} unchanged; {} rows in {corpus_path}",
        counts.added,
        counts.changed,
        counts.unchanged,
        rows.len()
    );
    Ok(ExitCode::SUCCESS)
}

struct EvalArgs {
    data: Vec<PathBuf>,
    json: bool,
    plot_dir: Option<PathBuf>,
    errors: Option<PathBuf>,
    baseline: Option<String>,
    baseline_policy: Option<PathBuf>,
    margins: Margins,
}

fn read_labelled(path: &Path) -> Result<Vec<LabelledItem>, CliError> {
    let path = path.display().to_string();
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
    Ok(items)
}

/// The active screener the candidate is compared with: the baseline manifest (or rules
/// alone for `off`) under the baseline policy, or the candidate's policy when none is named.
fn load_baseline(model: &str, policy: Option<&Path>) -> Result<Screener, CliError> {
    let source = ScreenerSource {
        policy: match policy {
            Some(path) => PolicySource::File(path.to_owned()),
            None => ScreeningSetup::from_env().active.policy,
        },
        model: (model != "off").then(|| ModelSource::Manifest(model.into())),
    };
    Ok(source.load()?)
}

fn eval(args: &EvalArgs) -> Result<ExitCode, CliError> {
    let screener = load_screener()?;
    let baseline = match &args.baseline {
        Some(model) => Some(load_baseline(model, args.baseline_policy.as_deref())?),
        None => None,
    };
    let several = args.data.len() > 1;
    let mut json_files = Vec::new();
    let mut error_rows = String::new();
    let mut refusals = Vec::new();
    let mut stdout = io::stdout().lock();
    for data in &args.data {
        let path = data.display().to_string();
        let items = read_labelled(data)?;
        let (reports, screenings) = evaluate_sources(&items, &screener);
        if let Some(dir) = &args.plot_dir {
            // Several files: one folder of plots each, named after the file.
            let dir = match (several, data.file_stem()) {
                (true, Some(stem)) => dir.join(stem),
                _ => dir.clone(),
            };
            let written = plot::write_precision_recall(&dir, &items, &screenings, &screener)
                .map_err(|(path, reason)| CliError::Plot { path, reason })?;
            eprintln!(
                "anshin: wrote {written} precision-recall plots to {}",
                dir.display()
            );
        }
        if args.errors.is_some() {
            let policy = screener.policy();
            for error in
                collect_errors(&items, &screenings, |c| policy.category(c).review_threshold)
            {
                let mut row = serde_json::to_value(&error).map_err(io::Error::from)?;
                row["file"] = Value::String(path.clone());
                error_rows.push_str(&row.to_string());
                error_rows.push('\n');
            }
        }
        let comparison = match &baseline {
            Some(active) => {
                let (active_reports, _) = evaluate_sources(&items, active);
                let rows =
                    compare_reports(&active_reports.combined, &reports.combined, args.margins);
                refusals.extend(rows.iter().filter(|m| m.refused).map(|m| {
                    format!(
                        "{path}: {} {:.4} → {:.4}",
                        m.metric, m.baseline, m.candidate
                    )
                }));
                Some((active_reports, rows))
            }
            None => None,
        };
        if args.json {
            json_files.push(serde_json::json!({
                "path": path,
                "candidate": reports,
                "baseline": comparison.as_ref().map(|(r, _)| r),
                "comparison": comparison.as_ref().map(|(_, rows)| rows),
            }));
            continue;
        }
        if several || comparison.is_some() {
            writeln!(stdout, "== {path}")?;
        }
        write_table(&mut stdout, &reports)?;
        if let Some((active, rows)) = &comparison {
            write_comparison(&mut stdout, active, rows)?;
        }
        writeln!(stdout)?;
    }
    if let Some(file) = &args.errors {
        std::fs::write(file, &error_rows)?;
        eprintln!(
            "anshin: wrote {} false positives and negatives to {}",
            error_rows.lines().count(),
            file.display()
        );
    }
    if args.json {
        // One file without a baseline: the report itself, as before.
        let value = match (several, baseline.is_some()) {
            (false, false) => json_files.remove(0)["candidate"].take(),
            _ => serde_json::json!({ "files": json_files, "refused": refusals }),
        };
        serde_json::to_writer_pretty(&mut stdout, &value).map_err(io::Error::from)?;
        writeln!(stdout)?;
    }
    if baseline.is_some() {
        if refusals.is_empty() {
            eprintln!(
                "anshin: candidate accepted: no file worse than the baseline beyond the margins ({} headline, {} per category)",
                args.margins.headline, args.margins.category
            );
        } else {
            eprintln!("anshin: candidate REFUSED, worse than the baseline beyond the margins on:");
            for refusal in &refusals {
                eprintln!("  {refusal}");
            }
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_comparison(
    out: &mut impl Write,
    active: &SourceReports,
    rows: &[MetricComparison],
) -> io::Result<()> {
    writeln!(
        out,
        "combined against the baseline (policy {}, model {}):",
        active.policy_version,
        active
            .model_version
            .as_deref()
            .unwrap_or("none (rules only)")
    )?;
    for m in rows {
        writeln!(
            out,
            "  {:<36} {:>7.4} → {:>7.4}{}",
            m.metric,
            m.baseline,
            m.candidate,
            if m.refused {
                format!("   WORSE by {:.4} > margin {}", m.worse_by, m.margin)
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, reports: &SourceReports) -> io::Result<()> {
    let columns: Vec<(&str, &EvalReport)> = [
        ("rules", Some(&reports.rules)),
        ("model", reports.model.as_ref()),
        ("combined", Some(&reports.combined)),
    ]
    .into_iter()
    .filter_map(|(name, report)| report.map(|r| (name, r)))
    .collect();
    writeln!(
        out,
        "policy {}, model {}, {} items",
        reports.policy_version,
        reports
            .model_version
            .as_deref()
            .unwrap_or("none (rules only)"),
        reports.rules.items
    )?;
    write!(out, "{:<22} {:>7}", "", "")?;
    for (name, _) in &columns {
        write!(out, " | {name:^20}")?;
    }
    writeln!(out)?;
    write!(out, "{:<22} {:>7}", "category", "support")?;
    for _ in &columns {
        write!(out, " | {:>6} {:>6} {:>6}", "P", "R", "F1")?;
    }
    writeln!(out)?;
    for (i, m) in reports.rules.per_category.iter().enumerate() {
        write!(out, "{:<22} {:>7}", m.category.id(), m.support)?;
        for (_, report) in &columns {
            let c = &report.per_category[i];
            write!(
                out,
                " | {:>6.3} {:>6.3} {:>6.3}",
                c.precision, c.recall, c.f1
            )?;
        }
        writeln!(out)?;
    }
    let row = |out: &mut dyn Write, label: &str, cell: &dyn Fn(&EvalReport) -> String| {
        write!(out, "{label:<30}")?;
        for (_, report) in &columns {
            write!(out, " | {:>20}", cell(report))?;
        }
        writeln!(out)
    };
    row(out, "macro-F1", &|r| format!("{:.3}", r.macro_f1))?;
    row(out, "any violation P / R", &|r| {
        format!(
            "{:.3} / {:.3}",
            r.any_violation.precision, r.any_violation.recall
        )
    })?;
    row(out, "any violation F1", &|r| {
        format!("{:.3}", r.any_violation.f1)
    })?;
    row(out, "false positives, clean", &|r| {
        let c = &r.false_positive_rate_clean;
        format!("{}/{} ({:.1}%)", c.flagged, c.total, c.rate * 100.0)
    })?;
    row(out, "false positives, hard neg.", &|r| {
        let c = &r.false_positive_rate_hard_negative;
        format!("{}/{} ({:.1}%)", c.flagged, c.total, c.rate * 100.0)
    })
}

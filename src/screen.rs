//! `anshin screen`: submissions in (JSON, or JSON Lines), one verdict per line out — in
//! input order, on every core, in memory that does not grow with the input.
//!
//! A reader thread cuts the input into batches; one worker per core parses and screens
//! them; this thread puts the batches back in order, lets the desk send what each verdict
//! calls for (alerts, automatic strikes), and prints. The channels between them are
//! bounded, so at most a few batches are in flight whatever the input's size. When stderr
//! is a terminal, a progress line is kept there.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anshin_core::adapters::memory::{MemoryOutbox, MemoryPublisher, MemoryScreeningRecorder};
use anshin_core::input::Id;
use anshin_core::outbox::OutboxRelay;
use anshin_core::screening::{ScreenDesk, Screener, Screening, Submission};
use anshin_core::InvalidInput;
use serde_json::Value;

use crate::{documents, load_screener, CliError, ANONYMOUS_AUTHOR};

/// Submissions per batch: enough to make a worker's hand-over cheap, few enough that the
/// first verdicts come out at once.
const BATCH: usize = 64;

/// One input document: a line still to parse, or one already parsed (a file that is one
/// pretty-printed JSON value).
enum Document {
    Line(String),
    Parsed(Result<Value, InvalidInput>),
}

struct Job {
    path: usize,
    line: usize,
    document: Document,
}

struct Batch {
    seq: u64,
    jobs: Vec<Job>,
    /// The input failed after these jobs: report it once they are printed.
    error: Option<CliError>,
}

type Screened = Result<(Submission, Screening), (usize, usize, InvalidInput)>;

struct Done {
    seq: u64,
    results: Vec<Screened>,
    error: Option<CliError>,
}

pub async fn screen(files: &[String]) -> Result<ExitCode, CliError> {
    let screener = load_screener()?;
    // The Lambda's desk on memory adapters; after each verdict the outbox relay prints what
    // it would publish (alerts, automatic strikes) to stderr and keeps nothing.
    let outbox = MemoryOutbox::unlogged();
    let desk = ScreenDesk::new(
        screener.clone(),
        MemoryScreeningRecorder::new(Arc::clone(&outbox)),
    );
    let relay = OutboxRelay::new(outbox, MemoryPublisher::printing());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (job_tx, job_rx) = sync_channel::<Batch>(workers * 2);
    let (done_tx, done_rx) = sync_channel::<Done>(workers * 2);
    let bytes_read = Arc::new(AtomicU64::new(0));

    let reader = {
        let files = files.to_vec();
        let bytes_read = Arc::clone(&bytes_read);
        std::thread::spawn(move || read_batches(&files, &job_tx, &bytes_read))
    };
    let job_rx = Arc::new(Mutex::new(job_rx));
    let pool: Vec<_> = (0..workers)
        .map(|_| {
            let (jobs, done, screener) = (Arc::clone(&job_rx), done_tx.clone(), screener.clone());
            std::thread::spawn(move || screen_batches(&jobs, &done, &screener))
        })
        .collect();
    drop(done_tx);

    let total_bytes = files
        .iter()
        .filter(|p| p.as_str() != "-")
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum::<u64>();
    let mut progress = io::stderr()
        .is_terminal()
        .then(|| Progress::new((!files.iter().any(|p| p == "-")).then_some(total_bytes)));
    let result = write_in_order(files, &desk, &relay, &done_rx, &mut progress, &bytes_read).await;
    if let Some(progress) = &mut progress {
        progress.finish();
    }
    // A worker or the reader ends when its channel closes; none holds anything to flush.
    drop(done_rx);
    for worker in pool {
        let _ = worker.join();
    }
    let _ = reader.join();
    result
}

/// Prints verdicts in input order as batches come back from the workers.
async fn write_in_order(
    files: &[String],
    desk: &ScreenDesk<MemoryScreeningRecorder>,
    relay: &OutboxRelay<Arc<MemoryOutbox>, MemoryPublisher>,
    done: &Receiver<Done>,
    progress: &mut Option<Progress>,
    bytes_read: &AtomicU64,
) -> Result<ExitCode, CliError> {
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    let mut waiting: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0u64;
    let mut refused = 0usize;
    let mut screened = 0u64;
    // Blocking on the channel is fine: this runtime has nothing else to run.
    while let Ok(batch) = done.recv() {
        waiting.insert(batch.seq, batch);
        while let Some(batch) = waiting.remove(&next) {
            next += 1;
            for result in batch.results {
                match result {
                    Ok((submission, screening)) => {
                        if let Some(progress) = progress.as_mut() {
                            progress.clear_if_alerting(&screening);
                        }
                        let outcome = desk.deliver(&submission, screening).await?;
                        serde_json::to_writer(&mut stdout, &outcome.screening.verdict)
                            .map_err(io::Error::from)?;
                        stdout.write_all(b"\n")?;
                        if !outcome.strikes.is_empty() || outcome.alert.is_some() {
                            // What the verdict calls for goes to stderr after its verdict.
                            stdout.flush()?;
                            let relayed = relay.drain().await?;
                            if !relayed.failed.is_empty() {
                                return Err(CliError::Publish(relayed.failed.len()));
                            }
                        }
                        screened += 1;
                    }
                    Err((path, line, error)) => {
                        // Report and go on: one bad line must not hide the verdicts of the rest.
                        let error = CliError::Input {
                            path: files[path].clone(),
                            line,
                            error,
                        };
                        stdout.flush()?;
                        eprintln!("anshin: refused {error}");
                        refused += 1;
                    }
                }
            }
            if let Some(error) = batch.error {
                stdout.flush()?;
                return Err(error);
            }
            if let Some(progress) = progress.as_mut() {
                progress.show(screened, bytes_read.load(Ordering::Relaxed));
            }
        }
    }
    stdout.flush()?;
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The reader: every file in turn, cut into batches.
fn read_batches(files: &[String], jobs: &SyncSender<Batch>, bytes_read: &AtomicU64) {
    let mut batch = Batch {
        seq: 0,
        jobs: Vec::with_capacity(BATCH),
        error: None,
    };
    let send = |batch: &mut Batch, last: bool| -> bool {
        let full = std::mem::replace(
            batch,
            Batch {
                seq: batch.seq + 1,
                jobs: Vec::with_capacity(if last { 0 } else { BATCH }),
                error: None,
            },
        );
        jobs.send(full).is_ok()
    };
    for (index, path) in files.iter().enumerate() {
        let read = read_file(index, path, bytes_read, &mut |job| {
            batch.jobs.push(job);
            batch.jobs.len() < BATCH || send(&mut batch, false)
        });
        if let Err(error) = read {
            batch.error = Some(error);
            send(&mut batch, true);
            return;
        }
    }
    if !batch.jobs.is_empty() {
        send(&mut batch, true);
    }
}

/// Hands each document of one file to `emit` (false: stop). A file whose first line is
/// a JSON value is JSON Lines, read line by line; any other is read whole, and is one
/// JSON document if it parses as one (pretty-printed events), else JSON Lines.
fn read_file(
    index: usize,
    path: &str,
    bytes_read: &AtomicU64,
    emit: &mut dyn FnMut(Job) -> bool,
) -> Result<(), CliError> {
    let read_error = |source| CliError::Read {
        path: path.to_owned(),
        source,
    };
    let source: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(read_error)?)
    };
    let mut input = BufReader::with_capacity(1 << 16, source);
    let mut line = String::new();
    let mut number = 0usize;
    let mut first = true;
    loop {
        line.clear();
        let read = input.read_line(&mut line).map_err(read_error)?;
        if read == 0 {
            return Ok(());
        }
        bytes_read.fetch_add(read as u64, Ordering::Relaxed);
        number += 1;
        let text = line.strip_suffix('\n').unwrap_or(&line);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            continue;
        }
        if first && serde_json::from_str::<Value>(text).is_err() {
            // Not JSON Lines from the first line: read the rest and split it as a whole.
            let mut whole = std::mem::take(&mut line);
            input.read_to_string(&mut whole).map_err(read_error)?;
            // The lines before this one were blank; keep their numbers.
            let offset = number - 1;
            for (at, parsed) in documents(&whole) {
                let job = Job {
                    path: index,
                    line: at + offset,
                    document: Document::Parsed(parsed),
                };
                if !emit(job) {
                    break;
                }
            }
            return Ok(());
        }
        first = false;
        let job = Job {
            path: index,
            line: number,
            document: Document::Line(text.to_owned()),
        };
        if !emit(job) {
            return Ok(());
        }
    }
}

/// A worker: parses and screens batches until the reader is done.
fn screen_batches(jobs: &Mutex<Receiver<Batch>>, done: &SyncSender<Done>, screener: &Screener) {
    let anonymous = Id::parse("author_id", ANONYMOUS_AUTHOR).expect("constant id is valid");
    loop {
        // The lock is held only to take a batch; a poisoned lock still holds a receiver.
        let next = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(batch) = next else {
            return;
        };
        let results = batch
            .jobs
            .into_iter()
            .map(|job| {
                let value = match job.document {
                    Document::Line(text) => serde_json::from_str::<Value>(&text)
                        .map_err(|e| InvalidInput::new("$", format!("is not valid JSON: {e}"))),
                    Document::Parsed(parsed) => parsed,
                };
                value
                    .and_then(|value| {
                        Submission::from_json_with_default_author(value, Some(&anonymous))
                    })
                    .map(|submission| {
                        let screening = screener.screen_explained(&submission);
                        (submission, screening)
                    })
                    .map_err(|error| (job.path, job.line, error))
            })
            .collect();
        let done_batch = Done {
            seq: batch.seq,
            results,
            error: batch.error,
        };
        if done.send(done_batch).is_err() {
            return;
        }
    }
}

/// A progress line on stderr: a bar when the input's size is known, a count always.
struct Progress {
    total_bytes: Option<u64>,
    started: Instant,
    last_shown: Option<Instant>,
}

impl Progress {
    fn new(total_bytes: Option<u64>) -> Self {
        Progress {
            total_bytes: total_bytes.filter(|&t| t > 0),
            started: Instant::now(),
            last_shown: None,
        }
    }

    fn show(&mut self, screened: u64, bytes: u64) {
        let now = Instant::now();
        if self
            .last_shown
            .is_some_and(|at| now.duration_since(at) < Duration::from_millis(100))
        {
            return;
        }
        self.last_shown = Some(now);
        let seconds = now.duration_since(self.started).as_secs_f64().max(1e-3);
        let rate = screened as f64 / seconds;
        let line = match self.total_bytes {
            Some(total) => {
                let done = (bytes as f64 / total as f64).clamp(0.0, 1.0);
                let width = 30;
                let filled = (done * width as f64) as usize;
                format!(
                    "[{}{}] {:>3.0}%  {screened} screened  {rate:.0}/s",
                    "=".repeat(filled),
                    " ".repeat(width - filled),
                    done * 100.0
                )
            }
            None => format!("{screened} screened  {rate:.0}/s"),
        };
        let _ = write!(io::stderr(), "\r\x1b[K{line}");
    }

    /// Clears the progress line before the desk prints an alert or a strike on stderr.
    fn clear_if_alerting(&mut self, screening: &Screening) {
        if self.last_shown.is_some() && screening.verdict.needs_alert() {
            let _ = write!(io::stderr(), "\r\x1b[K");
            self.last_shown = None;
        }
    }

    fn finish(&mut self) {
        if self.last_shown.is_some() {
            let _ = writeln!(io::stderr());
        }
    }
}

//! `anshin demo`: the whole flow on embedded adapters — the sample submissions screened,
//! accounts climbing the ladder, users' reports weighed and resolved, with every alert
//! support would receive.

use std::io::{self, Write};
use std::sync::Arc;

use anshin_core::adapters::memory::{
    InProcessPublisher, MemoryLedgerStore, MemoryOutbox, MemoryPublisher, MemoryReportStore,
    MemoryScreeningRecorder,
};
use anshin_core::clock::{Clock, ManualClock};
use anshin_core::escalation::{EscalationError, EscalationOutcome, Escalator, WithdrawalConfirmed};
use anshin_core::input::Id;
use anshin_core::outbox::OutboxRelay;
use anshin_core::reports::{ReportCommand, ReportDesk, Resolution, ResolutionDecision};
use anshin_core::screening::{ScreenDesk, Screener, Submission};
use anshin_core::taxonomy::{Category, Severity};
use anshin_core::violation::{ViolationConfirmed, ViolationSource};

/// The sample events, compiled in so that the demo needs no files beside the binary.
const SAMPLES: [(&str, &str); 4] = [
    (
        "clean-job-posting.json",
        include_str!("../events/screen-submission/clean-job-posting.json"),
    ),
    (
        "clean-english-message.json",
        include_str!("../events/screen-submission/clean-english-message.json"),
    ),
    (
        "off-platform-contact-evasion.json",
        include_str!("../events/screen-submission/off-platform-contact-evasion.json"),
    ),
    (
        "crime-recruitment.json",
        include_str!("../events/screen-submission/crime-recruitment.json"),
    ),
];

/// 2026-11-27 09:00 JST, so that every run of the demo tells the same story.
const DEMO_START: u64 = 1_795_737_600;

type DemoEscalator = Escalator<MemoryLedgerStore>;
type DemoReportDesk = ReportDesk<MemoryReportStore>;
type DemoRelay =
    OutboxRelay<Arc<MemoryOutbox>, InProcessPublisher<MemoryLedgerStore, MemoryReportStore>>;

struct Demo<W> {
    out: W,
    /// The same desk as the Lambda's.
    screening: ScreenDesk<MemoryScreeningRecorder>,
    escalator: Arc<DemoEscalator>,
    reports: Arc<DemoReportDesk>,
    /// Every store writes its messages to one outbox; after each step this relay delivers
    /// them as SNS and the functions would: automatic strikes and confirmed reports to the
    /// escalator, alerts kept for printing in the order they were raised.
    relay: DemoRelay,
    clock: Arc<ManualClock>,
    /// Alerts already printed.
    shown: usize,
}

pub async fn run(screener: Screener) -> io::Result<()> {
    let clock = Arc::new(ManualClock::at(DEMO_START));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let outbox = MemoryOutbox::new();
    let escalator = Arc::new(Escalator::new(
        MemoryLedgerStore::with_outbox(Arc::clone(&outbox)),
        screener.shared_policy(),
        Arc::clone(&dyn_clock),
    ));
    let reports = Arc::new(ReportDesk::new(
        MemoryReportStore::with_outbox(Arc::clone(&outbox)),
        screener.clone(),
        dyn_clock,
    ));
    let screening = ScreenDesk::new(screener, MemoryScreeningRecorder::new(Arc::clone(&outbox)));
    let relay = OutboxRelay::new(
        outbox,
        InProcessPublisher::new(
            Arc::clone(&escalator),
            Some(Arc::clone(&reports)),
            MemoryPublisher::collecting(),
        ),
    );
    let mut demo = Demo {
        out: io::stdout().lock(),
        screening,
        escalator,
        reports,
        relay,
        clock,
        shown: 0,
    };
    demo.story().await
}

fn id(raw: &str) -> Id {
    Id::parse("id", raw).expect("demo ids are valid")
}

impl<W: Write> Demo<W> {
    async fn story(&mut self) -> io::Result<()> {
        writeln!(
            self.out,
            "== 1. Screening the sample submissions (events/screen-submission/) =="
        )?;
        let mut submissions = Vec::new();
        for (name, json) in SAMPLES {
            let submission = Submission::from_json_str(json).expect("sample events are valid");
            writeln!(self.out, "-- {name}")?;
            self.screen(&submission).await?;
            submissions.push(submission);
        }

        writeln!(
            self.out,
            "\n== 2. A worker who keeps moving clients off the platform =="
        )?;
        let worker = submissions[2].author_id().clone();
        self.confirm(ViolationConfirmed {
            violation_id: id("viol-demo-0001"),
            user_id: worker.clone(),
            category: Category::OffPlatformContact,
            severity: Severity::Medium,
            source: ViolationSource::Screening,
            evidence: vec![format!("submission:{}", submissions[2].submission_id())],
            decided_by: id("support-sato"),
        })
        .await?;
        self.clock.advance(3 * 86_400);
        let second = ViolationConfirmed {
            violation_id: id("viol-demo-0002"),
            user_id: worker.clone(),
            category: Category::OffPlatformContact,
            severity: Severity::High,
            source: ViolationSource::Report,
            evidence: vec!["report:rep-demo-0007".into()],
            decided_by: id("support-sato"),
        };
        self.confirm(second.clone()).await?;
        writeln!(self.out, "   (the same confirmation delivered again:)")?;
        self.confirm(second).await?;

        writeln!(
            self.out,
            "\n== 3. Crime recruitment, struck by screening itself in 1: withdrawal needs two people =="
        )?;
        let client = submissions[3].author_id().clone();
        for member in ["anshin-screening", "support-suzuki"] {
            let outcome = self
                .escalator
                .confirm_withdrawal(&WithdrawalConfirmed {
                    user_id: client.clone(),
                    decided_by: id(member),
                })
                .await;
            self.report(
                &format!("{member} confirms the withdrawal of {client}"),
                outcome,
            )
            .await?;
        }

        writeln!(
            self.out,
            "\n== 4. Users report a client; a burst of new accounts is spotted =="
        )?;
        let reported = id("client-4410");
        let mut harassment_reports = Vec::new();
        for (reporter, created) in [
            ("worker-8810", DEMO_START - 400 * 86_400),
            ("worker-1204", DEMO_START - 900 * 86_400),
        ] {
            harassment_reports.extend(
                self.file_report(reporter, created, &reported, "harassment")
                    .await?,
            );
        }
        for sock in 0..4 {
            self.clock.advance(120);
            self.file_report(
                &format!("new-account-{sock}"),
                DEMO_START - 86_400,
                &id("worker-3300"),
                "scam",
            )
            .await?;
        }
        let report_id = harassment_reports
            .into_iter()
            .next()
            .ok_or_else(|| io::Error::other("the demo's first report was refused"))?;
        let resolution = Resolution {
            report_id: id(&report_id),
            decision: ResolutionDecision::Confirmed,
            decided_by: id("support-suzuki"),
            category: None,
            severity: None,
        };
        for _delivery in 0..2 {
            match self.reports.resolve(&resolution).await {
                Ok(r) => writeln!(
                    self.out,
                    "support-suzuki confirms {report_id}: {:?}{}",
                    r.status,
                    if r.applied {
                        ""
                    } else {
                        " [already resolved: one strike only]"
                    }
                )?,
                Err(e) => writeln!(self.out, "resolution refused: {e}")?,
            }
            self.show_alerts().await?;
        }

        writeln!(self.out, "\n== 5. Where the accounts stand ==")?;
        for user in [worker, client, reported] {
            let standing = self
                .escalator
                .standing(&user)
                .await
                .map_err(io::Error::other)?;
            writeln!(
                self.out,
                "{user}: {} ({} points, {} active strikes, {} audit records)",
                standing.level.as_str(),
                standing.points,
                standing.active_strikes.len(),
                standing.history.len()
            )?;
        }
        Ok(())
    }

    /// Files a report and prints what became of it; returns its id when it was accepted.
    async fn file_report(
        &mut self,
        reporter: &str,
        created_at: u64,
        target: &Id,
        category: &str,
    ) -> io::Result<Option<String>> {
        let command = ReportCommand::from_json(serde_json::json!({
            "type": "report", "reporter_id": reporter, "reporter_account_created_at": created_at,
            "target_user_id": target, "category": category, "description": "(demo)"
        }))
        .map_err(io::Error::other)?;
        let ReportCommand::Report(report) = command else {
            return Err(io::Error::other("not a report"));
        };
        let accepted = match self.reports.intake(&report).await {
            Ok(a) => {
                let brigade = if a.brigading {
                    ", part of a suspected brigade"
                } else {
                    ""
                };
                let crossed = if a.crossed.is_empty() {
                    ""
                } else {
                    ", threshold crossed"
                };
                writeln!(
                    self.out,
                    "{reporter} reports {target} ({category}): weight {:.2}{brigade}{crossed}",
                    a.weight
                )?;
                Some(a.report_id)
            }
            Err(e) => {
                writeln!(self.out, "{reporter} reports {target}: refused: {e}")?;
                None
            }
        };
        self.show_alerts().await?;
        Ok(accepted)
    }

    async fn screen(&mut self, submission: &Submission) -> io::Result<()> {
        let outcome = self
            .screening
            .screen(submission)
            .await
            .map_err(io::Error::other)?;
        serde_json::to_writer(&mut self.out, &outcome.screening.verdict)
            .map_err(io::Error::from)?;
        writeln!(self.out)?;
        for violation in &outcome.strikes {
            writeln!(
                self.out,
                "screening confirms {} ({}) against {} by itself",
                violation.violation_id, violation.category, violation.user_id
            )?;
        }
        self.show_alerts().await
    }

    async fn confirm(&mut self, violation: ViolationConfirmed) -> io::Result<()> {
        let what = format!(
            "{} confirms {} ({}, {}) against {}",
            violation.decided_by,
            violation.violation_id,
            violation.category,
            violation.severity.as_str(),
            violation.user_id
        );
        let outcome = self.escalator.confirm(&violation).await;
        self.report(&what, outcome).await
    }

    async fn report(
        &mut self,
        what: &str,
        outcome: Result<EscalationOutcome, EscalationError>,
    ) -> io::Result<()> {
        match outcome {
            Ok(o) => writeln!(
                self.out,
                "{what}: {} -> {} ({} points){}",
                o.level_before.as_str(),
                o.level.as_str(),
                o.points,
                if o.applied {
                    ""
                } else {
                    " [already recorded: nothing counted twice]"
                }
            )?,
            Err(e) => writeln!(self.out, "{what}: refused: {e}")?,
        }
        self.show_alerts().await
    }

    /// Delivers what the last step wrote to the outbox, then prints the alerts raised since
    /// the last call, in the order they were raised.
    async fn show_alerts(&mut self) -> io::Result<()> {
        let relayed = self.relay.drain().await.map_err(io::Error::other)?;
        if let Some((id, reason)) = relayed.failed.first() {
            return Err(io::Error::other(format!("{id} not delivered: {reason}")));
        }
        let all = self.relay.publisher().alerts().alerts();
        for alert in all.iter().skip(self.shown) {
            let json = serde_json::to_string(alert).map_err(io::Error::from)?;
            writeln!(self.out, "   alert to support: {json}")?;
        }
        self.shown = all.len();
        Ok(())
    }
}

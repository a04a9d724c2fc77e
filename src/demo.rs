//! `anshin demo`: the whole flow on embedded adapters — the sample submissions screened,
//! then two accounts climbing the ladder, with every alert support would receive.

use std::io::{self, Write};
use std::sync::Arc;

use anshin_core::adapters::embedded::EmbeddedAlertSink;
use anshin_core::adapters::embedded_ledger::EmbeddedLedgerStore;
use anshin_core::alert::{Alert, AlertSink, SubmissionAlert};
use anshin_core::clock::{Clock, ManualClock};
use anshin_core::escalation::{
    auto_strikes, EscalationError, EscalationOutcome, Escalator, ViolationConfirmed,
    WithdrawalConfirmed,
};
use anshin_core::ledger::ViolationSource;
use anshin_core::screen::Screener;
use anshin_core::submission::{Id, Submission};
use anshin_core::taxonomy::{Category, Severity};

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

type DemoEscalator = Escalator<EmbeddedLedgerStore, EmbeddedAlertSink>;

struct Demo<W> {
    out: W,
    screener: Screener,
    /// Its alert sink collects screening's alerts too, so they print in order.
    escalator: DemoEscalator,
    clock: Arc<ManualClock>,
    /// Alerts already printed.
    shown: usize,
}

pub async fn run(screener: Screener) -> io::Result<()> {
    let clock = Arc::new(ManualClock::at(DEMO_START));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let escalator = Escalator::new(
        EmbeddedLedgerStore::new(),
        EmbeddedAlertSink::collecting(),
        screener.shared_policy(),
        dyn_clock,
    );
    let mut demo = Demo {
        out: io::stdout().lock(),
        screener,
        escalator,
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

        writeln!(self.out, "\n== 3. Crime recruitment: hidden, struck automatically, withdrawal needs two people ==")?;
        let client = submissions[3].author_id().clone();
        for violation in auto_strikes(
            &submissions[3],
            &self.screener.screen(&submissions[3]),
            self.screener.policy(),
        ) {
            writeln!(
                self.out,
                "screening confirms {} ({}) by itself",
                violation.violation_id, violation.category
            )?;
            self.confirm(violation).await?;
        }
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
            )?;
        }

        writeln!(self.out, "\n== 4. Where the accounts stand ==")?;
        for user in [worker, client] {
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

    async fn screen(&mut self, submission: &Submission) -> io::Result<()> {
        let verdict = self.screener.screen(submission);
        serde_json::to_writer(&mut self.out, &verdict).map_err(io::Error::from)?;
        writeln!(self.out)?;
        if let Some(alert) = SubmissionAlert::for_verdict(submission, &verdict) {
            self.escalator
                .alerts()
                .publish(&Alert::Submission(alert))
                .await
                .map_err(io::Error::other)?;
        }
        self.show_alerts()
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
        self.report(&what, outcome)
    }

    fn report(
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
        self.show_alerts()
    }

    /// Prints the alerts raised since the last call, in the order they were raised.
    fn show_alerts(&mut self) -> io::Result<()> {
        let all = self.escalator.alerts().alerts();
        for alert in all.iter().skip(self.shown) {
            let json = serde_json::to_string(alert).map_err(io::Error::from)?;
            writeln!(self.out, "   alert to support: {json}")?;
        }
        self.shown = all.len();
        Ok(())
    }
}

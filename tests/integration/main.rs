//! Integration tests, built into one binary. Run them with `tests/run.sh`, which starts
//! the moto emulator the AWS adapter tests need.

mod architecture;
mod cli_eval;
mod cli_feedback;
mod cli_processes;
mod dynamodb_round_trips;
mod escalation_suite;
mod faults;
mod model_parity;
mod outbox_publisher_handler;
mod report_intake_handler;
mod report_suite;
mod screen_submission_handler;
mod sns_alerts;
mod support;
mod support_console;
mod threats;
mod user_escalation_handler;

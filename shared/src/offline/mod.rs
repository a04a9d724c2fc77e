//! Work done away from the request path, by the CLI only: measuring the screener on
//! labelled data ([`eval`]) and turning support's decisions into training rows
//! ([`feedback`]).

pub mod eval;
pub mod feedback;

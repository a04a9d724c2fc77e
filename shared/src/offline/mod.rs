//! Work done away from the request path, by the CLI only: measuring the screener on
//! labelled data ([`eval`]), listing its mistakes ([`errors`]), the promotion gate of a
//! candidate against the active screener ([`compare`]), and turning support's decisions
//! into training rows ([`feedback`]).

pub mod compare;
pub mod errors;
pub mod eval;
pub mod feedback;

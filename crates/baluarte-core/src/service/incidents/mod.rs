//! Incidents: intake, the case file, handling, deadlines, correlation, sharing and the board.

pub(crate) mod board;
pub(crate) mod cases;
pub(crate) mod correlation;
pub(crate) mod deadlines;
pub(crate) mod handling;
pub(crate) mod intake;
pub(crate) mod sharing;
pub(crate) mod taxii;

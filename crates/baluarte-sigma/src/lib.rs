//! Baluarte's detection engine: compiles Sigma rules (with Sigma 2 filters and correlation rules) and evaluates
//! them over JSON events. A pure library: no I/O beyond reading rule files on request, no async.
//!
//! ```no_run
//! use baluarte_sigma::{EngineBuilder, Detection};
//! let mut b = EngineBuilder::new();
//! b.add_path(std::path::Path::new("rules"));
//! let (engine, report) = b.build();
//! eprintln!("{} rules loaded, {} failed", report.loaded, report.failures.len());
//! let mut matches = Vec::new();
//! let line = r#"{"Event":{"System":{"Channel":"Security","EventID":4688},"EventData":{"NewProcessName":"C:\\x.exe"}}}"#;
//! engine.evaluate_json(line, &mut matches).ok();
//! for m in matches.iter().filter(|m| m.standalone) {
//!     if let Some(d) = Detection::new(&engine, m, line) {
//!         println!("{}", d.to_json_line());
//!     }
//! }
//! ```

pub mod condition;
pub mod correlation;
pub mod engine;
pub mod event;
pub mod mapping;
pub mod output;
pub mod pattern;
pub mod rule;
mod time;
pub mod yaml;

pub use correlation::{CorrelationMatch, Correlator, CorrelatorOptions, CorrelatorStats};
pub use engine::{Engine, EngineBuilder, Match, PrefilterCounters, RuleId};
pub use event::{Event, EventBuffers, EventError, FieldTable};
pub use mapping::Mappings;
pub use output::{CorrelationDetection, Detection, RuleSummary, Summary};
pub use rule::{LoadOptions, LoadReport, LogSource, RuleError, RuleMeta, RuleSet};
pub use time::parse_timestamp_ms;

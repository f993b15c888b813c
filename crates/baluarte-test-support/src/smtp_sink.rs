//! A real SMTP server on loopback for the tests that deliver e-mail: `smtp_sink.py` (aiosmtpd) writes
//! each message it receives to a directory as JSON, decoded by Python's own e-mail parser, so that our
//! MIME encoding is judged by an independent implementation.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Whether aiosmtpd can be imported; when not, [`crate::require`] skips the test, or fails it under CI.
#[track_caller]
pub fn available() -> bool {
    crate::require::python(&["aiosmtpd"]).is_some()
}

/// The running sink. It is killed when dropped, and it also exits by itself when its stdin closes, so
/// it never outlives the test.
#[derive(Debug)]
pub struct SmtpSink {
    _child: Child,
    /// The loopback port it accepts connections on.
    pub port: u16,
}

/// Start the sink writing into `dir`. The sink binds its own port and names it ("ready PORT"): no port
/// is chosen here and released for it to take.
pub async fn start(dir: &Path) -> SmtpSink {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_sink.py");
    let mut child = Command::new(crate::require::python_program())
        .arg(&script)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", script.display()));
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("{}: no stdout", script.display()));
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    let port = match &first {
        Ok(Ok(Some(line))) => line.strip_prefix("ready ").and_then(|p| p.parse().ok()),
        _ => None,
    };
    let port = port.unwrap_or_else(|| panic!("the SMTP sink did not start: {first:?}"));
    SmtpSink { _child: child, port }
}

/// The messages received so far, in the order they arrived.
pub fn received(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    // Named 1.json, 2.json, … by arrival.
    files.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
    });
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

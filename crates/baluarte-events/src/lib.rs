//! Event readers for Baluarte's operations center.
//!
//! Each reader turns one input (a file, or bytes already in memory) into a stream of [`Record`]s: one
//! JSON object per event, as text, with the place it came from. The detection engine parses that text
//! itself; this crate only checks that it is one well-formed JSON object.
//!
//! Supported inputs, chosen by content (see [`detect`]) or by [`ReadOptions::format`]:
//!
//! - **Windows `.evtx`** (magic `ElfFile\0`), read with the `evtx` crate and rendered in the nested
//!   shape of `evtx_dump` and of the SigmaHQ regression suite: `Event.System…`, `Event.EventData…`,
//!   XML attributes under `#attributes`.
//! - **JSON**: JSON lines (one object per line, passed through as-is), or JSON documents: one
//!   pretty-printed object, several objects one after another, or an array of objects. Elements of a
//!   document are passed on with the whitespace between tokens removed, so each record is one line.
//! - **syslog** lines, RFC 5424 or RFC 3164 (with or without `<PRI>`), turned into a flat JSON object
//!   (see [`syslog`]).
//!
//! Errors name the file and where in it (byte offset and line, or EVTX chunk and record) and what is
//! wrong; after an error the iterator goes on with the rest of the input, except after an I/O error,
//! after which it ends. Nothing is buffered without bound: a line, document element or rendered EVTX
//! record longer than [`ReadOptions::max_record_bytes`] is an error, and text is read through a
//! fixed-size buffer.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

mod evtx_reader;
mod json;
mod lines;
pub mod syslog;

/// The default for [`ReadOptions::max_record_bytes`]: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

/// The magic bytes that start every EVTX file.
pub const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";

/// The stream of records that [`open`] and [`from_bytes`] return.
pub type Records = Box<dyn Iterator<Item = Result<Record, SourceError>> + Send>;

/// One event: a JSON object as text, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The input it was read from (shared by all records of one input).
    pub path: Arc<Path>,
    /// Where in the input the event is.
    pub position: Position,
    /// The event, one JSON object (no newline in it).
    pub json: String,
    /// How many bytes of the input have been read up to and including this record; compare with the
    /// input's size (`std::fs::metadata(path)?.len()`) for a progress bar.
    pub consumed: u64,
}

/// Where an event is in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// In a text input: the byte offset where the event starts (0-based) and its line (1-based).
    Text { offset: u64, line: u64 },
    /// In an EVTX file: the record's EventRecordID and the number of the chunk that holds it (0-based).
    Evtx { record: u64, chunk: u64 },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Text { offset, line } => write!(f, "line {line} (byte {offset})"),
            Position::Evtx { record, chunk } => write!(f, "record {record} (chunk {chunk})"),
        }
    }
}

/// What went wrong reading an input, and where.
///
/// Every variant names the input; all but [`SourceError::Io`] and [`SourceError::UnknownFormat`] also
/// name the place in it. After any of them but `Io` the iterator goes on with the rest of the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The input could not be opened or read.
    #[error("{}: I/O error at byte {offset}: {source}", path.display())]
    Io {
        path: Arc<Path>,
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    /// A JSON line or document element is not one well-formed JSON object.
    #[error("{}: line {line} (byte {offset}): malformed JSON: {reason}", path.display())]
    MalformedJson {
        path: Arc<Path>,
        offset: u64,
        line: u64,
        reason: String,
    },
    /// A text input holds bytes that are not UTF-8.
    #[error("{}: line {line} (byte {offset}): invalid UTF-8", path.display())]
    InvalidUtf8 { path: Arc<Path>, offset: u64, line: u64 },
    /// A line, document element or EVTX record is larger than the limit; it was skipped.
    #[error("{}: {position}: record larger than {limit} bytes, skipped", path.display())]
    Oversized {
        path: Arc<Path>,
        position: Position,
        limit: usize,
    },
    /// A syslog line that is neither RFC 5424 nor RFC 3164.
    #[error("{}: line {line} (byte {offset}): malformed syslog: {reason}", path.display())]
    MalformedSyslog {
        path: Arc<Path>,
        offset: u64,
        line: u64,
        reason: String,
    },
    /// An EVTX chunk that could not be read or parsed; its records were skipped.
    #[error(
        "{}: EVTX chunk {chunk} (byte {offset}) is corrupt: {reason}; {records_before} records read before it",
        path.display()
    )]
    EvtxChunk {
        path: Arc<Path>,
        chunk: u64,
        offset: u64,
        records_before: u64,
        reason: String,
    },
    /// An EVTX record that could not be parsed or rendered; it was skipped. `record` is its
    /// EventRecordID when its header could be read; `offset` is where it is in the file (or, when that
    /// is not known, where its chunk is).
    #[error(
        "{}: EVTX {} (chunk {chunk}, byte {offset}) is corrupt: {reason}",
        path.display(),
        record.map(|r| format!("record {r}")).unwrap_or_else(|| "record".to_string())
    )]
    EvtxRecord {
        path: Arc<Path>,
        chunk: u64,
        record: Option<u64>,
        offset: u64,
        reason: String,
    },
    /// An EVTX file that ends inside a chunk, or before the chunks its header counts.
    #[error(
        "{}: EVTX file truncated at byte {offset}: {reason}; {records_before} records read before it{}",
        path.display(),
        last_record.map(|r| format!(" (the last one record {r})")).unwrap_or_default()
    )]
    TruncatedEvtx {
        path: Arc<Path>,
        offset: u64,
        records_before: u64,
        last_record: Option<u64>,
        reason: String,
    },
    /// An input whose format was to be detected and that is none of those read here (binary content
    /// that is not EVTX, for example an image): nothing was read from it.
    #[error("{}: not an event file: {reason}", path.display())]
    UnknownFormat { path: Arc<Path>, reason: String },
    /// An EVTX file whose header cannot be read: nothing could be read from it.
    #[error("{}: not a readable EVTX file: {reason}", path.display())]
    BadEvtxHeader { path: Arc<Path>, reason: String },
}

impl SourceError {
    /// The input the error is about.
    pub fn path(&self) -> &Path {
        match self {
            SourceError::Io { path, .. }
            | SourceError::MalformedJson { path, .. }
            | SourceError::InvalidUtf8 { path, .. }
            | SourceError::Oversized { path, .. }
            | SourceError::MalformedSyslog { path, .. }
            | SourceError::EvtxChunk { path, .. }
            | SourceError::EvtxRecord { path, .. }
            | SourceError::TruncatedEvtx { path, .. }
            | SourceError::BadEvtxHeader { path, .. }
            | SourceError::UnknownFormat { path, .. } => path,
        }
    }
}

/// The kinds of input, for [`ReadOptions::format`] and [`detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Windows XML Event Log (`.evtx`).
    Evtx,
    /// JSON lines, or JSON documents (one or more objects, or arrays of objects).
    Json,
    /// Syslog lines, RFC 5424 or RFC 3164.
    Syslog,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Evtx => "evtx",
            Format::Json => "json",
            Format::Syslog => "syslog",
        })
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "evtx" => Ok(Format::Evtx),
            "json" | "jsonl" | "ndjson" | "json-lines" => Ok(Format::Json),
            "syslog" => Ok(Format::Syslog),
            other => Err(format!(
                "unknown event format {other:?} (expected evtx, json or syslog)"
            )),
        }
    }
}

/// How to read inputs.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format of the inputs; `None` chooses by content (see [`detect`]).
    pub format: Option<Format>,
    /// The largest line, JSON document element or rendered EVTX record accepted, in bytes; larger ones
    /// are reported as [`SourceError::Oversized`] and skipped.
    pub max_record_bytes: usize,
    /// The year of RFC 3164 timestamps, which have none; `None` takes the current year.
    pub syslog_year: Option<i16>,
    /// The time zone of RFC 3164 timestamps, which have none.
    pub syslog_time_zone: jiff::tz::TimeZone,
    /// EVTX: remove the spaces at the end of string values (`"NtLmSsp "` → `"NtLmSsp"`), as the SigmaHQ
    /// rules and regression suite expect. Default true; false keeps the values as Windows stores them
    /// (as in `EVTX-ATTACK-SAMPLES.jsonl`).
    pub evtx_trim_trailing_spaces: bool,
    /// EVTX: put XML attributes beside their element as `Name_attributes` instead of inside it as
    /// `#attributes` (`evtx_dump --separate-json-attributes`, the shape of `EVTX-ATTACK-SAMPLES.jsonl`).
    /// Default false.
    pub evtx_separate_attributes: bool,
    /// JSON lines: check that each line is well-formed JSON before handing it on. Default true; a
    /// consumer that parses every event itself and reports malformed ones (the detection engine does)
    /// sets false and saves a second parse. A line must start with `{` either way.
    pub validate_json: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            syslog_year: None,
            syslog_time_zone: jiff::tz::TimeZone::UTC,
            evtx_trim_trailing_spaces: true,
            evtx_separate_attributes: false,
            validate_json: true,
        }
    }
}

/// The format of an input, from its first bytes: EVTX by its magic; JSON when the first line that is
/// not blank starts with `{` or `[`; syslog otherwise.
pub fn detect(head: &[u8]) -> Format {
    if head.starts_with(EVTX_MAGIC) {
        return Format::Evtx;
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Format::Json,
        _ => Format::Syslog,
    }
}

/// When the format is detected: text holds no NUL byte, so binary files (images, archives, UTF-16
/// text) are not read as syslog line by line.
fn check_text(path: &Arc<Path>, format: Format, head: &[u8]) -> Result<(), SourceError> {
    if format != Format::Evtx && memchr::memchr(0, head).is_some() {
        return Err(SourceError::UnknownFormat {
            path: path.clone(),
            reason:
                "binary content (a NUL byte in its first 4 KiB) that is not EVTX; to read it anyway, give its format"
                    .to_string(),
        });
    }
    Ok(())
}

/// How many bytes [`detect`] is given.
const SNIFF_BYTES: usize = 4096;

/// Opens a file and returns its events, choosing the reader by [`ReadOptions::format`] or by content.
///
/// Fails only when the file cannot be opened or, for EVTX, when its header cannot be read; every
/// later problem is an item of the iterator.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Records, SourceError> {
    let shared: Arc<Path> = Arc::from(path);
    let io_error = |source| SourceError::Io {
        path: shared.clone(),
        offset: 0,
        source,
    };
    let mut file = File::open(path).map_err(io_error)?;
    let format = match options.format {
        Some(format) => format,
        None => {
            let mut head = Vec::with_capacity(SNIFF_BYTES);
            (&mut file)
                .take(SNIFF_BYTES as u64)
                .read_to_end(&mut head)
                .map_err(io_error)?;
            let format = detect(&head);
            check_text(&shared, format, &head)?;
            if format != Format::Evtx {
                // Text is read as a stream: go on with what is already read, then the rest.
                let reader = Cursor::new(head).chain(file);
                return Ok(text_records(shared, reader, format, options));
            }
            use std::io::Seek;
            file.rewind().map_err(io_error)?;
            format
        }
    };
    match format {
        Format::Evtx => evtx_reader::records(shared, file, options),
        Format::Json | Format::Syslog => Ok(text_records(shared, file, format, options)),
    }
}

/// The events in bytes already in memory, named `path` in records and errors; like [`open`].
pub fn from_bytes(path: &Path, data: Vec<u8>, options: &ReadOptions) -> Result<Records, SourceError> {
    let shared: Arc<Path> = Arc::from(path);
    let format = match options.format {
        Some(format) => format,
        None => {
            let head = &data[..data.len().min(SNIFF_BYTES)];
            let format = detect(head);
            check_text(&shared, format, head)?;
            format
        }
    };
    match format {
        Format::Evtx => evtx_reader::records(shared, Cursor::new(data), options),
        Format::Json | Format::Syslog => Ok(text_records(shared, Cursor::new(data), format, options)),
    }
}

/// The size of the buffer text inputs are read through.
const TEXT_BUFFER: usize = 256 * 1024;

fn text_records<R: Read + Send + 'static>(
    path: Arc<Path>,
    reader: R,
    format: Format,
    options: &ReadOptions,
) -> Records {
    let lines = lines::Lines::new(
        path,
        BufReader::with_capacity(TEXT_BUFFER, reader),
        options.max_record_bytes,
    );
    match format {
        Format::Syslog => Box::new(syslog::SyslogReader::new(lines, options)),
        Format::Json | Format::Evtx => Box::new(json::JsonReader::new(lines, options.validate_json)),
    }
}

/// The files to read for the given paths: a file as given, a directory's files found recursively (in
/// sorted order, symbolic links to files included, links to directories not followed). A path that
/// does not exist or a directory that cannot be listed is kept, so that opening it reports why.
pub fn expand_inputs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out);
        } else {
            out.push(path.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(_) => {
            out.push(dir.to_path_buf());
            return;
        }
    };
    let mut children: Vec<(PathBuf, bool)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let kind = entry.file_type().ok()?;
            if kind.is_dir() {
                Some((path, true))
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                Some((path, false))
            } else {
                None
            }
        })
        .collect();
    children.sort();
    for (path, is_dir) in children {
        if is_dir {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(detect(b"ElfFile\0rest"), Format::Evtx);
        assert_eq!(detect(b"{\"a\":1}\n"), Format::Json);
        assert_eq!(detect(b"\xEF\xBB\xBF\n  [ {}"), Format::Json);
        assert_eq!(detect(b"<34>Oct 11 22:14:15 host su: x"), Format::Syslog);
        assert_eq!(detect(b""), Format::Syslog);
    }

    #[test]
    fn format_from_str() {
        assert_eq!("JSONL".parse::<Format>(), Ok(Format::Json));
        assert_eq!("evtx".parse::<Format>(), Ok(Format::Evtx));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn expands_directories_sorted_files_only() -> Result<(), std::io::Error> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("b/c"))?;
        std::fs::write(dir.path().join("b/c/z.json"), "{}")?;
        std::fs::write(dir.path().join("b/a.evtx"), "")?;
        std::fs::write(dir.path().join("a.log"), "")?;
        let single = dir.path().join("a.log");
        let got = expand_inputs(&[dir.path().to_path_buf(), single.clone(), dir.path().join("missing")]);
        let want = vec![
            dir.path().join("a.log"),
            dir.path().join("b/a.evtx"),
            dir.path().join("b/c/z.json"),
            single,
            dir.path().join("missing"),
        ];
        assert_eq!(got, want);
        Ok(())
    }
}

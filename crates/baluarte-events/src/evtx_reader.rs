//! Windows `.evtx` files, read with the `evtx` crate one chunk at a time.
//!
//! Records are rendered as compact JSON in the crate's default shape (the one `evtx_dump -o json` and
//! the SigmaHQ regression suite use): `{"Event":{"#attributes":{"xmlns":…},"System":{…},"EventData":{…}}}`,
//! XML attributes under `#attributes`. A chunk's records are rendered together when the chunk is read
//! (a chunk is 64 KiB), so at most one chunk's records are held at a time.

use std::collections::VecDeque;
use std::error::Error;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, ParserSettings};

use crate::{Position, Record, Records, SourceError};

const FILE_HEADER: u64 = 4096;
const CHUNK: usize = 65536;

/// The records of an EVTX input, read from its start.
pub(crate) fn records<T: Read + Send + 'static>(
    path: Arc<Path>,
    mut data: T,
    options: &crate::ReadOptions,
) -> Result<Records, SourceError> {
    // The file header: magic, then (at 40) the header block size and (at 42) the chunk count.
    let mut header = Vec::with_capacity(FILE_HEADER as usize);
    (&mut data)
        .take(FILE_HEADER)
        .read_to_end(&mut header)
        .map_err(|source| SourceError::Io {
            path: path.clone(),
            offset: 0,
            source,
        })?;
    if !header.starts_with(crate::EVTX_MAGIC) {
        return Err(SourceError::BadEvtxHeader {
            path,
            reason: "it does not start with \"ElfFile\\0\"".to_string(),
        });
    }
    if header.len() < 128 {
        return Err(SourceError::BadEvtxHeader {
            path,
            reason: format!("the file header is cut short after {} bytes", header.len()),
        });
    }
    let header_block = u64::from(u16::from_le_bytes([header[40], header[41]]));
    if header_block != FILE_HEADER {
        return Err(SourceError::BadEvtxHeader {
            path,
            reason: format!("unsupported header block size {header_block} (expected {FILE_HEADER})"),
        });
    }
    let header_chunks = u64::from(u16::from_le_bytes([header[42], header[43]]));
    let settings = ParserSettings::new()
        .indent(false)
        .separate_json_attributes(options.evtx_separate_attributes);
    let truncated_header = (header.len() as u64) < FILE_HEADER;
    let mut reader = EvtxReader {
        path,
        data,
        settings: Arc::new(settings),
        queue: VecDeque::new(),
        max: options.max_record_bytes,
        trim: options.evtx_trim_trailing_spaces,
        records_read: 0,
        last_record: None,
        next_chunk: 0,
        header_chunks,
        consumed: header.len() as u64,
        ended: false,
    };
    if truncated_header {
        reader.ended = true;
        let err = reader.truncated(format!("the file header is cut short after {} bytes", header.len()));
        reader.queue.push_back(Err(err));
    }
    Ok(Box::new(reader))
}

struct EvtxReader<T> {
    path: Arc<Path>,
    data: T,
    settings: Arc<ParserSettings>,
    queue: VecDeque<Result<Record, SourceError>>,
    max: usize,
    trim: bool,
    records_read: u64,
    last_record: Option<u64>,
    /// The number of the next chunk to read, from 0.
    next_chunk: u64,
    header_chunks: u64,
    consumed: u64,
    ended: bool,
}

/// An error and its sources, as one line.
fn reason(err: &dyn Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = inner.source();
    }
    out
}

impl<T: Read> EvtxReader<T> {
    fn chunk_offset(chunk: u64) -> u64 {
        FILE_HEADER + chunk * CHUNK as u64
    }

    fn truncated(&self, reason: String) -> SourceError {
        SourceError::TruncatedEvtx {
            path: self.path.clone(),
            offset: self.consumed,
            records_before: self.records_read,
            last_record: self.last_record,
            reason,
        }
    }

    fn chunk_error(&self, chunk: u64, reason: String) -> SourceError {
        SourceError::EvtxChunk {
            path: self.path.clone(),
            chunk,
            offset: Self::chunk_offset(chunk),
            records_before: self.records_read,
            reason,
        }
    }

    /// Reads the next chunk into the queue; false at the end of the file.
    fn read_chunk(&mut self) -> bool {
        let number = self.next_chunk;
        let mut data = Vec::with_capacity(CHUNK);
        let mut filled = 0;
        data.resize(CHUNK, 0);
        while filled < CHUNK {
            match self.data.read(&mut data[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    self.ended = true;
                    self.queue.push_back(Err(SourceError::Io {
                        path: self.path.clone(),
                        offset: self.consumed + filled as u64,
                        source,
                    }));
                    return true;
                }
            }
        }
        if filled == 0 {
            if self.header_chunks > number {
                let reason = format!("its header counts {} chunks but it holds {number}", self.header_chunks);
                self.queue.push_back(Err(self.truncated(reason)));
            }
            return false;
        }
        if filled < CHUNK {
            let reason =
                format!("it ends {filled} bytes into chunk {number} (a chunk is {CHUNK} bytes); that chunk is lost");
            self.queue.push_back(Err(self.truncated(reason)));
            self.consumed += filled as u64;
            return false;
        }
        self.next_chunk += 1;
        self.consumed += CHUNK as u64;
        // Empty chunks can sit in the middle of a log that was not closed cleanly.
        if data.iter().all(|&b| b == 0) {
            return true;
        }
        let mut chunk = match EvtxChunkData::new(data, false) {
            Ok(chunk) => chunk,
            Err(err) => {
                let err = self.chunk_error(number, reason(&err));
                self.queue.push_back(Err(err));
                return true;
            }
        };
        let mut parsed = match chunk.parse(Arc::clone(&self.settings)) {
            Ok(parsed) => parsed,
            Err(err) => {
                let err = self.chunk_error(number, reason(&err));
                self.queue.push_back(Err(err));
                return true;
            }
        };
        let consumed = self.consumed;
        let (path, max, trim) = (self.path.clone(), self.max, self.trim);
        for record in parsed.iter() {
            let item = match record.and_then(|record| record.into_json()) {
                Ok(rendered) => finish(
                    &path,
                    number,
                    rendered.event_record_id,
                    rendered.data,
                    max,
                    trim,
                    consumed,
                ),
                Err(err) => {
                    let record = match &err {
                        EvtxError::FailedToParseRecord { record_id, .. } => Some(*record_id),
                        _ => None,
                    };
                    Err(SourceError::EvtxRecord {
                        path: path.clone(),
                        chunk: number,
                        record,
                        offset: Self::chunk_offset(number),
                        reason: reason(&err),
                    })
                }
            };
            if let Ok(record) = &item {
                self.records_read += 1;
                if let Position::Evtx { record, .. } = record.position {
                    self.last_record = Some(record);
                }
            }
            self.queue.push_back(item);
        }
        true
    }
}

impl<T: Read> Iterator for EvtxReader<T> {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            if !self.read_chunk() {
                self.ended = true;
            }
        }
    }
}

/// A rendered record, checked: within the size limit, one JSON object (a damaged record can render as
/// something else), with the control characters that `evtx` leaves raw escaped and, with `trim`, the
/// spaces at the end of its values removed.
fn finish(
    path: &Arc<Path>,
    chunk: u64,
    record: u64,
    json: String,
    max: usize,
    trim: bool,
    consumed: u64,
) -> Result<Record, SourceError> {
    let position = Position::Evtx { record, chunk };
    if json.len() > max {
        return Err(SourceError::Oversized {
            path: path.clone(),
            position,
            limit: max,
        });
    }
    let json = escape_control_characters(json);
    let json = if trim { trim_trailing_spaces(json) } else { json };
    if let Err(why) = crate::json::check_object(&json) {
        return Err(SourceError::EvtxRecord {
            path: path.clone(),
            chunk,
            record: Some(record),
            offset: FILE_HEADER + chunk * CHUNK as u64,
            reason: format!("it renders as invalid JSON: {why}"),
        });
    }
    Ok(Record {
        path: path.clone(),
        position,
        json,
        consumed,
    })
}

/// Escapes the control characters that `evtx` writes raw into the strings of damaged records (compact
/// JSON has none outside strings).
fn escape_control_characters(json: String) -> String {
    if !json.bytes().any(|b| b < 0x20) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if (c as u32) < 0x20 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes the spaces at the end of every string value (not of keys) of compact JSON, as the `evtx`
/// release that rendered the SigmaHQ regression suite's `.json` files did, and as SigmaHQ rules expect
/// (`LogonProcessName: NtLmSsp`, where Windows stores `"NtLmSsp "`).
pub(crate) fn trim_trailing_spaces(json: String) -> String {
    if memchr::memmem::find(json.as_bytes(), b" \"").is_none() {
        return json;
    }
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[i..]) {
        // A string starts at `open`: find its closing quote.
        let start = i + open + 1;
        let mut j = start;
        let close = loop {
            match memchr::memchr2(b'"', b'\\', &bytes[j..]) {
                Some(k) if bytes[j + k] == b'\\' => j += k + 2,
                Some(k) => break Some(j + k),
                None => break None,
            }
        };
        let Some(close) = close else { break };
        let is_key = bytes.get(close + 1) == Some(&b':');
        if !is_key && close > start && bytes[close - 1] == b' ' {
            let mut end = close;
            while end > start && bytes[end - 1] == b' ' {
                end -= 1;
            }
            out.push_str(&json[copied..end]);
            copied = close;
        }
        i = close + 1;
    }
    out.push_str(&json[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::trim_trailing_spaces;

    #[test]
    fn trims_trailing_spaces_of_values_only() {
        let cases = [
            (r#"{"a":"x"}"#, r#"{"a":"x"}"#),
            (
                r#"{"a ":"x  ","b":["y ","  "],"c":"in \" side ","d":"e\\ "}"#,
                r#"{"a ":"x","b":["y",""],"c":"in \" side","d":"e\\"}"#,
            ),
            (
                r#"{"LogonProcessName":"NtLmSsp ","n":1}"#,
                r#"{"LogonProcessName":"NtLmSsp","n":1}"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(trim_trailing_spaces(input.to_string()), want, "{input}");
        }
    }
}

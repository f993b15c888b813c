//! JSON inputs: JSON lines, or JSON documents (objects one after another, or arrays of objects).
//!
//! The mode is chosen by the first line that is not blank: a line that starts with `{` and ends with
//! `}` makes the input JSON lines; anything else (a line `{` that opens a pretty-printed object, a `[`)
//! makes it a document. Documents are scanned line by line, so the line limit still holds, and each
//! element is passed on with the whitespace between its tokens removed.

use std::io::Read;
use std::sync::Arc;

use crate::lines::{Line, LineAt, Lines};
use crate::{Position, Record, SourceError};

/// Checks that `text` is exactly one well-formed JSON object.
pub(crate) fn check_object(text: &str) -> Result<(), String> {
    if !text.starts_with('{') {
        return Err(match text.chars().next() {
            Some(c) => format!("expected a JSON object, found {c:?}"),
            None => "expected a JSON object, found nothing".to_string(),
        });
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|err| err.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Lines,
    Document,
}

pub(crate) struct JsonReader<R> {
    lines: Lines<R>,
    mode: Mode,
    doc: Scanner,
    /// Records and errors found in the current line of a document, handed out before the next line.
    queue: std::collections::VecDeque<Result<Record, SourceError>>,
    consumed: u64,
    /// Parse each JSON line to check it (see `ReadOptions::validate_json`).
    validate: bool,
}

impl<R: Read> JsonReader<R> {
    pub fn new(lines: Lines<R>, validate: bool) -> Self {
        let max = lines.max();
        JsonReader {
            lines,
            mode: Mode::Undecided,
            doc: Scanner::new(max),
            queue: std::collections::VecDeque::new(),
            consumed: 0,
            validate,
        }
    }
}

impl<R: Read> Iterator for JsonReader<R> {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            let path = self.lines.path.clone();
            let Some(line) = self.lines.next_line() else {
                // The end: an element of a document still open is cut short.
                if self.mode == Mode::Document {
                    if let Some(err) = self.doc.finish(&path) {
                        return Some(Err(err));
                    }
                }
                return None;
            };
            let (text, at) = match line {
                Line::Text(text, at) => (text, at),
                Line::Oversized(at) => {
                    self.consumed = at.end;
                    if self.mode == Mode::Document {
                        self.doc.skip_line_oversized(at);
                    }
                    return Some(Err(SourceError::Oversized {
                        path,
                        position: at.position(),
                        limit: self.lines.max(),
                    }));
                }
                Line::Failed(err) => return Some(Err(err)),
            };
            self.consumed = at.end;
            let trimmed = text.trim_ascii();
            if trimmed.is_empty() && self.mode != Mode::Document {
                continue;
            }
            if self.mode == Mode::Undecided {
                self.mode = if trimmed.starts_with(b"{") && trimmed.ends_with(b"}") {
                    Mode::Lines
                } else {
                    Mode::Document
                };
            }
            if self.mode == Mode::Lines {
                return Some(json_line(&path, trimmed, at, self.validate));
            }
            let Ok(text) = std::str::from_utf8(text) else {
                self.doc.abandon();
                return Some(Err(SourceError::InvalidUtf8 {
                    path,
                    offset: at.offset,
                    line: at.line,
                }));
            };
            let consumed = self.consumed;
            self.doc.feed(
                text,
                at,
                &mut |item| {
                    self.queue.push_back(item.map(|(json, position)| Record {
                        path: path.clone(),
                        position,
                        json,
                        consumed,
                    }))
                },
                &path,
            );
        }
    }
}

fn json_line(path: &Arc<std::path::Path>, line: &[u8], at: LineAt, validate: bool) -> Result<Record, SourceError> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(SourceError::InvalidUtf8 {
            path: path.clone(),
            offset: at.offset,
            line: at.line,
        });
    };
    let checked = if validate {
        check_object(text)
    } else if text.starts_with('{') {
        Ok(())
    } else {
        Err("expected a JSON object".to_string())
    };
    if let Err(reason) = checked {
        return Err(SourceError::MalformedJson {
            path: path.clone(),
            offset: at.offset,
            line: at.line,
            reason,
        });
    }
    Ok(Record {
        path: path.clone(),
        position: at.position(),
        json: text.to_owned(),
        consumed: at.end,
    })
}

/// Where the scanner of a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level values.
    Top,
    /// Inside a top-level array, between its elements.
    Array,
    /// Inside an element.
    Element,
}

/// Finds the elements of a JSON document: top-level objects, and the elements of top-level arrays.
struct Scanner {
    max: usize,
    state: State,
    /// Whether the current element is inside a top-level array.
    in_array: bool,
    /// Where the current top-level array started (offset, line).
    array_start: (u64, u64),
    /// The element so far, without whitespace between tokens.
    element: String,
    /// Where the element started.
    start: Position,
    start_offset: u64,
    start_line: u64,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// A scalar element (not an object nor an array): it ends at the next delimiter.
    scalar: bool,
    oversized: bool,
}

type Found = Result<(String, Position), SourceError>;

impl Scanner {
    fn new(max: usize) -> Self {
        Scanner {
            max,
            state: State::Top,
            in_array: false,
            array_start: (0, 0),
            element: String::new(),
            start: Position::Text { offset: 0, line: 0 },
            start_offset: 0,
            start_line: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            scalar: false,
            oversized: false,
        }
    }

    fn error(&self, path: &Arc<std::path::Path>, offset: u64, line: u64, reason: String) -> SourceError {
        SourceError::MalformedJson {
            path: path.clone(),
            offset,
            line,
            reason,
        }
    }

    fn feed(&mut self, text: &str, at: LineAt, emit: &mut dyn FnMut(Found), path: &Arc<std::path::Path>) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.state {
                State::Top | State::Array => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    match (self.state, b) {
                        (State::Top, b'[') => {
                            self.state = State::Array;
                            self.in_array = true;
                            self.array_start = (at.offset + i as u64, at.line);
                        }
                        (State::Array, b',') => {}
                        (State::Array, b']') => {
                            self.state = State::Top;
                            self.in_array = false;
                        }
                        (State::Top, b'{') | (State::Array, _) => {
                            self.begin(at, i);
                            continue;
                        }
                        (_, _) => {
                            let offset = at.offset + i as u64;
                            let c = text[i..].chars().next().unwrap_or('?');
                            emit(Err(self.error(
                                path,
                                offset,
                                at.line,
                                format!("expected '{{' or '[' at the top of a document, found {c:?}; rest of the line skipped"),
                            )));
                            return;
                        }
                    }
                    i += 1;
                }
                State::Element => {
                    let end = self.scan(bytes, i);
                    if end == i {
                        // A delimiter where an element should start (`[}`): report it and move past it,
                        // so that every byte is looked at once and reading always ends.
                        let c = text[i..].chars().next().unwrap_or('?');
                        let offset = at.offset + i as u64;
                        emit(Err(self.error(
                            path,
                            offset,
                            at.line,
                            format!("unexpected {c:?} where an element should start"),
                        )));
                        self.abandon();
                        self.scalar = false;
                        i += c.len_utf8();
                        continue;
                    }
                    let piece = &text[i..end];
                    self.push(piece);
                    i = end;
                    if self.state != State::Element {
                        // The element ended inside this piece.
                        self.complete(emit, path);
                    }
                }
            }
        }
        // The end of a line: a scalar ends there, strings cannot span lines.
        if self.state == State::Element {
            if self.scalar {
                self.state = if self.in_array { State::Array } else { State::Top };
                self.complete(emit, path);
            } else if self.in_string {
                self.in_string = false;
                self.escaped = false;
                let (offset, line) = (at.end.saturating_sub(1), at.line);
                emit(Err(self.error(
                    path,
                    offset,
                    line,
                    "a string runs past the end of its line".to_string(),
                )));
                self.abandon();
            }
        }
    }

    fn begin(&mut self, at: LineAt, i: usize) {
        self.state = State::Element;
        self.element.clear();
        self.start_offset = at.offset + i as u64;
        self.start_line = at.line;
        self.start = Position::Text {
            offset: self.start_offset,
            line: self.start_line,
        };
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.oversized = false;
        self.scalar = false;
    }

    /// Scans from `i` while inside the element; returns where the element or the line ends. The piece
    /// scanned is kept without the whitespace outside strings (see `push`).
    fn scan(&mut self, bytes: &[u8], mut i: usize) -> usize {
        if self.depth == 0 && !self.in_string && !self.scalar {
            // The first byte of the element.
            match bytes[i] {
                b'{' | b'[' => {}
                _ => self.scalar = true,
            }
        }
        while i < bytes.len() {
            let b = bytes[i];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                i += 1;
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' if !self.scalar => self.depth += 1,
                b'}' | b']' if !self.scalar => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.state = if self.in_array { State::Array } else { State::Top };
                        return i + 1;
                    }
                }
                b',' | b']' | b'}' if self.scalar && self.depth == 0 => {
                    self.state = if self.in_array { State::Array } else { State::Top };
                    return i;
                }
                _ => {}
            }
            i += 1;
        }
        i
    }

    /// Adds a piece of the element, without whitespace outside strings. A piece starts outside any
    /// string: at the start of the element or of a line (a JSON string cannot span lines).
    fn push(&mut self, piece: &str) {
        if self.oversized {
            return;
        }
        if self.element.len() + piece.len() > self.max {
            self.oversized = true;
            self.element = String::new();
            return;
        }
        let (mut in_string, mut escaped) = (false, false);
        let mut run_start = 0;
        for (j, &b) in piece.as_bytes().iter().enumerate() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
            } else if b == b'"' {
                in_string = true;
            } else if b.is_ascii_whitespace() {
                self.element.push_str(&piece[run_start..j]);
                run_start = j + 1;
            }
        }
        self.element.push_str(&piece[run_start..]);
    }

    fn complete(&mut self, emit: &mut dyn FnMut(Found), path: &Arc<std::path::Path>) {
        self.scalar = false;
        if self.oversized {
            self.oversized = false;
            emit(Err(SourceError::Oversized {
                path: path.clone(),
                position: self.start,
                limit: self.max,
            }));
            return;
        }
        let element = std::mem::take(&mut self.element);
        match check_object(&element) {
            Ok(()) => emit(Ok((element, self.start))),
            Err(reason) => emit(Err(self.error(path, self.start_offset, self.start_line, reason))),
        }
    }

    /// Notes that a line of the document was too long: the element it is in is lost.
    fn skip_line_oversized(&mut self, _at: LineAt) {
        if self.state == State::Element {
            self.abandon();
        }
    }

    /// Gives up the current element (after an error inside it): goes back to between elements.
    fn abandon(&mut self) {
        if self.state == State::Element {
            self.state = if self.in_array { State::Array } else { State::Top };
        }
        self.element.clear();
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.scalar = false;
        self.oversized = false;
    }

    /// The end of the input: an element still open is an error.
    fn finish(&mut self, path: &Arc<std::path::Path>) -> Option<SourceError> {
        match self.state {
            State::Element => {
                let err = self.error(
                    path,
                    self.start_offset,
                    self.start_line,
                    "the input ends inside this element (truncated?)".to_string(),
                );
                self.abandon();
                self.state = State::Top;
                self.in_array = false;
                Some(err)
            }
            State::Array => {
                self.state = State::Top;
                self.in_array = false;
                let (offset, line) = self.array_start;
                Some(self.error(
                    path,
                    offset,
                    line,
                    "the input ends inside this array (truncated?)".to_string(),
                ))
            }
            State::Top => None,
        }
    }
}

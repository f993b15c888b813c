//! Lines of a text input, read through a fixed-size buffer with a limit on a line's length.

use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;

use crate::{Position, SourceError};

/// What [`Lines::next_line`] found.
pub(crate) enum Line<'a> {
    /// A line, without its line ending (`\n` or `\r\n`) nor, on the first line, a UTF-8 byte order mark.
    Text(&'a [u8], LineAt),
    /// A line longer than the limit, skipped.
    Oversized(LineAt),
    /// Reading failed; nothing more will be read.
    Failed(SourceError),
}

/// Where a line is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineAt {
    /// The byte offset of its start.
    pub offset: u64,
    /// Its number, from 1.
    pub line: u64,
    /// The byte offset just past its line ending.
    pub end: u64,
}

impl LineAt {
    pub fn position(self) -> Position {
        Position::Text {
            offset: self.offset,
            line: self.line,
        }
    }
}

pub(crate) struct Lines<R> {
    pub path: Arc<Path>,
    reader: BufReader<R>,
    max: usize,
    /// A line that spans more than one fill of the reader's buffer.
    spill: Vec<u8>,
    /// Bytes of the reader's buffer that the last line returned still borrows.
    pending: usize,
    offset: u64,
    line: u64,
    done: bool,
}

impl<R: Read> Lines<R> {
    pub fn new(path: Arc<Path>, reader: BufReader<R>, max: usize) -> Self {
        Lines {
            path,
            reader,
            max,
            spill: Vec::new(),
            pending: 0,
            offset: 0,
            line: 0,
            done: false,
        }
    }

    /// The longest line accepted.
    pub fn max(&self) -> usize {
        self.max
    }

    pub fn next_line(&mut self) -> Option<Line<'_>> {
        if self.pending > 0 {
            self.reader.consume(self.pending);
            self.pending = 0;
        }
        if self.done {
            return None;
        }
        self.spill.clear();
        let start = self.offset;
        let mut length: u64 = 0;
        let mut oversized = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.done = true;
                    return Some(Line::Failed(SourceError::Io {
                        path: self.path.clone(),
                        offset: self.offset,
                        source,
                    }));
                }
            };
            if available.is_empty() {
                self.done = true;
                if length == 0 {
                    return None;
                }
                // The last line, without a line ending.
                self.line += 1;
                let at = LineAt {
                    offset: start,
                    line: self.line,
                    end: self.offset,
                };
                if oversized {
                    return Some(Line::Oversized(at));
                }
                return Some(Line::Text(trim_line(&self.spill, at.line), at));
            }
            match memchr::memchr(b'\n', available) {
                Some(i) => {
                    let taken = i as u64 + 1;
                    length += i as u64;
                    self.offset += taken;
                    self.line += 1;
                    let at = LineAt {
                        offset: start,
                        line: self.line,
                        end: self.offset,
                    };
                    if oversized || length > self.max as u64 {
                        self.reader.consume(i + 1);
                        return Some(Line::Oversized(at));
                    }
                    if self.spill.is_empty() {
                        // The whole line is in the buffer: lend it from there.
                        self.pending = i + 1;
                        let text = &self.reader.buffer()[..i];
                        return Some(Line::Text(trim_line(text, at.line), at));
                    }
                    self.spill.extend_from_slice(&available[..i]);
                    self.reader.consume(i + 1);
                    return Some(Line::Text(trim_line(&self.spill, at.line), at));
                }
                None => {
                    let n = available.len();
                    length += n as u64;
                    if !oversized && length > self.max as u64 {
                        oversized = true;
                        self.spill = Vec::new();
                    }
                    if !oversized {
                        self.spill.extend_from_slice(available);
                    }
                    self.offset += n as u64;
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// A line without its `\r` before `\n` and, on the first line, without a UTF-8 byte order mark.
fn trim_line(line: &[u8], number: u64) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if number == 1 {
        line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn collect(input: &[u8], buffer: usize, max: usize) -> Vec<Result<(String, u64, u64, u64), String>> {
        let reader = BufReader::with_capacity(buffer, input);
        let mut lines = Lines::new(Arc::from(Path::new("t")), reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line() {
            out.push(match line {
                Line::Text(text, at) => Ok((String::from_utf8_lossy(text).into_owned(), at.offset, at.line, at.end)),
                Line::Oversized(at) => Err(format!("oversized {} {}", at.line, at.offset)),
                Line::Failed(err) => Err(err.to_string()),
            });
        }
        out
    }

    #[test]
    fn splits_lines_across_buffer_fills() {
        let input = b"\xEF\xBB\xBFfirst\r\nsecond line\n\nlast";
        for buffer in [1, 2, 3, 7, 64] {
            let got = collect(input, buffer, 100);
            assert_eq!(
                got,
                vec![
                    Ok(("first".to_string(), 0, 1, 10)),
                    Ok(("second line".to_string(), 10, 2, 22)),
                    Ok((String::new(), 22, 3, 23)),
                    Ok(("last".to_string(), 23, 4, 27)),
                ],
                "buffer {buffer}"
            );
        }
    }

    #[test]
    fn skips_oversized_lines_and_goes_on() {
        for buffer in [2, 5, 64] {
            let got = collect(b"ok\n0123456789\nfine\n0123456789", buffer, 5);
            assert_eq!(
                got,
                vec![
                    Ok(("ok".to_string(), 0, 1, 3)),
                    Err("oversized 2 3".to_string()),
                    Ok(("fine".to_string(), 14, 3, 19)),
                    Err("oversized 4 19".to_string()),
                ],
                "buffer {buffer}"
            );
        }
    }
}

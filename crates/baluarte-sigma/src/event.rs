//! Events: one JSON object, flattened into (field, value) leaves in a single pass, borrowing the input where a
//! string has no escapes.
//!
//! Two shapes are understood at once:
//! - the nested Windows shape: under `Event.System`, `X.#attributes.A` and `X_attributes.A` both become `X_A`
//!   (`Provider_Name`, `TimeCreated_SystemTime`), `X.#text` becomes `X`; under `Event.EventData` and
//!   `Event.UserData` a value is named by its innermost key (`CommandLine`, `Image`);
//! - flat or ECS-style objects: nested keys are joined with dots (`process.command_line`).
//!
//! Arrays give one leaf per element under the same name.

use rustc_hash::FxHashMap;

use crate::pattern::lower_into;

/// Sentinel field id of a name no rule refers to (its values still count for keywords).
pub const UNKNOWN_FIELD: u32 = u32::MAX;

/// The names rules refer to, interned to small integers.
#[derive(Debug, Clone, Default)]
pub struct FieldTable {
    map: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl FieldTable {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.map.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.map.insert(name.into(), id);
        id
    }

    pub fn get(&self, name: &str) -> u32 {
        self.map.get(name).copied().unwrap_or(UNKNOWN_FIELD)
    }

    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(|b| &**b)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Why an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event JSON at byte {offset}: {reason}")]
pub struct EventError {
    pub offset: usize,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Num,
    Bool,
    Null,
}

/// One scalar value of the event.
#[derive(Debug, Clone, Copy)]
pub struct Leaf {
    pub field: u32,
    pub kind: Kind,
    /// Original text: in the source when `in_buf` is false, else in the event's own buffer.
    orig: (u32, u32),
    in_buf: bool,
    /// Lower-cased text in the event's haystack.
    lower: (u32, u32),
}

/// A parsed event. Holds the source text and reusable buffers.
#[derive(Debug, Default)]
pub struct Event<'a> {
    src: &'a str,
    pub(crate) leaves: Vec<Leaf>,
    buf: Vec<u8>,
    /// All values lower-cased, each followed by a NUL: what matchers compare and the prefilter scans.
    pub(crate) haystack: Vec<u8>,
}

/// Reusable allocations for parsing events.
#[derive(Debug, Default)]
pub struct EventBuffers {
    leaves: Vec<Leaf>,
    buf: Vec<u8>,
    haystack: Vec<u8>,
    scratch: Scratch,
}

#[derive(Debug, Default)]
struct Scratch {
    path: Vec<(u32, u32, bool)>,
    keybuf: String,
    name: String,
}

const MAX_DEPTH: usize = 128;

impl<'a> Event<'a> {
    /// Parses one JSON object.
    pub fn parse(src: &'a str, fields: &FieldTable) -> Result<Event<'a>, EventError> {
        Self::parse_with(src, fields, &mut EventBuffers::default())
    }

    /// Parses reusing buffers (see [`Event::into_buffers`]).
    pub fn parse_with(src: &'a str, fields: &FieldTable, bufs: &mut EventBuffers) -> Result<Event<'a>, EventError> {
        let mut ev = Event {
            src,
            leaves: std::mem::take(&mut bufs.leaves),
            buf: std::mem::take(&mut bufs.buf),
            haystack: std::mem::take(&mut bufs.haystack),
        };
        ev.leaves.clear();
        ev.buf.clear();
        ev.haystack.clear();
        let mut scratch = std::mem::take(&mut bufs.scratch);
        scratch.path.clear();
        scratch.keybuf.clear();
        let r = {
            let mut p = JsonParser {
                s: src.as_bytes(),
                src,
                pos: 0,
                ev: &mut ev,
                fields,
                sc: &mut scratch,
            };
            p.ws();
            if p.peek() != Some(b'{') {
                Err(EventError {
                    offset: p.pos,
                    reason: "an event must be a JSON object",
                })
            } else {
                p.value(0).and_then(|_| {
                    p.ws();
                    if p.pos != p.s.len() {
                        Err(EventError {
                            offset: p.pos,
                            reason: "trailing characters after the event",
                        })
                    } else {
                        Ok(())
                    }
                })
            }
        };
        bufs.scratch = scratch;
        // Sorted by field (stable: a field's values keep document order), so rules find a field's values by
        // binary search instead of scanning every leaf.
        ev.leaves.sort_by_key(|l| l.field);
        r.map(|_| ev)
    }

    /// Gives the allocations back for the next event.
    pub fn into_buffers(self, bufs: &mut EventBuffers) {
        bufs.leaves = self.leaves;
        bufs.buf = self.buf;
        bufs.haystack = self.haystack;
    }

    /// The source JSON text.
    pub fn source(&self) -> &'a str {
        self.src
    }

    pub fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    /// Original text of a value (numbers as written, booleans as `true`/`false`, null as empty).
    pub fn text(&self, l: &Leaf) -> &[u8] {
        let (s, e) = (l.orig.0 as usize, l.orig.1 as usize);
        if l.in_buf {
            &self.buf[s..e]
        } else {
            &self.src.as_bytes()[s..e]
        }
    }

    pub fn text_str(&self, l: &Leaf) -> &str {
        std::str::from_utf8(self.text(l)).unwrap_or_default()
    }

    /// Lower-cased text of a value.
    pub fn lower(&self, l: &Leaf) -> &[u8] {
        &self.haystack[l.lower.0 as usize..l.lower.1 as usize]
    }

    /// Values of a field, in document order (leaves are kept sorted by field, see `parse_with`).
    pub fn values(&self, field: u32) -> &[Leaf] {
        let start = self.leaves.partition_point(|l| l.field < field);
        let len = self.leaves[start..].iter().take_while(|l| l.field == field).count();
        &self.leaves[start..start + len]
    }

    pub fn first(&self, field: u32) -> Option<&Leaf> {
        let start = self.leaves.partition_point(|l| l.field < field);
        self.leaves.get(start).filter(|l| l.field == field)
    }
}

struct JsonParser<'p, 'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    ev: &'p mut Event<'a>,
    fields: &'p FieldTable,
    sc: &'p mut Scratch,
}

impl<'a> JsonParser<'_, 'a> {
    fn fail<T>(&self, reason: &'static str) -> Result<T, EventError> {
        Err(EventError {
            offset: self.pos,
            reason,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(c) = self.s.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), EventError> {
        if depth > MAX_DEPTH {
            return self.fail("nesting too deep");
        }
        self.ws();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return self.fail("expected a key");
                    }
                    let key = self.string_span(true)?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return self.fail("expected `:`");
                    }
                    self.pos += 1;
                    self.sc.path.push(key);
                    self.value(depth + 1)?;
                    self.sc.path.pop();
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return self.fail("expected `,` or `}`"),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return self.fail("expected `,` or `]`"),
                    }
                }
            }
            Some(b'"') => {
                let (s, e, in_buf) = self.string_span(false)?;
                self.leaf(Kind::Str, (s, e), in_buf);
                Ok(())
            }
            Some(b't') => self.literal(b"true", Kind::Bool),
            Some(b'f') => self.literal(b"false", Kind::Bool),
            Some(b'n') => self.literal(b"null", Kind::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                self.leaf(Kind::Num, (start as u32, self.pos as u32), false);
                Ok(())
            }
            _ => self.fail("expected a value"),
        }
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Result<(), EventError> {
        if self.s[self.pos..].starts_with(word) {
            let start = self.pos;
            self.pos += word.len();
            let span = if kind == Kind::Null {
                (start as u32, start as u32)
            } else {
                (start as u32, self.pos as u32)
            };
            self.leaf(kind, span, false);
            Ok(())
        } else {
            self.fail("invalid literal")
        }
    }

    /// Reads a string; returns its span in the source, or (for escaped strings) in the key or value buffer.
    fn string_span(&mut self, key: bool) -> Result<(u32, u32, bool), EventError> {
        self.pos += 1;
        let start = self.pos;
        match memchr::memchr2(b'"', b'\\', &self.s[self.pos..]) {
            None => self.fail("unterminated string"),
            Some(i) => {
                let at = self.pos + i;
                if self.s[at] == b'"' {
                    self.pos = at + 1;
                    return Ok((start as u32, at as u32, false));
                }
                // Escapes: decode into a buffer.
                self.pos = at;
                self.escaped(start, key)
            }
        }
    }

    fn escaped(&mut self, start: usize, key: bool) -> Result<(u32, u32, bool), EventError> {
        if key {
            let mut tmp = Vec::new();
            let (s, e, _) = Self::unescape(self.s, start, &mut self.pos, &mut tmp)?;
            let text = std::str::from_utf8(&tmp[s as usize..e as usize]).map_err(|_| EventError {
                offset: start,
                reason: "invalid UTF-8 in a key",
            })?;
            let b0 = self.sc.keybuf.len();
            self.sc.keybuf.push_str(text);
            return Ok((b0 as u32, self.sc.keybuf.len() as u32, true));
        }
        Self::unescape(self.s, start, &mut self.pos, &mut self.ev.buf)
    }

    fn unescape(s: &[u8], start: usize, pos: &mut usize, out: &mut Vec<u8>) -> Result<(u32, u32, bool), EventError> {
        let b0 = out.len();
        out.extend_from_slice(&s[start..*pos]);
        let mut i = *pos;
        loop {
            let Some(&c) = s.get(i) else {
                return Err(EventError {
                    offset: i,
                    reason: "unterminated string",
                });
            };
            match c {
                b'"' => {
                    *pos = i + 1;
                    return Ok((b0 as u32, out.len() as u32, true));
                }
                b'\\' => {
                    let Some(&e) = s.get(i + 1) else {
                        return Err(EventError {
                            offset: i,
                            reason: "bad escape",
                        });
                    };
                    i += 2;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hex = |at: usize| -> Option<u32> {
                                let h = s.get(at..at + 4)?;
                                u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
                            };
                            let Some(mut cp) = hex(i) else {
                                return Err(EventError {
                                    offset: i,
                                    reason: "bad \\u escape",
                                });
                            };
                            i += 4;
                            if (0xD800..0xDC00).contains(&cp) && s.get(i) == Some(&b'\\') && s.get(i + 1) == Some(&b'u')
                            {
                                if let Some(lo) = hex(i + 2) {
                                    if (0xDC00..0xE000).contains(&lo) {
                                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                        i += 6;
                                    }
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => {
                            return Err(EventError {
                                offset: i - 1,
                                reason: "bad escape",
                            })
                        }
                    }
                }
                _ => {
                    // Copy the run up to the next quote or backslash.
                    let run = memchr::memchr2(b'"', b'\\', &s[i..]).unwrap_or(s.len() - i);
                    out.extend_from_slice(&s[i..i + run]);
                    i += run;
                }
            }
        }
    }

    fn key_text(&self, k: (u32, u32, bool)) -> &str {
        // Spans end at ASCII quotes, so slicing the source `str` needs no UTF-8 validation.
        if k.2 {
            self.sc.keybuf.get(k.0 as usize..k.1 as usize).unwrap_or_default()
        } else {
            self.src.get(k.0 as usize..k.1 as usize).unwrap_or_default()
        }
    }

    /// Resolves the field name of the current path and records the leaf.
    fn leaf(&mut self, kind: Kind, orig: (u32, u32), in_buf: bool) {
        let field = self.field_id();
        let text: &[u8] = if in_buf {
            &self.ev.buf[orig.0 as usize..orig.1 as usize]
        } else {
            &self.s[orig.0 as usize..orig.1 as usize]
        };
        let hay = &mut self.ev.haystack;
        let ls = hay.len() as u32;
        lower_into(text, hay);
        let le = hay.len() as u32;
        hay.push(0);
        self.ev.leaves.push(Leaf {
            field,
            kind,
            orig,
            in_buf,
            lower: (ls, le),
        });
    }

    fn field_id(&mut self) -> u32 {
        let path = std::mem::take(&mut self.sc.path);
        let mut name = std::mem::take(&mut self.sc.name);
        name.clear();
        let windows = path.len() >= 2 && self.key_text(path[0]) == "Event" && {
            let k1 = self.key_text(path[1]);
            k1 == "System" || k1 == "EventData" || k1 == "UserData"
        };
        if windows {
            let section = self.key_text(path[1]);
            if section == "System" {
                for &k in &path[2..] {
                    let t = self.key_text(k);
                    if t == "#attributes" || t == "#text" {
                        continue;
                    }
                    let t = t.strip_suffix("_attributes").unwrap_or(t);
                    if !name.is_empty() {
                        name.push('_');
                    }
                    name.push_str(t);
                }
            } else {
                // Innermost real key; an attribute of an EventData element is named element_attribute.
                let mut last = "";
                let mut prev = "";
                let mut attr_owner: Option<&str> = None;
                for &k in &path[2..] {
                    let t = self.key_text(k);
                    if t == "#text" {
                        attr_owner = None;
                        continue;
                    }
                    if t == "#attributes" {
                        attr_owner = if prev.is_empty() { None } else { Some(prev) };
                        continue;
                    }
                    prev = t;
                    last = t;
                }
                match attr_owner {
                    Some(owner) if last != owner => {
                        name.push_str(owner);
                        name.push('_');
                        name.push_str(last);
                    }
                    _ => name.push_str(last.strip_suffix("_attributes").unwrap_or(last)),
                }
                // Windows field names are used without spaces (`Threat Name` is `ThreatName`).
                if name.contains(' ') {
                    name.retain(|c| c != ' ');
                }
                if name.is_empty() {
                    name.push_str(section);
                }
            }
        } else {
            for &k in &path {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(self.key_text(k));
            }
        }
        let id = self.fields.get(&name);
        self.sc.name = name;
        self.sc.path = path;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(names: &[&str]) -> FieldTable {
        let mut t = FieldTable::default();
        for n in names {
            t.intern(n);
        }
        t
    }

    fn get<'e>(ev: &'e Event, t: &FieldTable, name: &str) -> Vec<&'e str> {
        ev.values(t.get(name)).iter().map(|l| ev.text_str(l)).collect()
    }

    #[test]
    fn windows_nested_attributes() {
        let t = table(&[
            "Provider_Name",
            "EventID",
            "Channel",
            "TimeCreated_SystemTime",
            "Image",
            "Security_UserID",
        ]);
        let src = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":7,"TimeCreated":{"#attributes":{"SystemTime":"2025-11-27T07:40:10Z"}},"Channel":"Microsoft-Windows-Sysmon/Operational","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"Image":"C:\\Windows\\System32\\WerFaultSecure.exe"}}}"##;
        let ev = Event::parse(src, &t).map_err(|e| e.to_string());
        let ev = ev.as_ref().map_err(|e| e.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(get(ev, &t, "Provider_Name"), vec!["Microsoft-Windows-Sysmon"]);
        assert_eq!(get(ev, &t, "EventID"), vec!["7"]);
        assert_eq!(get(ev, &t, "TimeCreated_SystemTime"), vec!["2025-11-27T07:40:10Z"]);
        assert_eq!(get(ev, &t, "Image"), vec![r"C:\Windows\System32\WerFaultSecure.exe"]);
        assert_eq!(get(ev, &t, "Security_UserID"), vec!["S-1-5-18"]);
        let img = ev.first(t.get("Image")).map(|l| ev.lower(l).to_vec());
        assert_eq!(img.as_deref(), Some(&br"c:\windows\system32\werfaultsecure.exe"[..]));
    }

    #[test]
    fn windows_flattened_attributes() {
        let t = table(&[
            "Provider_Name",
            "EventID",
            "Channel",
            "TimeCreated_SystemTime",
            "ProcessName",
        ]);
        let src = r#"{"Event_attributes":{"xmlns":"x"},"Event":{"System":{"Provider_attributes":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":4985,"TimeCreated_attributes":{"SystemTime":"2019-08-14T14:06:44.495674Z"},"Channel":"Security","Security":null},"EventData":{"ProcessName":"C:\\ProgramData\\proc_doppel64.exe"}}}"#;
        let ev = Event::parse(src, &t).unwrap_or_default();
        assert_eq!(
            get(&ev, &t, "Provider_Name"),
            vec!["Microsoft-Windows-Security-Auditing"]
        );
        assert_eq!(get(&ev, &t, "EventID"), vec!["4985"]);
        assert_eq!(get(&ev, &t, "Channel"), vec!["Security"]);
        assert_eq!(get(&ev, &t, "ProcessName"), vec![r"C:\ProgramData\proc_doppel64.exe"]);
    }

    #[test]
    fn flat_dotted_and_arrays() {
        let t = table(&["process.command_line", "tags", "user.name"]);
        let src = r#"{"process":{"command_line":"a \"b\" \u00e9"},"tags":["x","y"],"user.name":"Bob"}"#;
        let ev = Event::parse(src, &t).unwrap_or_default();
        assert_eq!(get(&ev, &t, "process.command_line"), vec!["a \"b\" é"]);
        assert_eq!(get(&ev, &t, "tags"), vec!["x", "y"]);
        assert_eq!(get(&ev, &t, "user.name"), vec!["Bob"]);
    }

    #[test]
    fn errors_have_offsets() {
        let t = FieldTable::default();
        for bad in [
            "",
            "[]",
            "{",
            "{\"a\":}",
            "{\"a\":1}x",
            "{\"a\":\"\\q\"}",
            "{\"a\":tru}",
        ] {
            assert!(Event::parse(bad, &t).is_err(), "{bad}");
        }
        let deep = "{\"a\":".repeat(300) + "1" + &"}".repeat(300);
        assert!(Event::parse(&deep, &t).is_err());
    }
}

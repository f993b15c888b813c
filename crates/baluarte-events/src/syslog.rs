//! Syslog lines (RFC 5424 and RFC 3164) as flat JSON objects.
//!
//! Each line becomes one object with these fields, each left out when the line does not have it:
//!
//! | field | from |
//! |---|---|
//! | `format` | `"rfc5424"` or `"rfc3164"` |
//! | `facility`, `facility_name` | PRI: its number and name (`kern`, `user`, … `auth`, … `local7`) |
//! | `severity`, `severity_name` | PRI: its number and name (`emerg` … `debug`) |
//! | `version` | RFC 5424 VERSION |
//! | `timestamp` | RFC 3339 in UTC (`2003-10-11T22:14:15.003Z`); RFC 3164's `Mmm dd hh:mm:ss` takes its year from [`ReadOptions::syslog_year`] (else the current year) and its zone from [`ReadOptions::syslog_time_zone`] |
//! | `hostname` | HOSTNAME |
//! | `app_name` | RFC 5424 APP-NAME, or RFC 3164 TAG (the program) |
//! | `procid` | RFC 5424 PROCID, or RFC 3164 `[pid]` after the TAG, as text |
//! | `msgid` | RFC 5424 MSGID |
//! | `structured_data` | RFC 5424 SD: `{"SD-ID": {"PARAM": "value", …}, …}` |
//! | `message` | MSG, without a leading byte order mark |
//!
//! RFC 5424 nil values (`-`) are left out. A line with no `<PRI>` (as syslog daemons write their files)
//! is read as RFC 3164 without facility and severity. Following RFC 3164's relay rules, a line whose
//! timestamp cannot be read keeps everything after the PRI as its message. A PRI over 191, a malformed
//! PRI and a malformed RFC 5424 header or structured data are errors. Bytes that are not UTF-8 are
//! replaced with U+FFFD.

use std::io::Read;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::lines::{Line, Lines};
use crate::{ReadOptions, Record, SourceError};

/// Why a syslog line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyslogError(String);

impl SyslogError {
    fn new(reason: impl Into<String>) -> Self {
        SyslogError(reason.into())
    }
}

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Reads syslog lines; holds what the options decide for RFC 3164 timestamps.
#[derive(Debug, Clone)]
pub struct SyslogParser {
    year: i16,
    time_zone: TimeZone,
}

impl SyslogParser {
    pub fn new(options: &ReadOptions) -> Self {
        let time_zone = options.syslog_time_zone.clone();
        // A command-line reader (`baluarte hunt`) given no year takes this year, as syslog receivers do;
        // services and tests always pass one.
        #[allow(clippy::disallowed_methods)]
        let year = options
            .syslog_year
            .unwrap_or_else(|| Timestamp::now().to_zoned(time_zone.clone()).year());
        SyslogParser { year, time_zone }
    }

    /// The JSON object for one line (without its line ending).
    pub fn to_json(&self, line: &str) -> Result<String, SyslogError> {
        let mut out = String::with_capacity(line.len() + 128);
        self.write_json(line, &mut out)?;
        Ok(out)
    }

    /// Writes the JSON object for one line to `out`.
    pub fn write_json(&self, line: &str, out: &mut String) -> Result<(), SyslogError> {
        let mut obj = Obj::new(out);
        let mut rest = line;
        if let Some(after) = rest.strip_prefix('<') {
            let close =
                after.bytes().take(4).position(|b| b == b'>').ok_or_else(|| {
                    SyslogError::new("malformed PRI: expected '<' and 1 to 3 digits and '>'".to_string())
                })?;
            let digits = &after[..close];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SyslogError::new(format!("malformed PRI {:?}", &rest[..close + 2])));
            }
            let pri: u16 = digits.parse().map_err(|_| SyslogError::new("malformed PRI"))?;
            if pri > 191 {
                return Err(SyslogError::new(format!("priority {pri} out of range (0 to 191)")));
            }
            rest = &after[close + 1..];
            let (facility, severity) = (usize::from(pri / 8), usize::from(pri % 8));
            if let Some(version) = rfc5424_version(rest) {
                obj.str("format", "rfc5424");
                obj.num("facility", facility as u64);
                obj.str("facility_name", FACILITIES[facility]);
                obj.num("severity", severity as u64);
                obj.str("severity_name", SEVERITIES[severity]);
                return rfc5424(&mut obj, version, &rest[version.len() + 1..]);
            }
            obj.str("format", "rfc3164");
            obj.num("facility", facility as u64);
            obj.str("facility_name", FACILITIES[facility]);
            obj.num("severity", severity as u64);
            obj.str("severity_name", SEVERITIES[severity]);
        } else {
            obj.str("format", "rfc3164");
        }
        self.rfc3164(&mut obj, rest);
        obj.close();
        Ok(())
    }

    fn rfc3164(&self, obj: &mut Obj<'_>, line: &str) {
        let Some((timestamp, rest)) = self.bsd_timestamp(line) else {
            obj.str("message", line);
            return;
        };
        obj.str("timestamp", &timestamp.to_string());
        // HOSTNAME, unless the next word is already the TAG ("su:" or "sshd[42]:").
        let mut rest = rest;
        if let Some((word, after)) = rest.split_once(' ') {
            if !word.is_empty() && !word.ends_with(':') && !word.contains('[') {
                obj.str("hostname", word);
                rest = after;
            }
        }
        // TAG[PID]: MSG
        let word_end = rest.find([' ', ':', '[']).unwrap_or(rest.len());
        let tag = &rest[..word_end];
        let after = &rest[word_end..];
        let tagged = if let Some(bracketed) = after.strip_prefix('[') {
            match bracketed.split_once(']') {
                Some((pid, tail)) if !tag.is_empty() && !pid.contains(' ') => {
                    Some((Some(pid), tail.strip_prefix(':').unwrap_or(tail)))
                }
                _ => None,
            }
        } else if let Some(tail) = after.strip_prefix(':') {
            (!tag.is_empty()).then_some((None, tail))
        } else {
            None
        };
        match tagged {
            Some((pid, tail)) if tag.len() <= 48 => {
                obj.str("app_name", tag);
                if let Some(pid) = pid.filter(|pid| !pid.is_empty()) {
                    obj.str("procid", pid);
                }
                obj.str("message", tail.strip_prefix(' ').unwrap_or(tail));
            }
            _ => obj.str("message", rest),
        }
    }

    /// `Mmm dd hh:mm:ss` (day space-padded), optionally with fractions of a second and a year after
    /// the day, or an RFC 3339 timestamp; and the rest of the line after the space that follows it.
    fn bsd_timestamp<'a>(&self, line: &'a str) -> Option<(Timestamp, &'a str)> {
        let b = line.as_bytes();
        if b.first().is_some_and(u8::is_ascii_digit) {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let ts: Timestamp = word.parse().ok()?;
            return Some((ts, rest));
        }
        let month = MONTHS.iter().position(|m| b.get(..3) == Some(&m[..]))? as i8 + 1;
        if b.get(3) != Some(&b' ') {
            return None;
        }
        let mut i = 4;
        if b.get(i) == Some(&b' ') {
            i += 1;
        }
        let (day, n) = digits(&b[i..], 2)?;
        i += n;
        if b.get(i) != Some(&b' ') {
            return None;
        }
        i += 1;
        let mut year = self.year;
        if let Some((y, 4)) = digits(&b[i..], 4) {
            if b.get(i + 4) == Some(&b' ') {
                year = i16::try_from(y).ok()?;
                i += 5;
            }
        }
        let (hour, n) = digits(&b[i..], 2)?;
        if n != 2 || b.get(i + 2) != Some(&b':') {
            return None;
        }
        i += 3;
        let (minute, n) = digits(&b[i..], 2)?;
        if n != 2 || b.get(i + 2) != Some(&b':') {
            return None;
        }
        i += 3;
        let (second, n) = digits(&b[i..], 2)?;
        if n != 2 {
            return None;
        }
        i += 2;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            let (frac, n) = digits(&b[i + 1..], 9)?;
            nanos = frac * 10u32.pow(9 - n as u32);
            i += 1 + n;
        }
        let rest = match b.get(i) {
            None => "",
            Some(b' ') => &line[i + 1..],
            Some(_) => return None,
        };
        let datetime = DateTime::new(
            year,
            month,
            i8::try_from(day).ok()?,
            i8::try_from(hour).ok()?,
            i8::try_from(minute).ok()?,
            i8::try_from(second).ok()?,
            i32::try_from(nanos).ok()?,
        )
        .ok()?;
        let ts = self.time_zone.to_ambiguous_timestamp(datetime).compatible().ok()?;
        Some((ts, rest))
    }
}

/// Up to `max` ASCII digits at the start: their value and how many there are.
fn digits(b: &[u8], max: usize) -> Option<(u32, usize)> {
    let n = b.iter().take(max).take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let value = b[..n].iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0'));
    Some((value, n))
}

/// RFC 5424's VERSION (1 to 3 digits, not starting with 0, then a space) at the start of `rest`.
fn rfc5424_version(rest: &str) -> Option<&str> {
    let b = rest.as_bytes();
    let n = b.iter().take(4).take_while(|c| c.is_ascii_digit()).count();
    (n > 0 && n <= 3 && b[0] != b'0' && b.get(n) == Some(&b' ')).then(|| &rest[..n])
}

fn rfc5424(obj: &mut Obj<'_>, version: &str, rest: &str) -> Result<(), SyslogError> {
    if version != "1" {
        return Err(SyslogError::new(format!("unsupported syslog version {version}")));
    }
    obj.num("version", 1);
    let mut rest = rest;
    let mut field = |name: &str| -> Result<Option<&str>, SyslogError> {
        if rest.is_empty() {
            return Ok(None);
        }
        let (value, after) = rest.split_once(' ').unwrap_or((rest, ""));
        if value.is_empty() {
            return Err(SyslogError::new(format!("empty {name} (two spaces in the header?)")));
        }
        rest = after;
        Ok((value != "-").then_some(value))
    };
    if let Some(timestamp) = field("TIMESTAMP")? {
        let ts: Timestamp = timestamp
            .parse()
            .map_err(|err| SyslogError::new(format!("invalid TIMESTAMP {timestamp:?}: {err}")))?;
        obj.str("timestamp", &ts.to_string());
    }
    for (name, key) in [
        ("HOSTNAME", "hostname"),
        ("APP-NAME", "app_name"),
        ("PROCID", "procid"),
        ("MSGID", "msgid"),
    ] {
        if let Some(value) = field(name)? {
            obj.str(key, value);
        }
    }
    // STRUCTURED-DATA, then SP MSG.
    let msg = if let Some(after) = rest.strip_prefix('-') {
        after
    } else if rest.starts_with('[') {
        structured_data(obj, rest)?
    } else if rest.is_empty() {
        ""
    } else {
        return Err(SyslogError::new(format!(
            "expected STRUCTURED-DATA ('-' or '[') after MSGID, found {:?}",
            rest.chars().next().unwrap_or(' ')
        )));
    };
    if !msg.is_empty() {
        let Some(msg) = msg.strip_prefix(' ') else {
            return Err(SyslogError::new("expected a space between STRUCTURED-DATA and MSG"));
        };
        obj.str("message", msg.strip_prefix('\u{feff}').unwrap_or(msg));
    }
    obj.close();
    Ok(())
}

/// Writes `"structured_data": {...}` for the SD-ELEMENTs at the start of `rest`; returns what follows.
fn structured_data<'a>(obj: &mut Obj<'_>, rest: &'a str) -> Result<&'a str, SyslogError> {
    let b = rest.as_bytes();
    let mut i = 0;
    obj.key("structured_data");
    obj.out.push('{');
    let mut ids: Vec<&str> = Vec::new();
    while b.get(i) == Some(&b'[') {
        i += 1;
        let id_end = i + b[i..]
            .iter()
            .position(|&c| c == b' ' || c == b']')
            .unwrap_or(b.len() - i);
        let id = &rest[i..id_end];
        if id.is_empty() || !id.bytes().all(sd_name_char) {
            return Err(SyslogError::new(format!("invalid SD-ID {id:?}")));
        }
        // An SD-ID may appear once; a repeated one keeps the first.
        let repeated = ids.contains(&id);
        if !repeated {
            if !ids.is_empty() {
                obj.out.push(',');
            }
            ids.push(id);
            push_json_str(obj.out, id);
            obj.out.push_str(":{");
        }
        i = id_end;
        let mut first = true;
        loop {
            match b.get(i) {
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(b' ') => i += 1,
                _ => return Err(SyslogError::new(format!("unterminated SD-ELEMENT {id:?}"))),
            }
            let name_end = i + b[i..]
                .iter()
                .position(|&c| c == b'=')
                .ok_or_else(|| SyslogError::new(format!("SD-PARAM without '=' in SD-ELEMENT {id:?}")))?;
            let name = &rest[i..name_end];
            if name.is_empty() || !name.bytes().all(sd_name_char) {
                return Err(SyslogError::new(format!(
                    "invalid PARAM-NAME {name:?} in SD-ELEMENT {id:?}"
                )));
            }
            i = name_end + 1;
            if b.get(i) != Some(&b'"') {
                return Err(SyslogError::new(format!("PARAM-VALUE of {name:?} is not quoted")));
            }
            i += 1;
            // The value, with \" \\ \] unescaped.
            let mut value = String::new();
            let mut run = i;
            loop {
                match b.get(i) {
                    None => return Err(SyslogError::new(format!("unterminated PARAM-VALUE of {name:?}"))),
                    Some(b'"') => {
                        value.push_str(&rest[run..i]);
                        i += 1;
                        break;
                    }
                    Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                        value.push_str(&rest[run..i]);
                        run = i + 1;
                        i += 2;
                    }
                    Some(_) => i += 1,
                }
            }
            if !repeated {
                if !first {
                    obj.out.push(',');
                }
                first = false;
                push_json_str(obj.out, name);
                obj.out.push(':');
                push_json_str(obj.out, &value);
            }
        }
        if !repeated {
            obj.out.push('}');
        }
    }
    obj.out.push('}');
    Ok(&rest[i..])
}

/// SD-NAME: printable US-ASCII but '=', SP, ']' and '"'.
fn sd_name_char(c: u8) -> bool {
    (33..=126).contains(&c) && !matches!(c, b'=' | b']' | b'"')
}

/// A JSON object being written.
struct Obj<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_json_str(self.out, key);
        self.out.push(':');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        push_json_str(self.out, value);
    }

    fn num(&mut self, key: &str, value: u64) {
        use std::fmt::Write;
        self.key(key);
        let _ = write!(self.out, "{value}");
    }

    fn close(&mut self) {
        self.out.push('}');
    }
}

/// Writes `s` as a JSON string.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        run = i + 1;
        if escape.is_empty() {
            use std::fmt::Write;
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// The records of a syslog input.
pub(crate) struct SyslogReader<R> {
    lines: Lines<R>,
    parser: SyslogParser,
}

impl<R> SyslogReader<R> {
    pub fn new(lines: Lines<R>, options: &ReadOptions) -> Self {
        SyslogReader {
            lines,
            parser: SyslogParser::new(options),
        }
    }
}

impl<R: Read> Iterator for SyslogReader<R> {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let path = self.lines.path.clone();
            let limit = self.lines.max();
            let (text, at) = match self.lines.next_line()? {
                Line::Text(text, at) => (text, at),
                Line::Oversized(at) => {
                    return Some(Err(SourceError::Oversized {
                        path,
                        position: at.position(),
                        limit,
                    }))
                }
                Line::Failed(err) => return Some(Err(err)),
            };
            if text.trim_ascii().is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(text);
            return Some(match self.parser.to_json(&text) {
                Ok(json) => Ok(Record {
                    path,
                    position: at.position(),
                    json,
                    consumed: at.end,
                }),
                Err(SyslogError(reason)) => Err(SourceError::MalformedSyslog {
                    path,
                    offset: at.offset,
                    line: at.line,
                    reason,
                }),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parser() -> SyslogParser {
        SyslogParser::new(&ReadOptions {
            syslog_year: Some(2024),
            ..ReadOptions::default()
        })
    }

    fn parse(line: &str) -> Value {
        match parser().to_json(line) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(err) => panic!("invalid JSON {text}: {err}"),
            },
            Err(err) => panic!("{line}: {err}"),
        }
    }

    #[test]
    fn rfc5424_examples_from_the_rfc() {
        assert_eq!(
            parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8"),
            json!({"format": "rfc5424", "facility": 4, "facility_name": "auth", "severity": 2, "severity_name": "crit",
                "version": 1, "timestamp": "2003-10-11T22:14:15.003Z", "hostname": "mymachine.example.com",
                "app_name": "su", "msgid": "ID47", "message": "'su root' failed for lonvick on /dev/pts/8"})
        );
        assert_eq!(
            parse(
                "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."
            ),
            json!({"format": "rfc5424", "facility": 20, "facility_name": "local4", "severity": 5, "severity_name": "notice",
                "version": 1, "timestamp": "2003-08-24T12:14:15.000003Z", "hostname": "192.0.2.1", "app_name": "myproc",
                "procid": "8710", "message": "%% It's time to make the do-nuts."})
        );
        assert_eq!(
            parse(
                r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#
            ),
            json!({"format": "rfc5424", "facility": 20, "facility_name": "local4", "severity": 5, "severity_name": "notice",
                "version": 1, "timestamp": "2003-10-11T22:14:15.003Z", "hostname": "mymachine.example.com",
                "app_name": "evntslog", "msgid": "ID47",
                "structured_data": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                    "examplePriority@32473": {"class": "high"}}})
        );
    }

    #[test]
    fn rfc5424_nil_fields_escapes_and_errors() {
        assert_eq!(
            parse("<0>1 - - - - - -"),
            json!({"format": "rfc5424", "facility": 0, "facility_name": "kern", "severity": 0, "severity_name": "emerg", "version": 1})
        );
        let v = parse(
            r#"<86>1 2024-05-01T10:00:00+02:00 host sshd 1234 AUTH [meta@1 msg="a \"quoted\" \] \\ value" x="\n"] Failed password for root from 203.0.113.9"#,
        );
        assert_eq!(v["structured_data"]["meta@1"]["msg"], json!(r#"a "quoted" ] \ value"#));
        assert_eq!(v["structured_data"]["meta@1"]["x"], json!(r"\n"));
        assert_eq!(v["timestamp"], json!("2024-05-01T08:00:00Z"));
        assert_eq!(v["message"], json!("Failed password for root from 203.0.113.9"));
        // A message with control characters and quotes stays valid JSON.
        let v = parse("<14>1 - - - - - - tab\there \"q\" \u{1}");
        assert_eq!(v["message"], json!("tab\there \"q\" \u{1}"));
        // Repeated SD-ID: the first one is kept.
        let v = parse(r#"<14>1 - - - - - [a@1 x="1"][a@1 x="2"]"#);
        assert_eq!(v["structured_data"], json!({"a@1": {"x": "1"}}));

        let p = parser();
        for bad in [
            "<192>1 - - - - - -",
            "<999>Oct 11 22:14:15 host x",
            "<1a>1 - - - - - -",
            "<>x",
            "<34",
            "<34>2 - - - - - -",
            "<34>1 yesterday host app - - - msg",
            "<34>1 - - - - - [bad",
            "<34>1 - - - - - [id x=unquoted]",
            "<34>1 - - - - - [id x=\"open]",
            "<34>1 - - - - - garbage",
            "<34>1 - - - - - -msg-without-space",
            "<34>1 -  - - - - -",
        ] {
            assert!(p.to_json(bad).is_err(), "{bad} should fail, got {:?}", p.to_json(bad));
        }
        assert_eq!(
            p.to_json("<192>1 - - - - - -").err().map(|e| e.to_string()),
            Some("priority 192 out of range (0 to 191)".to_string())
        );
    }

    #[test]
    fn rfc3164_examples() {
        assert_eq!(
            parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"),
            json!({"format": "rfc3164", "facility": 4, "facility_name": "auth", "severity": 2, "severity_name": "crit",
                "timestamp": "2024-10-11T22:14:15Z", "hostname": "mymachine", "app_name": "su",
                "message": "'su root' failed for lonvick on /dev/pts/8"})
        );
        assert_eq!(
            parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"),
            json!({"format": "rfc3164", "facility": 1, "facility_name": "user", "severity": 5, "severity_name": "notice",
                "timestamp": "2024-02-05T17:32:18Z", "hostname": "10.0.0.99", "message": "Use the BFG!"})
        );
        // A syslog file as rsyslog writes it: no PRI, tag with PID.
        assert_eq!(
            parse("Mar  3 07:01:02 web01 sshd[4242]: Accepted publickey for deploy from 198.51.100.7 port 50122 ssh2"),
            json!({"format": "rfc3164", "timestamp": "2024-03-03T07:01:02Z", "hostname": "web01", "app_name": "sshd",
                "procid": "4242", "message": "Accepted publickey for deploy from 198.51.100.7 port 50122 ssh2"})
        );
        // No hostname, the tag right after the timestamp.
        let v = parse("<38>Jan 31 23:59:59 CRON[77]: (root) CMD (run-parts /etc/cron.hourly)");
        assert_eq!(v.get("hostname"), None);
        assert_eq!(v["app_name"], json!("CRON"));
        assert_eq!(v["procid"], json!("77"));
        // High-precision timestamp (rsyslog), and a year after the day (network devices).
        assert_eq!(
            parse("<30>2024-06-01T12:00:00.5+01:00 host app: m")["timestamp"],
            json!("2024-06-01T11:00:00.5Z")
        );
        assert_eq!(
            parse("<30>Jun  1 2019 12:00:00 host app: m")["timestamp"],
            json!("2019-06-01T12:00:00Z")
        );
        // No timestamp: everything after the PRI is the message.
        assert_eq!(
            parse("<27>this is not a timestamp"),
            json!({"format": "rfc3164", "facility": 3, "facility_name": "daemon", "severity": 3, "severity_name": "err",
                "message": "this is not a timestamp"})
        );
        assert_eq!(
            parse("<27>Feb 30 10:00:00 host x: y")["message"],
            json!("Feb 30 10:00:00 host x: y")
        );
        // PRI 191 is the largest.
        assert_eq!(parse("<191>Oct 11 22:14:15 h t: m")["facility_name"], json!("local7"));
    }

    #[test]
    fn rfc3164_time_zone_and_year_from_options() -> Result<(), Box<dyn std::error::Error>> {
        let options = ReadOptions {
            syslog_year: Some(2023),
            syslog_time_zone: TimeZone::get("America/Mexico_City")?,
            ..ReadOptions::default()
        };
        let v: Value = serde_json::from_str(&SyslogParser::new(&options).to_json("<34>Jul  4 08:00:00 h su: x")?)?;
        assert_eq!(v["timestamp"], json!("2023-07-04T14:00:00Z"));
        Ok(())
    }
}

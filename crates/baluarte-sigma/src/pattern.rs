//! Sigma string values: wildcards and escapes, value modifiers, and the compiled matchers.

use std::collections::HashMap;
use std::net::IpAddr;

use base64::Engine as _;
use memchr::memmem;

/// One piece of a Sigma string after wildcard parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(Vec<u8>),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Parses a plain Sigma string: `*` and `?` are wildcards, `\` escapes a wildcard or a backslash, and a
/// backslash before anything else is itself.
pub fn parse_wildcards(s: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut lit: Vec<u8> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' if i + 1 < b.len() && matches!(b[i + 1], b'*' | b'?' | b'\\') => {
                lit.push(b[i + 1]);
                i += 2;
                continue;
            }
            b'*' | b'?' => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                if c == b'*' {
                    if out.last() != Some(&Piece::Star) {
                        out.push(Piece::Star);
                    }
                } else {
                    out.push(Piece::One);
                }
            }
            _ => lit.push(c),
        }
        i += 1;
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// Lower-cases text the same way for rule literals and event values: ASCII fast path, Unicode otherwise.
pub fn lower_into(s: &[u8], out: &mut Vec<u8>) {
    if s.is_ascii() {
        let start = out.len();
        out.extend_from_slice(s);
        out[start..].make_ascii_lowercase();
    } else if let Ok(t) = std::str::from_utf8(s) {
        out.extend_from_slice(t.to_lowercase().as_bytes());
    } else {
        out.extend(s.iter().map(|c| c.to_ascii_lowercase()));
    }
}

pub fn lower(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len());
    lower_into(s, &mut v);
    v
}

/// A compiled string pattern.
#[derive(Debug, Clone)]
pub enum StrPat {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    Contains(Box<memmem::Finder<'static>>),
    /// Any value (a lone `*`).
    Any,
    Glob(Vec<Piece>),
}

impl StrPat {
    pub fn from_pieces(mut pieces: Vec<Piece>, cased: bool) -> StrPat {
        if !cased {
            for p in &mut pieces {
                if let Piece::Lit(l) = p {
                    *l = lower(l);
                }
            }
        }
        let lit_at = |p: &Piece| if let Piece::Lit(l) = p { Some(l.clone()) } else { None };
        match pieces.as_slice() {
            [] => StrPat::Exact(Vec::new()),
            [Piece::Star] => StrPat::Any,
            [Piece::Lit(l)] => StrPat::Exact(l.clone()),
            [Piece::Star, p @ Piece::Lit(_)] => StrPat::Suffix(lit_at(p).unwrap_or_default()),
            [p @ Piece::Lit(_), Piece::Star] => StrPat::Prefix(lit_at(p).unwrap_or_default()),
            [Piece::Star, p @ Piece::Lit(_), Piece::Star] => StrPat::Contains(Box::new(
                memmem::Finder::new(&lit_at(p).unwrap_or_default()).into_owned(),
            )),
            _ => StrPat::Glob(pieces),
        }
    }

    pub fn is_match(&self, h: &[u8]) -> bool {
        match self {
            StrPat::Exact(l) => h == l.as_slice(),
            StrPat::Prefix(l) => h.starts_with(l),
            StrPat::Suffix(l) => h.ends_with(l),
            StrPat::Contains(f) => f.find(h).is_some(),
            StrPat::Any => true,
            StrPat::Glob(p) => glob_match(p, h),
        }
    }

    /// The longest literal that any matching value contains (already lower-cased when not cased).
    pub fn required_literal(&self) -> Option<Vec<u8>> {
        match self {
            StrPat::Exact(l) | StrPat::Prefix(l) | StrPat::Suffix(l) => Some(l.clone()),
            StrPat::Contains(f) => Some(f.needle().to_vec()),
            StrPat::Any => None,
            StrPat::Glob(p) => p
                .iter()
                .filter_map(|x| if let Piece::Lit(l) = x { Some(l) } else { None })
                .max_by_key(|l| l.len())
                .cloned(),
        }
    }
}

fn char_len(b: u8) -> usize {
    match b {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// Glob matching with `*` (any run) and `?` (one UTF-8 character), iterative with single backtrack point.
pub fn glob_match(pieces: &[Piece], h: &[u8]) -> bool {
    // Classic greedy algorithm over pieces: remember the last star and retry from one character further.
    let mut pi = 0usize;
    let mut hi = 0usize;
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < pieces.len() {
            match &pieces[pi] {
                Piece::Star => {
                    star = Some((pi, hi));
                    pi += 1;
                    continue;
                }
                Piece::One => {
                    if hi < h.len() {
                        hi += char_len(h[hi]).min(h.len() - hi);
                        pi += 1;
                        continue;
                    }
                }
                Piece::Lit(l) => {
                    if h[hi..].starts_with(l) {
                        hi += l.len();
                        pi += 1;
                        continue;
                    }
                }
            }
        } else if hi == h.len() {
            return true;
        }
        // Mismatch: backtrack to the last star, consuming one more character.
        match star {
            Some((sp, sh)) if sh < h.len() => {
                let next = sh + char_len(h[sh]).min(h.len() - sh);
                star = Some((sp, next));
                pi = sp + 1;
                hi = next;
            }
            _ => return false,
        }
    }
}

/// Comparison operators of numeric modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

impl Cmp {
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Lte => a <= b,
            Cmp::Gt => a > b,
            Cmp::Gte => a >= b,
            Cmp::Eq => a == b,
        }
    }
}

/// Date parts of the time modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// An IP network of the `cidr` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: u128,
    mask: u128,
    v4: bool,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a.trim(), Some(l.trim().parse::<u32>().ok()?)),
            None => (s.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (bits, v4, width) = match ip {
            IpAddr::V4(v) => (u32::from(v) as u128, true, 32u32),
            IpAddr::V6(v) => (u128::from(v), false, 128u32),
        };
        let len = len.unwrap_or(width);
        if len > width {
            return None;
        }
        let mask = if len == 0 {
            0
        } else {
            (!0u128 << (128 - len)) >> (128 - width)
        };
        Some(Cidr {
            net: bits & mask,
            mask,
            v4,
        })
    }

    pub fn contains(&self, s: &[u8]) -> bool {
        let Ok(t) = std::str::from_utf8(s) else { return false };
        let t = t.trim();
        // Accept bracketed or zone-suffixed IPv6 and IPv4-mapped IPv6 as the plain address.
        let t = t.trim_start_matches('[').trim_end_matches(']');
        let t = t.split('%').next().unwrap_or(t);
        let Ok(ip) = t.parse::<IpAddr>() else { return false };
        let (bits, v4) = match ip {
            IpAddr::V4(v) => (u32::from(v) as u128, true),
            IpAddr::V6(v) => match v.to_ipv4_mapped() {
                Some(m) if self.v4 => (u32::from(m) as u128, true),
                _ => (u128::from(v), false),
            },
        };
        v4 == self.v4 && bits & self.mask == self.net
    }
}

/// A compiled value test against one event value.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// String pattern; `cased` compares the original text, otherwise the lower-cased text.
    Str {
        pat: StrPat,
        cased: bool,
    },
    Regex(regex::bytes::Regex),
    Cidr(Cidr),
    Num {
        op: Cmp,
        value: f64,
    },
    Time {
        part: TimePart,
        op: Cmp,
        value: f64,
    },
    /// Compares with another field of the same event (`fieldref`), by rule-local field index.
    FieldRef {
        field: usize,
        mode: RefMode,
        cased: bool,
    },
}

/// How a `fieldref` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefMode {
    Equal,
    Contains,
    StartsWith,
    EndsWith,
}

impl RefMode {
    pub fn apply(self, h: &[u8], n: &[u8]) -> bool {
        match self {
            RefMode::Equal => h == n,
            RefMode::Contains => memmem::find(h, n).is_some(),
            RefMode::StartsWith => h.starts_with(n),
            RefMode::EndsWith => h.ends_with(n),
        }
    }
}

/// Extracts a date part from an event value such as `2024-05-01T10:20:30Z` or `2024-05-01 10:20:30.123`.
pub fn time_part(s: &[u8], part: TimePart) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?.trim();
    let num = |a: usize, b: usize| -> Option<i64> { t.get(a..b)?.parse().ok() };
    let year = num(0, 4)?;
    if t.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let month = num(5, 7)?;
    let day = num(8, 10)?;
    let v = match part {
        TimePart::Year => year,
        TimePart::Month => month,
        TimePart::Day => day,
        TimePart::Hour => num(11, 13)?,
        TimePart::Minute => num(14, 16)?,
        TimePart::Week => crate::time::iso_week(year, month as u32, day as u32),
    };
    Some(v as f64)
}

/// The value modifiers of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16le,
    Utf16be,
    Utf16,
    Windash,
    Re,
    ReI,
    ReM,
    ReS,
    Cidr,
    Lt,
    Lte,
    Gt,
    Gte,
    Exists,
    FieldRef,
    Cased,
    Expand,
    Neq,
    Time(TimePart),
}

impl Modifier {
    pub fn parse(s: &str) -> Option<Modifier> {
        Some(match s {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16le,
            "utf16be" => Modifier::Utf16be,
            "utf16" => Modifier::Utf16,
            "windash" => Modifier::Windash,
            "re" => Modifier::Re,
            "i" => Modifier::ReI,
            "m" => Modifier::ReM,
            "s" => Modifier::ReS,
            "cidr" => Modifier::Cidr,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "exists" => Modifier::Exists,
            "fieldref" => Modifier::FieldRef,
            "cased" => Modifier::Cased,
            "expand" => Modifier::Expand,
            "neq" => Modifier::Neq,
            "minute" => Modifier::Time(TimePart::Minute),
            "hour" => Modifier::Time(TimePart::Hour),
            "day" => Modifier::Time(TimePart::Day),
            "week" => Modifier::Time(TimePart::Week),
            "month" => Modifier::Time(TimePart::Month),
            "year" => Modifier::Time(TimePart::Year),
            _ => return None,
        })
    }
}

/// Expands `%name%` placeholders (the `expand` modifier); `\%` is a plain percent sign.
pub fn expand_placeholders(s: &str, table: &HashMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    // Split into plain text and placeholder names.
    enum Part {
        Text(String),
        Ph(String),
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'%') {
            cur.push('%');
            chars.next();
        } else if c == '%' {
            let mut name = String::new();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == '%' {
                    closed = true;
                    break;
                }
                name.push(d);
            }
            if !closed {
                cur.push('%');
                cur.push_str(&name);
            } else {
                parts.push(Part::Text(std::mem::take(&mut cur)));
                parts.push(Part::Ph(name));
            }
        } else {
            cur.push(c);
        }
    }
    parts.push(Part::Text(cur));
    let mut results = vec![String::new()];
    for p in parts {
        match p {
            Part::Text(t) => results.iter_mut().for_each(|r| r.push_str(&t)),
            Part::Ph(name) => {
                let vals = table
                    .get(&name)
                    .ok_or_else(|| format!("unresolved placeholder %{name}% (supply it in the placeholder table)"))?;
                if vals.is_empty() {
                    return Err(format!("placeholder %{name}% has no values"));
                }
                let mut next = Vec::with_capacity(results.len() * vals.len());
                for r in &results {
                    for v in vals {
                        next.push(format!("{r}{v}"));
                    }
                }
                if next.len() > 4096 {
                    return Err("placeholder expansion yields more than 4096 values".into());
                }
                results = next;
            }
        }
    }
    Ok(results)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub const WINDASH_CHARS: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// The `windash` expansion: every `-` or `/` that starts a word (not preceded by a word character, followed by
/// one) takes each of the dash forms, in all combinations.
pub fn windash(pieces: &[Piece]) -> Result<Vec<Vec<Piece>>, String> {
    let mut results: Vec<Vec<Piece>> = vec![Vec::new()];
    for p in pieces {
        let Piece::Lit(l) = p else {
            results.iter_mut().for_each(|r| r.push(p.clone()));
            continue;
        };
        let Ok(text) = std::str::from_utf8(l) else {
            results.iter_mut().for_each(|r| r.push(p.clone()));
            continue;
        };
        // Split the literal at the dash positions.
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut segs: Vec<String> = vec![String::new()];
        let mut n_dash = 0;
        for (k, &(_, c)) in chars.iter().enumerate() {
            let prev_word = k > 0 && is_word(chars[k - 1].1);
            let next_word = chars.get(k + 1).is_some_and(|&(_, n)| is_word(n));
            if (c == '-' || c == '/') && !prev_word && next_word {
                segs.push(String::new());
                n_dash += 1;
            } else if let Some(s) = segs.last_mut() {
                s.push(c);
            }
        }
        if n_dash == 0 {
            results.iter_mut().for_each(|r| r.push(p.clone()));
            continue;
        }
        let mut variants: Vec<String> = vec![segs[0].clone()];
        for seg in &segs[1..] {
            let mut next = Vec::with_capacity(variants.len() * WINDASH_CHARS.len());
            for v in &variants {
                for d in WINDASH_CHARS {
                    let mut s = v.clone();
                    s.push(d);
                    s.push_str(seg);
                    next.push(s);
                }
            }
            variants = next;
        }
        if variants.len() * results.len() > 4096 {
            return Err("windash expansion yields more than 4096 values".into());
        }
        let mut next = Vec::with_capacity(results.len() * variants.len());
        for r in &results {
            for v in &variants {
                let mut r2 = r.clone();
                r2.push(Piece::Lit(v.clone().into_bytes()));
                next.push(r2);
            }
        }
        results = next;
    }
    // Merge adjacent literals produced by the expansion.
    Ok(results.into_iter().map(merge_lits).collect())
}

fn merge_lits(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        match (out.last_mut(), p) {
            (Some(Piece::Lit(a)), Piece::Lit(b)) => a.extend_from_slice(&b),
            (_, p) => out.push(p),
        }
    }
    out
}

fn plain_bytes(pieces: &[Piece], what: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Lit(l) => out.extend_from_slice(l),
            _ => return Err(format!("`{what}` cannot encode a value that contains wildcards")),
        }
    }
    Ok(out)
}

pub fn b64(bytes: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.encode(bytes).into_bytes()
}

/// The three `base64offset` forms of a value: the part of its Base64 encoding that does not depend on the bytes
/// around it, for each of the three alignments.
pub fn base64_offsets(val: &[u8]) -> Vec<Vec<u8>> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut input = vec![b' '; i];
            input.extend_from_slice(val);
            let enc = b64(&input);
            let end = enc.len().saturating_sub(END_TRIM[(val.len() + i) % 3]);
            enc.get(START[i]..end).map(|s| s.to_vec()).unwrap_or_default()
        })
        .collect()
}

fn utf16(bytes: &[u8], big_endian: bool, bom: bool) -> Result<Vec<u8>, String> {
    let s = std::str::from_utf8(bytes).map_err(|_| "utf16 needs a text value".to_string())?;
    let mut out = Vec::with_capacity(s.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in s.encode_utf16() {
        if big_endian {
            out.extend_from_slice(&u.to_be_bytes());
        } else {
            out.extend_from_slice(&u.to_le_bytes());
        }
    }
    Ok(out)
}

/// Applies the transformation modifiers in order to one parsed value, yielding one or more values.
pub fn transform(pieces: Vec<Piece>, mods: &[Modifier]) -> Result<Vec<Vec<Piece>>, String> {
    let mut vals = vec![pieces];
    for m in mods {
        let mut next = Vec::with_capacity(vals.len());
        for v in vals {
            match m {
                Modifier::Contains => {
                    let mut v = v;
                    if v.first() != Some(&Piece::Star) {
                        v.insert(0, Piece::Star);
                    }
                    if v.last() != Some(&Piece::Star) {
                        v.push(Piece::Star);
                    }
                    next.push(v);
                }
                Modifier::StartsWith => {
                    let mut v = v;
                    if v.last() != Some(&Piece::Star) {
                        v.push(Piece::Star);
                    }
                    next.push(v);
                }
                Modifier::EndsWith => {
                    let mut v = v;
                    if v.first() != Some(&Piece::Star) {
                        v.insert(0, Piece::Star);
                    }
                    next.push(v);
                }
                Modifier::Windash => next.extend(windash(&v)?),
                Modifier::Base64 => next.push(vec![Piece::Lit(b64(&plain_bytes(&v, "base64")?))]),
                Modifier::Base64Offset => {
                    for o in base64_offsets(&plain_bytes(&v, "base64offset")?) {
                        next.push(vec![Piece::Lit(o)]);
                    }
                }
                Modifier::Utf16le => next.push(vec![Piece::Lit(utf16(&plain_bytes(&v, "utf16le")?, false, false)?)]),
                Modifier::Utf16be => next.push(vec![Piece::Lit(utf16(&plain_bytes(&v, "utf16be")?, true, false)?)]),
                Modifier::Utf16 => next.push(vec![Piece::Lit(utf16(&plain_bytes(&v, "utf16")?, false, true)?)]),
                _ => next.push(v),
            }
        }
        if next.len() > 4096 {
            return Err("modifiers expand the value into more than 4096 values".into());
        }
        vals = next;
    }
    Ok(vals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str, mods: &[Modifier]) -> Vec<StrPat> {
        transform(parse_wildcards(s), mods)
            .unwrap_or_default()
            .into_iter()
            .map(|p| StrPat::from_pieces(p, false))
            .collect()
    }

    fn any(p: &[StrPat], h: &str) -> bool {
        let h = lower(h.as_bytes());
        p.iter().any(|p| p.is_match(&h))
    }

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(
            parse_wildcards("a*b?c"),
            vec![
                Piece::Lit(b"a".to_vec()),
                Piece::Star,
                Piece::Lit(b"b".to_vec()),
                Piece::One,
                Piece::Lit(b"c".to_vec())
            ]
        );
        assert_eq!(parse_wildcards(r"a\*b"), vec![Piece::Lit(b"a*b".to_vec())]);
        // A backslash before a wildcard escapes it (the specification's rule).
        assert_eq!(
            parse_wildcards(r"C:\Windows\*"),
            vec![Piece::Lit(br"C:\Windows*".to_vec())]
        );
        assert_eq!(parse_wildcards(r"a\\*"), vec![Piece::Lit(br"a\".to_vec()), Piece::Star]);
        assert_eq!(parse_wildcards(r"a\\\*"), vec![Piece::Lit(br"a\*".to_vec())]);
        assert_eq!(parse_wildcards(r"\\\\"), vec![Piece::Lit(br"\\".to_vec())]);
        assert_eq!(
            parse_wildcards(r"C:\\Windows"),
            vec![Piece::Lit(br"C:\Windows".to_vec())]
        );
    }

    #[test]
    fn string_modifiers() {
        assert!(any(&pat("cmd", &[Modifier::Contains]), "C:\\CMD.exe"));
        assert!(any(&pat("c:\\", &[Modifier::StartsWith]), "C:\\x"));
        assert!(!any(&pat("c:\\", &[Modifier::StartsWith]), "D:\\C:\\x"));
        assert!(any(&pat("\\cmd.exe", &[Modifier::EndsWith]), "C:\\Windows\\cmd.exe"));
        assert!(any(&pat("prog?.exe", &[]), "progA.exe"));
        assert!(!any(&pat("prog?.exe", &[]), "prog.exe"));
        assert!(any(&pat("a*b*c", &[]), "axxbyyc"));
        assert!(!any(&pat("a*b*c", &[]), "axxbyy"));
        assert!(any(&pat("*", &[]), ""));
        assert!(any(&pat("é?", &[]), "Éx"));
    }

    #[test]
    fn windash_expands_word_initial_dashes() {
        let v = windash(&parse_wildcards(" -enc ")).unwrap_or_default();
        assert_eq!(v.len(), 5);
        let p: Vec<StrPat> = v.into_iter().map(|p| StrPat::from_pieces(p, false)).collect();
        assert!(any(&p, " /enc "));
        assert!(any(&p, " \u{2013}enc "));
        // A dash inside a word is not a flag.
        assert_eq!(windash(&parse_wildcards("a-b")).unwrap_or_default().len(), 1);
    }

    #[test]
    fn base64_forms() {
        assert_eq!(b64(b"cmd"), b"Y21k".to_vec());
        let offs = base64_offsets(b"/bin/sh");
        assert_eq!(
            offs,
            vec![b"L2Jpbi9za".to_vec(), b"9iaW4vc2".to_vec(), b"vYmluL3No".to_vec()]
        );
    }

    #[test]
    fn utf16_forms() {
        let le = transform(parse_wildcards("cmd"), &[Modifier::Utf16le]).unwrap_or_default();
        assert_eq!(le, vec![vec![Piece::Lit(vec![0x63, 0, 0x6d, 0, 0x64, 0])]]);
        let be = transform(parse_wildcards("cmd"), &[Modifier::Utf16be]).unwrap_or_default();
        assert_eq!(be, vec![vec![Piece::Lit(vec![0, 0x63, 0, 0x6d, 0, 0x64])]]);
        let bom = transform(parse_wildcards("cmd"), &[Modifier::Utf16]).unwrap_or_default();
        assert_eq!(bom, vec![vec![Piece::Lit(vec![0xFF, 0xFE, 0x63, 0, 0x6d, 0, 0x64, 0])]]);
        assert!(transform(parse_wildcards("c*d"), &[Modifier::Base64]).is_err());
    }

    #[test]
    fn cidr_ranges() {
        let c = Cidr::parse("10.0.0.0/8");
        assert!(c.is_some_and(|c| c.contains(b"10.1.2.3")));
        assert!(c.is_some_and(|c| !c.contains(b"11.1.2.3")));
        let c6 = Cidr::parse("fe80::/10");
        assert!(c6.is_some_and(|c| c.contains(b"fe80::1")));
        assert!(c6.is_some_and(|c| !c.contains(b"10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").is_some_and(|c| c.contains(b"8.8.8.8")));
        assert!(Cidr::parse("1.2.3.4/32").is_some_and(|c| c.contains(b"1.2.3.4") && !c.contains(b"1.2.3.5")));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn placeholders() {
        let mut t = HashMap::new();
        t.insert("Servers".to_string(), vec!["srv1".to_string(), "srv2".to_string()]);
        assert_eq!(
            expand_placeholders("x%Servers%", &t).unwrap_or_default(),
            vec!["xsrv1", "xsrv2"]
        );
        assert_eq!(
            expand_placeholders(r"\%plain%Servers%", &t).unwrap_or_default(),
            vec!["%plainsrv1", "%plainsrv2"]
        );
        assert!(expand_placeholders("%Nope%", &t).is_err());
    }

    #[test]
    fn time_parts() {
        assert_eq!(time_part(b"2024-05-01T10:20:30Z", TimePart::Hour), Some(10.0));
        assert_eq!(time_part(b"2024-05-01 10:20:30.123", TimePart::Minute), Some(20.0));
        assert_eq!(time_part(b"2024-01-01", TimePart::Week), Some(1.0));
        assert_eq!(time_part(b"2021-01-03", TimePart::Week), Some(53.0));
    }
}

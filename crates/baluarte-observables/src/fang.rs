//! Refanging what analysts paste, and defanging canonical values for printable reports.

use crate::kind::Kind;

/// Defanged spellings and what they stand for; matched case-insensitively (`[DOT]`, `hXXp://`).
/// Beyond the usual square-bracket forms, the round and curly variants are common in vendor reports.
const REFANG: [(&str, &str); 15] = [
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[@]", "@"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[:]", ":"),
    ("[://]", "://"),
    ("hxxp://", "http://"),
    ("hxxps://", "https://"),
    ("fxp://", "ftp://"),
];

/// Replaces every defanged spelling by what it stands for.
///
/// Replacing at the end of the output as each character arrives (rather than one pass over the input) also
/// catches spellings that only appear once an inner one is refanged, such as `[[.]]` or `hxxp[://]`; so the
/// result never contains a defanged spelling and refanging is idempotent, which normalisation relies on.
pub(crate) fn refang(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        out.push(c);
        while let Some((len, replacement)) = defanged_suffix(&out) {
            let cut = out.len().saturating_sub(len);
            if !out.is_char_boundary(cut) {
                break;
            }
            out.truncate(cut);
            out.push_str(replacement);
        }
    }
    out
}

/// The defanged spelling that `text` ends with: its length and its replacement.
fn defanged_suffix(text: &str) -> Option<(usize, &'static str)> {
    let bytes = text.as_bytes();
    REFANG.iter().find_map(|(pattern, replacement)| {
        let start = bytes.len().checked_sub(pattern.len())?;
        let tail = bytes.get(start..)?;
        tail.eq_ignore_ascii_case(pattern.as_bytes())
            .then_some((pattern.len(), *replacement))
    })
}

/// A canonical value made safe to print: not clickable, not auto-linked, and refanged back by [`refang`].
pub(crate) fn defang(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Ipv4 | Kind::Cidr | Kind::Domain => value.replace('.', "[.]"),
        Kind::Email => defang_email(value),
        Kind::Url => defang_url(value),
        // IPv6, hashes, CVE ids and AS numbers are not turned into links by mail clients or editors.
        _ => value.to_owned(),
    }
}

fn defang_email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((local, domain)) => format!("{local}[@]{}", domain.replace('.', "[.]")),
        None => value.to_owned(),
    }
}

/// `hxxps://example[.]com/a.php`: the scheme and the authority are defanged, the path is left readable.
fn defang_url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_owned();
    };
    let scheme = match scheme {
        "http" => "hxxp",
        "https" => "hxxps",
        "ftp" => "fxp",
        other => other,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = authority.replace('.', "[.]").replace('@', "[@]");
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn refangs_the_usual_forms() {
        assert_eq!(
            refang("hxxps://evil[.]example(.)com{.}mx/a"),
            "https://evil.example.com.mx/a"
        );
        assert_eq!(refang("HXXP://a[DOT]b"), "http://a.b");
        assert_eq!(refang("user[at]example[dot]com"), "user@example.com");
        assert_eq!(refang("user[@]example(dot)com"), "user@example.com");
        assert_eq!(refang("hxxp[:]//a.b"), "http://a.b");
        assert_eq!(refang("hxxp[://]a.b"), "http://a.b");
        assert_eq!(refang("fxp://a.b"), "ftp://a.b");
    }

    #[test]
    fn refang_reaches_a_fixed_point() {
        assert_eq!(refang("a[[.]]b"), "a.b");
        assert_eq!(refang("a[[[.]]]b"), "a.b");
        assert_eq!(refang("a[(.)]b"), "a.b");
        assert_eq!(refang("ñ[.]ü"), "ñ.ü");
    }
}

//! Property tests: the compiled modifiers agree with naive references.

use baluarte_sigma::pattern::{b64, base64_offsets, lower, parse_wildcards, transform, Modifier, StrPat};
use proptest::prelude::*;

fn compile(value: &str, mods: &[Modifier]) -> Vec<StrPat> {
    transform(parse_wildcards(value), mods)
        .unwrap_or_default()
        .into_iter()
        .map(|p| StrPat::from_pieces(p, false))
        .collect()
}

fn matches(pats: &[StrPat], h: &str) -> bool {
    let h = lower(h.as_bytes());
    pats.iter().any(|p| p.is_match(&h))
}

// Plain text without wildcard or escape characters.
fn plain() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._:/-]{0,12}"
}

proptest! {
    #[test]
    fn contains_startswith_endswith_agree(needle in plain(), hay in "[a-zA-Z0-9 ._:/-]{0,40}") {
        let (n, h) = (needle.to_lowercase(), hay.to_lowercase());
        prop_assert_eq!(matches(&compile(&needle, &[Modifier::Contains]), &hay), h.contains(&n));
        prop_assert_eq!(matches(&compile(&needle, &[Modifier::StartsWith]), &hay), h.starts_with(&n));
        prop_assert_eq!(matches(&compile(&needle, &[Modifier::EndsWith]), &hay), h.ends_with(&n));
        prop_assert_eq!(matches(&compile(&needle, &[]), &hay), h == n);
    }

    #[test]
    fn embedded_needle_always_found(pre in plain(), needle in "[a-z0-9]{1,10}", post in plain()) {
        let hay = format!("{pre}{}{post}", needle.to_uppercase());
        prop_assert!(matches(&compile(&needle, &[Modifier::Contains]), &hay));
    }

    #[test]
    // (A one-byte needle has no offset-independent Base64 form at every alignment.)
    fn base64offset_finds_needle_at_any_offset(pre in proptest::collection::vec(any::<u8>(), 0..8), needle in "[ -~]{2,20}", post in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut data = pre.clone();
        data.extend_from_slice(needle.as_bytes());
        data.extend_from_slice(&post);
        let encoded = b64(&data);
        let forms = base64_offsets(needle.as_bytes());
        prop_assert!(forms.iter().any(|f| !f.is_empty() && encoded.windows(f.len()).any(|w| w == f.as_slice())));
    }

    #[test]
    fn windash_variants_all_match(word in "[a-z]{1,8}", dash in prop_oneof![Just('-'), Just('/'), Just('\u{2013}'), Just('\u{2014}'), Just('\u{2015}')]) {
        let pats = compile(&format!(" -{word}"), &[Modifier::Windash, Modifier::Contains]);
        let hay = format!("cmd {dash}{word} x");
        prop_assert!(matches(&pats, &hay));
    }

    #[test]
    fn glob_agrees_with_regex(pattern in "[ab*?]{0,8}", hay in "[abc]{0,10}") {
        let re = format!("^{}$", pattern.chars().map(|c| match c { '*' => ".*".to_string(), '?' => ".".to_string(), c => c.to_string() }).collect::<String>());
        let expected = regex::Regex::new(&re).map(|r| r.is_match(&hay)).unwrap_or(false);
        prop_assert_eq!(matches(&compile(&pattern, &[]), &hay), expected);
    }
}

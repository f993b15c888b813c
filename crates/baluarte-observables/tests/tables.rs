#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Table tests: accepted spellings give the canonical value, rejected ones say why.

use baluarte_observables::{detect, normalise, Kind, Observable, ObservableError, MAX_INPUT};

/// Each spelling must normalise to `(kind, value)`.
fn accepts(kind: Kind, cases: &[(&str, Kind, &str)]) {
    for (raw, want_kind, want) in cases {
        match normalise(kind, raw) {
            Ok(o) => assert_eq!((o.kind, o.value.as_str()), (*want_kind, *want), "{kind} {raw:?}"),
            Err(e) => panic!("{kind} {raw:?} rejected: {e}"),
        }
    }
}

/// Each value must be rejected with a message containing the expected text.
fn rejects(kind: Kind, cases: &[(&str, &str)]) {
    for (raw, want) in cases {
        match normalise(kind, raw) {
            Ok(o) => panic!("{kind} {raw:?} accepted as {o:?}"),
            Err(e) => assert!(e.to_string().contains(want), "{kind} {raw:?}: got `{e}`, want `{want}`"),
        }
    }
}

#[test]
fn ipv4() {
    use Kind::Ipv4 as K;
    accepts(
        K,
        &[
            ("10.0.0.1", K, "10.0.0.1"),
            (" 192.168.1.254\n", K, "192.168.1.254"),
            ("0.0.0.0", K, "0.0.0.0"),
        ],
    );
    accepts(
        K,
        &[
            ("1[.]2[.]3[.]4", K, "1.2.3.4"),
            ("255.255.255.255", K, "255.255.255.255"),
        ],
    );
    rejects(
        K,
        &[
            ("010.0.0.1", "not an IPv4 address: leading zeros are ambiguous"),
            ("1.2.3.256", "`256` is greater than 255"),
            ("1.2.3", "expected four decimal numbers"),
            ("1.2.3.4.5", "expected four decimal numbers"),
            ("1..3.4", "empty number between dots"),
            ("0x7f.0.0.1", "`0x7f` is not a decimal number"),
            ("::ffff:1.2.3.4", "this is IPv6 text (use kind ipv6"),
            ("+1.2.3.4", "is not a decimal number"),
        ],
    );
}

#[test]
fn ipv6() {
    use Kind::{Ipv4, Ipv6 as K};
    accepts(
        K,
        &[
            ("2001:DB8:0:0:0:0:0:1", K, "2001:db8::1"),
            ("2001:0db8::0001", K, "2001:db8::1"),
            ("[2001:db8::1]", K, "2001:db8::1"),
            ("2001:db8:0:0:1:0:0:1", K, "2001:db8::1:0:0:1"),
            ("::", K, "::"),
            ("::ffff:10.0.0.1", Ipv4, "10.0.0.1"),
            ("::FFFF:a00:1", Ipv4, "10.0.0.1"),
            ("2001[:]db8[:][:]1", K, "2001:db8::1"),
        ],
    );
    rejects(
        K,
        &[
            ("fe80::1%eth0", "zone ids such as `%eth0`"),
            ("2001:db8:::1", "invalid IPv6 syntax"),
            ("::ffff:010.0.0.1", "embedded IPv4 part: leading zeros are ambiguous"),
            ("10.0.0.1", "no `:` in it"),
            ("2001:db8::g", "invalid IPv6 syntax"),
        ],
    );
}

#[test]
fn cidr() {
    use Kind::{Cidr as K, Ipv4, Ipv6};
    accepts(
        K,
        &[
            ("10.0.0.0/8", K, "10.0.0.0/8"),
            ("10.1.2.3/8", K, "10.0.0.0/8"),
            ("192.168.1.77/26", K, "192.168.1.64/26"),
            ("0.0.0.0/0", K, "0.0.0.0/0"),
            ("1.2.3.4/32", Ipv4, "1.2.3.4"),
            ("2001:DB8:1::/32", K, "2001:db8::/32"),
            ("2001:db8::1/128", Ipv6, "2001:db8::1"),
            ("::ffff:10.1.0.0/104", K, "10.0.0.0/8"),
            ("::ffff:0:0/96", K, "0.0.0.0/0"),
            ("::ffff:1.2.3.4/128", Ipv4, "1.2.3.4"),
            ("::/0", K, "::/0"),
            ("10[.]0[.]0[.]0/8", K, "10.0.0.0/8"),
        ],
    );
    rejects(
        K,
        &[
            ("10.0.0.0", "missing `/prefix`"),
            ("10.0.0.0/33", "prefix length 33 is greater than 32"),
            ("2001:db8::/129", "prefix length 129 is greater than 128"),
            ("10.0.0.0/", "prefix length `` is not a number"),
            ("10.0.0.0/-1", "prefix length `-1` is not a number"),
            ("10.0.0.0/8/8", "prefix length `8/8`"),
            ("010.0.0.0/8", "not a CIDR block: leading zeros are ambiguous"),
            ("example.com/8", "expected four decimal numbers"),
        ],
    );
}

#[test]
fn domain() {
    use Kind::Domain as K;
    let long_label = "a".repeat(63);
    let too_long_label = format!("{}.example", "a".repeat(64));
    let ok_63 = format!("{long_label}.example");
    let too_long_name = format!("{}example", "abcdefghi.".repeat(25));
    accepts(
        K,
        &[
            ("Example.COM", K, "example.com"),
            ("example.com.", K, "example.com"),
            ("example[.]com", K, "example.com"),
            ("bücher.example", K, "xn--bcher-kva.example"),
            ("BÜCHER.example", K, "xn--bcher-kva.example"),
            ("XN--BCHER-KVA.EXAMPLE", K, "xn--bcher-kva.example"),
            ("_dmarc.example.com", K, "_dmarc.example.com"),
            ("_sip._tcp.example.com", K, "_sip._tcp.example.com"),
            ("-weird-.example.com", K, "-weird-.example.com"),
            ("пример.рф", K, "xn--e1afmkfd.xn--p1ai"),
            ("example。com", K, "example.com"),
            (&ok_63, K, &ok_63),
        ],
    );
    rejects(
        K,
        &[
            (&too_long_label, "not a domain name: label longer than 63 characters"),
            (&too_long_name, "longer than 253 characters"),
            ("localhost", "has a single label"),
            ("example..com", "empty label"),
            (".example.com", "empty label"),
            ("my_host.example.com", "`_` is only allowed as the first character"),
            ("10.0.0.1", "this is an IP address"),
            ("2001:db8::1", "this is an IP address"),
            ("1.2.3.999", "top-level label `999`"),
            ("invoice.7z", "top-level label `7z`"),
            ("example.c", "top-level label `c`"),
            ("exa mple.com", "` ` is not allowed in a domain name"),
            ("example.com/path", "`/` is not allowed"),
            ("example.com:443", "`:` is not allowed"),
            ("xn--zz.example", "not a valid internationalised domain name"),
            ("example.com..", "empty label"),
        ],
    );
}

#[test]
fn url() {
    use Kind::Url as K;
    accepts(
        K,
        &[
            ("HTTP://Example.COM", K, "http://example.com/"),
            ("http://example.com:80/a", K, "http://example.com/a"),
            ("https://example.com:443/a", K, "https://example.com/a"),
            ("https://example.com:8443/a", K, "https://example.com:8443/a"),
            ("ftp://example.com:21/pub/", K, "ftp://example.com/pub/"),
            (
                "http://example.com/Login.PHP?B=2&a=1#top",
                K,
                "http://example.com/Login.PHP?B=2&a=1",
            ),
            ("hxxps://evil[.]example/x", K, "https://evil.example/x"),
            ("hXXp://evil[dot]example[:]8080/x", K, "http://evil.example:8080/x"),
            ("http://bücher.example/", K, "http://xn--bcher-kva.example/"),
            ("http://example.com./", K, "http://example.com/"),
            ("http://example.com/?", K, "http://example.com/"),
            ("http://example.com/a/../b/./c", K, "http://example.com/b/c"),
            (
                "http://example.com/%7euser/%2fx?q=%7e%2f",
                K,
                "http://example.com/~user/%2Fx?q=~%2F",
            ),
            ("http://example.com/a b", K, "http://example.com/a%20b"),
            // A stray `%` is a literal one; decoding `%32` must not turn `%d` + `2` into the escape `%d2`.
            (
                "http://example.com/a%zz?q=%d%32E",
                K,
                "http://example.com/a%25zz?q=%25d2E",
            ),
            ("ftp:5/u?%d%32E/xw@", K, "ftp://0.0.0.5/u?%25d2E/xw@"),
            ("http://user:pw@example.com/", K, "http://user:pw@example.com/"),
            ("http://10.0.0.1/x", K, "http://10.0.0.1/x"),
            ("http://[2001:DB8::1]:8080/", K, "http://[2001:db8::1]:8080/"),
            ("http://[::ffff:10.0.0.1]/", K, "http://10.0.0.1/"),
            // WHATWG host parsing, as a browser would connect.
            ("http://0x7f.1/", K, "http://127.0.0.1/"),
        ],
    );
    rejects(
        K,
        &[
            ("javascript:alert(1)", "unsupported URL scheme `javascript`"),
            ("file:///etc/passwd", "unsupported URL scheme `file`"),
            ("example.com/path", "missing scheme"),
            ("http://localhost/", "host: `localhost` has a single label"),
            ("http://my_host.example.com/", "host: `_` is only allowed"),
            ("http://example.com:99999/", "invalid port number"),
            ("http:///", "empty host"),
        ],
    );
}

#[test]
fn url_too_long_once_encoded() {
    let raw = format!("http://example.com/{}", " ".repeat(MAX_INPUT - 30));
    let err = normalise(Kind::Url, &format!("{raw}x")).unwrap_err();
    assert_eq!(err.to_string(), "not a URL: longer than 2048 bytes once normalised");
}

#[test]
fn email() {
    use Kind::Email as K;
    accepts(
        K,
        &[
            ("Juan.Perez@Example.MX", K, "juan.perez@example.mx"),
            ("juan.perez[at]example[.]mx", K, "juan.perez@example.mx"),
            ("juan.perez[@]example(dot)mx", K, "juan.perez@example.mx"),
            ("ventas@bücher.example", K, "ventas@xn--bcher-kva.example"),
            ("JOSÉ@example.mx", K, "josé@example.mx"),
            ("a+tag@example.mx", K, "a+tag@example.mx"),
        ],
    );
    rejects(
        K,
        &[
            ("juan perez@example.mx", "spaces are not allowed"),
            ("juan.example.mx", "missing `@`"),
            ("a@b@example.mx", "more than one `@`"),
            ("@example.mx", "empty local part"),
            ("juan@localhost", "domain part: `localhost` has a single label"),
            ("\"juan\"@example.mx", "quoted local parts are not supported"),
            ("ju<an@example.mx", "`<` is not allowed before the `@`"),
            ("juan@[10.0.0.1]", "domain part: `[` is not allowed"),
        ],
    );
}

#[test]
fn hashes() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let sha512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                  47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    accepts(Kind::Md5, &[(&md5.to_uppercase(), Kind::Md5, md5)]);
    accepts(Kind::Sha1, &[(sha1, Kind::Sha1, sha1)]);
    accepts(Kind::Sha256, &[(&format!("  {sha256} "), Kind::Sha256, sha256)]);
    accepts(Kind::Sha512, &[(sha512, Kind::Sha512, sha512)]);
    rejects(
        Kind::Md5,
        &[(&md5[1..], "not an MD5 hash: expected 32 hexadecimal digits, got 31")],
    );
    rejects(Kind::Sha1, &[(md5, "expected 40 hexadecimal digits, got 32")]);
    rejects(
        Kind::Sha256,
        &[(&sha256.replace('e', "g"), "`g` is not a hexadecimal digit")],
    );
    rejects(
        Kind::Sha512,
        &[(&format!("0x{}", &sha512[2..]), "`x` is not a hexadecimal digit")],
    );
}

#[test]
fn cve() {
    use Kind::Cve as K;
    accepts(
        K,
        &[
            ("CVE-2021-44228", K, "CVE-2021-44228"),
            ("cve-2021-44228", K, "CVE-2021-44228"),
            ("CVE-1999-0001", K, "CVE-1999-0001"),
            ("CVE-2024-1234567", K, "CVE-2024-1234567"),
        ],
    );
    rejects(
        K,
        &[
            ("CVE-2021-123", "sequence number has 3 digits"),
            ("CVE-2021-044228", "have no leading zeros"),
            ("CVE-1998-0001", "before the first CVE year"),
            ("CVE-21-44228", "year `21` is not four digits"),
            ("2021-44228", "expected `CVE-YYYY-NNNN`"),
            ("CVE-2021-44228a", "sequence number `44228A` is not a decimal number"),
            ("CVE 2021 44228", "expected `CVE-YYYY-NNNN`"),
        ],
    );
}

#[test]
fn asn() {
    use Kind::Asn as K;
    accepts(
        K,
        &[
            ("AS64500", K, "AS64500"),
            ("as64500", K, "AS64500"),
            ("ASN64500", K, "AS64500"),
            ("64500", K, "AS64500"),
            ("AS064500", K, "AS64500"),
            ("AS4294967295", K, "AS4294967295"),
            ("AS1.10", K, "AS65546"),
            ("AS0", K, "AS0"),
        ],
    );
    rejects(
        K,
        &[
            ("AS4294967296", "above 4294967295"),
            ("AS", "missing number"),
            ("AS-1", "`-` is not a decimal digit"),
            ("AS 64500", "` ` is not a decimal digit"),
            ("AS65536.1", "above 65535 in the asdot form"),
        ],
    );
}

#[test]
fn common_errors() {
    for kind in Kind::ALL {
        assert_eq!(normalise(kind, "  \t\n"), Err(ObservableError::Empty));
        let long = "a".repeat(MAX_INPUT + 1);
        assert_eq!(normalise(kind, &long), Err(ObservableError::TooLong));
        assert_eq!(ObservableError::TooLong.to_string(), "input longer than 2048 bytes");
    }
    // The limit applies after trimming.
    let padded = format!("  {}  ", "a".repeat(MAX_INPUT));
    assert_ne!(normalise(Kind::Domain, &padded), Err(ObservableError::TooLong));
}

#[test]
fn detect_mixed_list() {
    let cases = [
        ("10.0.0.1", Kind::Ipv4, "10.0.0.1"),
        ("10[.]0[.]0[.]1", Kind::Ipv4, "10.0.0.1"),
        ("2001:DB8::1", Kind::Ipv6, "2001:db8::1"),
        ("fe80::1", Kind::Ipv6, "fe80::1"),
        ("::ffff:10.0.0.1", Kind::Ipv4, "10.0.0.1"),
        ("10.1.0.0/16", Kind::Cidr, "10.1.0.0/16"),
        ("2001:db8::/32", Kind::Cidr, "2001:db8::/32"),
        ("10.0.0.1/32", Kind::Ipv4, "10.0.0.1"),
        ("Evil.Example.", Kind::Domain, "evil.example"),
        ("bücher.example", Kind::Domain, "xn--bcher-kva.example"),
        ("as15169.net", Kind::Domain, "as15169.net"),
        ("cve-2021-44228.example.com", Kind::Domain, "cve-2021-44228.example.com"),
        ("hxxps://evil[.]example/login", Kind::Url, "https://evil.example/login"),
        ("HTTP://EXAMPLE.COM", Kind::Url, "http://example.com/"),
        ("Juan[at]Example[.]MX", Kind::Email, "juan@example.mx"),
        (
            "d41d8cd98f00b204e9800998ecf8427e",
            Kind::Md5,
            "d41d8cd98f00b204e9800998ecf8427e",
        ),
        (
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            Kind::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            Kind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (&"ab".repeat(64), Kind::Sha512, &"ab".repeat(64)),
        ("cve-2021-44228", Kind::Cve, "CVE-2021-44228"),
        ("AS64500", Kind::Asn, "AS64500"),
        ("asn64500", Kind::Asn, "AS64500"),
    ];
    for (raw, kind, value) in cases {
        let got = detect(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
        assert_eq!(
            got,
            Observable {
                kind,
                value: value.to_owned()
            },
            "{raw:?}"
        );
    }
}

#[test]
fn detect_rejections() {
    let cases = [
        ("010.0.0.1", "not an IPv4 address: leading zeros are ambiguous"),
        ("1.2.3.256", "not an IPv4 address"),
        ("64500", "a bare number could be many things"),
        ("example.com/login", "URL without its scheme"),
        ("example.com:8080", "`host:port` is not an observable"),
        ("javascript:alert(1)", "unsupported URL scheme `javascript`"),
        ("mailto:a@example.com", "unsupported URL scheme `mailto`"),
        (
            "d41d8cd98f00b204e9800998ecf8427",
            "31 hexadecimal digits is not a hash length",
        ),
        ("localhost", "not a domain name"),
        ("CVE-2021-12", "not a CVE id"),
        ("fe80::1%eth0", "zone ids"),
        ("", "input is empty"),
    ];
    for (raw, want) in cases {
        let err = detect(raw).expect_err(raw).to_string();
        assert!(err.contains(want), "{raw:?}: got `{err}`, want `{want}`");
    }
}

#[test]
fn keys_and_related_keys() {
    let url = normalise(Kind::Url, "https://Bücher.example/a").unwrap();
    assert_eq!(url.key(), "url:https://xn--bcher-kva.example/a");
    assert_eq!(url.related_keys(), ["domain:xn--bcher-kva.example"]);
    let domain = normalise(Kind::Domain, "xn--bcher-kva.example").unwrap();
    assert_eq!(url.related_keys(), [domain.key()]);

    let by_ip = normalise(Kind::Url, "http://10.0.0.1:8080/x").unwrap();
    assert_eq!(by_ip.related_keys(), ["ipv4:10.0.0.1"]);
    let by_ip6 = normalise(Kind::Url, "http://[2001:db8::1]/").unwrap();
    assert_eq!(by_ip6.related_keys(), ["ipv6:2001:db8::1"]);

    let email = normalise(Kind::Email, "someone@gmail.com").unwrap();
    assert_eq!(email.key(), "email:someone@gmail.com");
    assert!(email.related_keys().is_empty());
    assert!(domain.related_keys().is_empty());
}

#[test]
fn ip_ranges() {
    let range = |kind, raw| normalise(kind, raw).unwrap().ip_range().unwrap();
    let v4 = (
        "00000000000000000000ffff0a000001".to_owned(),
        "00000000000000000000ffff0a000001".to_owned(),
    );
    assert_eq!(range(Kind::Ipv4, "10.0.0.1"), v4);
    assert_eq!(range(Kind::Ipv6, "::ffff:10.0.0.1"), v4);
    assert_eq!(
        range(Kind::Cidr, "10.0.0.0/8"),
        (
            "00000000000000000000ffff0a000000".to_owned(),
            "00000000000000000000ffff0affffff".to_owned()
        )
    );
    assert_eq!(
        range(Kind::Cidr, "::/0"),
        (
            "00000000000000000000000000000000".to_owned(),
            "ffffffffffffffffffffffffffffffff".to_owned()
        )
    );
    assert_eq!(
        range(Kind::Cidr, "0.0.0.0/0"),
        (
            "00000000000000000000ffff00000000".to_owned(),
            "00000000000000000000ffffffffffff".to_owned()
        )
    );
    assert_eq!(normalise(Kind::Domain, "example.com").unwrap().ip_range(), None);
}

#[test]
fn defanged_round_trips() {
    let cases = [
        (
            Kind::Url,
            "https://user@evil.example:8443/a.php?x=1.2",
            "hxxps://user[@]evil[.]example:8443/a.php?x=1.2",
        ),
        (Kind::Url, "ftp://files.example.com/", "fxp://files[.]example[.]com/"),
        (Kind::Domain, "evil.example", "evil[.]example"),
        (Kind::Email, "juan.perez@example.mx", "juan.perez[@]example[.]mx"),
        (Kind::Ipv4, "10.0.0.1", "10[.]0[.]0[.]1"),
        (Kind::Cidr, "10.0.0.0/8", "10[.]0[.]0[.]0/8"),
        (Kind::Ipv6, "2001:db8::1", "2001:db8::1"),
        (Kind::Cve, "CVE-2021-44228", "CVE-2021-44228"),
    ];
    for (kind, raw, want) in cases {
        let o = normalise(kind, raw).unwrap();
        assert_eq!(o.defanged(), want);
        assert_eq!(normalise(kind, &o.defanged()).unwrap(), o);
        assert_eq!(detect(&o.defanged()).unwrap(), o);
    }
}

#[test]
fn kind_ids_and_serde() {
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
    }
    assert_eq!(Kind::parse("IPV4"), None);
    assert_eq!(
        "ip".parse::<Kind>().unwrap_err().to_string(),
        "unknown observable kind `ip`"
    );

    let o = normalise(Kind::Domain, "Example.COM").unwrap();
    let json = serde_json::to_string(&o).unwrap();
    assert_eq!(json, r#"{"kind":"domain","value":"example.com"}"#);
    assert_eq!(serde_json::from_str::<Observable>(&json).unwrap(), o);
    // Deserialising normalises, and refuses what normalise refuses.
    let sloppy: Observable = serde_json::from_str(r#"{"kind":"domain","value":"EXAMPLE[.]com."}"#).unwrap();
    assert_eq!(sloppy, o);
    let bad = serde_json::from_str::<Observable>(r#"{"kind":"ipv4","value":"010.0.0.1"}"#);
    assert!(bad.unwrap_err().to_string().contains("leading zeros are ambiguous"));
}

#[test]
fn errors_quote_input_safely() {
    let err = normalise(Kind::Email, "ju\u{202e}an@example.mx")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\\u{202e}"), "{err}");
    let scheme = format!("{}:x", "a".repeat(100));
    let err = normalise(Kind::Url, &scheme).unwrap_err().to_string();
    assert!(err.len() < 120 && err.contains('…'), "{err}");
    assert_eq!(
        normalise(Kind::Url, "javascript:x").unwrap_err().kind(),
        Some(Kind::Url)
    );
}

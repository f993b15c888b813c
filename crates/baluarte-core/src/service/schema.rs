//! The OpenAPI schemas of the input rules in `kit::validation`, so that the document states what the
//! service accepts: a request the schema admits passes validation, and one it refuses fails it.
//!
//! Text is trimmed (Unicode White_Space) before it is measured, and what remains may hold no control
//! characters (a multi-line block may hold line breaks and tabs; `\r\n` counts as one). JSON Schema
//! measures the raw string, so the rule is a `pattern` over the raw value: optional whitespace, the
//! trimmed text (its first and last characters neither whitespace nor control, its length within the
//! bounds), optional whitespace. `minLength` is stated too (the raw value is never shorter than the
//! trimmed one); the maximum is the pattern's, since whitespace around the text does not count.
//!
//! Use in a `ToSchema` derive: `#[schema(schema_with = line::<2, 200>)]`.

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::openapi::SchemaFormat;

/// Rust's `char::is_whitespace` (White_Space), as a regex class body.
const WHITESPACE: &str = r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// `char::is_control` (Cc).
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

/// A character that may begin or end the trimmed text: neither whitespace nor control.
const EDGE: &str = r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// `^ws* edge inner{min-2,max-2} edge ws*$`, with the shorter forms for `min` 0 and 1.
fn trimmed_pattern(inner: &str, min: usize, max: usize) -> String {
    let ws = format!("[{WHITESPACE}]*");
    let e = EDGE;
    let rest = max.saturating_sub(2);
    let body = match min {
        0 => format!("({e}({inner}{{0,{rest}}}{e})?)?"),
        1 => format!("{e}({inner}{{0,{rest}}}{e})?"),
        _ => format!("{e}{inner}{{{},{rest}}}{e}", min - 2),
    };
    format!("^{ws}{body}{ws}$")
}

fn string(pattern: String, min: usize, description: String) -> ObjectBuilder {
    let b = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description));
    if min > 0 {
        b.min_length(Some(min))
    } else {
        b
    }
}

/// One line of text, `MIN` to `MAX` characters once trimmed (`validation::text`).
pub fn line<const MIN: usize, const MAX: usize>() -> Object {
    let inner = format!("[^{CONTROL}]");
    string(
        trimmed_pattern(&inner, MIN, MAX),
        MIN,
        format!("{MIN} to {MAX} characters once trimmed, no control characters"),
    )
    .build()
}

/// Multi-line text, `MIN` to `MAX` characters once trimmed; line breaks and tabs allowed
/// (`validation::text_block`).
pub fn block<const MIN: usize, const MAX: usize>() -> Object {
    // Any character but a control one, or a tab, a line feed, or CR LF (read as one line feed).
    let inner = r"(?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)";
    string(
        trimmed_pattern(inner, MIN, MAX),
        MIN,
        format!("{MIN} to {MAX} characters once trimmed; line breaks and tabs allowed, no other control characters"),
    )
    .build()
}

/// Optional text: absent, `null` or blank is none; else one line of 1 to `MAX` characters once trimmed
/// (`validation::optional_text`).
pub fn optional_line<const MAX: usize>() -> Object {
    let inner = format!("[^{CONTROL}]");
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .pattern(Some(trimmed_pattern(&inner, 0, MAX)))
        .description(Some(format!(
            "Up to {MAX} characters once trimmed, no control characters; blank or null for none"
        )))
        .build()
}

/// `schema`, or `null`.
fn nullable(schema: Object) -> Object {
    let mut schema = schema;
    schema.schema_type = utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// A nullable [`line`]: `null` or absent keeps what there is.
pub fn nullable_line<const MIN: usize, const MAX: usize>() -> Object {
    nullable(line::<MIN, MAX>())
}

/// Whitespace, `body`, whitespace: a value that is trimmed before it is checked.
fn padded(body: &str) -> String {
    format!("^[{WHITESPACE}]*{body}[{WHITESPACE}]*$")
}

/// A sector id: 2 to 64 of `a-z`, `0-9`, `-` and `_`, once trimmed.
pub fn slug() -> Object {
    string(padded("[a-z0-9_-]{2,64}"), 2, "2 to 64 of a-z, 0-9, - and _".into()).build()
}

/// An ISO 3166-2 code such as `MX-JAL`: up to 10 letters, digits and hyphens with at least one hyphen,
/// once trimmed (stored upper-cased); blank or `null` for none.
pub fn state_code() -> Object {
    // The first hyphen at each position from 0 to 9, so that the whole stays within 10 characters.
    let alternatives: Vec<String> = (0..10)
        .map(|k| format!("[A-Za-z0-9]{{{k}}}-[A-Za-z0-9-]{{0,{}}}", 9 - k))
        .collect();
    let schema = ObjectBuilder::new()
        .pattern(Some(padded(&format!("(?:{})?", alternatives.join("|")))))
        .description(Some(
            "ISO 3166-2 code such as MX-JAL (up to 10 letters, digits and hyphens); blank or null for none",
        ))
        .build();
    nullable(schema)
}

/// An e-mail address as `validation::email` reads it: once trimmed, at most 254 characters, no
/// whitespace, control characters or `<>",;`, a non-empty local part before the first `@`, and a
/// domain after it that holds a dot and does not start with one.
pub fn email() -> utoipa::openapi::Schema {
    let excluded = format!(r#"{WHITESPACE}{CONTROL}<>",;"#);
    let local = format!("[^@{excluded}]+");
    let first = format!("[^.{excluded}]");
    let rest = format!("[^{excluded}]*");
    let shape = padded(&format!(r"{local}@{first}{rest}\.{rest}"));
    let length = padded(&format!("[^{WHITESPACE}]{{1,254}}"));
    // Two patterns, the shape and the length, so an `allOf` of both.
    utoipa::openapi::schema::AllOfBuilder::new()
        .item(string(shape, 3, "the shape of an address".into()).build())
        .item(string(length, 1, "at most 254 characters".into()).build())
        .description(Some(
            "An e-mail address (at most 254 characters), trimmed and lower-cased",
        ))
        .build()
        .into()
}

/// A telephone number: 5 to 40 of digits, spaces, `+`, `-`, `(` and `)`, once trimmed.
pub fn phone() -> Object {
    let edge = "[0-9+()-]";
    string(
        padded(&format!("{edge}[0-9 +()-]{{3,38}}{edge}")),
        5,
        "5 to 40 of digits, spaces, +, -, ( and )".into(),
    )
    .build()
}

/// A contact's TLP: any but RED (RED needs named recipients).
pub fn contact_tlp() -> Object {
    one_of(
        &["AMBER+STRICT", "AMBER", "GREEN", "CLEAR"],
        "Any TLP but RED, which needs named recipients: use AMBER+STRICT for a contact",
    )
}

/// A new password: 12 to 256 characters (`crypto::check_password_strength`).
pub fn password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(12))
        .max_length(Some(256))
        .description(Some("12 to 256 characters"))
        .build()
}

/// An optional new password.
pub fn optional_password() -> Object {
    nullable(password())
}

/// An interface language: `es` or `en`.
pub fn lang() -> Object {
    one_of(&["es", "en"], "es or en")
}

/// An optional interface language.
pub fn optional_lang() -> Object {
    let mut schema = lang();
    if let Some(values) = schema.enum_values.as_mut() {
        values.push(serde_json::Value::Null);
    }
    nullable(schema)
}

/// Blank, or one line of 1 to `MAX` characters once trimmed (`validation::optional_text` over a
/// string that is never `null`).
pub fn blank_or_line<const MAX: usize>() -> Object {
    let inner = format!("[^{CONTROL}]");
    string(
        trimmed_pattern(&inner, 0, MAX),
        0,
        format!("Up to {MAX} characters once trimmed, no control characters; blank for none"),
    )
    .build()
}

/// An RSIT class of the taxonomy.
pub fn rsit_class() -> Object {
    let ids: Vec<&str> = crate::incident::rsit().iter().map(|c| c.id.as_str()).collect();
    one_of(&ids, "An RSIT class")
}

/// An RSIT type (of the class given beside it).
pub fn rsit_type() -> Object {
    let mut ids: Vec<&str> = crate::incident::rsit()
        .iter()
        .flat_map(|c| c.types.iter().map(|t| t.id.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    one_of(&ids, "An RSIT type of the class given beside it")
}

/// One of the given strings.
pub fn one_of(values: &[&str], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

/// An RFC 3339 date-time.
pub fn date_time() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::kit::validation::{optional_text, text, text_block};

    fn matches(schema: &Object, s: &str) -> bool {
        let pattern = schema.pattern.clone().unwrap_or_default();
        regex::Regex::new(&pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(s)
    }

    const SAMPLES: &[&str] = &[
        "",
        " ",
        "a",
        "ab",
        " ab ",
        "abc",
        "a b",
        "  a  ",
        "\tab\n",
        "a\tb",
        "a\nb",
        "a\r\nb",
        "a\rb",
        "a\u{0}b",
        "\u{0}ab",
        "ab\u{7f}",
        "a\u{85}b",
        "\u{85}ab\u{85}",
        "\u{a0}ab",
        "a\u{a0}b",
        "\u{1c}ab",
        "\u{feff}ab",
        "\u{3000}ab\u{3000}",
        "ñandú",
        "日本語",
        "0123456789",
        "01234567890",
        " 0123456789 ",
        "a\u{2028}b",
        "x\r\n\r\ny",
        "\r\nabc\r\n",
        "ab\u{9f}",
    ];

    #[test]
    fn line_pattern_is_the_text_rule() {
        for (min, max, schema) in [
            (2, 10, line::<2, 10>()),
            (1, 10, line::<1, 10>()),
            (3, 10, line::<3, 10>()),
            (0, 10, line::<0, 10>()),
        ] {
            for s in SAMPLES {
                let mut errors = Vec::new();
                text(&mut errors, "f", s, min, max);
                assert_eq!(
                    matches(&schema, s),
                    errors.is_empty(),
                    "line {min}..{max}: {s:?} {errors:?}"
                );
            }
        }
    }

    #[test]
    fn block_pattern_is_the_text_block_rule() {
        for (min, max, schema) in [
            (1, 10, block::<1, 10>()),
            (3, 10, block::<3, 10>()),
            (0, 10, block::<0, 10>()),
        ] {
            for s in SAMPLES {
                let mut errors = Vec::new();
                text_block(&mut errors, "f", s, min, max);
                assert_eq!(
                    matches(&schema, s),
                    errors.is_empty(),
                    "block {min}..{max}: {s:?} {errors:?}"
                );
            }
        }
    }

    /// Every pattern of an `allOf` matches.
    fn matches_all(schema: &utoipa::openapi::Schema, s: &str) -> bool {
        let utoipa::openapi::Schema::AllOf(all) = schema else {
            return false;
        };
        all.items.iter().all(|sub| match sub {
            utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(o)) => matches(o, s),
            _ => false,
        })
    }

    #[test]
    fn email_phone_slug_and_state_code_patterns_are_the_rules() {
        use crate::service::kit::validation::email as email_rule;
        let long_local = "a".repeat(246);
        let emails = [
            "a@b.c",
            " Ana@Example.MX ",
            "a@.b",
            "a@b",
            "@b.c",
            "a b@c.d",
            "a@b.c;",
            "<a@b.c>",
            "a@@b.c",
            "a@b@c.d",
            "ñ@dominio.mx",
            "a@b.",
            "a@\u{0}.c",
            "\ta@b.c\n",
        ];
        let long = format!("{long_local}@bb.cc");
        let longer = format!("{long_local}@bbb.cc");
        // 254 characters, 502 bytes: the limit counts characters, as the schema does.
        let accented = format!("{}@bb.cc", "ñ".repeat(248));
        for s in emails
            .iter()
            .copied()
            .chain([long.as_str(), longer.as_str(), accented.as_str()])
        {
            let mut errors = Vec::new();
            email_rule(&mut errors, "email", s);
            assert_eq!(matches_all(&email(), s), errors.is_empty(), "email {s:?} {errors:?}");
        }
        for (s, ok) in [
            ("+52 55 1234 5678", true),
            (" (55) 1234-5678 ", true),
            ("1234", false),
            ("12345", true),
            ("12a45", false),
            ("+ 1 +", true),
            ("     ", false),
            (" 1 2 3", true),
        ] {
            assert_eq!(matches(&phone(), s), ok, "phone {s:?}");
        }
        for (s, ok) in [
            ("energia", true),
            (" agua ", true),
            ("a", false),
            ("Agua", false),
            ("a b", false),
            ("x_1-2", true),
        ] {
            assert_eq!(matches(&slug(), s), ok, "slug {s:?}");
        }
        for (s, ok) in [
            ("MX-JAL", true),
            ("mx-jal", true),
            ("", true),
            ("  ", true),
            ("MXJAL", false),
            ("-", true),
            ("ABCDEFGHI-", true),
            ("ABCDEFGHIJ-", false),
            ("MX-JAL-0123", false),
            ("MX-JA L", false),
            ("MX-ß", false),
            (" MX-CMX ", true),
            ("mx-ßa", false),
            ("mx-ſa", false),
        ] {
            assert_eq!(matches(&state_code(), s), ok, "state code {s:?}");
            let mut errors = Vec::new();
            crate::service::registry::state_code(&mut errors, &Some(s.to_string()));
            assert_eq!(errors.is_empty(), ok, "state code rule {s:?}");
        }
    }

    #[test]
    fn optional_line_pattern_is_the_optional_text_rule() {
        let schema = optional_line::<10>();
        for s in SAMPLES {
            let mut errors = Vec::new();
            optional_text(&mut errors, "f", &Some(s.to_string()), 10);
            assert_eq!(matches(&schema, s), errors.is_empty(), "optional: {s:?} {errors:?}");
        }
    }
}

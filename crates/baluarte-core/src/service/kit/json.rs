//! How request bodies read numbers: JSON has one number type, and JSON Schema's `integer` admits
//! `5.0`, so an integer field takes any number without a fractional part (`5`, `5.0`, `5e0`) and
//! refuses `5.5` and numbers beyond `i64`.

use serde::{Deserialize, Deserializer};

/// An optional integer: `null`, absent (with `#[serde(default)]`) or an integral number.
pub(crate) fn optional_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(i) = n.as_i64() {
        return Ok(Some(i));
    }
    match n.as_f64() {
        // Within ±2^53 every integral f64 is exact; past it a float names no one integer.
        Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom(format!(
            "invalid value: {n}, expected an integer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::optional_i64")]
        n: Option<i64>,
    }

    fn read(json: &str) -> Option<Option<i64>> {
        serde_json::from_str::<T>(json).ok().map(|t| t.n)
    }

    #[test]
    fn integral_numbers_are_integers() {
        assert_eq!(read(r#"{"n": 5}"#), Some(Some(5)));
        assert_eq!(read(r#"{"n": -1057467.0}"#), Some(Some(-1_057_467)));
        assert_eq!(read(r#"{"n": 5e2}"#), Some(Some(500)));
        assert_eq!(read(r#"{"n": null}"#), Some(None));
        assert_eq!(read(r#"{}"#), Some(None));
        assert_eq!(read(r#"{"n": 5.5}"#), None);
        assert_eq!(read(r#"{"n": 1e300}"#), None);
        assert_eq!(read(r#"{"n": "5"}"#), None);
    }
}

//! Signed receipts: proof that the platform received exactly this report at this time.
//!
//! A receipt names the report by the SHA-256 of its exact bytes (the file the reporter downloads) and is
//! signed with the server's Ed25519 key over its own canonical JSON (keys sorted, no spaces, the
//! `signature` field left out). Anyone with the public key can check both: `baluarte receipt verify`.
//! The receipt file itself must be byte-for-byte canonical, so changing any byte of it — even
//! whitespace — makes verification fail rather than pass silently.

use crate::crypto::{sha256_hex, verify_signature, ServerKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub const VERSION: &str = "baluarte-receipt/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub version: String,
    pub incident_id: String,
    pub reference: String,
    pub submission_id: String,
    pub stage_id: String,
    /// SHA-256 (hex) of the exact report bytes.
    pub report_sha256: String,
    /// Server time of receipt, RFC 3339 UTC.
    pub received_at: String,
    /// The server's Ed25519 public key (hex) that made the signature.
    pub public_key: String,
    /// Ed25519 signature (hex) over the canonical JSON of every other field.
    pub signature: String,
}

/// JSON with object keys sorted at every level and no insignificant whitespace.
pub use crate::canonical::canonical_json;

impl Receipt {
    /// The bytes the signature covers.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            map.remove("signature");
        }
        canonical_json(&v).into_bytes()
    }

    /// Make and sign a receipt for `report` (its exact bytes).
    pub fn issue(
        key: &ServerKey,
        incident_id: &str,
        reference: &str,
        submission_id: &str,
        stage_id: &str,
        report: &[u8],
        received_at: &str,
    ) -> Receipt {
        let mut r = Receipt {
            version: VERSION.into(),
            incident_id: incident_id.into(),
            reference: reference.into(),
            submission_id: submission_id.into(),
            stage_id: stage_id.into(),
            report_sha256: sha256_hex(report),
            received_at: received_at.into(),
            public_key: key.public_hex(),
            signature: String::new(),
        };
        r.signature = key.sign_hex(&r.signed_bytes());
        r
    }

    /// The receipt file's text: canonical JSON and a final newline.
    pub fn to_text(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        format!("{}\n", canonical_json(&v))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("the receipt is not valid receipt JSON: {0}")]
    Malformed(String),
    #[error("the receipt file was altered: it is not in the canonical form the server wrote")]
    NotCanonical,
    #[error("unknown receipt version `{0}`")]
    Version(String),
    #[error("the receipt was signed by key {found}, not by the expected key {expected}")]
    WrongKey { found: String, expected: String },
    #[error("the receipt's signature does not verify: the receipt was altered or not made by this key")]
    BadSignature,
    #[error("the report does not match the receipt: its SHA-256 is {actual}, the receipt says {expected}")]
    ReportMismatch { actual: String, expected: String },
}

/// Check a receipt file against a report file. `expected_key` pins the server's public key (hex); without
/// it, the key inside the receipt is used, which proves integrity but not who signed.
pub fn verify(receipt_text: &[u8], report: &[u8], expected_key: Option<&str>) -> Result<Receipt, ReceiptError> {
    let receipt: Receipt = serde_json::from_slice(receipt_text).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    if receipt.to_text().as_bytes() != receipt_text {
        return Err(ReceiptError::NotCanonical);
    }
    if receipt.version != VERSION {
        return Err(ReceiptError::Version(receipt.version));
    }
    if let Some(expected) = expected_key {
        if !expected.trim().eq_ignore_ascii_case(&receipt.public_key) {
            return Err(ReceiptError::WrongKey {
                found: receipt.public_key,
                expected: expected.trim().to_string(),
            });
        }
    }
    if !verify_signature(&receipt.public_key, &receipt.signed_bytes(), &receipt.signature) {
        return Err(ReceiptError::BadSignature);
    }
    let actual = sha256_hex(report);
    if actual != receipt.report_sha256 {
        return Err(ReceiptError::ReportMismatch {
            actual,
            expected: receipt.report_sha256,
        });
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (ServerKey, Vec<u8>, Vec<u8>) {
        let key = ServerKey::generate();
        let report = br#"{"title":"Ransomware en servidores de n\u00f3mina"}"#.to_vec();
        let r = Receipt::issue(
            &key,
            "i1",
            "BAL-2026-000001",
            "s1",
            "initial",
            &report,
            "2026-11-21T08:00:00Z",
        );
        (key, report, r.to_text().into_bytes())
    }

    #[test]
    fn a_receipt_verifies_and_any_changed_byte_breaks_it() {
        let (key, report, receipt) = sample();
        assert!(verify(&receipt, &report, Some(&key.public_hex())).is_ok());
        for i in 0..report.len() {
            let mut r = report.clone();
            r[i] ^= 0x01;
            assert!(matches!(
                verify(&receipt, &r, None),
                Err(ReceiptError::ReportMismatch { .. })
            ));
        }
        for i in 0..receipt.len() {
            let mut r = receipt.clone();
            r[i] ^= 0x01;
            assert!(
                verify(&r, &report, None).is_err(),
                "byte {i} of the receipt changed and it still verified"
            );
        }
    }

    #[test]
    fn a_receipt_from_another_key_is_refused_when_the_key_is_pinned() {
        let (_, report, receipt) = sample();
        let other = ServerKey::generate();
        assert!(matches!(
            verify(&receipt, &report, Some(&other.public_hex())),
            Err(ReceiptError::WrongKey { .. })
        ));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":2}],"c":"é"}}"#).unwrap_or_default();
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"é","d":[{"y":2,"z":1}]},"b":1}"#);
    }
}

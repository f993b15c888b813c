//! Secrets: password hashing, random tokens, the server's signing key and TOTP.

use crate::error::{CoreError, FieldCode, FieldError, Result};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Argon2id with the crate's defaults (m = 19 MiB, t = 2, p = 1: OWASP's recommended minimum).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Passwords are checked for length only: a passphrase policy, as NIST SP 800-63B recommends.
pub fn check_password_strength(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < 12 {
        return Err(CoreError::invalid_field(
            FieldError::new("password", FieldCode::TooShort).with("min", 12),
        ));
    }
    if n > 256 {
        return Err(CoreError::invalid_field(
            FieldError::new("password", FieldCode::TooLong).with("max", 256),
        ));
    }
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A URL-safe random secret with a recognisable prefix (`blt_` API token, `bls_` session).
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Constant-time string comparison, for tokens presented by clients.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The server's Ed25519 key: signs audit checkpoints (and, later, receipts and advisories).
/// Made at first start and kept in the data directory; `Debug` never prints the secret.
#[derive(Clone)]
pub struct ServerKey {
    signing: SigningKey,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("public", &self.public_hex())
            .finish_non_exhaustive()
    }
}

pub const KEY_FILE: &str = "server-ed25519.key";

impl ServerKey {
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut OsRng),
        }
    }

    /// Load the key from `dir`, creating it (mode 0600) when absent.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| CoreError::internal_from(path.display().to_string(), e))?;
            let bytes = hex::decode(text.trim())
                .map_err(|e| CoreError::internal_from(format!("{}: not a hex key", path.display()), e))?;
            let seed: [u8; 32] = bytes
                .try_into()
                .map_err(|_| CoreError::internal(format!("{}: key must be 32 bytes", path.display())))?;
            return Ok(Self {
                signing: SigningKey::from_bytes(&seed),
            });
        }
        let key = Self::generate();
        write_private(&path, &hex::encode(key.signing.to_bytes()))?;
        tracing::info!(path = %path.display(), public_key = %key.public_hex(), "created the server signing key");
        Ok(key)
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).to_bytes())
    }
}

/// Verify a hex signature by a hex public key.
pub fn verify_signature(public_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let Ok(pk) = hex::decode(public_hex) else { return false };
    let Ok(pk): Result<[u8; 32], _> = pk.try_into() else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    let Ok(sig): Result<[u8; 64], _> = sig.try_into() else {
        return false;
    };
    vk.verify(message, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| CoreError::internal_from(path.display().to_string(), e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| CoreError::internal_from(path.display().to_string(), e))
}

/// TOTP (RFC 6238: SHA-1, 6 digits, 30 s), as every authenticator app expects.
pub mod totp {
    use super::*;
    use totp_rs::{Algorithm, Secret, TOTP};

    pub const ISSUER: &str = "Baluarte";

    pub fn new_secret() -> String {
        let mut bytes = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Secret::Raw(bytes.to_vec()).to_encoded().to_string()
    }

    fn build(secret_b32: &str, account: &str) -> Result<TOTP> {
        let bytes = Secret::Encoded(secret_b32.to_string())
            .to_bytes()
            .map_err(|_| CoreError::internal("stored TOTP secret is not base32"))?;
        TOTP::new(
            Algorithm::SHA1,
            6,
            1,
            30,
            bytes,
            Some(ISSUER.to_string()),
            account.to_string(),
        )
        .map_err(|e| CoreError::internal_from("TOTP", e))
    }

    /// The `otpauth://` URL that authenticator apps read from the QR code.
    pub fn provisioning_url(secret_b32: &str, account: &str) -> Result<String> {
        Ok(build(secret_b32, account)?.get_url())
    }

    /// The time step (Unix time / 30 s) whose code this is at `now`, trying that step and one either
    /// side for clock drift; None when the code matches none of them.
    pub fn matching_step(secret_b32: &str, code: &str, now: crate::time::Micros) -> Option<i64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = build(secret_b32, "x").ok()?;
        let step = u64::try_from(now / 1_000_000).ok()? / 30;
        [step.saturating_sub(1), step, step + 1]
            .into_iter()
            .find(|s| same_secret(&totp.generate(s * 30), code))
            .and_then(|s| i64::try_from(s).ok())
    }

    /// Whether the code is valid at `now` (ignoring reuse; the service layer refuses reuse).
    pub fn check(secret_b32: &str, code: &str, now: crate::time::Micros) -> bool {
        matching_step(secret_b32, code, now).is_some()
    }

    /// The code at `now`: for tests and the demo's instructions.
    pub fn code_at(secret_b32: &str, now: crate::time::Micros) -> Result<String> {
        let secs = u64::try_from(now / 1_000_000).map_err(|_| CoreError::internal("time before 1970"))?;
        Ok(build(secret_b32, "x")?.generate(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_reject_others() {
        let h = hash_password("correct horse battery staple").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &h));
        assert!(!verify_password("correct horse battery stapler", &h));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn signatures_fail_on_any_change() {
        let key = ServerKey::generate();
        let sig = key.sign_hex(b"checkpoint 42");
        assert!(verify_signature(&key.public_hex(), b"checkpoint 42", &sig));
        assert!(!verify_signature(&key.public_hex(), b"checkpoint 43", &sig));
        assert!(!verify_signature(
            &ServerKey::generate().public_hex(),
            b"checkpoint 42",
            &sig
        ));
    }

    #[test]
    fn totp_accepts_current_code_only() {
        let secret = totp::new_secret();
        let now = 1_795_000_000 * 1_000_000;
        let code = totp::code_at(&secret, now).unwrap_or_default();
        assert!(totp::check(&secret, &code, now));
        // One step of drift either side is accepted, two are not.
        assert!(totp::check(&secret, &code, now + 30_000_000));
        assert!(!totp::check(&secret, &code, now + 95_000_000));
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap_or(0) + 500_000) % 1_000_000);
        assert!(!totp::check(&secret, &wrong, now));
        assert!(!totp::check(&secret, "12345a", now));
    }

    #[test]
    fn debug_never_shows_the_secret_key() {
        let key = ServerKey::generate();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex::encode(key.signing.to_bytes())));
    }
}

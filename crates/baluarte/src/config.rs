//! Configuration: defaults, then a TOML file (`--config` or `BALUARTE_CONFIG`), then `BALUARTE_*`
//! environment variables; command-line flags win over all.

use anyhow::{bail, Context, Result};
use baluarte_core::audit::witness::{SyslogTarget, WitnessConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Holds the SQLite database (when no database_url is set) and the server's signing key.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for the embedded SQLite file in data_dir.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    /// Mark cookies Secure; set when users reach the server over HTTPS.
    pub cookie_secure: bool,
    /// Trust X-Forwarded-For (only behind a reverse proxy you run).
    pub trust_forwarded: bool,
    /// `text` or `json`.
    pub log_format: String,
    /// How often the audit trail's tip is signed, in seconds.
    pub checkpoint_interval_secs: u64,
    /// SMTP server for e-mail notifications (`[smtp]` table); without it, notices stay in the application
    /// and webhooks.
    pub smtp: Option<baluarte_notify::SmtpConfig>,
    /// How often the outbox is delivered and deadlines are scanned for reminders, in seconds.
    pub worker_interval_secs: u64,
    /// The address people reach the platform at, for links in e-mails (e.g. `https://baluarte.gob.mx`).
    pub public_url: Option<String>,
    /// The webhook address policy (`[webhooks]` table).
    pub webhooks: WebhooksConfig,
    /// Witnesses of the audit trail (`[audit_witness]` table): each signed checkpoint is also sent there.
    pub audit_witness: WitnessSettings,
}

/// `[webhooks]`: the webhook address policy. Webhooks are registered for and sent to public addresses
/// only; `allow_networks` lists the internal networks (`10.20.0.0/16`, `fd00:1::/64`, or one address)
/// that they may reach as well, for receivers on the operator's own private network.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    pub allow_networks: Vec<String>,
}

/// Where the server sends each signed audit checkpoint, besides its checkpoint file. A witness that
/// cannot be reached is logged and tried again later; it never holds up a write.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WitnessSettings {
    /// `udp://host:port` or `tcp://host:port` of a syslog server: one RFC 5424 line per checkpoint
    /// (octet-counted frames over TCP). Also BALUARTE_AUDIT_WITNESS_SYSLOG.
    pub syslog: Option<String>,
    /// An `http(s)://` URL that receives each checkpoint as a JSON POST. Also
    /// BALUARTE_AUDIT_WITNESS_WEBHOOK_URL.
    pub webhook_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cookie_secure: false,
            trust_forwarded: false,
            log_format: "text".into(),
            checkpoint_interval_secs: 300,
            smtp: None,
            worker_interval_secs: 30,
            public_url: None,
            webhooks: WebhooksConfig::default(),
            audit_witness: WitnessSettings::default(),
        }
    }
}

/// The database URL never reaches logs with its password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("listen", &self.listen)
            .field("cookie_secure", &self.cookie_secure)
            .field("trust_forwarded", &self.trust_forwarded)
            .field("log_format", &self.log_format)
            .field("smtp", &self.smtp)
            .field("public_url", &self.public_url)
            .field("webhooks", &self.webhooks)
            .field("checkpoint_interval_secs", &self.checkpoint_interval_secs)
            .field("audit_witness", &self.witness().ok())
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db` (also `password=***` in the query).
pub fn redact_url(url: &str) -> String {
    baluarte_core::db::DbUrl::new(url).redacted()
}

fn env_bool(name: &str, value: &str) -> Result<bool> {
    match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => bail!("{name}: expected true or false, got {value:?}"),
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let file = file
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("BALUARTE_CONFIG").map(PathBuf::from));
        let mut c = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("{}: invalid configuration", path.display()))?
            }
            None => Config::default(),
        };
        c.apply_env(|k| std::env::var(k).ok())?;
        c.webhook_addresses()?;
        c.witness()?;
        Ok(c)
    }

    /// The webhook address policy: public addresses and the networks of `[webhooks] allow_networks`.
    pub fn webhook_addresses(&self) -> Result<baluarte_notify::AddressPolicy> {
        baluarte_notify::AddressPolicy::allowing(&self.webhooks.allow_networks)
            .context("[webhooks] allow_networks (or BALUARTE_WEBHOOK_ALLOW_NETWORKS)")
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        if let Some(v) = get("BALUARTE_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = get("BALUARTE_DATABASE_URL") {
            self.database_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("BALUARTE_LISTEN") {
            self.listen = v
                .parse()
                .with_context(|| format!("BALUARTE_LISTEN: not an address: {v:?}"))?;
        }
        if let Some(v) = get("BALUARTE_COOKIE_SECURE") {
            self.cookie_secure = env_bool("BALUARTE_COOKIE_SECURE", &v)?;
        }
        if let Some(v) = get("BALUARTE_TRUST_FORWARDED") {
            self.trust_forwarded = env_bool("BALUARTE_TRUST_FORWARDED", &v)?;
        }
        if let Some(v) = get("BALUARTE_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("BALUARTE_PUBLIC_URL") {
            let ok = url::Url::parse(&v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                bail!("BALUARTE_PUBLIC_URL: expected an http(s) URL, got {v:?}");
            }
            self.public_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("BALUARTE_WEBHOOK_ALLOW_NETWORKS") {
            self.webhooks.allow_networks = v
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = get("BALUARTE_AUDIT_WITNESS_SYSLOG") {
            self.audit_witness.syslog = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("BALUARTE_AUDIT_WITNESS_WEBHOOK_URL") {
            self.audit_witness.webhook_url = Some(v).filter(|v| !v.is_empty());
        }
        Ok(())
    }

    /// The audit witnesses, checked: errors name the setting.
    pub fn witness(&self) -> Result<WitnessConfig> {
        let w = &self.audit_witness;
        let syslog = match &w.syslog {
            Some(v) => Some(
                v.parse::<SyslogTarget>()
                    .map_err(|e| anyhow::anyhow!("audit_witness.syslog (BALUARTE_AUDIT_WITNESS_SYSLOG): {e}"))?,
            ),
            None => None,
        };
        if let Some(v) = &w.webhook_url {
            let ok = url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                bail!("audit_witness.webhook_url (BALUARTE_AUDIT_WITNESS_WEBHOOK_URL): expected an http(s) URL");
            }
        }
        let hostname = self
            .public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        Ok(WitnessConfig {
            syslog,
            webhook_url: w.webhook_url.clone(),
            hostname,
        })
    }

    /// How often the tip is signed: `checkpoint_interval_secs`, at least 10 s.
    pub fn checkpoint_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.checkpoint_interval_secs.max(10))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| baluarte_core::db::Db::sqlite_url(&self.data_dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_and_errors_name_the_variable() {
        let mut c = Config::default();
        let env = |k: &str| match k {
            "BALUARTE_LISTEN" => Some("0.0.0.0:9000".to_string()),
            "BALUARTE_COOKIE_SECURE" => Some("true".to_string()),
            _ => None,
        };
        assert!(c.apply_env(env).is_ok());
        assert_eq!(c.listen.port(), 9000);
        assert!(c.cookie_secure);
        let bad = |k: &str| (k == "BALUARTE_TRUST_FORWARDED").then(|| "maybe".to_string());
        let err = c.apply_env(bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("BALUARTE_TRUST_FORWARDED"), "{err}");
    }

    #[test]
    fn passwords_never_reach_debug_output() {
        let c = Config {
            database_url: Some("postgres://app:hunter2@db/baluarte".into()),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn the_smtp_password_never_reaches_debug_output() {
        let c: Config = toml::from_str(
            "[smtp]\nhost = \"smtp.example\"\nport = 587\nusername = \"csirt\"\npassword = \"s3cr3t-smtp\"\nfrom = \"csirt@example.gob.mx\"\n",
        )
        .unwrap_or_default();
        assert_eq!(c.smtp.as_ref().map(|s| s.host.as_str()), Some("smtp.example"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-smtp"), "{shown}");
    }

    #[test]
    fn webhook_allowances_come_from_the_file_or_the_environment() {
        // None by default: public addresses only.
        let policy = Config::default().webhook_addresses().unwrap_or_default();
        assert!(policy.allowed_networks().is_empty());
        assert!(policy.check([127, 0, 0, 1].into()).is_err());

        let c: Config =
            toml::from_str("[webhooks]\nallow_networks = [\"10.20.0.0/16\", \"fd00:1::/64\"]\n").unwrap_or_default();
        let policy = c.webhook_addresses().unwrap_or_default();
        assert_eq!(policy.allowed_networks().len(), 2);
        assert!(policy.check([10, 20, 3, 4].into()).is_ok());
        assert!(policy.check([10, 21, 3, 4].into()).is_err());

        let mut c = Config::default();
        let env = |k: &str| (k == "BALUARTE_WEBHOOK_ALLOW_NETWORKS").then(|| "127.0.0.1, 10.0.0.0/8".to_string());
        assert!(c.apply_env(env).is_ok());
        assert_eq!(c.webhooks.allow_networks, ["127.0.0.1", "10.0.0.0/8"]);
        assert!(c
            .webhook_addresses()
            .is_ok_and(|p| p.check([127, 0, 0, 1].into()).is_ok()));

        // A malformed network is named, with the setting it came from.
        let c: Config = toml::from_str("[webhooks]\nallow_networks = [\"intranet\"]\n").unwrap_or_default();
        let err = c
            .webhook_addresses()
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("allow_networks") && err.contains("intranet"), "{err}");
        let r: Result<Config, _> = toml::from_str("[webhooks]\nallow = [\"10.0.0.0/8\"]\n");
        assert!(r.is_err(), "unknown keys in [webhooks] are refused");
    }

    #[test]
    fn audit_witnesses_are_checked_and_their_urls_stay_out_of_debug_output() {
        let c: Config = toml::from_str(
            "[audit_witness]\nsyslog = \"tcp://logs.example.gob.mx:6514\"\nwebhook_url = \"https://witness.example/hook?token=s3cr3t\"\n",
        )
        .unwrap_or_default();
        let w = c.witness().map_err(|e| e.to_string());
        assert_eq!(
            w.as_ref().map(|w| w.syslog.as_ref().map(ToString::to_string)),
            Ok(Some("tcp://logs.example.gob.mx:6514".to_string()))
        );
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cr3t") && shown.contains("witness.example"),
            "{shown}"
        );

        let mut c = Config::default();
        let env = |k: &str| (k == "BALUARTE_AUDIT_WITNESS_SYSLOG").then(|| "logs.example:514".to_string());
        assert!(c.apply_env(env).is_ok());
        let err = c.witness().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("BALUARTE_AUDIT_WITNESS_SYSLOG"), "{err}");
        let env = |k: &str| (k == "BALUARTE_AUDIT_WITNESS_WEBHOOK_URL").then(|| "ftp://x".to_string());
        let mut c = Config::default();
        assert!(c.apply_env(env).is_ok());
        let err = c.witness().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("audit_witness.webhook_url"), "{err}");
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let r: Result<Config, _> = toml::from_str("listen = \"127.0.0.1:1\"\nlisten_port = 3");
        assert!(r.is_err());
    }
}

//! Witnesses: each signed checkpoint also goes outside the platform, to a syslog server (an RFC 5424
//! line over UDP or TCP) and/or a webhook (a JSON POST), as Certificate Transparency logs publish their
//! signed tree heads. Whoever runs the witness holds a copy of every tip the server signed, which
//! neither the database's administrator nor someone with the server's files can take back.
//!
//! The witness reads the checkpoint file ([`super::CHECKPOINT_FILE`]) and sends each destination the
//! lines it has not yet acknowledged, oldest first; what each has received is kept in
//! [`STATE_FILE`] beside it. A destination that fails is logged and tried again at the next round, from
//! where it stopped: it never holds up a write or a checkpoint, which only append to the file. After a
//! long outage only the newest [`MAX_PER_ROUND`] are sent: each checkpoint pins the whole chain before
//! it, so the newest ones say what the older would have.

use super::SignedCheckpoint;
use crate::crypto::sha256_hex;
use crate::error::{CoreError, Result};
use crate::time::rfc3339;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// What each destination has acknowledged, in the data directory.
pub const STATE_FILE: &str = "audit-witness.json";
/// The most checkpoints a destination is sent in one round.
pub const MAX_PER_ROUND: usize = 100;
/// Time limit of one send (connecting and writing, or the whole HTTP request).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// RFC 5424 PRI: facility 13 (log audit) × 8 + severity 5 (notice).
const PRI: u8 = 13 * 8 + 5;
/// RFC 5424 MSGID of a checkpoint line.
pub const MSGID: &str = "audit-checkpoint";

/// How syslog lines travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per line.
    Udp,
    /// Octet-counted frames (RFC 6587 §3.4.1): `LEN SP LINE`.
    Tcp,
}

/// A syslog server: `udp://host:port` or `tcp://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    pub transport: Transport,
    /// `host:port`.
    pub address: String,
}

impl std::str::FromStr for SyslogTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (transport, rest) = if let Some(rest) = s.strip_prefix("udp://") {
            (Transport::Udp, rest)
        } else if let Some(rest) = s.strip_prefix("tcp://") {
            (Transport::Tcp, rest)
        } else {
            return Err(format!("expected udp://host:port or tcp://host:port, got {s:?}"));
        };
        let port = rest.rsplit_once(':').map(|(host, port)| (host, port.parse::<u16>()));
        match port {
            Some((host, Ok(port))) if !host.is_empty() && port != 0 && !rest.contains('/') => Ok(SyslogTarget {
                transport,
                address: rest.to_string(),
            }),
            _ => Err(format!("expected udp://host:port or tcp://host:port, got {s:?}")),
        }
    }
}

impl std::fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        write!(f, "{scheme}://{}", self.address)
    }
}

/// Where checkpoints go. `Debug` shows the webhook's host only: its path may hold a token.
#[derive(Clone, Default)]
pub struct WitnessConfig {
    pub syslog: Option<SyslogTarget>,
    /// An `http(s)://` URL that receives each checkpoint's line as a JSON POST.
    pub webhook_url: Option<String>,
    /// The HOSTNAME field of syslog lines; "-" (none) when empty.
    pub hostname: String,
}

impl std::fmt::Debug for WitnessConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessConfig")
            .field("syslog", &self.syslog.as_ref().map(ToString::to_string))
            .field("webhook_host", &self.webhook_url.as_deref().map(host_of))
            .field("hostname", &self.hostname)
            .finish()
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// The RFC 5424 line a syslog witness receives for a checkpoint: its time is the checkpoint's, its
/// message the checkpoint file's line.
pub fn syslog_line(cp: &SignedCheckpoint, hostname: &str) -> String {
    let hostname = if hostname.is_empty() { "-" } else { hostname };
    format!(
        "<{PRI}>1 {} {hostname} baluarte - {MSGID} - {}",
        rfc3339(cp.at),
        cp.line()
    )
}

/// One destination.
#[derive(Debug, Clone)]
enum Destination {
    Syslog(SyslogTarget),
    Webhook(String),
}

impl Destination {
    /// Its name in the state file (a digest, so that a URL's token is not written there).
    fn key(&self) -> String {
        match self {
            Destination::Syslog(t) => format!("syslog:{}", &sha256_hex(t.to_string().as_bytes())[..16]),
            Destination::Webhook(u) => format!("webhook:{}", &sha256_hex(u.as_bytes())[..16]),
        }
    }
    /// What logs may say of it.
    fn shown(&self) -> String {
        match self {
            Destination::Syslog(t) => t.to_string(),
            Destination::Webhook(u) => format!("webhook at {}", host_of(u)),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Destination key → the newest checkpoint it acknowledged.
    sent: BTreeMap<String, i64>,
    /// The file's length when every destination had everything in it (not saved): a round finds
    /// nothing to do without reading the file while it stays so.
    #[serde(skip)]
    quiet_at: Option<u64>,
}

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WitnessReport {
    /// Checkpoints sent and acknowledged (over every destination).
    pub sent: usize,
    /// Destinations that failed this round (to be tried again).
    pub failed: usize,
}

/// The witness of one server: its destinations, its checkpoint file and what each has received.
#[derive(Debug)]
pub struct Witness {
    destinations: Vec<Destination>,
    hostname: String,
    file: PathBuf,
    state_file: PathBuf,
    http: baluarte_notify::webhook::Client,
    state: tokio::sync::Mutex<State>,
}

impl Witness {
    /// The witness for the checkpoint file in `data_dir`, or None when no destination is configured.
    pub fn new(config: &WitnessConfig, data_dir: &Path) -> Result<Option<Witness>> {
        let mut destinations = Vec::new();
        if let Some(t) = &config.syslog {
            destinations.push(Destination::Syslog(t.clone()));
        }
        if let Some(u) = &config.webhook_url {
            destinations.push(Destination::Webhook(u.clone()));
        }
        if destinations.is_empty() {
            return Ok(None);
        }
        let state_file = data_dir.join(STATE_FILE);
        let state = match std::fs::read_to_string(&state_file) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(path = %state_file.display(), error = %e, "unreadable witness state: sending again");
                State::default()
            }),
            Err(_) => State::default(),
        };
        // The witness is the operator's own choice, often on its private network: any address.
        let anywhere = baluarte_notify::AddressPolicy::allowing(["0.0.0.0/0", "::/0"])
            .map_err(|e| CoreError::internal_from("witness address policy", e))?;
        let http = baluarte_notify::webhook::client_with_timeout(anywhere, SEND_TIMEOUT)
            .map_err(|e| CoreError::internal_from("witness HTTP client", e))?;
        Ok(Some(Witness {
            destinations,
            hostname: config.hostname.clone(),
            file: data_dir.join(super::CHECKPOINT_FILE),
            state_file,
            http,
            state: tokio::sync::Mutex::new(state),
        }))
    }

    /// Send every destination the checkpoints it has not acknowledged yet. Failures are logged, and
    /// the destination is tried again, from there, at the next round.
    pub async fn deliver_pending(&self) -> WitnessReport {
        let mut state = self.state.lock().await;
        let mut report = WitnessReport::default();
        let len = std::fs::metadata(&self.file).map(|m| m.len()).ok();
        if len.is_some() && len == state.quiet_at {
            return report;
        }
        let lines = match self.read_lines() {
            Ok(lines) => lines,
            Err(e) => {
                tracing::warn!(error = %e.chain(), "audit witness: cannot read the checkpoint file");
                report.failed = self.destinations.len();
                return report;
            }
        };
        for d in &self.destinations {
            let key = d.key();
            let acknowledged = state.sent.get(&key).copied().unwrap_or(0);
            let pending: Vec<&SignedCheckpoint> = lines.iter().filter(|cp| cp.seq > acknowledged).collect();
            let skip = pending.len().saturating_sub(MAX_PER_ROUND);
            if skip > 0 {
                tracing::info!(destination = %d.shown(), skipped = skip, "audit witness: sending only the newest checkpoints");
            }
            for cp in &pending[skip..] {
                match self.send(d, cp).await {
                    Ok(()) => {
                        state.sent.insert(key.clone(), cp.seq);
                        report.sent += 1;
                        if let Err(e) = self.save(&state) {
                            tracing::warn!(error = %e.chain(), "audit witness: cannot save what was sent");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(destination = %d.shown(), seq = cp.seq, error = %e, "audit witness unreachable; retrying later");
                        report.failed += 1;
                        break;
                    }
                }
            }
        }
        state.quiet_at = if report.failed == 0 { len } else { None };
        report
    }

    /// The file's checkpoints in order of their entries (a line that cannot be read is left out: the
    /// witness forwards, verification judges).
    fn read_lines(&self) -> Result<Vec<SignedCheckpoint>> {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CoreError::internal_from(self.file.display().to_string(), e)),
        };
        let mut lines: Vec<SignedCheckpoint> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        lines.sort_by_key(|cp| cp.seq);
        lines.dedup_by_key(|cp| cp.seq);
        Ok(lines)
    }

    fn save(&self, state: &State) -> Result<()> {
        let text = serde_json::to_string(state).map_err(|e| CoreError::internal_from("witness state", e))?;
        let tmp = self.state_file.with_extension("json.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.state_file))
            .map_err(|e| CoreError::internal_from(self.state_file.display().to_string(), e))
    }

    async fn send(&self, d: &Destination, cp: &SignedCheckpoint) -> Result<(), String> {
        match d {
            Destination::Syslog(t) => {
                let line = syslog_line(cp, &self.hostname);
                tokio::time::timeout(SEND_TIMEOUT, send_syslog(t, &line))
                    .await
                    .map_err(|_| format!("no answer within {SEND_TIMEOUT:?}"))?
                    .map_err(|e| e.to_string())
            }
            Destination::Webhook(url) => {
                baluarte_notify::webhook::post_json(&self.http, url, "audit.checkpoint", cp.line().into_bytes())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

async fn send_syslog(target: &SyslogTarget, line: &str) -> std::io::Result<()> {
    let addr = tokio::net::lookup_host(&target.address)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
    match target.transport {
        Transport::Udp => {
            let local = if addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" };
            let socket = tokio::net::UdpSocket::bind(local).await?;
            socket.send_to(line.as_bytes(), addr).await?;
        }
        Transport::Tcp => {
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream.write_all(format!("{} {line}", line.len()).as_bytes()).await?;
            stream.flush().await?;
            stream.shutdown().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_targets_are_udp_or_tcp_with_a_port() {
        let t: SyslogTarget = "udp://logs.example.gob.mx:514"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.transport, t.address.as_str()),
            (Transport::Udp, "logs.example.gob.mx:514")
        );
        assert_eq!(t.to_string(), "udp://logs.example.gob.mx:514");
        let t: Result<SyslogTarget, _> = "tcp://[2001:db8::1]:6514".parse();
        assert_eq!(t.map(|t| t.transport), Ok(Transport::Tcp));
        for bad in [
            "logs.example:514",
            "udp://logs.example",
            "udp://:514",
            "http://x:80",
            "tcp://x:0",
            "udp://x:514/path",
        ] {
            assert!(bad.parse::<SyslogTarget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_syslog_line_is_rfc_5424_with_the_checkpoint_as_its_message() {
        let cp = SignedCheckpoint {
            seq: 7,
            hash: "ab".into(),
            at: 1_813_078_800_000_001,
            public_key: "pk".into(),
            signature: "sig".into(),
        };
        assert_eq!(
            syslog_line(&cp, ""),
            format!(
                "<109>1 2027-06-15T17:00:00.000001Z - baluarte - audit-checkpoint - {}",
                cp.line()
            )
        );
        assert!(syslog_line(&cp, "baluarte.example").contains(" baluarte.example baluarte - "));
        assert_eq!(
            cp.line(),
            r#"{"seq":7,"hash":"ab","at":1813078800000001,"public_key":"pk","signature":"sig"}"#
        );
    }

    #[test]
    fn the_webhook_url_stays_out_of_debug_output() {
        let c = WitnessConfig {
            webhook_url: Some("https://witness.example/hook?token=s3cret".into()),
            ..WitnessConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("witness.example"),
            "{shown}"
        );
    }
}

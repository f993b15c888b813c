//! E-mail over SMTP.

use std::fmt;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::NotifyError;

/// Largest accepted body, in bytes of UTF-8: notifications are short, and a runaway template should fail loudly
/// rather than fill mailboxes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Most recipients accepted in one message; larger audiences are split by the caller.
pub const MAX_RECIPIENTS: usize = 100;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text; only for a relay on the same host or a trusted network. Refused together with a password.
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); fails if the server does not offer it.
    #[default]
    #[serde(alias = "start_tls")]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// Where and how to send e-mail, as read from the configuration file.
///
/// `timeout` is written in the file as whole seconds (default 30) and bounds each SMTP command, connecting included.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Sender, either `addr@example.org` or `Name <addr@example.org>`.
    pub from: String,
    #[serde(default = "default_timeout", deserialize_with = "deserialize_secs")]
    pub timeout: Duration,
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

fn deserialize_secs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_secs)
}

// Hand-written so that the password never reaches a log line through `{:?}`.
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A plain-text message. Every recipient is listed in `To:` and sees the others: send one `Email` per organisation
/// when they must not know about each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// An SMTP sender, built once from the configuration and shared by all deliveries.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the configuration and prepares the transport; no connection is made until [`Mailer::send`].
    pub fn new(cfg: &SmtpConfig) -> Result<Self, NotifyError> {
        validate_host(cfg)?;
        let from = parse_from(&cfg.from)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .tls(tls_for(cfg)?)
            .timeout(Some(cfg.timeout));
        if let Some(credentials) = credentials(cfg)? {
            builder = builder.credentials(credentials);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            host: cfg.host.clone(),
            port: cfg.port,
        })
    }

    /// Sends one message; the message is checked (recipients, header injection, size) before any connection.
    pub async fn send(&self, email: &Email) -> Result<(), NotifyError> {
        let message = self.build(email)?;
        let message_id = message.headers().get_raw("Message-ID").unwrap_or_default().to_owned();
        self.transport
            .send(message)
            .await
            .map_err(|err| self.smtp_error(&err))?;
        tracing::info!(host = %self.host, port = self.port, recipients = email.to.len(), %message_id, "e-mail sent");
        Ok(())
    }

    fn build(&self, email: &Email) -> Result<Message, NotifyError> {
        check_email(email)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(email.subject.as_str())
            .message_id(Some(self.message_id()))
            // RFC 3834: tells vacation responders and ticket systems not to answer a machine.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        builder = add_recipients(builder, &email.to)?;
        builder
            .singlepart(SinglePart::plain(email.text.clone()))
            .map_err(|err| NotifyError::Build(err.to_string()))
    }

    /// A globally unique id under the sender's domain, rather than lettre's default of the machine's host name,
    /// which inside a container is a meaningless hash.
    fn message_id(&self) -> String {
        format!("<{}@{}>", uuid::Uuid::new_v4().simple(), self.from.email.domain())
    }

    fn smtp_error(&self, err: &lettre::transport::smtp::Error) -> NotifyError {
        NotifyError::Smtp {
            host: self.host.clone(),
            port: self.port,
            reason: err.to_string(),
            permanent: err.is_permanent(),
        }
    }
}

fn validate_host(cfg: &SmtpConfig) -> Result<(), NotifyError> {
    let host = cfg.host.as_str();
    if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
        return Err(NotifyError::Config(format!(
            "SMTP host {host:?} is not a host name or address"
        )));
    }
    if cfg.port == 0 {
        return Err(NotifyError::Config(format!("SMTP port for {host} must not be 0")));
    }
    if cfg.timeout.is_zero() {
        return Err(NotifyError::Config(format!("SMTP timeout for {host} must be positive")));
    }
    Ok(())
}

fn parse_from(from: &str) -> Result<Mailbox, NotifyError> {
    if has_line_break(from) {
        return Err(NotifyError::Config("the from address contains a line break".into()));
    }
    from.parse::<Mailbox>()
        .map_err(|err| NotifyError::Config(format!("from address {from:?} is not a valid mailbox: {err}")))
}

fn tls_for(cfg: &SmtpConfig) -> Result<Tls, NotifyError> {
    let parameters = || {
        TlsParameters::new(cfg.host.clone())
            .map_err(|err| NotifyError::Config(format!("TLS setup for {}:{} failed: {err}", cfg.host, cfg.port)))
    };
    Ok(match cfg.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(parameters()?),
        SmtpSecurity::Tls => Tls::Wrapper(parameters()?),
    })
}

fn credentials(cfg: &SmtpConfig) -> Result<Option<Credentials>, NotifyError> {
    match (&cfg.username, &cfg.password) {
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => Err(NotifyError::Config(
            "SMTP username and password must be given together".into(),
        )),
        // A password sent over a plain connection can be read by anyone on the path.
        (Some(_), Some(_)) if cfg.security == SmtpSecurity::None => Err(NotifyError::Config(format!(
            "refusing to send the SMTP password to {}:{} without TLS; set security to starttls or tls",
            cfg.host, cfg.port
        ))),
        (Some(user), Some(password)) => Ok(Some(Credentials::new(user.clone(), password.clone()))),
    }
}

fn check_email(email: &Email) -> Result<(), NotifyError> {
    match email.to.len() {
        0 => return Err(NotifyError::NoRecipients),
        count if count > MAX_RECIPIENTS => {
            return Err(NotifyError::TooManyRecipients {
                count,
                max: MAX_RECIPIENTS,
            })
        }
        _ => {}
    }
    if has_line_break(&email.subject) {
        return Err(NotifyError::HeaderInjection { field: "subject" });
    }
    if email.to.iter().any(|to| has_line_break(to)) {
        return Err(NotifyError::HeaderInjection {
            field: "recipient address",
        });
    }
    if email.text.len() > MAX_BODY_BYTES {
        return Err(NotifyError::BodyTooLarge {
            size: email.text.len(),
            max: MAX_BODY_BYTES,
        });
    }
    Ok(())
}

fn add_recipients(mut builder: MessageBuilder, to: &[String]) -> Result<MessageBuilder, NotifyError> {
    for address in to {
        let mailbox = address.parse::<Mailbox>().map_err(|err| NotifyError::InvalidAddress {
            field: "to",
            address: address.clone(),
            reason: err.to_string(),
        })?;
        builder = builder.to(mailbox);
    }
    Ok(builder)
}

// lettre encodes headers itself, but a raw CR or LF reaching it is a sign of hostile input: refuse it outright
// instead of relying on the encoder to neutralise it.
fn has_line_break(text: &str) -> bool {
    text.contains(['\r', '\n'])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config() -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 2525,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Baluarte <avisos@csirt.example.mx>".into(),
            timeout: Duration::from_secs(5),
        }
    }

    fn email() -> Email {
        Email {
            to: vec!["a@example.mx".into()],
            subject: "Aviso".into(),
            text: "Hola".into(),
        }
    }

    fn formatted(email: &Email) -> String {
        let mailer = Mailer::new(&config()).unwrap();
        String::from_utf8(mailer.build(email).unwrap().formatted()).unwrap()
    }

    #[test]
    fn message_has_auto_submitted_message_id_and_plain_utf8() {
        let text = formatted(&email());
        assert!(text.contains("Auto-Submitted: auto-generated\r\n"), "{text}");
        assert!(text.contains("@csirt.example.mx>\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"), "{text}");
        assert!(text.contains("MIME-Version: 1.0"), "{text}");
    }

    #[test]
    fn config_is_validated() {
        let bad = |f: fn(&mut SmtpConfig)| {
            let mut cfg = config();
            f(&mut cfg);
            Mailer::new(&cfg).unwrap_err()
        };
        assert!(matches!(
            bad(|c| c.from = "not an address".into()),
            NotifyError::Config(_)
        ));
        assert!(matches!(
            bad(|c| c.from = "a@b.mx\r\nBcc: x@y.mx".into()),
            NotifyError::Config(_)
        ));
        assert!(matches!(bad(|c| c.host = String::new()), NotifyError::Config(_)));
        assert!(matches!(
            bad(|c| c.host = "smtp .example".into()),
            NotifyError::Config(_)
        ));
        assert!(matches!(bad(|c| c.port = 0), NotifyError::Config(_)));
        assert!(matches!(bad(|c| c.username = Some("u".into())), NotifyError::Config(_)));
        let clear_text = bad(|c| {
            c.username = Some("u".into());
            c.password = Some("p".into());
        });
        assert!(clear_text.to_string().contains("without TLS"), "{clear_text}");
    }

    #[test]
    fn limits_are_enforced() {
        let mailer = Mailer::new(&config()).unwrap();
        let mut many = email();
        many.to = (0..=MAX_RECIPIENTS).map(|i| format!("r{i}@example.mx")).collect();
        assert!(matches!(
            mailer.build(&many),
            Err(NotifyError::TooManyRecipients { count: 101, max: 100 })
        ));
        let mut none = email();
        none.to.clear();
        assert!(matches!(mailer.build(&none), Err(NotifyError::NoRecipients)));
        let mut big = email();
        big.text = "á".repeat(MAX_BODY_BYTES / 2 + 1);
        assert!(matches!(mailer.build(&big), Err(NotifyError::BodyTooLarge { .. })));
        let mut invalid = email();
        invalid.to = vec!["nadie".into()];
        let err = mailer.build(&invalid).unwrap_err();
        assert!(err.to_string().contains("\"nadie\""), "{err}");
    }

    #[test]
    fn config_deserializes_with_defaults() {
        let json = r#"{"host":"smtp.example.mx","port":587,"from":"avisos@example.mx","username":"u","password":"p"}"#;
        let cfg: SmtpConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.security, SmtpSecurity::StartTls);
        assert_eq!(cfg.timeout, DEFAULT_TIMEOUT);
        let json = r#"{"host":"h","port":465,"from":"a@b.mx","security":"tls","timeout":7}"#;
        let cfg: SmtpConfig = serde_json::from_str(json).unwrap();
        assert_eq!((cfg.security, cfg.timeout), (SmtpSecurity::Tls, Duration::from_secs(7)));
        let typo = r#"{"host":"h","port":25,"from":"a@b.mx","pasword":"p"}"#;
        assert!(serde_json::from_str::<SmtpConfig>(typo).is_err());
    }
}

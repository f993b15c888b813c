//! The error type of every delivery.

/// Why a notification was not delivered.
///
/// Messages name the SMTP host and port or the webhook host, never a password, a webhook secret or a full webhook
/// URL (its path or query often carries a token).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    #[error("invalid SMTP configuration: {0}")]
    Config(String),
    #[error("refused e-mail: the {field} contains a line break (header injection)")]
    HeaderInjection { field: &'static str },
    #[error("invalid e-mail address {address:?} in {field}: {reason}")]
    InvalidAddress {
        field: &'static str,
        address: String,
        reason: String,
    },
    #[error("e-mail has no recipients")]
    NoRecipients,
    #[error("e-mail has {count} recipients; at most {max} are allowed per message")]
    TooManyRecipients { count: usize, max: usize },
    #[error("e-mail body is {size} bytes; at most {max} are allowed")]
    BodyTooLarge { size: usize, max: usize },
    #[error("could not build e-mail: {0}")]
    Build(String),
    #[error("SMTP delivery via {host}:{port} failed: {reason}")]
    Smtp {
        host: String,
        port: u16,
        reason: String,
        permanent: bool,
    },
    #[error("invalid webhook delivery: {0}")]
    InvalidDelivery(String),
    #[error("webhook {host} answered HTTP {status}{}", redirect_note(*.status))]
    WebhookStatus { host: String, status: u16 },
    /// The webhook's host is, or resolves to, an address the webhook address policy refuses (loopback,
    /// private, link-local, …): the same every time, so never retried.
    #[error("webhook {host} is refused: {address} is a {range} address, and webhooks go only to public addresses unless [webhooks] allow_networks lists its network")]
    InternalAddress {
        host: String,
        address: std::net::IpAddr,
        range: &'static str,
    },
    #[error("webhook request to {host} failed: {reason}")]
    WebhookRequest {
        host: String,
        reason: String,
        timed_out: bool,
    },
    #[error("could not build the webhook HTTP client: {0}")]
    HttpClient(String),
}

impl NotifyError {
    /// Whether trying the same delivery again later may succeed (network trouble, a busy or failing server), as
    /// opposed to a message or configuration that will be refused every time.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Smtp { permanent, .. } => !permanent,
            Self::WebhookStatus { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            Self::WebhookRequest { .. } => true,
            _ => false,
        }
    }
}

fn redirect_note(status: u16) -> &'static str {
    if (300..400).contains(&status) {
        " (a redirect; redirects are not followed)"
    } else {
        ""
    }
}

/// Renders an error with its chain of causes, as some libraries (reqwest) leave the useful part in the sources.
pub(crate) fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Skip a cause that the message above already quotes, so it does not read twice.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

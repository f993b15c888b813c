//! HMAC-signed webhooks.
//!
//! Each POST carries [`SIGNATURE_HEADER`]: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
//! scheme Stripe made familiar. Signing the timestamp with the body lets a receiver reject a captured request that
//! is replayed later, by refusing timestamps outside a few minutes of its own clock (see [`verify`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use sha2::Sha256;

use crate::address::{AddressPolicy, Refused};
use crate::error::{with_causes, NotifyError};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Baluarte-Signature";
/// Header naming the event type, e.g. `incident.created`.
pub const EVENT_HEADER: &str = "X-Baluarte-Event";
/// Header carrying the delivery id, the same on every retry so that receivers can drop duplicates.
pub const DELIVERY_HEADER: &str = "X-Baluarte-Delivery";
/// Time limit of a whole request made by [`client`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

type HmacSha256 = Hmac<Sha256>;

/// Why a signature header was refused by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("malformed signature header: {0}")]
    Malformed(&'static str),
    #[error("signature timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})")]
    Stale {
        timestamp: i64,
        now: i64,
        tolerance_secs: i64,
    },
    #[error("signature does not match the body")]
    BadSignature,
}

/// The signature header value for `body` sent at `unix_secs`.
pub fn sign(secret: &[u8], unix_secs: i64, body: &[u8]) -> String {
    let signature = mac(secret, unix_secs, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={unix_secs},v1={signature}")
}

/// Checks a signature header as a receiver does: the HMAC must match (compared in constant time) and the timestamp
/// must be within `tolerance_secs` of `now_secs`, in either direction. Several `v1=` entries are accepted, any one
/// matching, so that a secret can be rotated; unknown entries are ignored for future schemes.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let (timestamp, signatures) = parse_header(header)?;
    let matches = signatures
        .iter()
        .any(|signature| mac(secret, timestamp, body).is_some_and(|mac| mac.verify_slice(signature).is_ok()));
    if !matches {
        return Err(SignatureError::BadSignature);
    }
    // Checked after the signature so that "stale" is only ever said of a genuine message.
    if timestamp.abs_diff(now_secs) > u64::try_from(tolerance_secs).unwrap_or(0) {
        return Err(SignatureError::Stale {
            timestamp,
            now: now_secs,
            tolerance_secs,
        });
    }
    Ok(())
}

// HMAC takes keys of any length, so this is `None` only in theory; callers then fail closed (empty or
// non-matching signature) instead of panicking.
fn mac(secret: &[u8], unix_secs: i64, body: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

fn parse_header(header: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed("item without '='"))?;
        match key {
            "t" if timestamp.is_some() => return Err(SignatureError::Malformed("more than one timestamp")),
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed("bad timestamp"))?,
                )
            }
            "v1" => signatures.push(parse_signature(value)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no timestamp"))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("no v1 signature"));
    }
    Ok((timestamp, signatures))
}

fn parse_signature(value: &str) -> Result<Vec<u8>, SignatureError> {
    match hex::decode(value) {
        Ok(bytes) if bytes.len() == 32 => Ok(bytes),
        _ => Err(SignatureError::Malformed("v1 is not 64 hex digits")),
    }
}

/// One webhook delivery.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    pub url: &'a str,
    pub secret: &'a [u8],
    /// Event type, e.g. `incident.created`.
    pub event: &'a str,
    /// Stable across retries of the same notification.
    pub delivery_id: &'a str,
    /// The JSON document to send.
    pub body: &'a [u8],
    /// When it is signed, in Unix seconds: the `t=` of the signature, from the caller's clock.
    pub signed_at: i64,
}

// Hand-written: the secret must not reach logs, and the URL's path may hold a token, so only its host is shown.
impl std::fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field(
                "host",
                &reqwest::Url::parse(self.url)
                    .map(|url| host_of(&url))
                    .unwrap_or_default(),
            )
            .field("event", &self.event)
            .field("delivery_id", &self.delivery_id)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The HTTP client for [`deliver`]: it connects only to addresses the [`AddressPolicy`] allows, follows no
/// redirect and uses no proxy.
///
/// A name is resolved once, by the client's own resolver, which checks every address it got and hands the
/// connector only those the policy allows: there is no second lookup that DNS rebinding could answer
/// differently. An IP literal in the URL never reaches a resolver, so [`deliver`] checks it itself. Proxies
/// from the environment (`HTTP_PROXY`, …) are ignored, since through a proxy the platform could not know, let
/// alone check, the address the request goes to.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl Client {
    /// The address policy this client applies.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }
}

/// POSTs the body, signed; `Ok` carries the 2xx status. Any other status is an error naming it; redirects are not
/// followed. An address the client's policy refuses is [`NotifyError::InternalAddress`], never retried.
pub async fn deliver(client: &Client, d: &Delivery<'_>) -> Result<u16, NotifyError> {
    let url = parse_url(d.url)?;
    let host = host_of(&url);
    let event = header_value("event", d.event)?;
    let delivery_id = header_value("delivery id", d.delivery_id)?;
    if d.secret.is_empty() {
        return Err(NotifyError::InvalidDelivery(format!(
            "empty signing secret for webhook {host}"
        )));
    }
    if let Some(ip) = literal_ip(&url) {
        client
            .policy
            .check(ip)
            .map_err(|refused| internal_address(&host, refused))?;
    }
    let signature = header_value("signature", &sign(d.secret, d.signed_at, d.body))?;
    let request = client
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, event)
        .header(DELIVERY_HEADER, delivery_id)
        .header(SIGNATURE_HEADER, signature)
        .body(d.body.to_vec());
    let response = request.send().await.map_err(|err| request_error(&host, err))?;
    let status = response.status().as_u16();
    tracing::info!(%host, status, event = d.event, delivery_id = d.delivery_id, "webhook delivered");
    if response.status().is_success() {
        Ok(status)
    } else {
        Err(NotifyError::WebhookStatus { host, status })
    }
}

/// POSTs an unsigned JSON body to a destination the operator configured (an audit witness), with the
/// client's address policy; `Ok` carries the 2xx status. Redirects are not followed, as for webhooks.
pub async fn post_json(client: &Client, url: &str, event: &str, body: Vec<u8>) -> Result<u16, NotifyError> {
    let url = parse_url(url)?;
    let host = host_of(&url);
    if let Some(ip) = literal_ip(&url) {
        client
            .policy
            .check(ip)
            .map_err(|refused| internal_address(&host, refused))?;
    }
    let response = client
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, header_value("event", event)?)
        .body(body)
        .send()
        .await
        .map_err(|err| request_error(&host, err))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err(NotifyError::WebhookStatus { host, status })
    }
}

/// Whether a webhook URL's destination is refused by `policy`, as registration asks before storing it: an IP
/// literal is checked as it is, a name by the addresses it resolves to now (within [`LOOKUP_TIMEOUT`]).
///
/// A name that does not resolve, or not in time, is not refused here: it may be set up later, and every
/// delivery checks the addresses it connects to anyway. A URL that does not parse is the caller's to refuse.
pub async fn check_destination(policy: &AddressPolicy, url: &str) -> Result<(), Refused> {
    let Ok(url) = reqwest::Url::parse(url) else {
        return Ok(());
    };
    if let Some(ip) = literal_ip(&url) {
        return policy.check(ip);
    }
    let Some(name) = url.host_str() else {
        return Ok(());
    };
    let resolved = tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name, 0))).await;
    match resolved {
        Ok(Ok(addresses)) => policy.check_all(addresses.map(|a| a.ip())),
        Ok(Err(_)) | Err(_) => Ok(()),
    }
}

/// How long [`check_destination`] waits for a name to resolve.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client for [`deliver`] under `policy`, with a 10 s limit per request.
pub fn client(policy: AddressPolicy) -> Result<Client, NotifyError> {
    client_with_timeout(policy, DEFAULT_TIMEOUT)
}

/// [`client`] with another time limit for the whole request (connecting, sending, the answer's headers).
pub fn client_with_timeout(policy: AddressPolicy, timeout: Duration) -> Result<Client, NotifyError> {
    let policy = Arc::new(policy);
    let http = reqwest::Client::builder()
        .timeout(timeout)
        // A receiver could otherwise bounce the platform to an internal address (SSRF) that the configured URL
        // was checked not to be.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckingResolver {
            policy: Arc::clone(&policy),
        }))
        .user_agent(concat!("Baluarte-Webhook/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| NotifyError::HttpClient(with_causes(&err)))?;
    Ok(Client { http, policy })
}

/// Resolves a name and passes on only the addresses the policy allows (refusing the name when it allows none);
/// the connector then connects to exactly those.
struct CheckingResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for CheckingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let addresses: Addrs = Box::new(policy.usable(resolved)?.into_iter());
            Ok(addresses)
        })
    }
}

/// The address of a URL whose host is an IP literal (`http://10.0.0.1/`, `http://[::1]/`; the URL parser has
/// already read forms such as `http://2130706433/` as the address they stand for).
fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

fn internal_address(host: &str, refused: Refused) -> NotifyError {
    NotifyError::InternalAddress {
        host: host.to_owned(),
        address: refused.address,
        range: refused.range,
    }
}

fn parse_url(url: &str) -> Result<reqwest::Url, NotifyError> {
    // The parse error is quoted but not the URL, which may carry a token.
    let parsed = reqwest::Url::parse(url).map_err(|err| NotifyError::InvalidDelivery(format!("bad URL: {err}")))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Ok(parsed),
        scheme => Err(NotifyError::InvalidDelivery(format!(
            "URL scheme {scheme:?} is not http(s) with a host"
        ))),
    }
}

/// `host[:port]` only: user info, path and query can hold credentials.
fn host_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn header_value(what: &str, value: &str) -> Result<HeaderValue, NotifyError> {
    HeaderValue::from_str(value)
        .map_err(|_| NotifyError::InvalidDelivery(format!("{what} {value:?} is not a valid HTTP header value")))
}

fn request_error(host: &str, err: reqwest::Error) -> NotifyError {
    // The resolver's refusal comes back as a connection error; it is found among the causes.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return internal_address(host, *refused);
        }
        source = cause.source();
    }
    let timed_out = err.is_timeout();
    // `without_url` because reqwest's message quotes the full URL, token included.
    let reason = with_causes(&err.without_url());
    NotifyError::WebhookRequest {
        host: host.to_owned(),
        reason,
        timed_out,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore};

    const SECRET: &[u8] = b"whsec_prueba";
    const NOW: i64 = 1_750_000_000;

    #[test]
    fn round_trip_property() {
        let mut rng = rand::thread_rng();
        for _ in 0..300 {
            let mut secret = vec![0u8; rng.gen_range(1..100)];
            rng.fill_bytes(&mut secret);
            let mut body = vec![0u8; rng.gen_range(0..2000)];
            rng.fill_bytes(&mut body);
            let t = rng.gen_range(0..i64::from(u32::MAX));
            let skew = rng.gen_range(-300..=300);
            let header = sign(&secret, t, &body);
            assert_eq!(verify(&secret, &header, &body, t + skew, 300), Ok(()), "{header}");
            // Any single flipped byte of the body breaks it.
            if !body.is_empty() {
                let i = rng.gen_range(0..body.len());
                body[i] ^= 1 << rng.gen_range(0..8);
                assert_eq!(
                    verify(&secret, &header, &body, t, 300),
                    Err(SignatureError::BadSignature)
                );
            }
        }
    }

    #[test]
    fn header_format_is_stripe_style() {
        let header = sign(SECRET, NOW, b"{}");
        let (t, v1) = header.split_once(',').unwrap();
        assert_eq!(t, format!("t={NOW}"));
        let hex_digits = v1.strip_prefix("v1=").unwrap();
        assert_eq!(hex_digits.len(), 64);
        assert!(hex_digits
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn known_answer() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        //   print(hmac.new(b"whsec_prueba", b"1750000000.{}", hashlib.sha256).hexdigest())'
        assert_eq!(
            sign(SECRET, NOW, b"{}"),
            "t=1750000000,v1=addc6b3818c16dcfd631c3e280e933b9da6751974263c2708998bc64eacfdb20"
        );
    }

    #[test]
    fn tampered_body_wrong_secret_and_stale_are_distinct() {
        let body = br#"{"incidente":"INC-1"}"#;
        let header = sign(SECRET, NOW, body);
        assert_eq!(
            verify(SECRET, &header, br#"{"incidente":"INC-2"}"#, NOW, 300),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            verify(b"otro secreto", &header, body, NOW, 300),
            Err(SignatureError::BadSignature)
        );
        let stale = verify(SECRET, &header, body, NOW + 301, 300);
        assert_eq!(
            stale,
            Err(SignatureError::Stale {
                timestamp: NOW,
                now: NOW + 301,
                tolerance_secs: 300
            })
        );
        assert!(matches!(
            verify(SECRET, &header, body, NOW - 301, 300),
            Err(SignatureError::Stale { .. })
        ));
        assert_eq!(verify(SECRET, &header, body, NOW + 300, 300), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        let good = sign(SECRET, NOW, b"x");
        let v1 = good.split_once(',').unwrap().1;
        for header in [
            "",
            "garbage",
            &format!("t=abc,{v1}"),
            v1,
            &format!("t={NOW}"),
            &format!("t={NOW},v1=zz"),
            &format!("t={NOW},v1=abcd"),
            &format!("t={NOW},t={NOW},{v1}"),
        ] {
            assert!(
                matches!(
                    verify(SECRET, header, b"x", NOW, 300),
                    Err(SignatureError::Malformed(_))
                ),
                "{header:?}"
            );
        }
    }

    #[test]
    fn rotation_and_unknown_schemes_are_accepted() {
        let good = sign(SECRET, NOW, b"x");
        let v1 = good.split_once(',').unwrap().1;
        let header = format!("t={NOW}, v1={}, {v1}, v0=legacy", "0".repeat(64));
        assert_eq!(verify(SECRET, &header, b"x", NOW, 300), Ok(()));
    }

    #[test]
    fn debug_hides_secret_and_url_path() {
        let d = Delivery {
            url: "https://hooks.example.mx/token-secreto?k=v",
            secret: b"whsec_muy_secreto",
            event: "incident.created",
            delivery_id: "d-1",
            body: b"{}",
            signed_at: 1_795_000_000,
        };
        let debug = format!("{d:?}");
        assert!(debug.contains("hooks.example.mx"), "{debug}");
        assert!(
            !debug.contains("token-secreto") && !debug.contains("muy_secreto"),
            "{debug}"
        );
    }
}

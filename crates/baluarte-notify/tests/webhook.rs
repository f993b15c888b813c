#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Webhook delivery against a real HTTP/1.1 server on loopback: a small tokio listener that parses the request line,
//! headers and Content-Length body, records them, and answers as each test asks. Loopback is an internal
//! address, so the clients of these tests allow 127.0.0.1 explicitly, as an operator allows a private network;
//! without that allowance nothing is sent to it, whether the URL names the address or a name resolving to it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baluarte_notify::webhook::{self, Delivery, SIGNATURE_HEADER};
use baluarte_notify::{AddressPolicy, NotifyError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const SECRET: &[u8] = b"whsec_prueba_integracion";
const MAX_REQUEST: usize = 1 << 20;

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Answer {
    status_line: &'static str,
    extra_headers: String,
    /// Never answer: a server that hangs, for the client's timeout.
    stall: bool,
}

struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(answer: Answer) -> Self {
        Self::start_with(|_| answer).await
    }

    /// `answer` is told the server's address first, so that a redirect can point back at the server itself.
    async fn start_with(answer: impl FnOnce(SocketAddr) -> Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answer = answer(addr);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream, answer.clone(), Arc::clone(&recorded)));
            }
        });
        Self { addr, requests, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn handle(mut stream: TcpStream, answer: Answer, recorded: Arc<Mutex<Vec<Request>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    recorded.lock().unwrap().push(request);
    if answer.stall {
        std::future::pending::<()>().await;
    }
    let response = format!(
        "HTTP/1.1 {}\r\nContent-Length: 0\r\nConnection: close\r\n{}\r\n",
        answer.status_line, answer.extra_headers
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_REQUEST || read_more(stream, &mut buf).await == 0 {
            return None;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))?
        .1
        .parse()
        .ok()?;
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        if read_more(stream, &mut body).await == 0 {
            return None;
        }
    }
    body.truncate(length);
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> usize {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.unwrap_or(0);
    buf.extend_from_slice(&chunk[..n]);
    n
}

fn answer(status_line: &'static str) -> Answer {
    Answer {
        status_line,
        extra_headers: String::new(),
        stall: false,
    }
}

/// The allowance these tests need: the listener's address, 127.0.0.1.
fn loopback_allowed() -> AddressPolicy {
    AddressPolicy::allowing(["127.0.0.1/32"]).unwrap()
}

fn loopback_client() -> webhook::Client {
    webhook::client(loopback_allowed()).unwrap()
}

/// The signing time of every test delivery (2026-11-18), fixed: the test clock of this crate.
const SIGNED_AT: i64 = 1_795_500_000;

fn delivery<'a>(url: &'a str, body: &'a [u8]) -> Delivery<'a> {
    Delivery {
        url,
        secret: SECRET,
        event: "incident.created",
        delivery_id: "0190b7e4-7c1a-7d2e-9f00-000000000001",
        body,
        signed_at: SIGNED_AT,
    }
}

#[tokio::test]
async fn body_arrives_intact_and_signed() {
    let server = Server::start(answer("200 OK")).await;
    let url = server.url("/hooks/baluarte");
    let body = r#"{"incidente":"INC-2025-0042","título":"Campaña de phishing","severidad":"alta"}"#.as_bytes();
    let status = webhook::deliver(&loopback_client(), &delivery(&url, body))
        .await
        .unwrap();
    assert_eq!(status, 200);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/hooks/baluarte"));
    assert_eq!(r.body, body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-baluarte-event"), Some("incident.created"));
    assert_eq!(
        r.header("x-baluarte-delivery"),
        Some("0190b7e4-7c1a-7d2e-9f00-000000000001")
    );
    assert!(
        r.header("user-agent")
            .is_some_and(|ua| ua.starts_with("Baluarte-Webhook/")),
        "{r:?}"
    );
    let signature = r.header(SIGNATURE_HEADER).unwrap();
    assert_eq!(webhook::verify(SECRET, signature, &r.body, SIGNED_AT + 10, 300), Ok(()));
    assert!(webhook::verify(b"otro", signature, &r.body, SIGNED_AT + 10, 300).is_err());
}

#[tokio::test]
async fn other_2xx_is_ok() {
    let server = Server::start(answer("204 No Content")).await;
    let url = server.url("/");
    assert_eq!(
        webhook::deliver(&loopback_client(), &delivery(&url, b"{}"))
            .await
            .unwrap(),
        204
    );
}

#[tokio::test]
async fn server_error_names_status() {
    let server = Server::start(answer("500 Internal Server Error")).await;
    let url = server.url("/hook/tok-secreto");
    let err = webhook::deliver(&loopback_client(), &delivery(&url, b"{}"))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::WebhookStatus { status: 500, .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("500") && text.contains(&server.addr.to_string()),
        "{text}"
    );
    assert!(
        !text.contains("tok-secreto"),
        "the URL path leaked into the error: {text}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn redirect_is_not_followed() {
    // The Location points back at the same server, so a followed redirect would show up as a second request.
    let server = Server::start_with(|addr| Answer {
        extra_headers: format!("Location: http://{addr}/internal-target\r\n"),
        ..answer("302 Found")
    })
    .await;
    let url = server.url("/hook");
    let err = webhook::deliver(&loopback_client(), &delivery(&url, b"{}"))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::WebhookStatus { status: 302, .. }), "{err:?}");
    assert!(err.to_string().contains("302"), "{err}");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/hook"]);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = Server::start(Answer {
        stall: true,
        ..answer("200 OK")
    })
    .await;
    let url = server.url("/hook/tok-secreto");
    let client = webhook::client_with_timeout(loopback_allowed(), Duration::from_millis(300)).unwrap();
    // The server never answers: only the client's own timeout ends the request. The outer bound is
    // there so that a client without one fails this test instead of hanging it.
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        webhook::deliver(&client, &delivery(&url, b"{}")),
    )
    .await
    .expect("the client gives up by itself")
    .unwrap_err();
    assert!(
        matches!(err, NotifyError::WebhookRequest { timed_out: true, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&server.addr.to_string()) && !text.contains("tok-secreto"),
        "{text}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn invalid_deliveries_are_refused_before_sending() {
    let server = Server::start(answer("200 OK")).await;
    let url = server.url("/hook");
    let client = loopback_client();
    let cases = [
        Delivery {
            event: "incident.created\r\nX-Injected: 1",
            ..delivery(&url, b"{}")
        },
        Delivery {
            secret: b"",
            ..delivery(&url, b"{}")
        },
        Delivery {
            url: "file:///etc/passwd",
            ..delivery(&url, b"{}")
        },
        Delivery {
            url: "no es una URL",
            ..delivery(&url, b"{}")
        },
    ];
    for case in &cases {
        let err = webhook::deliver(&client, case).await.unwrap_err();
        assert!(matches!(err, NotifyError::InvalidDelivery(_)), "{err:?}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn internal_addresses_are_not_connected_to_without_an_allowance() {
    let server = Server::start(answer("200 OK")).await;
    let port = server.addr.port();
    let public_only = webhook::client(AddressPolicy::public_only()).unwrap();
    // The address itself, its IPv4-mapped IPv6 form, and a name that resolves to it (DNS is asked by the
    // client's own resolver, whose answer is checked before any connection is made).
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://localhost:{port}/hook"),
    ] {
        let err = webhook::deliver(&public_only, &delivery(&url, b"{}"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, NotifyError::InternalAddress { range: "loopback", .. }),
            "{url}: {err:?}"
        );
        assert!(!err.is_retryable(), "{url}: {err}");
        let text = err.to_string();
        assert!(text.contains("loopback") && text.contains("allow_networks"), "{text}");
    }
    // Another loopback address than the one allowed is refused too.
    let err = webhook::deliver(
        &loopback_client(),
        &delivery(&format!("http://127.0.0.2:{port}/"), b"{}"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, NotifyError::InternalAddress { .. }), "{err:?}");
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // With the allowance, the name is resolved and the request arrives.
    let status = webhook::deliver(
        &loopback_client(),
        &delivery(&format!("http://localhost:{port}/ok"), b"{}"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/ok"]);
}

#[tokio::test]
async fn registration_check_resolves_names_and_judges_literals() {
    let policy = AddressPolicy::public_only();
    for url in [
        "http://localhost:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:5432/",
        "http://2130706433/",
        "http://0x7f.1/",
    ] {
        let refused = webhook::check_destination(&policy, url).await.unwrap_err();
        assert!(matches!(refused.range, "loopback" | "link_local"), "{url}: {refused}");
    }
    assert!(
        webhook::check_destination(&loopback_allowed(), "http://localhost:6379/")
            .await
            .is_ok()
    );
    // A public literal passes, and so does a name that does not resolve (delivery checks it again).
    assert!(webhook::check_destination(&policy, "https://8.8.8.8/hook")
        .await
        .is_ok());
    assert!(
        webhook::check_destination(&policy, "https://hooks.nonexistent.invalid/")
            .await
            .is_ok()
    );
}

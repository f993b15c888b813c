#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The audit witnesses: each signed checkpoint reaches a syslog server over TCP (octet-counted RFC 5424)
//! and a webhook (a JSON POST) listening on loopback in this test; a destination that is down or
//! answers 5xx is tried again at the next round from where it stopped, nothing is sent twice, and a
//! restarted witness remembers what was delivered.

mod common;

use baluarte_core::audit::witness::{SyslogTarget, Transport, Witness, WitnessConfig, WitnessReport};
use baluarte_core::audit::CHECKPOINT_FILE;
use baluarte_core::time::MINUTE;
use common::*;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const WAIT: Duration = Duration::from_secs(10);

/// An HTTP/1.1 listener that answers each request with the next status of `statuses` (200 once they
/// run out) and hands over each request's body.
async fn webhook(statuses: &[u16]) -> (String, UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/witness", listener.local_addr().unwrap());
    let statuses = Arc::new(Mutex::new(statuses.iter().copied().collect::<VecDeque<u16>>()));
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break Some(String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string());
                }
            };
            let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(reply.as_bytes()).await;
            if let Some(body) = body {
                let _ = tx.send(body);
            }
        }
    });
    (url, rx)
}

/// A syslog server over TCP on `addr`: each connection's bytes, as received.
async fn syslog_tcp(addr: std::net::SocketAddr) -> UnboundedReceiver<String> {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut bytes = Vec::new();
            let _ = sock.read_to_end(&mut bytes).await;
            let _ = tx.send(String::from_utf8_lossy(&bytes).to_string());
        }
    });
    rx
}

async fn next(rx: &mut UnboundedReceiver<String>) -> String {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a delivery in time")
        .expect("the listener is running")
}

fn file_lines(store: &TestStore) -> Vec<String> {
    std::fs::read_to_string(store.data_dir.join(CHECKPOINT_FILE))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn witnesses_get_each_checkpoint_once_and_are_retried_when_down() {
    let Some(store) = TestStore::new(Backend::Sqlite, baluarte_test_support::Template::Migrated)
        .await
        .unwrap()
    else {
        return;
    };
    let svc = &store.svc;
    Fixture::new(svc).await.unwrap();
    let first = svc.audit().audit_checkpoint().await.unwrap().expect("a checkpoint");

    // A syslog port with nobody listening yet, and a webhook that fails once.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (url, mut posts) = webhook(&[503]).await;
    let config = WitnessConfig {
        syslog: Some(SyslogTarget {
            transport: Transport::Tcp,
            address: addr.to_string(),
        }),
        webhook_url: Some(url),
        hostname: "baluarte.example".into(),
    };
    let witness = Witness::new(&config, &store.data_dir)
        .unwrap()
        .expect("two destinations");
    assert_eq!(
        witness.deliver_pending().await,
        WitnessReport { sent: 0, failed: 2 },
        "both down: logged, not fatal"
    );
    assert_eq!(next(&mut posts).await, file_lines(&store)[0], "the webhook was tried");

    // Both up: each gets the checkpoint it missed, the checkpoint file's line.
    let mut syslog = syslog_tcp(addr).await;
    assert_eq!(witness.deliver_pending().await, WitnessReport { sent: 2, failed: 0 });
    let line = &file_lines(&store)[0];
    assert_eq!(&next(&mut posts).await, line);
    let frame = next(&mut syslog).await;
    let (len, message) = frame.split_once(' ').expect("octet counting: LEN SP MSG");
    assert_eq!(len.parse::<usize>().ok(), Some(message.len()), "{frame}");
    assert!(
        message.starts_with("<109>1 ") && message.contains(" baluarte.example baluarte - audit-checkpoint - "),
        "{message}"
    );
    assert!(message.ends_with(line.as_str()), "{message}");
    assert!(line.contains(&format!("\"seq\":{first}")), "{line}");

    // Nothing new: nothing sent. A new checkpoint: that one only.
    assert_eq!(witness.deliver_pending().await, WitnessReport::default());
    svc.clock().advance(MINUTE);
    svc.accounts()
        .login("admin@nacional.example", PASSWORD, "203.0.113.10")
        .await
        .unwrap();
    let second = svc
        .audit()
        .audit_checkpoint()
        .await
        .unwrap()
        .expect("a second checkpoint");
    assert_eq!(witness.deliver_pending().await, WitnessReport { sent: 2, failed: 0 });
    let newest = file_lines(&store)[1].clone();
    assert!(newest.contains(&format!("\"seq\":{second}")), "{newest}");
    assert_eq!(next(&mut posts).await, newest);
    assert!(next(&mut syslog).await.ends_with(newest.as_str()));

    // A restarted server's witness remembers what each destination has.
    drop(witness);
    let witness = Witness::new(&config, &store.data_dir)
        .unwrap()
        .expect("two destinations");
    assert_eq!(witness.deliver_pending().await, WitnessReport::default());
    assert!(
        posts.try_recv().is_err() && syslog.try_recv().is_err(),
        "nothing sent twice"
    );
}

#[tokio::test]
async fn no_destination_no_witness() {
    let dir = TempDir::new("witness").unwrap();
    assert!(Witness::new(&WitnessConfig::default(), dir.path()).unwrap().is_none());
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! E-mail delivery against a real SMTP server (aiosmtpd, test-support's `smtp_sink`) on loopback.

use std::time::Duration;

use baluarte_notify::{Email, Mailer, NotifyError, SmtpConfig, SmtpSecurity};
use baluarte_test_support::smtp_sink::{self, received};

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Baluarte CSIRT <avisos@csirt.example.mx>".into(),
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn delivers_utf8_message_to_two_recipients() {
    if !smtp_sink::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = smtp_sink::start(dir.path()).await;
    let mailer = Mailer::new(&config(sink.port)).unwrap();
    let subject = "Notificación: vulnerabilidad crítica en señalización — acción requerida";
    let text = "Estimado equipo:\n\nSe detectó explotación activa. Añadan la corrección en cuanto sea posible.\n\
                Línea larga: "
        .to_owned()
        + &"ñ".repeat(600)
        + "\n\nAtentamente,\nCSIRT Nacional\n";
    let email = Email {
        to: vec!["uno@org-a.example.mx".into(), "dos@org-b.example.mx".into()],
        subject: subject.into(),
        text,
    };
    mailer.send(&email).await.unwrap();

    // The sink writes the file before answering 250, so it is there once `send` returns.
    let messages = received(dir.path());
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["mail_from"], "avisos@csirt.example.mx");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["uno@org-a.example.mx", "dos@org-b.example.mx"])
    );
    assert_eq!(
        m["to"],
        serde_json::json!(["uno@org-a.example.mx", "dos@org-b.example.mx"])
    );
    assert_eq!(m["subject"], subject);
    assert_eq!(m["text"].as_str().unwrap().replace("\r\n", "\n"), email.text);
    assert_eq!(m["auto_submitted"], "auto-generated");
    assert_eq!(
        (m["content_type"].as_str(), m["charset"].as_str()),
        (Some("text/plain"), Some("utf-8"))
    );
    let message_id = m["message_id"].as_str().unwrap();
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@csirt.example.mx>"),
        "{message_id}"
    );
}

#[tokio::test]
async fn server_not_listening_names_host_and_port() {
    // A port that was free a moment ago and that nothing listens on: if another process took it since,
    // it still does not speak SMTP to us, and the error is still a connection error naming it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mailer = Mailer::new(&config(port)).unwrap();
    let email = Email {
        to: vec!["a@example.mx".into()],
        subject: "Prueba".into(),
        text: "Hola".into(),
    };
    let err = mailer.send(&email).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, NotifyError::Smtp { .. }), "{err:?}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(err.is_retryable(), "{text}");
}

#[tokio::test]
async fn header_injection_is_refused_before_connecting() {
    // A listener that records whether anyone connected; it never answers, so a connection would hang or time out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mailer = Mailer::new(&config(listener.local_addr().unwrap().port())).unwrap();
    let hostile = [
        Email {
            to: vec!["a@example.mx".into()],
            subject: "Hola\r\nBcc: intruso@example.com".into(),
            text: "x".into(),
        },
        Email {
            to: vec!["a@example.mx\nBcc: intruso@example.com".into()],
            subject: "Hola".into(),
            text: "x".into(),
        },
    ];
    for email in &hostile {
        let err = mailer.send(email).await.unwrap_err();
        assert!(matches!(err, NotifyError::HeaderInjection { .. }), "{err:?}");
        assert!(err.to_string().contains("header injection"), "{err}");
    }
    let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
    assert!(
        accepted.is_err(),
        "the mailer connected although the message was refused"
    );
}

#[test]
fn debug_of_config_hides_password() {
    let mut cfg = config(587);
    cfg.security = SmtpSecurity::StartTls;
    cfg.username = Some("avisos".into());
    cfg.password = Some("contraseña-súper-secreta".into());
    let debug = format!("{cfg:?}");
    assert!(!debug.contains("contraseña-súper-secreta"), "{debug}");
    assert!(debug.contains("redacted") && debug.contains("avisos"), "{debug}");
    let mailer_debug = format!("{:?}", Mailer::new(&cfg).unwrap());
    assert!(!mailer_debug.contains("contraseña-súper-secreta"), "{mailer_debug}");
}

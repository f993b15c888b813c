//! Realistic export inputs shared by the integration tests, and the stix2-validator run.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use baluarte_stix::{CampaignExport, Impact, IncidentExport, ObservableExport, Org, Tlp};
use jiff::Timestamp;

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn producer() -> Org {
    Org {
        id: "0b6f3a52-3c1e-4d7e-9b1a-5d6c7e8f9a01".into(),
        name: "CSIRT Nacional de México".into(),
        sectors: vec!["government-national".into()],
    }
}

pub fn reporter() -> Org {
    Org {
        id: "5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b".into(),
        name: "Secretaría de Energía".into(),
        // The last one is not in industry-sector-ov and must travel as a label.
        sectors: vec!["government-national".into(), "energy".into(), "sector-eléctrico".into()],
    }
}

fn obs(kind: &str, value: &str) -> ObservableExport {
    ObservableExport {
        kind: kind.into(),
        value: value.into(),
        first_seen: ts("2026-02-10T14:03:27.512Z"),
    }
}

/// One observable of every kind (two of some), a CVE, Spanish text with accents, quotes and a backslash.
/// Values are canonical (a canonical URL has no backslash; the pattern escaping of `\\` is tested apart).
pub fn observables() -> Vec<ObservableExport> {
    vec![
        obs("ipv4", "198.51.100.3"),
        obs("ipv4", "203.0.113.77"),
        obs("ipv6", "2001:db8::bad:1"),
        obs("cidr", "203.0.113.0/24"),
        obs("cidr", "2001:db8:1::/48"),
        obs("domain", "actualizacion-sat.example"),
        obs("domain", "xn--mxico-bsa.example"),
        obs("url", "https://actualizacion-sat.example/descarga?archivo=factura'2026'.zip&id=7"),
        obs("url", "http://198.51.100.3:8080/payload/st%C3%A9ganos.bin"),
        obs("email", "soporte.tecnico@actualizacion-sat.example"),
        obs("md5", "44d88612fea8a8f36de82e1278abb02f"),
        obs("sha1", "3395856ce81f2b7382dee72602f798b642f14140"),
        obs("sha256", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),
        obs(
            "sha512",
            "cc805d5fab1fd71a4ab352a9c533e65fb2d5b885518f4e565e68847223b8e6b85cb48f3afad842726d99239c9e36505c64b0dc9a061d9e507d833277ada336ab",
        ),
        obs("asn", "AS64496"),
        obs("cve", "CVE-2023-4966"),
    ]
}

pub fn incident() -> IncidentExport {
    IncidentExport {
        id: "9d3c7a10-2b4e-4f61-8c5d-7e8f9a0b1c2d".into(),
        reference: "BAL-2026-000123".into(),
        title: "Ransomware en servidores de nómina de la dirección de administración".into(),
        description: "Cifrado de archivos en 14 servidores; el atacante dejó la nota «LÉEME.txt» en C:\\Users\\Public \
                      y exige pago en criptomonedas. Acceso inicial vía Citrix ('CitrixBleed')."
            .into(),
        created: ts("2026-02-10T15:20:00.123456Z"),
        modified: ts("2026-02-11T09:45:10.5Z"),
        detected_at: ts("2026-02-10T14:03:27.512Z"),
        status: "containment".into(),
        severity: "high".into(),
        rsit_class: "malicious-code".into(),
        rsit_type: "infected-system".into(),
        tlp: Tlp::Amber,
        pap: Some("amber".into()),
        reporter: reporter(),
        impact: Impact {
            service_interruption_minutes: Some(240),
            people_affected: Some(1500),
            data_compromised: true,
            personal_data: true,
        },
        observables: observables(),
        resolution: None,
    }
}

/// Three incidents sharing a reporter, an address and a CVE, at three TLP levels.
pub fn campaign() -> CampaignExport {
    let mut first = incident();
    first.tlp = Tlp::Green;
    let mut second = incident();
    second.id = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d".into();
    second.reference = "BAL-2026-000131".into();
    second.title = "Phishing con suplantación del SAT dirigido a Tesorería".into();
    second.rsit_class = "fraud".into();
    second.rsit_type = "phishing".into();
    second.status = "closed".into();
    second.resolution = Some("Dominio dado de baja por el registrador; credenciales restablecidas.".into());
    second.observables = vec![
        obs("ipv4", "198.51.100.3"),
        obs("domain", "sat-gob-mx.example"),
        obs("cve", "CVE-2023-4966"),
    ];
    second.tlp = Tlp::Amber;
    let mut third = incident();
    third.id = "7f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f".into();
    third.reference = "BAL-2026-000140".into();
    third.title = "Denegación de servicio contra el portal de trámites".into();
    third.rsit_class = "availability".into();
    third.rsit_type = "ddos".into();
    third.status = "new".into();
    third.observables = vec![obs("ipv4", "198.51.100.3"), obs("asn", "AS64511")];
    third.tlp = Tlp::Red;
    third.reporter = Org {
        id: "c0ffee00-1234-4abc-9def-0123456789ab".into(),
        name: "Banco de Ejemplo, S.A.".into(),
        sectors: vec!["financial-services".into()],
    };
    CampaignExport {
        id: "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8".into(),
        name: "Campaña «Factura Falsa» 2026".into(),
        description: "Oleada coordinada contra dependencias federales y banca.".into(),
        created: ts("2026-02-12T10:00:00Z"),
        modified: ts("2026-02-13T10:00:00Z"),
        tlp: Tlp::Amber,
        incidents: vec![first, second, third],
    }
}

/// Writes `json` under the test target directory and returns the path.
pub fn write(name: &str, json: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("baluarte-stix");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, json).unwrap();
    path
}

/// Runs `$STIX2_VALIDATOR --version 2.1 --strict FILE` and fails on any error or warning. Without the variable
/// `baluarte_test_support::require` decides: a failure under CI (skipping would hide a regression), a skip
/// (said on stderr) elsewhere.
pub fn validate_strict(path: &Path) {
    let Some(exe) = baluarte_test_support::require::executable("STIX2_VALIDATOR", "the stix2_validator executable")
    else {
        return;
    };
    let out = Command::new(&exe)
        .args(["--version", "2.1", "--strict"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run STIX2_VALIDATOR={}: {e}", Path::new(&exe).display());
        });
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "stix2-validator rejected {}:\n{report}",
        path.display()
    );
    assert!(
        !report.contains("[!]") && !report.contains("[X]"),
        "stix2-validator reported problems:\n{report}"
    );
}

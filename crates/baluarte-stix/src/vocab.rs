//! Mappings from Baluarte's vocabularies to STIX and the OASIS Incident Core Extension 2.0.

/// `determination` (incident-determination-enum) and `investigation_status` (incident-investigation-ov) for
/// one of our statuses. Working statuses count as confirmed: triage is where an incident stops being a
/// suspicion. `merged` closes the incident without a determination of its own, so it stays `suspected`.
pub(crate) fn determination_and_status(status: &str) -> (&'static str, &'static str) {
    match status {
        "new" => ("suspected", "new"),
        "triage" => ("suspected", "open"),
        "in_progress" | "containment" | "eradication" | "recovery" => ("confirmed", "open"),
        "closed" => ("confirmed", "closed"),
        "rejected" => ("false-positive", "closed"),
        "merged" => ("suspected", "closed"),
        _ => ("suspected", "open"),
    }
}

/// `criticality` (0–100) for our severity, from the extension's Appendix B "5 Qualitative" scale
/// (low 15, moderate 40, high 70, extreme 95).
pub(crate) fn criticality(severity: &str) -> Option<u8> {
    match severity {
        "low" => Some(15),
        "medium" => Some(40),
        "high" => Some(70),
        "critical" => Some(95),
        _ => None,
    }
}

/// `incident_types` values (the extension's event-type-ov, itself drawn from the Europol taxonomy RSIT
/// descends from) for an RSIT class and type. `None` where the vocabulary has no fitting value; the RSIT
/// pair always travels in `x_baluarte_rsit_class` / `x_baluarte_rsit_type` as well.
pub(crate) fn incident_type(rsit_class: &str, rsit_type: &str) -> Option<&'static str> {
    let t = match (rsit_class, rsit_type) {
        ("abusive-content", "spam") => "spam",
        ("abusive-content", "harmful-speech" | "violence") => "content-forbidden-by-law",
        ("malicious-code", "infected-system") => "infected-by-known-malware",
        ("malicious-code", "c2-server") => "c&c-server-hosting",
        ("malicious-code", "malware-distribution") => "hosting-malware-webpage",
        ("information-gathering", "scanner") => "network-scanning",
        ("information-gathering", "sniffing") => "wiretapping",
        ("intrusion-attempts", "brute-force") => "brute-force-attempt",
        ("intrusion-attempts", "exploit") => "exploit-attempt",
        ("intrusions", "privileged-account-compromise" | "unprivileged-account-compromise") => {
            "unauthorized-access-system"
        }
        ("intrusions", "application-compromise" | "system-compromise") => "compromised-system",
        ("intrusions", "burglary") => "equipment-theft",
        ("availability", "ddos") => "packet-flood",
        ("availability", "dos" | "outage" | "misconfiguration") => "denial-of-service",
        ("availability", "sabotage") => "vandalism",
        ("information-content-security", "unauthorised-information-access") => "unauthorized-access-information",
        ("information-content-security", "unauthorised-information-modification") => "modification-information",
        ("information-content-security", "data-loss") => "destruction",
        ("information-content-security", "data-leak") => "unauthorized-release",
        ("fraud", "unauthorised-use-of-resources") => "illegitimate-use-resources",
        ("fraud", "copyright") => "copyrighted-content",
        ("fraud", "masquerade") => "illegitimate-use-name",
        ("fraud", "phishing") => "hosting-phishing-sites",
        ("other", "undetermined") => "undetermined",
        ("other", "other") => "unspecified",
        _ => return None,
    };
    Some(t)
}

/// STIX 2.1 industry-sector-ov. Other sector names would fail the validator's strict vocabulary check, so the
/// exporter sends them as labels instead.
const INDUSTRY_SECTORS: [&str; 34] = [
    "agriculture",
    "aerospace",
    "automotive",
    "chemical",
    "commercial",
    "communications",
    "construction",
    "defense",
    "education",
    "energy",
    "entertainment",
    "financial-services",
    "government",
    "emergency-services",
    "government-local",
    "government-national",
    "government-public-services",
    "government-regional",
    "healthcare",
    "hospitality-leisure",
    "infrastructure",
    "dams",
    "nuclear",
    "water",
    "insurance",
    "manufacturing",
    "mining",
    "non-profit",
    "pharmaceuticals",
    "retail",
    "technology",
    "telecommunications",
    "transportation",
    "utilities",
];

pub(crate) fn is_industry_sector(s: &str) -> bool {
    INDUSTRY_SECTORS.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_determination_from_the_enum() {
        let allowed = ["blocked", "confirmed", "failed-attempt", "false-positive", "suspected"];
        for s in [
            "new",
            "triage",
            "in_progress",
            "containment",
            "eradication",
            "recovery",
            "closed",
            "rejected",
        ] {
            let (d, st) = determination_and_status(s);
            assert!(allowed.contains(&d), "{s} -> {d}");
            assert!(["new", "open", "closed"].contains(&st));
        }
    }
}

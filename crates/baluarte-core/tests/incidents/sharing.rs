//! Sharing: the demo's history, STIX and TAXII within TLP, paging that survives updates.

use super::*;

conformance!(
    sharing_follows_tlp,
    taxii_paging_survives_updates_between_pages,
    taxii_pages_share_objects_once_and_filter,
);

/// The demo's year of incidents loads through the service layer on both backends, with correlations
/// across entities and deadlines in every state a board shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_history_loads_with_correlations() {
    common::run(common::Backend::Sqlite, demo_history).await;
}

async fn demo_history(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let dataset = baluarte_core::demo::parse_dataset(baluarte_core::demo::MX_DATASET)?;
    baluarte_core::demo::load(svc, &dataset, &|_, _| {}).await?;
    let started = std::time::Instant::now();
    let n = baluarte_core::demo_incidents::load(svc, svc.now(), &|_, _| {}).await?;
    eprintln!("{n} demo incidents in {:?}", started.elapsed());
    assert!(n >= 250, "{n}");
    let system = baluarte_test_support::actors::national(Role::Coordinator);
    let board = svc.incidents().incident_board(&system).await?;
    assert!(board.open > 0 && board.mean_hours_to_acknowledge.is_some() && board.mean_hours_to_resolve.is_some());
    assert!(board.open_by_sector.len() >= 5, "{:?}", board.open_by_sector);
    let l = svc
        .incidents()
        .lookup_observable(&system, "sat-devoluciones[.]example")
        .await?;
    assert!(l.entities >= 3, "{l:?}");
    assert!(
        baluarte_core::audit::verify_chain(svc.db(), &svc.server_key().public_hex())
            .await?
            .broken
            .is_none()
    );
    Ok(())
}

async fn sharing_follows_tlp(store: TestStore) -> TestResult {
    use baluarte_core::model::Purpose;
    use baluarte_core::service::TokenInput;
    let svc = &store.svc;
    let p = people(svc).await?;
    let (_, officer_b) =
        p.fx.person(svc, &p.fx.b, Role::SecurityOfficer, "oficial@banco.example")
            .await?;
    let triage = |tlp| TriageInput {
        rsit_class: "fraud".into(),
        rsit_type: "phishing".into(),
        severity: Severity::Medium,
        tlp,
    };
    let mut ids = Vec::new();
    for (tlp, value) in [
        (Tlp::Green, "phish.example"),
        (Tlp::AmberStrict, "secret.example"),
        (Tlp::Amber, "amber.example"),
    ] {
        let i = svc
            .incidents()
            .file_report(&p.reporter_a, report("Phishing", tlp, &[value]), "web", None)
            .await?
            .incident;
        svc.incidents().triage(&p.analyst, &i.id, triage(tlp)).await?;
        ids.push(i.id);
    }
    // Export: a bundle with the incident, its indicator and the TLP marking; entities may not export.
    let bundle = svc.incidents().export_incident_stix(&p.analyst, &ids[0]).await?;
    let objects = bundle["objects"].as_array().ok_or("no objects")?;
    assert!(objects.iter().any(|o| o["type"] == "incident"));
    assert!(objects
        .iter()
        .any(|o| o["type"] == "indicator" && o["pattern"].as_str().is_some_and(|p| p.contains("phish.example"))));
    assert_forbidden(svc.incidents().export_incident_stix(&p.reporter_a, &ids[0]).await);

    // TAXII: B's token reads GREEN (A's incident) but neither AMBER+STRICT nor A's AMBER.
    let token = svc
        .tokens()
        .create_token(
            &officer_b,
            TokenInput {
                entity_id: p.fx.b.clone(),
                name: "TAXII".into(),
                purposes: vec![Purpose::IndicatorsRead],
                expires_in_days: None,
            },
        )
        .await?;
    let reader = svc.tokens().authenticate_token(&token.secret).await?;
    let cols = svc.incidents().taxii_collections(&reader);
    let readable: Vec<&str> = cols.iter().filter(|c| c.can_read).map(|c| c.title).collect();
    assert_eq!(readable, vec!["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"]);
    let green = cols.iter().find(|c| c.title == "TLP:GREEN").ok_or("no green")?.id;
    let amber = cols.iter().find(|c| c.title == "TLP:AMBER").ok_or("no amber")?.id;
    let strict = cols
        .iter()
        .find(|c| c.title == "TLP:AMBER+STRICT")
        .ok_or("no strict")?
        .id;
    let any = TaxiiFilter::default();
    let page = svc.incidents().taxii_objects(&reader, green, &any, 1000, None).await?;
    let text = serde_json::to_string(&page.objects)?;
    assert!(text.contains("phish.example") && !text.contains("secret.example"));
    assert!(!serde_json::to_string(
        &svc.incidents()
            .taxii_objects(&reader, amber, &any, 1000, None)
            .await?
            .objects
    )?
    .contains("amber.example"));
    assert_forbidden(svc.incidents().taxii_objects(&reader, strict, &any, 10, None).await);
    // Paging: pages of 2 cover the collection exactly once.
    let mut seen = Vec::new();
    let mut next = None;
    loop {
        let page = svc
            .incidents()
            .taxii_objects(&reader, green, &any, 2, next.as_ref())
            .await?;
        seen.extend(page.objects.iter().map(|o| o["id"].to_string()));
        if !page.more {
            break;
        }
        next = page.next;
    }
    let all = svc
        .incidents()
        .taxii_objects(&reader, green, &any, 1000, None)
        .await?
        .objects;
    assert_eq!(seen.len(), all.len());

    // Import a partner's bundle (our own export, as a partner would send it): its indicators correlate.
    let summary = svc
        .incidents()
        .import_stix(
            &p.analyst,
            serde_json::to_string(&bundle)?.as_bytes(),
            "partner CSIRT",
            Tlp::Amber,
        )
        .await?;
    assert!(summary.observables >= 1, "{summary:?}");
    let l = svc.incidents().lookup_observable(&p.analyst, "phish.example").await?;
    assert_eq!(l.reports, 2, "{l:?}");
    let bad = svc
        .incidents()
        .import_stix(&p.analyst, b"{\"type\": \"bundle\"", "partner", Tlp::Amber)
        .await;
    assert_invalid_field(bad, "bundle");
    Ok(())
}

/// TAXII's GREEN collection, as `baluarte_core::service::sharing` fixes it.
const TAXII_GREEN: &str = "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0002";

/// A TAXII client follows `next` two objects at a time through 15 incidents while the CSIRT changes one
/// incident the client has already read and one it has not: no incident is lost, none is repeated except
/// the one already read, which comes again, changed, after the rest.
async fn taxii_paging_survives_updates_between_pages(store: TestStore) -> TestResult {
    use std::collections::HashMap;
    let svc = &store.svc;
    let p = people(svc).await?;
    let mut refs = Vec::new();
    for n in 0..15 {
        // A minute between reports: a collection lists incidents in the order they were added.
        svc.clock().advance(baluarte_core::time::MINUTE);
        let value = format!("paging-{n:02}.example");
        let i = svc
            .incidents()
            .file_report(
                &p.reporter_a,
                report(&format!("Paginación {n:02}"), Tlp::Green, &[&value]),
                "web",
                None,
            )
            .await?
            .incident;
        svc.incidents()
            .triage(
                &p.analyst,
                &i.id,
                TriageInput {
                    rsit_class: "fraud".into(),
                    rsit_type: "phishing".into(),
                    severity: Severity::Medium,
                    tlp: Tlp::Green,
                },
            )
            .await?;
        refs.push((i.id, i.reference));
    }
    let any = TaxiiFilter::default();
    let reference_of = |o: &serde_json::Value| o["external_references"][0]["external_id"].as_str().map(str::to_string);
    let mut walked: Vec<serde_json::Value> = Vec::new();
    let mut next = None;
    let mut updated: Option<(String, String)> = None;
    for _ in 0..500 {
        let page = svc
            .incidents()
            .taxii_objects(&p.analyst, TAXII_GREEN, &any, 2, next.as_ref())
            .await?;
        assert!(page.objects.len() <= 2, "a page holds at most `limit` objects");
        assert!(
            page.incidents_read <= 3,
            "a page of 2 read {} incidents",
            page.incidents_read
        );
        walked.extend(page.objects.iter().cloned());
        let seen: Vec<String> = walked
            .iter()
            .filter(|o| o["type"] == "incident")
            .filter_map(reference_of)
            .collect();
        if updated.is_none() && seen.len() >= 3 {
            // One incident already read, one not yet: both change (status), so both move to the end.
            let read = refs.iter().find(|(_, r)| *r == seen[0]).ok_or("seen")?.clone();
            let unread = refs
                .iter()
                .rev()
                .find(|(_, r)| !seen.contains(r))
                .ok_or("unread")?
                .clone();
            svc.clock().advance(baluarte_core::time::MINUTE);
            svc.incidents()
                .set_status(&p.analyst, &read.0, Status::InProgress)
                .await?;
            svc.incidents()
                .set_status(&p.analyst, &unread.0, Status::InProgress)
                .await?;
            updated = Some((read.1, unread.1));
        }
        if !page.more {
            break;
        }
        next = Some(page.next.ok_or("next when more")?);
    }
    let (read, unread) = updated.ok_or("the walk never saw three incidents")?;
    let incidents: Vec<(String, String)> = walked
        .iter()
        .filter(|o| o["type"] == "incident")
        .map(|o| {
            (
                reference_of(o).unwrap_or_default(),
                o["x_baluarte_status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (r, _) in &incidents {
        *count.entry(r.as_str()).or_default() += 1;
    }
    for (_, r) in &refs {
        let expected = if *r == read { 2 } else { 1 };
        assert_eq!(
            count.get(r.as_str()).copied().unwrap_or(0),
            expected,
            "incident {r} in {incidents:?}"
        );
    }
    // The re-read incident comes back with its new status after every incident that did not change.
    let last_read = incidents.iter().rposition(|(r, _)| *r == read).ok_or("read")?;
    assert_eq!(incidents[last_read].1, "in_progress", "{incidents:?}");
    let unchanged_last = incidents
        .iter()
        .rposition(|(r, _)| *r != read && *r != unread)
        .ok_or("unchanged")?;
    assert!(last_read > unchanged_last, "{incidents:?}");
    let unread_at = incidents.iter().position(|(r, _)| *r == unread).ok_or("unread")?;
    assert_eq!(incidents[unread_at].1, "in_progress", "{incidents:?}");
    // Nothing the collection holds now was missed; only the re-read incident's objects came twice.
    let walked_ids: Vec<String> = walked
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect();
    let now = svc
        .incidents()
        .taxii_objects(&p.analyst, TAXII_GREEN, &any, 1000, None)
        .await?;
    for o in &now.objects {
        let id = o["id"].as_str().unwrap_or("");
        assert!(walked_ids.iter().any(|w| w == id), "{id} was never paged");
    }
    let read_id = &refs.iter().find(|(_, r)| *r == read).ok_or("read")?.0;
    let read_bundle = svc.incidents().export_incident_stix(&p.analyst, read_id).await?;
    let read_group: Vec<&str> = read_bundle["objects"]
        .as_array()
        .ok_or("objects")?
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    for id in &walked_ids {
        if walked_ids.iter().filter(|w| *w == id).count() > 1 {
            assert!(
                read_group.contains(&id.as_str()),
                "{id} came twice but is not the re-read incident's"
            );
        }
    }
    Ok(())
}

/// Walk a collection `limit` objects at a time with `filter`; every page reads few incidents.
async fn taxii_walk(
    svc: &Services,
    actor: &Actor,
    filter: &TaxiiFilter,
    limit: usize,
) -> TestResult<Vec<serde_json::Value>> {
    let mut walked = Vec::new();
    let mut next = None;
    for _ in 0..1000 {
        let page = svc
            .incidents()
            .taxii_objects(actor, TAXII_GREEN, filter, limit, next.as_ref())
            .await?;
        assert!(page.objects.len() <= limit);
        let most = if filter.ids.is_empty() && filter.types.is_empty() && filter.versions.is_none() {
            limit + 1
        } else {
            baluarte_core::service::TAXII_SCAN_BUDGET + limit + 1
        };
        assert!(
            page.incidents_read <= most,
            "read {} incidents for a page of {limit}",
            page.incidents_read
        );
        walked.extend(page.objects);
        if !page.more {
            return Ok(walked);
        }
        next = Some(page.next.ok_or("next when more")?);
    }
    Err("the walk did not end".into())
}

fn stix_ids(objects: &[serde_json::Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Incidents of two entities sharing an address and a CVE: whatever the page size, the pages hold each
/// object of the incidents' exports once, the same as one unpaged answer; and the TAXII filters.
async fn taxii_pages_share_objects_once_and_filter(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let plan: [(&Actor, &[&str]); 5] = [
        (&p.reporter_a, &["shared.example", "CVE-2023-4966"]),
        (&p.reporter_b, &["only-b.example"]),
        (&p.reporter_a, &["198.51.100.7"]),
        (
            &p.reporter_b,
            &["shared.example", "CVE-2023-4966", "https://only-b.example/x"],
        ),
        (&p.reporter_a, &[]),
    ];
    let mut ids = Vec::new();
    for (n, (who, values)) in plan.iter().enumerate() {
        svc.clock().advance(baluarte_core::time::MINUTE);
        let i = svc
            .incidents()
            .file_report(who, report(&format!("Compartido {n}"), Tlp::Green, values), "web", None)
            .await?
            .incident;
        let triage = TriageInput {
            rsit_class: "fraud".into(),
            rsit_type: "phishing".into(),
            severity: Severity::Medium,
            tlp: Tlp::Green,
        };
        svc.incidents().triage(&p.analyst, &i.id, triage).await?;
        ids.push(i.id);
    }
    let any = TaxiiFilter::default();
    let whole = svc
        .incidents()
        .taxii_objects(&p.analyst, TAXII_GREEN, &any, 1000, None)
        .await?;
    assert!(!whole.more);
    let whole_ids = stix_ids(&whole.objects);
    let mut expected = Vec::new();
    for id in &ids {
        let bundle = svc.incidents().export_incident_stix(&p.analyst, id).await?;
        for o in bundle["objects"].as_array().ok_or("objects")? {
            let oid = o["id"].as_str().unwrap_or("").to_string();
            if !expected.contains(&oid) {
                expected.push(oid);
            }
        }
    }
    let mut sorted = whole_ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), whole_ids.len(), "an object twice in {whole_ids:?}");
    expected.sort();
    assert_eq!(sorted, expected, "the collection holds every exported object once");
    for limit in [1, 2, 3, 5, 8] {
        let walked = taxii_walk(svc, &p.analyst, &any, limit).await?;
        assert_eq!(stix_ids(&walked), whole_ids, "pages of {limit}");
    }

    // match[type], paged: only indicators, all of them.
    let of_type = |t: &str| -> Vec<String> {
        whole
            .objects
            .iter()
            .filter(|o| o["type"] == t)
            .map(|o| o["id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let indicators = TaxiiFilter {
        types: vec!["indicator".into()],
        ..Default::default()
    };
    assert_eq!(
        stix_ids(&taxii_walk(svc, &p.analyst, &indicators, 2).await?),
        of_type("indicator")
    );
    assert_eq!(of_type("indicator").len(), 5, "one per observable but the CVE");
    let two_types = TaxiiFilter {
        types: vec!["vulnerability".into(), "domain-name".into()],
        ..Default::default()
    };
    let got = stix_ids(&taxii_walk(svc, &p.analyst, &two_types, 1).await?);
    assert_eq!(got.len(), 3, "one CVE and two domains, each once: {got:?}");
    let none = TaxiiFilter {
        types: vec!["malware".into()],
        ..Default::default()
    };
    assert!(taxii_walk(svc, &p.analyst, &none, 5).await?.is_empty());

    // match[id]: exactly the objects named, wherever they are.
    let incident4 = of_type("incident")[3].clone();
    let cve = of_type("vulnerability")[0].clone();
    let by_id = TaxiiFilter {
        ids: vec![
            cve.clone(),
            incident4.clone(),
            "indicator--00000000-0000-4000-8000-000000000000".into(),
        ],
        ..Default::default()
    };
    let got = stix_ids(&taxii_walk(svc, &p.analyst, &by_id, 10).await?);
    assert_eq!(got, vec![cve, incident4.clone()]);

    // match[version]: an incident's version picks its own objects, not the shared ones.
    let inc4 = whole
        .objects
        .iter()
        .find(|o| o["id"] == incident4.as_str())
        .ok_or("incident 4")?;
    let version: jiff::Timestamp = inc4["modified"].as_str().ok_or("modified")?.parse()?;
    let at = TaxiiFilter {
        versions: Some(vec![version.as_microsecond()]),
        ..Default::default()
    };
    let got = taxii_walk(svc, &p.analyst, &at, 100).await?;
    assert!(got.iter().any(|o| o["id"] == incident4.as_str()));
    // Objects with a version of their own carry that one; a cyber-observable's version is when it was
    // added, which is its incident's.
    for o in &got {
        let own = o.get("modified").or_else(|| o.get("created"));
        assert_eq!(own.unwrap_or(&inc4["modified"]), &inc4["modified"], "{o}");
    }
    assert!(!got.iter().any(|o| o["type"] == "identity"));

    // added_after: only what the incidents after the third one hold.
    let third = whole
        .objects
        .iter()
        .position(|o| o["id"] == of_type("incident")[2].as_str())
        .ok_or("third")?;
    let after = TaxiiFilter {
        added_after: Some(whole.added[third]),
        ..Default::default()
    };
    let later = svc
        .incidents()
        .taxii_objects(&p.analyst, TAXII_GREEN, &after, 1000, None)
        .await?;
    let later_incidents: Vec<&serde_json::Value> = later.objects.iter().filter(|o| o["type"] == "incident").collect();
    assert_eq!(later_incidents.len(), 2, "{:?}", stix_ids(&later.objects));
    assert!(later.added.iter().all(|a| *a > whole.added[third]));
    // That view stands alone: its pages carry the shared objects its incidents need.
    assert!(later.objects.iter().any(|o| o["type"] == "identity"));

    // match[spec_version]: everything here is 2.1.
    let old = TaxiiFilter {
        spec_versions: vec!["2.0".into()],
        ..Default::default()
    };
    assert!(taxii_walk(svc, &p.analyst, &old, 50).await?.is_empty());
    let current = TaxiiFilter {
        spec_versions: vec!["2.0".into(), "2.1".into()],
        ..Default::default()
    };
    assert_eq!(stix_ids(&taxii_walk(svc, &p.analyst, &current, 50).await?), whole_ids);
    Ok(())
}

//! Incident and campaign bundles.
//!
//! Every id is derived from our ids (see [`crate::ids`]) and every timestamp from the input, so exporting the
//! same data twice gives the same bytes, and re-exporting a changed incident gives new versions of the same
//! objects.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::ids::{canonical_single, object_id, sco_id, stix_time, EPOCH};
use crate::model::{CampaignExport, IncidentExport, ObservableExport, Org, Tlp};
use crate::pattern::quote;
use crate::{tlp, vocab};

/// The OASIS Incident Core Extension 2.0 (cti-stix-common-objects, incident-core).
pub(crate) const INCIDENT_CORE_EXTENSION: &str = "extension-definition--ef765651-680c-498d-9894-99799f2fa126";

/// The OASIS Task SDO extension of the same suite; a task records when the incident was detected.
const TASK_EXTENSION: &str = "extension-definition--2074a052-8be4-4932-849e-f5e7798e0030";

/// Our own toplevel-property extension, for the `x_baluarte_*` properties the incident extension has no room
/// for. stix2-validator's strict mode accepts custom properties only on objects that declare such an
/// extension (check 401); the definition itself travels in every bundle.
pub(crate) const BALUARTE_EXTENSION: &str = "extension-definition--36ecd536-ec99-4ccf-b6f7-364487308b96";

const BALUARTE_PROPERTIES: [&str; 9] = [
    "x_baluarte_status",
    "x_baluarte_severity",
    "x_baluarte_rsit_class",
    "x_baluarte_rsit_type",
    "x_baluarte_pap",
    "x_baluarte_resolution",
    "x_baluarte_service_interruption_minutes",
    "x_baluarte_data_compromised",
    "x_baluarte_personal_data",
];

/// A bundle for one incident: the incident, its reporter, observables, indicators, sightings and a report
/// listing them, all created by `producer`.
pub fn export_incident(producer: &Org, inc: &IncidentExport) -> Value {
    let mut b = Builder::new(producer);
    b.add_incident(inc);
    let times = Times::new(inc.created, inc.modified);
    let report = b.sdo(
        "report",
        &object_id("report", &[&inc.id]),
        &times,
        json!({
            "name": format!("{}: {}", inc.reference, incident_name(inc)),
            "report_types": ["threat-report"],
            "published": times.modified,
        }),
    );
    let bundle_id = object_id("bundle", &[&inc.id, &times.modified]);
    b.finish(&bundle_id, report, non_empty(&inc.description))
}

/// Which other incidents' exports hold an object of one incident's export. A TAXII collection of incidents
/// sends each object once, with the first incident (in the collection's order) whose export holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sharing {
    /// Only this incident's export: the incident, its task, indicators, sightings, relationships and report.
    Own,
    /// Every export of an incident of the same TLP: the producer's identity, our extension definition and the
    /// TLP marking definitions.
    Every,
    /// Every export of an incident from the same reporter: the reporter's identity.
    Reporter,
    /// Every export of an incident with this observable (as given in [`ObservableExport`]): its
    /// cyber-observable, or the vulnerability of a CVE.
    Observable { kind: String, value: String },
}

/// The objects of [`export_incident`]'s bundle, in the bundle's order, each with who else shares it.
pub fn export_incident_objects(producer: &Org, inc: &IncidentExport) -> Vec<(Value, Sharing)> {
    let producer_id = object_id("identity", &[&producer.id]);
    let reporter_id = object_id("identity", &[&inc.reporter.id]);
    let mut by_observable: HashMap<String, Sharing> = HashMap::new();
    for o in &inc.observables {
        let id = if o.kind == "cve" {
            Some(object_id("vulnerability", &[&o.value.to_ascii_uppercase()]))
        } else {
            sco(&o.kind, &o.value).map(|s| s.id)
        };
        if let Some(id) = id {
            by_observable.entry(id).or_insert_with(|| Sharing::Observable {
                kind: o.kind.clone(),
                value: o.value.clone(),
            });
        }
    }
    let bundle = export_incident(producer, inc);
    let Some(Value::Array(objects)) = bundle.get("objects").cloned() else {
        return Vec::new();
    };
    objects
        .into_iter()
        .map(|o| {
            let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
            let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
            let sharing = if id == producer_id || matches!(kind, "marking-definition" | "extension-definition") {
                Sharing::Every
            } else if id == reporter_id {
                Sharing::Reporter
            } else {
                by_observable.get(id).cloned().unwrap_or(Sharing::Own)
            };
            (o, sharing)
        })
        .collect()
}

/// A bundle for a campaign: a `campaign` SDO related to each of its incidents, and everything
/// [`export_incident`] would give for each incident (shared objects once).
pub fn export_campaign(producer: &Org, c: &CampaignExport) -> Value {
    let mut b = Builder::new(producer);
    let times = Times::new(c.created, c.modified);
    let campaign_id = object_id("campaign", &[&c.id]);
    let mut campaign = json!({ "name": c.name });
    if let Some(d) = non_empty(&c.description) {
        campaign["description"] = json!(d);
    }
    let first = c.incidents.iter().map(|i| i.detected_at).min();
    let last = c.incidents.iter().map(|i| i.detected_at).max();
    if let (Some(first), Some(last)) = (first, last) {
        campaign["first_seen"] = json!(stix_time(first));
        campaign["last_seen"] = json!(stix_time(last));
    }
    let campaign = b.sdo("campaign", &campaign_id, &times, campaign);
    b.push(campaign, Some(c.tlp));
    let mut bundle_parts = vec![c.id.clone(), times.modified.clone()];
    for inc in &c.incidents {
        let incident_id = b.add_incident(inc);
        // Spec 2.1 lists no campaign→incident relationship and the extension's `associated-with` fails the
        // validator's strict relationship check, so the common `related-to` links them.
        b.relate(&campaign_id, &incident_id, &times, c.tlp.max(inc.tlp));
        bundle_parts.extend([inc.id.clone(), stix_time(inc.modified)]);
    }
    let report = b.sdo(
        "report",
        &object_id("report", &["campaign", &c.id]),
        &times,
        json!({ "name": c.name, "report_types": ["campaign"], "published": times.modified }),
    );
    let parts: Vec<&str> = bundle_parts.iter().map(String::as_str).collect();
    b.finish(&object_id("bundle", &parts), report, non_empty(&c.description))
}

/// `created` and `modified` as STIX timestamps; `modified` is never before `created` (STIX requires it).
struct Times {
    created: String,
    modified: String,
}

impl Times {
    fn new(created: Timestamp, modified: Timestamp) -> Self {
        Times {
            created: stix_time(created),
            modified: stix_time(modified.max(created)),
        }
    }

    fn epoch() -> Self {
        Times {
            created: EPOCH.to_string(),
            modified: EPOCH.to_string(),
        }
    }
}

struct Entry {
    object: Map<String, Value>,
    /// `None` for marking definitions, which carry no marking themselves.
    tlp: Option<Tlp>,
}

/// Collects objects once each (a reporter, an SCO or a CVE shared by several incidents), keeping the
/// strictest TLP any use gave them.
struct Builder {
    producer_id: String,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Builder {
    fn new(producer: &Org) -> Self {
        let mut b = Builder {
            producer_id: object_id("identity", &[&producer.id]),
            entries: Vec::new(),
            index: HashMap::new(),
        };
        // The national CSIRT's own identity and our extension definition are public knowledge.
        let identity = b.identity(producer);
        b.push(identity, Some(Tlp::Clear));
        let definition = b.extension_definition();
        b.push(definition, Some(Tlp::Clear));
        b
    }

    fn push(&mut self, object: Value, tlp: Option<Tlp>) {
        let Value::Object(object) = object else { return };
        let id = object.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        match self.index.get(&id) {
            Some(&i) => self.entries[i].tlp = self.entries[i].tlp.max(tlp),
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push(Entry { object, tlp });
            }
        }
    }

    /// An SDO/SRO/SMO of `stix_type` with the common properties, plus `specific` (a JSON object).
    fn sdo(&self, stix_type: &str, id: &str, times: &Times, specific: Value) -> Value {
        let mut o = json!({
            "type": stix_type,
            "spec_version": "2.1",
            "id": id,
            "created": times.created,
            "modified": times.modified,
            "created_by_ref": self.producer_id,
        });
        if let (Some(o), Value::Object(specific)) = (o.as_object_mut(), specific) {
            o.extend(specific);
        }
        o
    }

    fn identity(&self, org: &Org) -> Value {
        let (sectors, other): (Vec<&String>, Vec<&String>) =
            org.sectors.iter().partition(|s| vocab::is_industry_sector(s));
        let mut specific = json!({ "name": org.name, "identity_class": "organization" });
        if !sectors.is_empty() {
            specific["sectors"] = json!(sectors);
        }
        if !other.is_empty() {
            specific["labels"] = json!(other.iter().map(|s| format!("sector:{s}")).collect::<Vec<_>>());
        }
        self.sdo(
            "identity",
            &object_id("identity", &[&org.id]),
            &Times::epoch(),
            specific,
        )
    }

    fn extension_definition(&self) -> Value {
        let schema = "Toplevel properties Baluarte adds to incident objects. x_baluarte_status: Baluarte workflow \
                      status (new, triage, in_progress, containment, eradication, recovery, closed, rejected, \
                      merged). x_baluarte_severity: low, medium, high or critical. x_baluarte_rsit_class, \
                      x_baluarte_rsit_type: Reference Security Incident Taxonomy class and type. x_baluarte_pap: \
                      Permissible Actions Protocol level. x_baluarte_resolution: how the incident was resolved. \
                      x_baluarte_service_interruption_minutes: integer, minutes of service interruption. \
                      x_baluarte_data_compromised, x_baluarte_personal_data: booleans, whether data, and \
                      personal data, were compromised.";
        let specific = json!({
            "name": "Baluarte incident properties",
            "description": "Incident classification and impact fields of the Baluarte national CSIRT platform \
                            that the OASIS Incident Core Extension does not define.",
            "schema": schema,
            "version": "1.0.0",
            "extension_types": ["toplevel-property-extension"],
            "extension_properties": BALUARTE_PROPERTIES,
        });
        self.sdo("extension-definition", BALUARTE_EXTENSION, &Times::epoch(), specific)
    }

    /// Adds an incident and everything hanging off it; returns the incident's STIX id.
    fn add_incident(&mut self, inc: &IncidentExport) -> String {
        let ctx = IncidentCtx {
            id: object_id("incident", &[&inc.id]),
            reporter: object_id("identity", &[&inc.reporter.id]),
            times: Times::new(inc.created, inc.modified),
            inc,
        };
        let reporter = self.identity(&inc.reporter);
        self.push(reporter, Some(inc.tlp));
        let task_id = object_id("task", &[&inc.id, "detected"]);
        let task = self.detection_task(&ctx, &task_id);
        self.push(task, Some(inc.tlp));
        let incident = self.incident(&ctx, &task_id);
        self.push(incident, Some(inc.tlp));
        for o in &inc.observables {
            self.add_observable(&ctx, o);
        }
        ctx.id
    }

    fn detection_task(&self, ctx: &IncidentCtx<'_>, task_id: &str) -> Value {
        let specific = json!({
            "name": format!("Detection of {}", ctx.inc.reference),
            "task_types": ["detected"],
            "outcome": "successful",
            "start_time": stix_time(ctx.inc.detected_at),
            "extensions": { TASK_EXTENSION: { "extension_type": "new-sdo" } },
        });
        self.sdo("task", task_id, &ctx.times, specific)
    }

    fn incident(&self, ctx: &IncidentCtx<'_>, task_id: &str) -> Value {
        let inc = ctx.inc;
        let mut specific = json!({
            "name": incident_name(inc),
            "external_references": [{ "source_name": "baluarte", "external_id": inc.reference }],
            "extensions": {
                INCIDENT_CORE_EXTENSION: core_extension(inc, task_id),
                BALUARTE_EXTENSION: { "extension_type": "toplevel-property-extension" },
            },
        });
        if let Some(d) = non_empty(&inc.description) {
            specific["description"] = json!(d);
        }
        if let (Some(o), Value::Object(extra)) = (specific.as_object_mut(), baluarte_properties(inc)) {
            o.extend(extra);
        }
        self.sdo("incident", &ctx.id, &ctx.times, specific)
    }

    fn add_observable(&mut self, ctx: &IncidentCtx<'_>, o: &ObservableExport) {
        if o.kind == "cve" {
            self.add_vulnerability(ctx, &o.value);
            return;
        }
        // Kinds with no STIX cyber-observable form (see `ObservableExport::kind`) are left out.
        let Some(sco) = sco(&o.kind, &o.value) else { return };
        let indicator_id = object_id("indicator", &[&ctx.inc.id, &o.kind, &o.value]);
        let first_seen = stix_time(o.first_seen);
        let indicator = self.sdo(
            "indicator",
            &indicator_id,
            &ctx.times,
            json!({
                "name": format!("{} {}", o.kind, o.value),
                "description": format!("{} {} reported in incident {}.", o.kind, o.value, ctx.inc.reference),
                "pattern": sco.pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": first_seen,
            }),
        );
        let sighting = self.sdo(
            "sighting",
            &object_id("sighting", &[&indicator_id, &ctx.reporter]),
            &ctx.times,
            json!({
                "description": format!("Seen by {} (incident {}).", ctx.inc.reporter.name, ctx.inc.reference),
                "sighting_of_ref": indicator_id,
                "where_sighted_refs": [ctx.reporter],
                "first_seen": first_seen,
            }),
        );
        let tlp = Some(ctx.inc.tlp);
        self.push(sco.object, tlp);
        self.push(indicator, tlp);
        self.push(sighting, tlp);
        self.relate(&indicator_id, &sco.id, &ctx.times, ctx.inc.tlp);
        self.relate(&indicator_id, &ctx.id, &ctx.times, ctx.inc.tlp);
    }

    fn add_vulnerability(&mut self, ctx: &IncidentCtx<'_>, cve: &str) {
        let cve = cve.to_ascii_uppercase();
        let id = object_id("vulnerability", &[&cve]);
        let vulnerability = self.sdo(
            "vulnerability",
            &id,
            &Times::epoch(),
            json!({ "name": cve, "external_references": [{ "source_name": "cve", "external_id": cve }] }),
        );
        self.push(vulnerability, Some(ctx.inc.tlp));
        self.relate(&ctx.id, &id, &ctx.times, ctx.inc.tlp);
    }

    /// A `related-to` relationship: the one type stix2-validator's strict mode accepts between any two
    /// objects, and the spec defines none for incidents, indicator→SCO or campaign→incident.
    fn relate(&mut self, source: &str, target: &str, times: &Times, tlp: Tlp) {
        let id = object_id("relationship", &[source, "related-to", target]);
        let rel = self.sdo(
            "relationship",
            &id,
            times,
            json!({ "relationship_type": "related-to", "source_ref": source, "target_ref": target }),
        );
        self.push(rel, Some(tlp));
    }

    /// The bundle: marking definitions first, then the objects in the order added, then `report` listing all.
    fn finish(self, bundle_id: &str, report: Value, description: Option<&str>) -> Value {
        let strictest = self.entries.iter().filter_map(|e| e.tlp).max().unwrap_or(Tlp::Clear);
        let mut used: Vec<Tlp> = self.entries.iter().filter_map(|e| e.tlp).collect();
        used.sort();
        used.dedup();
        let mut objects: Vec<Value> = used
            .into_iter()
            .map(|t| Value::Object(tlp::marking_definition(t)))
            .collect();
        let refs: Vec<Value> = objects
            .iter()
            .filter_map(|o| o.get("id").cloned())
            .chain(self.entries.iter().filter_map(|e| e.object.get("id").cloned()))
            .collect();
        objects.extend(self.entries.into_iter().map(|e| marked(e.object, e.tlp)));
        let mut report = report;
        report["object_refs"] = Value::Array(refs);
        if let Some(d) = description {
            report["description"] = json!(d);
        }
        if let Value::Object(r) = report {
            objects.push(marked(r, Some(strictest)));
        }
        sort_keys(json!({ "type": "bundle", "id": bundle_id, "objects": objects }))
    }
}

struct IncidentCtx<'a> {
    inc: &'a IncidentExport,
    id: String,
    reporter: String,
    times: Times,
}

fn marked(mut object: Map<String, Value>, tlp: Option<Tlp>) -> Value {
    if let Some(tlp) = tlp {
        object.insert("object_marking_refs".into(), json!([tlp::marking_id(tlp)]));
    }
    Value::Object(object)
}

fn incident_name(inc: &IncidentExport) -> &str {
    non_empty(&inc.title).unwrap_or(&inc.reference)
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
}

/// The Incident Core Extension: determination, investigation status, criticality, incident types, impacted
/// entity counts and the detection task.
fn core_extension(inc: &IncidentExport, task_id: &str) -> Value {
    let (determination, status) = vocab::determination_and_status(&inc.status);
    let mut ext = json!({
        "extension_type": "property-extension",
        "determination": determination,
        "investigation_status": status,
        "tasks": [{ "task_ref": task_id }],
    });
    if let Some(c) = vocab::criticality(&inc.severity) {
        ext["criticality"] = json!(c);
    }
    if let Some(t) = vocab::incident_type(&inc.rsit_class, &inc.rsit_type) {
        ext["incident_types"] = json!([t]);
    }
    if let Some(n) = inc.impact.people_affected {
        ext["impacted_entity_counts"] = json!({ "individual": n });
    }
    ext
}

/// What neither STIX nor the incident extension can hold. The extension's Impact SDOs would take the
/// availability and confidentiality facts, but their per-category extension keys (`availability`, ...) fail
/// the STIX 2.1 schema's extension-name pattern in stix2-validator, so the facts travel here.
fn baluarte_properties(inc: &IncidentExport) -> Value {
    let mut p = json!({
        "x_baluarte_status": inc.status,
        "x_baluarte_severity": inc.severity,
        "x_baluarte_rsit_class": inc.rsit_class,
        "x_baluarte_rsit_type": inc.rsit_type,
        "x_baluarte_data_compromised": inc.impact.data_compromised,
        "x_baluarte_personal_data": inc.impact.personal_data,
    });
    if let Some(pap) = &inc.pap {
        p["x_baluarte_pap"] = json!(pap);
    }
    if let Some(r) = &inc.resolution {
        p["x_baluarte_resolution"] = json!(r);
    }
    if let Some(m) = inc.impact.service_interruption_minutes {
        p["x_baluarte_service_interruption_minutes"] = json!(m);
    }
    p
}

/// A cyber-observable object and the pattern that matches it.
struct Sco {
    id: String,
    object: Value,
    pattern: String,
}

fn sco(kind: &str, value: &str) -> Option<Sco> {
    match kind {
        "ipv4" => Some(value_sco("ipv4-addr", value, "=")),
        "ipv6" => Some(value_sco("ipv6-addr", value, "=")),
        // STIX lets an address object hold a CIDR block; ISSUBSET matches any address inside it.
        "cidr" if value.contains(':') => Some(value_sco("ipv6-addr", value, "ISSUBSET")),
        "cidr" => Some(value_sco("ipv4-addr", value, "ISSUBSET")),
        "domain" => Some(value_sco("domain-name", value, "=")),
        "url" => Some(value_sco("url", value, "=")),
        "email" => Some(value_sco("email-addr", value, "=")),
        "md5" => Some(file_sco("MD5", value)),
        "sha1" => Some(file_sco("SHA-1", value)),
        "sha256" => Some(file_sco("SHA-256", value)),
        "sha512" => Some(file_sco("SHA-512", value)),
        "asn" => asn_sco(value),
        _ => None,
    }
}

/// An SCO whose only ID contributing property is `value`.
fn value_sco(stix_type: &str, value: &str, op: &str) -> Sco {
    let id = sco_id(stix_type, &canonical_single("value", value));
    Sco {
        object: json!({ "type": stix_type, "spec_version": "2.1", "id": id, "value": value }),
        pattern: format!("[{stix_type}:value {op} {}]", quote(value)),
        id,
    }
}

fn file_sco(algo: &str, hash: &str) -> Sco {
    let id = sco_id("file", &format!("{{\"hashes\":{}}}", canonical_single(algo, hash)));
    Sco {
        object: json!({ "type": "file", "spec_version": "2.1", "id": id, "hashes": { algo: hash } }),
        pattern: format!("[file:hashes.{} = {}]", quote(algo), quote(hash)),
        id,
    }
}

/// `AS64496`, `as64496` or `64496`.
fn asn_sco(value: &str) -> Option<Sco> {
    let digits = value
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("as"))
        .map_or(value, |_| &value[2..]);
    let number: u32 = digits.parse().ok()?;
    let id = sco_id("autonomous-system", &format!("{{\"number\":{number}}}"));
    Some(Sco {
        object: json!({ "type": "autonomous-system", "spec_version": "2.1", "id": id, "number": number }),
        pattern: format!("[autonomous-system:number = {number}]"),
        id,
    })
}

/// `v` with every object's keys in sorted order, whichever map serde_json was built with (a crate elsewhere in
/// the build may turn on `preserve_order`), so the output bytes never depend on feature unification.
fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

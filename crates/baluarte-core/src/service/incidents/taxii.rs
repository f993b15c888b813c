//! The objects of a TAXII collection, one page at a time, in SQL.
//!
//! A collection lists the incidents a reader sees (see [`View`]) in `(updated_at, id)` order, and each
//! incident stands for the STIX objects of its export. TAXII's `limit` counts STIX objects, so a page may
//! end inside an incident; the cursor then says how many of that incident's objects were sent.
//!
//! Objects several incidents share (the producer's identity, the TLP marking definitions, a reporter's
//! identity, an address's cyber-observable) go once, with the first incident of the collection whose
//! export holds them; SQL tells whether an earlier incident holds one, so no page looks at more than its
//! own incidents and the few index look-ups that question takes.
//!
//! An incident that changes gets a later `updated_at`, so it moves to the end: a client following `next`
//! neither loses nor repeats an incident, and gets a changed one again, with its new version, at the end.

use super::cases::{incident_from_row, INCIDENT_SELECT};
use super::Incidents;
use crate::db::Db;
use crate::error::Result;
use crate::incident::Incident;
use crate::model::Tlp;
use crate::time::{self, Micros};
use baluarte_stix as stix;
use base64::Engine;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Incidents a page that filters objects (`match[id]`, `match[type]`, a `match[version]` timestamp) reads
/// at most, batch after batch, looking for `limit` objects; past it the page ends short, with `more`.
pub const SCAN_BUDGET: usize = 500;

/// Where the next page starts: after an incident, or inside one after `sent` of its objects. Opaque to
/// clients: base64url of `a:<updated_at>:<id>` or `i:<updated_at>:<sent>:<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxiiCursor {
    pub updated_at: Micros,
    pub incident_id: String,
    /// Objects of that incident already sent; `None` when all were.
    pub sent: Option<usize>,
}

impl TaxiiCursor {
    pub fn encode(&self) -> String {
        let text = match self.sent {
            None => format!("a:{}:{}", self.updated_at, self.incident_id),
            Some(n) => format!("i:{}:{n}:{}", self.updated_at, self.incident_id),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// A cursor [`encode`](Self::encode) gave, or `None`.
    pub fn decode(s: &str) -> Option<Self> {
        if s.len() > 200 {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let parts: Vec<&str> = match text.get(..2)? {
            "a:" => text.splitn(3, ':').collect(),
            "i:" => text.splitn(4, ':').collect(),
            _ => return None,
        };
        let (at, sent, id) = match parts.as_slice() {
            ["a", at, id] => (*at, None, *id),
            ["i", at, sent, id] => (*at, Some(sent.parse().ok()?), *id),
            _ => return None,
        };
        (!id.is_empty() && id.len() <= 100).then_some(())?;
        Some(TaxiiCursor {
            updated_at: at.parse().ok()?,
            incident_id: id.to_string(),
            sent,
        })
    }
}

/// The TAXII 2.1 §3.4 filters of a request.
#[derive(Debug, Clone, Default)]
pub struct TaxiiFilter {
    /// `added_after`. An object is "added" when its incident last changed (`updated_at`, which is also the
    /// version of the incident's own objects): we keep no separate date of addition.
    pub added_after: Option<Micros>,
    /// `match[id]`: STIX ids; empty for any.
    pub ids: Vec<String>,
    /// `match[type]`: STIX types; empty for any.
    pub types: Vec<String>,
    /// `match[version]` timestamps; `None` for `last`, `first` and `all`, which here are the same: the
    /// collection holds one version of each object.
    pub versions: Option<Vec<Micros>>,
    /// `match[spec_version]`; empty for any. Every object here is STIX 2.1.
    pub spec_versions: Vec<String>,
}

impl TaxiiFilter {
    /// Whether the filter looks inside incidents (so a page may have to read more than `limit + 1`).
    fn on_objects(&self) -> bool {
        !self.ids.is_empty() || !self.types.is_empty() || self.versions.is_some() || !self.spec_versions.is_empty()
    }

    fn admits(&self, o: &Value, added: Micros) -> bool {
        let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
        (self.ids.is_empty() || self.ids.iter().any(|i| i == text("id")))
            && (self.types.is_empty() || self.types.iter().any(|t| t == text("type")))
            && self.versions.as_ref().is_none_or(|vs| {
                let v = object_version(o, added);
                let v = v.parse::<jiff::Timestamp>().map(|t| t.as_microsecond()).ok();
                vs.iter().any(|x| Some(*x) == v)
            })
            && (self.spec_versions.is_empty() || {
                let sv = o.get("spec_version").and_then(Value::as_str).unwrap_or("2.1");
                self.spec_versions.iter().any(|s| s == sv)
            })
    }
}

/// The version TAXII gives an object: its `modified`, else its `created`, else when it was added.
pub fn object_version(o: &Value, added: Micros) -> String {
    o.get("modified")
        .or_else(|| o.get("created"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| time::rfc3339(added))
}

/// The incidents a reader sees in a collection: triaged (acknowledged), neither rejected nor merged, of
/// the collection's TLP, the reader's own entity's only where the TLP says so, changed after
/// `added_after`.
pub(crate) struct View {
    pub tlp: Tlp,
    pub entity: Option<String>,
    pub added_after: Option<Micros>,
}

enum Bind {
    Text(String),
    Int(i64),
}

/// SQL text with its `$n` arguments.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn arg(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// ` AND <the view's conditions on i>`.
    fn view(&mut self, v: &View) {
        let tlp = self.arg(Bind::Text(v.tlp.as_str().into()));
        self.push(&format!(
            " AND i.tlp = {tlp} AND i.acknowledged_at IS NOT NULL AND i.status NOT IN ('rejected', 'merged')"
        ));
        if let Some(t) = v.added_after {
            let t = self.arg(Bind::Int(t));
            self.push(&format!(" AND i.updated_at > {t}"));
        }
        if let Some(e) = &v.entity {
            let e = self.arg(Bind::Text(e.clone()));
            self.push(&format!(" AND i.entity_id = {e}"));
        }
    }

    /// ` AND (i.updated_at, i.id) > (at, id)` (`>=` when `inclusive`), written so both backends accept it
    /// and the `(tlp, updated_at, id)` index gives the range: the first condition bounds the scan, the
    /// second drops the ties before the cursor.
    fn after(&mut self, at: Micros, id: &str, inclusive: bool) {
        let (u, i) = (self.arg(Bind::Int(at)), self.arg(Bind::Text(id.into())));
        let op = if inclusive { ">=" } else { ">" };
        self.push(&format!(
            " AND i.updated_at >= {u} AND (i.updated_at > {u} OR i.id {op} {i})"
        ));
    }

    /// ` AND (i.updated_at, i.id) < (at, id)`.
    fn before(&mut self, at: Micros, id: &str) {
        let (u, i) = (self.arg(Bind::Int(at)), self.arg(Bind::Text(id.into())));
        self.push(&format!(
            " AND i.updated_at <= {u} AND (i.updated_at < {u} OR i.id < {i})"
        ));
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for b in &self.binds {
            q = match b {
                Bind::Text(t) => q.bind(t.as_str()),
                Bind::Int(n) => q.bind(*n),
            };
        }
        q
    }
}

/// One page of a collection's objects.
#[derive(Debug, Clone)]
pub struct ObjectPage {
    pub objects: Vec<Value>,
    /// When each object was added to the collection (parallel to `objects`), for TAXII manifests.
    pub added: Vec<Micros>,
    pub more: bool,
    /// Where the next page starts, when `more`; [`TaxiiCursor::encode`] gives TAXII's opaque `next`.
    pub next: Option<TaxiiCursor>,
    pub first_added: Option<Micros>,
    pub last_added: Option<Micros>,
    /// Incidents this page read from the database: at most `limit + 1` unless the filter looks inside
    /// incidents (then at most [`SCAN_BUDGET`] plus one batch). Reported so tests can hold the cost down.
    pub incidents_read: usize,
}

/// The page being filled.
struct Filling {
    limit: usize,
    objects: Vec<(Micros, Value)>,
    ids: HashSet<String>,
    read: usize,
}

impl Filling {
    fn full(&self) -> bool {
        self.objects.len() >= self.limit
    }

    fn push(&mut self, added: Micros, o: Value) {
        // Two observables giving one cyber-observable would each claim it; send it once.
        let id = o.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        if self.ids.insert(id) {
            self.objects.push((added, o));
        }
    }

    fn finish(self, next: Option<TaxiiCursor>) -> ObjectPage {
        ObjectPage {
            first_added: self.objects.first().map(|p| p.0),
            last_added: self.objects.last().map(|p| p.0),
            added: self.objects.iter().map(|p| p.0).collect(),
            objects: self.objects.into_iter().map(|p| p.1).collect(),
            more: next.is_some(),
            next,
            incidents_read: self.read,
        }
    }
}

/// Which shared objects incidents before the current one already hold. Asked of SQL relative to the
/// first incident this request looks at, then kept up to date with every incident it goes through.
struct Holders<'v> {
    view: &'v View,
    start: (Micros, String),
    every: Option<bool>,
    entities: HashMap<String, bool>,
    observables: HashMap<(String, String), bool>,
}

impl Incidents<'_> {
    /// One page of the view's objects from `next` on, `limit` objects at most (see the module's doc).
    pub(crate) async fn taxii_page(
        self,
        view: &View,
        filter: &TaxiiFilter,
        limit: usize,
        next: Option<&TaxiiCursor>,
    ) -> Result<ObjectPage> {
        let producer = self.producer().await?;
        let mut page = Filling {
            limit,
            objects: Vec::new(),
            ids: HashSet::new(),
            read: 0,
        };
        let mut at = next.cloned();
        let mut holders: Option<Holders<'_>> = None;
        loop {
            let incidents = self.view_incidents(view, at.as_ref(), limit + 1).await?;
            page.read += incidents.len();
            let batch_full = incidents.len() > limit;
            for (n, inc) in incidents.iter().enumerate() {
                let h = holders.get_or_insert_with(|| Holders::new(view, inc));
                let objects = self.owned_objects(&producer, inc, h).await?;
                let skip = match &at {
                    Some(c) if c.incident_id == inc.id && c.updated_at == inc.updated_at => c.sent.unwrap_or(0),
                    _ => 0,
                };
                for (k, o) in objects.into_iter().enumerate().skip(skip) {
                    if page.full() {
                        return Ok(page.finish(Some(TaxiiCursor {
                            updated_at: inc.updated_at,
                            incident_id: inc.id.clone(),
                            sent: Some(k),
                        })));
                    }
                    if filter.admits(&o, inc.updated_at) {
                        page.push(inc.updated_at, o);
                        // Each object is once in a collection: once every id asked for came, nothing follows.
                        if !filter.ids.is_empty() && filter.ids.iter().all(|i| page.ids.contains(i)) {
                            return Ok(page.finish(None));
                        }
                    }
                }
                at = Some(TaxiiCursor {
                    updated_at: inc.updated_at,
                    incident_id: inc.id.clone(),
                    sent: None,
                });
                if page.full() {
                    let more = n + 1 < incidents.len() || batch_full;
                    return Ok(page.finish(at.filter(|_| more)));
                }
            }
            if !batch_full {
                return Ok(page.finish(None));
            }
            if !filter.on_objects() || page.read >= SCAN_BUDGET {
                return Ok(page.finish(at));
            }
        }
    }

    /// Up to `n` incidents of the view after `at`, in `(updated_at, id)` order: one indexed range scan.
    async fn view_incidents(self, view: &View, at: Option<&TaxiiCursor>, n: usize) -> Result<Vec<Incident>> {
        let sql = page_sql(view, at, n);
        let rows = sql.query().fetch_all(self.s.db.pool()).await?;
        Ok(rows.iter().map(incident_from_row).collect::<Result<_, _>>()?)
    }

    /// The objects of `inc`'s export that it owns in the view: its own, and the shared ones no earlier
    /// incident holds. Marks what it holds for the incidents after it.
    async fn owned_objects(self, producer: &stix::Org, inc: &Incident, h: &mut Holders<'_>) -> Result<Vec<Value>> {
        let export = self.incident_export(inc).await?;
        let mut out = Vec::new();
        for (o, sharing) in stix::export_incident_objects(producer, &export) {
            let held = match &sharing {
                stix::Sharing::Own => false,
                stix::Sharing::Every => h.every(&self.s.db).await?,
                stix::Sharing::Reporter => h.entity(&self.s.db, &inc.entity_id).await?,
                stix::Sharing::Observable { kind, value } => h.observable(&self.s.db, kind, value).await?,
            };
            if !held {
                out.push(o);
            }
        }
        h.every = Some(true);
        h.entities.insert(inc.entity_id.clone(), true);
        for o in &export.observables {
            h.observables.insert((o.kind.clone(), o.value.clone()), true);
        }
        Ok(out)
    }
}

fn page_sql(view: &View, at: Option<&TaxiiCursor>, n: usize) -> Sql {
    let mut sql = Sql::default();
    sql.push(&format!("{INCIDENT_SELECT} WHERE 1 = 1"));
    sql.view(view);
    if let Some(c) = at {
        sql.after(c.updated_at, &c.incident_id, c.sent.is_some());
    }
    let limit = sql.arg(Bind::Int(i64::try_from(n).unwrap_or(i64::MAX)));
    sql.push(&format!(" ORDER BY i.updated_at, i.id LIMIT {limit}"));
    sql
}

impl<'v> Holders<'v> {
    fn new(view: &'v View, first: &Incident) -> Self {
        Holders {
            view,
            start: (first.updated_at, first.id.clone()),
            every: None,
            entities: HashMap::new(),
            observables: HashMap::new(),
        }
    }

    /// Whether an incident before the start matches `extra` (SQL over `i`, and `o` when `from` joins it).
    async fn earlier(&self, db: &Db, from: &str, extra: impl FnOnce(&mut Sql)) -> Result<bool> {
        let mut sql = Sql::default();
        sql.push(&format!("SELECT 1 AS found FROM {from} WHERE 1 = 1"));
        sql.view(self.view);
        sql.before(self.start.0, &self.start.1);
        extra(&mut sql);
        sql.push(" LIMIT 1");
        Ok(sql.query().fetch_optional(db.pool()).await?.is_some())
    }

    async fn every(&mut self, db: &Db) -> Result<bool> {
        if let Some(b) = self.every {
            return Ok(b);
        }
        let b = self.earlier(db, "incidents i", |_| {}).await?;
        self.every = Some(b);
        Ok(b)
    }

    async fn entity(&mut self, db: &Db, entity: &str) -> Result<bool> {
        if let Some(b) = self.entities.get(entity) {
            return Ok(*b);
        }
        let b = self
            .earlier(db, "incidents i", |sql| {
                let e = sql.arg(Bind::Text(entity.into()));
                sql.push(&format!(" AND i.entity_id = {e}"));
            })
            .await?;
        self.entities.insert(entity.to_string(), b);
        Ok(b)
    }

    async fn observable(&mut self, db: &Db, kind: &str, value: &str) -> Result<bool> {
        let key = (kind.to_string(), value.to_string());
        if let Some(b) = self.observables.get(&key) {
            return Ok(*b);
        }
        let b = self
            // CROSS JOIN makes SQLite start from the observable's (kind, value) index rather than from
            // the collection's earlier incidents; PostgreSQL plans it as the inner join it is.
            .earlier(db, "observables o CROSS JOIN incidents i", |sql| {
                let (k, v) = (sql.arg(Bind::Text(kind.into())), sql.arg(Bind::Text(value.into())));
                sql.push(&format!(" AND i.id = o.incident_id AND o.kind = {k} AND o.value = {v}"));
            })
            .await?;
        self.observables.insert(key, b);
        Ok(b)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use sqlx::Row;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        for c in [
            TaxiiCursor {
                updated_at: 1_780_000_000_123_456,
                incident_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
                sent: None,
            },
            TaxiiCursor {
                updated_at: -5,
                incident_id: "x:y".into(),
                sent: Some(7),
            },
        ] {
            assert_eq!(TaxiiCursor::decode(&c.encode()), Some(c));
        }
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        for bad in [
            String::new(),
            "12".into(),
            "not a cursor".into(),
            b64("a:1:"),
            b64("a:one:x"),
            b64("i:1:x"),
            b64("i:1:-1:x"),
            b64("b:1:x"),
            b64(&format!("a:1:{}", "x".repeat(101))),
        ] {
            assert_eq!(TaxiiCursor::decode(&bad), None, "{bad}");
        }
    }

    /// A page is one range of the `(tlp, updated_at, id)` index, in its order (no sort of the whole
    /// collection), with a LIMIT; an entity's AMBER page uses its own index.
    #[tokio::test]
    async fn a_page_is_one_index_range_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("baluarte-taxii-plan-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&Db::sqlite_url(&dir)).await.unwrap();
        let cursor = TaxiiCursor {
            updated_at: 10,
            incident_id: "x".into(),
            sent: Some(2),
        };
        for (entity, index) in [
            (None, "incidents_taxii "),
            (Some("e".to_string()), "incidents_taxii_entity"),
        ] {
            let view = View {
                tlp: Tlp::Green,
                entity,
                added_after: Some(5),
            };
            let sql = page_sql(&view, Some(&cursor), 3);
            assert!(sql.text.contains(" LIMIT $"), "{}", sql.text);
            let explain = Sql {
                text: format!("EXPLAIN QUERY PLAN {}", sql.text),
                binds: sql.binds,
            };
            let plan: Vec<String> = explain
                .query()
                .fetch_all(db.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap())
                .collect();
            assert!(plan.iter().any(|d| d.contains(index)), "{plan:?}");
            assert!(!plan.iter().any(|d| d.contains("TEMP B-TREE")), "{plan:?}");
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

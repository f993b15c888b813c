//! The demo's incident history: a year of reports from institutions across sectors, as a national CSIRT
//! would have received and handled them. Reports are filed through the service layer (receipts,
//! observables, deadlines, audit); the handling that followed (acknowledgement, assignment, closure) is
//! written with the times it would have happened, each act with its audit entry.
//!
//! Generated from a fixed seed, so every demo shows the same history. Indicators use documentation
//! address ranges (RFC 5737) and `.example` domains.

use crate::audit::{self, Change};
use crate::error::Result;
use crate::incident::{DeadlineState, Pap, Severity};
use crate::model::{EntityKind, Role, Tlp};
use crate::policy::{Actor, Principal};
use crate::service::{new_record_id, CampaignInput, DeadlineAssignment, ObservableInput, ReportInput, Services};
use crate::time::{self, Micros, DAY, HOUR};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;

/// How many incidents the demo holds.
pub const DEMO_INCIDENTS: usize = 320;

struct Template {
    title: &'static str,
    description: &'static str,
    class: &'static str,
    kind: &'static str,
    severity: &'static [Severity],
    services: &'static str,
    /// Which shared campaign indicators it may carry (index into CAMPAIGNS), if any.
    campaign: Option<usize>,
    interruption: Option<(i64, i64)>,
    personal_data: bool,
}

const TEMPLATES: &[Template] = &[
    Template { title: "Correos de phishing suplantando al SAT", description: "Personal recibió correos que suplantan al SAT con un enlace a un sitio que solicita credenciales de la e.firma. Al menos dos personas ingresaron datos.", class: "fraud", kind: "phishing", severity: &[Severity::Medium, Severity::High], services: "Correo institucional", campaign: Some(0), interruption: None, personal_data: true },
    Template { title: "Ransomware en servidores de archivos", description: "Se detectó el cifrado de archivos compartidos con extensión desconocida y una nota de rescate. Se aislaron los servidores afectados.", class: "malicious-code", kind: "infected-system", severity: &[Severity::High, Severity::Critical], services: "Servicios de archivos, nómina", campaign: Some(1), interruption: Some((120, 4320)), personal_data: true },
    Template { title: "Denegación de servicio distribuida contra portal de trámites", description: "El portal de trámites en línea dejó de responder por tráfico masivo desde múltiples orígenes. El proveedor de mitigación activó el filtrado.", class: "availability", kind: "ddos", severity: &[Severity::Medium, Severity::High], services: "Portal de trámites", campaign: Some(2), interruption: Some((30, 600)), personal_data: false },
    Template { title: "Explotación de vulnerabilidad en VPN perimetral", description: "Registros del concentrador VPN muestran solicitudes que explotan una vulnerabilidad conocida y la creación de una cuenta local no autorizada.", class: "intrusion-attempts", kind: "ids-alert", severity: &[Severity::High, Severity::Critical], services: "Acceso remoto", campaign: Some(3), interruption: None, personal_data: false },
    Template { title: "Compromiso de cuenta de administrador de dominio", description: "Inicio de sesión de una cuenta de administrador de dominio desde una dirección externa fuera de horario; se restablecieron credenciales.", class: "intrusions", kind: "privileged-account-compromise", severity: &[Severity::High, Severity::Critical], services: "Directorio activo", campaign: Some(3), interruption: None, personal_data: false },
    Template { title: "Escaneo de puertos desde el exterior", description: "El IDS registró barridos de puertos contra el segmento DMZ desde direcciones de un proveedor de nube.", class: "information-gathering", kind: "scanner", severity: &[Severity::Low], services: "Perímetro", campaign: None, interruption: None, personal_data: false },
    Template { title: "Intentos masivos de inicio de sesión en correo web", description: "Miles de intentos fallidos de autenticación contra el correo web desde direcciones distribuidas (password spraying).", class: "intrusion-attempts", kind: "brute-force", severity: &[Severity::Low, Severity::Medium], services: "Correo web", campaign: None, interruption: None, personal_data: false },
    Template { title: "Fuga de base de datos de beneficiarios", description: "Se publicó en un foro un extracto de la base de datos de beneficiarios con nombres, CURP y domicilios.", class: "information-content-security", kind: "data-leak", severity: &[Severity::High, Severity::Critical], services: "Padrón de beneficiarios", campaign: None, interruption: None, personal_data: true },
    Template { title: "Malware en estaciones de trabajo por memoria USB", description: "El antivirus detectó un gusano propagado por memorias USB en estaciones de una oficina regional.", class: "malicious-code", kind: "infected-system", severity: &[Severity::Low, Severity::Medium], services: "Estaciones de trabajo", campaign: None, interruption: None, personal_data: false },
    Template { title: "Sitio web institucional desfigurado", description: "La página de inicio del sitio institucional fue reemplazada por un mensaje de un grupo hacktivista.", class: "intrusions", kind: "application-compromise", severity: &[Severity::Medium], services: "Sitio web", campaign: None, interruption: Some((30, 300)), personal_data: false },
    Template { title: "Servidor comunicándose con infraestructura de mando y control", description: "El firewall bloqueó conexiones periódicas de un servidor interno hacia un dominio asociado a mando y control.", class: "malicious-code", kind: "c2-server", severity: &[Severity::High], services: "Servidores de aplicaciones", campaign: Some(1), interruption: None, personal_data: false },
    Template { title: "Interrupción del servicio por configuración errónea", description: "Un cambio en el balanceador dejó sin servicio a la banca en línea durante la ventana de mantenimiento extendida.", class: "availability", kind: "misconfiguration", severity: &[Severity::Medium], services: "Banca en línea", campaign: None, interruption: Some((60, 240)), personal_data: false },
    Template { title: "Acceso no autorizado a expedientes clínicos", description: "Un usuario con credenciales robadas consultó expedientes clínicos fuera de su unidad médica.", class: "information-content-security", kind: "unauthorised-information-access", severity: &[Severity::High], services: "Expediente clínico electrónico", campaign: None, interruption: None, personal_data: true },
    Template { title: "Fraude por suplantación en transferencias", description: "Clientes reportan transferencias no reconocidas tras recibir mensajes SMS que suplantan a la institución.", class: "fraud", kind: "masquerade", severity: &[Severity::Medium, Severity::High], services: "Transferencias SPEI", campaign: Some(0), interruption: None, personal_data: true },
    Template { title: "Servicio expuesto con cifrado débil", description: "Un análisis externo identificó un servicio de administración expuesto con TLS 1.0 y suites débiles.", class: "vulnerable", kind: "weak-crypto", severity: &[Severity::Low], services: "Administración remota", campaign: None, interruption: None, personal_data: false },
    Template { title: "Alteración de lecturas en sistema SCADA", description: "Operadores observaron lecturas anómalas en la HMI de una subestación; se cambió a operación manual.", class: "intrusions", kind: "system-compromise", severity: &[Severity::Critical], services: "Telecontrol de subestaciones", campaign: None, interruption: Some((45, 720)), personal_data: false },
];

/// Indicators shared by several reports: what makes "also reported by N institutions" appear.
const CAMPAIGNS: &[(&str, &[&str])] = &[
    (
        "Phishing fiscal con devoluciones falsas",
        &[
            "sat-devoluciones.example",
            "https://sat-devoluciones.example/efirma/login",
            "198.51.100.23",
            "avisos@sat-devoluciones.example",
        ],
    ),
    (
        "Ransomware LockBit contra sector público",
        &[
            "203.0.113.66",
            "c2-actualiza.example",
            "a3f5e1c2b4d6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718",
        ],
    ),
    ("DDoS hacktivista de fin de año", &["192.0.2.0/24", "203.0.113.128/25"]),
    (
        "Explotación de VPN perimetrales",
        &["CVE-2024-21762", "CVE-2024-3400", "198.51.100.200"],
    ),
];

const RESOLUTIONS: &[&str] = &[
    "Se contuvo el incidente, se restablecieron credenciales y se aplicaron los parches pendientes.",
    "Se restauraron los servicios desde respaldos verificados; no se confirmó exfiltración.",
    "Se bloquearon los indicadores en el perímetro y se notificó a los usuarios afectados.",
    "Falso positivo confirmado tras revisión de registros.",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn random_ip(rng: &mut StdRng) -> String {
    let nets = ["198.51.100", "203.0.113", "192.0.2"];
    format!("{}.{}", pick(rng, &nets), rng.gen_range(1..255))
}

fn random_hash(rng: &mut StdRng) -> String {
    (0..32).map(|_| format!("{:02x}", rng.gen::<u8>())).collect()
}

/// The person who reports for an entity (its reporter, else its security officer), as an actor.
async fn reporter_of(services: &Services, entity_id: &str) -> Result<Option<Actor>> {
    let row = sqlx::query("SELECT id, email, role FROM users WHERE entity_id = $1 AND role IN ('reporter', 'security_officer') AND active = 1 ORDER BY role DESC, email LIMIT 1")
        .bind(entity_id)
        .fetch_optional(services.db().pool())
        .await?;
    Ok(match row {
        Some(r) => Some(Actor {
            principal: Principal::User {
                user_id: r.try_get("id")?,
            },
            label: r.try_get("email")?,
            entity_id: entity_id.to_string(),
            role: Role::parse(&r.try_get::<String, _>("role")?),
            national: false,
            purposes: vec![],
        }),
        None => None,
    })
}

async fn demo_assignments(services: &Services) -> Result<()> {
    let system = Actor::system();
    let by = |profile: &str, sector: Option<&str>, kind: Option<EntityKind>| DeadlineAssignment {
        id: String::new(),
        profile_id: profile.into(),
        entity_id: None,
        sector_id: sector.map(String::from),
        entity_kind: kind,
    };
    for kind in [
        EntityKind::Federal,
        EntityKind::State,
        EntityKind::Municipal,
        EntityKind::Autonomous,
    ] {
        services
            .incidents()
            .assign_deadline_profile(&system, by("apf", None, Some(kind)))
            .await?;
    }
    // Regulated financial operators; the tax and finance ministries at the sector's top level follow
    // the APF policy through their kind.
    for sector in ["banca", "valores", "seguros", "pagos"] {
        services
            .incidents()
            .assign_deadline_profile(&system, by("financiero", Some(sector), None))
            .await?;
    }
    for sector in ["energia", "telecom", "transporte", "agua", "salud"] {
        services
            .incidents()
            .assign_deadline_profile(&system, by("nis2", Some(sector), None))
            .await?;
    }
    Ok(())
}

/// Load the incident history. `progress(done, total)` is called as incidents are written.
pub async fn load(services: &Services, now: Micros, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<usize> {
    demo_assignments(services).await?;
    let mut rng = StdRng::seed_from_u64(2026);
    let entities: Vec<String> =
        sqlx::query("SELECT id FROM entities WHERE national_authority = 0 AND active = 1 ORDER BY name")
            .fetch_all(services.db().pool())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
    let handlers: Vec<(String, String)> = sqlx::query(&format!("SELECT u.id, u.email FROM users u JOIN entities e ON e.id = u.entity_id WHERE e.national_authority = 1 AND u.role IN ({}) ORDER BY u.email", crate::model::Role::csirt_sql_list()))
        .fetch_all(services.db().pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("email")?)))
        .collect::<Result<_>>()?;
    let mut campaign_ids = Vec::new();
    for (name, _) in CAMPAIGNS {
        let c = services
            .incidents()
            .create_campaign(
                &csirt_actor(),
                CampaignInput {
                    name: (*name).into(),
                    description: "Agrupación de incidentes con indicadores comunes.".into(),
                    tlp: Tlp::Amber,
                },
            )
            .await?;
        campaign_ids.push(c.id);
    }
    let mut filed = 0;
    for n in 0..DEMO_INCIDENTS {
        progress(n as u64, DEMO_INCIDENTS as u64);
        let entity = pick(&mut rng, &entities).clone();
        let Some(reporter) = reporter_of(services, &entity).await? else {
            continue;
        };
        let t = pick(&mut rng, TEMPLATES);
        // More recent months hold more reports, as reporting culture grows.
        let days_ago = (rng.gen::<f64>().powf(1.6) * 330.0) as i64;
        let received = now - days_ago * DAY - rng.gen_range(0..DAY);
        let detected = received - rng.gen_range(HOUR / 2..30 * HOUR);
        let mut observables: Vec<String> = (0..rng.gen_range(0..3)).map(|_| random_ip(&mut rng)).collect();
        if rng.gen_bool(0.3) {
            observables.push(random_hash(&mut rng));
        }
        let campaign = t.campaign.filter(|_| rng.gen_bool(0.45));
        if let Some(c) = campaign {
            for o in CAMPAIGNS[c].1.iter().filter(|_| rng.gen_bool(0.6)) {
                observables.push((*o).to_string());
            }
        }
        let tlp = *pick(
            &mut rng,
            &[
                Tlp::Green,
                Tlp::Green,
                Tlp::Amber,
                Tlp::Amber,
                Tlp::AmberStrict,
                Tlp::Clear,
            ],
        );
        let input = ReportInput {
            entity_id: Some(entity.clone()),
            title: t.title.into(),
            description: t.description.into(),
            detected_at: time::rfc3339(detected),
            occurred_at: None,
            rsit_class: t.class.into(),
            rsit_type: t.kind.into(),
            severity: *pick(&mut rng, t.severity),
            tlp,
            pap: *pick(&mut rng, &[Pap::Green, Pap::Amber, Pap::Amber, Pap::Red]),
            affected_services: t.services.into(),
            affected_systems: String::new(),
            interruption_minutes: t.interruption.map(|(lo, hi)| rng.gen_range(lo..=hi)),
            people_affected: t.personal_data.then(|| rng.gen_range(10..50_000)),
            data_compromised: t.personal_data && rng.gen_bool(0.5),
            personal_data: t.personal_data,
            observables: observables
                .into_iter()
                .map(|value| ObservableInput { kind: None, value })
                .collect(),
        };
        let channel = if rng.gen_bool(0.3) { "api" } else { "web" };
        let incident = services
            .incidents()
            .file_report_at(&reporter, input, channel, None, received)
            .await?
            .incident;
        let handler = pick(&mut rng, &handlers).clone();
        handle(
            services,
            &mut rng,
            &incident.id,
            &incident.entity_id,
            received,
            now,
            &handler,
            campaign.map(|c| campaign_ids[c].as_str()),
        )
        .await?;
        send_stages(services, &mut rng, &incident.id, &reporter, &handler, now).await?;
        filed += 1;
    }
    // The history's notices are old news; leave only the last two days' unread.
    sqlx::query("UPDATE notifications SET read_at = created_at WHERE created_at < $1")
        .bind(now - 2 * DAY)
        .execute(services.db().pool())
        .await?;
    progress(DEMO_INCIDENTS as u64, DEMO_INCIDENTS as u64);
    Ok(filed)
}

fn csirt_actor() -> Actor {
    Actor {
        role: Some(Role::CsirtAnalyst),
        label: "demo".into(),
        ..Actor::system()
    }
}

/// What the CSIRT did with a report, written at the times it happened.
#[allow(clippy::too_many_arguments)]
async fn handle(
    services: &Services,
    rng: &mut StdRng,
    id: &str,
    entity_id: &str,
    received: Micros,
    now: Micros,
    handler: &(String, String),
    campaign: Option<&str>,
) -> Result<()> {
    let age = now - received;
    if age < 6 * HOUR && rng.gen_bool(0.7) {
        return Ok(()); // still new in the queue
    }
    let acked = received + rng.gen_range(HOUR / 4..10 * HOUR).min(age);
    let closed = (age > 20 * DAY && rng.gen_bool(0.8)).then(|| acked + rng.gen_range(DAY..18 * DAY));
    let status = match closed {
        Some(_) => "closed",
        None => *pick(
            rng,
            &["triage", "in_progress", "containment", "eradication", "recovery"],
        ),
    };
    let actor = Actor {
        principal: Principal::User {
            user_id: handler.0.clone(),
        },
        label: handler.1.clone(),
        ..csirt_actor()
    };
    let mut tx = services.db().begin_write().await?;
    sqlx::query("UPDATE incidents SET status = $1, assignee_id = $2, acknowledged_at = $3, closed_at = $4, resolution = $5, campaign_id = $6, updated_at = $7 WHERE id = $8")
        .bind(status)
        .bind(&handler.0)
        .bind(acked)
        .bind(closed)
        .bind(closed.map(|_| pick(rng, RESOLUTIONS).to_string()))
        .bind(campaign)
        .bind(closed.unwrap_or(acked))
        .bind(id)
        .execute(tx.conn())
        .await?;
    for (at, kind, body) in [
        (Some(acked), "status", format!("new → {status}")),
        (Some(acked), "assignment", handler.1.clone()),
        (closed, "close", "Cerrado por el CSIRT nacional".to_string()),
    ] {
        let Some(at) = at else { continue };
        sqlx::query("INSERT INTO incident_journal (id, incident_id, at, author_id, author_label, kind, body, shared) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)")
            .bind(new_record_id())
            .bind(id)
            .bind(at)
            .bind(&handler.0)
            .bind(&handler.1)
            .bind(kind)
            .bind(&body)
            .execute(tx.conn())
            .await?;
    }
    audit::append(&mut tx, &actor, Change::act("demo_history", "incident", id, entity_id)).await?;
    tx.commit().await
}

/// The later stages the entity sent (updates, final reports), mostly on time, some late, a few never;
/// stages that wait for the CSIRT's request are requested first, about half the time.
async fn send_stages(
    services: &Services,
    rng: &mut StdRng,
    id: &str,
    reporter: &Actor,
    handler: &(String, String),
    now: Micros,
) -> Result<()> {
    let csirt = Actor {
        principal: Principal::User {
            user_id: handler.0.clone(),
        },
        label: handler.1.clone(),
        ..csirt_actor()
    };
    for _ in 0..40 {
        let inc = services.incidents().load_incident(id).await?;
        let d = services.incidents().deadlines_at(&inc, now).await?;
        let Some(st) = d
            .stages
            .iter()
            .find(|s| s.submitted_at.is_none() && s.state != DeadlineState::NotApplicable)
        else {
            break;
        };
        let mut tx = services.db().begin_write().await?;
        match st.due_at {
            None => {
                // Waiting for the CSIRT to ask for it.
                let asked = inc.acknowledged_at.unwrap_or(inc.created_at) + rng.gen_range(DAY..3 * DAY);
                if asked > now || rng.gen_bool(0.5) {
                    break;
                }
                sqlx::query("INSERT INTO incident_stage_requests (incident_id, stage_id, requested_by, requested_at) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(&st.stage_id)
                    .bind(&csirt.label)
                    .bind(asked)
                    .execute(tx.conn())
                    .await?;
                audit::append(
                    &mut tx,
                    &csirt,
                    Change::act("demo_history", "incident", id, &inc.entity_id),
                )
                .await?;
            }
            Some(due) => {
                let at = if rng.gen_bool(0.85) {
                    due - rng.gen_range(HOUR..20 * HOUR)
                } else {
                    due + rng.gen_range(HOUR..30 * HOUR)
                };
                let at = at.max(inc.created_at + HOUR);
                if at > now || rng.gen_bool(0.04) {
                    break;
                }
                let body = serde_json::json!({
                    "incident_id": id,
                    "reference": inc.reference,
                    "stage_id": st.stage_id,
                    "summary": "Actualización del estado de contención y de los sistemas afectados.",
                });
                let sub = services
                    .incidents()
                    .store_submission(&mut tx, reporter, id, &inc.reference, &st.stage_id, &body, at)
                    .await?;
                audit::append(
                    &mut tx,
                    reporter,
                    Change::created("incident_submission", &sub, &inc.entity_id, &body),
                )
                .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

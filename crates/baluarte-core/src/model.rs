//! Domain records of the registry, and the vocabularies (roles, entity kinds, TLP, token purposes).

use crate::time::{rfc3339_serde, Micros};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a vocabulary: an enum whose wire names (`as_str`, serde and the OpenAPI schema alike) are the
/// given strings. The names are taken as `tt`, not `literal`: a `literal` fragment reaches derive
/// macros wrapped in an invisible group, which utoipa's derive does not read as a `rename`, so the
/// document would list the Rust names (`Green`) while the server speaks `GREEN`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// What a person does on the platform. The national roles exist only at the national authority.
    Role {
        Admin => "admin",
        Coordinator => "coordinator",
        CsirtAnalyst => "csirt_analyst",
        SocAnalyst => "soc_analyst",
        SecurityOfficer => "security_officer",
        Reporter => "reporter",
        Auditor => "auditor",
    }
}

impl Role {
    /// The roles that make up the national CSIRT: they handle incidents, are told of new reports and
    /// may be assigned cases (at the national authority).
    pub const CSIRT: [Role; 2] = [Role::CsirtAnalyst, Role::Coordinator];

    pub fn is_csirt(self) -> bool {
        Role::CSIRT.contains(&self)
    }

    /// [`Role::CSIRT`] as an SQL list (`'csirt_analyst', 'coordinator'`), for `role IN (…)`.
    pub fn csirt_sql_list() -> String {
        Role::CSIRT
            .iter()
            .map(|r| format!("'{}'", r.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Roles that only a member of the national authority may hold.
    pub fn is_national_only(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Coordinator | Role::CsirtAnalyst | Role::SocAnalyst
        )
    }
    /// Roles that must use a second factor (national roles, and an auditor at the national authority).
    pub fn requires_totp(self, at_national_authority: bool) -> bool {
        self.is_national_only() || (at_national_authority && self == Role::Auditor)
    }
}

vocabulary! {
    EntityKind {
        Federal => "federal",
        State => "state",
        Municipal => "municipal",
        Autonomous => "autonomous",
        Private => "private",
    }
}

vocabulary! {
    /// Traffic Light Protocol 2.0.
    Tlp {
        Red => "RED",
        AmberStrict => "AMBER+STRICT",
        Amber => "AMBER",
        Green => "GREEN",
        Clear => "CLEAR",
    }
}

vocabulary! {
    /// What an API token may be used for.
    Purpose {
        RegistryRead => "registry:read",
        IncidentsWrite => "incidents:write",
        EventsWrite => "events:write",
        AdvisoriesRead => "advisories:read",
        IndicatorsRead => "indicators:read",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sector {
    pub id: String,
    pub parent_id: Option<String>,
    pub name_es: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub acronym: Option<String>,
    pub kind: EntityKind,
    pub parent_id: Option<String>,
    pub sector_id: Option<String>,
    /// ISO 3166-2 code of the state of the republic, e.g. `MX-JAL`.
    pub state_code: Option<String>,
    /// IANA time zone in which the entity's deadlines run.
    pub time_zone: String,
    pub national_authority: bool,
    pub active: bool,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Micros,
}

/// A contact as the 24/7 directory lists it: with the name of its institution, which a reader sees even
/// when it may not open the institution itself (a GREEN contact of another entity), since a contact
/// without its institution is no use at three in the morning.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryEntry {
    #[serde(flatten)]
    pub contact: Contact,
    pub entity_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub id: String,
    pub entity_id: String,
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    pub is_24_7: bool,
    pub tlp: Tlp,
    pub active: bool,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Micros,
}

/// A user as others may see it: never the password hash or the TOTP secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub entity_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub totp_enabled: bool,
    pub active: bool,
    pub lang: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
}

/// An API token's metadata; the secret itself is shown once at creation and stored only hashed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub entity_id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub purposes: Vec<Purpose>,
    pub created_by: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Micros,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Micros>,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Micros>,
}

impl ApiToken {
    pub fn is_usable(&self, now: Micros) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    /// The rule the entry was written by, which its hash commits to: 1 (record digests over the state's
    /// JSON text as the first release wrote it), 2 (over its canonical JSON, keys sorted).
    pub format: i64,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Micros,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_label: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub entity_id: String,
    pub before_digest: String,
    pub after_digest: String,
    /// JSON list of the fields the write changed.
    pub changes: String,
    pub prev_hash: String,
    pub hash: String,
}

/// One page of a list, with the total so that clients can page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Page request, clamped to sane bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub const MAX_PER_PAGE: i64 = 200;
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        let page = page.unwrap_or(1).max(1);
        let per_page = per_page.unwrap_or(50).clamp(1, Self::MAX_PER_PAGE);
        Self { page, per_page }
    }
    /// Rows before the page. A page past `i64::MAX` rows reads as that many (an empty page), never an
    /// overflow: `page` is any integer a client sends.
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

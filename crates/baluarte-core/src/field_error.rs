//! Why a field was rejected, as data: a stable code and its parameters.
//!
//! The service layer never writes a sentence for a person. It says *which* rule a value broke
//! (`too_long`, with `max = 200`); the web layer renders that in the reader's language from the
//! locale files (`field_error.<code>`), the API returns the code and the parameters so that a client
//! can act on them, and the CLI prints the English text. A page therefore never has to parse a
//! message to decide what to show, and a new language needs no code.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Declares [`FieldCode`], its wire names and the list of every code (for the locale check). The names
/// are `tt`, not `literal`, so that utoipa's derive reads the `rename` (see `model::vocabulary!`).
macro_rules! field_codes {
    ($($(#[$doc:meta])* $variant:ident = $name:tt),+ $(,)?) => {
        /// The rule a field broke. The wire name (`as_str`) is part of the API: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        pub enum FieldCode {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)+
        }

        impl FieldCode {
            /// Every code, so that a test can prove each one has a text in every language.
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$variant),+];

            /// The code as it appears in the API and in the locale keys.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FieldCode::$variant => $name,)+
                }
            }
        }
    };
}

field_codes! {
    /// Empty or missing.
    Required = "required",
    /// Shorter than `min` characters.
    TooShort = "too_short",
    /// Longer than `max` characters.
    TooLong = "too_long",
    /// Holds control characters (`\u{0}`, escape sequences, bidi controls are not text).
    ControlCharacters = "control_characters",
    /// Not an e-mail address.
    NotEmail = "not_email",
    /// Another record already has this value.
    AlreadyInUse = "already_in_use",
    /// Not a date and time (`example` shows the expected form).
    NotDateTime = "not_date_time",
    /// A time after now.
    InFuture = "in_future",
    /// A time before `year`.
    TooEarly = "too_early",
    /// Later than the detection time.
    AfterDetection = "after_detection",
    /// Not a whole number of zero or more.
    NotCount = "not_count",
    /// A number outside `min`..=`max`.
    OutOfRange = "out_of_range",
    /// More than `max` observables in one report.
    TooManyObservables = "too_many_observables",
    /// An observable kind (`kind`) that does not exist.
    UnknownObservableKind = "unknown_observable_kind",
    /// An empty observable.
    ObservableEmpty = "observable_empty",
    /// A value (`value`) whose kind cannot be told.
    ObservableUnrecognised = "observable_unrecognised",
    /// A value (`value`) that is not a valid observable; `detail` is the parser's technical reason.
    ObservableInvalid = "observable_invalid",
    /// A network (`value`) too broad to correlate.
    NetworkTooBroad = "network_too_broad",
    /// A class/type pair (`class`, `type`) that is not in the taxonomy.
    NotInTaxonomy = "not_in_taxonomy",
    /// The entity is deactivated.
    EntityDeactivated = "entity_deactivated",
    /// No such entity.
    UnknownEntity = "unknown_entity",
    /// No such sector.
    UnknownSector = "unknown_sector",
    /// No such user.
    UnknownUser = "unknown_user",
    /// No such incident.
    UnknownIncident = "unknown_incident",
    /// No such campaign.
    UnknownCampaign = "unknown_campaign",
    /// An unknown status (`value`).
    UnknownStatus = "unknown_status",
    /// An unknown webhook event (`value`).
    UnknownEvent = "unknown_event",
    /// Not one of `choices`.
    NotOneOf = "not_one_of",
    /// Nothing chosen where at least one is needed.
    ChooseAtLeastOne = "choose_at_least_one",
    /// A deadline rule must name exactly one of entity, sector or kind of entity.
    OneTarget = "one_target",
    /// Not one of the incident's stages (`choices`).
    NotAStage = "not_a_stage",
    /// The incident is closed.
    IncidentClosed = "incident_closed",
    /// Closing, rejecting and merging have their own acts.
    StatusHasOwnAct = "status_has_own_act",
    /// Not another incident that is not itself merged.
    NotMergeable = "not_mergeable",
    /// Not an active CSIRT analyst or coordinator of the national authority.
    NotAssignable = "not_assignable",
    /// A role that exists only at the national authority.
    NationalRoleOnly = "national_role_only",
    /// A file without a name.
    FileNameRequired = "file_name_required",
    /// An empty file.
    FileEmpty = "file_empty",
    /// A file of `size` bytes over the limit of `max_mib` MiB.
    FileTooLarge = "file_too_large",
    /// Not an http(s) URL without credentials.
    NotHttpUrl = "not_http_url",
    /// A URL whose host is, or resolves to, an internal address (`address`, in the range `range`:
    /// `loopback`, `private`, `link_local`, …) that the webhook address policy does not allow.
    InternalAddress = "internal_address",
    /// An entity named as its own parent.
    OwnParent = "own_parent",
    /// Not an ISO 3166-2 subdivision code.
    NotStateCode = "not_state_code",
    /// Not an IANA time zone.
    NotTimeZone = "not_time_zone",
    /// Not a telephone number.
    NotPhone = "not_phone",
    /// RED on a contact, which has no named recipients.
    RedNeedsRecipients = "red_needs_recipients",
    /// Not a lowercase slug.
    NotSlug = "not_slug",
    /// Not a language of the interface.
    NotLanguage = "not_language",
    /// Not the account's current password.
    WrongPassword = "wrong_password",
    /// The confirmation differs from the new password.
    PasswordMismatch = "password_mismatch",
    /// A one-time code that is not valid.
    CodeNotValid = "code_not_valid",
    /// An idempotency key that is not 1 to 255 printable ASCII characters.
    NotIdempotencyKey = "not_idempotency_key",
    /// A document that cannot be read; `detail` is the parser's technical reason (with its line,
    /// column or path).
    Malformed = "malformed",
    /// A directory that must be empty and is not (`path`).
    NotEmpty = "not_empty",
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected field: which, why, and the values the reason refers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field as the caller named it (`title`, `observables[2]`, `Idempotency-Key`).
    pub field: String,
    pub code: FieldCode,
    /// The values the code refers to (`max`, `choices`, `value`, `detail`, …).
    pub params: BTreeMap<String, serde_json::Value>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode) -> Self {
        Self {
            field: field.into(),
            code,
            params: BTreeMap::new(),
        }
    }

    /// The same error with one more parameter.
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(name.to_string(), value.into());
        self
    }

    /// A parameter as text (a string as it is, anything else as JSON).
    pub fn param(&self, name: &str) -> Option<String> {
        self.params.get(name).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// The same error under another field name (a page that shows two fields as one input).
    pub fn renamed(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

/// For logs and tests only (`title: too_long {max: 200}`); people read the translated text.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)?;
        if !self.params.is_empty() {
            let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            write!(f, " {{{}}}", params.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_serialise_as_their_name() {
        let mut seen = std::collections::HashSet::new();
        for code in FieldCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::json!(name)));
        }
    }

    #[test]
    fn an_error_carries_its_parameters_as_json() {
        let e = FieldError::new("title", FieldCode::TooLong).with("max", 200);
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"field": "title", "code": "too_long", "params": {"max": 200}})
        );
        assert_eq!(e.param("max").as_deref(), Some("200"));
        assert_eq!(e.to_string(), "title: too_long {max: 200}");
    }
}

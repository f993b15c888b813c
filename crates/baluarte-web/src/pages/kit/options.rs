//! The options of selects that several pages offer.

use crate::i18n::Lang;
use baluarte_core::model::{Sector, Tlp};

/// One option of a select.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: &str, label: impl Into<String>, selected: &str) -> Self {
        Opt {
            value: value.to_string(),
            label: label.into(),
            selected: value == selected,
        }
    }
}

/// A sector's name in the page's language.
pub fn sector_label(s: &Sector, lang: Lang) -> &str {
    if lang == Lang::En {
        &s.name_en
    } else {
        &s.name_es
    }
}

/// Sectors for a select, subsectors under their sector.
pub fn sector_options(sectors: &[Sector], selected: &str, lang: Lang) -> Vec<Opt> {
    sectors
        .iter()
        .map(|s| {
            let label = match s.parent_id {
                Some(_) => format!("\u{2014} {}", sector_label(s, lang)),
                None => sector_label(s, lang).to_string(),
            };
            Opt::new(&s.id, label, selected)
        })
        .collect()
}

/// TLP markings for a select, least restrictive first. `with_red` offers TLP:RED too, which needs
/// named recipients (a contact, for one, may not carry it).
pub fn tlp_options(selected: &str, with_red: bool) -> Vec<Opt> {
    [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
        .iter()
        .filter(|m| with_red || **m != Tlp::Red)
        .map(|m| Opt::new(m.as_str(), format!("TLP:{m}"), selected))
        .collect()
}

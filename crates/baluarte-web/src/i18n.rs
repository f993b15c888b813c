//! Interface language: Spanish (es-MX) by default, English on request. Texts live in
//! `locales/{es,en}.toml` as flat `key = "text"` tables; a test keeps both files and the templates in
//! step.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Lang {
    #[default]
    Es,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }
    /// The `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Es => "es-MX",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "es" | "es-MX" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }
}

pub const ES: &str = include_str!("../locales/es.toml");
pub const EN: &str = include_str!("../locales/en.toml");

fn table(text: &str) -> HashMap<String, String> {
    toml::from_str::<HashMap<String, String>>(text).unwrap_or_default()
}

fn tables() -> &'static (HashMap<String, String>, HashMap<String, String>) {
    static T: OnceLock<(HashMap<String, String>, HashMap<String, String>)> = OnceLock::new();
    T.get_or_init(|| (table(ES), table(EN)))
}

/// Translator handed to templates as `t`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }
    /// The text for `key`; a missing key shows itself, so it is noticed rather than blank.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        let (es, en) = tables();
        let map = if self.lang == Lang::En { en } else { es };
        match map.get(key) {
            Some(s) => s.as_str(),
            None => key,
        }
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
    /// A field error from the service layer (English, stable phrases) in the page's language: the
    /// phrase is looked up under `v.<phrase>`; an unknown phrase is shown as it is.
    pub fn field_error<'a>(&self, message: &'a str) -> std::borrow::Cow<'a, str> {
        let (es, en) = tables();
        let map = if self.lang == Lang::En { en } else { es };
        match map.get(&format!("v.{message}")) {
            Some(s) => std::borrow::Cow::Owned(s.clone()),
            None => std::borrow::Cow::Borrowed(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys_and_parse() {
        let es = table(ES);
        let en = table(EN);
        assert!(es.len() > 50, "es.toml must parse");
        let mut missing: Vec<_> = es.keys().filter(|k| !en.contains_key(*k)).collect();
        missing.extend(en.keys().filter(|k| !es.contains_key(*k)));
        assert!(missing.is_empty(), "keys in one language only: {missing:?}");
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let es = table(ES);
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/pages"),
        ];
        let mut unknown = Vec::new();
        for dir in dirs {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for part in text.split("t(\"").skip(1) {
                    if let Some(key) = part.split('"').next() {
                        if key.contains('.') && !es.contains_key(key) {
                            unknown.push(format!("{}: {key}", entry.path().display()));
                        }
                    }
                }
            }
        }
        assert!(unknown.is_empty(), "keys without a text: {unknown:#?}");
    }
}

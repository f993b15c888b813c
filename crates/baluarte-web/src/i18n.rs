//! Interface language: Spanish (es-MX) by default, English on request. Texts live in
//! `locales/{es,en}.toml` as flat `key = "text"` tables; a test keeps both files and the templates in
//! step.

use baluarte_core::FieldError;
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
    /// Why a field was rejected, in the page's language: the text of `field_error.<code>` with each
    /// `{name}` replaced by the error's parameter of that name.
    pub fn error(&self, e: &FieldError) -> String {
        let key = format!("field_error.{}", e.code.as_str());
        let mut text = self.t(&key).to_string();
        for name in e.params.keys() {
            if let Some(value) = e.param(name) {
                text = text.replace(&format!("{{{name}}}"), &value);
            }
        }
        text
    }
}

/// The English translator: the language of the API's messages and of the command line.
pub fn english() -> Tr {
    Tr::new(Lang::En)
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

    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    const ROOT: &str = env!("CARGO_MANIFEST_DIR");

    /// Every file under `dir`, at any depth.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// What a key looks like: `family.name`, lower case.
    fn key_shape() -> regex_lite::Regex {
        regex_lite::Regex::new(r#""([a-z][a-z0-9_]*)\.([a-z0-9_]+)"(\s*=>)?"#).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The keys one source file uses: what it passes to `t("…")`, and the string literals of the
    /// table's families that it hands around as keys (`"istatus.new"` for a status, `"flash.task_done"`
    /// for a `done` code, `"dl.overdue"` for a deadline state). A literal before `=>` is the value being
    /// mapped (`"incident.reported" => "notice.incident_reported"`), and one ending in a file extension
    /// is a file name; neither is a key.
    fn keys_in(text: &str, families: &BTreeSet<&str>) -> Vec<String> {
        key_shape()
            .captures_iter(text)
            .filter(|c| c.get(3).is_none())
            .filter(|c| families.contains(&c[1]) && !matches!(&c[2], "html" | "css" | "js" | "json" | "csv" | "toml"))
            .map(|c| format!("{}.{}", &c[1], &c[2]))
            .collect()
    }

    /// The families of keys that code builds with `format!("family.{…}")`, each with every value it can
    /// be built from. A new builder must be added here, so that its keys are checked too.
    fn built_keys(family: &str) -> Option<Vec<String>> {
        use baluarte_core::model::{EntityKind, Role};
        let all = |names: Vec<&str>| Some(names.into_iter().map(|n| format!("{family}.{n}")).collect());
        match family {
            "role" => all(Role::ALL.iter().map(|r| r.as_str()).collect()),
            "kind" => all(EntityKind::ALL.iter().map(|k| k.as_str()).collect()),
            "field_error" => all(baluarte_core::FieldCode::ALL.iter().map(|c| c.as_str()).collect()),
            _ => None,
        }
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let es = table(ES);
        let families: BTreeSet<&str> = es.keys().filter_map(|k| k.split('.').next()).collect();
        let mut unknown = Vec::new();
        let mut used = BTreeSet::new();
        let mut note = |path: &Path, key: String| {
            if !es.contains_key(&key) {
                unknown.push(format!("{}: {key}", path.display()));
            }
            used.insert(key);
        };

        let templates = files_under(&Path::new(ROOT).join("templates"));
        assert!(
            templates.len() >= 20,
            "only {} templates under {ROOT}/templates: did they move? This check must read them all",
            templates.len()
        );
        for path in &templates {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for part in text.split("t(\"").skip(1) {
                if let Some(key) = part.split('"').next().filter(|k| k.contains('.')) {
                    note(path, key.to_string());
                }
            }
        }

        let sources: Vec<PathBuf> = files_under(&Path::new(ROOT).join("src"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        assert!(
            sources.len() >= 10,
            "only {} source files under {ROOT}/src",
            sources.len()
        );
        let builder = regex_lite::Regex::new(r#"format!\("([a-z][a-z0-9_]*)\.\{"#).unwrap_or_else(|e| panic!("{e}"));
        let mut builders = BTreeSet::new();
        for path in &sources {
            let whole = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // What the code shows, not what its unit tests (this one too) build.
            let text = whole.split("#[cfg(test)]").next().unwrap_or_default();
            for key in keys_in(text, &families) {
                note(path, key);
            }
            for c in builder.captures_iter(text) {
                builders.insert((c[1].to_string(), path.clone()));
            }
        }
        for (family, path) in &builders {
            let keys = built_keys(family).unwrap_or_else(|| {
                panic!(
                    "{}: keys are built as format!(\"{family}.{{…}}\"); list the values they are built from in built_keys",
                    path.display()
                )
            });
            for key in keys {
                note(path, key);
            }
        }

        assert!(unknown.is_empty(), "keys without a text: {unknown:#?}");
        // A check that finds next to nothing proves nothing: the templates and pages use hundreds.
        assert!(
            used.len() >= 400,
            "only {} keys found in templates and code",
            used.len()
        );
    }

    /// A parameter named in one language and not the other would show as `{name}` to its readers.
    #[test]
    fn field_error_texts_name_the_same_parameters_in_both_languages() {
        let placeholders = |text: &str| -> BTreeSet<String> {
            text.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}'))
                .map(|(n, _)| n.to_string())
                .collect()
        };
        let (es, en) = (table(ES), table(EN));
        for code in baluarte_core::FieldCode::ALL {
            let key = format!("field_error.{}", code.as_str());
            let (Some(a), Some(b)) = (es.get(&key), en.get(&key)) else {
                panic!("{key} has no text");
            };
            assert_eq!(placeholders(a), placeholders(b), "{key}");
        }
        let e = baluarte_core::FieldError::new("title", baluarte_core::FieldCode::TooLong).with("max", 200);
        assert_eq!(Tr::new(Lang::Es).error(&e), "debe tener como máximo 200 caracteres");
        assert_eq!(english().error(&e), "must be at most 200 characters");
    }

    #[test]
    fn every_deadline_state_has_a_label() {
        use baluarte_core::incident::DeadlineState;
        let es = table(ES);
        let missing: Vec<String> = DeadlineState::ALL
            .iter()
            .map(|s| format!("dl.{}", s.as_str()))
            .filter(|k| !es.contains_key(k))
            .collect();
        assert!(missing.is_empty(), "deadline states without a label: {missing:?}");
    }
}

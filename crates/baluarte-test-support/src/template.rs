//! What a template's content depends on, as a short hash in its name: a template made from other
//! migrations, another dataset, another test clock or other core code is another template, so a stale
//! one is never reused.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::OnceLock;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The migrated schema depends on the migration files alone.
pub(crate) fn migrations_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut h = Sha256::new();
        hash_tree(&mut h, &Path::new(WORKSPACE).join("crates/baluarte-core/migrations"));
        short(h)
    })
}

/// The demo store depends on the schema, the dataset, the instant the test clock starts at (the
/// records carry it) and the code that writes the records: the core and the crates it builds on, and
/// the locked dependency versions.
pub(crate) fn demo_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut h = Sha256::new();
        h.update(migrations_key());
        h.update(baluarte_core::demo::MX_DATASET);
        h.update(crate::clock::start().to_le_bytes());
        let root = Path::new(WORKSPACE);
        for dir in [
            "crates/baluarte-core/src",
            "crates/baluarte-deadlines/src",
            "crates/baluarte-notify/src",
            "crates/baluarte-observables/src",
            "crates/baluarte-stix/src",
        ] {
            hash_tree(&mut h, &root.join(dir));
        }
        hash_file(&mut h, &root.join("Cargo.lock"));
        short(h)
    })
}

fn short(h: Sha256) -> String {
    hex::encode(&h.finalize()[..8])
}

/// Every file under `dir`, in a stable order, with its path (so a rename changes the key too).
fn hash_tree(h: &mut Sha256, dir: &Path) {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
        Err(_) => {
            h.update(format!("absent:{}", dir.display()));
            return;
        }
    };
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hash_tree(h, &path);
        } else {
            hash_file(h, &path);
        }
    }
}

fn hash_file(h: &mut Sha256, path: &Path) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    h.update(name.as_bytes());
    h.update([0]);
    h.update(std::fs::read(path).unwrap_or_default());
    h.update([0]);
}

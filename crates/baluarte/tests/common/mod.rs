//! The shared corpora (`../shared/data` beside the repository, or `BALUARTE_CORPUS`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// The corpus directory, or None (with a message) when it is absent; under CI its absence fails.
pub fn corpus() -> Option<PathBuf> {
    // A relative setting is relative to the workspace root (tests run from the crate's directory).
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join(
        std::env::var_os("BALUARTE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    if dir.join("sigma").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the shared corpus is required under CI and absent at {}",
        dir.display()
    );
    eprintln!("corpus absent at {}; skipping", dir.display());
    None
}

//! Locating the shared corpus: `BALUARTE_CORPUS`, else `../shared/data` beside the workspace root.

use std::path::PathBuf;

#[allow(clippy::print_stdout)]
pub fn corpus() -> Option<PathBuf> {
    // A relative setting is relative to the workspace root (tests run from the crate's directory).
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(
        std::env::var_os("BALUARTE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    if path.join("sigma").is_dir() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "corpus not found at {} (set BALUARTE_CORPUS); CI requires it",
            path.display()
        );
    }
    println!("skipped: corpus not found at {} (set BALUARTE_CORPUS)", path.display());
    None
}

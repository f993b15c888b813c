//! Locating the shared corpus: `BALUARTE_CORPUS`, else `../shared/data` beside the workspace root; when
//! absent, `baluarte_test_support::require` decides (a failure under CI, a skip elsewhere).

use std::path::PathBuf;

pub fn corpus() -> Option<PathBuf> {
    baluarte_test_support::require::corpus("sigma")
}

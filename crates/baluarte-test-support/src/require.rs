//! The one rule for what a test needs and may not find.
//!
//! Some tests need things outside the repository: a PostgreSQL server, a judge (stix2-validator, a Python
//! with aiosmtpd or taxii2-client), the shared corpus. Under CI (the variable `CI` set to any non-empty
//! value, as every CI system does) a missing one fails the test: a green run must mean the judges ran.
//! Elsewhere the test prints why on stderr and is skipped, so a developer without them can still run
//! the rest. Every such decision goes through [`missing`].

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Whether this is a CI run: `CI` is set to anything but the empty string.
pub fn under_ci() -> bool {
    is_ci(std::env::var_os("CI").as_deref())
}

/// The rule behind [`under_ci`], for one value of `CI`: `1`, `true`, even `false` mean CI (a CI system
/// that sets the variable means it); only unset or empty does not.
fn is_ci(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Something this test needs is not there. Under CI: a panic naming it. Otherwise: a line on stderr,
/// and the caller returns (skips).
#[track_caller]
pub fn missing(what: impl Display) {
    if under_ci() {
        panic!("required under CI (CI is set): {what}");
    }
    eprintln!("skipped: {what} (required under CI)");
}

/// The Python to run judges with: `BALUARTE_PYTHON`, else `python3` on the PATH.
pub fn python_program() -> PathBuf {
    std::env::var_os("BALUARTE_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| "python3".into())
}

/// The Python of [`python_program`] when it imports every module in `modules`; otherwise [`missing`]
/// and None.
#[track_caller]
pub fn python(modules: &[&str]) -> Option<PathBuf> {
    let python = python_program();
    let script = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let imports = Command::new(&python)
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if imports {
        return Some(python);
    }
    missing(format!(
        "{} cannot import {} (set BALUARTE_PYTHON to a Python with tests/sharing/requirements.txt installed)",
        python.display(),
        modules.join(", ")
    ));
    None
}

/// The executable named by the variable `var` (`what` says what it is), when set and present;
/// otherwise [`missing`] and None.
#[track_caller]
pub fn executable(var: &str, what: &str) -> Option<PathBuf> {
    let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()).map(PathBuf::from) else {
        missing(format!("{var} is not set ({what})"));
        return None;
    };
    if !is_executable(&path) {
        missing(format!("{var}={} is not an executable file ({what})", path.display()));
        return None;
    }
    Some(path)
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The shared corpus: `BALUARTE_CORPUS`, else `../shared/data` beside the workspace (a relative setting
/// is relative to the workspace root, since tests run from their crate's directory). Present when it
/// holds `marker` (a subdirectory such as `sigma` or `evtx`); otherwise [`missing`] and None.
#[track_caller]
pub fn corpus(marker: &str) -> Option<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = workspace.join(
        std::env::var_os("BALUARTE_CORPUS")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    if root.join(marker).is_dir() {
        return Some(root);
    }
    missing(format!(
        "the shared corpus is absent at {} (no {marker}/; set BALUARTE_CORPUS)",
        root.display()
    ));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn any_non_empty_ci_value_is_ci() {
        for value in ["true", "1", "yes", "false", "0"] {
            assert!(is_ci(Some(OsStr::new(value))), "CI={value}");
        }
        assert!(!is_ci(Some(OsStr::new(""))), "CI= (empty)");
        assert!(!is_ci(None), "CI unset");
    }
}

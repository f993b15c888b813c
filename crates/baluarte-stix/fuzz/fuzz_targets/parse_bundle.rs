#![no_main]
//! Any bytes given as a partner's bundle are read or refused; never a panic. Whatever imports has its skips
//! explained, and the observables of every indicator are what its pattern gives again.

use baluarte_stix::{parse_bundle, pattern_observables, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_objects: 1_000,
        ..Limits::default()
    };
    if let Ok(imported) = parse_bundle(data, &limits) {
        assert!(imported.skipped.iter().all(|s| !s.reason.is_empty()));
        assert!(imported.incidents.len() + imported.indicators.len() + imported.skipped.len() <= imported.object_count);
        for i in imported.indicators.iter().filter(|i| !i.observables.is_empty()) {
            assert!(pattern_observables(&i.pattern).is_ok_and(|o| o == i.observables));
        }
    }
    // The pattern reader on its own, on arbitrary text.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pattern_observables(text);
    }
});

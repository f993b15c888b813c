#![no_main]
//! Any text as any kind, and to `detect`: accepted or refused, never a panic. What is accepted must be stable:
//! its canonical value and its defanged text normalise to the same observable, and `detect` finds it again.

use baluarte_observables::{detect, normalise, Kind, Observable};
use libfuzzer_sys::fuzz_target;

fn check(o: &Observable) {
    assert_eq!(normalise(o.kind, &o.value).as_ref(), Ok(o), "not idempotent");
    assert_eq!(detect(&o.value).as_ref(), Ok(o), "detect of a canonical value differs");
    assert_eq!(
        normalise(o.kind, &o.defanged()).as_ref(),
        Ok(o),
        "defanged does not round-trip"
    );
    let _ = (o.key(), o.related_keys());
    if let Some((lo, hi)) = o.ip_range() {
        assert!(lo.len() == 32 && hi.len() == 32 && lo <= hi, "bad range {lo} {hi}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(o) = detect(text) {
            check(&o);
        }
        for kind in Kind::ALL {
            if let Ok(o) = normalise(kind, text) {
                check(&o);
            }
        }
    }
});

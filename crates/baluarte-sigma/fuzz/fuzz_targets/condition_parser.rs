#![no_main]
//! The condition grammar never panics and never recurses without bound.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = baluarte_sigma::condition::parse_condition(text);
    }
});

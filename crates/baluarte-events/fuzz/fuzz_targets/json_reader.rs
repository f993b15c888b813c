//! Any bytes read as JSON (lines or documents): every record is one JSON object on one line, and
//! reading ends.
#![no_main]

use std::path::Path;

use baluarte_events::{from_bytes, Format, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        format: Some(Format::Json),
        max_record_bytes: 4096,
        ..ReadOptions::default()
    };
    let Ok(records) = from_bytes(Path::new("fuzz.json"), data.to_vec(), &options) else {
        return;
    };
    for record in records.flatten() {
        assert!(!record.json.contains('\n'));
        // Well-formed JSON (syntax; numbers beyond f64 are legal JSON, so not serde_json::Value) and an object.
        serde_json::from_str::<serde::de::IgnoredAny>(&record.json).expect("records are JSON");
        assert!(record.json.starts_with('{'));
    }
});

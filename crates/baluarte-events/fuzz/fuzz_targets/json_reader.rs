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
        let value: serde_json::Value = serde_json::from_str(&record.json).expect("records are JSON");
        assert!(value.is_object());
    }
});

//! Any bytes after an EVTX file header: the reader reports errors, never panics, and every record is
//! one JSON object.
#![no_main]

use std::path::Path;

use baluarte_events::{from_bytes, Format, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        format: Some(Format::Evtx),
        ..ReadOptions::default()
    };
    // Give most inputs a valid file header so that the fuzzer reaches the chunks.
    let mut file = data.to_vec();
    if !file.starts_with(b"ElfFile\0") {
        let mut header = vec![0u8; 4096];
        header[..8].copy_from_slice(b"ElfFile\0");
        header[32..36].copy_from_slice(&128u32.to_le_bytes());
        header[38..40].copy_from_slice(&3u16.to_le_bytes());
        header[40..42].copy_from_slice(&4096u16.to_le_bytes());
        header[42..44].copy_from_slice(&1u16.to_le_bytes());
        header.extend_from_slice(b"ElfChnk\0");
        header.extend_from_slice(data);
        file = header;
    }
    let Ok(records) = from_bytes(Path::new("fuzz.evtx"), file, &options) else {
        return;
    };
    for record in records.flatten() {
        let value: serde_json::Value = serde_json::from_str(&record.json).expect("records are JSON");
        assert!(value.is_object());
    }
});

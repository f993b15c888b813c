//! Any line: the syslog parser returns an error or one JSON object, and never panics.
#![no_main]

use baluarte_events::syslog::SyslogParser;
use baluarte_events::ReadOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let parser = SyslogParser::new(&ReadOptions {
        syslog_year: Some(2024),
        ..ReadOptions::default()
    });
    if let Ok(json) = parser.to_json(&line) {
        let value: serde_json::Value = serde_json::from_str(&json).expect("syslog output is JSON");
        assert!(value.is_object());
    }
});

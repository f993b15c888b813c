#![no_main]
//! Any text given as a rule file loads or is reported; never a panic. Loaded rules then evaluate an event.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut b = baluarte_sigma::EngineBuilder::new();
        b.add_yaml("fuzz.yml", text);
        let (engine, _report) = b.build();
        let mut out = Vec::new();
        let _ = engine.evaluate_json(r#"{"product":"test","A":"x","Event":{"System":{"Channel":"Security","EventID":1}}}"#, &mut out);
    }
});

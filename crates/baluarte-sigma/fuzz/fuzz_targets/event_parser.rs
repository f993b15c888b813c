#![no_main]
//! Any bytes as an event: parsed or rejected with an offset; never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut fields = baluarte_sigma::FieldTable::default();
        for f in ["A", "EventID", "Channel", "Provider_Name", "process.command_line"] {
            fields.intern(f);
        }
        if let Ok(ev) = baluarte_sigma::Event::parse(text, &fields) {
            for l in ev.leaves() {
                let _ = (ev.text(l), ev.lower(l));
            }
        }
    }
});

//! C2SP signed notes and checkpoints.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(note) = sigil_tlog::Note::parse(text) {
            let _ = sigil_tlog::Checkpoint::parse(&note.body);
        }
        let _ = sigil_tlog::Checkpoint::parse(text);
    }
});

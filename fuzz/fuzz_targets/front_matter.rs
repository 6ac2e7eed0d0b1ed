//! Splits and parses any text as a content file (a typed page and a section).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wegweiser::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let split = fuzz_api::split_front_matter(&text);
    if let Ok((fm_start, fm_end, body)) = split {
        assert!(fm_start <= fm_end && fm_end <= body && body <= text.len());
        for i in [fm_start, fm_end, body] {
            assert!(text.is_char_boundary(i), "offset {i} inside a character");
        }
    }
    let (parsed, diagnostics) = fuzz_api::parse_file(&text);
    assert!(parsed <= 2);
    if split.is_err() {
        assert_eq!(parsed, 0, "a file without front matter parsed");
        assert!(
            !diagnostics.is_empty(),
            "a file without front matter gave no error"
        );
    }
});

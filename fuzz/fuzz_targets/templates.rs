//! Loads any text as site templates (page.html, index.html, the menu partial) and renders a
//! tiny in-memory site with them: every outcome must be outputs or diagnostics, never a panic,
//! a stack overflow or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wegweiser::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match fuzz_api::render_templates(&text) {
        Ok(outputs) => assert!(!outputs.is_empty(), "{text:?} rendered nothing"),
        // Every diagnostic names a file.
        Err(diags) => assert!(diags.iter().all(|d| !d.starts_with(':')), "{diags:?}"),
    }
});

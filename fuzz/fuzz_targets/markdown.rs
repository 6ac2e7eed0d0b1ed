//! Renders any text as Markdown (page body and inline field).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wegweiser::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let html = fuzz_api::render_markdown(&text);
    // Raw HTML is sanitised on pages: no script element can come through.
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "script element in sanitised output: {html}"
    );
});

//! Renders any text as Markdown (page body and inline field).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wegweiser::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let html = fuzz_api::render_markdown(&text);
    // Raw HTML is sanitised on pages and script URLs in Markdown links are refused: no script
    // element and no href/src starting with javascript: can come through.
    let lower = html.to_ascii_lowercase();
    assert!(
        !lower.contains("<script"),
        "script element in sanitised output: {html}"
    );
    // Only inside a tag: escaped text (a code block showing HTML) may contain the words.
    for (at, _) in lower.match_indices("=\"javascript:") {
        let before = &lower[..at];
        let in_tag = before.rfind('<') > before.rfind('>');
        assert!(!in_tag, "javascript: URL in sanitised output: {html}");
    }
});

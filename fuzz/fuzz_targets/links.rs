//! Resolves any link destination from a page of a tiny in-memory site.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wegweiser::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let dest = String::from_utf8_lossy(data);
    let result = fuzz_api::resolve_link(&dest);
    let written: String = dest.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    if let (Some(_), Ok(html)) = (written.strip_prefix("@/"), &result) {
        // An internal link that resolved points below the site's base URL.
        let href = format!("href=\"{}", fuzz_api::BASE_URL);
        assert!(html.contains(&href), "{dest:?} resolved to {html}");
    }
});

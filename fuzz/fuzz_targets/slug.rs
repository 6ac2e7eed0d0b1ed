//! slugify: only [a-z0-9-], no leading, trailing or double '-', idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wegweiser::fuzz_api;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let slug = fuzz_api::slugify(&text);
    assert!(
        slug.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{text:?} -> {slug:?}: outside [a-z0-9-]"
    );
    assert!(!slug.contains("--"), "{text:?} -> {slug:?}: double '-'");
    assert!(
        !slug.starts_with('-') && !slug.ends_with('-'),
        "{text:?} -> {slug:?}: leading or trailing '-'"
    );
    assert_eq!(
        fuzz_api::slugify(&slug),
        slug,
        "not idempotent for {text:?}"
    );
});

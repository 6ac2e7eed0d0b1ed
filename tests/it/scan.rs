//! Reading a built site back for the publishing tests: every output file as searchable text
//! (the Pagefind index decompressed and decoded), and the link attributes of HTML and XML.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Every file below `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// `a/b/c.html` relative to `dir`, with `/` separators.
pub fn rel(dir: &Path, file: &Path) -> String {
    file.strip_prefix(dir)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// What Pagefind writes before its (gzip-compressed) payload, after decompression.
pub const PAGEFIND_SIGNATURE: &[u8] = b"pagefind_dcd";

/// Pagefind data files: `.pf_fragment` (JSON), `.pf_index`, `.pf_meta`, `.pf_filter` (CBOR).
pub fn is_pagefind_data(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.starts_with("pf_"))
}

/// Decompresses a Pagefind data file and strips its signature; panics if the file is not
/// gzip or does not carry the signature (then this test no longer sees inside the index).
pub fn pagefind_payload(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{} is not gzip: {e}", path.display()));
    match raw.strip_prefix(PAGEFIND_SIGNATURE) {
        Some(payload) => payload.to_vec(),
        None => panic!(
            "{} has no {:?} signature after decompression",
            path.display(),
            String::from_utf8_lossy(PAGEFIND_SIGNATURE)
        ),
    }
}

/// The text strings of a CBOR document (Pagefind's index and metadata): the indexed words.
pub fn cbor_strings(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        if cbor_item(data, &mut pos, &mut out, 0).is_none() {
            // Not CBOR after all: fall back to the readable runs, never to nothing.
            out.push(String::from_utf8_lossy(data).into_owned());
            break;
        }
    }
    out
}

fn cbor_item(d: &[u8], pos: &mut usize, out: &mut Vec<String>, depth: usize) -> Option<()> {
    if depth > 64 {
        return None;
    }
    let first = *d.get(*pos)?;
    *pos += 1;
    let major = first >> 5;
    let info = first & 0x1f;
    let arg = |pos: &mut usize| -> Option<Option<u64>> {
        let n = match info {
            0..=23 => return Some(Some(u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Some(None), // indefinite length
            _ => return None,
        };
        let bytes = d.get(*pos..*pos + n)?;
        *pos += n;
        Some(Some(
            bytes.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)),
        ))
    };
    let len = arg(pos)?;
    match (major, len) {
        (0 | 1, Some(_)) => {}
        (2 | 3, Some(n)) => {
            let n = usize::try_from(n).ok()?;
            let bytes = d.get(*pos..pos.checked_add(n)?)?;
            *pos += n;
            if major == 3 {
                out.push(String::from_utf8_lossy(bytes).into_owned());
            }
        }
        (2..=5, None) => {
            while *d.get(*pos)? != 0xff {
                cbor_item(d, pos, out, depth + 1)?;
            }
            *pos += 1;
        }
        (4, Some(n)) => {
            for _ in 0..n {
                cbor_item(d, pos, out, depth + 1)?;
            }
        }
        (5, Some(n)) => {
            for _ in 0..n.checked_mul(2)? {
                cbor_item(d, pos, out, depth + 1)?;
            }
        }
        (6, Some(_)) => cbor_item(d, pos, out, depth + 1)?,
        (7, _) => {}
        _ => return None,
    }
    Some(())
}

/// Every string in a JSON value (keys and values), depth first.
fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                json_strings(x, out);
            }
        }
        _ => {}
    }
}

/// A file of a built site as text to search in: HTML, XML, CSV, JSON as they are; Pagefind data
/// decompressed (fragments: every JSON string; index and metadata: every CBOR string).
pub fn text_of(path: &Path) -> String {
    if is_pagefind_data(path) {
        let payload = pagefind_payload(path);
        if path.extension().is_some_and(|e| e == "pf_fragment") {
            let json: serde_json::Value = serde_json::from_slice(&payload)
                .unwrap_or_else(|e| panic!("{}: fragment is not JSON: {e}", path.display()));
            let mut strings = Vec::new();
            json_strings(&json, &mut strings);
            return strings.join("\n");
        }
        return cbor_strings(&payload).join("\n");
    }
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

/// The common HTML entities decoded.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Runs of whitespace (also non-breaking spaces) as one space.
pub fn squash(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Tags removed (`Die <strong>BA</strong> hat` → `Die BA hat`).
pub fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The ways a text can show in an output file: as is, entities decoded, and without tags; each
/// with whitespace squashed.
pub fn variants(text: &str) -> Vec<String> {
    let plain = unescape(text);
    vec![
        squash(text),
        squash(&plain),
        squash(&unescape(&strip_tags(text))),
    ]
}

/// Values of the given attributes (`href`, `src`, …), entities decoded, in document order.
pub fn attr_values(html: &str, names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = html.as_bytes();
    let lower = html.to_ascii_lowercase();
    for name in names {
        let pat = format!("{name}=");
        let mut from = 0;
        while let Some(i) = lower[from..].find(&pat) {
            let at = from + i;
            from = at + pat.len();
            // A whole attribute name: preceded by whitespace.
            if at == 0 || !bytes[at - 1].is_ascii_whitespace() {
                continue;
            }
            let rest = &html[from..];
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            };
            out.push((at, unescape(value)));
        }
    }
    out.sort();
    out.into_iter().map(|(_, v)| v).collect()
}

/// `<loc>` values of a sitemap.
pub fn sitemap_locs(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .map(|s| unescape(s.split("</loc>").next().unwrap_or("")))
        .collect()
}

/// German URL slug as the engine makes it (ä→ae, ß→ss, & → und, lowercase, hyphens), for
/// names taken from content files; tests check the result against the built site.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        match c {
            'ä' | 'Ä' => s.push_str("ae"),
            'ö' | 'Ö' => s.push_str("oe"),
            'ü' | 'Ü' => s.push_str("ue"),
            'ß' => s.push_str("ss"),
            '&' => s.push_str("-und-"),
            c if c.is_alphanumeric() => s.extend(c.to_lowercase()),
            _ => s.push('-'),
        }
    }
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

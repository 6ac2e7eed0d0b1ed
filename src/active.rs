//! Active content in editors' files: an SVG or HTML file in `content/` is published on the
//! agency's domain, where a browser that opens it runs its script.
//!
//! HTML-like files (`.html`, `.htm`, `.xhtml`, `.xht`, `.shtml`, `.mht`, `.mhtml`, `.xml`,
//! `.xsl`, `.xslt`) and compressed SVG (`.svgz`, which cannot be checked) are refused. SVG files
//! are checked against an allowlist: drawing elements only, no event handlers, no namespace
//! tricks, URLs only to the drawing itself (`#id`), to raster images or, for links, to web
//! pages. `static/` and the theme are the publisher's and are not checked; with
//! `[markdown] trusted_html = true` the publisher trusts editors' HTML and nothing is checked.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::Diagnostic;

const REFUSED: [&str; 11] = [
    "html", "htm", "xhtml", "xht", "shtml", "mht", "mhtml", "xml", "xsl", "xslt", "svgz",
];

/// SVG elements that only draw (no script, no embedded documents, no animation that could
/// rewrite a link).
const SVG_ELEMENTS: [&str; 58] = [
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "metadata",
    "symbol",
    "use",
    "switch",
    "view",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "a",
    "image",
    "marker",
    "pattern",
    "clipPath",
    "mask",
    "linearGradient",
    "radialGradient",
    "stop",
    "style",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feConvolveMatrix",
    "feDiffuseLighting",
    "feDisplacementMap",
    "feDistantLight",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
    "fePointLight",
    "feSpecularLighting",
    "feSpotLight",
    "feTile",
    "feTurbulence",
    "font-face",
    "font-face-src",
    "font-face-name",
];

const SVG_NS: &str = "http://www.w3.org/2000/svg";
/// Namespaces whose elements a browser would run or render as documents.
const ACTIVE_NS: [&str; 3] = [
    SVG_NS,
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1998/Math/MathML",
];

const SVG_HINT: &str = "SVG files in content/ may only draw: remove scripts, event handlers (on…), embedded HTML and links to other files (or export the drawing as PNG)";

/// The errors for one asset of `content/` (none for files that cannot hold active content).
pub(crate) fn check(abs: &Path, shown: &Path) -> Vec<Diagnostic> {
    let ext = abs
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if REFUSED.contains(&ext.as_str()) {
        let hint = if ext == "svgz" {
            "save the drawing uncompressed as .svg, so it can be checked"
        } else {
            "write the page in Markdown, or offer the file as PDF or in a ZIP archive; a publisher can put reviewed files into static/"
        };
        return vec![Diagnostic::error(
            shown,
            format!("a .{ext} file in content/ would run as a web page on the site"),
        )
        .with_hint(hint)];
    }
    if ext != "svg" {
        return Vec::new();
    }
    let text = match crate::files::read_regular(abs).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            return vec![Diagnostic::error(shown, "SVG file is not UTF-8 text")
                .with_hint("save the drawing as plain SVG in UTF-8")]
        }
        // Reading errors are reported when the file is copied.
        Err(_) => return Vec::new(),
    };
    check_svg(&text)
        .into_iter()
        .map(|(offset, msg)| {
            Diagnostic::error(shown, msg)
                .at(&text, offset)
                .with_hint(SVG_HINT)
        })
        .collect()
}

/// Every problem of an SVG document as (byte offset, message); ill-formed XML stops the check.
pub(crate) fn check_svg(text: &str) -> Vec<(usize, String)> {
    let mut reader = Reader::from_str(text);
    let mut found = Vec::new();
    let mut in_style = 0usize;
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let event = match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => e,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(offset);
                found.push((at, format!("SVG file is not well-formed XML: {e}")));
                break;
            }
        };
        let problem = match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                if name == "style" && matches!(event, Event::Start(_)) {
                    in_style += 1;
                }
                check_element(e)
            }
            Event::End(e) if e.name().as_ref() == "style" => {
                in_style = in_style.saturating_sub(1);
                None
            }
            Event::Text(t) if in_style > 0 => css_problem(t.as_ref()),
            Event::CData(t) if in_style > 0 => css_problem(t.as_ref()),
            // `&#64;import` would arrive in pieces; styles need no references.
            Event::GeneralRef(_) if in_style > 0 => {
                Some("SVG file has a character reference in a style".to_string())
            }
            Event::PI(_) => Some("SVG file contains a processing instruction (`<?…?>`), which can load a style sheet that runs script".to_string()),
            Event::DocType(t) if AsRef::<str>::as_ref(t).contains('[') => Some("SVG file declares entities in its DOCTYPE".to_string()),
            _ => None,
        };
        found.extend(problem.map(|p| (offset, p)));
    }
    found
}

fn check_element(e: &BytesStart<'_>) -> Option<String> {
    let qname = e.name();
    let name: &str = qname.as_ref();
    // Prefixed elements (Inkscape's `sodipodi:…`) are inert unless their prefix is bound to an
    // active namespace, which the attribute check refuses.
    if !name.contains(':') && !SVG_ELEMENTS.contains(&name) {
        return Some(format!(
            "SVG file contains `<{name}>`, which is not a drawing element"
        ));
    }
    for attr in e.attributes().with_checks(false) {
        let Ok(attr) = attr else {
            return Some("SVG file has a malformed attribute".to_string());
        };
        let key: &str = attr.key.as_ref();
        let Ok(value) = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
            return Some(format!("SVG file has an undefined entity in `{key}`"));
        };
        if let Some(p) = attribute_problem(name, key, &value) {
            return Some(p);
        }
    }
    None
}

fn attribute_problem(element: &str, key: &str, value: &str) -> Option<String> {
    let local = key.rsplit(':').next().unwrap_or(key);
    if local.to_ascii_lowercase().starts_with("on") {
        return Some(format!(
            "SVG file has the event handler `{key}` on `<{element}>`"
        ));
    }
    if key == "xmlns" && value != SVG_NS {
        return Some(format!("SVG file declares the namespace `{value}`"));
    }
    if key.starts_with("xmlns:") && ACTIVE_NS.contains(&value.trim()) {
        return Some(format!("SVG file binds `{key}` to the namespace `{value}`"));
    }
    if local == "href" && !href_allowed(element, value) {
        return Some(format!("SVG file links `<{element}>` to `{value}`"));
    }
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if ["javascript:", "vbscript:"]
        .iter()
        .any(|s| compact.contains(s))
    {
        return Some(format!("SVG file has a script URL in `{key}`"));
    }
    css_problem(value).map(|p| format!("{p} (in `{key}`)"))
}

/// `<use>` and the like may only point into the drawing; links may go to web pages; images
/// may come from files or be embedded raster images.
fn href_allowed(element: &str, value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    if v.starts_with('#') {
        return true;
    }
    let scheme = v.split_once(':').map(|(s, _)| s);
    let relative = scheme.is_none_or(|s| s.contains(['/', '?', '#']));
    match element {
        "a" => relative || matches!(scheme, Some("http" | "https" | "mailto")),
        "image" => {
            relative
                || matches!(scheme, Some("http" | "https"))
                || ["png", "jpeg", "jpg", "gif", "webp"]
                    .iter()
                    .any(|t| v.starts_with(&format!("data:image/{t};")))
        }
        _ => false,
    }
}

/// Style sheets may only refer to the drawing itself (`url(#id)`).
fn css_problem(css: &str) -> Option<String> {
    let lower = css.to_ascii_lowercase();
    for bad in [
        "@import",
        "expression(",
        "javascript:",
        "-moz-binding",
        "behavior:",
        "\\",
    ] {
        if lower.contains(bad) {
            return Some(format!("SVG file has `{bad}` in a style"));
        }
    }
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("url(") {
        rest = &rest[i + 4..];
        let target = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
        if !target.starts_with('#') {
            return Some("SVG file has a style URL that leaves the drawing".to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(svg: &str) -> Vec<String> {
        check_svg(svg).into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn plain_drawings_pass() {
        let svg = r##"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 10 10">
  <style>.a { fill: url(#g); }</style>
  <defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>
  <inkscape:grid/>
  <a href="https://www.example.org/"><rect class="a" width="5" height="5" fill="url( '#g')"/></a>
  <use xlink:href="#g"/><image href="data:image/png;base64,AAAA"/>
</svg>"##;
        assert_eq!(problems(svg), Vec::<String>::new());
    }

    #[test]
    fn active_content_is_found() {
        let cases = [
            ("<svg><script>alert(1)</script></svg>", "`<script>`"),
            ("<svg onload=\"alert(1)\"/>", "event handler `onload`"),
            ("<svg><foreignObject/></svg>", "`<foreignObject>`"),
            (
                "<svg><a href=\"&#106;avascript:alert(1)\"/></svg>",
                "links `<a>`",
            ),
            (
                "<svg><use href=\"https://evil.example/x.svg#a\"/></svg>",
                "links `<use>`",
            ),
            (
                "<svg><image href=\"data:image/svg+xml;base64,AA\"/></svg>",
                "links `<image>`",
            ),
            (
                "<svg><set attributeName=\"href\" to=\"javascript:x\"/></svg>",
                "`<set>`",
            ),
            (
                "<svg xmlns:h=\"http://www.w3.org/1999/xhtml\"><h:script/></svg>",
                "binds `xmlns:h`",
            ),
            (
                "<svg><g xmlns=\"http://www.w3.org/1999/xhtml\"/></svg>",
                "declares the namespace",
            ),
            (
                "<?xml-stylesheet href=\"x.xsl\"?><svg/>",
                "processing instruction",
            ),
            ("<svg><style>@import url(x.css);</style></svg>", "`@import`"),
            (
                "<svg><rect style=\"fill:url(https://x/)\"/></svg>",
                "style URL",
            ),
            ("<!DOCTYPE svg [<!ENTITY a \"b\">]><svg/>", "entities"),
            ("<svg><rect></svg>", "not well-formed"),
        ];
        for (svg, expected) in cases {
            let p = problems(svg);
            assert!(p.iter().any(|m| m.contains(expected)), "{svg}: {p:?}");
        }
    }

    #[test]
    fn positions_point_at_the_element() {
        let svg = "<svg>\n  <rect/>\n  <script/>\n</svg>";
        let found = check_svg(svg);
        assert_eq!(found.len(), 1);
        assert_eq!(&svg[found[0].0..found[0].0 + 7], "<script");
    }
}

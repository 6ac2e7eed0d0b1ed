use super::*;
use crate::model::NodeId;

/// Knows two pages: `ziel.md` (page 1) and `andere.md` (page 2). Other `.md`
/// destinations are broken; everything else is left alone.
struct MockResolver;

impl LinkResolver for MockResolver {
    fn resolve(&self, dest: &str) -> Result<Option<LinkTarget>, LinkError> {
        let (path, anchor) = match dest.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor.to_owned())),
            None => (dest, None),
        };
        let (page, url) = match path {
            "ziel.md" => (NodeId::new(1), "/ziel/"),
            "andere.md" | "bild.png" => (NodeId::new(2), "/andere/"),
            p if p.ends_with(".md") => {
                return Err(LinkError {
                    message: format!("Seite „{p}“ gibt es nicht"),
                    hint: Some("ziel.md".to_owned()),
                })
            }
            _ => return Ok(None),
        };
        let url = match &anchor {
            Some(a) => format!("{url}#{a}"),
            None => url.to_owned(),
        };
        Ok(Some(LinkTarget { url, page, anchor }))
    }
}

fn hl() -> &'static Highlighter {
    static HL: std::sync::OnceLock<Highlighter> = std::sync::OnceLock::new();
    HL.get_or_init(|| Highlighter::new().unwrap())
}

fn opts() -> Options {
    Options {
        smart_punctuation: false,
        highlight: true,
        trusted_html: false,
        reserved_ids: Vec::new(),
    }
}

fn md(body: &str) -> Rendered {
    render(body, &opts(), hl(), &MockResolver)
}

fn entry(level: u8, id: &str, title: &str, children: Vec<TocEntry>) -> TocEntry {
    TocEntry {
        level,
        id: id.to_owned(),
        title: title.to_owned(),
        children,
    }
}

#[test]
fn highlighter_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Highlighter>();
}

#[test]
fn german_heading_ids() {
    let r = md("## Übersicht & Ziele\n\nText\n\n### Straße\n");
    assert!(
        r.html
            .contains(r#"<h2 id="uebersicht-und-ziele">Übersicht &amp; Ziele</h2>"#),
        "{}",
        r.html
    );
    assert!(
        r.html.contains(r#"<h3 id="strasse">Straße</h3>"#),
        "{}",
        r.html
    );
    assert_eq!(r.anchors, ["uebersicht-und-ziele", "strasse"]);
}

#[test]
fn explicit_ids_and_attributes() {
    let r = md("## Unsere Ziele {#ziele .wichtig}\n");
    assert_eq!(r.anchors, ["ziele"]);
    assert!(
        r.html
            .contains(r#"<h2 id="ziele" class="wichtig">Unsere Ziele</h2>"#),
        "{}",
        r.html
    );
    assert_eq!(r.toc, [entry(2, "ziele", "Unsere Ziele", vec![])]);
}

#[test]
fn duplicate_ids_are_numbered() {
    let r = md("## Kontakt\n\n## Kontakt\n\n## Kontakt\n\n## !!!\n\n## ???\n");
    assert_eq!(
        r.anchors,
        [
            "kontakt",
            "kontakt-1",
            "kontakt-2",
            "abschnitt",
            "abschnitt-1"
        ]
    );
}

#[test]
fn automatic_ids_avoid_later_explicit_ids() {
    // The explicit id keeps its name; the automatic one steps aside.
    let r = md("## Ziele\n\n## Goals {#ziele}\n\n## Mehr {#ziele}\n");
    assert_eq!(r.anchors, ["ziele-1", "ziele", "ziele-2"]);
}

#[test]
fn toc_is_nested_by_level() {
    let r = md("## A\n### A1\n#### A1a\n### A2\n## B\n#### B-tief\n## C\n");
    assert_eq!(
        r.toc,
        [
            entry(
                2,
                "a",
                "A",
                vec![
                    entry(3, "a1", "A1", vec![entry(4, "a1a", "A1a", vec![])]),
                    entry(3, "a2", "A2", vec![]),
                ]
            ),
            entry(2, "b", "B", vec![entry(4, "b-tief", "B-tief", vec![])]),
            entry(2, "c", "C", vec![]),
        ]
    );
}

#[test]
fn toc_starting_deeper_than_later_headings() {
    let r = md("### Vorab\n## Haupt\n### Unter\n");
    assert_eq!(
        r.toc,
        [
            entry(3, "vorab", "Vorab", vec![]),
            entry(
                2,
                "haupt",
                "Haupt",
                vec![entry(3, "unter", "Unter", vec![])]
            ),
        ]
    );
}

#[test]
fn toc_title_is_plain_text() {
    let r = md("## Die `config.toml` und *mehr*\n");
    assert_eq!(r.toc[0].title, "Die config.toml und mehr");
    assert_eq!(r.toc[0].id, "die-config-toml-und-mehr");
}

#[test]
fn table_is_wrapped() {
    let r = md("| Amt | Ort |\n|-----|-----|\n| Bürgeramt | Rathaus |\n");
    insta::assert_snapshot!(r.html, @r#"
    <div class="table-wrap" tabindex="0">
    <table><thead><tr><th>Amt</th><th>Ort</th></tr></thead><tbody>
    <tr><td>Bürgeramt</td><td>Rathaus</td></tr>
    </tbody></table>
    </div>
    "#);
}

#[test]
fn footnotes_and_strikethrough() {
    let r = md("Text mit Fußnote[^1] und ~~alt~~ neu.\n\n[^1]: Die Fußnote.\n");
    insta::assert_snapshot!(r.html, @r##"
    <p>Text mit Fußnote<sup class="footnote-reference"><a href="#fn-1">1</a></sup> und <del>alt</del> neu.</p>
    <div class="footnote-definition" id="fn-1"><sup class="footnote-definition-label">1</sup>
    <p>Die Fußnote.</p>
    </div>
    "##);
    assert_eq!(r.summary_text, "Text mit Fußnote und alt neu.");
}

#[test]
fn toml_code_block_is_highlighted() {
    let r = md("```toml\n[site]\ntitle = \"Wegweiser\" # Name\n```\n");
    let html = &r.html;
    assert!(
        html.starts_with(r#"<pre class="code" data-lang="toml"><code class="language-toml">"#),
        "{html}"
    );
    assert!(html.ends_with("</code></pre>\n"), "{html}");
    let class_of = |text: &str| -> String {
        let end = html
            .find(&format!(">{text}<"))
            .unwrap_or_else(|| panic!("{text} not in its own span: {html}"));
        let start = html[..end].rfind("<span class=\"").unwrap() + "<span class=\"".len();
        html[start..end].trim_end_matches('"').to_owned()
    };
    let key = class_of("title");
    let string_quote = class_of("Wegweiser");
    assert!(key.starts_with("hl-"), "{key}");
    assert!(string_quote.starts_with("hl-"), "{string_quote}");
    assert_ne!(key, string_quote);
    assert!(html.contains("hl-comment"), "{html}");
    assert!(html.contains("hl-entity hl-name hl-section"), "{html}");
}

#[test]
fn toml_syntax_covers_the_language() {
    let code = r#"# Kommentar
[server]
host = "localhost" # inline
"quoted key" = 'literal'
a.b."c" = 1_000
[[orte]]
name = """
mehr\tzeilig \
"""
raw = '''
C:\pfad
'''
hex = 0xDEAD_beef
oct = 0o755
bin = 0b1010
float = -3.1415e-2
special = [inf, -inf, nan]
on = true
off = false
odt = 1979-05-27T07:32:00Z
ldt = 1979-05-27 07:32:00.5
ld = 1979-05-27
lt = 07:32:00
array = [
  1, 2, # Kommentar
  "drei",
]
inline = { x = 1, y.z = "zwei", w = [1, { v = false }] }
"#;
    let html = hl().highlight(code, "toml").unwrap();
    for class in [
        "hl-comment hl-line",
        "hl-meta hl-section hl-table hl-toml",
        "hl-meta hl-section hl-table hl-array",
        "hl-entity hl-name hl-key hl-bare",
        "hl-entity hl-name hl-key hl-quoted hl-double",
        "hl-string hl-quoted hl-single",
        "hl-string hl-quoted hl-double hl-basic",
        "hl-string hl-quoted hl-triple hl-double",
        "hl-string hl-quoted hl-triple hl-single",
        "hl-constant hl-character hl-escape",
        "hl-constant hl-numeric hl-integer hl-decimal",
        "hl-constant hl-numeric hl-integer hl-hexadecimal",
        "hl-constant hl-numeric hl-integer hl-octal",
        "hl-constant hl-numeric hl-integer hl-binary",
        "hl-constant hl-numeric hl-float",
        "hl-constant hl-language hl-boolean",
        "hl-constant hl-other hl-datetime hl-offset",
        "hl-constant hl-other hl-datetime hl-local",
        "hl-constant hl-other hl-date",
        "hl-constant hl-other hl-time",
        "hl-meta hl-sequence hl-array",
        "hl-meta hl-mapping hl-table hl-inline",
        "hl-punctuation hl-separator hl-key-value",
    ] {
        assert!(html.contains(class), "missing {class}:\n{html}");
    }
    assert!(!html.contains("hl-invalid"), "{html}");
}

#[test]
fn toml_syntax_marks_errors_without_getting_stuck() {
    for code in [
        "key = \n",
        "key\n",
        "= 1\n",
        "[unclosed\nx = 1\n",
        "x = \"open\ny = 2\n",
        "x = { a = 1\n",
        "x = [1, }, 2]\n",
        "x = 1 2\n",
        "x = \"\"\"never closed\n",
        "x = 1",
    ] {
        assert!(hl().highlight(code, "toml").is_some(), "{code}");
    }
    let html = hl().highlight("x = 1 2\n", "toml").unwrap();
    assert!(html.contains("hl-invalid"), "{html}");
}

#[test]
fn unknown_language_falls_back_to_plain_code() {
    let r = md("```klingonisch\nqapla' <b>&\n```\n");
    assert_eq!(
        r.html,
        "<pre class=\"code\" data-lang=\"klingonisch\"><code class=\"language-klingonisch\">qapla&#39; &lt;b&gt;&amp;\n</code></pre>\n"
    );
}

#[test]
fn highlighting_off_and_code_without_language() {
    let off = Options {
        smart_punctuation: false,
        highlight: false,
        trusted_html: false,
        reserved_ids: Vec::new(),
    };
    let r = render("```TOML ignore\na = 1\n```\n", &off, hl(), &MockResolver);
    assert_eq!(
        r.html,
        "<pre class=\"code\" data-lang=\"toml\"><code class=\"language-toml\">a = 1\n</code></pre>\n"
    );
    let r = md("```\na < b\n```\n\n    eingerückt\n");
    assert_eq!(
        r.html,
        "<pre class=\"code\"><code>a &lt; b\n</code></pre>\n<pre class=\"code\"><code>eingerückt\n</code></pre>\n"
    );
}

#[test]
fn other_languages_are_found() {
    for (lang, class) in [
        ("rust", "hl-source hl-rust"),
        ("json", "hl-source hl-json"),
        ("yaml", "hl-source hl-yaml"),
        ("yml", "hl-source hl-yaml"),
        ("sh", "hl-source hl-shell"),
        ("bash", "hl-source hl-shell"),
        ("html", "hl-text hl-html"),
        ("shell", "hl-source hl-shell"),
        ("zsh", "hl-source hl-shell"),
        ("{.toml}", "hl-source hl-toml"),
        ("Rust,ignore", "hl-source hl-rust"),
        ("py", "hl-source hl-python"),
        ("javascript", "hl-source hl-js"),
        ("md", "hl-text hl-html hl-markdown"),
    ] {
        let r = md(&format!("```{lang}\nx\n```\n"));
        assert!(r.html.contains(class), "{lang}: {}", r.html);
    }
    // "text" is not highlighted at all.
    let r = md("```text\nx\n```\n");
    assert!(!r.html.contains("<span"), "{}", r.html);
}

#[test]
fn internal_link_is_rewritten_with_offset() {
    let body = "Siehe auch: [das Ziel](ziel.md#anfang) und [extern](https://example.org).\n";
    let r = md(body);
    assert_eq!(
        r.html,
        "<p>Siehe auch: <a href=\"/ziel/#anfang\">das Ziel</a> und <a href=\"https://example.org\">extern</a>.</p>\n"
    );
    assert_eq!(r.links.len(), 1);
    let (offset, target) = &r.links[0];
    assert_eq!(&body[*offset..*offset + 1], "[");
    assert_eq!(*offset, body.find("[das").unwrap());
    assert_eq!(
        target,
        &LinkTarget {
            url: "/ziel/#anfang".to_owned(),
            page: NodeId::new(1),
            anchor: Some("anfang".to_owned()),
        }
    );
    assert!(r.errors.is_empty());
}

#[test]
fn reference_links_and_images_are_resolved() {
    let body = "![Bild](bild.png) und [Ref][r].\n\n[r]: andere.md\n";
    let r = md(body);
    assert_eq!(
        r.html,
        "<p><img src=\"/andere/\" alt=\"Bild\" /> und <a href=\"/andere/\">Ref</a>.</p>\n"
    );
    let offsets: Vec<usize> = r.links.iter().map(|(o, _)| *o).collect();
    assert_eq!(offsets, [0, body.find("[Ref]").unwrap()]);
}

#[test]
fn broken_link_is_recorded() {
    let body = "Text\n\nEin [kaputter Link](fehlt.md) hier.\n";
    let r = md(body);
    assert!(r.links.is_empty());
    assert_eq!(r.errors.len(), 1);
    let (offset, error) = &r.errors[0];
    assert_eq!(*offset, body.find("[kaputter").unwrap());
    assert_eq!(error.message, "Seite „fehlt.md“ gibt es nicht");
    // The link stays as written.
    assert!(
        r.html.contains("<a href=\"fehlt.md\">kaputter Link</a>"),
        "{}",
        r.html
    );
}

#[test]
fn email_autolink_reaches_resolver_with_scheme() {
    struct Recorder(std::sync::Mutex<Vec<String>>);
    impl LinkResolver for Recorder {
        fn resolve(&self, dest: &str) -> Result<Option<LinkTarget>, LinkError> {
            self.0.lock().unwrap().push(dest.to_owned());
            Ok(None)
        }
    }
    let rec = Recorder(Default::default());
    let r = render(
        "<amt@example.org> <https://example.org> [a](#oben)\n",
        &opts(),
        hl(),
        &rec,
    );
    assert_eq!(
        *rec.0.lock().unwrap(),
        ["mailto:amt@example.org", "https://example.org", "#oben"]
    );
    assert!(
        r.html.contains("href=\"mailto:amt@example.org\""),
        "{}",
        r.html
    );
}

#[test]
fn raw_html_passes_through() {
    let r = md("<div class=\"hinweis\">Achtung</div>\n\nText <kbd>Strg</kbd>\n");
    assert_eq!(
        r.html,
        "<div class=\"hinweis\">Achtung</div>\n<p>Text <kbd>Strg</kbd></p>\n"
    );
}

#[test]
fn smart_punctuation_is_optional() {
    let on = Options {
        smart_punctuation: true,
        highlight: true,
        trusted_html: false,
        reserved_ids: Vec::new(),
    };
    let r = render("\"Hallo\" -- Welt...\n", &on, hl(), &MockResolver);
    assert_eq!(r.html, "<p>“Hallo” – Welt…</p>\n");
    let r = md("\"Hallo\" -- Welt...\n");
    assert_eq!(r.html, "<p>\"Hallo\" -- Welt...</p>\n");
}

#[test]
fn summary_is_first_paragraph_plain_text() {
    let r =
        md("# Titel\n\n![Foto](x.png)\n\nDas  **Amt** hilft\nbei `Fragen`.\n\nZweiter Absatz.\n");
    assert_eq!(r.summary_text, "Das Amt hilft bei Fragen.");
    assert_eq!(md("").summary_text, "");
    assert_eq!(md("## Nur Überschrift\n").summary_text, "");
}

#[test]
fn long_summary_is_cut_at_a_word() {
    let words = "Wort ".repeat(100);
    let s = md(&words).summary_text;
    assert!(s.ends_with("Wort…"), "{s}");
    assert!(
        s.chars().count() <= SUMMARY_MAX_CHARS + 1,
        "{}",
        s.chars().count()
    );
    assert!(!s.contains("  "));
    let unbroken = "x".repeat(400);
    let s = md(&unbroken).summary_text;
    assert_eq!(s.chars().count(), SUMMARY_MAX_CHARS + 1);
    let exact = "ä".repeat(SUMMARY_MAX_CHARS);
    assert_eq!(md(&exact).summary_text, exact);
}

#[test]
fn render_inline_strips_single_paragraph() {
    let r = render_inline("Ein *kurzer* [Text](ziel.md)", &opts(), hl(), &MockResolver);
    assert_eq!(r.html, "Ein <em>kurzer</em> <a href=\"/ziel/\">Text</a>");
    assert_eq!(r.links.len(), 1);
    assert_eq!(r.links[0].0, "Ein *kurzer* ".len());
    let r = render_inline("Eins\n\nZwei", &opts(), hl(), &MockResolver);
    assert_eq!(r.html, "<p>Eins</p>\n<p>Zwei</p>\n");
    let r = render_inline("- Punkt", &opts(), hl(), &MockResolver);
    assert_eq!(r.html, "<ul>\n<li>Punkt</li>\n</ul>\n");
    let r = render_inline("## Kopf", &opts(), hl(), &MockResolver);
    assert!(r.toc.is_empty());
}

#[test]
fn full_page_snapshot() {
    let body = r#"Willkommen beim **Bürgeramt**. Mehr unter [Kontakt](#kontakt).

## Öffnungszeiten

| Tag | Zeit |
|:----|-----:|
| Mo  | 8–12 |

## Kontakt {#kontakt}

Schreiben Sie an [das Team](ziel.md).

```toml
ort = 'Rathaus'
```
"#;
    let r = md(body);
    insta::assert_snapshot!(r.html, @r##"
    <p>Willkommen beim <strong>Bürgeramt</strong>. Mehr unter <a href="#kontakt">Kontakt</a>.</p>
    <h2 id="oeffnungszeiten">Öffnungszeiten</h2>
    <div class="table-wrap" tabindex="0">
    <table><thead><tr><th style="text-align: left">Tag</th><th style="text-align: right">Zeit</th></tr></thead><tbody>
    <tr><td style="text-align: left">Mo</td><td style="text-align: right">8–12</td></tr>
    </tbody></table>
    </div>
    <h2 id="kontakt">Kontakt</h2>
    <p>Schreiben Sie an <a href="/ziel/">das Team</a>.</p>
    <pre class="code" data-lang="toml"><code class="language-toml"><span class="hl-source hl-toml"><span class="hl-meta hl-mapping hl-key hl-toml"><span class="hl-entity hl-name hl-key hl-bare hl-toml">ort</span> <span class="hl-punctuation hl-separator hl-key-value hl-toml">=</span></span> <span class="hl-string hl-quoted hl-single hl-literal hl-toml"><span class="hl-punctuation hl-definition hl-string hl-begin hl-toml">&#39;</span>Rathaus<span class="hl-punctuation hl-definition hl-string hl-end hl-toml">&#39;</span></span>
    </span></code></pre>
    "##);
}

/// Checks that `html` is well-formed markup as the renderer must write it: every `<` opens a
/// tag (or a comment) that closes, elements nest and end (void elements aside), attribute values
/// are quoted and every `&` starts a character reference. Returns the text outside the tags.
#[track_caller]
fn assert_well_formed(html: &str) -> String {
    const VOID: [&str; 8] = ["br", "hr", "img", "input", "meta", "link", "col", "wbr"];
    let mut open: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let end = comment
                .find("-->")
                .unwrap_or_else(|| panic!("open comment in {html:?}"));
            rest = &comment[end + 3..];
            continue;
        }
        let gt = rest
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {html:?}"));
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let top = open.pop();
            assert_eq!(
                top.as_deref(),
                Some(name),
                "</{name}> closes nothing in {html:?}"
            );
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(!name.is_empty(), "`<{tag}>` is no tag in {html:?}");
        // Attributes: name="value" pairs; `<` never inside a tag.
        let attrs = tag[name.len()..].trim_end_matches('/');
        assert!(!attrs.contains('<'), "`<` inside <{tag}> in {html:?}");
        assert_eq!(
            attrs.matches('"').count() % 2,
            0,
            "unquoted value in <{tag}>: {html:?}"
        );
        if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            open.push(name);
        }
    }
    text.push_str(rest);
    assert!(open.is_empty(), "{open:?} never closed in {html:?}");
    for (i, _) in html.match_indices('&') {
        let entity = &html[i..];
        let end = entity.find(';').unwrap_or(entity.len());
        let name = &entity[1..end];
        let known = name.strip_prefix('#').map_or_else(
            || !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            |n| !n.is_empty() && n.chars().all(|c| c.is_ascii_hexdigit() || c == 'x'),
        );
        assert!(known && end < entity.len(), "a bare `&` in {html:?}");
    }
    text
}

#[test]
fn the_well_formedness_check_can_fail() {
    for bad in [
        "<p>offen",
        "<p>a</b>",
        "a < b",
        "Tom & Jerry",
        "<img src=\"x>",
        "<p>a<b>",
    ] {
        let caught = std::panic::catch_unwind(|| assert_well_formed(bad));
        assert!(caught.is_err(), "{bad:?} passed the check");
    }
    assert_eq!(
        assert_well_formed("<p>A &amp; <br>B<!-- c --></p>\n"),
        "A &amp; B\n"
    );
}

#[test]
fn odd_input_gives_well_formed_bounded_output() {
    // Each odd text, and what of it must reach the reader (as text outside the tags).
    let cases: [(&str, &[&str]); 17] = [
        ("", &[]),
        ("#", &[]),
        ("```\n", &[]),
        ("```toml", &[]),
        ("[](<>)", &[]),
        ("[^x]", &["[^x]"]),
        ("[^x]:", &[]),
        ("| a |\n|---|\n", &["a"]),
        ("# {#}\n", &[]),
        ("\u{0}\u{feff}## x\n", &["x"]),
        ("<!-- unclosed", &[]),
        ("```toml\n\"\\\n```\n", &["\\"]),
        ("a < b & c > d", &["a &lt; b &amp; c &gt; d"]),
        ("<b>offen", &["offen"]),
        ("</div>Text", &["Text"]),
        ("![<x>](\"a&b\")", &[]),
        ("[x](<a\"b>)", &["x"]),
    ];
    for (body, kept) in cases {
        for (how, html) in [
            ("render", md(body).html),
            (
                "render_inline",
                render_inline(body, &opts(), hl(), &MockResolver).html,
            ),
        ] {
            let text = assert_well_formed(&html);
            // Control characters never reach the renderer (load refuses binary files, parse
            // refuses control escapes in TOML strings); it adds none of its own.
            assert!(
                !html
                    .chars()
                    .any(|c| c.is_control() && !"\n\t".contains(c) && !body.contains(c)),
                "{how}({body:?}) added a control character: {html:?}"
            );
            assert!(
                html.len() <= 200 + 40 * body.len(),
                "{how}({body:?}) wrote {} bytes: {html:?}",
                html.len()
            );
            for k in kept {
                assert!(text.contains(k), "{how}({body:?}) lost {k:?}: {html:?}");
            }
        }
    }
}

#[test]
fn accessibility_lints_point_at_their_place() {
    let src = "## A\n\n#### B\n\n![](bild.png)\n\n[](ziel.md)\n\n[![Logo](l.png)](x.md)\n\n# C\n";
    let r = render(src, &opts(), hl(), &MockResolver);
    let found: Vec<(usize, bool, &str)> = r
        .lints
        .iter()
        .map(|l| (l.offset, l.error, l.message.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (6, false, "heading level 4 skips level 3"),
            (14, false, "image without alt text"),
            (29, true, "link without text"),
            (66, false, "heading of level 1 in the text"),
        ]
    );
}

#[test]
fn raw_html_is_sanitised_unless_trusted() {
    let src = "Hallo <script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">Link</a> <img src=x onerror=alert(1) alt=\"Bild\"> <b>fett</b>\n\n<div onmouseover=\"x()\">Block</div>\n";
    let r = render(src, &opts(), hl(), &MockResolver);
    for bad in [
        "<script",
        "javascript:",
        "onclick",
        "onerror",
        "onmouseover",
        "alert(1)",
    ] {
        assert!(!r.html.contains(bad), "{bad} left in {}", r.html);
    }
    assert!(r.html.contains("<b>fett</b>"), "{}", r.html);
    assert!(r.html.contains("alt=\"Bild\""), "{}", r.html);
    let trusted = Options {
        trusted_html: true,
        reserved_ids: Vec::new(),
        ..opts()
    };
    let r = render(src, &trusted, hl(), &MockResolver);
    assert!(r.html.contains("<script>alert(1)</script>"), "{}", r.html);
}

#[test]
fn script_urls_in_links_and_images_are_errors() {
    for body in [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](<java\tscript:alert(1)>)",
        "[x](java&#x09;script:alert(1))",
        "[x]( vbscript:msgbox)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
    ] {
        let out = md(body);
        assert_eq!(out.errors.len(), 1, "{body:?}: {:?}", out.errors);
        assert!(
            out.errors[0].1.message.contains("URLs are not allowed"),
            "{body:?}"
        );
        let html = out.html.to_ascii_lowercase();
        assert!(
            html.contains("href=\"#\"") || html.contains("src=\"#\""),
            "{body:?}: {html}"
        );
        assert!(
            !html.contains("=\"java") && !html.contains("=\"data:"),
            "{body:?}: {html}"
        );
    }
}

#[test]
fn harmless_urls_and_trusted_content_pass() {
    for body in [
        "[x](https://example.org/javascript:x)",
        "[x](mailto:a@b.de)",
        "[x](tel:+49301234)",
        "[x](javascript.html)",
        "[x](/pfad?q=javascript:1)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
    ] {
        let out = md(body);
        assert!(out.errors.is_empty(), "{body:?}: {:?}", out.errors);
    }
    let trusted = Options {
        trusted_html: true,
        reserved_ids: Vec::new(),
        ..opts()
    };
    let out = render("[x](javascript:alert(1))", &trusted, hl(), &MockResolver);
    assert!(out.errors.is_empty());
    assert!(
        out.html.contains("href=\"javascript:alert(1)\""),
        "{}",
        out.html
    );
}

fn with_theme_ids(body: &str, ids: &[&str]) -> Rendered {
    let opts = Options {
        reserved_ids: ids.iter().map(|s| s.to_string()).collect(),
        ..opts()
    };
    render(body, &opts, hl(), &MockResolver)
}

#[test]
fn theme_ids_are_found_in_templates() {
    let templates = [
        "<body id=\"seitenanfang\">\n<main id=\"inhalt\" tabindex=\"-1\">",
        "<h2 id=\"{{ g.anchor }}\"> <div data-id=\"nein\"> <p id='einfach'> <a id=\"\">",
    ];
    assert_eq!(
        template_ids(templates),
        ["einfach", "inhalt", "seitenanfang"]
    );
}

#[test]
fn headings_and_footnotes_avoid_the_theme_ids_and_each_other() {
    let r = with_theme_ids(
        "## Inhalt\n\n## Inhalt {#inhalt}\n\n## Fn A\n\nText[^a] und[^Über uns][^A].\n\n[^a]: Eins.\n\n[^Über uns]: Zwei.\n",
        &["inhalt", "seitenanfang"],
    );
    let heading_ids: Vec<&str> = r.toc.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(heading_ids, ["inhalt-1", "inhalt-2", "fn-a-1"]);
    assert!(r.html.contains("id=\"fn-a\""), "{}", r.html);
    assert!(r.html.contains("href=\"#fn-a\">1</a>"), "{}", r.html);
    assert!(r.html.contains("id=\"fn-ueber-uns\""), "{}", r.html);
    assert!(
        r.html.contains("href=\"#fn-ueber-uns\">2</a>"),
        "{}",
        r.html
    );
    // `[^A]` is `[^a]`: the same number and target.
    assert_eq!(
        r.html.matches("href=\"#fn-a\">1</a>").count(),
        2,
        "{}",
        r.html
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        r.anchors,
        ["inhalt-1", "inhalt-2", "fn-a-1", "fn-a", "fn-ueber-uns"]
    );
}

#[test]
fn a_footnote_defined_twice_is_an_error_at_the_second() {
    let text = "Text[^x].\n\n[^x]: Eins.\n\n[^X]: Zwei.\n";
    let r = md(text);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].0, text.find("[^X]:").unwrap());
    assert_eq!(r.errors[0].1.message, "footnote `[^X]` is defined twice");
}

#[test]
fn character_references_to_control_characters_are_errors() {
    let r = md("a &#27;[2J b\n\n[x](y \"&#8;\")\n");
    let messages: Vec<&str> = r.errors.iter().map(|e| e.1.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "character reference to the control character U+001B",
            "character reference to the control character U+0008"
        ]
    );
}

#[test]
fn deeply_nested_raw_html_is_an_error_not_a_hang() {
    let deep = "<div>".repeat(100_000) + "x\n";
    let started = std::time::Instant::now();
    let r = md(&deep);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(
        r.errors[0].1.message,
        "raw HTML nested more than 256 elements deep"
    );
    // Void elements, self-closed and closed ones do not nest.
    let flat = "<br><img src=\"a.png\" alt=\"\"><span/>".repeat(300) + &"<b>x</b>".repeat(300);
    assert!(md(&flat).errors.is_empty());
}

#[test]
fn raw_html_ids_are_unique_and_never_the_theme_ids() {
    let r = with_theme_ids(
        "<a id=\"inhalt\">x</a> <span ID = 'seitenanfang'>y</span> <b id=frei>z</b>\n\n\
         ## Frei\n\n<div\nid=\"&#105;nhalt\" data-id=\"inhalt\">w</div>\n",
        &["inhalt", "seitenanfang"],
    );
    let all: Vec<&str> = r
        .html
        .split(" id=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .collect();
    assert!(r.html.contains("id=\"inhalt-1\""), "{}", r.html);
    assert!(r.html.contains("id=\"seitenanfang-1\""), "{}", r.html);
    assert!(r.html.contains("id=\"frei\""), "{}", r.html);
    assert!(r.html.contains("<h2 id=\"frei-1\">"), "{}", r.html);
    assert!(!r.html.contains("id=\"inhalt\""), "{}", r.html);
    assert!(!r.html.contains("id=\"seitenanfang\""), "{}", r.html);
    let unique: HashSet<&&str> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "{all:?}");
    assert!(r.anchors.iter().any(|a| a == "frei"), "{:?}", r.anchors);
}

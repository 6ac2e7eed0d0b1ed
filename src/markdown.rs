//! Markdown body -> HTML, table of contents, heading anchors and internal links.
//!
//! This is the only module that knows pulldown-cmark and syntect; everything it
//! hands out is plain data.

use crate::hash::{HashMap, HashSet};
use std::ops::Range;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, LinkType, Options as CmarkOptions, Parser, Tag, TagEnd,
};
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxDefinition, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use crate::model::{LinkTarget, TocEntry};
use crate::slug::slugify;

/// Our own TOML syntax; syntect's default set has none.
const TOML_SYNTAX: &str = include_str!("syntaxes/TOML.sublime-syntax");

/// Class prefix of highlighted tokens, e.g. `<span class="hl-string hl-quoted">`.
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Id used for a heading whose text gives an empty slug.
const FALLBACK_ID: &str = "abschnitt";

/// Maximum length of [`Rendered::summary_text`] in characters (before the "…").
const SUMMARY_MAX_CHARS: usize = 300;

/// Syntax highlighting for fenced code blocks. Built once, shared by reference.
pub(crate) struct Highlighter {
    /// syntect's default syntaxes as shipped (loading them is cheap; adding a syntax to them
    /// would rebuild and recompress the whole set, a tenth of a second on every build).
    defaults: SyntaxSet,
    /// Our TOML syntax, in a set of its own.
    toml: SyntaxSet,
}

impl Highlighter {
    /// Loads syntect's default syntaxes and our TOML syntax.
    pub(crate) fn new() -> Result<Self, String> {
        let toml = SyntaxDefinition::load_from_str(TOML_SYNTAX, true, Some("TOML"))
            .map_err(|e| format!("built-in TOML syntax definition is invalid: {e}"))?;
        let mut builder = syntect::parsing::SyntaxSetBuilder::new();
        builder.add(toml);
        Ok(Self {
            defaults: SyntaxSet::load_defaults_newlines(),
            toml: builder.build(),
        })
    }

    /// The syntax for a fence's language token and the set it belongs to, or `None` to leave
    /// the code plain.
    fn find_syntax(&self, token: &str) -> Option<(&SyntaxReference, &SyntaxSet)> {
        // Common fence names that are neither an extension nor a syntax name in syntect.
        let token = match token {
            "shell" | "console" | "shell-session" => "sh",
            other => other,
        };
        fn find<'s>(set: &'s SyntaxSet, token: &str) -> Option<&'s SyntaxReference> {
            set.find_syntax_by_token(token)
                .or_else(|| set.find_syntax_by_extension(token))
        }
        if let Some(syntax) = find(&self.toml, token) {
            return Some((syntax, &self.toml));
        }
        let syntax = find(&self.defaults, token)?;
        // "Plain Text" would only wrap everything in one span.
        (syntax.name != self.defaults.find_syntax_plain_text().name)
            .then_some((syntax, &self.defaults))
    }

    /// Highlighted HTML (spans with `hl-` classes) or `None` when the language is
    /// unknown or syntect fails.
    fn highlight(&self, code: &str, token: &str) -> Option<String> {
        let (syntax, set) = self.find_syntax(token)?;
        // syntect is not supposed to panic on any input, but a bad regex in one of its
        // bundled syntaxes would; a page must never take the whole build down.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut generator =
                ClassedHTMLGenerator::new_with_class_style(syntax, set, CLASS_STYLE);
            for line in LinesWithEndings::from(code) {
                generator
                    .parse_html_for_line_which_includes_newline(line)
                    .ok()?;
            }
            Some(generator.finalize())
        }))
        .ok()
        .flatten()
    }
}

/// Rendering switches (from the site configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) smart_punctuation: bool,
    pub(crate) highlight: bool,
    /// Raw HTML in the Markdown is kept as written; otherwise it is sanitised.
    pub(crate) trusted_html: bool,
    /// Ids the templates put on every page (skip-link targets like `inhalt`): headings and
    /// footnotes never take them, and links may point at them.
    pub(crate) reserved_ids: Vec<String>,
}

/// The literal `id="…"` values of templates (not those made by an expression): the ids the
/// theme puts on pages. Found by scanning, so a new skip link in a theme is reserved too.
pub(crate) fn template_ids<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut ids = Vec::new();
    for text in texts {
        for quote in ['"', '\''] {
            let open = format!("id={quote}");
            let mut rest = text;
            while let Some(at) = rest.find(&open) {
                let after = &rest[at + open.len()..];
                let value = after.split(quote).next().unwrap_or("");
                let attribute_start = at == 0
                    || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_');
                if attribute_start
                    && !value.is_empty()
                    && !value.contains(['{', '}', '<', '>'])
                    && !value.contains(char::is_whitespace)
                {
                    ids.push(value.to_string());
                }
                rest = after;
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Removes scripts, event handlers, `javascript:` URLs and everything else outside a safe
/// subset from HTML that came from raw HTML in Markdown, keeping what the renderer itself emits.
fn sanitise(html: &str) -> String {
    ammonia::Builder::default()
        .add_generic_attributes(["id", "class", "title", "lang", "dir"])
        .add_tag_attributes("div", ["tabindex"])
        .add_tag_attributes("pre", ["data-lang"])
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("th", ["style", "scope"])
        .add_tag_attributes("ol", ["start"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tags([
            "input",
            "section",
            "figure",
            "figcaption",
            "details",
            "summary",
            "mark",
        ])
        .url_schemes(["http", "https", "mailto", "tel"].into())
        // Keep links as written: ammonia would add rel="noopener noreferrer" to every link.
        .link_rel(None)
        .clean(html)
        .to_string()
}

/// Why a link destination could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkError {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// Decides what a link destination means. Ok(None): leave the link unchanged (external, mailto:, pure "#anchor" etc. — the resolver decides),
/// Ok(Some(t)): rewrite href to t.url (which already contains "#anchor" if any), Err: broken link.
pub(crate) trait LinkResolver: Sync {
    fn resolve(&self, dest: &str) -> Result<Option<LinkTarget>, LinkError>;
}

/// The result of rendering one Markdown text.
#[derive(Debug, Default)]
pub(crate) struct Rendered {
    pub(crate) html: String,
    /// Nested by level.
    pub(crate) toc: Vec<TocEntry>,
    /// The ids of the headings and footnotes. A link may also point at the theme's
    /// ([`Options::reserved_ids`]), which every page has and no page keeps a copy of.
    pub(crate) anchors: Vec<String>,
    /// Byte offset (into the text given) of each resolved internal link, in order.
    pub(crate) links: Vec<(usize, LinkTarget)>,
    /// Byte offset of each broken link.
    pub(crate) errors: Vec<(usize, LinkError)>,
    /// Plain text of the first paragraph, for descriptions/snippets.
    pub(crate) summary_text: String,
    /// Accessibility problems of the text (EN 301 549 §11.8: the authoring tool points them out).
    pub(crate) lints: Vec<Lint>,
}

/// An accessibility problem in Markdown, at a byte offset of the text given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lint {
    pub(crate) offset: usize,
    /// Errors make the page inaccessible in every case; warnings usually do.
    pub(crate) error: bool,
    pub(crate) message: String,
    pub(crate) hint: String,
}

/// Watches the events for images without alt text, links without text, and skipped heading
/// levels. The page title is the h1, so the body starts at h2.
#[derive(Default)]
struct LintState {
    lints: Vec<Lint>,
    last_level: u8,
    /// (start offset, text seen, is image) of open links and images.
    open: Vec<(usize, String, bool, bool)>,
}

impl LintState {
    fn observe(&mut self, event: &Event<'_>, range: &Range<usize>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let level = *level as u8;
                if level == 1 {
                    self.lints.push(Lint {
                        offset: range.start,
                        error: false,
                        message: "heading of level 1 in the text".into(),
                        hint: "the page title is the only level-1 heading; start the text's headings with ##".into(),
                    });
                } else if level > self.last_level.max(1) + 1 {
                    self.lints.push(Lint {
                        offset: range.start,
                        error: false,
                        message: format!(
                            "heading level {level} skips level {}",
                            self.last_level.max(1) + 1
                        ),
                        hint: "screen reader users navigate by heading levels; use one more # than the heading above, not more".into(),
                    });
                }
                self.last_level = level;
            }
            Event::Start(Tag::Link { .. }) => {
                self.open.push((range.start, String::new(), false, false))
            }
            Event::Start(Tag::Image { .. }) => {
                if let Some(link) = self.open.last_mut() {
                    // An image inside a link: its alt text names the link.
                    link.3 = true;
                }
                self.open.push((range.start, String::new(), true, false));
            }
            Event::Text(t) | Event::Code(t) => {
                for o in &mut self.open {
                    o.1.push_str(t);
                }
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if let Some((offset, text, image, has_image)) = self.open.pop() {
                    let empty = text.trim().is_empty();
                    if image && empty {
                        self.lints.push(Lint {
                            offset,
                            error: false,
                            message: "image without alt text".into(),
                            hint: "describe what the image shows: ![Beschreibung](bild.png)".into(),
                        });
                    } else if !image && empty && !has_image {
                        self.lints.push(Lint {
                            offset,
                            error: true,
                            message: "link without text".into(),
                            hint: "write where the link goes: [Text des Links](ziel.md)".into(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// Renders a Markdown page body.
pub(crate) fn render(
    body: &str,
    opts: &Options,
    hl: &Highlighter,
    links: &dyn LinkResolver,
) -> Rendered {
    render_impl(body, opts, hl, links).0
}

/// Inline variant for short Markdown values in front matter fields: same link handling, no TOC, and if the
/// result is a single paragraph, strip the surrounding <p>…</p>.
pub(crate) fn render_inline(
    text: &str,
    opts: &Options,
    hl: &Highlighter,
    links: &dyn LinkResolver,
) -> Rendered {
    let (mut rendered, single_paragraph) = render_impl(text, opts, hl, links);
    rendered.toc.clear();
    if single_paragraph {
        let html = rendered.html.trim_end();
        if let Some(inner) = html
            .strip_prefix("<p>")
            .and_then(|rest| rest.strip_suffix("</p>"))
        {
            rendered.html = inner.to_owned();
        }
    }
    rendered
}

fn parser_options(opts: &Options) -> CmarkOptions {
    let mut options = CmarkOptions::ENABLE_TABLES
        | CmarkOptions::ENABLE_FOOTNOTES
        | CmarkOptions::ENABLE_STRIKETHROUGH
        | CmarkOptions::ENABLE_HEADING_ATTRIBUTES;
    if opts.smart_punctuation {
        options |= CmarkOptions::ENABLE_SMART_PUNCTUATION;
    }
    options
}

/// A heading being collected: where its start event sits in the output and its text.
struct OpenHeading {
    out_index: usize,
    level: u8,
    explicit_id: Option<String>,
    text: String,
}

/// A code block being collected.
struct OpenCode {
    lang: Option<String>,
    code: String,
}

/// Collects the plain text of the first non-empty paragraph.
#[derive(Default)]
struct SummaryState {
    done: bool,
    in_paragraph: bool,
    /// Nesting depth of images inside the paragraph (alt text is skipped).
    image_depth: usize,
    /// Nesting depth of footnote definitions (their paragraphs don't count).
    footnote_depth: usize,
    text: String,
}

/// Renders and also tells whether the document is exactly one paragraph.
fn render_impl(
    source: &str,
    opts: &Options,
    hl: &Highlighter,
    resolver: &dyn LinkResolver,
) -> (Rendered, bool) {
    let events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(source, parser_options(opts))
        .into_offset_iter()
        .collect();
    let raw_html = events
        .iter()
        .any(|(e, _)| matches!(e, Event::Html(_) | Event::InlineHtml(_)));
    // Only documents with raw HTML need the (costly) sanitiser, and its HTML parser takes time
    // growing with the square of the nesting depth.
    let cleanup = if raw_html && !opts.trusted_html {
        raw_html_too_deep(&events).map_or(Cleanup::Sanitise, Cleanup::TooDeep)
    } else {
        Cleanup::Nothing
    };
    let mut pass = Pass::new(&events, opts, hl, resolver);
    for (event, range) in events {
        pass.observe(&event, &range);
        pass.rewrite(event, range);
    }
    pass.finish(source.len(), cleanup)
}

/// What the HTML writer's output needs before it is the page's.
enum Cleanup {
    Nothing,
    Sanitise,
    /// Raw HTML nested too deep to sanitise in time: an error at this offset, and no HTML.
    TooDeep(usize),
}

/// One pass over a document's events: the rewritten events and what was collected on the way.
struct Pass<'s, 'o> {
    opts: &'o Options,
    hl: &'o Highlighter,
    resolver: &'o dyn LinkResolver,
    rendered: Rendered,
    ids: Ids,
    /// Footnote label key → id.
    footnotes: HashMap<String, String>,
    /// Footnote labels defined so far (a second definition is an error).
    defined: HashSet<String>,
    flat_toc: Vec<TocEntry>,
    out: Vec<Event<'s>>,
    heading: Option<OpenHeading>,
    code: Option<OpenCode>,
    summary: SummaryState,
    lint: LintState,
    shape: Shape,
}

/// Whether a document is a single paragraph (then inline rendering drops its `<p>`).
struct Shape {
    depth: usize,
    top_level_blocks: usize,
    only_paragraphs: bool,
}

impl Shape {
    fn observe(&mut self, event: &Event<'_>) {
        match event {
            Event::Start(tag) => {
                if self.depth == 0 {
                    self.top_level_blocks += 1;
                    self.only_paragraphs &= matches!(tag, Tag::Paragraph);
                }
                self.depth += 1;
            }
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ if self.depth == 0 => {
                // Rules, HTML blocks' pieces and the like at top level.
                self.top_level_blocks += 1;
                self.only_paragraphs = false;
            }
            _ => {}
        }
    }

    fn single_paragraph(&self) -> bool {
        self.top_level_blocks == 1 && self.only_paragraphs
    }
}

impl<'s, 'o> Pass<'s, 'o> {
    fn new(
        events: &[(Event<'s>, Range<usize>)],
        opts: &'o Options,
        hl: &'o Highlighter,
        resolver: &'o dyn LinkResolver,
    ) -> Self {
        // Explicit ids are reserved up front so that an automatic id never takes one
        // that a later heading names explicitly.
        let reserved: HashSet<String> = events
            .iter()
            .filter_map(|(event, _)| match event {
                Event::Start(Tag::Heading { id: Some(id), .. }) => Some(id.to_string()),
                _ => None,
            })
            .collect();
        let mut ids = Ids {
            used: opts.reserved_ids.iter().cloned().collect(),
            reserved,
            next: HashMap::default(),
        };
        let footnotes = footnote_ids(events, &mut ids);
        Pass {
            opts,
            hl,
            resolver,
            rendered: Rendered::default(),
            ids,
            footnotes,
            defined: HashSet::default(),
            flat_toc: Vec::new(),
            out: Vec::with_capacity(events.len() + 4),
            heading: None,
            code: None,
            summary: SummaryState::default(),
            lint: LintState::default(),
            shape: Shape {
                depth: 0,
                top_level_blocks: 0,
                only_paragraphs: true,
            },
        }
    }

    /// What an event tells before it is rewritten: summary, lints, shape, forbidden
    /// characters, the text of an open heading.
    fn observe(&mut self, event: &Event<'s>, range: &Range<usize>) {
        self.summary.observe(event);
        self.lint.observe(event, range);
        self.shape.observe(event);
        check_characters(event, range.start, &mut self.rendered);
        if let Some(open) = self.heading.as_mut() {
            if let Event::Text(text) | Event::Code(text) = event {
                open.text.push_str(text);
            }
        }
    }

    /// The event as it goes to the HTML writer: heading ids, highlighted code, footnote ids,
    /// wrapped tables, resolved links, ids in raw HTML.
    fn rewrite(&mut self, event: Event<'s>, range: Range<usize>) {
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                self.heading = Some(OpenHeading {
                    out_index: self.out.len(),
                    level: level as u8,
                    explicit_id: id.map(|id| id.to_string()),
                    text: String::new(),
                });
                // The id is filled in at the heading's end, once its text is known.
                self.out.push(Event::Start(Tag::Heading {
                    level,
                    id: None,
                    classes,
                    attrs,
                }));
            }
            Event::End(TagEnd::Heading(level)) => self.end_heading(level),
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => language_token(&info),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some(OpenCode {
                    lang,
                    code: String::new(),
                });
            }
            Event::Text(text) if self.code.is_some() => {
                if let Some(open) = self.code.as_mut() {
                    open.code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(open) = self.code.take() {
                    let html = code_block_html(&open, self.opts, self.hl);
                    self.out.push(Event::Html(CowStr::from(html)));
                }
            }
            Event::FootnoteReference(label) => {
                let id = footnote_id(&self.footnotes, &label);
                self.out.push(Event::FootnoteReference(id));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                if !self.defined.insert(footnote_key(&label)) {
                    let error = duplicate_footnote(&label);
                    self.rendered.errors.push((range.start, error));
                }
                let id = footnote_id(&self.footnotes, &label);
                self.out.push(Event::Start(Tag::FootnoteDefinition(id)));
            }
            Event::Start(Tag::Table(alignments)) => {
                self.out.push(Event::Html(CowStr::Borrowed(
                    "<div class=\"table-wrap\" tabindex=\"0\">\n",
                )));
                self.out.push(Event::Start(Tag::Table(alignments)));
            }
            Event::End(TagEnd::Table) => {
                self.out.push(Event::End(TagEnd::Table));
                self.out.push(Event::Html(CowStr::Borrowed("</div>\n")));
            }
            Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. })) => {
                let tag = self.link(tag, range.start);
                self.out.push(Event::Start(tag));
            }
            Event::Html(raw) if !self.opts.trusted_html => {
                let raw = raw_ids(raw, &mut self.ids, &mut self.rendered.anchors);
                self.out.push(Event::Html(raw));
            }
            Event::InlineHtml(raw) if !self.opts.trusted_html => {
                let raw = raw_ids(raw, &mut self.ids, &mut self.rendered.anchors);
                self.out.push(Event::InlineHtml(raw));
            }
            other => self.out.push(other),
        }
    }

    /// A heading's end: its id (now that its text is known) goes into its start event, the
    /// page's anchors and the table of contents.
    fn end_heading(&mut self, level: pulldown_cmark::HeadingLevel) {
        if let Some(open) = self.heading.take() {
            let id = self.ids.heading(&open);
            self.rendered.anchors.push(id.clone());
            if let Some(Event::Start(Tag::Heading { id: slot, .. })) =
                self.out.get_mut(open.out_index)
            {
                *slot = Some(CowStr::from(id.clone()));
            }
            self.flat_toc.push(TocEntry {
                level: open.level,
                id,
                title: collapse_whitespace(&open.text),
                children: Vec::new(),
            });
        }
        self.out.push(Event::End(TagEnd::Heading(level)));
    }

    /// A link or image with its destination resolved and its scheme checked.
    fn link(&mut self, tag: Tag<'s>, offset: usize) -> Tag<'s> {
        match tag {
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            } => {
                let (link_type, dest_url) = self.destination(link_type, dest_url, false, offset);
                Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }
            }
            Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            } => {
                let (link_type, dest_url) = self.destination(link_type, dest_url, true, offset);
                Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }
            }
            other => other,
        }
    }

    fn destination(
        &mut self,
        link_type: LinkType,
        dest_url: CowStr<'s>,
        image: bool,
        offset: usize,
    ) -> (LinkType, CowStr<'s>) {
        let rendered = &mut self.rendered;
        let (link_type, dest_url) =
            resolve_link(link_type, dest_url, offset, self.resolver, rendered);
        let dest_url = guard_scheme(dest_url, image, self.opts, offset, rendered);
        (link_type, dest_url)
    }

    /// The HTML, cleaned up as `cleanup` says, and the collected anchors, TOC, summary and
    /// lints.
    fn finish(self, source_len: usize, cleanup: Cleanup) -> (Rendered, bool) {
        let mut html = String::with_capacity(source_len + source_len / 2);
        pulldown_cmark::html::push_html(&mut html, self.out.into_iter());
        let mut rendered = self.rendered;
        rendered.html = match cleanup {
            Cleanup::Nothing => html,
            Cleanup::Sanitise => sanitise(&html),
            Cleanup::TooDeep(offset) => {
                rendered.errors.push((offset, too_deep_error()));
                String::new()
            }
        };
        // Kept until the page is rendered: without the spare capacity of the estimate above.
        rendered.html.shrink_to_fit();
        // Footnotes are link targets on the page too (the theme's ids: `Options::reserved_ids`).
        let mut footnote_anchors: Vec<String> = self.footnotes.into_values().collect();
        footnote_anchors.sort_unstable();
        rendered.anchors.extend(footnote_anchors);
        rendered.toc = nest_toc(self.flat_toc);
        rendered.summary_text = truncate_summary(&collapse_whitespace(&self.summary.text));
        rendered.lints = self.lint.lints;
        (rendered, self.shape.single_paragraph())
    }
}

impl SummaryState {
    fn observe(&mut self, event: &Event<'_>) {
        if self.done {
            return;
        }
        match event {
            Event::Start(Tag::FootnoteDefinition(_)) => self.footnote_depth += 1,
            Event::End(TagEnd::FootnoteDefinition) => {
                self.footnote_depth = self.footnote_depth.saturating_sub(1);
            }
            Event::Start(Tag::Paragraph) if self.footnote_depth == 0 => {
                self.in_paragraph = true;
            }
            Event::End(TagEnd::Paragraph) if self.in_paragraph => {
                self.in_paragraph = false;
                self.done = !self.text.trim().is_empty();
            }
            _ if !self.in_paragraph => {}
            Event::Start(Tag::Image { .. }) => self.image_depth += 1,
            Event::End(TagEnd::Image) => self.image_depth = self.image_depth.saturating_sub(1),
            Event::Text(text) | Event::Code(text) if self.image_depth == 0 => {
                self.text.push_str(text);
            }
            Event::SoftBreak | Event::HardBreak => self.text.push(' '),
            _ => {}
        }
    }
}

/// The ids of one page so far.
struct Ids {
    /// Taken: the theme's, the footnotes' and the headings' so far.
    used: HashSet<String>,
    /// Explicit heading ids (`{#id}`), kept free for their headings.
    reserved: HashSet<String>,
    /// The next suffix to try per base, so that many equal headings take linear time.
    next: HashMap<String, usize>,
}

impl Ids {
    fn taken(&self, id: &str) -> bool {
        self.used.contains(id) || self.reserved.contains(id)
    }

    /// `base`, or `base-1`, `base-2` … whichever is free first; marked as used.
    fn unique(&mut self, base: String) -> String {
        let id = if self.taken(&base) {
            let mut n = self.next.get(&base).copied().unwrap_or(1);
            let mut candidate = format!("{base}-{n}");
            while self.taken(&candidate) {
                n += 1;
                candidate = format!("{base}-{n}");
            }
            self.next.insert(base, n + 1);
            candidate
        } else {
            base
        };
        self.used.insert(id.clone());
        id
    }

    /// The final id of a heading: explicit or slugified, unique within the page.
    fn heading(&mut self, open: &OpenHeading) -> String {
        if let Some(id) = &open.explicit_id {
            if !self.used.contains(id) {
                self.used.insert(id.clone());
                return id.clone();
            }
            // A second heading with the same explicit id, or one the theme uses.
            return self.unique(id.clone());
        }
        let slug = slugify(&open.text);
        self.unique(if slug.is_empty() {
            FALLBACK_ID.to_owned()
        } else {
            slug
        })
    }
}

/// Text decoded from a character reference (`&#27;`) may hold a control character that the
/// file itself does not (the loader refuses those); it must not reach the page.
fn check_characters(event: &Event<'_>, offset: usize, rendered: &mut Rendered) {
    let texts: [&str; 2] = match event {
        Event::Text(t) | Event::Code(t) => [t, ""],
        Event::Start(Tag::Link {
            dest_url, title, ..
        })
        | Event::Start(Tag::Image {
            dest_url, title, ..
        }) => [dest_url, title],
        _ => return,
    };
    let found = texts
        .iter()
        .find_map(|t| t.chars().find(|&c| crate::text::is_forbidden(c)));
    if let Some(c) = found {
        rendered.errors.push((
            offset,
            LinkError {
                message: format!(
                    "character reference to the control character {}",
                    crate::text::code_point(c)
                ),
                hint: Some(
                    "control characters are invisible and not allowed in web pages; remove the &#…; reference".into(),
                ),
            },
        ));
    }
}

/// Raw HTML with every `id` made unique among the page's ids (the theme's, the headings' and
/// footnotes', earlier raw ones) and valid: an editor's `<a id="inhalt">` must not take the
/// skip link's target. New ids are link targets like headings (pushed to `anchors`).
fn raw_ids<'a>(raw: CowStr<'a>, ids: &mut Ids, anchors: &mut Vec<String>) -> CowStr<'a> {
    // Attribute names are case-insensitive: `ID=` too (ASCII lowercasing keeps the offsets).
    let lower = raw.to_ascii_lowercase();
    if !lower.contains("id") {
        return raw;
    }
    let mut out = String::with_capacity(raw.len());
    let mut done = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find("id") {
        let at = from + found;
        from = at + 2;
        let boundary = at == 0 || lower[..at].ends_with(|c: char| c.is_ascii_whitespace());
        let after = &lower[at + 2..];
        let eq = after.len() - after.trim_start().len();
        if !boundary || !after[eq..].starts_with('=') {
            continue;
        }
        let value_start = at + 2 + eq + 1;
        let value_start =
            value_start + (lower[value_start..].len() - lower[value_start..].trim_start().len());
        let (value, end) = attribute_value(&raw, value_start);
        let id = raw_id(value, ids);
        anchors.push(id.clone());
        out.push_str(&raw[done..value_start]);
        out.push('"');
        out.push_str(&id);
        out.push('"');
        done = end;
        from = end.max(from);
    }
    if done == 0 {
        return raw;
    }
    out.push_str(&raw[done..]);
    CowStr::from(out)
}

/// The value of an attribute starting at `start` (quoted or not) and the offset after it.
fn attribute_value(raw: &str, start: usize) -> (&str, usize) {
    let rest = &raw[start..];
    match rest.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        Some(q) => {
            let inner = &rest[1..];
            match inner.find(q) {
                Some(e) => (&inner[..e], start + 1 + e + 1),
                None => (inner, raw.len()),
            }
        }
        None => {
            let end = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '>')
                .unwrap_or(rest.len());
            (&rest[..end], start + end)
        }
    }
}

/// A unique, valid id for a raw HTML id value: kept if plain and free, else slugged/suffixed.
fn raw_id(value: &str, ids: &mut Ids) -> String {
    // Entities and odd characters would decode to another id in the sanitiser: slugged.
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    let base = if plain {
        value.to_string()
    } else {
        slugify(value)
    };
    ids.unique(if base.is_empty() {
        FALLBACK_ID.to_owned()
    } else {
        base
    })
}

/// Deepest nesting of raw HTML elements accepted (real pages nest a few dozen deep at most).
const MAX_HTML_DEPTH: usize = 256;

/// Elements without an end tag (they do not nest).
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// The offset of the raw HTML where its elements nest deeper than [`MAX_HTML_DEPTH`], if they
/// do, counting start and end tags (an estimate: elements closed implicitly count as open).
fn raw_html_too_deep(events: &[(Event<'_>, Range<usize>)]) -> Option<usize> {
    let mut depth = 0usize;
    for (event, range) in events {
        let (Event::Html(html) | Event::InlineHtml(html)) = event else {
            continue;
        };
        let mut rest: &str = html;
        while let Some(lt) = rest.find('<') {
            rest = &rest[lt + 1..];
            let closing = rest.starts_with('/');
            let name: String = rest
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            let tag_end = rest.find('>').unwrap_or(rest.len());
            if closing {
                depth = depth.saturating_sub(1);
            } else if !VOID_ELEMENTS.contains(&name.as_str()) && !rest[..tag_end].ends_with('/') {
                depth += 1;
                if depth > MAX_HTML_DEPTH {
                    return Some(range.start);
                }
            }
        }
    }
    None
}

fn too_deep_error() -> LinkError {
    LinkError {
        message: format!("raw HTML nested more than {MAX_HTML_DEPTH} elements deep"),
        hint: Some(
            "close the elements (</div>) you open, or write the text in Markdown instead of HTML"
                .into(),
        ),
    }
}

/// Footnote labels compare like link labels: case-insensitively.
fn footnote_key(label: &str) -> String {
    label.to_lowercase()
}

/// A valid, unique id for every footnote label (`fn-` and its slug), in order of first use, so
/// that the numbers stay as they were; reserved before the headings take theirs.
fn footnote_ids(events: &[(Event<'_>, Range<usize>)], ids: &mut Ids) -> HashMap<String, String> {
    let mut map = HashMap::default();
    for (event, _) in events {
        let label = match event {
            Event::FootnoteReference(label) | Event::Start(Tag::FootnoteDefinition(label)) => label,
            _ => continue,
        };
        let key = footnote_key(label);
        if map.contains_key(&key) {
            continue;
        }
        let slug = slugify(label);
        let base = if slug.is_empty() {
            "fn".to_string()
        } else {
            format!("fn-{slug}")
        };
        let id = ids.unique(base);
        // Headings after it must not take it either.
        ids.reserved.insert(id.clone());
        map.insert(key, id);
    }
    map
}

fn footnote_id<'a>(footnotes: &HashMap<String, String>, label: &str) -> CowStr<'a> {
    CowStr::from(
        footnotes
            .get(&footnote_key(label))
            .cloned()
            .unwrap_or_else(|| "fn".to_string()),
    )
}

fn duplicate_footnote(label: &str) -> LinkError {
    LinkError {
        message: format!("footnote `[^{label}]` is defined twice"),
        hint: Some(format!(
            "each footnote is defined once; remove this definition, or give it its own label ([^{label}-2]) and use that in its reference"
        )),
    }
}

/// Calls the resolver and records the outcome; returns the (possibly rewritten) destination.
fn resolve_link<'a>(
    link_type: LinkType,
    dest_url: CowStr<'a>,
    offset: usize,
    resolver: &dyn LinkResolver,
    rendered: &mut Rendered,
) -> (LinkType, CowStr<'a>) {
    // pulldown-cmark gives e-mail autolinks without their scheme; the resolver should
    // see what the href will be.
    let dest = if link_type == LinkType::Email {
        format!("mailto:{dest_url}")
    } else {
        dest_url.to_string()
    };
    match resolver.resolve(&dest) {
        Ok(Some(target)) => {
            let url = CowStr::from(target.url.clone());
            rendered.links.push((offset, target));
            // An e-mail link type would make the HTML writer prepend "mailto:".
            let link_type = if link_type == LinkType::Email {
                LinkType::Inline
            } else {
                link_type
            };
            (link_type, url)
        }
        Ok(None) => (link_type, dest_url),
        Err(error) => {
            rendered.errors.push((offset, error));
            (link_type, dest_url)
        }
    }
}

/// The scheme of a URL as a browser reads it: ASCII tab and newlines removed anywhere,
/// leading spaces and control characters ignored, lowercased (`"Java\tScript:"` is
/// `javascript`). `None` for relative URLs.
pub(crate) fn url_scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take_while(|&c| c != '/' && c != '?' && c != '#')
        .collect();
    let (scheme, _) = cleaned.split_once(':')?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

/// Refuses link and image URLs that would run code in the reader's browser (`javascript:`,
/// `vbscript:`, `data:` other than raster images), the same rule the sanitiser applies to raw
/// HTML. Trusted content keeps them. A refused URL is an error at its place and the link
/// points nowhere in the preview.
fn guard_scheme<'a>(
    dest_url: CowStr<'a>,
    image: bool,
    opts: &Options,
    offset: usize,
    rendered: &mut Rendered,
) -> CowStr<'a> {
    if opts.trusted_html {
        return dest_url;
    }
    let Some(scheme) = url_scheme(&dest_url) else {
        return dest_url;
    };
    let unsafe_scheme = match scheme.as_str() {
        "javascript" | "vbscript" => true,
        "data" => {
            // Raster images in data: URLs cannot run scripts; SVG can.
            let lower = dest_url.trim_start().to_ascii_lowercase();
            !(image
                && ["png", "jpeg", "jpg", "gif", "webp", "avif"]
                    .iter()
                    .any(|kind| lower.starts_with(&format!("data:image/{kind}"))))
        }
        _ => false,
    };
    if !unsafe_scheme {
        return dest_url;
    }
    rendered.errors.push((
        offset,
        LinkError {
            message: format!("{scheme}: URLs are not allowed in links and images"),
            hint: Some(
                "such a URL runs code in the reader's browser; link to a page or an http(s) \
                 address, or set `trusted_html = true` under `[markdown]` in config.toml if the content is trusted"
                    .into(),
            ),
        },
    ));
    CowStr::Borrowed("#")
}

/// The language token of a fence's info string: its first word, lowercased.
fn language_token(info: &str) -> Option<String> {
    let word = info
        .split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
        .map(|word| word.trim_start_matches('.'))
        .find(|word| !word.is_empty())?;
    Some(word.to_lowercase())
}

fn code_block_html(open: &OpenCode, opts: &Options, hl: &Highlighter) -> String {
    let mut html = String::with_capacity(open.code.len() * 2 + 64);
    let Some(lang) = &open.lang else {
        html.push_str("<pre class=\"code\"><code>");
        crate::escape::html_into(&mut html, &open.code);
        html.push_str("</code></pre>\n");
        return html;
    };
    let lang_attr = crate::escape::html(lang);
    html.push_str("<pre class=\"code\" data-lang=\"");
    html.push_str(&lang_attr);
    html.push_str("\"><code class=\"language-");
    html.push_str(&lang_attr);
    html.push_str("\">");
    match opts
        .highlight
        .then(|| hl.highlight(&open.code, lang))
        .flatten()
    {
        Some(highlighted) => html.push_str(&highlighted),
        None => crate::escape::html_into(&mut html, &open.code),
    }
    html.push_str("</code></pre>\n");
    html
}

/// Turns the flat list of headings into a tree: a heading is the child of the
/// nearest preceding heading with a smaller level.
fn nest_toc(flat: Vec<TocEntry>) -> Vec<TocEntry> {
    fn insert(siblings: &mut Vec<TocEntry>, entry: TocEntry) {
        match siblings.last_mut() {
            Some(last) if last.level < entry.level => insert(&mut last.children, entry),
            _ => siblings.push(entry),
        }
    }
    // The tree lives as long as the build: no spare capacity from the pushes.
    fn shrink(entries: &mut Vec<TocEntry>) {
        entries.shrink_to_fit();
        entries.iter_mut().for_each(|e| shrink(&mut e.children));
    }
    let mut root = Vec::new();
    for entry in flat {
        insert(&mut root, entry);
    }
    shrink(&mut root);
    root
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` to at most [`SUMMARY_MAX_CHARS`] characters at a word boundary and
/// appends "…" when something was cut.
fn truncate_summary(text: &str) -> String {
    let Some((cut, _)) = text.char_indices().nth(SUMMARY_MAX_CHARS) else {
        return text.to_owned();
    };
    let head = &text[..cut];
    // If the cut falls between two words, the whole head is usable.
    let head = if text[cut..].starts_with(' ') {
        head
    } else {
        head.rfind(' ').map_or(head, |space| &head[..space])
    };
    let head = head
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–'));
    format!("{head}…")
}

#[cfg(test)]
mod tests;

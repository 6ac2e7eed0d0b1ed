//! The page the dev server answers HTML requests with while no build has succeeded yet: the
//! errors in full, and the live-reload tag so that it turns into the site once it builds.

use std::collections::BTreeMap;

use crate::BuildOptions;

/// i18n keys of the page's heading and introduction in the theme's language file.
const TITLE_KEY: &str = "preview_error_title";
const TEXT_KEY: &str = "preview_error_text";

/// The page's texts: from the theme's i18n file when it has them, else a plain fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Texts {
    pub lang: String,
    pub title: String,
    pub text: String,
}

impl Texts {
    /// For a site whose theme cannot be read (or has no such strings): the tool's own words.
    pub fn fallback() -> Self {
        Texts {
            lang: "en".into(),
            title: "The site could not be built".into(),
            text: "wegweiser serve shows the site once these errors are fixed; this page \
                   reloads by itself."
                .into(),
        }
    }

    /// The theme's strings for the configured language, if the configuration can be read.
    pub fn for_site(opts: &BuildOptions) -> Self {
        Self::from_theme(opts).unwrap_or_else(Self::fallback)
    }

    fn from_theme(opts: &BuildOptions) -> Option<Self> {
        let settings = crate::settings_for(opts).ok()?;
        let path = settings
            .root
            .join("themes")
            .join(&settings.theme)
            .join("i18n")
            .join(format!("{}.toml", settings.language));
        // Only a regular file: a FIFO would block the rebuild loop.
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            return None;
        }
        let strings: BTreeMap<String, String> =
            toml::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
        Some(Texts {
            lang: settings.language.clone(),
            title: strings.get(TITLE_KEY)?.clone(),
            text: strings.get(TEXT_KEY)?.clone(),
        })
    }
}

/// The whole page; `live_tag` is the live-reload script tag.
pub(super) fn render(texts: &Texts, errors: &[String], live_tag: &str) -> String {
    let items: String = errors
        .iter()
        .map(|e| format!("<li><pre>{}</pre></li>\n", escape(e)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\
         body{{font:16px/1.5 system-ui,sans-serif;margin:2rem;color:#111}}\
         pre{{white-space:pre-wrap;font:14px/1.5 ui-monospace,monospace;background:#f4f4f4;\
         padding:.75rem;margin:0 0 1rem}}</style>\n</head>\n<body>\n\
         <main id=\"wegweiser-build-errors\">\n<h1>{title}</h1>\n<p>{text}</p>\n\
         <ol>\n{items}</ol>\n</main>\n{live_tag}\n</body>\n</html>\n",
        lang = escape(&texts.lang),
        title = escape(&texts.title),
        text = escape(&texts.text),
    )
}

/// Escapes text for HTML element content and attributes: the one HTML escaper (the dev
/// server's error overlay uses it through this name too).
pub(super) fn escape(s: &str) -> String {
    crate::escape::html(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_escaped_and_listed() {
        let texts = Texts::fallback();
        let page = render(
            &texts,
            &["content/a.md:1:2: error: <script>alert(1)</script> & \"x\"".into()],
            "<script src=\"/__wegweiser/live.js\"></script>",
        );
        assert!(
            page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
            "{page}"
        );
        assert!(
            page.contains(
                "<li><pre>content/a.md:1:2: error: &lt;script&gt;alert(1)&lt;/script&gt; \
                 &amp; &quot;x&quot;</pre></li>"
            ),
            "{page}"
        );
        assert_eq!(page.matches("<script").count(), 1, "{page}");
    }
}

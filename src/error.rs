//! Diagnostics: every problem found in the user's files, with its place.
//!
//! Stages never print. They push [`Diagnostic`]s into a [`Diagnostics`] collector and go on, so a
//! build reports all problems at once; `main` prints them and picks the exit code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A problem at a place in a file: `path:line:col: message`, with the source line and a hint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Path as the user knows it (relative to the site root where possible).
    pub path: PathBuf,
    /// 1-based line and column (in characters); 0 when the problem concerns the whole file.
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The source line the position points into, for display.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn error(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.into(),
            line: 0,
            col: 0,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    pub fn warning(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }

    /// Place the diagnostic at byte `offset` of `text` (the whole file's text).
    pub fn at(mut self, text: &str, offset: usize) -> Self {
        let (line, col, src) = position(text, offset);
        self.line = line;
        self.col = col;
        self.source_line = Some(src.to_string());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// Path, message, hint and source line with control characters escaped as in
    /// [`Diagnostic::render`] (for JSON output).
    pub fn escaped(self) -> Self {
        Diagnostic {
            path: PathBuf::from(escape_controls(&self.path.to_string_lossy())),
            message: escape_controls(&self.message),
            hint: self.hint.map(|h| escape_controls(&h)),
            source_line: self.source_line.map(|s| escape_controls(&s)),
            ..self
        }
    }

    /// `path:line:col: error: message`, then the source line with a caret, then the hint.
    pub fn render(&self, color: bool) -> String {
        let (red, yellow, cyan, bold, reset) = if color {
            (
                "\x1b[1;31m",
                "\x1b[1;33m",
                "\x1b[1;36m",
                "\x1b[1m",
                "\x1b[0m",
            )
        } else {
            ("", "", "", "", "")
        };
        let label = match self.severity {
            Severity::Error => format!("{red}error{reset}"),
            Severity::Warning => format!("{yellow}warning{reset}"),
        };
        let mut out = String::new();
        let path = escape_controls(&display_path(&self.path));
        if self.line > 0 {
            let _ = write!(out, "{bold}{path}:{}:{}{reset}: ", self.line, self.col);
        } else {
            let _ = write!(out, "{bold}{path}{reset}: ");
        }
        let message = escape_controls(&self.message);
        let _ = writeln!(out, "{label}: {bold}{message}{reset}");
        if let (Some(src), true) = (&self.source_line, self.line > 0) {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let src = src.trim_end().replace('\t', " ");
            // The caret goes under the escaped text: count the width of what precedes it.
            let before: String = src.chars().take(self.col.saturating_sub(1)).collect();
            let caret_pad = " ".repeat(escape_controls(&before).chars().count());
            let shown = escape_controls(&src);
            let _ = writeln!(out, "{cyan}{pad} |{reset}");
            let _ = writeln!(out, "{cyan}{num} |{reset} {shown}");
            let _ = writeln!(out, "{cyan}{pad} |{reset} {caret_pad}{red}^{reset}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  {cyan}= hint:{reset} {}", escape_controls(hint));
        }
        out
    }
}

/// `s` with every control character and bidirectional formatting character written as an
/// escape (`\u{1b}`), so that a diagnostic quoting hostile text can neither drive the
/// terminal (colours, cursor moves, overwritten lines) nor reorder what is shown.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if needs_escape(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Line breaks are kept: multi-line messages (template errors) are printed as lines, and a
/// line break alone cannot drive the terminal.
pub(crate) fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn display_path(p: &Path) -> String {
    // Forward slashes on every platform, so messages and tests read the same.
    p.to_string_lossy().replace('\\', "/")
}

/// 1-based line, 1-based column in characters, and the line's text, for byte `offset` of `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize, &str) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[..line_start].matches('\n').count() + 1;
    let col = text[line_start..offset].chars().count() + 1;
    let src = text[line_start..line_end].trim_end_matches('\r');
    (line, col, src)
}

/// Collects diagnostics from all stages; errors make the build fail, warnings do not.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }
    /// Sorted by path, then position, so output is stable across parallel runs.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (&a.path, a.line, a.col, &a.message).cmp(&(&b.path, b.line, b.col, &b.message))
        });
        self.items.dedup();
        self.items
    }
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }
}

/// A failure that stops the build before or after the content stages (I/O, theme, config).
#[derive(Debug)]
pub enum BuildError {
    /// Problems in the user's files; all of them.
    Content(Vec<Diagnostic>),
    /// Anything else, with a chain of causes, outermost first.
    Other(Vec<String>),
    /// The command line asked for something that does not exist (exit code 2).
    Usage(String, Option<String>),
}

impl BuildError {
    pub fn other(msg: impl Into<String>) -> Self {
        BuildError::Other(vec![msg.into()])
    }
    pub fn io(action: &str, path: &Path, err: &std::io::Error) -> Self {
        let cause = err.to_string();
        // tempfile appends the (random) temporary path; the folder is already named.
        let cause = cause
            .split(" at path \"")
            .next()
            .unwrap_or_default()
            .to_string();
        let mut lines = vec![
            format!("failed to {action} `{}`", display_path(path)),
            cause,
        ];
        if let Some(hint) = io_hint(err.kind()) {
            lines.push(format!("hint: {hint}"));
        }
        BuildError::Other(lines)
    }
}

/// An `Other` error's lines as printed: `error: …`, then `caused by: …` per cause and the
/// `hint: …` line as it is.
pub fn render_chain(chain: &[String]) -> String {
    let mut out = String::new();
    for (i, line) in chain.iter().map(|l| escape_controls(l)).enumerate() {
        if i == 0 {
            out.push_str("error: ");
        } else if !line.starts_with("hint: ") {
            out.push_str("caused by: ");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// What to do about a file system error, for the kinds a user can fix.
fn io_hint(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::ReadOnlyFilesystem => {
            "the file system is read-only; build into a writable folder with --output-dir"
        }
        K::PermissionDenied => {
            "wegweiser may not access this path; check its owner and permissions, or choose \
             another --output-dir"
        }
        K::StorageFull | K::QuotaExceeded => {
            "the disk is full; free some space or build onto another disk with --output-dir \
             (the previous output is unchanged)"
        }
        K::AlreadyExists | K::NotADirectory => {
            "a file is in the way where a folder is needed; remove it or choose another \
             --output-dir"
        }
        _ => return None,
    })
}

impl From<Diagnostic> for BuildError {
    fn from(d: Diagnostic) -> Self {
        BuildError::Content(vec![d])
    }
}

/// "did you mean" hint for a misspelled name among the known ones.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= 2.max(k.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_lines_and_char_columns() {
        let text = "+++\ntitle = \"Über\"\nx = 1\n";
        let off = text.find("x =").unwrap();
        assert_eq!(position(text, off), (3, 1, "x = 1"));
        let off = text.find("ber").unwrap();
        assert_eq!(position(text, off), (2, 11, "title = \"Über\""));
    }

    #[test]
    fn render_shows_place_source_and_hint() {
        let text = "+++\ntitel = \"x\"\n+++\n";
        let d = Diagnostic::error("content/a.md", "unknown key `titel`")
            .at(text, 4)
            .with_hint("did you mean `title`?");
        assert_eq!(
            d.render(false),
            "content/a.md:2:1: error: unknown key `titel`\n  |\n2 | titel = \"x\"\n  | ^\n  = hint: did you mean `title`?\n"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped_with_the_caret_in_place() {
        let text = "+++\n\u{1b}[31m\u{202e}x = 1\n+++\n";
        let d = Diagnostic::error("content/\u{7}a.md", "unknown key `\u{1b}[31m\u{202e}x`")
            .at(text, text.find('x').unwrap())
            .with_hint("\u{8}weg");
        assert_eq!(
            d.render(false),
            "content/\\u{7}a.md:2:7: error: unknown key `\\u{1b}[31m\\u{202e}x`\n  |\n2 | \\u{1b}[31m\\u{202e}x = 1\n  |                   ^\n  = hint: \\u{8}weg\n"
        );
        assert_eq!(escape_controls("a\u{2066}b\r\0"), "a\\u{2066}b\\u{d}\\u{0}");
        assert_eq!(escape_controls("Zeile\nzwei ü"), "Zeile\nzwei ü");
    }

    #[test]
    fn did_you_mean_finds_close_names() {
        let known = ["title", "description", "suchworte"];
        assert_eq!(
            did_you_mean("titel", known).as_deref(),
            Some("did you mean `title`?")
        );
        assert_eq!(
            did_you_mean("suchwort", known).as_deref(),
            Some("did you mean `suchworte`?")
        );
        assert_eq!(did_you_mean("zzzzzzzz", known), None);
    }
}

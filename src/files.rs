//! Reading files and choosing the output folder safely: shared by the stages that read the
//! site (config, load, active content) and the one that writes it.

use std::path::{Component, Path, PathBuf};

use crate::error::{BuildError, Diagnostic};

/// What a file that is not a regular file is, for messages.
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    if ft.is_dir() {
        return "a folder";
    }
    "a special file"
}

const NOT_REGULAR_HINT: &str =
    "only regular files can be part of a site; remove it or replace it with a file";

pub(crate) fn not_regular(shown: &Path, ft: &std::fs::FileType) -> Diagnostic {
    Diagnostic::error(
        shown,
        format!("file is {}, not a regular file", kind_of(ft)),
    )
    .with_hint(NOT_REGULAR_HINT)
}

/// Editor, system and tool artefacts that are never part of a site, anywhere: hidden files
/// (`.DS_Store`, `.#seite.md`, `.seite.md.swp`), backups (`*~`, `*.bak`, `*.orig`, `*.rej`),
/// Emacs autosaves (`#seite.md#`), Vim swap files (`*.swp`, `*.swo`), temporary files (`*.tmp`,
/// `*.part`, `*.crdownload`), Office lock files (`~$bericht.docx`) and Windows folder files
/// (`Thumbs.db`, `ehthumbs.db`, `desktop.ini`). Compared case-insensitively.
pub(crate) fn is_ignored(name: &std::ffi::OsStr) -> bool {
    const SUFFIXES: [&str; 9] = [
        "~",
        ".bak",
        ".orig",
        ".rej",
        ".swp",
        ".swo",
        ".tmp",
        ".part",
        ".crdownload",
    ];
    const NAMES: [&str; 3] = ["thumbs.db", "ehthumbs.db", "desktop.ini"];
    let name = name.to_string_lossy().to_lowercase();
    name.starts_with(['.', '#', '~'])
        || SUFFIXES.iter().any(|s| name.ends_with(s))
        || NAMES.contains(&name.as_str())
}

/// Opens a file only if it is a regular file: a named pipe, socket or device would block the
/// build or never end, so it is refused before it is opened (and checked again once opened,
/// without blocking, in case it was swapped in between).
pub(crate) fn open_regular(abs: &Path) -> std::io::Result<std::fs::File> {
    let refuse = |ft: &std::fs::FileType| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("file is {}, not a regular file", kind_of(ft)),
        )
    };
    let ft = std::fs::metadata(abs)?.file_type();
    if !ft.is_file() {
        return Err(refuse(&ft));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A small flag (0o4000 on Linux): the cast to the C `int` open(2) takes is exact.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(abs)?;
    let ft = file.metadata()?.file_type();
    if !ft.is_file() {
        return Err(refuse(&ft));
    }
    Ok(file)
}

/// The bytes of a regular file (see [`open_regular`]).
pub(crate) fn read_regular(abs: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    open_regular(abs)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a UTF-8 text file, dropping a byte order mark; reports non-UTF-8 with its position.
pub(crate) fn read_text(abs: &Path, shown: &Path, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match read_regular(abs) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            diags.push(Diagnostic::error(shown, e.to_string()).with_hint(NOT_REGULAR_HINT));
            return None;
        }
        Err(e) => {
            diags.push(
                Diagnostic::error(shown, format!("cannot read file: {e}"))
                    .with_hint("check the file's permissions"),
            );
            return None;
        }
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    // NUL bytes mean an image or document saved as .md, whatever its encoding.
    if bytes.contains(&0) {
        diags.push(
            Diagnostic::error(shown, "file is binary, not text")
                .with_hint("only Markdown text files belong here; move images and PDFs into a page bundle folder"),
        );
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s.to_string()),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let lossy = String::from_utf8_lossy(bytes);
            let text = String::from_utf8_lossy(valid);
            let offset = text.len();
            diags.push(
                Diagnostic::error(shown, "file is not valid UTF-8")
                    .at(&lossy, offset)
                    .with_hint("save the file as UTF-8 (e.g. it may be Latin-1/Windows-1252)"),
            );
            None
        }
    }
}

/// The real location of `p`, resolved one component at a time the way the operating system
/// will once the missing folders are created: each existing prefix through its symbolic
/// links, each `..` from the real folder reached so far. (Resolving only the longest existing
/// prefix would keep `public/neu/../../..` unresolved, and a build would take it for a folder
/// inside the site and move the site itself aside.)
fn real_path(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => {
                out.push(c);
                if let Ok(real) = std::fs::canonicalize(&out) {
                    out = real;
                }
            }
        }
    }
    out
}

/// Refuses output folders whose replacement would destroy the site itself (also when reached
/// through `..` or a symbolic link), output folders that are symbolic links (replacing one
/// would empty its target), and output folders that cannot be created because a file is in
/// the way. Only looks, writes nothing, so `check` finds the same problems as `build`.
/// Returns the real path to write to.
pub(crate) fn check_output_dir(root: &Path, out: &Path) -> Result<PathBuf, BuildError> {
    let refuse = |why: &str, hint: &str| {
        BuildError::Other(vec![
            format!(
                "refusing to use `{}` as the output directory",
                out.display()
            ),
            why.to_string(),
            format!("hint: {hint}"),
        ])
    };
    let real = real_path(out);
    match output_dir_problem(root, out) {
        None => Ok(real),
        Some(OutDirProblem::Symlink) => Err(refuse(
            "it is a symbolic link (replacing it would empty the folder it points to)",
            "pass the folder it points to, or a separate folder such as public/",
        )),
        Some(OutDirProblem::SiteFiles) => Err(refuse(
            "it would replace the site's own files",
            "choose a separate folder such as public/",
        )),
        Some(OutDirProblem::NotAFolder) => Err(not_a_folder(&real)),
        Some(OutDirProblem::FileInTheWay(file)) => Err(BuildError::Other(vec![
            format!("cannot create the output directory `{}`", real.display()),
            format!("`{}` is a file, not a folder", file.display()),
            "hint: a file is in the way where a folder is needed; remove it or choose another \
             --output-dir"
                .to_string(),
        ])),
    }
}

/// Why a folder cannot be the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutDirProblem {
    Symlink,
    /// The site root, one of its ancestors (`/` included) or a folder of the site's sources.
    SiteFiles,
    NotAFolder,
    /// This existing file is where a parent folder would have to be.
    FileInTheWay(PathBuf),
}

impl std::fmt::Display for OutDirProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutDirProblem::Symlink => f.write_str("is a symbolic link"),
            OutDirProblem::SiteFiles => f.write_str("would replace the site's own files"),
            OutDirProblem::NotAFolder => f.write_str("exists and is not a folder"),
            OutDirProblem::FileInTheWay(p) => {
                write!(f, "cannot be created: `{}` is a file", p.display())
            }
        }
    }
}

/// What is wrong with `out` as the output folder of the site at `root`, if anything.
pub(crate) fn output_dir_problem(root: &Path, out: &Path) -> Option<OutDirProblem> {
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        return Some(OutDirProblem::Symlink);
    }
    let (root, real) = (real_path(root), real_path(out));
    let dangerous = root.starts_with(&real)
        || ["content", "themes", "templates", "static"]
            .iter()
            .any(|d| real.starts_with(root.join(d)))
        || real.parent().is_none();
    if dangerous {
        return Some(OutDirProblem::SiteFiles);
    }
    if real.exists() {
        return (!real.is_dir()).then_some(OutDirProblem::NotAFolder);
    }
    real.ancestors()
        .skip(1)
        .find(|a| a.exists())
        .filter(|a| !a.is_dir())
        .map(|a| OutDirProblem::FileInTheWay(a.to_path_buf()))
}
/// The output location is taken by a file (or something else that is not a folder).
pub(crate) fn not_a_folder(out: &Path) -> BuildError {
    BuildError::Other(vec![
        format!("`{}` exists and is not a folder", out.display()),
        "hint: remove it, or choose another folder with --output-dir (or the target's output_dir)"
            .to_string(),
    ])
}

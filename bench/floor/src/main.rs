//! The I/O + Markdown floor of a static site build.
//!
//! `floor IN_DIR OUT_DIR` reads every `.md` file below IN_DIR, strips the `+++` TOML front
//! matter, renders the body with pulldown-cmark (the options wegweiser uses: tables,
//! footnotes, strikethrough, heading attributes) and writes `OUT_DIR/<same path>.html`, one
//! file per page, in parallel with rayon. No templates, no links, no taxonomy: whatever a real
//! generator needs on top of this is its own overhead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use pulldown_cmark::{html, Options, Parser};
use rayon::prelude::*;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() || (ft.is_symlink() && path.is_dir()) {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// The body after a `+++ … +++` front matter block (or the whole text without one).
fn strip_front_matter(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("+++") else {
        return text;
    };
    let Some(rest) = rest.strip_prefix('\n').or_else(|| rest.strip_prefix("\r\n")) else {
        return text;
    };
    let mut pos = 0;
    for line in rest.split_inclusive('\n') {
        pos += line.len();
        if line.trim_end() == "+++" {
            return &rest[pos..];
        }
    }
    text
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

fn render(src: &Path, input: &Path, output: &Path) -> Result<usize, String> {
    let text = fs::read_to_string(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let body = strip_front_matter(&text);
    let mut out = String::with_capacity(body.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(body, options()));
    let rel = src.strip_prefix(input).expect("below input");
    let dest = output.join(rel).with_extension("html");
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    fs::write(&dest, out.as_bytes()).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(out.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: floor IN_DIR OUT_DIR");
        return ExitCode::from(2);
    }
    let (input, output) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let start = Instant::now();
    let mut files = Vec::new();
    if let Err(e) = collect(&input, &mut files) {
        eprintln!("error: reading {}: {e}", input.display());
        return ExitCode::from(1);
    }
    let results: Vec<Result<usize, String>> = files
        .par_iter()
        .map(|f| render(f, &input, &output))
        .collect();
    let mut bytes = 0;
    let mut failed = false;
    for r in results {
        match r {
            Ok(n) => bytes += n,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    eprintln!(
        "floor: {} files, {} bytes of HTML in {:.3} s",
        files.len(),
        bytes,
        start.elapsed().as_secs_f64()
    );
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

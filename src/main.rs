//! Command line: parse arguments, run the build, print diagnostics, pick the exit code.
//!
//! Exit codes: 0 success, 1 content errors (or any failed build), 2 usage errors.

#![forbid(unsafe_code)]
#![warn(clippy::too_many_lines)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// A build allocates millions of small strings and JSON values from two threads; the system
// allocator spends about a third of the build in malloc/free there (measured: bench/run.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use wegweiser::error::{escape_controls, BuildError, Diagnostic};
use wegweiser::{BuildOptions, Overrides};

#[derive(Parser)]
#[command(
    name = "wegweiser",
    version,
    about = "Builds a linked, keyword-indexed static site from Markdown with TOML front matter"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// Site root (the folder with config.toml)
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Base URL for this build, e.g. https://www.example.org/portal/
    #[arg(long)]
    base_url: Option<String>,
    /// Include pages with draft = true
    #[arg(long)]
    drafts: bool,
    /// Build for this target of config.toml (e.g. intranet, internet); default: default_target
    #[arg(long)]
    target: Option<String>,
    /// Diagnostics as text (for people) or JSON on stdout (for tools and editors)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output directory (public/ by default)
    Build {
        #[command(flatten)]
        common: Common,
        /// Where to write the site (default: <root>/public)
        #[arg(long, short = 'o')]
        output_dir: Option<PathBuf>,
        /// Print the time each stage took
        #[arg(long)]
        timings: bool,
    },
    /// Check everything a build checks, without writing anything
    Check {
        #[command(flatten)]
        common: Common,
        /// The output directory a build would use, checked too (default: <root>/public)
        #[arg(long, short = 'o')]
        output_dir: Option<PathBuf>,
    },
    /// Create a new site with the default theme in DIR (default: the current folder)
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Create a page of a content type (or `page`, `section`) at content/PATH, to complete
    New {
        /// Content type from config.toml, or `page` / `section`
        kind: String,
        /// Path below content/, e.g. projekte/neues-projekt.md
        path: String,
        /// Site root (the folder with config.toml)
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Live preview: build in memory, serve on 127.0.0.1, rebuild and reload on every change
    Serve {
        #[command(flatten)]
        common: Common,
        /// Port to listen on
        #[arg(long, short = 'p', default_value_t = 1111)]
        port: u16,
        /// Address to listen on; only loopback unless you choose another. On loopback only
        /// requests for localhost, *.localhost, 127.x.x.x or [::1] are answered (against DNS
        /// rebinding); on any other address, requests for any host name
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Print the time each stage took, after every rebuild
        #[arg(long)]
        timings: bool,
    },
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match cli.command {
        Command::Serve {
            common,
            port,
            bind,
            timings,
        } => serve(common, port, bind, timings, color),
        Command::Init { dir } => init(&dir, color),
        Command::New { kind, path, root } => new_page(&root, &kind, &path, color),
        Command::Build {
            common,
            output_dir,
            timings,
        } => build_or_check(common, output_dir, true, timings, color),
        Command::Check { common, output_dir } => {
            build_or_check(common, output_dir, false, false, color)
        }
    }
}

/// A bug in wegweiser must still end in a readable message, not a stack trace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("error: internal error in wegweiser{place}: {msg}");
        eprintln!(
            "caused by: a bug, not your content; please report it with the file that triggered it"
        );
    }));
}

/// `init`: a new site in `dir`.
fn init(dir: &std::path::Path, color: bool) -> ExitCode {
    match wegweiser::scaffold::init(dir) {
        Ok(files) => {
            eprintln!(
                "created a new site in {} ({} files); next: cd {} && wegweiser serve",
                dir.display(),
                files.len(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => report_error(e, color),
    }
}

/// `new`: a page of content type `kind` at `path` in the site at `root`.
fn new_page(root: &std::path::Path, kind: &str, path: &str, color: bool) -> ExitCode {
    let created = wegweiser::check_root_flag(root)
        .and_then(|()| wegweiser::scaffold::new_page(root, kind, path));
    match created {
        Ok(file) => {
            let shown = file.strip_prefix(root).unwrap_or(&file);
            eprintln!("created {}: fill in the fields, then save", shown.display());
            ExitCode::SUCCESS
        }
        Err(e) => report_error(e, color),
    }
}

/// `build` and `check`: the same run (check only leaves out the write) reported the same way.
fn build_or_check(
    common: Common,
    output_dir: Option<PathBuf>,
    write: bool,
    timings: bool,
    color: bool,
) -> ExitCode {
    let format = common.format;
    let opts = BuildOptions {
        root: common.root,
        overrides: Overrides {
            output_dir,
            base_url: common.base_url,
            drafts: common.drafts,
            target: common.target,
        },
        write,
        progress: match format {
            Format::Text => progress_mode(),
            Format::Json => wegweiser::Progress::Quiet,
        },
    };
    let result = match check_flags(&opts.overrides) {
        Err(e) => Ok(Err(e)),
        Ok(()) => std::panic::catch_unwind(|| wegweiser::build(&opts)),
    };
    let Ok(result) = result else {
        // The panic hook has already said what happened.
        return ExitCode::from(1);
    };
    match (format, result) {
        (Format::Json, result) => print_json(result),
        (Format::Text, Ok(report)) => report_success(&report, write, timings, color),
        (Format::Text, Err(e)) => report_error(e, color),
    }
}

fn report_success(report: &wegweiser::Report, write: bool, timings: bool, color: bool) -> ExitCode {
    print_diagnostics(&report.warnings, color);
    if timings {
        for (stage, t) in &report.timings {
            eprintln!("{stage:>10}: {:>8.1} ms", t.as_secs_f64() * 1000.0);
        }
    }
    let what = format!(
        "{}, {}, {}",
        count(report.pages, "page"),
        count(report.sections, "section"),
        count(report.keywords, "keyword")
    );
    if write {
        eprintln!(
            "built {what}: {} files in {}",
            report.files_written,
            report.output_dir.display()
        );
    } else {
        eprintln!("checked {what}: no errors");
    }
    ExitCode::SUCCESS
}

/// Flag values that are wrong whatever the site: usage errors (exit code 2).
fn check_flags(overrides: &Overrides) -> Result<(), BuildError> {
    if let Some(url) = &overrides.base_url {
        if let Err(e) = wegweiser::validate_base_url(url) {
            return Err(BuildError::Usage(
                format!("invalid value for --base-url: {}", e.message),
                Some(e.hint),
            ));
        }
    }
    Ok(())
}

/// Prints a failed run's errors and returns its exit code.
fn report_error(e: BuildError, color: bool) -> ExitCode {
    match e {
        BuildError::Content(diags) => {
            print_diagnostics(&diags, color);
            let errors = diags
                .iter()
                .filter(|d| d.severity == wegweiser::error::Severity::Error)
                .count();
            eprintln!(
                "error: build failed with {errors} error{}; nothing was written",
                if errors == 1 { "" } else { "s" }
            );
            ExitCode::from(1)
        }
        BuildError::Usage(msg, hint) => {
            eprintln!("error: {}", escape_controls(&msg));
            if let Some(h) = hint {
                eprintln!("  = hint: {}", escape_controls(&h));
            }
            ExitCode::from(2)
        }
        BuildError::Other(chain) => {
            eprint!("{}", wegweiser::error::render_chain(&chain));
            ExitCode::from(1)
        }
    }
}

fn serve(
    common: Common,
    port: u16,
    bind: std::net::IpAddr,
    timings: bool,
    color: bool,
) -> ExitCode {
    if common.format == Format::Json {
        eprintln!("error: serve has no JSON output");
        eprintln!("  = hint: drop --format json; `wegweiser check --format json` reports as JSON");
        return ExitCode::from(2);
    }
    let overrides = Overrides {
        output_dir: None,
        // Only its path is used: the site is served below it, on this machine.
        base_url: common.base_url,
        drafts: common.drafts,
        target: common.target,
    };
    if let Err(e) = check_flags(&overrides) {
        return report_error(e, color);
    }
    let opts = wegweiser::serve::ServeOptions {
        build: BuildOptions {
            root: common.root,
            overrides,
            write: false,
            progress: progress_mode(),
        },
        bind,
        port,
        color,
        timings,
    };
    match wegweiser::serve::serve(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(e, color),
    }
}

/// `--format json`: every diagnostic as JSON on stdout, nothing on stderr; exit code as usual.
fn print_json(result: Result<wegweiser::Report, BuildError>) -> ExitCode {
    let (code, diags): (u8, Vec<Diagnostic>) = match result {
        Ok(report) => (0, report.warnings),
        Err(BuildError::Content(d)) => (1, d),
        Err(BuildError::Usage(msg, hint)) => {
            let mut d = Diagnostic::error("", msg);
            d.hint = hint;
            (2, vec![d])
        }
        Err(BuildError::Other(chain)) => {
            let (hints, causes): (Vec<String>, Vec<String>) =
                chain.into_iter().partition(|l| l.starts_with("hint: "));
            let mut d = Diagnostic::error("", causes.join(": "));
            d.hint = hints
                .first()
                .map(|h| h.trim_start_matches("hint: ").to_string());
            (1, vec![d])
        }
    };
    // The same text as on a terminal: a tool showing a message must not be driven by it.
    let diags: Vec<Diagnostic> = diags.into_iter().map(Diagnostic::escaped).collect();
    let errors = diags
        .iter()
        .filter(|d| d.severity == wegweiser::error::Severity::Error)
        .count();
    let out = serde_json::json!({
        "ok": code == 0,
        "errors": errors,
        "warnings": diags.len() - errors,
        "diagnostics": diags,
    });
    println!("{out}");
    ExitCode::from(code)
}

fn progress_mode() -> wegweiser::Progress {
    if std::io::stderr().is_terminal() {
        wegweiser::Progress::Bar
    } else {
        wegweiser::Progress::Lines
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn print_diagnostics(diags: &[Diagnostic], color: bool) {
    for d in diags {
        eprint!("{}", d.render(color));
    }
}

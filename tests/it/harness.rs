//! Test harness: a copy of a test site in a temporary folder, built with the real binary.
//!
//! ```ignore
//! let site = SiteTest::new("basic");       // tests/it/sites/basic + tests/it/theme
//! site.build();                            // `wegweiser build --root <tmp>`, must succeed
//! assert_eq!(site.line("public/obst/apfel/index.html", "title"), "Apfel");
//! ```
//!
//! The site lives in `<tmp>/site` (shown as `[ROOT]` in messages), so a test can also check
//! that nothing was written beside it.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};

fn it_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("it")
}

/// A test site in a fresh temporary folder.
pub struct SiteTest {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

impl SiteTest {
    /// Copies `tests/it/sites/<case>/` and, unless the case brings its own `themes/`, the test
    /// theme `tests/it/theme/` as `themes/test/`.
    pub fn new(case: &str) -> Self {
        let src = it_dir().join("sites").join(case);
        assert!(src.is_dir(), "no test site {}", src.display());
        let tmp = tempfile::Builder::new()
            .prefix("wegweiser-it-")
            .tempdir()
            .expect("create temporary folder");
        let root = tmp.path().join("site");
        copy_dir(&src, &root);
        if !root.join("themes").exists() {
            copy_dir(&it_dir().join("theme"), &root.join("themes").join("test"));
        }
        SiteTest { tmp, root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs the binary in the site root with a clean environment. `build` and `check` get
    /// `--root <site>` appended unless `args` has one.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wegweiser"));
        cmd.args(args);
        if matches!(args.first(), Some(&"build" | &"check")) && !args.contains(&"--root") {
            cmd.arg("--root").arg(&self.root);
        }
        cmd.current_dir(&self.root).env_clear().env("NO_COLOR", "1");
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        let out = cmd.output().expect("run wegweiser");
        Run {
            code: out.status.code().expect("wegweiser was killed by a signal"),
            stdout: self.redact(&String::from_utf8_lossy(&out.stdout)),
            stderr: self.redact(&String::from_utf8_lossy(&out.stderr)),
        }
    }

    /// `build` with extra arguments; panics with stderr unless it succeeds.
    #[track_caller]
    pub fn build_with(&self, args: &[&str]) -> Run {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        self.run(&all).success()
    }

    /// `build`; panics with stderr unless it succeeds.
    #[track_caller]
    pub fn build(&self) -> Run {
        self.build_with(&[])
    }

    /// Runs a `build` that must fail with exit code 1 after a previous successful build, and
    /// checks that it changed nothing: `public/` byte for byte the same, no temporary build
    /// folder left over, nothing written beside the site.
    #[track_caller]
    pub fn build_fails_cleanly(&self) -> Run {
        assert!(
            self.exists("public"),
            "build_fails_cleanly needs a previous successful build"
        );
        let before = self.snapshot_dir("public");
        let run = self.run(&["build"]).failure();
        self.assert_check_agrees(&["build"], &run);
        assert_eq!(
            self.snapshot_dir("public"),
            before,
            "a failed build (or the check after it) changed public/"
        );
        self.assert_no_leftovers();
        run
    }

    /// `check` with the arguments of the failed `build ARGS` must fail the same way (issue #11:
    /// check = build): the same exit code and stderr, and `check --format json` the same exit
    /// code with the same diagnostics. Only failures of the disk write itself may differ; such
    /// cases do not call this.
    #[track_caller]
    pub fn assert_check_agrees(&self, build_args: &[&str], build: &Run) {
        assert_eq!(build_args.first(), Some(&"build"));
        let mut args = build_args.to_vec();
        args[0] = "check";
        let check = self.run(&args);
        assert_eq!(
            (check.code(), check.stderr()),
            (build.code(), build.stderr()),
            "`check` and `build` disagree (left: check, right: build)"
        );
        args.extend(["--format", "json"]);
        let json = self.run(&args);
        assert_eq!(
            json.code(),
            build.code(),
            "check --format json: {}",
            json.stdout()
        );
        for line in json_diagnostic_lines(json.stdout()) {
            assert!(
                build.stderr().contains(&line),
                "check --format json reports `{line}`, which the text output lacks:\n{}",
                build.stderr()
            );
        }
    }

    /// No `.public.tmp-build-*` or `.public.old-*` folder in the site, nothing beside the site.
    #[track_caller]
    pub fn assert_no_leftovers(&self) {
        let hidden: Vec<String> = list(&self.root)
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(hidden.is_empty(), "left behind in the site: {hidden:?}");
        assert_eq!(list(self.tmp.path()), ["site"], "written beside the site");
    }

    /// Text of a file below the site root.
    #[track_caller]
    pub fn file(&self, rel: &str) -> String {
        let p = self.root.join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    /// The value of the `key: value` line of a file written by the test theme.
    #[track_caller]
    pub fn line(&self, rel: &str, key: &str) -> String {
        let text = self.file(rel);
        let prefix = format!("{key}:");
        let found = text.lines().find_map(|l| l.strip_prefix(&prefix));
        match found {
            Some(v) => v.trim().to_string(),
            None => panic!("no `{key}:` line in {rel}:\n{text}"),
        }
    }

    /// The titles of a `[title](url) | …` line, e.g. "Apfel | Äpfel | Arbeit".
    #[track_caller]
    pub fn titles(&self, rel: &str, key: &str) -> String {
        titles(&self.line(rel, key))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }

    /// Writes a file (creating folders), e.g. to break a page before a rebuild.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        let p = self.root.join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
        self
    }

    /// Every file and folder below `rel` with a hash of each file's bytes, to compare a folder
    /// before and after a build.
    pub fn snapshot_dir(&self, rel: &str) -> BTreeMap<String, String> {
        dir_snapshot(&self.root.join(rel))
    }

    /// The files below `rel`, relative to it, sorted.
    pub fn files(&self, rel: &str) -> Vec<String> {
        self.snapshot_dir(rel)
            .into_iter()
            .filter(|(_, what)| what != "dir")
            .map(|(name, _)| name)
            .collect()
    }

    fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        let canonical = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.clone());
        for root in [&canonical, &self.root] {
            text = text.replace(root.to_string_lossy().as_ref(), "[ROOT]");
        }
        text
    }
}

/// Exit code and output of one run.
#[derive(Debug)]
pub struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.code
    }

    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// Standard error, with the site root shown as `[ROOT]`.
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "expected success; stderr:\n{}", self.stderr);
        self
    }

    /// Exit code 1 (a failed build).
    #[track_caller]
    pub fn failure(self) -> Self {
        assert_eq!(
            self.code, 1,
            "expected exit code 1; stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// The `path:line:col: severity: message` line of each positioned diagnostic of a
/// `--format json` report (the others print differently as text: a cause chain, a usage line).
pub fn json_diagnostic_lines(stdout: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("--format json printed no JSON ({e}):\n{stdout}"));
    let diags = v["diagnostics"].as_array().expect("a diagnostics array");
    diags
        .iter()
        .filter(|d| d["line"].as_u64().unwrap_or(0) > 0)
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}",
                d["path"].as_str().unwrap_or_default(),
                d["line"],
                d["col"],
                d["severity"].as_str().unwrap_or_default(),
                d["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// `[A](https://…) | [B](https://…) (2)` → `A | B (2)`: a line of links without the URLs.
pub fn titles(links: &str) -> String {
    let mut out = String::new();
    let mut rest = links;
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(close) = after.find("](") else {
            rest = after;
            break;
        };
        out.push_str(&after[..close]);
        let url = &after[close + 2..];
        rest = &url[url.find(')').map_or(url.len(), |i| i + 1)..];
    }
    out.push_str(rest);
    out
}

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Every entry below `dir` (symbolic links not followed) with what it is: a folder, a link and
/// its target, or a file's size and a hash of its bytes.
pub fn dir_snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.expect("walk the folder");
        let name = entry.path().strip_prefix(dir).unwrap();
        let name = name.to_string_lossy().replace('\\', "/");
        let ft = entry.file_type();
        let what = if ft.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap();
            format!("link to {}", target.display())
        } else if ft.is_dir() {
            "dir".to_string()
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            format!("{} bytes, hash {:016x}", bytes.len(), h.finish())
        };
        out.insert(name, what);
    }
    out
}

/// The bundled portal (the repository's `content/`, theme and `config.toml`) built for one
/// target, shared by every test of this test binary: building it takes seconds, and the tests
/// only read it. A test that must change the portal or its output works on its own copy.
pub struct PortalBuild {
    /// The output folder.
    pub out: PathBuf,
    /// What the build printed on standard error.
    pub stderr: String,
}

/// The shared build of the portal for `target` (`wegweiser build --target TARGET`), made on
/// first use. The builds live in `target/tmp/portal-builds/<process id>/` for this run; the
/// folders of earlier runs are removed when the first build starts.
pub fn portal(target: &str) -> &'static PortalBuild {
    type Cell = OnceLock<Result<PortalBuild, String>>;
    static CELLS: Mutex<BTreeMap<String, &'static Cell>> = Mutex::new(BTreeMap::new());
    let cell: &'static Cell = {
        let mut cells = CELLS.lock().unwrap_or_else(PoisonError::into_inner);
        cells
            .entry(target.to_string())
            .or_insert_with(|| Box::leak(Box::new(OnceLock::new())))
    };
    // One thread builds, the others wait for it; a failed build fails every test that needs it.
    match cell.get_or_init(|| build_portal(target)) {
        Ok(build) => build,
        Err(e) => panic!("{e}"),
    }
}

fn build_portal(target: &str) -> Result<PortalBuild, String> {
    let out = portal_builds_dir().join(target);
    let run = Command::new(env!("CARGO_BIN_EXE_wegweiser"))
        .arg("build")
        .arg("--root")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(["--target", target, "--output-dir"])
        .arg(&out)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("run wegweiser: {e}"))?;
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    if !run.status.success() {
        return Err(format!(
            "build --target {target} of the portal failed:\n{stderr}"
        ));
    }
    Ok(PortalBuild { out, stderr })
}

/// `target/tmp/portal-builds/<pid>`, created once per run after removing the folders of runs
/// that have ended (on Linux: whose process is gone; elsewhere all of them).
fn portal_builds_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-builds");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let alive = Path::new("/proc").join(&name).exists();
                if !alive {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = base.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("create the folder for the portal builds");
        dir
    })
}

/// Whether this run is CI: `CI` is set (as `.ci/run` and CI services set it) to anything but
/// empty, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// For a test that cannot run on this machine (a missing program, no privileges): in CI that is
/// a failure, never a silent pass; elsewhere the caller returns after a note on standard error.
/// The note is written to the stream itself, past the test harness's capture, so it shows in the
/// `cargo test` output although the test passes.
#[track_caller]
pub fn cannot_run(test: &str, why: &str) {
    assert!(
        !in_ci(),
        "{test} cannot run here: {why} (CI is set, so this fails instead of passing untested)"
    );
    let mut err = std::io::stderr().lock();
    // Nothing to do if the note cannot be written.
    let _ = writeln!(
        err,
        "note: {test} did not run: {why} (in CI, with CI=true, this is a failure)"
    );
}

//! Stage 7: write the output atomically.
//!
//! Writes everything into a fresh temporary folder beside the output directory ([`Staging`]):
//! pages as soon as they are rendered, then the remaining outputs and the files to copy. Only
//! when all of it succeeded is the folder swapped into place; a failed build leaves the
//! previous output untouched.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use crate::error::{BuildError, Diagnostic};
use crate::hash::HashMap;
use crate::model::Output;

/// What to put into the output: generated files and files copied from disk.
pub(crate) struct Plan {
    pub outputs: Vec<Output>,
    /// (source file, output-relative destination)
    pub copies: Vec<(PathBuf, String)>,
}

/// A destination must stay inside the output folder.
pub(crate) fn is_safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// A fresh temporary folder beside the output directory that the build writes into, file by
/// file while rendering (so rendered pages need not stay in memory), and that replaces the
/// output directory only when everything succeeded. Dropped unfinished, it is removed.
pub(crate) struct Staging {
    /// Declared before `lock`: the folder is removed before the lock is released.
    dir: Folder,
    lock: BuildLock,
    /// Where the folder goes in the end (for messages).
    out_dir: PathBuf,
    /// Files written so far.
    written: AtomicUsize,
    /// The first write error; later writes are skipped.
    failure: Mutex<Option<BuildError>>,
}

/// A folder removed when dropped (unless it was moved away).
struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        remove_entry(&self.0);
    }
}

/// A running build's claim on its temporary folders `.<out>.tmp-build-<id>` and
/// `.<out>.old-<id>`: an exclusive lock on `.<out>.build-<id>.lock`, held until the build is
/// done (the operating system releases it when the process dies, however it dies). A later
/// build removes the folders of every id whose lock it can take: their build is gone.
struct BuildLock {
    id: String,
    path: PathBuf,
    _file: std::fs::File,
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other build can mistake it for a stale lock.
        let _ = std::fs::remove_file(&self.path);
    }
}

impl BuildLock {
    fn acquire(parent: &Path, name: &str) -> Result<Self, BuildError> {
        let io = |e: std::io::Error| BuildError::io("create a lock file in", parent, &e);
        loop {
            let (file, path) = tempfile::Builder::new()
                .prefix(&format!(".{name}.build-"))
                .suffix(".lock")
                .tempfile_in(parent)
                .map_err(io)?
                .keep()
                .map_err(|e| io(e.error))?;
            file.lock().map_err(io)?;
            // Another build may have taken the fresh, not yet locked file for a stale one and
            // removed it; then this lock protects nothing and a new one is needed.
            if !still_at(&file, &path) {
                continue;
            }
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            let id = file_name
                .strip_prefix(&format!(".{name}.build-"))
                .and_then(|r| r.strip_suffix(".lock"))
                .unwrap_or_default()
                .to_string();
            return Ok(BuildLock {
                id,
                path,
                _file: file,
            });
        }
    }
}

#[cfg(unix)]
fn still_at(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &std::fs::File, path: &Path) -> bool {
    path.is_file()
}

fn lock_path(parent: &Path, name: &str, id: &str) -> PathBuf {
    parent.join(format!(".{name}.build-{id}.lock"))
}

/// Removes what killed builds into this output directory left behind: temporary and
/// set-aside folders whose lock is free (or missing: folders of older versions), and free
/// lock files without a folder. Folders of builds still running are locked and kept.
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let folder_id = rest
            .strip_prefix("tmp-build-")
            .or_else(|| rest.strip_prefix("old-"));
        if let Some(id) = folder_id {
            let lock = lock_path(parent, name, id);
            if std::fs::symlink_metadata(&lock).is_err() {
                remove_entry(&entry.path());
            } else if let Some(_held) = take_free_lock(&lock) {
                remove_entry(&entry.path());
                let _ = std::fs::remove_file(&lock);
            }
        } else if let Some(id) = rest
            .strip_prefix("build-")
            .and_then(|r| r.strip_suffix(".lock"))
        {
            let has_folder = ["tmp-build", "old"].iter().any(|k| {
                std::fs::symlink_metadata(parent.join(format!(".{name}.{k}-{id}"))).is_ok()
            });
            if !has_folder && take_free_lock(&entry.path()).is_some() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The lock file, locked, if nobody else holds it: its build is gone. Only a regular file is
/// opened; anything else is left alone.
fn take_free_lock(path: &Path) -> Option<std::fs::File> {
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    file.try_lock().ok()?;
    Some(file)
}

/// Removes a file, a link (never what it points to) or a folder tree.
fn remove_entry(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => remove_dir_parallel(path),
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

impl Staging {
    /// Creates the temporary folder in the output directory's parent (same file system, so
    /// the final swap is a rename), after removing the leftovers of killed builds.
    pub(crate) fn new(out_dir: &Path) -> Result<Self, BuildError> {
        let (parent, name) = parent_and_name(out_dir);
        std::fs::create_dir_all(&parent).map_err(|e| BuildError::io("create", &parent, &e))?;
        clean_stale(&parent, &name);
        let lock = BuildLock::acquire(&parent, &name)?;
        let dir = parent.join(format!(".{name}.tmp-build-{}", lock.id));
        std::fs::create_dir(&dir)
            .map_err(|e| BuildError::io("create a temporary folder in", &parent, &e))?;
        Ok(Staging {
            dir: Folder(dir),
            lock,
            out_dir: out_dir.to_path_buf(),
            written: AtomicUsize::new(0),
            failure: Mutex::new(None),
        })
    }

    /// Writes one file (from any thread). An unsafe path is skipped (the build reports it as
    /// an error before anything is swapped in); a write error is kept for [`Staging::finish`].
    pub(crate) fn put(&self, rel: &str, bytes: &[u8]) {
        if !is_safe_rel(rel) || self.failed() {
            return;
        }
        if let Err(e) = self.try_put(rel, |p| std::fs::write(p, bytes), "write", None) {
            self.fail(e);
        }
    }

    /// Creates `rel`'s folder and the file with `make`; errors name `shown` (the source of a
    /// copy) or else where the file would end up in the output directory, never the temporary
    /// folder's random name.
    fn try_put(
        &self,
        rel: &str,
        make: impl FnOnce(&Path) -> std::io::Result<()>,
        action: &str,
        shown: Option<&Path>,
    ) -> Result<(), BuildError> {
        let p = self.dir.0.join(rel);
        let target = self.out_dir.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| {
                BuildError::io("create", target.parent().unwrap_or(&self.out_dir), &e)
            })?;
        }
        make(&p).map_err(|e| BuildError::io(action, shown.unwrap_or(&target), &e))?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn failed(&self) -> bool {
        self.failure.lock().map_or(true, |f| f.is_some())
    }

    fn fail(&self, e: BuildError) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(e);
        }
    }

    /// Writes what is left (files not written while rendering, copies), then swaps the folder
    /// into place. Returns the number of files written in all.
    pub(crate) fn finish(self, out_dir: &Path, plan: Plan) -> Result<usize, BuildError> {
        plan.outputs
            .par_iter()
            .for_each(|o| self.put(&o.rel, &o.bytes));
        plan.copies.par_iter().for_each(|(src, dest)| {
            if self.failed() {
                return;
            }
            // Only regular files: a named pipe swapped in after loading would block.
            let copy = |p: &Path| {
                let mut from = crate::files::open_regular(src)?;
                let mut to = std::fs::File::create(p)?;
                std::io::copy(&mut from, &mut to).map(|_| ())
            };
            if let Err(e) = self.try_put(dest, copy, "copy", Some(src)) {
                self.fail(e);
            }
        });
        let Staging {
            dir,
            lock,
            written,
            failure,
            ..
        } = self;
        if let Some(e) = failure.into_inner().unwrap_or_else(PoisonError::into_inner) {
            return Err(e);
        }
        swap(dir, out_dir, &lock)?;
        Ok(written.into_inner())
    }
}

fn parent_and_name(out_dir: &Path) -> (PathBuf, String) {
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    (parent, name)
}

/// Old output → aside, the new one → in place, then the old one removed.
/// The staging folder is removed by its guard if anything fails; the lock is held until the
/// old output is gone.
fn swap(tmp: Folder, out_dir: &Path, lock: &BuildLock) -> Result<(), BuildError> {
    let (parent, name) = parent_and_name(out_dir);
    let staging = tmp.0.clone();
    let aside = parent.join(format!(".{name}.old-{}", lock.id));
    let had_old = out_dir.exists();
    if had_old {
        if !out_dir.is_dir() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(crate::files::not_a_folder(out_dir));
        }
        if let Err(e) = std::fs::rename(out_dir, &aside) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(BuildError::io(
                "move aside the previous output",
                out_dir,
                &e,
            ));
        }
    }
    if let Err(e) = std::fs::rename(&staging, out_dir) {
        if had_old {
            let _ = std::fs::rename(&aside, out_dir);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(BuildError::io("move the new output into", out_dir, &e));
    }
    if had_old {
        remove_dir_parallel(&aside);
    }
    Ok(())
}

/// Removes a folder tree, its top-level entries in parallel (removing the previous output of a
/// large site is a noticeable part of a build).
fn remove_dir_parallel(dir: &Path) {
    // Never follow a link: removing it must not touch what it points to.
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = std::fs::remove_file(dir);
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        let paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.par_iter().for_each(|p| {
            let is_dir = std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
            if is_dir {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        });
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// What the collision check saw last time (the dev server): the same paths from the same
/// sources and the same copies give the same answer, without building the set again.
#[derive(Default)]
pub(crate) struct Collisions {
    outputs: Vec<(Arc<str>, Arc<std::path::Path>)>,
    copies: Vec<(PathBuf, String)>,
    diags: Vec<Diagnostic>,
}

impl Collisions {
    /// [`check_collisions`], from the last answer when its inputs are the same.
    pub(crate) fn check<'a>(
        &mut self,
        settings: &crate::config::Settings,
        outputs: impl Iterator<Item = &'a Output> + Clone,
        copies: &[(PathBuf, String)],
    ) -> Vec<Diagnostic> {
        // Kept outputs share their path and source with the last run: compared by pointer
        // first, so that an unchanged site costs no string comparisons.
        let same_arc = |a: &Arc<str>, b: &Arc<str>| Arc::ptr_eq(a, b) || a == b;
        let same_src = |a: &Arc<Path>, b: &Arc<Path>| Arc::ptr_eq(a, b) || a == b;
        let same = self.copies == copies
            && outputs.clone().count() == self.outputs.len()
            && (outputs.clone().zip(&self.outputs))
                .all(|(o, (r, s))| same_arc(&o.rel, r) && same_src(&o.source, s));
        if !same {
            self.diags = check_collisions(settings, outputs.clone(), copies);
            self.outputs = outputs.map(|o| (o.rel.clone(), o.source.clone())).collect();
            self.copies = copies.to_vec();
        }
        self.diags.clone()
    }
}

/// Every output path once; static files and assets may not shadow pages.
pub(crate) fn check_collisions<'a>(
    settings: &crate::config::Settings,
    outputs: impl Iterator<Item = &'a Output>,
    copies: &[(PathBuf, String)],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut seen: HashMap<&str, &std::path::Path> = HashMap::default();
    for o in outputs {
        if let Some(prev) = seen.insert(&*o.rel, &*o.source) {
            diags.push(
                Diagnostic::error(
                    &*o.source,
                    format!(
                        "output file {} is also written for {}",
                        o.rel,
                        prev.display()
                    ),
                )
                .with_hint("two sources give the same URL; rename one or change its slug"),
            );
        }
        if !is_safe_rel(&o.rel) {
            diags.push(Diagnostic::error(
                &*o.source,
                format!("unsafe output path `{}`", o.rel),
            ));
        }
    }
    for (src, dest) in copies {
        let shown = src
            .strip_prefix(&settings.root)
            .unwrap_or(src)
            .to_path_buf();
        if let Some(prev) = seen.get(dest.as_str()) {
            diags.push(
                Diagnostic::error(
                    &shown,
                    format!(
                        "file {dest} would overwrite the page made from {}",
                        prev.display()
                    ),
                )
                .with_hint("rename the file"),
            );
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{check_output_dir, output_dir_problem, OutDirProblem};

    #[test]
    fn safe_relative_paths_only() {
        assert!(is_safe_rel("a/b/index.html"));
        assert!(!is_safe_rel("../x"));
        assert!(!is_safe_rel("/etc/passwd"));
        assert!(!is_safe_rel("a/../../x"));
        assert!(!is_safe_rel(""));
    }

    #[test]
    fn output_dir_may_not_be_the_site() {
        assert!(check_output_dir(Path::new("/s"), Path::new("/s")).is_err());
        assert!(check_output_dir(Path::new("/s"), Path::new("/")).is_err());
        assert!(check_output_dir(Path::new("/s"), Path::new("/s/content")).is_err());
        assert!(check_output_dir(Path::new("/s"), Path::new("/s/public")).is_ok());
    }

    #[test]
    fn dot_dot_after_a_missing_folder_is_resolved() {
        let tmp = tempfile::tempdir().expect("temporary folder");
        let root = tmp.path().join("site");
        std::fs::create_dir_all(root.join("public")).expect("create the site");
        for out in [
            "public/neu/../../../site",
            "public/neu/../..",
            "public/a/b/../../../content",
        ] {
            assert_eq!(
                output_dir_problem(&root, &root.join(out)),
                Some(OutDirProblem::SiteFiles),
                "{out}"
            );
        }
        assert_eq!(
            output_dir_problem(&root, &root.join("public/neu/../alt")),
            None
        );
    }
}

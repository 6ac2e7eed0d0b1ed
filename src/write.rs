//! Stage 7: write the output atomically.
//!
//! Takes the rendered [`Output`]s and the files to copy, writes everything into a fresh temporary
//! folder beside the output directory, and only when all of it succeeded swaps it into place. A
//! failed build leaves the previous output untouched.

use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::error::BuildError;
use crate::render::Output;

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

/// The real location of `p`: symbolic links and `..` resolved for the part that exists, the
/// rest appended with `..` applied lexically.
fn real_path(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut existing = abs.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let base = loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            break real;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break existing,
        }
    };
    let mut out = base;
    for c in rest.iter().rev() {
        match c.to_str() {
            Some("..") => {
                out.pop();
            }
            Some(".") => {}
            _ => out.push(c),
        }
    }
    out
}

/// Refuses output folders whose replacement would destroy the site itself (also when reached
/// through `..` or a symbolic link), and output folders that are symbolic links (replacing one
/// would empty its target). Returns the real path to write to.
pub(crate) fn check_output_dir(root: &Path, out: &Path) -> Result<PathBuf, BuildError> {
    let refuse = |why: &str| {
        BuildError::Other(vec![
            format!(
                "refusing to use `{}` as the output directory",
                out.display()
            ),
            why.to_string(),
        ])
    };
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse(
            "it is a symbolic link; pass the folder it points to, or a separate folder such as public/",
        ));
    }
    let (root, real) = (real_path(root), real_path(out));
    let dangerous = root.starts_with(&real)
        || ["content", "themes", "templates", "static"]
            .iter()
            .any(|d| real.starts_with(root.join(d)))
        || real.parent().is_none();
    if dangerous {
        return Err(refuse(
            "it would replace the site's own files; choose a separate folder such as public/",
        ));
    }
    Ok(real)
}

/// Writes the plan into `out_dir`, replacing its previous content only on success.
/// Returns the number of files written.
pub(crate) fn write(out_dir: &Path, plan: Plan) -> Result<usize, BuildError> {
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| BuildError::io("create", &parent, &e))?;
    let name = out_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-build-"))
        .tempdir_in(&parent)
        .map_err(|e| BuildError::io("create a temporary folder in", &parent, &e))?;
    let staging = tmp.path();

    // Folders first (sequential, cheap), then files in parallel.
    let mut dirs: Vec<PathBuf> = plan
        .outputs
        .iter()
        .map(|o| o.rel.as_str())
        .chain(plan.copies.iter().map(|(_, d)| d.as_str()))
        .filter_map(|r| Path::new(r).parent().map(|p| staging.join(p)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        std::fs::create_dir_all(d).map_err(|e| BuildError::io("create", d, &e))?;
    }
    let count = plan.outputs.len() + plan.copies.len();
    plan.outputs.par_iter().try_for_each(|o| {
        let p = staging.join(&o.rel);
        std::fs::write(&p, &o.bytes).map_err(|e| BuildError::io("write", &p, &e))
    })?;
    plan.copies.par_iter().try_for_each(|(src, dest)| {
        let p = staging.join(dest);
        std::fs::copy(src, &p)
            .map(|_| ())
            .map_err(|e| BuildError::io("copy", src, &e))
    })?;

    // Swap: old → aside, new → in place, then drop the old one.
    let staging = tmp.keep();
    let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = out_dir.exists();
    if had_old {
        if !out_dir.is_dir() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(BuildError::Other(vec![format!(
                "`{}` exists and is not a folder; remove it or choose another --output-dir",
                out_dir.display()
            )]));
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
    Ok(count)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

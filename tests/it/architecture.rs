//! The module structure of docs/architecture.md, checked: the stages form a pipeline in the
//! documented order (a stage uses only the model, shared utilities and earlier stages, so
//! there are no import cycles between stages), and utilities use no stage.

use std::collections::BTreeMap;
use std::path::Path;

/// The stages in pipeline order (config is stage 0: the settings every stage reads).
const STAGES: [&str; 10] = [
    "config", "load", "parse", "resolve", "links", "taxonomy", "render", "search", "publish",
    "write",
];

/// Shared code with no stage of its own: it may use the model and other utilities only.
const UTILITIES: [&str; 12] = [
    "model",
    "error",
    "escape",
    "slug",
    "collate",
    "markdown",
    "active",
    "autoescape",
    "template_guard",
    "files",
    "text",
    "hash",
];

/// What runs the stages: may use anything.
const ORCHESTRATION: [&str; 5] = ["lib", "pipeline", "serve", "scaffold", "main"];

/// The crate-level modules a source file names (`crate::x`, `use crate::{x, y}`), tests and
/// comments left out.
fn modules_used(text: &str) -> Vec<String> {
    let code = text.split("\n#[cfg(test)]").next().unwrap_or(text);
    let mut used = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let names: Vec<&str> = if let Some(list) = rest.strip_prefix('{') {
                list.split('}').next().unwrap_or("").split(',').collect()
            } else {
                vec![rest]
            };
            for n in names {
                let n: String = n
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() {
                    used.push(n);
                }
            }
        }
    }
    used
}

/// Module name → the modules its files use (a folder module's files count as the module).
fn graph() -> BTreeMap<String, Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in walkdir(&src) {
        let rel = entry.strip_prefix(&src).unwrap_or(&entry);
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let Some(first) = first else { continue };
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        graph.entry(module).or_default().extend(modules_used(&text));
    }
    graph
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walkdir(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
    files
}

#[test]
fn every_module_has_a_place_in_the_architecture() {
    for module in graph().keys() {
        assert!(
            STAGES.contains(&module.as_str())
                || UTILITIES.contains(&module.as_str())
                || ORCHESTRATION.contains(&module.as_str()),
            "src/{module}: not in docs/architecture.md's list of stages and utilities \
             (add it there and to tests/it/architecture.rs)"
        );
    }
}

#[test]
fn stages_use_only_earlier_stages_and_utilities_no_stage() {
    let mut wrong = Vec::new();
    for (module, used) in graph() {
        let stage = STAGES.iter().position(|s| *s == module);
        let utility = UTILITIES.contains(&module.as_str());
        for u in used {
            let Some(used_stage) = STAGES.iter().position(|s| *s == u) else {
                continue;
            };
            match (stage, utility) {
                (Some(i), _) if used_stage >= i && u != module => {
                    wrong.push(format!("stage {module} uses the later stage {u}"))
                }
                (None, true) => wrong.push(format!("utility {module} uses the stage {u}")),
                _ => {}
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_uses_in_every_form() {
    let used = modules_used(
        "use crate::error::Diagnostic;\nuse crate::{config, parse::At};\nlet x = crate::load::read(p);\n// crate::render in a comment\n",
    );
    assert_eq!(used, ["error", "config", "parse", "load"]);
}

#[test]
fn the_model_types_are_imported_from_the_model_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong: Vec<String> = walkdir(&src)
        .into_iter()
        .filter(|p| !p.ends_with("model.rs"))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            re_exports_model(&text)
        })
        .map(|p| p.strip_prefix(&src).unwrap_or(&p).display().to_string())
        .collect();
    wrong.sort();
    assert!(
        wrong.is_empty(),
        "these modules re-export model types (import them from crate::model instead): {}",
        wrong.join(", ")
    );
}

/// Whether a source file re-exports something of `crate::model` (`pub use`, `pub(crate) use`).
fn re_exports_model(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("pub") && l.contains(" use crate::model")
    })
}

#[test]
fn the_re_export_check_sees_re_exports() {
    assert!(re_exports_model(
        "pub(crate) use crate::model::{Node, Site};\n"
    ));
    assert!(re_exports_model("    pub use crate::model::Body;\n"));
    assert!(!re_exports_model("use crate::model::{Node, Site};\n"));
}

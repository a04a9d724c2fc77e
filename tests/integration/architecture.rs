//! The core crate's module graph, read from its source: no module imports from a layer above
//! its own (kernel ← policy ← messages ← contexts ← edges), and no modules import each other
//! in a circle. `lib.rs`'s module map describes the layers; this test keeps the code to it.
//!
//! An edge is any `crate::…` or `super::…` path in a module's code (test modules and comments
//! left out), attributed to the deepest module the path names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first.
const LAYERS: [(&str, &[&str]); 5] = [
    (
        "kernel",
        &[
            "taxonomy", "input", "clock", "deadline", "digest", "store", "delivery", "metrics",
            "text",
        ],
    ),
    ("policy", &["policy"]),
    ("messages", &["verdict", "violation", "alert", "outbox"]),
    (
        "contexts",
        &["screening", "escalation", "reports", "support"],
    ),
    (
        "edges",
        &["adapters", "config", "offline", "fuzz_checks", "schemas"],
    ),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("shared/src")
}

/// Every module of the crate, as a `::`-joined path (`""` is the crate root), with its file.
fn modules() -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut p = prefix.to_vec();
                p.push(name);
                walk(&path, &p, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut p = prefix.to_vec();
                if !(name == "mod" || (prefix.is_empty() && name == "lib")) {
                    p.push(name);
                }
                out.insert(p.join("::"), path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src_dir(), &[], &mut out);
    out
}

/// The code of a module file without its test module and without comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut kept = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Test modules close every file here; what follows is test code.
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// The deepest known module named by the path `segments`.
fn resolve(modules: &BTreeMap<String, PathBuf>, segments: &[&str]) -> String {
    (0..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| modules.contains_key(m))
        .unwrap_or_default()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let path_re = regex::Regex::new(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)").unwrap();
    // `use super::{a, b}` and `use crate::x::{y, z}`: the groups name modules too.
    let group_re =
        regex::Regex::new(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^}]*)\}").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &modules {
        let own: Vec<&str> = if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").collect()
        };
        // `super` of a module file is its parent module.
        let parent = &own[..own.len().saturating_sub(1)];
        let text = code(path);
        let mut targets = Vec::new();
        let mut push = |root: &str, rest: &str| {
            let base: Vec<&str> = if root == "crate" {
                Vec::new()
            } else {
                parent.to_vec()
            };
            let segments: Vec<&str> = base
                .into_iter()
                .chain(rest.split("::").filter(|s| !s.is_empty()))
                .collect();
            targets.push(resolve(&modules, &segments));
        };
        for c in path_re.captures_iter(&text) {
            push(&c[1], &c[2]);
        }
        for c in group_re.captures_iter(&text) {
            for item in c[3].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if first
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_lowercase())
                {
                    push(&c[1], &format!("{}::{first}", &c[2]));
                }
            }
        }
        let edges = graph.entry(module.clone()).or_default();
        for target in targets {
            if &target != module {
                edges.insert(target);
            }
        }
    }
    graph
}

fn layer_of(module: &str) -> Option<(usize, &'static str)> {
    let top = module.split("::").next().unwrap_or("");
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (_, members))| members.contains(&top))
        .map(|(i, (name, _))| (i, *name))
}

#[test]
fn every_top_level_module_of_the_core_has_a_layer() {
    let unplaced: Vec<String> = modules()
        .keys()
        .filter(|m| !m.is_empty() && layer_of(m).is_none())
        .cloned()
        .collect();
    assert!(unplaced.is_empty(), "modules without a layer: {unplaced:?}");
}

#[test]
fn no_core_module_imports_from_a_layer_above_its_own() {
    let mut upward = Vec::new();
    for (from, targets) in graph() {
        let Some((from_layer, from_name)) = layer_of(&from) else {
            continue;
        };
        for to in targets {
            if let Some((to_layer, to_name)) = layer_of(&to) {
                if to_layer > from_layer {
                    upward.push(format!("{from} ({from_name}) -> {to} ({to_name})"));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports from a layer above: {upward:#?}");
}

#[test]
fn the_core_module_graph_has_no_cycles() {
    let graph = graph();
    // Depth-first search; a grey node met again closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                0 => visit(next, graph, state, stack, cycles),
                1 => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    let named: Vec<String> = cycle
                        .iter()
                        .map(|m| {
                            if m.is_empty() {
                                "crate".into()
                            } else {
                                m.clone()
                            }
                        })
                        .collect();
                    cycles.push(named.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            visit(node, &graph, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
    assert!(
        graph.len() > 40,
        "the graph covers the crate ({} modules)",
        graph.len()
    );
}

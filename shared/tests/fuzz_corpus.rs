//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the checks the fuzz
//! targets run (`anshin_core::fuzz_checks`), so that CI on stable keeps every input the
//! fuzzer found interesting — and every crash that was fixed — passing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anshin_core::fuzz_checks::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_fuzz_input_passes_its_targets_checks() {
    for &(target, check) in TARGETS {
        let started = Instant::now();
        let inputs = files_in(&fuzz_dir().join("corpus").join(target));
        assert!(!inputs.is_empty(), "fuzz/corpus/{target} is empty");
        for input in &inputs {
            let data = std::fs::read(input).expect("a corpus file is readable");
            // Name the input if its check panics; the panic message says what broke.
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", input.display());
        }
        eprintln!(
            "{target}: {} inputs in {:.2?}",
            inputs.len(),
            started.elapsed()
        );
    }
}

#[test]
fn every_fuzz_target_has_its_check_and_its_corpus() {
    let targets: Vec<String> = files_in(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect();
    let checked: Vec<String> = TARGETS.iter().map(|(t, _)| (*t).to_owned()).collect();
    let mut sorted = checked.clone();
    sorted.sort();
    assert_eq!(
        targets, sorted,
        "fuzz/fuzz_targets and fuzz_checks::TARGETS differ"
    );
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for target in &checked {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] {target}"
        );
        let source =
            std::fs::read_to_string(fuzz_dir().join("fuzz_targets").join(format!("{target}.rs")))
                .unwrap();
        assert!(
            source.contains(&format!("anshin_core::fuzz_checks::{target}(data)")),
            "fuzz_targets/{target}.rs does not run fuzz_checks::{target}"
        );
    }
}

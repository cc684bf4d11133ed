//! The bad-input corpus, `tests/bad_inputs/<case>/` at the repository root (written by
//! `tools/gen_bad_inputs.py`): every case must fail with one clear line and leave nothing
//! behind.
//!
//! Each case is copied into a fresh temporary folder and run as
//! `descent train --quiet --config <case>/run.toml --out <tmp>/out [args.txt…]` from inside
//! the copy (an `--out` in `args.txt` replaces the default one; relative paths there are
//! relative to the case folder). All failing cases are reported together.
//! `BAD_INPUT_CASE=<substring>` runs only the matching cases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad_inputs")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every regular file under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

fn lines(path: &Path) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.lines().map(str::trim_end).filter(|l| !l.is_empty()).map(String::from).collect(),
        Err(_) => Vec::new(),
    }
}

/// Runs one case; `Err` says everything that is wrong with how it failed.
fn run_case(case: &Path) -> Result<(), String> {
    let expect = lines(&case.join("expect.txt"));
    if expect.is_empty() {
        return Err("expect.txt is missing or empty".into());
    }
    if !case.join("run.toml").exists() {
        return Err("run.toml is missing".into());
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    copy_dir(case, &dir);
    let before = files_under(tmp.path());

    let extra = lines(&case.join("args.txt"));
    let mut args: Vec<String> = vec!["train".into(), "--quiet".into(), "--config".into()];
    args.push(dir.join("run.toml").to_string_lossy().into_owned());
    let out = match extra.iter().position(|a| a == "--out") {
        Some(i) => dir.join(extra.get(i + 1).map(String::as_str).unwrap_or("")),
        None => {
            let out = tmp.path().join("out");
            args.push("--out".into());
            args.push(out.to_string_lossy().into_owned());
            out
        }
    };
    args.extend(extra.iter().cloned());

    let o = Command::new(env!("CARGO_BIN_EXE_descent")).args(&args).current_dir(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let mut problems = Vec::new();
    if o.status.success() {
        problems.push("exited 0".to_string());
    }
    if stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    let n = stderr.trim_end().lines().count();
    if n != 1 {
        problems.push(format!("{n} lines on stderr, expected 1"));
    }
    if !stderr.starts_with("error: ") {
        problems.push("stderr does not start with `error: `".into());
    }
    for e in &expect {
        if !stderr.contains(e.as_str()) {
            problems.push(format!("missing `{e}`"));
        }
    }
    if out.join("metrics.jsonl").exists() {
        problems.push(format!("left {}", out.join("metrics.jsonl").display()));
    }
    let new: Vec<String> = files_under(tmp.path()).difference(&before).map(|p| p.display().to_string()).collect();
    if !new.is_empty() {
        problems.push(format!("left new files: {}", new.join(", ")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n      stderr: {}", problems.join("; "), stderr.trim_end().replace('\n', "\n              ")))
    }
}

#[test]
fn every_bad_input_fails_with_one_clear_line() {
    let filter = std::env::var("BAD_INPUT_CASE").unwrap_or_default();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("tests/bad_inputs/ at the repository root")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    if filter.is_empty() {
        assert!(cases.len() >= 60, "only {} cases in tests/bad_inputs", cases.len());
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if !name.contains(&filter) {
            continue;
        }
        ran += 1;
        if let Err(why) = run_case(case) {
            failures.push(format!("  {name}: {why}"));
        }
    }
    assert!(ran > 0, "no case matches BAD_INPUT_CASE={filter}");
    assert!(failures.is_empty(), "{} of {ran} bad-input cases failed:\n{}", failures.len(), failures.join("\n"));
}

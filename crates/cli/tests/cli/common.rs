//! What the end-to-end test modules share: the repository root, running the `descent`
//! binary, and reading a successful run's output.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root (examples/, data/, tests/ live there).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `descent ARGS`, waited for.
pub fn descent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent")).args(args).output().unwrap()
}

/// The stdout of a run that must have succeeded (its stderr in the failure message).
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

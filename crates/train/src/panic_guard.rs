//! Burn's decoders (burnpack model and optimizer records) trust their input: some damaged
//! bytes make them panic (`Optimizer record tensors should carry a parameter id.`) instead of
//! returning an error. [`guarded`] runs such a call and turns a panic into the one-line error
//! of the file being read, with Burn's message; the panic hook stays silent for it (on this
//! thread only), so no backtrace is printed.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use crate::error::TrainError;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Installs, once, a hook that stays silent while this thread is inside [`guarded`] and
/// otherwise does what the previous hook did.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info)
            }
        }));
    });
}

/// Runs `f`, which decodes `path`; a panic inside becomes an error naming `path`.
pub fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T, TrainError>) -> Result<T, TrainError> {
    install_hook();
    let was = QUIET.with(|q| q.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the decoder failed");
        Err(TrainError::Output { path: path.to_path_buf(), msg: format!("damaged file ({})", why.trim().replace('\n', " ")) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_the_file() {
        let r: Result<(), _> = guarded(Path::new("ckpt/optimizer.bpk"), || panic!("bad\nrecord"));
        assert_eq!(r.unwrap_err().to_string(), "ckpt/optimizer.bpk: damaged file (bad record)");
        assert_eq!(guarded(Path::new("x"), || Ok(3)).unwrap(), 3);
        assert!(!QUIET.with(Cell::get));
    }
}

//! Graceful preemption. SIGTERM (what SLURM, Kubernetes and `kill` send before they kill) and
//! the first SIGINT (Ctrl-C) only raise a flag: the trainer lets the current optimizer step
//! finish, writes a checkpoint (inside the epoch if need be), and stops with exit status
//! 128 + the signal's number (143, 130). A second SIGINT exits at once with 130. SIGXFSZ is
//! ignored, so that a file-size limit turns into a write error (EFBIG) the run reports,
//! rather than killing the process.
//!
//! The handler only stores the signal number in an atomic and calls `_exit`, both
//! async-signal-safe. Without [`install`] (the library used from Rust) nothing changes.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// The first signal received, 0 for none.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The signal that asked the run to stop, if any: (name, number).
pub fn requested() -> Option<(&'static str, i32)> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        n => Some((signal_name(n), n)),
    }
}

fn signal_name(signo: i32) -> &'static str {
    match signo {
        15 => "SIGTERM",
        2 => "SIGINT",
        _ => "a signal",
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn on_signal(signo: libc::c_int) {
    if signo == libc::SIGINT && SIGNAL.load(Ordering::SeqCst) != 0 {
        // SAFETY: _exit is async-signal-safe; a second Ctrl-C means "now".
        unsafe { libc::_exit(130) };
    }
    let _ = SIGNAL.compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst);
}

/// Installs the handlers for SIGTERM and SIGINT, and ignores SIGXFSZ (glibc Linux only; a
/// no-op elsewhere).
pub fn install() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a zeroed sigaction with a plain handler and an empty mask is valid; the
    // handler touches only an atomic and `_exit`.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        act.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        for signo in [libc::SIGTERM, libc::SIGINT] {
            libc::sigaction(signo, &act, std::ptr::null_mut());
        }
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// For tests: `DESCENT_SIGNAL_AT=<step>:<TERM|INT>[,<step>:<TERM|INT>…]` sends the process
/// that signal right after optimizer step `<step>` (through the real handler), so a test can
/// interrupt at an exact step.
pub fn signal_point(step: u64) {
    static SPEC: OnceLock<Vec<(u64, i32)>> = OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        let text = std::env::var("DESCENT_SIGNAL_AT").unwrap_or_default();
        text.split(',')
            .filter_map(|s| {
                let (at, sig) = s.split_once(':')?;
                let signo = match sig {
                    "TERM" => 15,
                    "INT" => 2,
                    _ => return None,
                };
                Some((at.parse().ok()?, signo))
            })
            .collect()
    });
    for &(_, signo) in spec.iter().filter(|(at, _)| *at == step) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: raise delivers to this thread before it returns.
        unsafe {
            libc::raise(signo);
        }
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        let _ = signo;
    }
}

//! Keeping freed tensor memory in the process, so that a training step does not pay the kernel
//! to hand it back.
//!
//! Every Burn op on the CPU (flex) backend allocates its output afresh; an MNIST-size MLP step
//! allocates and frees a few megabytes in blocks of 100 KB – 1 MB. glibc's `malloc` serves
//! blocks above its mmap threshold (128 KB at start, then adapting) with `mmap` and gives them
//! back with `munmap`, and it trims the top of its heap once more than the trim threshold is
//! free. Either way the next step's allocation finds fresh pages, and the kernel zeroes each 4 KB
//! page on first touch: in `descent bench` that was a third of the batch-1 MNIST step
//! (page faults and `clear_page` at the top of `perf`, under `FlexTensor::empty`).
//!
//! [`keep_freed_memory`] raises both thresholds (`mallopt`): blocks up to 32 MiB (glibc's
//! ceiling for the mmap threshold on 64-bit) come from the heap, and up to 256 MiB of free heap
//! stay mapped. Peak memory is unchanged (freed blocks are reused, not added to); the resident
//! size after a peak may stay higher.
//!
//! It also limits malloc to one arena. The `descent` binary trains on a rayon worker
//! ([`crate::pool`]), and a thread other than the main one allocates from a per-thread arena
//! whose 64 MiB heaps glibc unmaps as soon as the last of them falls free — whatever the trim
//! threshold says. A step that frees its gradients then faults them in afresh the next time:
//! in `descent bench`, 16M SGD parameters in 200 tensors, page faults 0.87M → 1.34M and the step
//! 7 → 11 ms. With one arena every thread allocates from the main heap, which keeps the
//! thresholds above.
//!
//! The `descent` binary calls it first thing; a program of your own that trains with descent
//! can call it too, or set the same from outside with
//! `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.arena_max=1`.
//! Other allocators and platforms: it does nothing.

/// glibc's largest accepted mmap threshold on 64-bit targets (`DEFAULT_MMAP_THRESHOLD_MAX`).
pub const MMAP_THRESHOLD: usize = 32 << 20;
/// Free heap kept mapped before glibc trims it.
pub const TRIM_THRESHOLD: usize = 256 << 20;
/// malloc arenas: the main one only (see the module's doc).
pub const ARENA_MAX: usize = 1;

/// What [`keep_freed_memory`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocTuning {
    /// Both thresholds and the arena limit set.
    Applied,
    /// The environment already sets malloc tunables (`GLIBC_TUNABLES` with `glibc.malloc.`, or a
    /// `MALLOC_*_` variable): the user's choice stands.
    LeftToEnvironment,
    /// Not glibc (or glibc refused a value): nothing changed.
    Unsupported,
}

/// Raises glibc's mmap and trim thresholds and keeps one arena for this process, unless the
/// environment already tunes malloc. Call it early, before any thread allocates: blocks
/// allocated before it keep the old thresholds' fate, and setting a threshold turns off glibc's
/// own adaptation of it.
pub fn keep_freed_memory() -> AllocTuning {
    if environment_tunes_malloc(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))) {
        return AllocTuning::LeftToEnvironment;
    }
    set_thresholds()
}

/// Whether these environment variables already tune glibc's malloc.
pub fn environment_tunes_malloc(vars: impl IntoIterator<Item = (String, String)>) -> bool {
    vars.into_iter().any(|(k, v)| (k == "GLIBC_TUNABLES" && v.contains("glibc.malloc.")) || (k.starts_with("MALLOC_") && k.ends_with('_')))
}

/// Hands the heap's free memory back to the kernel (glibc's `malloc_trim`), e.g. before
/// measuring a peak resident size. Elsewhere: nothing.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel, under malloc's lock.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_thresholds() -> AllocTuning {
    // SAFETY: mallopt only stores the numbers in glibc's malloc parameters (under its lock);
    // it touches no memory of ours, and any thread may call it at any time.
    let (mmap, trim, arenas) = unsafe {
        (
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int),
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int),
            libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX as libc::c_int),
        )
    };
    // mallopt returns 1 on success, 0 on a refused value.
    if mmap == 1 && trim == 1 && arenas == 1 {
        AllocTuning::Applied
    } else {
        AllocTuning::Unsupported
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() -> AllocTuning {
    AllocTuning::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_users_malloc_settings_win() {
        assert!(!environment_tunes_malloc(env(&[("PATH", "/bin"), ("GLIBC_TUNABLES", "glibc.rtld.nns=2")])));
        assert!(environment_tunes_malloc(env(&[("GLIBC_TUNABLES", "glibc.rtld.nns=2:glibc.malloc.arena_max=1")])));
        assert!(environment_tunes_malloc(env(&[("MALLOC_MMAP_THRESHOLD_", "65536")])));
        assert!(!environment_tunes_malloc(env(&[("MALLOC_CONF", "x")])));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_takes_the_thresholds_and_the_arena_limit() {
        // The values must be within glibc's limits, or mallopt refuses them (returns 0).
        assert_eq!(set_thresholds(), AllocTuning::Applied);
    }
}

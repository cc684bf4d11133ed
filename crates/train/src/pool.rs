//! Running the training loop on a worker of a rayon pool rather than on the main thread.
//!
//! flex and gemm split their large operations (matmuls, descent's fused optimizer steps and
//! model kernels) with rayon. Called from a thread outside any pool, each such operation is
//! injected into rayon's global pool while the calling thread sleeps on a latch until the
//! workers are done: two thread wake-ups per matmul, tens of µs each on this project's VMs,
//! and a third thread competing for two cores. Called from a pool's worker, the operation
//! starts on that thread and the pool's other workers steal their share.
//!
//! [`on_compute_pool`] builds a pool of the size rayon's global pool would have
//! (`RAYON_NUM_THREADS`, else one thread per CPU) and runs the given closure on one of its
//! workers. The split of every operation depends only on the pool's size, so the results are
//! the same bits as on the main thread. Measured (docs/speed.md): MNIST MLP at batch 128 +11%
//! samples/s, text-char 15% less time per epoch. The `descent` binary runs every command
//! through it; a program of your own that trains with descent can do the same — after
//! [`crate::alloc::keep_freed_memory`], whose one-arena limit keeps a worker's freed tensors
//! mapped (without it, 200-tensor optimizer steps faulted their memory in afresh every step).

/// Stack of each worker: the main thread's usual 8 MiB, since the whole run executes there.
pub const WORKER_STACK: usize = 8 << 20;

/// Runs `f` on a worker thread of a new rayon pool (threads named `descent-0`, `descent-1`, …)
/// and returns its result. Already on a rayon worker (a pool of the caller's own): runs `f`
/// right there. If no pool can be built (threads cannot be spawned): runs `f` on this thread,
/// as it would have run without this function.
pub fn on_compute_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return f();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("descent-{i}"))
        .stack_size(WORKER_STACK)
        .build();
    match pool {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_a_worker_of_a_pool_as_large_as_the_global_one() {
        assert_eq!(rayon::current_thread_index(), None, "the test harness thread is no rayon worker");
        let (worker, threads, name) = on_compute_pool(|| {
            (rayon::current_thread_index(), rayon::current_num_threads(), std::thread::current().name().map(str::to_owned))
        });
        assert!(worker.is_some());
        assert_eq!(threads, rayon::current_num_threads());
        assert!(name.is_some_and(|n| n.starts_with("descent-")));
    }

    #[test]
    fn stays_in_the_callers_own_pool() {
        // One thread more than a new pool would get, so that the two cannot be confused.
        let size = rayon::current_num_threads() + 1;
        let mine = rayon::ThreadPoolBuilder::new().num_threads(size).build().unwrap();
        let threads = mine.install(|| on_compute_pool(rayon::current_num_threads));
        assert_eq!(threads, size);
    }
}

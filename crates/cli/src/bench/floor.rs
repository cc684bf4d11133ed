//! The memory floor: how fast this process can copy memory.

use super::*;


/// Best (read + write) bytes/s of copying one `bytes`-sized buffer into another: on one thread
/// (`copy_from_slice`), and split over rayon's pool (the threads the fused optimizer updates
/// use), best of `reps` each. The floor is the faster of the two, so an update that uses both
/// cores is held to what both cores can move.
pub fn copy_bandwidth(bytes: usize, reps: usize) -> CopyBandwidth {
    use rayon::prelude::*;
    let n = bytes / 8;
    let src: Vec<u64> = (0..n as u64).collect();
    let mut dst = vec![0u64; n];
    dst.copy_from_slice(&src); // first touch
    let threads = rayon::current_num_threads().max(1);
    let chunk = n.div_ceil(threads).max(1);
    let (mut one, mut all) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
        one = one.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        dst.par_chunks_mut(chunk).zip(src.par_chunks(chunk)).for_each(|(d, s)| d.copy_from_slice(std::hint::black_box(s)));
        std::hint::black_box(&mut dst);
        all = all.min(t.elapsed().as_secs_f64());
    }
    let moved = (2 * n * 8) as f64;
    CopyBandwidth { one_thread: moved / one, all_threads: moved / all, threads }
}

/// What [`copy_bandwidth`] measured, bytes/s.
#[derive(Debug, Clone, Copy)]
pub struct CopyBandwidth {
    pub one_thread: f64,
    pub all_threads: f64,
    pub threads: usize,
}

impl CopyBandwidth {
    /// The bandwidth floors are computed from.
    pub fn best(&self) -> f64 {
        self.one_thread.max(self.all_threads)
    }
}

//! The machine a sitting ran on: every figure is per CPU model, SIMD level and thread count
//! (floating-point reductions differ between SIMD widths, and so do timings), so `descent
//! bench` names them first — the table's heading, the first JSON line.

use serde::Serialize;

/// What a sitting's figures depend on.
#[derive(Debug, Clone, Serialize)]
pub struct MachineLine {
    /// Always `"machine"`: tells this line from the results.
    pub name: &'static str,
    /// `/proc/cpuinfo`'s `model name` (Linux), else the architecture.
    pub cpu_model: String,
    /// x86's `family F model M stepping S` from `/proc/cpuinfo` (empty elsewhere): two CPUs
    /// with the same model name (this project's VMs all say "AMD EPYC") can be different
    /// generations, with different SIMD and so different bits.
    pub cpu_id: String,
    /// The widest vector instructions the matmul kernels can use here: `avx512f` (only when
    /// the binary carries gemm's AVX-512 kernels, Burn's `x86-v4` feature, and the CPU has
    /// them), `avx2+fma`, `sse2`, `neon`, or `scalar`.
    pub simd: String,
    /// Whether this CPU has AVX-512F at all (whether or not the kernels use it).
    pub cpu_has_avx512f: bool,
    /// Threads of the pool the CPU backends compute on (rayon's; `RAYON_NUM_THREADS` sets it).
    pub threads: usize,
    /// Logical CPUs the OS reports.
    pub logical_cpus: usize,
    /// `debug` or `release`: a debug binary's timings say little.
    pub build: &'static str,
    pub descent_version: &'static str,
}

impl MachineLine {
    pub fn detect() -> Self {
        let cpu_has_avx512f = avx512f();
        Self {
            name: "machine",
            cpu_model: cpu_model(),
            cpu_id: cpu_id(),
            simd: simd_level(cpu_has_avx512f),
            cpu_has_avx512f,
            threads: rayon::current_num_threads(),
            logical_cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            build: if cfg!(debug_assertions) { "debug" } else { "release" },
            descent_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// One line for the top of a table.
    pub fn heading(&self) -> String {
        format!(
            "machine: {}{} · SIMD {} · {} threads ({} logical CPUs) · {} build, descent {}",
            self.cpu_model,
            if self.cpu_id.is_empty() { String::new() } else { format!(" ({})", self.cpu_id) },
            self.simd, self.threads, self.logical_cpus, self.build, self.descent_version
        )
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// `family F model M stepping S` of the first CPU in `/proc/cpuinfo`, or empty.
fn cpu_id() -> String {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else { return String::new() };
    let field = |key: &str| {
        info.lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_string()))
    };
    match (field("cpu family"), field("model"), field("stepping")) {
        (Some(f), Some(m), Some(s)) => format!("family {f} model {m} stepping {s}"),
        _ => String::new(),
    }
}

#[cfg(target_arch = "x86_64")]
fn avx512f() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512f() -> bool {
    false
}

/// The level gemm's runtime dispatch picks (gemm-common's `init_gemm_fn`: AVX-512F when
/// compiled with `x86-v4` and detected, else FMA (AVX2 machines), else scalar/SSE2).
#[cfg(target_arch = "x86_64")]
fn simd_level(has_avx512f: bool) -> String {
    if has_avx512f && cfg!(feature = "x86-v4") {
        "avx512f".into()
    } else if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2") {
        "avx2+fma".into()
    } else {
        "sse2".into()
    }
}

#[cfg(target_arch = "aarch64")]
fn simd_level(_: bool) -> String {
    "neon".into()
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn simd_level(_: bool) -> String {
    "scalar".into()
}

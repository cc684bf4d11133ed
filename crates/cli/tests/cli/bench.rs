//! `descent bench --quick --json`: every line parses and carries real, positive numbers.

use std::process::Command;
use std::time::Instant;

use serde_json::Value;

#[test]
fn quick_bench_prints_json_lines_with_positive_numbers() {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["bench", "--quick", "--json", "--device", "cpu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let named = |n: &str| lines.iter().filter(|v| v["name"] == n).collect::<Vec<_>>();

    // The first line names the machine every figure depends on.
    let m = &lines[0];
    assert_eq!(m["name"], "machine", "{m}");
    assert!(["avx512f", "avx2+fma", "sse2", "neon", "scalar"].contains(&m["simd"].as_str().unwrap()), "{m}");
    assert!(m["threads"].as_u64().unwrap() >= 1 && m["logical_cpus"].as_u64().unwrap() >= 1, "{m}");
    if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
        let cpu = m["cpu_model"].as_str().unwrap();
        assert!(!cpu.is_empty() && info.contains(cpu), "{m}");
        // x86: the generation behind the (often generic) model name.
        let family = info.lines().find_map(|l| l.strip_prefix("cpu family").and_then(|v| v.split(':').nth(1)));
        if let Some(family) = family {
            let id = m["cpu_id"].as_str().unwrap();
            assert!(id.starts_with(&format!("family {} model ", family.trim())) && id.contains(" stepping "), "{m}");
        }
        let avx512 = info.lines().any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "avx512f"));
        assert_eq!(m["cpu_has_avx512f"], avx512, "{m}");
        if !avx512 {
            assert_ne!(m["simd"], "avx512f", "{m}");
        }
    }

    let copy = named("copy_bandwidth");
    assert_eq!(copy.len(), 1);
    // Any machine copies faster than 100 MB/s and slower than 10 TB/s.
    let bw = copy[0]["gb_per_s"].as_f64().unwrap();
    assert!(bw > 1e8 && bw < 1e13, "{bw}");

    let steps = named("sgd_momentum_step");
    assert_eq!(steps.len(), 1);
    let s = steps[0];
    assert_eq!(s["params"], 1_000_000);
    assert_eq!(s["device"], "cpu");
    for key in ["median_s", "burn_median_s", "floor_s", "vs_floor", "vs_burn"] {
        let x = s[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {s}"));
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    // A step moves at least 20 MB: it cannot beat the memory floor by much (cache effects
    // aside), nor take a second.
    assert!(s["vs_floor"].as_f64().unwrap() > 0.2, "{s}");
    assert!(s["median_s"].as_f64().unwrap() < 1.0, "{s}");

    let train: Vec<&Value> = lines.iter().filter(|v| v["name"].as_str().unwrap_or("").starts_with("train_")).collect();
    assert_eq!(train.len(), 3, "{text}");
    for t in &train {
        for key in ["samples_per_s", "step_us", "forward_us", "backward_us", "optim_us"] {
            let x = t[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {t}"));
            assert!(x.is_finite() && x > 0.0, "{key} = {x} in {t}");
        }
        assert!(t["steps"].as_u64().unwrap() >= 3, "{t}");
        let (batch, sps, step_us) = (t["batch"].as_f64().unwrap(), t["samples_per_s"].as_f64().unwrap(), t["step_us"].as_f64().unwrap());
        // samples/s and µs/step describe the same runs.
        assert!((sps * step_us / 1e6 / batch - 1.0).abs() < 1e-6, "{t}");
    }
    if cfg!(target_os = "linux") {
        for v in lines.iter().skip(2) {
            assert!(v["peak_rss_mb"].as_f64().unwrap() > 1.0, "{v}");
        }
    }
    assert!(start.elapsed().as_secs() < 60, "the quick bench took {:?}", start.elapsed());
}

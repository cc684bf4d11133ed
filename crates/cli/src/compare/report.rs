//! The compare report: `report.md`'s table and notes, and the mean curves of `loss.svg`.

use std::collections::BTreeMap;

use descent_train::config::DType;
use descent_train::RunConfig;

use super::{CompareOptions, CompareReport, ConfigSummary};
use crate::plot::{format_sig, Series};

/// Per-epoch train loss of a config: mean over its seeds, with the min–max band.
pub(super) fn mean_curve(row: &ConfigSummary) -> Series {
    let mut by_epoch: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for r in &row.runs {
        for e in &r.epochs {
            if let Some(l) = e.train_loss {
                by_epoch.entry(e.epoch).or_default().push(l);
            }
        }
    }
    let mut points = Vec::new();
    let mut band = Vec::new();
    for (epoch, v) in by_epoch {
        let x = epoch as f64;
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        points.push((x, mean));
        band.push((x, lo, hi));
    }
    Series { label: row.name.clone(), points, band: (row.runs.len() > 1).then_some(band) }
}

pub(super) fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `850 µs`, `12.3 ms`, `4.21 s`.
pub fn format_secs(s: f64) -> String {
    if !s.is_finite() {
        "—".into()
    } else if s < 1e-3 {
        format!("{} µs", format_sig(s * 1e6, 3))
    } else if s < 1.0 {
        format!("{} ms", format_sig(s * 1e3, 3))
    } else {
        format!("{} s", format_sig(s, 3))
    }
}

pub(super) fn render_markdown(report: &CompareReport, opts: &CompareOptions, best: Option<&str>) -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| "?".into());
    let device = match opts.device {
        Some(d) => format!("{d} (--device, for every config)"),
        None => {
            let mut names: Vec<String> = Vec::new();
            for row in &report.rows {
                if let Ok(cfg) = RunConfig::load(&row.config) {
                    let d = cfg.device.to_string();
                    if !names.contains(&d) {
                        names.push(d);
                    }
                }
            }
            format!("{} (from the configs)", names.join(", "))
        }
    };
    let n = report.seeds;
    let mut md = String::new();
    md.push_str(&format!(
        "# descent compare: {} config{} × {n} seed{}\n\n",
        report.rows.len(),
        plural(report.rows.len()),
        plural(n)
    ));
    md.push_str(&format!("- date: {}\n", utc_now()));
    md.push_str(&format!(
        "- machine: {cores} CPU cores (available parallelism), {} {}; device: {device}\n",
        std::env::consts::OS,
        std::env::consts::ARCH
    ));
    md.push_str(&format!(
        "- seeds: {n} per config, seed = the config's seed + k for k = 0..{}; runs in `runs/<config>/seed-<k>/`\n",
        n - 1
    ));
    let target = format_sig(report.target_loss, 4);
    if report.target_is_default {
        md.push_str(&format!(
            "- target loss: {target} (default: 1.1 × the best final train loss, {} from `{}`; set it with --target-loss)\n",
            best.and_then(|b| report.rows.iter().find(|r| r.name == b)).map_or("—".into(), |r| format_sig(r.final_train_loss.mean, 4)),
            best.unwrap_or("—"),
        ));
    } else {
        md.push_str(&format!("- target loss: {target} (--target-loss)\n"));
    }
    md.push_str(
        "- final losses: the last epoch's `train_loss` / `valid_loss`, mean ± sample standard deviation over seeds; \
         with `[averaging]` the valid cell adds the weight average's (`avg_valid_loss`)\n\
         - steps to target: the step that ends the first epoch whose `train_loss` ≤ target, mean over the seeds that reached it (k/N); \
         time to target: those steps × the run's wall time per step\n\
         - wall time: measured around `train()`, so it includes loading the data and writing the run folder\n\n",
    );
    md.push_str("| config | final train loss | final valid loss | steps to target | time to target | time/step (µs) | total steps |\n");
    md.push_str("|---|---|---|---|---|---|---|\n");
    for r in &report.rows {
        let mut valid = r.final_valid_loss.map_or("—".into(), |m| m.to_string());
        if let Some(avg) = r.final_avg_valid_loss {
            valid.push_str(&format!("; average {avg}"));
        }
        let steps = match r.steps_to_target {
            Some(s) => format!("{} ({}/{n})", format_sig(s, 4), r.seeds_reached),
            None => format!("— (0/{n})"),
        };
        let time = r.secs_to_target.map_or("—".into(), format_secs);
        md.push_str(&format!(
            "| {} | {} | {valid} | {steps} | {time} | {} | {} |\n",
            r.name.replace('|', "\\|"),
            r.final_train_loss,
            format_sig(r.us_per_step, 4),
            format_sig(r.total_steps, 6),
        ));
    }
    md.push_str("\n![train loss per epoch](loss.svg)\n");
    md
}

/// `YYYY-MM-DD HH:MM UTC` from the system clock (no time-zone database needed).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_plausible() {
        let d = utc_now();
        assert_eq!(d.len(), "2026-01-01 00:00 UTC".len(), "{d}");
        assert!(d.starts_with("20"), "{d}");
    }
}

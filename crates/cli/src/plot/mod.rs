//! SVG line charts of a run's `metrics.jsonl`, drawn with plotters' SVG backend (no fonts,
//! no bitmaps: the text is left to the browser).
//!
//! - [`line_chart_svg`]: any set of `(x, y)` series, optionally with a translucent
//!   `(x, lo, hi)` band, with axes, tick labels, axis labels, a title and a legend.
//! - [`plot_run`]: `RUN/loss.svg` (batch loss per step, the epoch means and — when the run
//!   has them — the validation losses, at the step that ends each epoch) and `RUN/lr.svg`
//!   (the learning rate per step, and a second panel for the momentum when the metrics carry
//!   one).
//! - [`plot_overlay`]: one per-epoch train-loss curve per run, labelled by the run folder.
//!
//! Values that are not finite (`null` in the JSON, as serde writes NaN, or a bare `NaN` /
//! `Infinity` token) are skipped: the curve breaks there. On a log-scale y axis a value
//! ≤ 0 cannot be drawn, and it is an **error** naming the file and the step (or the chart
//! and the point), not a silent clamp: a loss that reaches 0 or goes negative (`maximize`)
//! deserves a linear axis. `--log-y` applies to the loss charts only; `lr.svg` is always
//! linear (a rate of 0 is legitimate).


mod chart;
mod read;

use std::path::{Path, PathBuf};

use descent_train::TrainError;

pub use chart::{format_sig, line_chart_svg, stacked_line_charts_svg, ChartSpec, Series};
pub use read::{parse_metrics, read_metrics, EpochPoint, MetricsLog, StepPoint};

// ---------------------------------------------------------------------------------------
// Charts of runs

fn run_name(dir: &Path) -> String {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    std::fs::canonicalize(dir)
        .ok()
        .as_deref()
        .unwrap_or(dir)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

fn write_file(path: &Path, text: &str) -> Result<(), TrainError> {
    std::fs::write(path, text)
        .map_err(|e| TrainError::Output { path: path.to_path_buf(), msg: format!("cannot write: {e}") })
}

/// Log-scale check with the file and the step (or epoch) in the message.
fn check_log(log: &MetricsLog, log_y: bool) -> Result<(), TrainError> {
    if !log_y {
        return Ok(());
    }
    let err = |msg: String| TrainError::Data { path: log.path.clone(), msg };
    if let Some((step, v)) = log.steps.iter().find_map(|s| s.loss.filter(|v| *v <= 0.0).map(|v| (s.step, v))) {
        return Err(err(format!(
            "step {step}: loss = {v} cannot be drawn on a log-scale axis (--log-y); plot it without --log-y"
        )));
    }
    for e in &log.epochs {
        for (key, v) in [("train_loss", e.train_loss), ("valid_loss", e.valid_loss)] {
            if let Some(v) = v.filter(|v| *v <= 0.0) {
                return Err(err(format!(
                    "epoch {} (step {}): {key} = {v} cannot be drawn on a log-scale axis (--log-y); plot it without --log-y",
                    e.epoch, e.end_step
                )));
            }
        }
    }
    Ok(())
}

fn opt_points<T>(items: &[T], f: impl Fn(&T) -> (f64, Option<f64>)) -> Vec<(f64, f64)> {
    items
        .iter()
        .map(|it| {
            let (x, y) = f(it);
            (x, y.unwrap_or(f64::NAN))
        })
        .collect()
}

/// Redraws `RUN/loss.svg` and `RUN/lr.svg` from `RUN/metrics.jsonl`; returns their paths.
///
/// `loss.svg`: the batch loss at every step, the epoch mean (`train_loss`) and, when
/// present, `valid_loss`, both at the last step of their epoch. `lr.svg`: `lr` per step,
/// and a second panel with `momentum` when the lines carry it. `log_y` applies to
/// `loss.svg` only; a loss ≤ 0 with `log_y` is an error naming the file and the step.
pub fn plot_run(run_dir: &Path, log_y: bool) -> Result<Vec<PathBuf>, TrainError> {
    let log = read_metrics(&run_dir.join("metrics.jsonl"))?;
    check_log(&log, log_y)?;
    let name = run_name(run_dir);

    let mut loss_series = Vec::new();
    if !log.steps.is_empty() {
        loss_series.push(Series::new("batch loss (per step)", opt_points(&log.steps, |s| (s.step as f64, s.loss))));
    }
    if !log.epochs.is_empty() {
        loss_series.push(Series::new(
            "train loss (epoch mean)",
            opt_points(&log.epochs, |e| (e.end_step as f64, e.train_loss)),
        ));
    }
    if log.epochs.iter().any(|e| e.valid_loss.is_some()) {
        loss_series.push(Series::new("valid loss", opt_points(&log.epochs, |e| (e.end_step as f64, e.valid_loss))));
    }
    let loss_spec = ChartSpec {
        title: format!("Loss — {name}"),
        x_label: "step".into(),
        y_label: if log_y { "loss (log scale)".into() } else { "loss".into() },
        log_y,
    };
    let loss_svg = line_chart_svg(&loss_spec, &loss_series)?;

    let mut charts = Vec::new();
    let lr_points = if log.steps.is_empty() {
        opt_points(&log.epochs, |e| (e.end_step as f64, e.lr))
    } else {
        opt_points(&log.steps, |s| (s.step as f64, s.lr))
    };
    charts.push((
        ChartSpec {
            title: format!("Learning rate — {name}"),
            x_label: "step".into(),
            y_label: "lr".into(),
            log_y: false,
        },
        vec![Series::new("lr", lr_points)],
    ));
    if log.steps.iter().any(|s| s.momentum.is_some()) {
        charts.push((
            ChartSpec {
                title: format!("Momentum — {name}"),
                x_label: "step".into(),
                y_label: "momentum".into(),
                log_y: false,
            },
            vec![Series::new("momentum", opt_points(&log.steps, |s| (s.step as f64, s.momentum)))],
        ));
    }
    let lr_svg = stacked_line_charts_svg(&charts)?;

    let (loss_path, lr_path) = (run_dir.join("loss.svg"), run_dir.join("lr.svg"));
    write_file(&loss_path, &loss_svg)?;
    write_file(&lr_path, &lr_svg)?;
    Ok(vec![loss_path, lr_path])
}

/// One per-epoch train-loss curve (`train_loss` against the epoch) per run, labelled by the
/// run folder's name (its path, when two runs share a name), into `out_svg`.
pub fn plot_overlay(run_dirs: &[PathBuf], out_svg: &Path, log_y: bool) -> Result<(), TrainError> {
    if run_dirs.is_empty() {
        return Err(TrainError::Output { path: out_svg.to_path_buf(), msg: "no run folders to overlay".into() });
    }
    let names: Vec<String> = run_dirs.iter().map(|d| run_name(d)).collect();
    let mut series = Vec::new();
    for (dir, name) in run_dirs.iter().zip(&names) {
        let log = read_metrics(&dir.join("metrics.jsonl"))?;
        if log.epochs.is_empty() {
            return Err(TrainError::Data {
                path: log.path,
                msg: "no per-epoch records (lines without `step`) to draw a train-loss curve from".into(),
            });
        }
        check_log(&log, log_y)?;
        let label =
            if names.iter().filter(|n| *n == name).count() > 1 { dir.display().to_string() } else { name.clone() };
        series.push(Series::new(label, opt_points(&log.epochs, |e| (e.epoch as f64, e.train_loss))));
    }
    let spec = ChartSpec {
        title: "Train loss (epoch mean)".into(),
        x_label: "epoch".into(),
        y_label: if log_y { "train loss (log scale)".into() } else { "train loss".into() },
        log_y,
    };
    let svg = line_chart_svg(&spec, &series)?;
    write_file(out_svg, &svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_sig_is_short_and_round_trips_the_digits() {
        assert_eq!(format_sig(0.5, 4), "0.5");
        assert_eq!(format_sig(1200.0, 4), "1200");
        assert_eq!(format_sig(0.045031, 4), "0.04503");
        assert_eq!(format_sig(3.2e-5, 3), "3.2e-5");
        assert_eq!(format_sig(123456.0, 3), "1.23e5");
        assert_eq!(format_sig(-2.5, 3), "-2.5");
        assert_eq!(format_sig(0.0, 3), "0");
    }

    #[test]
    fn metrics_lines_parse_and_unknown_keys_are_ignored() {
        let text = "{\"step\":1,\"epoch\":1,\"lr\":0.1,\"loss\":2.0,\"grad_norm\":3}\n\
                    {\"step\":2,\"epoch\":1,\"lr\":0.1,\"loss\":null,\"momentum\":0.9}\n\
                    {\"epoch\":1,\"train_loss\":1.5,\"lr\":0.1,\"steps\":2,\"valid_loss\":NaN,\"extra\":[1]}\n";
        let log = parse_metrics(text, Path::new("m.jsonl")).unwrap();
        assert_eq!(log.steps.len(), 2);
        assert_eq!(log.steps[1].loss, None);
        assert_eq!(log.steps[1].momentum, Some(0.9));
        assert_eq!(log.epochs[0].end_step, 2);
        assert_eq!(log.epochs[0].valid_loss, None);
    }

    #[test]
    fn bad_metrics_name_the_file_and_line() {
        let e = parse_metrics("{\"step\":1,\"loss\":1}\n{oops\n", Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(e.starts_with("m.jsonl: line 2: not valid JSON"), "{e}");
        let e = parse_metrics("{\"step\":1,\"loss\":\"x\"}\n", Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(e.contains("line 1: `loss` must be a number"), "{e}");
        let e = parse_metrics("[1,2]\n", Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(e.contains("line 1: expected a JSON object"), "{e}");
        let e = parse_metrics("\n", Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn log_scale_rejects_non_positive_values_by_name() {
        let spec = ChartSpec { title: "T".into(), log_y: true, ..Default::default() };
        let e = line_chart_svg(&spec, &[Series::new("s", vec![(1.0, 1.0), (2.0, 0.0)])]).unwrap_err().to_string();
        assert!(e.contains("series `s` has y = 0 at x = 2"), "{e}");
        // Non-finite values are skipped, not errors.
        line_chart_svg(&spec, &[Series::new("s", vec![(1.0, 1.0), (2.0, f64::NAN), (3.0, 0.5)])]).unwrap();
    }
}

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

use std::ops::Range;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde_json::{Map, Value};

use crate::TrainError;

/// One curve. `band`: `(x, lo, hi)`, drawn as a translucent area in the series' colour.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub band: Option<Vec<(f64, f64, f64)>>,
}

impl Series {
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self { label: label.into(), points, band: None }
    }
}

/// Title, axis labels and the y scale of one chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartSpec {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 540;

/// Matplotlib's "tab10", readable on white.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A series with at most this many points also gets a dot at each point.
const MARKER_MAX_POINTS: usize = 60;

/// One chart as a standalone SVG document.
pub fn line_chart_svg(spec: &ChartSpec, series: &[Series]) -> Result<String, TrainError> {
    stacked_line_charts_svg(&[(spec.clone(), series.to_vec())])
}

/// Several charts stacked top to bottom in one SVG document (e.g. lr above momentum).
pub fn stacked_line_charts_svg(charts: &[(ChartSpec, Vec<Series>)]) -> Result<String, TrainError> {
    for (spec, series) in charts {
        check_log_positive(spec, series)?;
    }
    let n = charts.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT * n)).into_drawing_area();
        let fail =
            |what: &str, e: String| TrainError::Output { path: PathBuf::from("<svg>"), msg: format!("{what}: {e}") };
        root.fill(&WHITE).map_err(|e| fail("drawing", e.to_string()))?;
        let panels = root.split_evenly((n as usize, 1));
        for ((spec, series), area) in charts.iter().zip(&panels) {
            draw_chart(area, spec, series).map_err(|e| fail(&spec.title, e))?;
        }
        root.present().map_err(|e| fail("drawing", e.to_string()))?;
    }
    Ok(svg)
}

fn check_log_positive(spec: &ChartSpec, series: &[Series]) -> Result<(), TrainError> {
    if !spec.log_y {
        return Ok(());
    }
    let bad = |label: &str, x: f64, y: f64| TrainError::Data {
        path: PathBuf::from(format!("chart `{}`", spec.title)),
        msg: format!(
            "series `{label}` has y = {y} at x = {x}, which a log-scale y axis cannot show; use a linear axis"
        ),
    };
    for s in series {
        if let Some(&(x, y)) = s.points.iter().find(|(x, y)| x.is_finite() && y.is_finite() && *y <= 0.0) {
            return Err(bad(&s.label, x, y));
        }
        for &(x, lo, hi) in s.band.iter().flatten() {
            for y in [lo, hi] {
                if x.is_finite() && y.is_finite() && y <= 0.0 {
                    return Err(bad(&s.label, x, y));
                }
            }
        }
    }
    Ok(())
}

/// `(min, max)` of some values; `None` when there are none.
type Span = Option<(f64, f64)>;

/// The finite x and y values of all series (bands included).
fn extent(series: &[Series]) -> (Span, Span) {
    fn grow(r: &mut Span, v: f64) {
        if v.is_finite() {
            *r = Some(match *r {
                None => (v, v),
                Some((a, b)) => (a.min(v), b.max(v)),
            });
        }
    }
    let (mut xr, mut yr) = (None, None);
    for s in series {
        for &(x, y) in &s.points {
            if x.is_finite() && y.is_finite() {
                grow(&mut xr, x);
                grow(&mut yr, y);
            }
        }
        for &(x, lo, hi) in s.band.iter().flatten() {
            if x.is_finite() && lo.is_finite() && hi.is_finite() {
                grow(&mut xr, x);
                grow(&mut yr, lo);
                grow(&mut yr, hi);
            }
        }
    }
    (xr, yr)
}

fn x_range(r: Span) -> Range<f64> {
    match r {
        None => 0.0..1.0,
        Some((a, b)) if a == b => a - 1.0..b + 1.0,
        Some((a, b)) => a..b,
    }
}

fn linear_y_range(r: Span) -> Range<f64> {
    match r {
        None => 0.0..1.0,
        Some((a, b)) if a == b => {
            let d = if a == 0.0 { 1.0 } else { a.abs() * 0.1 };
            a - d..b + d
        }
        Some((a, b)) => {
            let pad = (b - a) * 0.05;
            a - pad..b + pad
        }
    }
}

fn log_y_range(r: Span) -> Range<f64> {
    match r {
        None => 0.1..1.0,
        Some((a, b)) if a == b => a / 2.0..b * 2.0,
        Some((a, b)) => a / 1.25..b * 1.25,
    }
}

/// Tick values for a log axis on `lo..hi`: the sparsest of 1·10ᵏ, {1, 2, 5}·10ᵏ and
/// {1, 1.5, 2, 3, 5, 7}·10ᵏ that gives at least 4 labels (every other decade when 1·10ᵏ
/// alone gives more than 10); light grid lines at every m·10ᵏ, m = 1..9, when that is not
/// too many.
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |mults: &[f64]| -> Vec<f64> {
        (k0..=k1)
            // m / 10⁻ᵏ rounds once, so 0.05 is 0.05.
            .flat_map(|k| mults.iter().map(move |m| if k >= 0 { m * 10f64.powi(k) } else { m / 10f64.powi(-k) }))
            .filter(|v| *v >= lo && *v <= hi)
            .collect()
    };
    let mut bold = within(&[1.0]);
    if bold.len() > 10 {
        bold = bold.into_iter().step_by(2).collect();
    }
    for mults in [&[1.0, 2.0, 5.0][..], &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0][..]] {
        if bold.len() >= 4 {
            break;
        }
        bold = within(mults);
    }
    let light = if k1 - k0 <= 8 { within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]) } else { Vec::new() };
    (bold, light)
}

fn draw_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    spec: &ChartSpec,
    series: &[Series],
) -> Result<(), String> {
    let (xr, yr) = extent(series);
    let mut builder = ChartBuilder::on(area);
    builder.caption(&spec.title, ("sans-serif", 22)).margin(14).x_label_area_size(48).y_label_area_size(76);
    if spec.log_y {
        let range = log_y_range(yr);
        let (bold, light) = log_ticks(range.start, range.end);
        let y = range.log_scale().with_key_points(bold).with_light_points(light);
        let mut chart = builder.build_cartesian_2d(x_range(xr), y).map_err(|e| e.to_string())?;
        fill(&mut chart, spec, series).map_err(|e| e.to_string())
    } else {
        let mut chart = builder.build_cartesian_2d(x_range(xr), linear_y_range(yr)).map_err(|e| e.to_string())?;
        fill(&mut chart, spec, series).map_err(|e| e.to_string())
    }
}

fn fill<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    spec: &ChartSpec,
    series: &[Series],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .x_label_formatter(&|v| format_sig(*v, 4))
        .y_label_formatter(&|v| format_sig(*v, 3))
        .max_light_lines(4)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;

    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        if let Some(band) = &s.band {
            for seg in segments(band.iter().map(|&(x, lo, hi)| ([x, lo, hi], (x, lo, hi)))) {
                let mut poly: Vec<(f64, f64)> = seg.iter().map(|&(x, _, hi)| (x, hi)).collect();
                poly.extend(seg.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.18).filled())))?;
            }
        }
        let segs = segments(s.points.iter().map(|&(x, y)| ([x, y, 0.0], (x, y))));
        // An empty first segment still carries the legend entry.
        let mut segs = segs.into_iter();
        let first = segs.next().unwrap_or_default();
        let style = color.stroke_width(2);
        chart
            .draw_series(LineSeries::new(first, style))?
            .label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3)));
        for seg in segs {
            chart.draw_series(LineSeries::new(seg, style))?;
        }
        let finite = s.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite());
        if finite.clone().count() <= MARKER_MAX_POINTS {
            chart.draw_series(finite.map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    if !series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    Ok(())
}

/// Splits a run of points at the non-finite ones, so a line never bridges a gap.
fn segments<T, const N: usize>(items: impl Iterator<Item = ([f64; N], T)>) -> Vec<Vec<T>> {
    let mut out = vec![Vec::new()];
    for (vals, item) in items {
        if vals.iter().all(|v| v.is_finite()) {
            out.last_mut().unwrap().push(item);
        } else if !out.last().unwrap().is_empty() {
            out.push(Vec::new());
        }
    }
    if out.len() > 1 && out.last().unwrap().is_empty() {
        out.pop();
    }
    out
}

/// `v` with `sig` significant digits, in plain notation from 1e-3 to 1e5 and in scientific
/// notation outside; trailing zeros dropped (`0.5`, `1200`, `3.2e-5`).
pub fn format_sig(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let sig = sig.max(1);
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{:.*e}", sig - 1, v);
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{exp}", trim_zeros(mantissa));
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (sig as i32 - 1 - magnitude).max(0) as usize;
    trim_zeros(&format!("{:.*}", decimals, v)).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------
// metrics.jsonl

/// One per-step line of `metrics.jsonl`. Values are `None` when absent or not finite.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPoint {
    pub step: u64,
    pub epoch: Option<u64>,
    pub lr: Option<f64>,
    pub loss: Option<f64>,
    pub momentum: Option<f64>,
}

/// One per-epoch line (a line without `step`). `end_step` is the last step of the epoch:
/// the largest `step` seen before this line, or — in a file without step lines — the
/// running sum of `steps`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochPoint {
    pub epoch: u64,
    pub end_step: u64,
    pub train_loss: Option<f64>,
    pub valid_loss: Option<f64>,
    pub lr: Option<f64>,
}

/// A parsed `metrics.jsonl`; unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsLog {
    pub path: PathBuf,
    pub steps: Vec<StepPoint>,
    pub epochs: Vec<EpochPoint>,
}

/// Reads and checks `path` (a `metrics.jsonl`). Errors name the file and the line.
pub fn read_metrics(path: &Path) -> Result<MetricsLog, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let partial = path.with_file_name("metrics.jsonl.partial");
        let hint = if path.file_name().is_some_and(|n| n == "metrics.jsonl") && partial.exists() {
            " (metrics.jsonl.partial exists: the run has not finished, or it failed)"
        } else {
            ""
        };
        TrainError::Data { path: path.to_path_buf(), msg: format!("cannot read: {e}{hint}") }
    })?;
    parse_metrics(&text, path)
}

/// Parses the text of a `metrics.jsonl`; `path` only names the file in errors.
pub fn parse_metrics(text: &str, path: &Path) -> Result<MetricsLog, TrainError> {
    let mut log = MetricsLog { path: path.to_path_buf(), ..Default::default() };
    let mut last_step: Option<u64> = None;
    let mut step_sum = 0u64;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: String| TrainError::Data { path: path.to_path_buf(), msg: format!("line {lineno}: {msg}") };
        let obj = parse_object(line).map_err(&err)?;
        let float = |key: &str| -> Result<Option<f64>, TrainError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64().filter(|v| v.is_finite())),
                Some(other) => Err(err(format!("`{key}` must be a number, got {other}"))),
            }
        };
        let int = |key: &str| -> Result<Option<u64>, TrainError> {
            match obj.get(key) {
                None => Ok(None),
                Some(v) => {
                    v.as_u64().map(Some).ok_or_else(|| err(format!("`{key}` must be a non-negative integer, got {v}")))
                }
            }
        };
        let epoch = int("epoch")?;
        if let Some(step) = int("step")? {
            if !obj.contains_key("loss") {
                return Err(err("a step line (with `step`) needs a `loss`".into()));
            }
            log.steps.push(StepPoint {
                step,
                epoch,
                lr: float("lr")?,
                loss: float("loss")?,
                momentum: float("momentum")?,
            });
            last_step = Some(last_step.map_or(step, |s| s.max(step)));
        } else {
            let epoch =
                epoch.ok_or_else(|| err("a line needs a `step` (per-step) or an `epoch` (per-epoch) key".into()))?;
            if !obj.contains_key("train_loss") {
                return Err(err("an epoch line (without `step`) needs a `train_loss`".into()));
            }
            step_sum += int("steps")?.unwrap_or(1);
            log.epochs.push(EpochPoint {
                epoch,
                end_step: last_step.unwrap_or(step_sum),
                train_loss: float("train_loss")?,
                valid_loss: float("valid_loss")?,
                lr: float("lr")?,
            });
        }
    }
    if log.steps.is_empty() && log.epochs.is_empty() {
        return Err(TrainError::Data { path: path.to_path_buf(), msg: "no records: the file is empty".into() });
    }
    Ok(log)
}

/// One JSON object; bare `NaN` / `Infinity` (as Python's json writes them) read as null.
fn parse_object(line: &str) -> Result<Map<String, Value>, String> {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(first) => {
            let patched = line.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null");
            if patched == line {
                return Err(format!("not valid JSON: {first}"));
            }
            serde_json::from_str(&patched).map_err(|_| format!("not valid JSON: {first}"))?
        }
    };
    match value {
        Value::Object(m) => Ok(m),
        other => Err(format!("expected a JSON object, got {other}")),
    }
}

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
    fn log_ticks_are_round_and_enough() {
        assert_eq!(log_ticks(0.03, 1.9).0, vec![0.05, 0.1, 0.2, 0.5, 1.0]);
        assert_eq!(log_ticks(1e-6, 10.0).0, vec![1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]);
        assert_eq!(log_ticks(0.3, 0.9).0.len(), 3); // 0.3, 0.5, 0.7: what a third of a decade has
        assert_eq!(log_ticks(1e-20, 1.0).0.len(), 11);
    }

    #[test]
    fn segments_break_at_non_finite_points() {
        let pts = [(1.0, 1.0), (2.0, f64::NAN), (3.0, 3.0), (4.0, 4.0), (5.0, f64::INFINITY)];
        let segs = segments(pts.iter().map(|&(x, y)| ([x, y], (x, y))));
        assert_eq!(segs, vec![vec![(1.0, 1.0)], vec![(3.0, 3.0), (4.0, 4.0)]]);
        let none: Vec<Vec<(f64, f64)>> = segments(std::iter::empty::<([f64; 2], (f64, f64))>());
        assert_eq!(none, vec![Vec::<(f64, f64)>::new()]);
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

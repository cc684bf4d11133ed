//! SVG line charts, drawn with plotters' SVG backend (no fonts, no bitmaps: the text is left
//! to the browser): any set of `(x, y)` series, optionally with a translucent `(x, lo, hi)`
//! band, with axes, tick labels, axis labels, a title and a legend.

use std::ops::Range;
use std::path::PathBuf;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use descent_train::TrainError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

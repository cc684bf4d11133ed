//! `descent lr-find`'s output: the range test's curve as `lr-find.csv` and `lr-find.svg`, with
//! the suggested lr marked. The test itself is [`descent_train::lr_find`].

use std::path::{Path, PathBuf};

use descent_train::lr_find::LrFindResult;
use descent_train::TrainError;

use crate::plot::{line_chart_svg, ChartSpec, Series};

/// Writes `out_dir/lr-find.csv` (step, lr, loss, smoothed loss) and `out_dir/lr-find.svg`;
/// returns their paths `(svg, csv)`.
pub fn write_outputs(r: &LrFindResult, out_dir: &Path) -> Result<(PathBuf, PathBuf), TrainError> {
    let points = &r.points;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| TrainError::Output { path: out_dir.to_path_buf(), msg: format!("cannot create folder: {e}") })?;
    let svg_path = out_dir.join("lr-find.svg");
    let csv_path = out_dir.join("lr-find.csv");
    let mut csv = String::from("step,lr,loss,smoothed_loss\n");
    for (i, (lr, l, s)) in points.iter().enumerate() {
        csv.push_str(&format!("{},{lr:e},{l:e},{s:e}\n", i + 1));
    }
    let log10 = |v: f64| v.log10();
    let mut series = vec![
        Series::new("batch loss", points.iter().map(|&(lr, l, _)| (log10(lr), l)).collect()),
        Series::new("smoothed loss (EMA, β = 0.95)", points.iter().map(|&(lr, _, s)| (log10(lr), s)).collect()),
    ];
    if let Some(lr) = r.suggested_lr {
        let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.2), hi.max(p.2)));
        series.push(Series::new(format!("suggested lr = {lr:.3e}"), vec![(log10(lr), lo), (log10(lr), hi)]));
    }
    let spec = ChartSpec { title: "LR range test".into(), x_label: "log10(lr)".into(), y_label: "loss".into(), log_y: false };
    let svg = line_chart_svg(&spec, &series)?;
    descent_train::checkpoint::write_atomic(&csv_path, csv.as_bytes())?;
    descent_train::checkpoint::write_atomic(&svg_path, svg.as_bytes())?;
    Ok((svg_path, csv_path))
}

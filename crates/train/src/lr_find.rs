//! The learning-rate range test (Smith 2017, "Cyclical Learning Rates…", §3.3; fastai's
//! `lr_find`): train from the config's starting point while the lr grows exponentially,
//!
//! ```text
//! lr_i = start_lr · (end_lr / start_lr)^(i / (steps − 1)),   i = 0 … steps − 1
//! ```
//!
//! and watch the loss. As torch-lr-finder (`LRFinder.range_test`, `smooth_f = 0.05`,
//! `diverge_th = 5`): the raw batch losses are smoothed, `s_0 = L_0`,
//! `s_i = 0.95·s_{i−1} + 0.05·L_i`; the test stops once the smoothed loss exceeds
//! `diverge_factor` × its best value or becomes non-finite; and the suggested lr is where the
//! smoothed loss falls fastest (steepest negative gradient, uniform in log lr), before its
//! minimum. Batches come from the config's `[batching]`, epoch after epoch,
//! the config's optimizer and model included; `epochs` and `[scheduler]` are ignored.

use std::path::PathBuf;

use burn::optim::GradientsParams;
use descent_model::Model;
use descent_optim::penalty::Penalty;

use crate::config::{DeviceChoice, RunConfig};
use crate::error::TrainError;
use crate::loss::batch_loss;
use crate::rng::Rng;
use crate::setup::prepare;

/// How to run the range test.
#[derive(Debug, Clone)]
pub struct LrFindOptions {
    pub start_lr: f64,
    pub end_lr: f64,
    pub steps: usize,
    /// Stop when the smoothed loss exceeds this multiple of its best value.
    pub diverge_factor: f64,
    pub device: Option<DeviceChoice>,
}

impl Default for LrFindOptions {
    fn default() -> Self {
        Self { start_lr: 1e-7, end_lr: 10.0, steps: 100, diverge_factor: 5.0, device: None }
    }
}

impl LrFindOptions {
    fn validate(&self) -> Result<(), TrainError> {
        let bad = |msg: String| Err(TrainError::Config { path: PathBuf::from("lr-find"), msg });
        if !(self.start_lr > 0.0 && self.end_lr > self.start_lr && self.end_lr.is_finite()) {
            return bad(format!(
                "needs 0 < start_lr < end_lr (finite), got start_lr = {}, end_lr = {}",
                self.start_lr, self.end_lr
            ));
        }
        if self.steps < 2 {
            return bad(format!("needs at least 2 steps, got {}", self.steps));
        }
        if !(self.diverge_factor > 1.0) {
            return bad(format!("diverge_factor must be > 1, got {}", self.diverge_factor));
        }
        Ok(())
    }
}

/// What the test saw.
#[derive(Debug, Clone)]
pub struct LrFindResult {
    /// `(lr, raw loss, smoothed loss)` per step taken.
    pub points: Vec<(f64, f64, f64)>,
    /// The steepest-descent lr; `None` when the curve never fell.
    pub suggested_lr: Option<f64>,
    /// The lr at the smallest smoothed loss.
    pub min_loss_lr: f64,
    /// Set when the test stopped early on divergence.
    pub diverged_at: Option<usize>,
}

/// Runs the range test. Writing its curve (`lr-find.csv`, `lr-find.svg`) is the CLI's part.
pub fn lr_find(cfg: &RunConfig, opts: &LrFindOptions) -> Result<LrFindResult, TrainError> {
    opts.validate()?;
    let (points, diverged_at) = range_test(cfg, opts)?;
    let (suggested_lr, min_loss_lr) = suggest(&points);
    Ok(LrFindResult { points, suggested_lr, min_loss_lr, diverged_at })
}

/// The steps of the test: `(lr, raw loss, smoothed loss)` for each step taken, and the
/// step it diverged at, if it did.
fn range_test(cfg: &RunConfig, opts: &LrFindOptions) -> Result<(Vec<(f64, f64, f64)>, Option<usize>), TrainError> {
    const BETA: f64 = 0.95;
    if matches!(cfg.optimizer.config, descent_optim::OptimizerConfig::Lbfgs(_)) {
        return Err(TrainError::Config {
            path: PathBuf::from("[optimizer]"),
            msg: "kind = \"lbfgs\" searches its own step length inside each step; an lr range test does not apply to it".into(),
        });
    }
    let p = prepare(cfg, opts.device.unwrap_or(cfg.device))?;
    let built = cfg.optimizer.config.build().map_err(|e| TrainError::Config { path: PathBuf::from("[optimizer]"), msg: e.to_string() })?;
    let (mut optim, schedule_free) = (built.optimizer, built.schedule_free);
    let (split, _) = p.splits(cfg);
    let (device, mut model) = (p.device, p.model);
    let penalty = Penalty { l2: cfg.loss.l2, l1: cfg.loss.l1 };
    let mut rng = Rng::new(cfg.seed);
    let ratio = opts.end_lr / opts.start_lr;
    let (mut avg, mut best): (Option<f64>, f64) = (None, f64::INFINITY);
    let mut points = Vec::with_capacity(opts.steps);
    let mut queue = Vec::new().into_iter();
    for i in 0..opts.steps {
        let batch = match queue.next() {
            Some(b) => b,
            None => {
                queue = cfg.batching.epoch(p.train.rows, &mut rng).into_iter();
                queue.next().ok_or_else(|| TrainError::Config {
                    path: PathBuf::from("lr-find"),
                    msg: "the training set gives no batches".into(),
                })?
            }
        };
        let lr = opts.start_lr * ratio.powf(i as f64 / (opts.steps - 1) as f64);
        let (x, y) = split.batch(&batch, &device);
        let value_at = |m: &Model| batch_loss(m, x.clone(), &y, None, Some((&penalty, batch.len()))).into_scalar::<f64>();
        let loss = batch_loss(&model, x.clone(), &y, None, Some((&penalty, batch.len())));
        // Schedule-free: the curve is the loss of x, the weights it evaluates (gradients at y).
        let value = match &schedule_free {
            Some(mode) => {
                let averaged = descent_optim::schedule_free::eval(model.clone(), &mut optim, mode);
                let v = value_at(&averaged);
                let _ = descent_optim::schedule_free::train(averaged, &mut optim, mode);
                v
            }
            None => loss.clone().into_scalar::<f64>(),
        };
        let smoothed = avg.map_or(value, |a| BETA * a + (1.0 - BETA) * value);
        avg = Some(smoothed);
        if !value.is_finite() || !smoothed.is_finite() || smoothed > opts.diverge_factor * best {
            if value.is_finite() {
                points.push((lr, value, smoothed));
            }
            return Ok((points, Some(i + 1)));
        }
        best = best.min(smoothed);
        points.push((lr, value, smoothed));
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    Ok((points, None))
}

/// `(steepest-descent lr, lr at the minimum)` of the smoothed curve. The slope is taken
/// against log lr by central differences, only up to the minimum (past it the loss is
/// rising, and any fall there is noise), and — as torch-lr-finder's `skip_start = 10,
/// skip_end = 5` — not over the first and last few points, where the moving average has
/// seen too few batches or the run is blowing up.
pub fn suggest(points: &[(f64, f64, f64)]) -> (Option<f64>, f64) {
    let Some((min_i, _)) = points.iter().enumerate().min_by(|a, b| a.1 .2.total_cmp(&b.1 .2)) else {
        return (None, f64::NAN);
    };
    let min_lr = points[min_i].0;
    let n = points.len();
    let (skip_start, skip_end) = ((n / 10).min(10), (n / 20).min(5));
    let mut best: Option<(f64, f64)> = None;
    for i in (1 + skip_start)..min_i.min(n.saturating_sub(1 + skip_end)) {
        let (a, b) = (points[i - 1], points[i + 1]);
        let slope = (b.2 - a.2) / (b.0.ln() - a.0.ln());
        if slope < 0.0 && best.is_none_or(|(s, _)| slope < s) {
            best = Some((slope, points[i].0));
        }
    }
    (best.map(|(_, lr)| lr), min_lr)
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggests_the_steepest_fall_before_the_minimum() {
        // Loss against log lr: flat, a steep fall around lr = 1e-2, minimum at 1e-1, then up.
        let lrs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0];
        let loss = [1.0, 0.99, 0.9, 0.5, 0.3, 0.35, 3.0];
        let pts: Vec<_> = lrs.iter().zip(loss).map(|(&lr, l)| (lr, l, l)).collect();
        let (s, m) = suggest(&pts);
        assert_eq!(m, 1e-1);
        // Central slopes: i=1: −0.1/ln100, i=2: −0.49/ln100, i=3: −0.6/ln100 → 1e-2.
        assert_eq!(s, Some(1e-2));
        // A curve that only rises has no suggestion.
        let up: Vec<_> = lrs.iter().enumerate().map(|(i, &lr)| (lr, i as f64, i as f64)).collect();
        assert_eq!(suggest(&up).0, None);
    }
}

//! The three strategies of the optimisation chapter differ only in which samples each step
//! sees (N = training set size, B = batch size):
//!
//! | mode | steps per epoch | each step's batch |
//! |---|---|---|
//! | `full` (gradient descent) | 1 | all N samples |
//! | `mini` (mini-batch GD) | ⌈N/B⌉ | the next B samples of the epoch's order (last one may be short) |
//! | `stochastic` (SGD) | N | one sample drawn uniformly at random, with replacement |
//!
//! With `shuffle = true`, `mini` reshuffles the order at the start of every epoch from the
//! run's seeded RNG; with `false` it walks the file order.
//!
//! **Gradient accumulation** (`accumulate = k`): each optimizer step sums the gradients of k
//! micro-batches — k consecutive batches of `mini`, k samples of `stochastic`, or the whole
//! set cut into k near-equal slices for `full` (same gradient, less memory). Micro-batch
//! `i` of a step whose micro-batches hold `n_1 … n_k` samples has its mean loss weighted by
//! `n_i / Σn`, so the step equals one step on the k-times larger batch (the penalty, which
//! is over the parameters and not the samples, is added once, with `m = Σn`):
//!
//! ```text
//! L_step = Σ_i (n_i/Σn)·mean_loss(batch_i) + penalty(m = Σn) = loss of the union batch
//! ```

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Full,
    Mini,
    Stochastic,
}

impl Mode {
    /// The config's spelling (`full`, `mini`, `stochastic`), also `descent bench`'s case names.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Mini => "mini",
            Mode::Stochastic => "stochastic",
        }
    }
}

/// `[batching]` in the run config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchingConfig {
    #[serde(default)]
    pub mode: Mode,
    /// Required for `mini`; ignored otherwise.
    pub batch_size: Option<usize>,
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Micro-batches per optimizer step (gradient accumulation); 1 = none.
    #[serde(default = "one")]
    pub accumulate: usize,
}

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

impl Default for BatchingConfig {
    fn default() -> Self {
        Self { mode: Mode::Full, batch_size: None, shuffle: true, accumulate: 1 }
    }
}

/// One step's samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// Rows `start..end` in file order (no gather needed).
    Range(usize, usize),
    /// Arbitrary rows.
    Rows(Vec<usize>),
}

impl Batch {
    pub fn len(&self) -> usize {
        match self {
            Batch::Range(a, b) => b - a,
            Batch::Rows(r) => r.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl BatchingConfig {
    /// Checked in the trainer so the message can name the config file.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode == Mode::Mini {
            match self.batch_size {
                None => return Err("[batching] batch_size is required when mode = \"mini\"".into()),
                Some(0) => return Err("[batching] batch_size must be at least 1".into()),
                Some(_) => {}
            }
        }
        if self.accumulate == 0 {
            return Err("[batching] accumulate must be at least 1 (1 = no accumulation)".into());
        }
        Ok(())
    }

    /// Optimizer steps per epoch.
    pub fn steps_per_epoch(&self, n: usize) -> usize {
        let k = self.accumulate.max(1);
        match self.mode {
            Mode::Full => 1,
            Mode::Mini => n.div_ceil(self.batch_size.unwrap_or(n).max(1)).div_ceil(k),
            Mode::Stochastic => n.div_ceil(k),
        }
    }

    /// The optimizer steps of one epoch, each as its micro-batches (one unless `accumulate`
    /// > 1); draws from `rng` exactly as [`epoch`](Self::epoch) does, so accumulating never
    /// changes which samples an epoch sees.
    pub fn steps(&self, n: usize, rng: &mut Rng) -> Vec<Vec<Batch>> {
        let k = self.accumulate.max(1);
        let batches = self.epoch(n, rng);
        if k == 1 {
            return batches.into_iter().map(|b| vec![b]).collect();
        }
        match self.mode {
            // Slice i of k covers rows ⌊i·n/k⌋ .. ⌊(i+1)·n/k⌋ (empty slices dropped when n < k).
            Mode::Full => vec![(0..k)
                .map(|i| Batch::Range(i * n / k, (i + 1) * n / k))
                .filter(|b| !b.is_empty())
                .collect()],
            Mode::Mini | Mode::Stochastic => batches.chunks(k).map(|c| c.to_vec()).collect(),
        }
    }

    /// The batches of one epoch over `n` samples; draws from `rng` as the mode requires.
    pub fn epoch(&self, n: usize, rng: &mut Rng) -> Vec<Batch> {
        match self.mode {
            Mode::Full => vec![Batch::Range(0, n)],
            Mode::Mini => {
                let b = self.batch_size.unwrap_or(n).max(1);
                if self.shuffle {
                    let mut order: Vec<usize> = (0..n).collect();
                    rng.shuffle(&mut order);
                    order.chunks(b).map(|c| Batch::Rows(c.to_vec())).collect()
                } else {
                    (0..n).step_by(b).map(|s| Batch::Range(s, (s + b).min(n))).collect()
                }
            }
            Mode::Stochastic => (0..n).map(|_| Batch::Rows(vec![rng.below(n)])).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: Mode, batch_size: Option<usize>, shuffle: bool) -> BatchingConfig {
        BatchingConfig { mode, batch_size, shuffle, accumulate: 1 }
    }

    #[test]
    fn accumulation_groups_micro_batches_without_changing_the_samples() {
        let mut c = cfg(Mode::Mini, Some(2), false);
        c.accumulate = 2;
        assert_eq!(c.steps(7, &mut Rng::new(0)), vec![
            vec![Batch::Range(0, 2), Batch::Range(2, 4)],
            vec![Batch::Range(4, 6), Batch::Range(6, 7)],
        ]);
        assert_eq!(c.steps_per_epoch(7), 2);
        let mut f = cfg(Mode::Full, None, true);
        f.accumulate = 3;
        assert_eq!(f.steps(10, &mut Rng::new(0)), vec![vec![Batch::Range(0, 3), Batch::Range(3, 6), Batch::Range(6, 10)]]);
        assert_eq!(f.steps_per_epoch(10), 1);
        let mut s = cfg(Mode::Stochastic, None, true);
        let plain: Vec<Batch> = s.epoch(5, &mut Rng::new(3));
        s.accumulate = 2;
        let grouped = s.steps(5, &mut Rng::new(3));
        assert_eq!(grouped.len(), 3);
        assert_eq!(grouped.concat(), plain);
        assert!(cfg(Mode::Full, None, true).validate().is_ok());
        let mut z = cfg(Mode::Full, None, true);
        z.accumulate = 0;
        assert!(z.validate().unwrap_err().contains("accumulate"));
    }

    #[test]
    fn full_is_one_batch_of_everything() {
        let b = cfg(Mode::Full, None, true).epoch(10, &mut Rng::new(0));
        assert_eq!(b, vec![Batch::Range(0, 10)]);
    }

    #[test]
    fn mini_in_file_order_keeps_the_last_partial_batch() {
        let c = cfg(Mode::Mini, Some(4), false);
        assert_eq!(c.epoch(10, &mut Rng::new(0)), vec![
            Batch::Range(0, 4),
            Batch::Range(4, 8),
            Batch::Range(8, 10)
        ]);
        assert_eq!(c.steps_per_epoch(10), 3);
    }

    #[test]
    fn mini_shuffled_covers_each_sample_once_and_reshuffles_each_epoch() {
        let c = cfg(Mode::Mini, Some(3), true);
        let mut rng = Rng::new(5);
        let e1 = c.epoch(10, &mut rng);
        let e2 = c.epoch(10, &mut rng);
        for e in [&e1, &e2] {
            let mut all: Vec<usize> = e
                .iter()
                .flat_map(|b| match b {
                    Batch::Rows(r) => r.clone(),
                    Batch::Range(..) => unreachable!(),
                })
                .collect();
            assert_eq!(e.iter().map(Batch::len).collect::<Vec<_>>(), vec![3, 3, 3, 1]);
            all.sort();
            assert_eq!(all, (0..10).collect::<Vec<_>>());
        }
        assert_ne!(e1, e2);
    }

    #[test]
    fn stochastic_draws_n_single_samples_with_replacement() {
        let c = cfg(Mode::Stochastic, None, true);
        let e = c.epoch(50, &mut Rng::new(1));
        assert_eq!(e.len(), 50);
        assert!(e.iter().all(|b| b.len() == 1));
        let mut seen: Vec<usize> = e
            .iter()
            .map(|b| match b {
                Batch::Rows(r) => r[0],
                Batch::Range(..) => unreachable!(),
            })
            .collect();
        seen.sort();
        seen.dedup();
        // With replacement, 50 draws from 50 almost surely repeat (P(no repeat) ≈ 3e-21).
        assert!(seen.len() < 50);
    }

    #[test]
    fn mini_requires_a_batch_size() {
        assert!(cfg(Mode::Mini, None, true).validate().is_err());
        assert!(cfg(Mode::Mini, Some(0), true).validate().is_err());
        assert!(cfg(Mode::Full, None, true).validate().is_ok());
    }
}

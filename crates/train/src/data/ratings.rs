//! Ratings for matrix factorisation: rows of features `[user, item]` (0-based ids, as
//! numbers) and target `rating`.
//!
//! - [`SyntheticRatings`]: a deterministic generator (`[data] kind = "synthetic_ratings"`):
//!   `r(u, i) = μ + b_u + c_i + p_u·q_i + ε`, with `μ = 3`, biases `~ N(0, 0.3²)`, factors
//!   `p_u, q_i ∈ ℝ^rank` with entries `~ N(0, rank^{-1/2})` (so `Var(p_u·q_i) = 1`) and noise
//!   `ε ~ N(0, noise_std²)`; each (user, item) pair is observed with probability `density`.
//!   The best any model can do on held-out ratings is an RMSE of `noise_std`.
//! - [`load_ratings`]: a `user,item,rating[,…]` file in MovieLens layout (`ratings.csv`
//!   with a `userId,movieId,rating,timestamp` header, `u.data` tab-separated, or `::`
//!   separated `ratings.dat`); columns after the third are ignored, and the raw ids are
//!   mapped to 0-based indices in increasing id order.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{err, Table};
use crate::error::TrainError;
use crate::rng::Rng;

/// Parameters of the synthetic ratings generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticRatings {
    pub users: usize,
    pub items: usize,
    pub rank: usize,
    /// Probability that a (user, item) pair is rated.
    pub density: f64,
    /// Std of the Gaussian noise on every rating.
    pub noise_std: f64,
    pub seed: u64,
}

/// Standard normal draws (Box–Muller on the run's SplitMix64).
struct Normal(Rng);

impl Normal {
    fn uniform(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn sample(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

impl SyntheticRatings {
    pub fn validate(&self) -> Result<(), String> {
        if self.users == 0 || self.items == 0 || self.rank == 0 {
            return Err(format!("[data] users, items and rank must be at least 1 (got {}, {}, {})", self.users, self.items, self.rank));
        }
        if !(self.density > 0.0 && self.density <= 1.0) {
            return Err(format!("[data] density must be in (0, 1], got {}", self.density));
        }
        if !(self.noise_std >= 0.0 && self.noise_std.is_finite()) {
            return Err(format!("[data] noise_std must be a finite number ≥ 0, got {}", self.noise_std));
        }
        Ok(())
    }

    /// All observed ratings, in (user, item) order. Same parameters → same table.
    pub fn generate(&self) -> Table {
        let mut n = Normal(Rng::new(self.seed ^ 0xA076_1D64_78BD_642F));
        let s = (self.rank as f64).powf(-0.25);
        let mut draw = |k: usize, std: f64| (0..k).map(|_| std * n.sample()).collect::<Vec<f64>>();
        let p = draw(self.users * self.rank, s);
        let q = draw(self.items * self.rank, s);
        let bu = draw(self.users, 0.3);
        let bi = draw(self.items, 0.3);
        let mut n = Normal(Rng::new(self.seed ^ 0xE703_7ED1_A0B4_28DB));
        let (mut features, mut targets) = (Vec::new(), Vec::new());
        for u in 0..self.users {
            for i in 0..self.items {
                if n.uniform() >= self.density {
                    continue;
                }
                let dot: f64 = (0..self.rank).map(|k| p[u * self.rank + k] * q[i * self.rank + k]).sum();
                let r = 3.0 + bu[u] + bi[i] + dot + self.noise_std * n.sample();
                features.extend([u as f64, i as f64]);
                targets.push(r);
            }
        }
        let rows = targets.len();
        Table {
            feature_names: vec!["user".into(), "item".into()],
            target_names: vec!["rating".into()],
            features,
            targets,
            rows,
            lines: (1..=rows).collect(),
        }
    }
}

type Raw = Vec<(i64, i64, f64, usize)>;

/// Reads a MovieLens-style ratings file (and an optional validation file, whose ids share
/// the training file's index); returns the tables and the (users, items) counts.
pub fn load_ratings(path: &Path, valid: Option<&Path>) -> Result<(Table, Option<Table>, usize, usize), TrainError> {
    let read = |p: &Path| -> Result<Raw, TrainError> {
        let text = std::fs::read_to_string(p).map_err(|e| err(p, format!("cannot read: {e}")))?;
        parse_raw(&text, p)
    };
    let t = read(path)?;
    let v = valid.map(read).transpose()?;
    let all = t.iter().chain(v.iter().flatten());
    let users = index(all.clone().map(|r| r.0));
    let items = index(all.map(|r| r.1));
    let table = |raw: &Raw| ratings_table(raw, &users, &items);
    Ok((table(&t), v.as_ref().map(table), users.len(), items.len()))
}

/// Rows `[user index, item index]` → rating, each keeping its file line.
fn ratings_table(raw: &Raw, users: &BTreeMap<i64, usize>, items: &BTreeMap<i64, usize>) -> Table {
    Table {
        feature_names: vec!["user".into(), "item".into()],
        target_names: vec!["rating".into()],
        features: raw.iter().flat_map(|r| [users[&r.0] as f64, items[&r.1] as f64]).collect(),
        targets: raw.iter().map(|r| r.2).collect(),
        rows: raw.len(),
        lines: raw.iter().map(|r| r.3).collect(),
    }
}

/// Raw ids → 0-based indices in increasing id order.
fn index(ids: impl Iterator<Item = i64>) -> BTreeMap<i64, usize> {
    let mut m: BTreeMap<i64, usize> = ids.map(|id| (id, 0)).collect();
    for (k, v) in m.values_mut().enumerate() {
        *v = k;
    }
    m
}

/// Parses one ratings file's text; `path` only names it in errors.
pub fn parse_ratings(text: &str, path: &Path) -> Result<(Table, usize, usize), TrainError> {
    let raw = parse_raw(text, path)?;
    let users = index(raw.iter().map(|r| r.0));
    let items = index(raw.iter().map(|r| r.1));
    Ok((ratings_table(&raw, &users, &items), users.len(), items.len()))
}

fn parse_raw(text: &str, path: &Path) -> Result<Raw, TrainError> {
    let split = |line: &str| -> Vec<String> {
        let sep = if line.contains("::") {
            "::"
        } else if line.contains('\t') {
            "\t"
        } else {
            ","
        };
        line.split(sep).map(|c| c.trim().trim_matches('"').to_string()).collect()
    };
    let mut raw: Raw = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        let cells = split(line);
        if raw.is_empty() && lineno == 1 && cells.first().is_some_and(|c| c.parse::<i64>().is_err()) {
            continue; // header row, e.g. userId,movieId,rating,timestamp
        }
        if cells.len() < 3 {
            return Err(err(path, format!("line {lineno}: {} cells; expected user,item,rating", cells.len())));
        }
        let id = |k: usize, name: &str| -> Result<i64, TrainError> {
            cells[k].parse().map_err(|_| err(path, format!("line {lineno}, column {name}: `{}` is not an integer id", cells[k])))
        };
        let (u, it) = (id(0, "user")?, id(1, "item")?);
        let r: f64 = cells[2].parse().map_err(|_| err(path, format!("line {lineno}, column rating: `{}` is not a number", cells[2])))?;
        if !r.is_finite() {
            return Err(err(path, format!("line {lineno}, column rating: `{}` is not a finite number", cells[2])));
        }
        raw.push((u, it, r, lineno));
    }
    if raw.is_empty() {
        return Err(err(path, "no ratings"));
    }
    Ok(raw)
}

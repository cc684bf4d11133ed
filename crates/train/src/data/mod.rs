//! Datasets for the trainer. Every source becomes a [`Table`] (feature rows + target rows),
//! so one training loop serves them all:
//!
//! | `[data] kind` | file | features | targets |
//! |---|---|---|---|
//! | `csv` (default) | [`csv`]: header row, numbers | every non-target column | `targets` columns |
//! | `idx` | [`idx`]: MNIST's IDX files, raw or gzip | pixels / 255 ∈ [0, 1] | the label |
//! | `digits`, `mnist_5k` | [`bundled`]: shipped in the binary | pixels / 16 or / 255 ∈ [0, 1] | the label |
//! | `ratings`, `synthetic_ratings` | [`ratings`] | `[user, item]` (0-based ids) | the rating |
//! | `text` | [`text`]: a UTF-8 corpus | the previous `context` character ids | the next char id |

pub mod bundled;
pub mod csv;
pub mod idx;
pub mod ratings;
pub mod text;

pub use csv::{load_csv, parse_csv};

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};

use crate::error::TrainError;
use crate::rng::Rng;

/// A loaded table: features and targets, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub feature_names: Vec<String>,
    pub target_names: Vec<String>,
    pub features: Vec<f64>,
    pub targets: Vec<f64>,
    pub rows: usize,
    /// 1-based line of each row in its file, for error messages.
    pub lines: Vec<usize>,
}

impl Table {
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }
    pub fn n_targets(&self) -> usize {
        self.target_names.len()
    }

    /// The rows `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Table {
        let (f, t) = (self.n_features(), self.n_targets());
        Table {
            feature_names: self.feature_names.clone(),
            target_names: self.target_names.clone(),
            features: idx.iter().flat_map(|&i| self.features[i * f..(i + 1) * f].iter().copied()).collect(),
            targets: idx.iter().flat_map(|&i| self.targets[i * t..(i + 1) * t].iter().copied()).collect(),
            rows: idx.len(),
            lines: idx.iter().map(|&i| self.lines[i]).collect(),
        }
    }

    /// Checks that the single target column holds class indices `0..classes`.
    pub fn check_classes(&self, path: &Path, classes: usize) -> Result<(), TrainError> {
        for (r, &v) in self.targets.iter().enumerate() {
            if v.fract() != 0.0 || v < 0.0 || v >= classes as f64 {
                return Err(err(
                    path,
                    format!(
                        "line {}, column `{}`: `{v}` is not a class index in 0..{classes} (cross_entropy needs integer labels below [model] sizes' last width)",
                        self.lines[r], self.target_names[0]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Class indices as an Int tensor.
    pub fn class_tensor(&self, device: &Device) -> Tensor<1, burn::tensor::Int> {
        let v: Vec<i64> = self.targets.iter().map(|&x| x as i64).collect();
        Tensor::from_data(TensorData::new(v, [self.rows]), device)
    }

    /// Features and targets as tensors of the device's float dtype.
    pub fn to_tensors(&self, device: &Device, f64_data: bool) -> (Tensor<2>, Tensor<2>) {
        let make = |v: &[f64], cols: usize| {
            let data = if f64_data {
                TensorData::new(v.to_vec(), [self.rows, cols])
            } else {
                TensorData::new(v.iter().map(|&x| x as f32).collect::<Vec<f32>>(), [self.rows, cols])
            };
            Tensor::<2>::from_data(data, device)
        };
        (make(&self.features, self.n_features()), make(&self.targets, self.n_targets()))
    }
}

pub(crate) fn err(path: &Path, msg: impl Into<String>) -> TrainError {
    TrainError::Data { path: path.to_path_buf(), msg: msg.into() }
}

/// Holds out `round(f·N)` rows chosen from `seed` (a stream separate from the data order);
/// both parts keep file order.
pub fn split(table: &Table, fraction: f64, seed: u64) -> (Table, Table) {
    let mut order: Vec<usize> = (0..table.rows).collect();
    Rng::new(seed ^ 0x5851_F42D_4C95_7F2D).shuffle(&mut order);
    let n_valid = ((table.rows as f64) * fraction).round() as usize;
    let mut valid: Vec<usize> = order[..n_valid].to_vec();
    let mut train: Vec<usize> = order[n_valid..].to_vec();
    valid.sort_unstable();
    train.sort_unstable();
    (table.subset(&train), table.subset(&valid))
}

/// A run's data: training rows, optional validation rows, and what they tell the model.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub train: Table,
    pub valid: Option<Table>,
    /// Files to name in errors about each split.
    pub train_path: PathBuf,
    pub valid_path: PathBuf,
    pub shape: crate::config::DataShape,
    /// text: the unigram model's perplexity on the validation split (the baseline).
    pub unigram_perplexity: Option<f64>,
}

/// Loads `[data]` (paths already resolved) and makes the validation split from `seed`.
pub fn load(data: &crate::config::DataSection, seed: u64) -> Result<Dataset, TrainError> {
    use crate::config::{DataKind, DataShape};
    let none = PathBuf::new();
    let path = |p: &Option<PathBuf>| p.clone().unwrap_or_else(|| none.clone());
    let mut shape = DataShape::default();
    let mut unigram = None;
    let (train_path, mut valid_path) = (path(&data.train), path(&data.valid));
    let (train, valid) = match data.kind {
        DataKind::Csv => csv_files(data, &train_path)?,
        DataKind::Idx => {
            let (t, v, image) = idx_files(data)?;
            shape.image = Some(image);
            if let (Some(i), Some(_)) = (&data.valid_images, &v) {
                valid_path = i.clone();
            }
            (t, v)
        }
        DataKind::Digits | DataKind::Mnist5k => {
            let b = if data.kind == DataKind::Digits { bundled::Bundled::Digits } else { bundled::Bundled::Mnist5k };
            shape.image = Some(b.image());
            (b.load()?, None)
        }
        DataKind::Ratings => {
            let (t, v, users, items) = ratings::load_ratings(&train_path, data.valid.as_deref())?;
            shape.users = Some(users);
            shape.items = Some(items);
            (t, v)
        }
        DataKind::SyntheticRatings => {
            let g = ratings::SyntheticRatings {
                users: data.users.unwrap_or(0),
                items: data.items.unwrap_or(0),
                rank: data.rank.unwrap_or(0),
                density: data.density.unwrap_or(0.0),
                noise_std: data.noise_std.unwrap_or(0.0),
                seed,
            };
            g.validate().map_err(|m| err(Path::new("[data]"), m))?;
            shape.users = Some(g.users);
            shape.items = Some(g.items);
            (g.generate(), None)
        }
        DataKind::Text => {
            let corpus = text::Corpus::load(&train_path)?;
            shape.vocab = Some(corpus.vocab.len());
            let (t, v) = corpus.split(data.context.unwrap_or(0), data.valid_fraction, &train_path)?;
            if let Some(v) = &v {
                unigram = Some(text::unigram_perplexity(&t, v, corpus.vocab.len()));
            }
            valid_path = train_path.clone();
            return Ok(Dataset { train: t, valid: v, train_path, valid_path, shape, unigram_perplexity: unigram });
        }
    };
    finish(train, valid, data, seed, train_path, valid_path, shape, unigram)
}

/// `train` and `valid` CSV files, which must have the same feature columns.
fn csv_files(data: &crate::config::DataSection, train_path: &Path) -> Result<(Table, Option<Table>), TrainError> {
    let targets = data.target_names();
    let t = load_csv(train_path, &targets)?;
    let Some(p) = &data.valid else { return Ok((t, None)) };
    let v = load_csv(p, &targets)?;
    if v.feature_names != t.feature_names {
        return Err(err(p, format!("columns differ from {}: expected features {:?}", train_path.display(), t.feature_names)));
    }
    Ok((t, Some(v)))
}

/// IDX `images` + `labels` (and the validation pair, same image size), and the image size.
fn idx_files(data: &crate::config::DataSection) -> Result<(Table, Option<Table>, [usize; 2]), TrainError> {
    let path = |p: &Option<PathBuf>| p.clone().unwrap_or_default();
    let (t, image) = idx::load_idx(&path(&data.images), &path(&data.labels))?;
    let (Some(i), Some(l)) = (&data.valid_images, &data.valid_labels) else { return Ok((t, None, image)) };
    let (v, vimage) = idx::load_idx(i, l)?;
    if vimage != image {
        return Err(err(i, format!("images are {vimage:?}, but {} holds {image:?}", path(&data.images).display())));
    }
    Ok((t, Some(v), image))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    train: Table,
    valid: Option<Table>,
    data: &crate::config::DataSection,
    seed: u64,
    train_path: PathBuf,
    valid_path: PathBuf,
    shape: crate::config::DataShape,
    unigram_perplexity: Option<f64>,
) -> Result<Dataset, TrainError> {
    let name = |p: &Path| if p.as_os_str().is_empty() { PathBuf::from("[data]") } else { p.to_path_buf() };
    let (train, valid, valid_path) = match (valid, data.valid_fraction) {
        (Some(v), _) => (train, Some(v), valid_path),
        (None, Some(f)) => {
            let (t, v) = split(&train, f, seed);
            if t.rows == 0 || v.rows == 0 {
                return Err(TrainError::Config {
                    path: name(&train_path),
                    msg: format!("[data] valid_fraction = {f} leaves an empty split of {} rows", train.rows),
                });
            }
            (t, Some(v), train_path.clone())
        }
        (None, None) => (train, None, valid_path),
    };
    Ok(Dataset { train, valid, train_path: name(&train_path), valid_path: name(&valid_path), shape, unigram_perplexity })
}

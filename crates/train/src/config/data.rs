//! `[data]`: where the rows come from, and that kind's keys.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::model::check_kind_keys;

/// Where `[data]` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// `train` (and `valid`) CSV files with a header; `targets` names the target columns.
    #[default]
    Csv,
    /// MNIST-style IDX files: `images` + `labels` (and `valid_images` + `valid_labels`).
    Idx,
    /// The bundled UCI 8×8 digits (1,797 images).
    Digits,
    /// The bundled 5,000-image MNIST sample.
    #[serde(rename = "mnist_5k")]
    Mnist5k,
    /// A MovieLens-style `user,item,rating` file, `train` (and `valid`).
    Ratings,
    /// Generated ratings: `users`, `items`, `rank`, `density`, `noise_std`.
    SyntheticRatings,
    /// A UTF-8 corpus `train`; rows = `context` previous characters → the next one.
    Text,
}

/// `[data]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    #[serde(default)]
    pub kind: DataKind,
    pub train: Option<PathBuf>,
    pub targets: Option<Vec<String>>,
    /// A separate validation file (same layout as `train`).
    pub valid: Option<PathBuf>,
    /// Or hold out this fraction of `train` (0 < f < 1), chosen from `seed` (text: the
    /// corpus's tail).
    pub valid_fraction: Option<f64>,
    /// idx: images `[N, H, W]` and labels `[N]` files (raw or gzip).
    pub images: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub valid_images: Option<PathBuf>,
    pub valid_labels: Option<PathBuf>,
    /// synthetic_ratings: the generator's parameters (its seed is the run's `seed`).
    pub users: Option<usize>,
    pub items: Option<usize>,
    pub rank: Option<usize>,
    pub density: Option<f64>,
    pub noise_std: Option<f64>,
    /// text: characters of context per row.
    pub context: Option<usize>,
}

impl DataSection {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            DataKind::Csv => "csv",
            DataKind::Idx => "idx",
            DataKind::Digits => "digits",
            DataKind::Mnist5k => "mnist_5k",
            DataKind::Ratings => "ratings",
            DataKind::SyntheticRatings => "synthetic_ratings",
            DataKind::Text => "text",
        }
    }

    /// Checks that only this kind's keys are given and its required ones are there.
    pub fn check_keys(&self) -> Result<(), String> {
        let given = [
            ("train", self.train.is_some()),
            ("targets", self.targets.is_some()),
            ("valid", self.valid.is_some()),
            ("valid_fraction", self.valid_fraction.is_some()),
            ("images", self.images.is_some()),
            ("labels", self.labels.is_some()),
            ("valid_images", self.valid_images.is_some()),
            ("valid_labels", self.valid_labels.is_some()),
            ("users", self.users.is_some()),
            ("items", self.items.is_some()),
            ("rank", self.rank.is_some()),
            ("density", self.density.is_some()),
            ("noise_std", self.noise_std.is_some()),
            ("context", self.context.is_some()),
        ];
        let (allowed, required): (&[&str], &[&str]) = match self.kind {
            DataKind::Csv => (&["train", "targets", "valid", "valid_fraction"], &["train", "targets"]),
            DataKind::Idx => (&["images", "labels", "valid_images", "valid_labels", "valid_fraction"], &["images", "labels"]),
            DataKind::Digits | DataKind::Mnist5k => (&["valid_fraction"], &[]),
            DataKind::Ratings => (&["train", "valid", "valid_fraction"], &["train"]),
            DataKind::SyntheticRatings => {
                (&["users", "items", "rank", "density", "noise_std", "valid_fraction"], &["users", "items", "rank", "density", "noise_std"])
            }
            DataKind::Text => (&["train", "context", "valid_fraction"], &["train", "context"]),
        };
        check_kind_keys("data", self.kind_name(), &given, allowed, required)?;
        if self.valid_images.is_some() != self.valid_labels.is_some() {
            return Err("[data] give valid_images and valid_labels together".into());
        }
        Ok(())
    }

    /// The target column names (csv); the single fixed target otherwise.
    pub fn target_names(&self) -> Vec<String> {
        self.targets.clone().unwrap_or_default()
    }
}

//! Datasets shipped inside the binary (files in the repository's `data/`, see its README for
//! origin and licence), so `[data] kind = "digits"` or `"mnist_5k"` works offline:
//!
//! - `digits`: the UCI / scikit-learn 8×8 handwritten digits, 1,797 images, pixels 0–16
//!   scaled to `[0, 1]` (÷ 16), CC BY 4.0.
//! - `mnist_5k`: 5,000 MNIST 28×28 images, pixels 0–255 scaled to `[0, 1]` (÷ 255),
//!   CC BY-SA 3.0.
//!
//! Both files are gzip CSVs without header: the pixel columns row-major, then the label.

use std::io::Read;
use std::path::Path;

use super::{err, Table};
use crate::error::TrainError;

/// A dataset shipped in the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundled {
    Digits,
    Mnist5k,
}

impl Bundled {
    pub fn name(self) -> &'static str {
        match self {
            Bundled::Digits => "digits",
            Bundled::Mnist5k => "mnist_5k",
        }
    }
    /// `[height, width]`.
    pub fn image(self) -> [usize; 2] {
        match self {
            Bundled::Digits => [8, 8],
            Bundled::Mnist5k => [28, 28],
        }
    }
    fn max_pixel(self) -> f64 {
        match self {
            Bundled::Digits => 16.0,
            Bundled::Mnist5k => 255.0,
        }
    }
    fn bytes(self) -> &'static [u8] {
        match self {
            Bundled::Digits => include_bytes!("../../../../data/digits.csv.gz"),
            Bundled::Mnist5k => include_bytes!("../../../../data/mnist_5k.csv.gz"),
        }
    }

    /// The whole dataset as a table (`px0…` features in `[0, 1]`, target `label`).
    pub fn load(self) -> Result<Table, TrainError> {
        let path = Path::new(self.name());
        let mut text = String::new();
        flate2::read::GzDecoder::new(self.bytes())
            .read_to_string(&mut text)
            .map_err(|e| err(path, format!("bundled data is corrupt ({e})")))?;
        parse_pixels_csv(&text, path, self.image(), self.max_pixel())
    }
}

/// Header-less CSV rows of `h·w` pixels then a label; pixels are divided by `max_pixel`.
pub fn parse_pixels_csv(text: &str, path: &Path, [h, w]: [usize; 2], max_pixel: f64) -> Result<Table, TrainError> {
    let cols = h * w + 1;
    let mut features = Vec::new();
    let mut targets = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let start = features.len();
        let mut n = 0;
        for (c, cell) in line.split(',').enumerate() {
            let v: f64 = cell.trim().parse().map_err(|_| err(path, format!("line {}, column {}: `{cell}` is not a number", i + 1, c + 1)))?;
            if c + 1 < cols {
                features.push(v / max_pixel);
            } else {
                targets.push(v);
            }
            n += 1;
        }
        if n != cols {
            features.truncate(start);
            return Err(err(path, format!("line {}: {n} cells, expected {cols} ({h}×{w} pixels and a label)", i + 1)));
        }
        lines.push(i + 1);
    }
    if lines.is_empty() {
        return Err(err(path, "no rows"));
    }
    Ok(Table {
        feature_names: (0..h * w).map(|i| format!("px{i}")).collect(),
        target_names: vec!["label".into()],
        features,
        targets,
        rows: lines.len(),
        lines,
    })
}

//! Next-character prediction from a UTF-8 corpus (`[data] kind = "text"`).
//!
//! The vocabulary is the corpus's distinct characters, sorted; each row's features are the
//! `context` previous character ids and its target the next character's id (for
//! `cross_entropy` and a `char_rnn` model). The held-out part is the *last*
//! `valid_fraction` of the text (targets there), not random windows, so validation
//! measures text the model has not read.

use std::path::Path;

use super::{err, Table};
use crate::error::TrainError;

/// A corpus as character ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    pub vocab: Vec<char>,
    pub ids: Vec<usize>,
}

impl Corpus {
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
        Self::from_bytes(bytes, path)
    }

    /// A file's bytes, which must be UTF-8; `path` only names the file in errors.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Self, TrainError> {
        let text = String::from_utf8(bytes).map_err(|e| err(path, format!("not UTF-8 text ({e})")))?;
        Ok(Self::from_text(&text))
    }

    pub fn from_text(text: &str) -> Self {
        let mut vocab: Vec<char> = text.chars().collect();
        vocab.sort_unstable();
        vocab.dedup();
        let ids = text.chars().map(|c| vocab.binary_search(&c).unwrap_or(0)).collect();
        Corpus { vocab, ids }
    }

    /// Rows predicting the characters at positions `targets` (each ≥ `context`).
    pub fn windows(&self, context: usize, targets: std::ops::Range<usize>) -> Table {
        let mut features = Vec::with_capacity(targets.len() * context);
        for t in targets.clone() {
            features.extend(self.ids[t - context..t].iter().map(|&c| c as f64));
        }
        Table {
            feature_names: (1..=context).map(|k| format!("c{k}")).collect(),
            target_names: vec!["next".into()],
            features,
            targets: self.ids[targets.clone()].iter().map(|&c| c as f64).collect(),
            rows: targets.len(),
            // "line" = 1-based character position of the target.
            lines: targets.map(|t| t + 1).collect(),
        }
    }

    /// Train windows and, with `valid_fraction`, windows over the text's tail.
    pub fn split(&self, context: usize, valid_fraction: Option<f64>, path: &Path) -> Result<(Table, Option<Table>), TrainError> {
        let n = self.ids.len();
        if context == 0 {
            return Err(err(path, "[data] context must be at least 1"));
        }
        let first = context;
        let cut = match valid_fraction {
            Some(f) => n - ((n as f64) * f).round() as usize,
            None => n,
        };
        if cut <= first + 1 || (valid_fraction.is_some() && cut >= n) {
            return Err(err(
                path,
                format!("{n} characters are too few for context = {context} with valid_fraction = {valid_fraction:?}"),
            ));
        }
        let train = self.windows(context, first..cut);
        let valid = valid_fraction.map(|_| self.windows(context, cut.max(first)..n));
        Ok((train, valid))
    }
}

/// Perplexity of the unigram model fitted on `train`'s targets (add-one smoothed over
/// `vocab` characters), on `eval`'s targets: `exp(−mean log p(c))`.
pub fn unigram_perplexity(train: &Table, eval: &Table, vocab: usize) -> f64 {
    let mut counts = vec![1.0f64; vocab];
    for &t in &train.targets {
        counts[t as usize] += 1.0;
    }
    let total: f64 = counts.iter().sum();
    let nll: f64 = eval.targets.iter().map(|&t| -(counts[t as usize] / total).ln()).sum::<f64>() / eval.rows as f64;
    nll.exp()
}

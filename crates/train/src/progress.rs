//! Progress on stderr: an indicatif bar per epoch on a terminal, one plain line per epoch
//! otherwise, nothing when quiet.

use std::io::IsTerminal;

use crate::metrics::EpochRecord;

/// An indicatif bar per epoch on a terminal; one plain line per epoch otherwise.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self { bar, quiet }
    }
    pub fn start_epoch(&self, epoch: u64, steps: u64) {
        if let Some(b) = &self.bar {
            b.reset();
            b.set_length(steps);
            b.set_prefix(format!("epoch {epoch}"));
        }
    }
    pub fn step(&self, loss: f64, lr: f64) {
        if let Some(b) = &self.bar {
            b.inc(1);
            if b.position() % 16 == 1 || b.position() == b.length().unwrap_or(0) {
                b.set_message(format!("loss {loss:.4e} lr {lr:.3e}"));
            }
        }
    }
    pub fn end_epoch(&self, rec: &EpochRecord, epochs: u64) {
        let mut line = format!("epoch {:>4}/{epochs}  train_loss {:.6e}  lr {:.3e}", rec.epoch, rec.train_loss, rec.lr);
        if let Some(v) = rec.valid_loss {
            line.push_str(&format!("  valid_loss {v:.6e}"));
        }
        if let Some(a) = rec.valid_accuracy {
            line.push_str(&format!("  valid_acc {:.2}%", a * 100.0));
        }
        if let Some(p) = rec.valid_perplexity {
            line.push_str(&format!("  valid_ppl {p:.4}"));
        }
        match &self.bar {
            Some(b) => b.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

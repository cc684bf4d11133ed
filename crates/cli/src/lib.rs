//! descent-cli: the `descent` command, thin over the libraries.
//!
//! | command | module | library underneath |
//! |---|---|---|
//! | `descent train` | `main.rs` (+ [`plot::plot_run`] for the run's charts) | [`descent_train::train`] |
//! | `descent schedule` | [`schedule`] | [`descent_optim::schedule`] |
//! | `descent lr-find` | [`lr_find`] | [`descent_train::lr_find`] |
//! | `descent compare` | [`compare`] | [`descent_train::train`] per seed |
//! | `descent bench` | [`bench`](mod@bench) | descent-optim's and Burn's optimizers, descent-model's MLP; `--apps`: [`descent_train::train`] |
//! | `descent plot` | [`plot`] | `metrics.jsonl` |
//!
//! Everything that turns numbers into files a person reads — SVG charts, the compare report,
//! the bench table — lives here, so that a Burn project importing the libraries pulls in no
//! plotting or argument parsing.

pub mod bench;
pub mod compare;
pub mod lr_find;
pub mod plot;
pub mod resume;
pub mod schedule;

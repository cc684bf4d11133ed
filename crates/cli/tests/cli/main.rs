//! descent-cli's tests: one binary (linking the Burn + wgpu stack once), a module per subject.
//! Each drives the `descent` binary end to end or the command modules of the library.

mod averaging;
mod bad_inputs;
mod bench;
mod bench_apps;
mod cli;
mod common;
mod integrity;
mod owner;
mod plot_compare;
mod optimizer_kinds;
mod resume;
mod schedule_lrfind;

//! descent-train's own integration tests, one binary (each binary is a link of the whole
//! Burn stack). f64_runs.rs stays a binary of its own: a device's float dtype is set once
//! per process, and these tests run in f32 on the same `cpu` device.

mod apps;
mod classify;
mod fuzz;
mod memory;
mod timings;

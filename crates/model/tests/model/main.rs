//! descent-model's integration tests, one binary (see docs/testing.md). Every test that
//! touches a device runs it in f64: Burn fixes a device's float dtype once per process.

// descent's convolution and pool kernels exist with the crate's `flex` feature (on in the workspace).
#[cfg(feature = "flex")]
mod conv;
mod common;
mod fast_math;
mod linear;
#[cfg(feature = "flex")]
mod max_pool;
mod recurrent;

//! descent-model's integration tests, one binary (see docs/testing.md). Every test that
//! touches a device runs it in f64: Burn fixes a device's float dtype once per process.

mod fast_math;
mod recurrent;

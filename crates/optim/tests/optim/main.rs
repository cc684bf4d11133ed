//! descent-optim's integration tests, one binary: PyTorch parity fixtures for every optimizer
//! and schedule, clipping, records and torch's validation messages.

mod adaptive;
mod averaged;
mod clip;
mod common;
mod more;
mod lbfgs;
mod schedule_free;
mod schedules;
mod schedules_more;
mod sgd;

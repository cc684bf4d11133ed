use std::path::PathBuf;

/// Everything a run can fail on. Each message names the file and the key or line at fault.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{path}: {msg}")]
    Config { path: PathBuf, msg: String },
    #[error("{path}: {msg}")]
    Data { path: PathBuf, msg: String },
    #[error(transparent)]
    Model(#[from] descent_model::ModelError),
    #[error("{0}")]
    Device(String),
    #[error("{path}: {msg}")]
    Output { path: PathBuf, msg: String },
    #[error("{0}")]
    Diverged(String),
    /// `--resume` on a run that has finished: nothing to do (the CLI exits 0).
    #[error("{}: this run is already complete (metrics.jsonl exists); nothing to resume", .0.display())]
    AlreadyComplete(PathBuf),
    /// SIGTERM or SIGINT stopped the run after a step; `checkpoint` holds everything to resume.
    #[error("stopped by {signal} after step {step}; checkpoint {}", checkpoint.display())]
    Interrupted { signal: &'static str, signo: i32, step: u64, checkpoint: PathBuf },
}

impl TrainError {
    /// The process exit status this error calls for: 128 + the signal number for an
    /// interruption (143 for SIGTERM, 130 for SIGINT), 0 for a run already complete, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            TrainError::Interrupted { signo, .. } => (128 + signo) as u8,
            TrainError::AlreadyComplete(_) => 0,
            _ => 1,
        }
    }
}

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
}

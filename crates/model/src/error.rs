use std::path::PathBuf;

/// Everything that can go wrong while building a model or loading its weights.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model config: {0}")]
    Config(String),
    #[error("{path}: cannot read weights: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: tensor `{name}` is missing (expected shape {expected:?}, PyTorch layout)")]
    MissingTensor { path: PathBuf, name: String, expected: Vec<usize> },
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected:?} (PyTorch layout)")]
    Shape { path: PathBuf, name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("{path}: tensor `{name}` has dtype {found}, expected a float tensor (f16, bf16, f32 or f64)")]
    DType { path: PathBuf, name: String, found: String },
    #[error("{path}: unexpected tensor `{name}`: this model has no such parameter (it expects {expected})")]
    Unexpected { path: PathBuf, name: String, expected: String },
    #[error("{path}: cannot write weights: {reason}")]
    Write { path: PathBuf, reason: String },
}

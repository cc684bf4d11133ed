/// Invalid optimizer or scheduler arguments. Messages follow PyTorch's wording where
/// PyTorch has one, so a ported script fails the same way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    #[error("{0}")]
    Invalid(String),
}

impl OptimError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        OptimError::Invalid(msg.into())
    }
}

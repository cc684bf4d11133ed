//! PyTorch weights in and out, through safetensors.
//!
//! A model names its tensors in PyTorch layout ([`Mlp::torch_layout`]); the file's header is
//! checked against that list first so a wrong name or shape is reported by tensor name,
//! then burn-store's `SafetensorsStore` + `PyTorchToBurnAdapter` does the loading (it
//! transposes `nn.Linear` weights from `[out, in]` to Burn's `[in, out]`), with a cast to the
//! device's float dtype so an f32 checkpoint can seed an f64 run and vice versa.

use std::path::Path;

use burn::module::Module;
use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::DType;
use safetensors::{Dtype, SafeTensors};

use crate::{Mlp, ModelError};

/// Loads `path` (a torch `state_dict` saved with safetensors) into `model`.
pub fn load_safetensors(model: Mlp, path: &Path) -> Result<Mlp, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::Read { path: path.to_path_buf(), reason: e.to_string() })?;
    load_safetensors_bytes(model, bytes, path)
}

/// [`load_safetensors`] from the file's bytes; `path` only names the file in errors.
pub fn load_safetensors_bytes(model: Mlp, bytes: Vec<u8>, path: &Path) -> Result<Mlp, ModelError> {
    let read_err = |reason: String| ModelError::Read { path: path.to_path_buf(), reason };
    let file = SafeTensors::deserialize(&bytes).map_err(|e| read_err(format!("not a safetensors file ({e})")))?;

    let expected = model.torch_layout();
    for (name, shape) in &expected {
        let view = file.tensor(name).map_err(|_| ModelError::MissingTensor {
            path: path.to_path_buf(),
            name: name.clone(),
            expected: shape.clone(),
        })?;
        if !matches!(view.dtype(), Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64) {
            return Err(ModelError::DType {
                path: path.to_path_buf(),
                name: name.clone(),
                found: format!("{:?}", view.dtype()),
            });
        }
        if view.shape() != shape.as_slice() {
            return Err(ModelError::Shape {
                path: path.to_path_buf(),
                name: name.clone(),
                found: view.shape().to_vec(),
                expected: shape.clone(),
            });
        }
    }
    let mut names: Vec<String> = file.names().into_iter().map(str::to_string).collect();
    names.sort();
    if let Some(extra) = names.iter().find(|n| !expected.iter().any(|(e, _)| e == *n)) {
        return Err(ModelError::Unexpected {
            path: path.to_path_buf(),
            name: extra.clone(),
            expected: expected.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "),
        });
    }

    let dtype: DType = model.layers[0].weight.val().dtype();
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(dtype)));
    let mut model = model;
    let result = model.load_from(&mut store).map_err(|e| read_err(e.to_string()))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(read_err(format!("{result}")));
    }
    Ok(model)
}

/// Saves `model` as a torch-loadable `state_dict` (PyTorch layout, the model's dtype).
/// A [`Model`](crate::Model) is saved as the network it holds (no variant prefix).
pub fn save_safetensors(model: &crate::Model, path: &Path) -> Result<(), ModelError> {
    match model {
        crate::Model::Mlp(m) => save_module(m, path),
        crate::Model::Cnn(m) => save_module(m, path),
        crate::Model::Mf(m) => save_module(m, path),
        crate::Model::CharRnn(m) => save_module(m, path),
    }
}

/// Saves any module in PyTorch layout (linear weights transposed to `[out, in]`).
pub fn save_module<M: Module>(model: &M, path: &Path) -> Result<(), ModelError> {
    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(burn::store::BurnToPyTorchAdapter)
        // burn-store's default metadata is a HashMap, serialised in random order; one key
        // keeps the file byte-identical between identical runs.
        .clear_metadata()
        .metadata("producer", "descent")
        .overwrite(true);
    model
        .clone()
        .no_grad()
        .save_into(&mut store)
        .map_err(|e| ModelError::Write { path: path.to_path_buf(), reason: e.to_string() })
}

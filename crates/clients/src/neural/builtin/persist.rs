//! Saving and loading a trained network: one safetensors file holding every layer's weight and
//! bias (`layer{i}.weight`, `layer{i}.bias`) and the standardisation (`inputs.mean`,
//! `inputs.std`, `outputs.mean`, `outputs.std`, as f64). The architecture is read back from the
//! weights' shapes. Saving writes a temporary file next to the target and renames it over it.
//!
//! Loading opens only a regular file (a device such as `/dev/zero` would never end, a FIFO
//! would block the thread until a writer comes), checked by `stat` before opening and by
//! `fstat` after (in case the path was swapped in between; on Unix the file is opened with
//! `O_NONBLOCK`, so that even then opening a FIFO does not block), and reads it through
//! `model_file.rs`, header before body.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{DType, Device, Tensor};
use candle_nn::Linear;

use super::data::Standardizer;
use super::mlp::Mlp;
use super::model_file;
use super::Trained;
use crate::neural::error::NeuralError;

pub(crate) fn save(trained: &Trained, path: &Path) -> Result<(), NeuralError> {
    let device = Device::Cpu;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (i, layer) in trained.mlp.layers.iter().enumerate() {
        tensors.insert(format!("layer{i}.weight"), layer.weight().clone());
        if let Some(bias) = layer.bias() {
            tensors.insert(format!("layer{i}.bias"), bias.clone());
        }
    }
    for (prefix, s) in [("inputs", &trained.inputs), ("outputs", &trained.outputs)] {
        tensors.insert(
            format!("{prefix}.mean"),
            Tensor::new(s.mean.as_slice(), &device)?,
        );
        tensors.insert(
            format!("{prefix}.std"),
            Tensor::new(s.std.as_slice(), &device)?,
        );
    }
    // Written next to `path`, then renamed over it: a reader (or a crash) never sees half a
    // file, and a failed save leaves the previous file as it was.
    let temp = temp_path(path);
    let written = candle_core::safetensors::save(&tensors, &temp)
        .map_err(|e| io_error("cannot write", &temp, e))
        .and_then(|()| {
            std::fs::rename(&temp, path).map_err(|e| io_error("cannot rename to", path, e))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// `path` with `.{pid}-{n}.tmp` appended, in the same directory (so that renaming is atomic).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{}-{n}.tmp", std::process::id()));
    PathBuf::from(name)
}

fn io_error(what: &str, path: &Path, e: impl fmt::Display) -> NeuralError {
    NeuralError::Io(format!("{what} {}: {e}", path.display()))
}

fn all_finite(tensor: &Tensor) -> Result<bool, NeuralError> {
    Ok(tensor
        .flatten_all()?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?
        .iter()
        .all(|v| v.is_finite()))
}

fn take(tensors: &mut HashMap<String, Tensor>, name: &str) -> Result<Tensor, NeuralError> {
    tensors
        .remove(name)
        .ok_or_else(|| NeuralError::InvalidModelFile(format!("it has no tensor `{name}`")))
}

fn standardizer(
    tensors: &mut HashMap<String, Tensor>,
    prefix: &str,
) -> Result<Standardizer, NeuralError> {
    let mean = take(tensors, &format!("{prefix}.mean"))?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?;
    let std = take(tensors, &format!("{prefix}.std"))?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?;
    if mean.is_empty()
        || mean.len() != std.len()
        || mean.iter().any(|m| !m.is_finite())
        || std.iter().any(|s| !(s.is_finite() && *s > 0.0))
    {
        return Err(NeuralError::InvalidModelFile(format!(
            "its `{prefix}` standardisation is malformed"
        )));
    }
    Ok(Standardizer { mean, std })
}

/// The bytes of the model file at `path`: a regular file, header first (see the module doc).
fn read_file(path: &Path) -> Result<Vec<u8>, NeuralError> {
    let not_regular = || NeuralError::InvalidModelFile("it is not a regular file".into());
    let metadata = std::fs::metadata(path).map_err(|e| io_error("cannot read", path, e))?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut open, libc::O_NONBLOCK);
    let mut file = open
        .open(path)
        .map_err(|e| io_error("cannot read", path, e))?;
    let metadata = file
        .metadata()
        .map_err(|e| io_error("cannot read", path, e))?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    model_file::read_model_bytes(&mut file, metadata.len())
}

pub(crate) fn load(path: &Path) -> Result<Trained, NeuralError> {
    let bytes = read_file(path)?;
    let mut tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
        .map_err(|e| NeuralError::InvalidModelFile(e.to_string()))?;
    let inputs = standardizer(&mut tensors, "inputs")?;
    let outputs = standardizer(&mut tensors, "outputs")?;
    let mut layers = Vec::new();
    let mut width = inputs.dim();
    while let Some(weight) = tensors.remove(&format!("layer{}.weight", layers.len())) {
        let weight = weight.to_dtype(DType::F32)?;
        let (out_dim, in_dim) = weight
            .dims2()
            .map_err(|_| NeuralError::InvalidModelFile("a weight is not a matrix".into()))?;
        if in_dim != width {
            return Err(NeuralError::InvalidModelFile(format!(
                "layer {} takes {in_dim} inputs but the layer before gives {width}",
                layers.len()
            )));
        }
        let bias =
            take(&mut tensors, &format!("layer{}.bias", layers.len()))?.to_dtype(DType::F32)?;
        if bias.dims() != [out_dim] {
            return Err(NeuralError::InvalidModelFile(
                "a bias does not match its weight".into(),
            ));
        }
        if !(all_finite(&weight)? && all_finite(&bias)?) {
            return Err(NeuralError::InvalidModelFile(format!(
                "layer {} holds a value that is not a finite number",
                layers.len()
            )));
        }
        layers.push(Linear::new(weight, Some(bias)));
        width = out_dim;
    }
    if layers.is_empty() || width != outputs.dim() {
        return Err(NeuralError::InvalidModelFile(
            "its layers do not end in the saved output dimension".into(),
        ));
    }
    Ok(Trained {
        mlp: Mlp { layers },
        inputs,
        outputs,
    })
}

//! Reading a model file within bounds, before candle sees it.
//!
//! `load(path)` used to read the whole file and then ask candle whether it was a model: a path
//! to `/dev/zero` read without end (the process grew until the kernel killed it), a FIFO never
//! settled, and a 300 MB file that is not a model was read whole before it was refused. Here a
//! safetensors file is read in its own order: the 8-byte little-endian length of the JSON
//! header, the header (at most [`MAX_HEADER_BYTES`]), and only if the header describes tensors
//! this library saves (`F32` / `F64`, shapes and offsets that agree) whose data end exactly
//! where the file ends, within [`MAX_MODEL_FILE_BYTES`], the body. Anything else is
//! `ERR_MODEL_FILE` after reading at most the header. The caller opens only regular files
//! (`persist.rs`).

use std::io::Read;

use serde_json::Value;

use crate::neural::error::NeuralError;

/// The longest JSON header read: 64 KiB. A saved model's header lists at most 36 tensors
/// (16 layers' weights and biases, and the standardisation) in about 100 bytes each.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024;

/// The largest model file read: 512 MiB. The largest network this library trains
/// ([`super::MAX_PARAMETERS`] f32 weights: 64 MB) with the widest standardisation it allows
/// (f64 means and spreads of at most as many inputs and outputs: 256 MB) stays below it.
pub const MAX_MODEL_FILE_BYTES: u64 = 512 * 1024 * 1024;

fn refuse(why: impl Into<String>) -> NeuralError {
    NeuralError::InvalidModelFile(why.into())
}

/// The header's length from the file's first 8 bytes, checked against the cap and the file's
/// length (`file_len`, from its metadata).
pub fn header_length(prefix: [u8; 8], file_len: u64) -> Result<u64, NeuralError> {
    let n = u64::from_le_bytes(prefix);
    if !(2..=MAX_HEADER_BYTES).contains(&n) {
        return Err(refuse(format!(
            "its header length ({n} bytes) is not that of a saved model (2 to {MAX_HEADER_BYTES})"
        )));
    }
    if n > file_len.saturating_sub(8) {
        return Err(refuse("it is shorter than its header says"));
    }
    Ok(n)
}

/// Whether `name` is one of the tensors `persist.rs` saves.
fn is_model_tensor(name: &str) -> bool {
    const STANDARDISATION: [&str; 4] = ["inputs.mean", "inputs.std", "outputs.mean", "outputs.std"];
    if STANDARDISATION.contains(&name) {
        return true;
    }
    let Some(rest) = name.strip_prefix("layer") else {
        return false;
    };
    let digits = rest.find('.').unwrap_or(rest.len());
    let (index, kind) = rest.split_at(digits);
    !index.is_empty()
        && index.len() <= 2
        && index.bytes().all(|b| b.is_ascii_digit())
        && (kind == ".weight" || kind == ".bias")
}

/// The length of the data the JSON `header` describes: only the tensors this library saves
/// (`layer{i}.weight`, `layer{i}.bias`, the standardisation), each `F32` or `F64`, its
/// `data_offsets` `[begin, end]` as long as its shape says. `__metadata__` is allowed.
pub fn body_length(header: &[u8]) -> Result<u64, NeuralError> {
    let header: Value =
        serde_json::from_slice(header).map_err(|_| refuse("its header is not JSON"))?;
    let Value::Object(entries) = header else {
        return Err(refuse("its header is not a JSON object"));
    };
    let mut end_of_data = 0_u64;
    for (name, entry) in &entries {
        if name == "__metadata__" {
            continue;
        }
        let bad = || refuse("its header lists a tensor that is not one of a saved model");
        if !is_model_tensor(name) {
            return Err(bad());
        }
        let size: u64 = match entry.get("dtype").and_then(Value::as_str) {
            Some("F32") => 4,
            Some("F64") => 8,
            _ => return Err(bad()),
        };
        let shape = entry
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(bad)?;
        let mut bytes = size;
        for dim in shape {
            let dim = dim.as_u64().ok_or_else(bad)?;
            bytes = bytes.checked_mul(dim).ok_or_else(bad)?;
        }
        let offsets = entry
            .get("data_offsets")
            .and_then(Value::as_array)
            .ok_or_else(bad)?;
        let [begin, end] = offsets.as_slice() else {
            return Err(bad());
        };
        let (begin, end) = (
            begin.as_u64().ok_or_else(bad)?,
            end.as_u64().ok_or_else(bad)?,
        );
        if end < begin || end - begin != bytes {
            return Err(bad());
        }
        end_of_data = end_of_data.max(end);
    }
    Ok(end_of_data)
}

/// The whole file from `reader` (positioned at its start; `file_len` bytes long by its
/// metadata), or `ERR_MODEL_FILE` after reading at most 8 bytes and the header.
pub fn read_model_bytes(reader: &mut impl Read, file_len: u64) -> Result<Vec<u8>, NeuralError> {
    if file_len > MAX_MODEL_FILE_BYTES {
        return Err(refuse(format!(
            "it is {file_len} bytes long, more than a model's {MAX_MODEL_FILE_BYTES}"
        )));
    }
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => refuse("it ends before its header says"),
        _ => NeuralError::Io(format!("cannot read the model file: {e}")),
    };
    let mut prefix = [0_u8; 8];
    reader.read_exact(&mut prefix).map_err(io)?;
    let n = header_length(prefix, file_len)?;
    let mut bytes = vec![0_u8; 8 + n as usize];
    bytes[..8].copy_from_slice(&prefix);
    reader.read_exact(&mut bytes[8..]).map_err(io)?;
    let body = body_length(&bytes[8..])?;
    if (8 + n).checked_add(body) != Some(file_len) {
        return Err(refuse(format!(
            "its header describes {body} bytes of data but the file holds {}",
            file_len - 8 - n
        )));
    }
    bytes.resize((8 + n + body) as usize, 0);
    reader
        .read_exact(&mut bytes[8 + n as usize..])
        .map_err(io)?;
    Ok(bytes)
}

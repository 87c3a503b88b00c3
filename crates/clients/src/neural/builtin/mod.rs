//! The built-in model: a small feed-forward regressor (multi-layer perceptron) trained with
//! candle-nn (AdamW, mean squared error), with inputs and labels standardised from the training
//! data. Trained weights and the standardisation are saved together in one safetensors file.
//! Training is repeatable: the initial weights and the batch order come from a fixed-seed
//! generator, so the same data and options give the same model.
//!
//! Why candle-nn: a well-kept ML crate does the tensor algebra and the gradients; this module
//! only chooses the architecture, the data handling and the persistence format. Measured cost
//! here (`cargo build --release -p candle-nn --timings`, clean, 2 cores): 2 min 23 s of wall
//! time, 259 s of compile units, chiefly candle-core 68 s, tokenizers 42 s (a dependency
//! candle-core 0.11 always pulls in, for its quantized models) and candle-nn 12 s; and about
//! 3.5 MB added to the stripped binary.

mod data;
mod mlp;
pub mod model_file;
mod persist;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

pub use data::{
    TrainOptions, TrainReport, MAX_CELLS, MAX_EPOCHS, MAX_HIDDEN, MAX_LAYERS, MAX_PARAMETERS,
};

use crate::neural::error::NeuralError;
use data::{Dataset, Standardizer};
use mlp::Mlp;

/// Checks training data (shape, finite values) and options (ranges, network size) without
/// training: `ERR_INVALID_ARG_VALUE` or `ERR_OUT_OF_RANGE`.
pub fn check_training(
    data: &[Vec<f64>],
    labels: &[Vec<f64>],
    options: &TrainOptions,
) -> Result<(), NeuralError> {
    options
        .validate()
        .map_err(|e| NeuralError::InvalidOption(e.to_string()))?;
    Dataset::new(data, labels)?.check_size(options)
}

/// A trained network and the standardisation it was trained with.
#[derive(Debug)]
pub(crate) struct Trained {
    pub(crate) mlp: Mlp,
    pub(crate) inputs: Standardizer,
    pub(crate) outputs: Standardizer,
}

impl Trained {
    pub(crate) fn input_dim(&self) -> usize {
        self.inputs.dim()
    }

    pub(crate) fn output_dim(&self) -> usize {
        self.outputs.dim()
    }

    /// Checks one row of features: the input dimension, finite values, and values whose
    /// standardised form fits the network's f32 (a feature 1e39 times the training data's
    /// spread does not: `ERR_OUT_OF_RANGE`).
    pub(crate) fn check_input(&self, features: &[f64]) -> Result<(), NeuralError> {
        if features.len() != self.input_dim() {
            return Err(NeuralError::InputDimension {
                expected: self.input_dim(),
                got: features.len(),
            });
        }
        if features.iter().any(|v| !v.is_finite()) {
            return Err(NeuralError::InvalidInput(
                "features must be finite numbers".into(),
            ));
        }
        let standardised = features
            .iter()
            .zip(&self.inputs.mean)
            .zip(&self.inputs.std)
            .map(|((v, m), s)| ((v - m) / s) as f32);
        if let Some(i) = standardised.into_iter().position(|v| !v.is_finite()) {
            return Err(NeuralError::InputOutOfRange(format!(
                "feature {i} ({}) is too far outside the training data for the model",
                features[i]
            )));
        }
        Ok(())
    }

    /// One prediction per row of `rows`, in the labels' own units.
    pub(crate) fn predict(&self, rows: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, NeuralError> {
        let x = self.inputs.apply_rows(rows);
        let y = self.mlp.predict(&x, rows.len(), self.input_dim())?;
        Ok(y.into_iter().map(|row| self.outputs.revert(&row)).collect())
    }
}

/// The built-in model of one [`crate::neural::NeuralCircuitBreaker`]: empty until trained or
/// loaded. Training builds a new network and swaps it in when done, so predictions keep using
/// the previous one meanwhile.
#[derive(Debug, Default)]
pub struct BuiltinModel {
    trained: RwLock<Option<Arc<Trained>>>,
}

impl BuiltinModel {
    /// An untrained model.
    pub fn new() -> Self {
        Self::default()
    }

    /// The dimensions `(inputs, outputs)` of the trained network, if there is one.
    pub fn dims(&self) -> Option<(usize, usize)> {
        self.trained
            .read()
            .as_ref()
            .map(|t| (t.input_dim(), t.output_dim()))
    }

    pub(crate) fn current(&self) -> Result<Arc<Trained>, NeuralError> {
        self.trained.read().clone().ok_or(NeuralError::NotTrained)
    }

    /// Checks `features` against the trained network without running it.
    pub fn check_input(&self, features: &[f64]) -> Result<(), NeuralError> {
        self.current()?.check_input(features)
    }

    /// Trains a new network on `data` / `labels` (blocking: run it off the async threads).
    /// `cancel` stops training between epochs; the model is then left as it was.
    pub fn train_blocking(
        &self,
        data: &[Vec<f64>],
        labels: &[Vec<f64>],
        options: &TrainOptions,
        cancel: &AtomicBool,
    ) -> Result<TrainReport, NeuralError> {
        options
            .validate()
            .map_err(|e| NeuralError::InvalidOption(e.to_string()))?;
        let dataset = Dataset::new(data, labels)?;
        dataset.check_size(options)?;
        let (trained, report) = mlp::train(&dataset, options, cancel)?;
        if cancel.load(Ordering::Acquire) {
            return Err(NeuralError::Cancelled);
        }
        *self.trained.write() = Some(Arc::new(trained));
        Ok(report)
    }

    /// Saves the trained network to `path` (safetensors).
    pub fn save(&self, path: &Path) -> Result<(), NeuralError> {
        persist::save(&*self.current()?, path)
    }

    /// Replaces the network with the one saved at `path`.
    pub fn load(&self, path: &Path) -> Result<(), NeuralError> {
        // A foreign file might reach a corner of candle that panics: it is refused all the same.
        let trained = std::panic::catch_unwind(|| persist::load(path)).unwrap_or_else(|_| {
            Err(NeuralError::InvalidModelFile(
                "its tensors cannot be read".into(),
            ))
        })?;
        *self.trained.write() = Some(Arc::new(trained));
        Ok(())
    }
}

//! The built-in model: a small feed-forward regressor (multi-layer perceptron) trained with
//! candle-nn (AdamW, mean squared error), with inputs and labels standardised from the training
//! data. Trained weights and the standardisation are saved together in one safetensors file.
//!
//! Why candle-nn: a well-kept ML crate does the tensor algebra and the gradients; this module
//! only chooses the architecture, the data handling and the persistence format. Measured cost
//! here: the crate adds about 3 minutes to a clean single-job release build on 2 cores and
//! about 3.5 MB to the stripped binary.

mod data;
mod mlp;
mod persist;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

pub use data::{TrainOptions, TrainReport};

/// Checks the shape and values of training data without training.
pub fn validate_training_data(data: &[Vec<f64>], labels: &[Vec<f64>]) -> Result<(), NeuralError> {
    Dataset::new(data, labels).map(|_| ())
}

use crate::neural::error::NeuralError;
use data::{Dataset, Standardizer};
use mlp::Mlp;

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
        let trained = self.current()?;
        if features.len() != trained.input_dim() {
            return Err(NeuralError::InputDimension {
                expected: trained.input_dim(),
                got: features.len(),
            });
        }
        if features.iter().any(|v| !v.is_finite()) {
            return Err(NeuralError::InvalidInput(
                "features must be finite numbers".into(),
            ));
        }
        Ok(())
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
        let dataset = Dataset::new(data, labels)?;
        options.validate()?;
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
        let trained = persist::load(path)?;
        *self.trained.write() = Some(Arc::new(trained));
        Ok(())
    }
}

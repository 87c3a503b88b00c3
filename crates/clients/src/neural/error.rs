//! Errors of the neural breaker, each with a stable code.

use std::fmt;

use neural_trader_resilience::{CircuitBreakerError, Outcome};

use crate::http::ApiError;

/// Why a prediction or a training did not happen.
#[derive(Debug)]
pub enum NeuralError {
    /// The built-in model has not been trained or loaded yet (`ERR_MODEL_NOT_TRAINED`).
    NotTrained,
    /// The features do not have the model's input dimension (`ERR_INPUT_DIMENSION`, a
    /// `RangeError` in JS). Refused before the breaker: it does not trip.
    InputDimension {
        /// The model's input dimension.
        expected: usize,
        /// The number of features given.
        got: usize,
    },
    /// Features that are not finite numbers (`ERR_INVALID_ARG_VALUE`).
    InvalidInput(String),
    /// A feature too far outside the training data for the network's f32 arithmetic
    /// (`ERR_OUT_OF_RANGE`, a `RangeError` in JS). Refused before the breaker.
    InputOutOfRange(String),
    /// Training data of the wrong shape or with non-finite values (`ERR_INVALID_ARG_VALUE`).
    InvalidTrainingData(String),
    /// An option out of range: a training option, a timeout, a network too big
    /// (`ERR_OUT_OF_RANGE`, a `RangeError` in JS).
    InvalidOption(String),
    /// The model produced NaN or an infinite value (`ERR_MODEL_NON_FINITE`); trips the breaker.
    NonFinite(String),
    /// The tensor computation failed (`ERR_MODEL_COMPUTE`); trips the breaker.
    Compute(String),
    /// A remote model answered something the protocol does not allow (`ERR_MODEL_RESPONSE`);
    /// trips the breaker.
    BadResponse(String),
    /// The remote call failed: the HTTP layer's error and code (`ERR_HTTP_*`, or the breaker's
    /// `ERR_CIRCUIT_OPEN` / `ERR_CIRCUIT_TIMEOUT`).
    Remote(ApiError),
    /// The breaker refused or timed out a built-in call (`ERR_CIRCUIT_OPEN` /
    /// `ERR_CIRCUIT_TIMEOUT`).
    Circuit(CircuitBreakerError),
    /// Saving or loading a model file failed (`ERR_MODEL_IO`).
    Io(String),
    /// A model file that is not one this breaker saved (`ERR_MODEL_FILE`).
    InvalidModelFile(String),
    /// The backend cannot do this (training a remote model: `ERR_NOT_SUPPORTED`).
    Unsupported(String),
    /// Training was stopped before it ended (the breaker's deadline passed).
    Cancelled,
}

impl NeuralError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            NeuralError::NotTrained => "ERR_MODEL_NOT_TRAINED",
            NeuralError::InputDimension { .. } => "ERR_INPUT_DIMENSION",
            NeuralError::InvalidInput(_) | NeuralError::InvalidTrainingData(_) => {
                "ERR_INVALID_ARG_VALUE"
            }
            NeuralError::InvalidOption(_) | NeuralError::InputOutOfRange(_) => "ERR_OUT_OF_RANGE",
            NeuralError::NonFinite(_) => "ERR_MODEL_NON_FINITE",
            NeuralError::Compute(_) => "ERR_MODEL_COMPUTE",
            NeuralError::BadResponse(_) => "ERR_MODEL_RESPONSE",
            NeuralError::Remote(e) => e.code(),
            NeuralError::Circuit(e) => e.code(),
            NeuralError::Io(_) => "ERR_MODEL_IO",
            NeuralError::InvalidModelFile(_) => "ERR_MODEL_FILE",
            NeuralError::Unsupported(_) => "ERR_NOT_SUPPORTED",
            NeuralError::Cancelled => "ERR_CIRCUIT_TIMEOUT",
        }
    }

    /// What this error means for the breaker when a call ends with it.
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            NeuralError::NonFinite(_)
            | NeuralError::Compute(_)
            | NeuralError::BadResponse(_)
            | NeuralError::Cancelled => Outcome::Failure,
            NeuralError::Remote(e) => crate::http::classify::error_outcome(e),
            _ => Outcome::Ignored,
        }
    }
}

impl fmt::Display for NeuralError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NeuralError::NotTrained => f.write_str("the model has not been trained or loaded yet"),
            NeuralError::InputDimension { expected, got } => {
                write!(f, "the model takes {expected} features, got {got}")
            }
            NeuralError::InvalidInput(m)
            | NeuralError::InvalidTrainingData(m)
            | NeuralError::InvalidOption(m)
            | NeuralError::InputOutOfRange(m)
            | NeuralError::NonFinite(m)
            | NeuralError::Compute(m)
            | NeuralError::BadResponse(m)
            | NeuralError::Io(m)
            | NeuralError::Unsupported(m) => f.write_str(m),
            NeuralError::InvalidModelFile(m) => write!(f, "not a model file of this library: {m}"),
            NeuralError::Remote(e) => e.fmt(f),
            NeuralError::Circuit(e) => e.fmt(f),
            NeuralError::Cancelled => f.write_str("training was stopped before it ended"),
        }
    }
}

impl std::error::Error for NeuralError {}

impl From<candle_core::Error> for NeuralError {
    fn from(e: candle_core::Error) -> Self {
        NeuralError::Compute(e.to_string())
    }
}

impl From<ApiError> for NeuralError {
    fn from(e: ApiError) -> Self {
        NeuralError::Remote(e)
    }
}

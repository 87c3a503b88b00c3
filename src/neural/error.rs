//! `NeuralError` as JavaScript errors: `RangeError` `ERR_INPUT_DIMENSION` (with `expected`
//! and `received`) and `ERR_OUT_OF_RANGE`, `TypeError` for bad training data,
//! `CircuitTimeoutError` for a cancelled training, `HttpError` from a model server, and `Error`
//! with a `code` for the rest (`ERR_MODEL_*`, `ERR_NOT_SUPPORTED`).

use neural_trader_clients::http::ApiError;
use neural_trader_clients::neural::NeuralError;

use crate::http::error::CarriesApi;
use crate::js::errors::{ErrorClass, IntoJsError, JsErrorSpec, Prop};

impl CarriesApi for NeuralError {
    fn api_mut(&mut self) -> Option<&mut ApiError> {
        match self {
            NeuralError::Remote(api) => Some(api),
            _ => None,
        }
    }
}

impl IntoJsError for NeuralError {
    fn into_js_error(self) -> JsErrorSpec {
        let code = self.code();
        let message = self.to_string();
        match self {
            NeuralError::Remote(api) => api.into_js_error(),
            NeuralError::Circuit(e) => e.into_js_error(),
            NeuralError::InputDimension { expected, got } => {
                JsErrorSpec::new(ErrorClass::RangeError, code, message)
                    .with("expected", Prop::Num(expected as f64))
                    .with("received", Prop::Num(got as f64))
            }
            NeuralError::InvalidOption(_) | NeuralError::InputOutOfRange(_) => {
                JsErrorSpec::new(ErrorClass::RangeError, code, message)
            }
            NeuralError::InvalidInput(_) | NeuralError::InvalidTrainingData(_) => {
                JsErrorSpec::new(ErrorClass::TypeError, code, message)
            }
            NeuralError::Cancelled => JsErrorSpec::new(ErrorClass::CircuitTimeout, code, message),
            _ => JsErrorSpec::new(ErrorClass::Error, code, message),
        }
    }
}

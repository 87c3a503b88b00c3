//! The array and path arguments of `NeuralCircuitBreaker` methods: features, training data and
//! labels, file paths. A value of the wrong type is a `TypeError` `ERR_INVALID_ARG_TYPE`; shapes
//! and finiteness of the numbers are the client's checks (`ERR_INVALID_ARG_VALUE`,
//! `ERR_INPUT_DIMENSION`). The methods read them inside `js::promise::promise`, so a bad
//! argument rejects.
//!
//! Sizes are checked before elements are read: a JS array's `length` can be 2^32 - 1 with no
//! element in it (`a.length = 2 ** 32 - 1`), and reading it element by element would hold the
//! JS thread for minutes. The features of a prediction, the data and the labels each hold at
//! most [`MAX_CELLS`] numbers in all (`RangeError` `ERR_OUT_OF_RANGE` beyond), checked row by
//! row against what is left.

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use neural_trader_clients::neural::builtin::MAX_CELLS;
use neural_trader_resilience::ConfigError;

use crate::js::describe::received;
use crate::js::errors::JsErrorSpec;
use crate::js::options::{argument, At};
use crate::js::Arg;

/// Elements reserved ahead at most: a sparse array's `length` says nothing of its size.
const RESERVE_AT_MOST: usize = 4096;

/// `value` as an array with its length, or `None` if it is not one.
fn as_array<'a>(value: &Unknown<'a>) -> Result<Option<(Object<'a>, u32)>> {
    if value.get_type()? != ValueType::Object || !value.is_array()? {
        return Ok(None);
    }
    let array: Object = unsafe { value.cast()? };
    let len = array.get_array_length()?;
    Ok(Some((array, len)))
}

/// A missing argument (`undefined` or `null`) that must be `expected`.
fn missing(env: &Env, name: &'static str, expected: &'static str) -> napi::Error {
    At::argument(env, name).error(&ConfigError::invalid_type(name, expected, "undefined"))
}

/// An array of numbers; `what` names it in messages (`features`, `data[3]`). More than `max`
/// elements are refused before any is read.
pub(crate) fn numbers(
    env: &Env,
    value: &Unknown<'_>,
    what: &dyn Fn() -> String,
    max: u32,
) -> Result<Vec<f64>> {
    let Some((array, len)) = as_array(value)? else {
        return Err(At::argument(env, &what()).invalid_type("an array of numbers", value));
    };
    if len > max {
        let expected = format!("an array of at most {max} numbers");
        return Err(
            At::argument(env, &what()).out_of_range(expected, format!("an array of length {len}"))
        );
    }
    let mut out = Vec::with_capacity((len as usize).min(RESERVE_AT_MOST));
    for i in 0..len {
        let item: Unknown = array.get_element(i)?;
        if item.get_type()? != ValueType::Number {
            let message = format!(
                "{}[{i}] must be a number. Received {}",
                what(),
                received(env, &item)
            );
            return Err(JsErrorSpec::type_error("ERR_INVALID_ARG_TYPE", message).throw(env));
        }
        out.push(unsafe { item.cast::<f64>()? });
    }
    Ok(out)
}

/// The features of one prediction: `number[]`.
pub(crate) fn read_features(env: &Env, features: Arg<'_>) -> Result<Vec<f64>> {
    match features {
        Some(value) => numbers(env, &value, &|| "features".to_string(), MAX_CELLS as u32),
        None => Err(missing(env, "features", "an array of numbers")),
    }
}

/// An array of arrays of numbers (`name` in messages), [`MAX_CELLS`] numbers at most in all.
fn matrix(env: &Env, name: &'static str, value: &Unknown<'_>) -> Result<Vec<Vec<f64>>> {
    let at = At::argument(env, name);
    let Some((array, len)) = as_array(value)? else {
        return Err(at.invalid_type("an array of arrays of numbers", value));
    };
    // Each row holds at least one number (an empty one is refused by the client), so more
    // rows than cells cannot fit either.
    if len as usize > MAX_CELLS {
        let expected = format!("an array of at most {MAX_CELLS} numbers in all");
        return Err(at.out_of_range(expected, format!("an array of length {len}")));
    }
    let mut left = MAX_CELLS as u32;
    let mut rows = Vec::with_capacity((len as usize).min(RESERVE_AT_MOST));
    for i in 0..len {
        let row: Unknown = array.get_element(i)?;
        let row = numbers(env, &row, &|| format!("{name}[{i}]"), left)?;
        left -= row.len() as u32;
        rows.push(row);
    }
    Ok(rows)
}

/// The training rows: `number[][]`.
pub(crate) fn read_data(env: &Env, data: Arg<'_>) -> Result<Vec<Vec<f64>>> {
    match data {
        Some(value) => matrix(env, "data", &value),
        None => Err(missing(env, "data", "an array of arrays of numbers")),
    }
}

/// The labels: `number[]` (one output) or `number[][]` (a row of outputs per row of data),
/// told apart by the first element.
pub(crate) fn read_labels(env: &Env, labels: Arg<'_>) -> Result<Vec<Vec<f64>>> {
    const EXPECTED: &str = "an array of numbers or of arrays of numbers";
    let Some(value) = labels else {
        return Err(missing(env, "labels", EXPECTED));
    };
    let Some((array, len)) = as_array(&value)? else {
        return Err(At::argument(env, "labels").invalid_type(EXPECTED, &value));
    };
    if len > 0 && as_array(&array.get_element::<Unknown>(0)?)?.is_some() {
        return matrix(env, "labels", &value);
    }
    let labels = numbers(env, &value, &|| "labels".to_string(), MAX_CELLS as u32)?;
    Ok(labels.into_iter().map(|v| vec![v]).collect())
}

/// A file path: a non-empty, well-formed string without NUL characters (relative paths
/// resolve against the process's working directory, as in `fs`).
pub(crate) fn read_path(env: &Env, path: Arg<'_>) -> Result<String> {
    let path: String = argument(env, "path", path)?;
    if path.is_empty() || path.contains('\0') {
        let expected = "a non-empty string without NUL characters";
        return Err(At::argument(env, "path").invalid_value(expected, ""));
    }
    Ok(path)
}

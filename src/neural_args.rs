//! Reads the arguments of `NeuralCircuitBreaker` methods: features, training data and labels,
//! training options and file paths. These methods return promises, so a bad argument becomes
//! a rejection (a [`JsErrorSpec`]), never a throw: `TypeError` `ERR_INVALID_ARG_TYPE` for a
//! value of the wrong type, `ERR_INVALID_ARG_VALUE` for an unknown option key or a bad path,
//! `RangeError` `ERR_OUT_OF_RANGE` for an option out of range. Shapes and finiteness of the
//! numbers are the core's checks (`ERR_INVALID_ARG_VALUE`, `ERR_INPUT_DIMENSION`).

use napi::bindgen_prelude::{JsObjectValue, Object, Utf16String};
use napi::{JsValue, Unknown, ValueType};
use neural_trader_clients::neural::builtin::{MAX_EPOCHS, MAX_HIDDEN};
use neural_trader_clients::neural::TrainOptions;

use crate::database_params::kind_of;
use crate::js_error::{ErrorClass, JsErrorSpec};

/// An argument error, rejected with.
pub(crate) type ArgResult<T> = std::result::Result<T, JsErrorSpec>;

fn type_error(message: String) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::TypeError, "ERR_INVALID_ARG_TYPE", message)
}

fn value_error(message: String) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::TypeError, "ERR_INVALID_ARG_VALUE", message)
}

fn range_error(message: String) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::RangeError, "ERR_OUT_OF_RANGE", message)
}

fn internal(e: napi::Error) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::Error, "ERR_INTERNAL", e.reason.clone())
}

/// `value` as an array, or `None` if it is not one.
fn as_array<'a>(value: &Unknown<'a>) -> ArgResult<Option<(Object<'a>, u32)>> {
    if value.get_type().map_err(internal)? != ValueType::Object
        || !value.is_array().map_err(internal)?
    {
        return Ok(None);
    }
    let array: Object = unsafe { value.cast() }.map_err(internal)?;
    let len = array.get_array_length().map_err(internal)?;
    Ok(Some((array, len)))
}

/// An array of numbers; `what` names it in messages (`features`, `data[3]`).
fn numbers(value: &Unknown<'_>, what: &dyn Fn() -> String) -> ArgResult<Vec<f64>> {
    let Some((array, len)) = as_array(value)? else {
        return Err(type_error(format!(
            "The \"{}\" argument must be an array of numbers. Received {}",
            what(),
            kind_of(value)
        )));
    };
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let item: Unknown = array.get_element(i).map_err(internal)?;
        if item.get_type().map_err(internal)? != ValueType::Number {
            return Err(type_error(format!(
                "{}[{i}] must be a number. Received {}",
                what(),
                kind_of(&item)
            )));
        }
        out.push(unsafe { item.cast::<f64>() }.map_err(internal)?);
    }
    Ok(out)
}

/// The features of one prediction: `number[]`.
pub(crate) fn read_features(features: Option<Unknown<'_>>) -> ArgResult<Vec<f64>> {
    match features {
        Some(value) => numbers(&value, &|| "features".to_string()),
        None => Err(type_error(
            "The \"features\" argument must be an array of numbers. Received undefined".into(),
        )),
    }
}

/// An array of arrays of numbers (`name` in messages).
fn matrix(name: &'static str, value: &Unknown<'_>) -> ArgResult<Vec<Vec<f64>>> {
    let Some((array, len)) = as_array(value)? else {
        return Err(type_error(format!(
            "The \"{name}\" argument must be an array of arrays of numbers. Received {}",
            kind_of(value)
        )));
    };
    let mut rows = Vec::with_capacity(len as usize);
    for i in 0..len {
        let row: Unknown = array.get_element(i).map_err(internal)?;
        rows.push(numbers(&row, &|| format!("{name}[{i}]"))?);
    }
    Ok(rows)
}

/// The training rows: `number[][]`.
pub(crate) fn read_data(data: Option<Unknown<'_>>) -> ArgResult<Vec<Vec<f64>>> {
    match data {
        Some(value) => matrix("data", &value),
        None => Err(type_error(
            "The \"data\" argument must be an array of arrays of numbers. Received undefined"
                .into(),
        )),
    }
}

/// The labels: `number[]` (one output) or `number[][]` (a row of outputs per row of data),
/// told apart by the first element.
pub(crate) fn read_labels(labels: Option<Unknown<'_>>) -> ArgResult<Vec<Vec<f64>>> {
    let expected = "The \"labels\" argument must be an array of numbers or of arrays of numbers";
    let Some(value) = labels else {
        return Err(type_error(format!("{expected}. Received undefined")));
    };
    let Some((array, len)) = as_array(&value)? else {
        return Err(type_error(format!(
            "{expected}. Received {}",
            kind_of(&value)
        )));
    };
    if len > 0 {
        let first: Unknown = array.get_element(0).map_err(internal)?;
        if as_array(&first)?.is_some() {
            return matrix("labels", &value);
        }
    }
    Ok(numbers(&value, &|| "labels".to_string())?
        .into_iter()
        .map(|v| vec![v])
        .collect())
}

/// The own keys of `object` with a value other than `undefined`.
fn entries<'a>(object: &Object<'a>) -> ArgResult<Vec<(String, Unknown<'a>)>> {
    let mut out = Vec::new();
    for key in Object::keys(object).map_err(internal)? {
        if let Some(value) = object.get::<Unknown>(&key).map_err(internal)? {
            if value.get_type().map_err(internal)? != ValueType::Undefined {
                out.push((key, value));
            }
        }
    }
    Ok(out)
}

fn number_option(name: &str, value: &Unknown<'_>) -> ArgResult<f64> {
    if value.get_type().map_err(internal)? != ValueType::Number {
        return Err(type_error(format!(
            "The \"{name}\" option must be of type number. Received {}",
            kind_of(value)
        )));
    }
    unsafe { value.cast::<f64>() }.map_err(internal)
}

fn integer_option(name: &str, value: &Unknown<'_>, max: u32) -> ArgResult<u32> {
    let n = number_option(name, value)?;
    if n.fract() != 0.0 || !(1.0..=f64::from(max)).contains(&n) {
        return Err(range_error(format!(
            "The value of \"{name}\" is out of range. It must be an integer >= 1 and <= {max}. Received {n}"
        )));
    }
    Ok(n as u32)
}

/// The options of `train(data, labels, options)`: `epochs`, `learningRate`, `hiddenSizes`.
pub(crate) fn read_train_options(options: Option<Unknown<'_>>) -> ArgResult<TrainOptions> {
    let mut out = TrainOptions::default();
    let Some(value) = options else {
        return Ok(out);
    };
    match value.get_type().map_err(internal)? {
        ValueType::Undefined | ValueType::Null => return Ok(out),
        ValueType::Object if !value.is_array().map_err(internal)? => {}
        _ => {
            return Err(type_error(format!(
                "The \"options\" argument must be of type object. Received {}",
                kind_of(&value)
            )))
        }
    }
    let object: Object = unsafe { value.cast() }.map_err(internal)?;
    for (key, value) in entries(&object)? {
        match key.as_str() {
            "epochs" => out.epochs = integer_option("epochs", &value, MAX_EPOCHS)?,
            "learningRate" => {
                let rate = number_option("learningRate", &value)?;
                if !(rate.is_finite() && rate > 0.0 && rate <= 10.0) {
                    return Err(range_error(format!(
                        "The value of \"learningRate\" is out of range. It must be > 0 and <= 10. Received {rate}"
                    )));
                }
                out.learning_rate = rate;
            }
            "hiddenSizes" => {
                let Some((array, len)) = as_array(&value)? else {
                    return Err(type_error(format!(
                        "The \"hiddenSizes\" option must be an array of integers. Received {}",
                        kind_of(&value)
                    )));
                };
                if len > 16 {
                    return Err(range_error(format!(
                        "The \"hiddenSizes\" option may list at most 16 layers. Received {len}"
                    )));
                }
                out.hidden_sizes = (0..len)
                    .map(|i| {
                        let item: Unknown = array.get_element(i).map_err(internal)?;
                        integer_option(&format!("hiddenSizes[{i}]"), &item, MAX_HIDDEN as u32)
                            .map(|n| n as usize)
                    })
                    .collect::<ArgResult<_>>()?;
            }
            other => {
                return Err(value_error(format!(
                    "The option \"{other}\" is not a training option (expected one of epochs, learningRate, hiddenSizes)"
                )))
            }
        }
    }
    Ok(out)
}

/// A file path: a non-empty, well-formed string without NUL characters (relative paths
/// resolve against the process's working directory, as in `fs`).
pub(crate) fn read_path(path: Option<Unknown<'_>>) -> ArgResult<String> {
    let value = match path {
        Some(v) if v.get_type().map_err(internal)? == ValueType::String => v,
        other => {
            return Err(type_error(format!(
                "The \"path\" argument must be of type string. Received {}",
                other.as_ref().map_or("undefined", kind_of)
            )))
        }
    };
    let units = unsafe { value.cast::<Utf16String>() }.map_err(internal)?;
    let path = String::from_utf16(&units).map_err(|_| {
        value_error(
            "The \"path\" argument must be a well-formed string (it has a lone surrogate)".into(),
        )
    })?;
    if path.is_empty() || path.contains('\0') {
        return Err(value_error(
            "The \"path\" argument must be a non-empty string without NUL characters".into(),
        ));
    }
    Ok(path)
}

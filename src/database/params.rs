//! Reads the SQL text and the parameters of a database call from JS values, as node-postgres
//! users pass them: numbers, strings, booleans, `null` / `undefined` (NULL), `BigInt`s (within
//! 64 bits), `Buffer`s and `Uint8Array`s (bytes), `Date`s, arrays (element by element: a
//! PostgreSQL array, or JSON), and any other object as JSON (through `JSON.stringify`, like pg). Functions, symbols, other typed arrays, invalid dates and
//! objects that `JSON.stringify` refuses (cycles, BigInts inside) are argument errors.
//!
//! Sizes are checked before elements are read, because a JS array's `length` says nothing of
//! its contents: `a.length = 2 ** 32 - 1` makes a sparse array that reading element by element
//! would hold the JS thread for minutes on. A statement takes at most [`MAX_PARAMS`] parameters
//! (65,535: PostgreSQL's own limit, which its wire protocol counts in 16 bits), and its array
//! parameters hold at most [`MAX_ARRAY_ELEMENTS`] elements in all, nested ones included
//! (`RangeError` `ERR_OUT_OF_RANGE` beyond).

use napi::bindgen_prelude::{FromNapiValue, Function, JsObjectValue, Object, Utf16String};
use napi::{sys, Env, JsValue, Result, Unknown, ValueType};
use neural_trader_clients::database::Value;

use crate::js::bytes::bytes_of;
use crate::js::describe::received;
use crate::js::errors::{ErrorClass, JsErrorSpec};
use crate::js::options::{argument, At};
use crate::js::Arg;

const TYPE: &str = "ERR_INVALID_ARG_TYPE";
const VALUE: &str = "ERR_INVALID_ARG_VALUE";
const RANGE: &str = "ERR_OUT_OF_RANGE";

/// An error with `code` about the parameters: a `RangeError` for [`RANGE`], else a `TypeError`.
fn error(env: &Env, code: &'static str, message: String) -> napi::Error {
    let class = if code == RANGE {
        ErrorClass::RangeError
    } else {
        ErrorClass::TypeError
    };
    JsErrorSpec::new(class, code, message).throw(env)
}

/// Elements reserved ahead at most: a sparse array's `length` says nothing of its size.
const RESERVE_AT_MOST: usize = 4096;

/// The most parameters one statement takes: PostgreSQL's limit (a 16-bit count on the wire).
pub(crate) const MAX_PARAMS: u32 = 65_535;

/// The most elements the array parameters of one statement hold in all, nested ones included
/// (about 2^20: a million ids for `= ANY($1)` fit; reading them takes well under a second).
pub(crate) const MAX_ARRAY_ELEMENTS: u32 = 1 << 20;

/// The SQL text: a string without NUL characters.
pub(crate) fn read_sql(env: &Env, sql: Arg<'_>) -> Result<String> {
    let text: String = argument(env, "sql", sql)?;
    if text.contains('\0') {
        return Err(At::argument(env, "sql").invalid_value("a string without NUL characters", ""));
    }
    Ok(text)
}

/// The parameters: an array, or `undefined` / `null` for none.
pub(crate) fn read_params(env: &Env, params: Arg<'_>) -> Result<Vec<Value>> {
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    match params.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(Vec::new()),
        ValueType::Object if params.is_array()? => {}
        _ => return Err(At::argument(env, "params").invalid_type("an array", &params)),
    }
    let array: Object = unsafe { params.cast()? };
    let len = array.get_array_length()?;
    if len > MAX_PARAMS {
        let message = format!(
            "The value of \"params\" is out of range. It must be an array of at most \
             {MAX_PARAMS} parameters. Received an array of length {len}"
        );
        return Err(error(env, RANGE, message));
    }
    let mut left = MAX_ARRAY_ELEMENTS;
    let mut out = Vec::with_capacity((len as usize).min(RESERVE_AT_MOST));
    for i in 0..len {
        let item: Unknown = array.get_element(i)?;
        out.push(read_param(env, i as usize + 1, item, 0, &mut left)?);
    }
    Ok(out)
}

/// Arrays nest at most this deep (a deeper one is most likely an array that contains itself).
const MAX_DEPTH: u32 = 32;

/// An array parameter, element by element (so that BigInts, Dates and Buffers inside keep their
/// type): a PostgreSQL array, or JSON text for json parameters and for SQLite and MySQL.
fn read_array(env: &Env, at: usize, v: &Unknown<'_>, depth: u32, left: &mut u32) -> Result<Value> {
    if depth >= MAX_DEPTH {
        let message = format!("nests arrays more than {MAX_DEPTH} deep (does it contain itself?)");
        return Err(error(env, VALUE, format!("Parameter ${at} {message}")));
    }
    let array: Object = unsafe { v.cast() }?;
    let len = array.get_array_length()?;
    if len > *left {
        let message = format!(
            "Parameter ${at} is an array of length {len}: the array parameters of one statement \
             hold at most {MAX_ARRAY_ELEMENTS} elements in all"
        );
        return Err(error(env, RANGE, message));
    }
    *left -= len;
    let mut items = Vec::with_capacity((len as usize).min(RESERVE_AT_MOST));
    for i in 0..len {
        let item: Unknown = array.get_element(i)?;
        items.push(read_param(env, at, item, depth + 1, left)?);
    }
    Ok(Value::Array(items))
}

fn read_param(env: &Env, at: usize, v: Unknown<'_>, depth: u32, left: &mut u32) -> Result<Value> {
    Ok(match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(unsafe { v.cast::<bool>() }?),
        ValueType::Number => Value::Float(unsafe { v.cast::<f64>() }?),
        ValueType::String => {
            // Strictly: a lone surrogate has no UTF-8 form, and U+FFFD in its place would
            // store (or match) something other than what was given.
            let units = unsafe { v.cast::<Utf16String>() }?;
            let message =
                || format!("Parameter ${at} is a string with a lone surrogate (not well-formed)");
            Value::Text(String::from_utf16(&units).map_err(|_| error(env, VALUE, message()))?)
        }
        ValueType::BigInt => {
            let big =
                unsafe { napi::bindgen_prelude::BigInt::from_napi_value(env.raw(), v.raw()) }?;
            let (n, lossless) = big.get_i64();
            if !lossless {
                let message = format!("Parameter ${at}: a bigint must fit in 64 signed bits");
                return Err(error(env, RANGE, message));
            }
            Value::BigInt(n)
        }
        ValueType::Object if v.is_array()? => read_array(env, at, &v, depth, left)?,
        ValueType::Object => read_object(env, at, &v)?,
        _ => {
            let message = format!(
                "Parameter ${at} cannot be bound: it is {}",
                received(env, &v)
            );
            return Err(error(env, TYPE, message));
        }
    })
}

fn read_object(env: &Env, at: usize, v: &Unknown<'_>) -> Result<Value> {
    if v.is_date()? {
        let mut ms = 0.0;
        let status = unsafe { sys::napi_get_date_value(env.raw(), v.raw(), &mut ms) };
        crate::js::check(status, "read a Date")?;
        let invalid = || error(env, VALUE, format!("Parameter ${at} is an invalid Date"));
        return Value::from_js_date(ms).ok_or_else(invalid);
    }
    if v.is_typedarray()? {
        return match bytes_of(env, v)? {
            Some((
                Some(sys::TypedarrayType::uint8_array | sys::TypedarrayType::uint8_clamped_array),
                bytes,
            )) => Ok(Value::Bytes(bytes)),
            _ => {
                let message =
                    format!("Parameter ${at} is a typed array other than a Uint8Array or Buffer");
                Err(error(env, TYPE, message))
            }
        };
    }
    // Any other object or array: JSON, as node-postgres sends it.
    let global = env.get_global()?;
    let json: Object = global.get_named_property("JSON")?;
    let stringify: Function<Unknown, Unknown> = json.get_named_property("stringify")?;
    let threw = "cannot be sent as JSON (JSON.stringify threw: a cycle, or a BigInt inside?)";
    let text = stringify
        .call(*v)
        .map_err(|_| error(env, VALUE, format!("Parameter ${at} {threw}")))?;
    if text.get_type()? != ValueType::String {
        return Ok(Value::Null);
    }
    let text = unsafe { text.cast::<String>() }?;
    let not_json = || {
        error(
            env,
            VALUE,
            format!("Parameter ${at} is not representable as JSON"),
        )
    };
    Value::from_json_text(&text).ok_or_else(not_json)
}

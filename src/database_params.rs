//! Reads the SQL text and the parameters of a database call from JS values, as node-postgres
//! users pass them: numbers, strings, booleans, `null` / `undefined` (NULL), `BigInt`s (within
//! 64 bits), `Buffer`s and `Uint8Array`s (bytes), `Date`s, arrays (element by element: a
//! PostgreSQL array, or JSON), and any other object as JSON (through `JSON.stringify`, like pg). Functions, symbols, other typed arrays, invalid dates and
//! objects that `JSON.stringify` refuses (cycles, BigInts inside) are argument errors.

use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, Function, JsObjectValue, Object};
use napi::{sys, Env, JsValue, Unknown, ValueType};
use neural_trader_clients::database::Value;

use crate::js_error::{ErrorClass, JsErrorSpec};

/// An argument error, as a JS error spec (rejected, not thrown: the methods return promises).
pub(crate) type ArgResult<T> = std::result::Result<T, JsErrorSpec>;

fn type_error(message: String) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::TypeError, "ERR_INVALID_ARG_TYPE", message)
}

fn value_error(message: String) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::TypeError, "ERR_INVALID_ARG_VALUE", message)
}

fn internal(e: napi::Error) -> JsErrorSpec {
    JsErrorSpec::new(ErrorClass::Error, "ERR_DB_INTERNAL", e.reason.clone())
}

/// What a value is, for messages (never the value itself: parameters may be private).
pub(crate) fn kind_of(value: &Unknown<'_>) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::External) => "an external",
        _ => "an object",
    }
}

/// The SQL text: a string without NUL characters.
pub(crate) fn read_sql(sql: Option<Unknown<'_>>) -> ArgResult<String> {
    match sql {
        Some(v) if v.get_type().ok() == Some(ValueType::String) => {
            let text = unsafe { v.cast::<String>() }.map_err(internal)?;
            if text.contains('\0') {
                return Err(value_error(
                    "The \"sql\" argument must not contain a NUL character".into(),
                ));
            }
            Ok(text)
        }
        other => Err(type_error(format!(
            "The \"sql\" argument must be of type string. Received {}",
            other.as_ref().map_or("undefined", kind_of)
        ))),
    }
}

/// The parameters: an array, or `undefined` / `null` for none.
pub(crate) fn read_params(env: &Env, params: Option<Unknown<'_>>) -> ArgResult<Vec<Value>> {
    let Some(params) = params else {
        return Ok(Vec::new());
    };
    match params.get_type().map_err(internal)? {
        ValueType::Undefined | ValueType::Null => return Ok(Vec::new()),
        ValueType::Object if params.is_array().map_err(internal)? => {}
        _ => {
            return Err(type_error(format!(
                "The \"params\" argument must be an array. Received {}",
                kind_of(&params)
            )))
        }
    }
    let array: Object = unsafe { params.cast() }.map_err(internal)?;
    let len = array.get_array_length().map_err(internal)?;
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let item: Unknown = array.get_element(i).map_err(internal)?;
        out.push(read_param(env, i as usize + 1, item, 0)?);
    }
    Ok(out)
}

/// Arrays nest at most this deep (a deeper one is most likely an array that contains itself).
const MAX_DEPTH: u32 = 32;

/// An array parameter, element by element (so that BigInts, Dates and Buffers inside keep their
/// type): a PostgreSQL array, or JSON text for json parameters and for SQLite and MySQL.
fn read_array(env: &Env, at: usize, v: &Unknown<'_>, depth: u32) -> ArgResult<Value> {
    if depth >= MAX_DEPTH {
        return Err(value_error(format!(
            "Parameter ${at} nests arrays more than {MAX_DEPTH} deep (does it contain itself?)"
        )));
    }
    let array: Object = unsafe { v.cast() }.map_err(internal)?;
    let len = array.get_array_length().map_err(internal)?;
    let mut items = Vec::with_capacity(len as usize);
    for i in 0..len {
        let item: Unknown = array.get_element(i).map_err(internal)?;
        items.push(read_param(env, at, item, depth + 1)?);
    }
    Ok(Value::Array(items))
}

fn read_param(env: &Env, at: usize, v: Unknown<'_>, depth: u32) -> ArgResult<Value> {
    Ok(match v.get_type().map_err(internal)? {
        ValueType::Undefined | ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(unsafe { v.cast::<bool>() }.map_err(internal)?),
        ValueType::Number => Value::Float(unsafe { v.cast::<f64>() }.map_err(internal)?),
        ValueType::String => Value::Text(unsafe { v.cast::<String>() }.map_err(internal)?),
        ValueType::BigInt => {
            let big = unsafe { napi::bindgen_prelude::BigInt::from_napi_value(env.raw(), v.raw()) }
                .map_err(internal)?;
            let (n, lossless) = big.get_i64();
            if !lossless {
                return Err(JsErrorSpec::new(
                    ErrorClass::RangeError,
                    "ERR_OUT_OF_RANGE",
                    format!("Parameter ${at}: a bigint must fit in 64 signed bits"),
                ));
            }
            Value::BigInt(n)
        }
        ValueType::Object if v.is_array().map_err(internal)? => read_array(env, at, &v, depth)?,
        ValueType::Object => read_object(env, at, &v)?,
        _ => {
            return Err(type_error(format!(
                "Parameter ${at} cannot be bound: it is {}",
                kind_of(&v)
            )))
        }
    })
}

fn read_object(env: &Env, at: usize, v: &Unknown<'_>) -> ArgResult<Value> {
    if v.is_date().map_err(internal)? {
        let mut ms = 0.0;
        let status = unsafe { sys::napi_get_date_value(env.raw(), v.raw(), &mut ms) };
        if status != sys::Status::napi_ok {
            return Err(internal(napi::Error::from_reason("could not read a Date")));
        }
        return Value::from_js_date(ms)
            .ok_or_else(|| value_error(format!("Parameter ${at} is an invalid Date")));
    }
    if v.is_typedarray().map_err(internal)? {
        return read_bytes(env, at, v);
    }
    // Any other object or array: JSON, as node-postgres sends it.
    let global = env.get_global().map_err(internal)?;
    let json: Object = global.get_named_property("JSON").map_err(internal)?;
    let stringify: Function<Unknown, Unknown> =
        json.get_named_property("stringify").map_err(internal)?;
    let text = stringify.call(*v).map_err(|_| {
        value_error(format!(
            "Parameter ${at} cannot be sent as JSON (JSON.stringify threw: a cycle, or a BigInt inside?)"
        ))
    })?;
    if text.get_type().map_err(internal)? != ValueType::String {
        return Ok(Value::Null);
    }
    let text = unsafe { text.cast::<String>() }.map_err(internal)?;
    Value::from_json_text(&text)
        .ok_or_else(|| value_error(format!("Parameter ${at} is not representable as JSON")))
}

fn read_bytes(env: &Env, at: usize, v: &Unknown<'_>) -> ArgResult<Value> {
    let mut kind = 0;
    let mut length = 0usize;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env.raw(),
            v.raw(),
            &mut kind,
            &mut length,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(internal(napi::Error::from_reason(
            "could not read a typed array",
        )));
    }
    if kind != sys::TypedarrayType::uint8_array && kind != sys::TypedarrayType::uint8_clamped_array
    {
        return Err(type_error(format!(
            "Parameter ${at} is a typed array other than a Uint8Array or Buffer"
        )));
    }
    if length == 0 || data.is_null() {
        return Ok(Value::Bytes(Vec::new()));
    }
    // SAFETY: napi says `data` points at `length` bytes of the (live, uint8) typed array.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), length) };
    Ok(Value::Bytes(bytes.to_vec()))
}

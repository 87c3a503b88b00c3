//! Database results as JS values.
//!
//! Rows arrive as one flat JSON array of cells rendered off the JS thread (see `render.rs` in
//! the clients crate); here the few cells JSON cannot carry (bytes, non-finite floats) are set
//! on the parsed array and `lib/rows.js`'s `buildRows` makes the row objects.

use std::ffi::CString;
use std::ptr;

use napi::bindgen_prelude::{
    Buffer, Either3, FnArgs, FromNapiValue, Function, JsObjectValue, Null, Object, ToNapiValue,
};
use napi::{sys, Env, Error, JsValue, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::database::{ExecuteResult, JsRows, LastInsertId, Patch, PatchValue};

use crate::js::helpers::registered;
use crate::js::{check, parse_json};

/// What `execute` resolves with.
#[napi(object)]
pub struct DatabaseExecuteResult {
    /// Rows inserted, updated or deleted.
    pub rows_affected: f64,
    /// SQLite: `last_insert_rowid()` (as better-sqlite3 reports it); MySQL: the AUTO_INCREMENT
    /// id the statement generated, or `null`; PostgreSQL: always `null` (use `RETURNING`).
    /// A string when it exceeds `Number.MAX_SAFE_INTEGER`.
    pub last_insert_id: Either3<f64, String, Null>,
}

const MAX_SAFE: u64 = (1 << 53) - 1;

impl From<ExecuteResult> for DatabaseExecuteResult {
    fn from(r: ExecuteResult) -> Self {
        let id = match r.last_insert_id {
            None => Either3::C(Null),
            Some(LastInsertId::Signed(n)) if n.unsigned_abs() <= MAX_SAFE => Either3::A(n as f64),
            Some(LastInsertId::Signed(n)) => Either3::B(n.to_string()),
            Some(LastInsertId::Unsigned(n)) if n <= MAX_SAFE => Either3::A(n as f64),
            Some(LastInsertId::Unsigned(n)) => Either3::B(n.to_string()),
        };
        Self {
            rows_affected: r.rows_affected as f64,
            last_insert_id: id,
        }
    }
}

/// Defines `name` as an own data property (a define, not a set: a column named `__proto__`
/// stays a plain property).
fn define(env: &Env, object: sys::napi_value, name: &str, value: sys::napi_value) -> Result<()> {
    let name = CString::new(name).map_err(|_| Error::from_reason("a column name has a NUL"))?;
    let descriptor = sys::napi_property_descriptor {
        utf8name: name.as_ptr(),
        name: ptr::null_mut(),
        method: None,
        getter: None,
        setter: None,
        value,
        attributes: sys::PropertyAttributes::writable
            | sys::PropertyAttributes::enumerable
            | sys::PropertyAttributes::configurable,
        data: ptr::null_mut(),
    };
    check(
        unsafe { sys::napi_define_properties(env.raw(), object, 1, &descriptor) },
        "set a cell",
    )
}

/// Sets the cells JSON could not carry on the parsed flat array.
fn apply_patches(env: &Env, cells: Object, patches: Vec<Patch>) -> Result<()> {
    for patch in patches {
        let value = unsafe {
            match patch.value {
                PatchValue::Bytes(b) => Buffer::to_napi_value(env.raw(), Buffer::from(b))?,
                PatchValue::Number(n) => f64::to_napi_value(env.raw(), n)?,
            }
        };
        // A cell inside (nested) arrays: walk down, then set the element.
        let mut target = cells;
        let mut index = patch.cell;
        for next in patch.path {
            target = target.get_element(index)?;
            index = next;
        }
        check(
            unsafe { sys::napi_set_element(env.raw(), target.raw(), index, value) },
            "set a cell",
        )?;
    }
    Ok(())
}

/// Builds the row objects here, through N-API (when `resilience.js` registered no builder:
/// the bare generated binding).
fn build_rows_here<'env>(
    env: &'env Env,
    columns: &str,
    row_count: u32,
    cells: Object,
) -> Result<Unknown<'env>> {
    let parsed: Object = unsafe { parse_json(env, columns)?.cast()? };
    let names = (0..parsed.get_array_length()?)
        .map(|i| parsed.get_element::<String>(i))
        .collect::<Result<Vec<_>>>()?;
    let mut array = ptr::null_mut();
    check(
        unsafe { sys::napi_create_array_with_length(env.raw(), row_count as usize, &mut array) },
        "create the rows",
    )?;
    let mut cell = 0;
    for r in 0..row_count {
        let row = Object::new(env)?;
        for name in &names {
            let value: Unknown = cells.get_element(cell)?;
            define(env, row.raw(), name, value.raw())?;
            cell += 1;
        }
        check(
            unsafe { sys::napi_set_element(env.raw(), array, r, row.raw()) },
            "set a row",
        )?;
    }
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), array) })
}

/// Turns rendered rows into an array of plain objects: `lib/rows.js`'s `buildRows` parses the
/// flat cells and makes each row with a constructor cached per list of column names (cells JSON
/// cannot carry are parsed and patched here first).
pub(crate) fn rows_to_js<'env>(env: &'env Env, rows: JsRows) -> Result<Unknown<'env>> {
    let JsRows {
        columns,
        column_count,
        row_count,
        cells,
        patches,
    } = rows;
    let raw_env = env.raw();
    let builder = registered(env, "buildRows")?;
    let cells = match builder {
        Some(_) if patches.is_empty() => unsafe { String::to_napi_value(raw_env, cells)? },
        _ => {
            let parsed: Object = unsafe { parse_json(env, &cells)?.cast()? };
            apply_patches(env, parsed, patches)?;
            parsed.raw()
        }
    };
    let Some(builder) = builder else {
        let cells: Object = unsafe { Unknown::from_raw_unchecked(raw_env, cells).cast()? };
        return build_rows_here(env, &columns, row_count, cells);
    };
    // `buildRows(columns, columnCount, rowCount, cells)`; a thrown exception becomes the `Err`.
    let build: Function<FnArgs<(String, u32, u32, Unknown)>, Unknown> =
        unsafe { Function::from_napi_value(raw_env, builder)? };
    let cells = unsafe { Unknown::from_raw_unchecked(raw_env, cells) };
    build.call((columns, column_count, row_count, cells).into())
}

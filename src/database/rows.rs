//! Database results as JS values.
//!
//! Rows arrive as one flat JSON array of cells rendered off the JS thread (see `render.rs` in
//! the clients crate); here the few cells JSON cannot carry (bytes, non-finite floats) are set
//! on the parsed array and `lib/rows.js`'s `buildRows` makes the row objects.

use napi::bindgen_prelude::{
    Buffer, Either3, FnArgs, FromNapiValue, Function, JsObjectValue, Null, Object, ToNapiValue,
};
use napi::{sys, Env, JsValue, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::database::{ExecuteResult, JsRows, LastInsertId, Patch, PatchValue};

use crate::js::helpers::{register, registered};
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

/// `lib/rows.js`, compiled into the binding for the bare generated loader (`index.js` without
/// `resilience.js`, which registers it otherwise): rows are built by that file alone.
const ROWS_JS: &str = include_str!("../../lib/rows.js");

/// This environment's `buildRows`: the registered one, else `lib/rows.js` evaluated once.
fn row_builder(env: &Env) -> Result<sys::napi_value> {
    if let Some(builder) = registered(env, "buildRows")? {
        return Ok(builder);
    }
    let script = format!(
        "(function () {{ const module = {{ exports: {{}} }}\n{ROWS_JS}\nreturn module.exports.buildRows }})()"
    );
    let builder: Unknown = env.run_script(script)?;
    register(env, "buildRows", builder)?;
    Ok(builder.raw())
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
    let builder = row_builder(env)?;
    let cells = if patches.is_empty() {
        unsafe { String::to_napi_value(raw_env, cells)? }
    } else {
        let parsed: Object = unsafe { parse_json(env, &cells)?.cast()? };
        apply_patches(env, parsed, patches)?;
        parsed.raw()
    };
    // `buildRows(columns, columnCount, rowCount, cells)`; a thrown exception becomes the `Err`.
    let build: Function<FnArgs<(String, u32, u32, Unknown)>, Unknown> =
        unsafe { Function::from_napi_value(raw_env, builder)? };
    let cells = unsafe { Unknown::from_raw_unchecked(raw_env, cells) };
    build.call((columns, column_count, row_count, cells).into())
}

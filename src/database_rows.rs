//! Database results and errors as JS values.
//!
//! Rows arrive as one flat JSON array of cells rendered off the JS thread (see `render.rs` in
//! the clients crate); here the few cells JSON cannot carry (bytes, non-finite floats) are set
//! on the parsed array and `resilience.js`'s `buildRows` makes the row objects. Errors become `DatabaseError` (with `code` and, when the
//! database gave them, `sqlState`, `dbCode` and `constraint`), the breaker's own error classes, or `TypeError` /
//! `RangeError` for bad arguments.

use std::ffi::CString;
use std::future::Future;
use std::ptr;

use napi::bindgen_prelude::{
    Buffer, Either3, FnArgs, FromNapiValue, Function, JsObjectValue, Null, Object, PromiseRaw,
    ToNapiValue,
};
use napi::{sys, Env, Error, JsValue, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::database::{
    DbError, DbErrorKind, ExecuteResult, JsRows, LastInsertId, Patch, PatchValue, Value,
};

use crate::database_params::{read_params, read_sql};
use crate::js_error::{check, parse_json, spawn, ErrorClass, IntoJsError, JsErrorSpec, Prop};
use crate::js_helpers::row_builder;

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

/// Builds the row objects here, through N-API (when `resilience.js` registered no builder).
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

/// Turns rendered rows into an array of plain objects: `resilience.js`'s `buildRows` parses the
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

impl IntoJsError for DbError {
    fn into_js_error(self) -> JsErrorSpec {
        if let Some(breaker) = self.breaker_error() {
            return breaker.clone().into_js_error();
        }
        let class = match self.kind() {
            DbErrorKind::ParamType
            | DbErrorKind::ParamValue
            | DbErrorKind::InvalidUrl
            | DbErrorKind::UnsupportedScheme => ErrorClass::TypeError,
            DbErrorKind::ParamRange => ErrorClass::RangeError,
            _ => ErrorClass::Database,
        };
        let mut spec = JsErrorSpec::new(class, self.code(), self.message());
        if class == ErrorClass::Database {
            // Only what the database said: absent fields are left out.
            for (name, value) in [
                ("sqlState", self.sql_state()),
                ("dbCode", self.db_code()),
                ("constraint", self.constraint()),
            ] {
                if let Some(value) = value {
                    spec = spec.with(name, Prop::Str(value.to_string()));
                }
            }
        }
        spec
    }
}

/// An argument error or a database error: what a database promise rejects with.
pub(crate) enum Failure {
    Arg(JsErrorSpec),
    Db(DbError),
}

impl IntoJsError for Failure {
    fn into_js_error(self) -> JsErrorSpec {
        match self {
            Failure::Arg(spec) => spec,
            Failure::Db(e) => e.into_js_error(),
        }
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        Failure::Db(e)
    }
}

/// `query(sql, params)` of a breaker or a transaction: reads the arguments (a bad one rejects),
/// runs `rows` with them on the runtime, and resolves with the rows as JS objects.
pub(crate) fn spawn_query<'env, F, Fut>(
    env: &'env Env,
    sql: Option<Unknown<'_>>,
    params: Option<Unknown<'_>>,
    rows: F,
) -> Result<PromiseRaw<'env, Unknown<'env>>>
where
    F: FnOnce(String, Vec<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = std::result::Result<JsRows, DbError>> + Send + 'static,
{
    let args = read_sql(sql).and_then(|sql| Ok((sql, read_params(env, params)?)));
    spawn(
        env,
        async move {
            let (sql, params) = args.map_err(Failure::Arg)?;
            Ok::<_, Failure>(rows(sql, params).await?)
        },
        rows_to_js,
    )
}

/// `execute(sql, params)` of a breaker or a transaction: `{ rowsAffected, lastInsertId }`.
pub(crate) fn spawn_execute<'env, F, Fut>(
    env: &'env Env,
    sql: Option<Unknown<'_>>,
    params: Option<Unknown<'_>>,
    execute: F,
) -> Result<PromiseRaw<'env, DatabaseExecuteResult>>
where
    F: FnOnce(String, Vec<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = std::result::Result<ExecuteResult, DbError>> + Send + 'static,
{
    let args = read_sql(sql).and_then(|sql| Ok((sql, read_params(env, params)?)));
    spawn(
        env,
        async move {
            let (sql, params) = args.map_err(Failure::Arg)?;
            Ok::<_, Failure>(execute(sql, params).await?)
        },
        |_, r| Ok(DatabaseExecuteResult::from(r)),
    )
}

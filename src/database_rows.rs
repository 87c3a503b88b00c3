//! Database results and errors as JS values.
//!
//! Rows arrive as JSON text rendered off the JS thread (see `render.rs` in the clients crate);
//! here the engine parses them and the few cells JSON cannot carry (bytes, non-finite floats)
//! are defined on the parsed objects. Errors become `DatabaseError` (with `code` and, when the
//! database gave them, `sqlState`, `dbCode` and `constraint`), the breaker's own error classes, or `TypeError` /
//! `RangeError` for bad arguments.

use std::ffi::CString;
use std::future::Future;
use std::ptr;

use napi::bindgen_prelude::{
    Buffer, Either3, JsObjectValue, Null, Object, PromiseRaw, ToNapiValue,
};
use napi::{sys, Env, Error, JsValue, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::database::{
    DbError, DbErrorKind, ExecuteResult, JsRows, LastInsertId, PatchValue, Rows, Value,
};

use crate::database_params::{read_params, read_sql};
use crate::js_error::{parse_json, spawn, ErrorClass, IntoJsError, JsErrorSpec, Prop};

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

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::from_reason(format!("could not {what}")))
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

/// Parses rendered rows into an array of plain objects.
pub(crate) fn rows_to_js<'env>(env: &'env Env, rows: JsRows) -> Result<Unknown<'env>> {
    let array = parse_json(env, &rows.json)?;
    if rows.patches.is_empty() {
        return Ok(array);
    }
    let array_obj: Object = unsafe { array.cast()? };
    for patch in rows.patches {
        let value = unsafe {
            match patch.value {
                PatchValue::Bytes(b) => Buffer::to_napi_value(env.raw(), Buffer::from(b))?,
                PatchValue::Number(n) => f64::to_napi_value(env.raw(), n)?,
            }
        };
        let row: Object = array_obj.get_element(patch.row)?;
        if patch.path.is_empty() {
            define(env, row.raw(), &patch.column, value)?;
            continue;
        }
        // A cell inside (nested) arrays: walk down, then set the element.
        let mut target: Object = row.get_named_property(&patch.column)?;
        let (last, walk) = patch.path.split_last().unwrap_or((&0, &[]));
        for index in walk {
            target = target.get_element(*index)?;
        }
        check(
            unsafe { sys::napi_set_element(env.raw(), target.raw(), *last, value) },
            "set an array element",
        )?;
    }
    Ok(array)
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
    Fut: Future<Output = std::result::Result<Rows, DbError>> + Send + 'static,
{
    let args = read_sql(sql).and_then(|sql| Ok((sql, read_params(env, params)?)));
    spawn(
        env,
        async move {
            let (sql, params) = args.map_err(Failure::Arg)?;
            Ok::<_, Failure>(rows(sql, params).await?.to_js())
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

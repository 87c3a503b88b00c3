//! The JavaScript helpers `resilience.js` registers for each JS environment (the main thread,
//! each worker): the error classes domain errors are made from, and the function that turns a
//! query's flat cells into row objects.

use std::ptr;

use napi::bindgen_prelude::Object;
use napi::{sys, Env, Error, JsValue, Result, Status, Unknown, ValueType};
use napi_derive::napi;

use crate::js_error::{check, ErrorClass};

/// The helpers of one JS environment (its instance data).
struct JsHelpers {
    classes: Vec<(ErrorClass, sys::napi_ref)>,
    build_rows: Option<sys::napi_ref>,
}

fn value_of(env: &Env, reference: sys::napi_ref) -> Result<Option<sys::napi_value>> {
    let mut value = ptr::null_mut();
    check(
        unsafe { sys::napi_get_reference_value(env.raw(), reference, &mut value) },
        "read a registered helper",
    )?;
    Ok((!value.is_null()).then_some(value))
}

/// The registered constructor of `class`, if any.
pub(crate) fn error_class(env: &Env, class: ErrorClass) -> Result<Option<sys::napi_value>> {
    let Some(helpers) = env.get_instance_data::<JsHelpers>()? else {
        return Ok(None);
    };
    match helpers.classes.iter().find(|(c, _)| *c == class) {
        Some((_, reference)) => value_of(env, *reference),
        None => Ok(None),
    }
}

/// The registered `buildRows(columns, columnCount, rowCount, cells)` function, if any.
pub(crate) fn row_builder(env: &Env) -> Result<Option<sys::napi_value>> {
    match env.get_instance_data::<JsHelpers>()? {
        Some(JsHelpers {
            build_rows: Some(reference),
            ..
        }) => value_of(env, *reference),
        _ => Ok(None),
    }
}

fn keep_function(env: &Env, helpers: &Object, key: &str) -> Result<Option<sys::napi_ref>> {
    let Some(value) = helpers.get::<Unknown>(key)? else {
        return Ok(None);
    };
    if value.get_type()? != ValueType::Function {
        return Err(Error::new(
            Status::InvalidArg,
            format!("{key} is not a function"),
        ));
    }
    let mut reference = ptr::null_mut();
    check(
        unsafe { sys::napi_create_reference(env.raw(), value.raw(), 1, &mut reference) },
        "keep a helper",
    )?;
    Ok(Some(reference))
}

/// Registers this JS environment's helpers (called once by `resilience.js`): the error classes
/// under their names, and `buildRows`.
#[napi(skip_typescript, js_name = "__setJsHelpers")]
pub fn set_js_helpers(env: Env, helpers: Object) -> Result<()> {
    let mut classes = Vec::new();
    for (class, key) in ErrorClass::REGISTERED {
        if let Some(reference) = keep_function(&env, &helpers, key)? {
            classes.push((class, reference));
        }
    }
    let build_rows = keep_function(&env, &helpers, "buildRows")?;
    env.set_instance_data(
        JsHelpers {
            classes,
            build_rows,
        },
        (),
        |mut ctx| {
            let references = ctx.value.classes.drain(..).map(|(_, r)| r);
            for reference in references.chain(ctx.value.build_rows.take()) {
                // SAFETY: the references were made in this env, which is being torn down.
                unsafe { sys::napi_delete_reference(ctx.env.raw(), reference) };
            }
        },
    )
}

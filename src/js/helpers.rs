//! The JavaScript functions `resilience.js` registers for each JS environment (the main thread,
//! each worker), by name: the error classes domain errors are made from (`errors.rs`) and the
//! function that turns a query's flat cells into row objects (`database/rows.rs`).

use std::ptr;

use napi::bindgen_prelude::Object;
use napi::{sys, Env, JsValue, Result, Unknown, ValueType};
use napi_derive::napi;

use super::check;

/// The helpers of one JS environment (its instance data), by the name they were registered
/// under.
struct JsHelpers(Vec<(String, sys::napi_ref)>);

/// The function registered under `name` in this environment, if any.
pub(crate) fn registered(env: &Env, name: &str) -> Result<Option<sys::napi_value>> {
    let Some(JsHelpers(helpers)) = env.get_instance_data::<JsHelpers>()? else {
        return Ok(None);
    };
    let Some((_, reference)) = helpers.iter().find(|(n, _)| n == name) else {
        return Ok(None);
    };
    let mut value = ptr::null_mut();
    check(
        unsafe { sys::napi_get_reference_value(env.raw(), *reference, &mut value) },
        "read a registered helper",
    )?;
    Ok((!value.is_null()).then_some(value))
}

/// Registers this JS environment's helpers (called once by `resilience.js`): every function
/// among the own properties of `helpers`, under its key.
#[napi(skip_typescript, js_name = "__setJsHelpers")]
pub fn set_js_helpers(env: Env, helpers: Object) -> Result<()> {
    let mut kept = Vec::new();
    for key in Object::keys(&helpers)? {
        let Some(value) = helpers.get::<Unknown>(&key)? else {
            continue;
        };
        if value.get_type()? != ValueType::Function {
            continue;
        }
        let mut reference = ptr::null_mut();
        check(
            unsafe { sys::napi_create_reference(env.raw(), value.raw(), 1, &mut reference) },
            "keep a helper",
        )?;
        kept.push((key, reference));
    }
    env.set_instance_data(JsHelpers(kept), (), |mut ctx| {
        for (_, reference) in ctx.value.0.drain(..) {
            // SAFETY: the references were made in this env, which is being torn down.
            unsafe { sys::napi_delete_reference(ctx.env.raw(), reference) };
        }
    })
}

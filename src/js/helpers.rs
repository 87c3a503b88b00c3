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

/// Keeps `value` as this environment's helper `name` (replacing one of that name).
pub(crate) fn register(env: &Env, name: &str, value: Unknown<'_>) -> Result<()> {
    let mut reference = ptr::null_mut();
    check(
        unsafe { sys::napi_create_reference(env.raw(), value.raw(), 1, &mut reference) },
        "keep a helper",
    )?;
    if env.get_instance_data::<JsHelpers>()?.is_none() {
        env.set_instance_data(JsHelpers(Vec::new()), (), |mut ctx| {
            for (_, reference) in ctx.value.0.drain(..) {
                // SAFETY: the references were made in this env, which is being torn down.
                unsafe { sys::napi_delete_reference(ctx.env.raw(), reference) };
            }
        })?;
    }
    let Some(JsHelpers(helpers)) = env.get_instance_data::<JsHelpers>()? else {
        return Err(napi::Error::from_reason("could not keep a helper"));
    };
    if let Some(i) = helpers.iter().position(|(n, _)| n == name) {
        let (_, old) = helpers.swap_remove(i);
        // SAFETY: the reference was made in this env and is no longer kept.
        unsafe { sys::napi_delete_reference(env.raw(), old) };
    }
    helpers.push((name.to_string(), reference));
    Ok(())
}

/// Registers this JS environment's helpers (called once by `resilience.js`): every function
/// among the own properties of `helpers`, under its key.
#[napi(skip_typescript, js_name = "__setJsHelpers")]
pub fn set_js_helpers(env: Env, helpers: Object) -> Result<()> {
    for key in Object::keys(&helpers)? {
        if let Some(value) = helpers.get::<Unknown>(&key)? {
            if value.get_type()? == ValueType::Function {
                register(&env, &key, value)?;
            }
        }
    }
    Ok(())
}

//! The bytes of an `ArrayBuffer`, a `DataView` or a typed array (a `Buffer` is a `Uint8Array`),
//! read in place: one reader for HTTP request bodies and database parameters.

use std::ptr;

use napi::{sys, Env, JsValue, Result, Unknown};

/// What kind of binary value it is: `None` for an `ArrayBuffer` or a `DataView`, the element
/// type for a typed array.
pub(crate) type ElementType = Option<sys::napi_typedarray_type>;

/// The element type and the bytes of `value` (copied), or `None` when it is not binary.
pub(crate) fn bytes_of(env: &Env, value: &Unknown<'_>) -> Result<Option<(ElementType, Vec<u8>)>> {
    let (raw_env, raw) = (env.raw(), value.raw());
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut byte_length = 0usize;
    let mut kind = None;
    // SAFETY: N-API calls on a live value of this env; each reads the view it was made for.
    let status = unsafe {
        if value.is_arraybuffer()? {
            sys::napi_get_arraybuffer_info(raw_env, raw, &mut data, &mut byte_length)
        } else if value.is_dataview()? {
            let (mut buffer, mut offset) = (ptr::null_mut(), 0usize);
            sys::napi_get_dataview_info(
                raw_env,
                raw,
                &mut byte_length,
                &mut data,
                &mut buffer,
                &mut offset,
            )
        } else if value.is_typedarray()? {
            let (mut element, mut length, mut buffer, mut offset) = (0, 0usize, ptr::null_mut(), 0);
            let status = sys::napi_get_typedarray_info(
                raw_env,
                raw,
                &mut element,
                &mut length,
                &mut data,
                &mut buffer,
                &mut offset,
            );
            byte_length = length * element_size(element);
            kind = Some(element);
            status
        } else {
            return Ok(None);
        }
    };
    super::check(status, "read the bytes of a binary value")?;
    if byte_length == 0 || data.is_null() {
        return Ok(Some((kind, Vec::new())));
    }
    // SAFETY: N-API points `data` at the view's first byte (offset applied) and the view has
    // `byte_length` bytes; the value is alive for this call, and the bytes are copied now.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), byte_length) };
    Ok(Some((kind, bytes.to_vec())))
}

/// Bytes per element of a `napi_typedarray_type`.
fn element_size(kind: sys::napi_typedarray_type) -> usize {
    match kind {
        0..=2 => 1,      // Int8, Uint8, Uint8Clamped
        3 | 4 | 11 => 2, // Int16, Uint16, Float16
        5..=7 => 4,      // Int32, Uint32, Float32
        _ => 8,          // Float64, BigInt64, BigUint64
    }
}

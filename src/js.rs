//! Small, checked wrappers over the raw N-API calls the binding needs on hot paths.

use std::ptr;

use napi::sys;

pub fn check(status: sys::napi_status, what: &str) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "{what} failed (napi status {status})"
        )))
    }
}

/// Bytes per element of each napi_typedarray_type (int8 .. biguint64).
const ELEMENT_SIZE: [usize; 11] = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8];

/// The current memory of an ArrayBufferView (TypedArray or DataView): pointer and byte
/// length, read fresh each call. A detached or shrunk buffer reports its new length
/// (zero when detached), so callers copy `min(len, n)` and never run off the end.
/// `None` if `value` is not a view.
pub fn view_bytes(env: sys::napi_env, value: sys::napi_value) -> Option<(*mut u8, usize)> {
    let mut kind = 0;
    let mut length = 0usize;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: all out-pointers are locals; napi checks that value is a TypedArray.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            ptr::null_mut(),
            &mut offset,
        )
    };
    if status == sys::Status::napi_ok {
        let size = ELEMENT_SIZE.get(kind as usize).copied().unwrap_or(1);
        return Some((data.cast(), if data.is_null() { 0 } else { length * size }));
    }
    // SAFETY: as above, for a DataView.
    let status = unsafe {
        sys::napi_get_dataview_info(
            env,
            value,
            &mut length,
            &mut data,
            ptr::null_mut(),
            &mut offset,
        )
    };
    (status == sys::Status::napi_ok).then(|| (data.cast(), if data.is_null() { 0 } else { length }))
}

/// Copies `bytes` into the view behind `reference`, as far as the view still reaches.
pub fn copy_into_ref(env: sys::napi_env, reference: sys::napi_ref, bytes: &[u8]) {
    let Some(value) = ref_value(env, reference) else {
        return;
    };
    if let Some((dst, len)) = view_bytes(env, value) {
        let n = len.min(bytes.len());
        if n > 0 {
            // SAFETY: dst is valid for len >= n bytes right now (read fresh above, on the
            // JS thread, with no JS running); bytes is our own memory, so no overlap.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), dst, n) };
        }
    }
}

pub fn new_ref(
    env: sys::napi_env,
    value: sys::napi_value,
    count: u32,
) -> napi::Result<sys::napi_ref> {
    let mut r = ptr::null_mut();
    // SAFETY: value is a live handle in the current scope; r is a local out-pointer.
    check(
        unsafe { sys::napi_create_reference(env, value, count, &mut r) },
        "napi_create_reference",
    )?;
    Ok(r)
}

pub fn ref_value(env: sys::napi_env, reference: sys::napi_ref) -> Option<sys::napi_value> {
    let mut v = ptr::null_mut();
    // SAFETY: reference was created by new_ref and not yet deleted.
    let status = unsafe { sys::napi_get_reference_value(env, reference, &mut v) };
    (status == sys::Status::napi_ok && !v.is_null()).then_some(v)
}

pub fn delete_ref(env: sys::napi_env, reference: sys::napi_ref) {
    // SAFETY: each reference is deleted exactly once, by its owner.
    unsafe { sys::napi_delete_reference(env, reference) };
}

/// Makes a reference strong (1) or weak (0).
pub fn set_ref_strength(env: sys::napi_env, reference: sys::napi_ref, strong: bool) {
    let mut count = 0;
    // SAFETY: reference is live; the count only moves between 0 and 1 under our control.
    unsafe {
        if strong {
            sys::napi_reference_ref(env, reference, &mut count);
        } else {
            sys::napi_reference_unref(env, reference, &mut count);
        }
    }
}

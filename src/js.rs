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

/// A native failure as JS sees it: an Error whose `errno` property is the negated
/// errno (as Node's fs errors have it) and whose message is the system's text; lib/
/// turns it into an `IoError` with the syscall and path it knows.
pub fn errno_error(env: sys::napi_env, e: std::io::Error) -> napi::Error {
    let errno = e.raw_os_error().unwrap_or(libc::EIO);
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let mut message = ptr::null_mut();
    let mut error = ptr::null_mut();
    let mut value = ptr::null_mut();
    // SAFETY: env is the calling thread's env; every out-pointer is a local, and the
    // message bytes outlive the call that copies them.
    let made = unsafe {
        sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut message)
            == sys::Status::napi_ok
            && sys::napi_create_error(env, ptr::null_mut(), message, &mut error)
                == sys::Status::napi_ok
            && sys::napi_create_int32(env, -errno, &mut value) == sys::Status::napi_ok
            && sys::napi_set_named_property(env, error, c"errno".as_ptr(), value)
                == sys::Status::napi_ok
    };
    if !made {
        return napi::Error::from_reason(text);
    }
    // SAFETY: `error` is a live value of this env, in the current handle scope.
    napi::Error::from(unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env, error) })
}

/// Bytes per element of each napi_typedarray_type (int8 .. biguint64).
const ELEMENT_SIZE: [usize; 11] = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8];

/// The current memory of an ArrayBufferView (TypedArray or DataView): pointer and byte
/// length, read fresh each call. A detached or shrunk buffer reports its new length
/// (zero when detached), so callers copy `min(len, n)` and never run off the end.
/// `None` if `value` is not a view.
pub fn view_bytes(env: sys::napi_env, value: sys::napi_value) -> Option<(*mut u8, usize)> {
    if let Some(info) = typed_array_info(env, value) {
        let size = ELEMENT_SIZE.get(info.kind as usize).copied().unwrap_or(1);
        let data = info.data;
        return Some((
            data.cast(),
            if data.is_null() {
                0
            } else {
                info.length * size
            },
        ));
    }
    let mut length = 0usize;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: all out-pointers are locals; napi checks that value is a DataView.
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

/// Runs `f` on the bytes of view `value` as they are now (on the JS thread, with no JS
/// running while `f` runs); `None` if `value` is not a view.
pub fn with_view_bytes<R>(
    env: sys::napi_env,
    value: sys::napi_value,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    let (ptr, len) = view_bytes(env, value)?;
    if len == 0 {
        return Some(f(&[]));
    }
    // SAFETY: ptr is valid for len bytes right now (read fresh above); no JS runs, so
    // nothing can detach or resize the view while `f` borrows its bytes.
    Some(f(unsafe { std::slice::from_raw_parts(ptr, len) }))
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
    let status = unsafe { sys::napi_create_reference(env, value, count, &mut r) };
    check(status, "napi_create_reference")?;
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

/// The elements of a JS array, or `None` if `value` is not an array.
pub fn array_elements(env: sys::napi_env, value: sys::napi_value) -> Option<Vec<sys::napi_value>> {
    let mut is_array = false;
    // SAFETY: value is a live handle; is_array is a local out-pointer.
    let status = unsafe { sys::napi_is_array(env, value, &mut is_array) };
    if status != sys::Status::napi_ok || !is_array {
        return None;
    }
    let mut length = 0u32;
    // SAFETY: value is an array (checked above); length is a local out-pointer.
    unsafe { sys::napi_get_array_length(env, value, &mut length) };
    (0..length).map(|i| element(env, value, i)).collect()
}

/// Element `i` of a JS array (or any object), or `None` if it cannot be read.
pub fn element(env: sys::napi_env, value: sys::napi_value, i: u32) -> Option<sys::napi_value> {
    let mut element = ptr::null_mut();
    // SAFETY: value is a live handle; napi checks it is an object; element is a local
    // out-pointer.
    let status = unsafe { sys::napi_get_element(env, value, i, &mut element) };
    (status == sys::Status::napi_ok && !element.is_null()).then_some(element)
}

/// The UTF-8 bytes of a JS string, or `None` if `value` is not a string.
pub fn string_bytes(env: sys::napi_env, value: sys::napi_value) -> Option<Vec<u8>> {
    let mut len = 0usize;
    // SAFETY: a null buffer asks only for the length; len is a local out-pointer.
    let status =
        unsafe { sys::napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) };
    if status != sys::Status::napi_ok {
        return None;
    }
    let mut bytes = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: bytes has room for len bytes and the terminating NUL napi writes.
    unsafe {
        sys::napi_get_value_string_utf8(
            env,
            value,
            bytes.as_mut_ptr().cast(),
            len + 1,
            &mut written,
        )
    };
    bytes.truncate(written);
    Some(bytes)
}

/// Detaches the ArrayBuffer behind TypedArray `value`: every view of it then has
/// length 0. False if `value` is not a TypedArray or its buffer cannot be detached.
pub fn detach_view(env: sys::napi_env, value: sys::napi_value) -> bool {
    let Some(info) = typed_array_info(env, value) else {
        return false;
    };
    let buffer = info.buffer;
    // SAFETY: `buffer` is the view's live ArrayBuffer; napi refuses one that is not
    // detachable.
    unsafe { sys::napi_detach_arraybuffer(env, buffer) == sys::Status::napi_ok }
}

/// What `napi_get_typedarray_info` says of a TypedArray.
struct TypedArrayInfo {
    kind: sys::napi_typedarray_type,
    length: usize,
    data: *mut std::ffi::c_void,
    buffer: sys::napi_value,
}

/// The element type, length, data pointer and ArrayBuffer of `value`, if it is a
/// TypedArray.
fn typed_array_info(env: sys::napi_env, value: sys::napi_value) -> Option<TypedArrayInfo> {
    let mut kind = 0;
    let mut length = 0usize;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: all out-pointers are locals; napi checks that value is a TypedArray.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    (status == sys::Status::napi_ok).then_some(TypedArrayInfo {
        kind,
        length,
        data,
        buffer,
    })
}

/// A Buffer over `len` bytes at `data`, which `hint` keeps valid: V8 hands `hint` to
/// `finalize` (which must take it back as a `Box<H>`) when the Buffer's backing store
/// dies, wherever it was transferred.
///
/// # Safety
/// `data` must stay valid for `len` bytes for as long as `hint` lives.
pub unsafe fn external_buffer<'a, H>(
    env: sys::napi_env,
    data: *mut u8,
    len: usize,
    hint: H,
    finalize: unsafe extern "C" fn(sys::napi_env, *mut std::ffi::c_void, *mut std::ffi::c_void),
) -> napi::Result<napi::bindgen_prelude::Unknown<'a>> {
    let hint = Box::into_raw(Box::new(hint));
    let mut out = ptr::null_mut();
    // SAFETY: the caller keeps `data` valid while `hint` lives; napi gives `hint` to
    // `finalize` exactly once, when the backing store dies.
    let status = unsafe {
        sys::napi_create_external_buffer(
            env,
            len,
            data.cast(),
            Some(finalize),
            hint.cast(),
            &mut out,
        )
    };
    if let Err(e) = check(status, "napi_create_external_buffer") {
        // SAFETY: napi did not take the hint, so we still own it.
        drop(unsafe { Box::from_raw(hint) });
        return Err(e);
    }
    // SAFETY: out is a live Buffer handle in the current scope.
    Ok(unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env, out) })
}

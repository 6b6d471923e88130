//! JS values to kernel-facing memory, shared by the backends: copies of views (what a
//! write sends), landing zones for reads with a reference to copy back into, windows
//! of library-owned memory, positions and paths.

use std::sync::Arc;

use iobuf::{AlignedBuf, IoBuf};
use napi::bindgen_prelude::{BigInt, Either, Unknown};
use napi::{sys, JsValue};

use crate::js;
use crate::memory::NativeMemory;
use crate::source::errno_error;

pub fn out_of_memory(env: sys::napi_env) -> napi::Error {
    errno_error(env, std::io::Error::from_raw_os_error(libc::ENOMEM))
}

/// A JS position (validated by lib/): negative means "the file position".
pub fn position(position: Either<f64, BigInt>) -> Option<u64> {
    match position {
        Either::A(p) if p < 0.0 => None,
        Either::A(p) => Some(p as u64),
        Either::B(b) => {
            let (v, _lossless) = b.get_i64();
            (v >= 0).then_some(v as u64)
        }
    }
}

/// An owned copy of a view's current bytes (what a write sends).
pub fn copy_of_view(env: sys::napi_env, view: &Unknown) -> napi::Result<IoBuf> {
    js::with_view_bytes(env, view.raw(), AlignedBuf::copy_of)
        .ok_or_else(|| napi::Error::from_reason("not an ArrayBufferView"))?
        .map(IoBuf::Owned)
        .ok_or_else(|| out_of_memory(env))
}

pub fn copies_of_views(env: sys::napi_env, views: &[Unknown]) -> napi::Result<Vec<IoBuf>> {
    views.iter().map(|v| copy_of_view(env, v)).collect()
}

/// A deferred landing zone as large as the view (allocated when the op gets its SQE),
/// plus a reference to copy into later.
pub fn deferred_landing_for_view(
    env: sys::napi_env,
    view: &Unknown,
) -> napi::Result<(IoBuf, sys::napi_ref)> {
    landing_with(env, view, |len| Some(IoBuf::deferred_landing(len)))
}

/// An owned landing zone as large as the view, plus a reference to copy into later.
pub fn landing_for_view(
    env: sys::napi_env,
    view: &Unknown,
) -> napi::Result<(IoBuf, sys::napi_ref)> {
    landing_with(env, view, IoBuf::landing)
}

/// `make(view length)` as the landing zone, plus a reference to the view.
fn landing_with(
    env: sys::napi_env,
    view: &Unknown,
    make: impl FnOnce(usize) -> Option<IoBuf>,
) -> napi::Result<(IoBuf, sys::napi_ref)> {
    let (_, len) = js::view_bytes(env, view.raw())
        .ok_or_else(|| napi::Error::from_reason("not an ArrayBufferView"))?;
    let buf = make(len).ok_or_else(|| out_of_memory(env))?;
    Ok((buf, js::new_ref(env, view.raw(), 1)?))
}

/// Landing zones for every view (a vectored read), with their references.
pub fn landings_for_views(
    env: sys::napi_env,
    views: &[Unknown],
) -> napi::Result<(Vec<IoBuf>, Vec<sys::napi_ref>)> {
    let mut bufs = Vec::with_capacity(views.len());
    let mut refs = Vec::with_capacity(views.len());
    for view in views {
        match landing_for_view(env, view) {
            Ok((buf, r)) => {
                bufs.push(buf);
                refs.push(r);
            }
            Err(e) => {
                refs.into_iter().for_each(|r| js::delete_ref(env, r));
                return Err(e);
            }
        }
    }
    Ok((bufs, refs))
}

/// A window of library-owned memory (zero-copy).
pub fn shared_window(mem: &NativeMemory, offset: f64, length: f64) -> napi::Result<IoBuf> {
    IoBuf::shared(Arc::clone(mem.inner()), offset as usize, length as usize)
        .ok_or_else(|| napi::Error::from_reason("window outside the aligned buffer"))
}

/// The first `count` rows of `fields` f64 values in a Float64Array.
///
/// # Safety
/// The slice borrows the array's memory: the caller must not let JS run (and so
/// detach or resize it) while the slice lives.
pub unsafe fn f64_rows<'a>(
    env: sys::napi_env,
    view: &Unknown,
    count: u32,
    fields: usize,
) -> napi::Result<&'a [f64]> {
    // SAFETY: forwarded contract.
    unsafe { f64_rows_mut(env, view, count, fields) }.map(|rows| &*rows)
}

/// `f64_rows`, writable.
///
/// # Safety
/// As for `f64_rows`, and no other slice over the same memory may be alive.
pub unsafe fn f64_rows_mut<'a>(
    env: sys::napi_env,
    view: &Unknown,
    count: u32,
    fields: usize,
) -> napi::Result<&'a mut [f64]> {
    let (ptr, len) = js::view_bytes(env, view.raw())
        .ok_or_else(|| napi::Error::from_reason("not an ArrayBufferView"))?;
    let values = count as usize * fields;
    if ptr.align_offset(std::mem::align_of::<f64>()) != 0 || len < values * 8 {
        return Err(napi::Error::from_reason("table too small or misaligned"));
    }
    if values == 0 {
        return Ok(&mut []);
    }
    // SAFETY: ptr is 8-aligned and valid for len >= values * 8 bytes; the caller keeps
    // JS from running (no detach) and holds no other slice over it.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<f64>(), values) })
}

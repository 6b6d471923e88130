//! `NativeMemory`: library-owned, aligned memory shown to JS as a Buffer. The kernel
//! may use it zero-copy: each op holds an `Arc` to it, so neither JS garbage
//! collection nor a detach/transfer of the Buffer can free it under the kernel.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::Unknown;
use napi::{sys, Env};
use napi_derive::napi;
use ring_core::AlignedBuf;

use crate::js;

#[napi]
pub struct NativeMemory {
    mem: Arc<AlignedBuf>,
}

impl NativeMemory {
    pub fn inner(&self) -> &Arc<AlignedBuf> {
        &self.mem
    }
}

unsafe extern "C" fn release_memory(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: hint is the Box<Arc<..>> leaked in `buffer`; V8 calls this exactly once,
    // when the backing store (wherever it was transferred) dies.
    drop(unsafe { Box::from_raw(hint as *mut Arc<AlignedBuf>) });
}

#[napi]
impl NativeMemory {
    /// `size` zeroed bytes aligned to `alignment` (a power of two).
    #[napi(constructor)]
    pub fn new(env: napi::Env, size: f64, alignment: u32) -> napi::Result<Self> {
        let mem = AlignedBuf::zeroed(size as usize, alignment as usize)
            .ok_or_else(|| crate::views::out_of_memory(env.raw()))?;
        Ok(Self { mem: Arc::new(mem) })
    }

    /// A Buffer over the memory. The Buffer's backing store holds its own `Arc`.
    #[napi]
    pub fn buffer(&self, env: Env) -> napi::Result<Unknown<'_>> {
        let raw_env = env.raw();
        let hint = Box::into_raw(Box::new(Arc::clone(&self.mem)));
        let mut out = ptr::null_mut();
        // SAFETY: the memory stays valid until release_memory drops the Arc in `hint`.
        let status = unsafe {
            sys::napi_create_external_buffer(
                raw_env,
                self.mem.len(),
                self.mem.as_ptr().cast(),
                Some(release_memory),
                hint.cast(),
                &mut out,
            )
        };
        if let Err(e) = js::check(status, "napi_create_external_buffer") {
            // SAFETY: napi did not take the hint, so we still own it.
            drop(unsafe { Box::from_raw(hint) });
            return Err(e);
        }
        // SAFETY: out is a live Buffer handle in the current scope.
        Ok(unsafe { Unknown::from_raw_unchecked(raw_env, out) })
    }
}

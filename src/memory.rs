//! `NativeMemory`: library-owned, aligned memory shown to JS as a Buffer. The kernel
//! may use it zero-copy: each op holds an `Arc` to it, so neither JS garbage
//! collection nor a detach/transfer of the Buffer can free it under the kernel.

use std::ffi::c_void;
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
    // SAFETY: hint is the Box<Arc<..>> js::external_buffer made in `buffer`; V8 calls this exactly once,
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
        let hint = Arc::clone(&self.mem);
        // SAFETY: the memory stays valid until release_memory drops the Arc in `hint`.
        unsafe {
            js::external_buffer(
                env.raw(),
                self.mem.as_ptr(),
                self.mem.len(),
                hint,
                release_memory,
            )
        }
    }
}

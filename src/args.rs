//! `OpArgs` over JS values: how a generic `NativeRing::submit` call hands an op its
//! arguments. Numbers come from one array, everything else (paths, buffers, lists of
//! buffers) from another, each in the op's own order (`ring_core::op`); library-owned
//! memory used in place comes as its own argument (napi-rs converts class instances
//! only in a method's own arguments).

use std::ffi::CString;
use std::io;

use iobuf::IoBuf;
use napi::bindgen_prelude::Unknown;
use napi::{sys, JsValue};
use ring_core::OpArgs;

use crate::js;
use crate::memory::NativeMemory;
use crate::net::NativeBufRing;
use crate::views::{copy_of_view, landing_for_view, shared_window};

fn invalid() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

/// The arguments of one op, and the JS views its outputs go back to (in order).
pub struct JsArgs<'a> {
    env: sys::napi_env,
    nums: std::slice::Iter<'a, f64>,
    objs: std::slice::Iter<'a, Unknown<'a>>,
    /// References to the views outputs are copied into once the completion is reaped.
    pub targets: Vec<sys::napi_ref>,
    /// The library-owned memory of the op's one `shared` argument, if it has one.
    memory: Option<&'a NativeMemory>,
    /// The provided buffer ring the op selects from, if it takes one.
    buf_ring: Option<&'a NativeBufRing>,
}

impl<'a> JsArgs<'a> {
    pub fn new(
        env: sys::napi_env,
        nums: &'a [f64],
        objs: &'a [Unknown<'a>],
        memory: Option<&'a NativeMemory>,
        buf_ring: Option<&'a NativeBufRing>,
    ) -> Self {
        Self {
            env,
            nums: nums.iter(),
            objs: objs.iter(),
            targets: Vec::new(),
            memory,
            buf_ring,
        }
    }

    /// Releases the targets taken so far (the op was refused).
    pub fn release(self) {
        for r in self.targets {
            js::delete_ref(self.env, r);
        }
    }

    fn next_obj(&mut self) -> io::Result<sys::napi_value> {
        self.objs.next().map(|o| o.raw()).ok_or_else(invalid)
    }

    fn list(&mut self) -> io::Result<Vec<sys::napi_value>> {
        let value = self.next_obj()?;
        js::array_elements(self.env, value).ok_or_else(invalid)
    }

    /// A view that lies inside the op's library-owned memory, as a window of it: a read
    /// or write with options (a link, IOSQE_ASYNC, RWF_* flags) stays zero-copy.
    fn window_of(&self, value: sys::napi_value) -> Option<IoBuf> {
        let mem = self.memory?;
        let (ptr, len) = js::view_bytes(self.env, value)?;
        let base = mem.inner().as_ptr() as usize;
        let start = (ptr as usize).checked_sub(base)?;
        IoBuf::shared(std::sync::Arc::clone(mem.inner()), start, len)
    }

    fn copy(&self, value: sys::napi_value) -> io::Result<IoBuf> {
        if let Some(window) = self.window_of(value) {
            return Ok(window);
        }
        // SAFETY: value is a live handle of this call's scope.
        let view = unsafe { Unknown::from_raw_unchecked(self.env, value) };
        copy_of_view(self.env, &view).map_err(|_| invalid())
    }

    fn landing(&mut self, value: sys::napi_value) -> io::Result<IoBuf> {
        if let Some(window) = self.window_of(value) {
            return Ok(window);
        }
        // SAFETY: value is a live handle of this call's scope.
        let view = unsafe { Unknown::from_raw_unchecked(self.env, value) };
        let (buf, target) = landing_for_view(self.env, &view).map_err(|_| invalid())?;
        self.targets.push(target);
        Ok(buf)
    }
}

impl OpArgs for JsArgs<'_> {
    fn num(&mut self) -> io::Result<f64> {
        self.nums.next().copied().ok_or_else(invalid)
    }

    fn path(&mut self) -> io::Result<CString> {
        let value = self.next_obj()?;
        let bytes = match js::string_bytes(self.env, value) {
            Some(bytes) => bytes,
            None => js::with_view_bytes(self.env, value, <[u8]>::to_vec).ok_or_else(invalid)?,
        };
        CString::new(bytes).map_err(|_| invalid())
    }

    fn input(&mut self) -> io::Result<IoBuf> {
        let value = self.next_obj()?;
        self.copy(value)
    }

    fn output(&mut self) -> io::Result<IoBuf> {
        let value = self.next_obj()?;
        self.landing(value)
    }

    fn shared(&mut self) -> io::Result<IoBuf> {
        let mem = self.memory.take().ok_or_else(invalid)?;
        let offset = self.num()?;
        let length = self.num()?;
        shared_window(mem, offset, length).map_err(|_| invalid())
    }

    fn inputs(&mut self) -> io::Result<Vec<IoBuf>> {
        let values = self.list()?;
        values.into_iter().map(|v| self.copy(v)).collect()
    }

    fn outputs(&mut self) -> io::Result<Vec<IoBuf>> {
        let values = self.list()?;
        values.into_iter().map(|v| self.landing(v)).collect()
    }

    fn buffer_ring(&mut self) -> io::Result<std::sync::Arc<ring_core::BufRing>> {
        let ring = self.buf_ring.take().ok_or_else(invalid)?;
        Ok(std::sync::Arc::clone(ring.inner()))
    }
}

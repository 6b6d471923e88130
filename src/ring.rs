//! `NativeRing`: the JS-facing ring. Converts JS values into `ring_core::Op`s, keeps
//! the JS views an op's output is copied into, and delivers completions to a JS
//! dispatch function from the eventfd watcher. No I/O logic lives here.

use std::cell::{Cell, RefCell};
use std::ffi::{c_void, CString};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use napi::bindgen_prelude::{BigInt, Either, Unknown};
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use ring_core::{Completion, IoBuf, Op, Ring, RingOptions, CURRENT_POSITION, TEARDOWN_DEADLINE};

use crate::js;
use crate::memory::NativeMemory;
use crate::uv::{LoopSource, LoopWatcher};

/// The JS views an op's output is copied into when it completes (empty for most ops).
pub struct Targets(Vec<sys::napi_ref>);

impl Targets {
    const NONE: Targets = Targets(Vec::new());

    fn release(self, env: sys::napi_env) {
        for r in self.0 {
            js::delete_ref(env, r);
        }
    }
}

/// Completions are handed to JS as f64 triples in a shared Float64Array.
const SLOT_FIELDS: usize = 3;

/// State shared by the JS object, the libuv handles and the env cleanup hook.
pub struct RingShared {
    env: sys::napi_env,
    ring: RefCell<Option<Ring<Targets>>>,
    watcher: RefCell<Option<LoopWatcher>>,
    /// The JS dispatch function: strong while ops are pending, weak when idle, so an
    /// idle ring that JS dropped can be collected.
    dispatch: sys::napi_ref,
    dispatch_strong: Cell<bool>,
    /// Float64Array the completions are written into (strong: it cannot reach back).
    completions: sys::napi_ref,
    async_ctx: sys::napi_async_context,
    /// The strong reference owned by the env cleanup hook, null once released.
    hook: Cell<*const RingShared>,
    closed: Cell<bool>,
    scratch: RefCell<Vec<Completion<Targets>>>,
}

fn closed_error() -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        "ERR_USE_AFTER_CLOSE: the ring was destroyed",
    )
}

/// Pending-op errors surface to JS with the errno as `code` ("12"), for lib/ to map.
fn errno_error(e: std::io::Error) -> napi::Error {
    let errno = e.raw_os_error().unwrap_or(libc::EIO);
    napi::Error::new(napi::Status::GenericFailure, format!("{errno}"))
}

fn out_of_memory() -> napi::Error {
    errno_error(std::io::Error::from_raw_os_error(libc::ENOMEM))
}

fn position(position: Either<f64, BigInt>) -> u64 {
    match position {
        Either::A(p) if p < 0.0 => CURRENT_POSITION,
        Either::A(p) => p as u64,
        Either::B(b) => {
            let (v, _lossless) = b.get_i64();
            if v < 0 {
                CURRENT_POSITION
            } else {
                v as u64
            }
        }
    }
}

/// IORING_OP_READ or IORING_OP_WRITE of `buf` at the JS position `pos`.
fn rw_op(write: bool, fd: i32, buf: IoBuf, pos: Either<f64, BigInt>) -> Op {
    let offset = position(pos);
    if write {
        Op::Write { fd, buf, offset }
    } else {
        Op::Read { fd, buf, offset }
    }
}

fn c_path(path: String) -> napi::Result<CString> {
    CString::new(path).map_err(|_| napi::Error::from_reason("path contains a NUL byte"))
}

/// An owned copy of a view's current bytes (what a write sends).
fn copy_of_view(env: sys::napi_env, view: &Unknown) -> napi::Result<IoBuf> {
    let (ptr, len) = js::view_bytes(env, view.raw())
        .ok_or_else(|| napi::Error::from_reason("not an ArrayBufferView"))?;
    let bytes = if len == 0 {
        &[][..]
    } else {
        // SAFETY: ptr is valid for len bytes right now, on the JS thread, no JS running.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    ring_core::AlignedBuf::copy_of(bytes)
        .map(IoBuf::Owned)
        .ok_or_else(out_of_memory)
}

/// An owned landing zone as large as the view, plus a reference to copy into later.
fn landing_for_view(env: sys::napi_env, view: &Unknown) -> napi::Result<(IoBuf, sys::napi_ref)> {
    let (_, len) = js::view_bytes(env, view.raw())
        .ok_or_else(|| napi::Error::from_reason("not an ArrayBufferView"))?;
    let buf = IoBuf::landing(len).ok_or_else(out_of_memory)?;
    Ok((buf, js::new_ref(env, view.raw(), 1)?))
}

fn shared_window(mem: &NativeMemory, offset: f64, length: f64) -> napi::Result<IoBuf> {
    IoBuf::shared(Arc::clone(mem.inner()), offset as usize, length as usize)
        .ok_or_else(|| napi::Error::from_reason("window outside the aligned buffer"))
}

impl RingShared {
    fn push(&self, op: Op, targets: Targets) -> napi::Result<f64> {
        let id = {
            let mut ring = self.ring.borrow_mut();
            let Some(ring) = ring.as_mut() else {
                targets.release(self.env);
                return Err(closed_error());
            };
            ring.push(op, targets)
        };
        self.update_referenced();
        Ok(id as f64)
    }

    /// Keeps the loop alive and the dispatch function reachable exactly while ops are
    /// pending.
    fn update_referenced(&self) {
        let pending = self.ring.borrow().as_ref().is_some_and(|r| r.pending() > 0);
        if let Some(w) = self.watcher.borrow_mut().as_mut() {
            w.set_referenced(pending);
        }
        if !self.closed.get() && self.dispatch_strong.get() != pending {
            js::set_ref_strength(self.env, self.dispatch, pending);
            self.dispatch_strong.set(pending);
        }
    }

    /// Copies outputs into their JS views and hands the batch to the JS dispatch
    /// function inside a callback scope (so promise continuations run right after).
    fn deliver(&self, batch: &mut Vec<Completion<Targets>>) {
        let env = self.env;
        let mut start = 0;
        while start < batch.len() {
            let table = js::ref_value(env, self.completions).and_then(|v| js::view_bytes(env, v));
            let Some((table_ptr, table_len)) = table else {
                break;
            };
            let capacity = table_len / (8 * SLOT_FIELDS);
            if capacity == 0 {
                break;
            }
            let end = (start + capacity).min(batch.len());
            for (i, c) in batch[start..end].iter_mut().enumerate() {
                // SAFETY: the completion was reaped; the kernel is done with the op.
                for (index, bytes) in unsafe { c.op.output(c.result) } {
                    if let Some(&target) = c.user.0.get(index) {
                        js::copy_into_ref(env, target, bytes);
                    }
                }
                std::mem::replace(&mut c.user, Targets::NONE).release(env);
                let row = [c.id as f64, c.result as f64, c.flags as f64];
                // SAFETY: i < capacity, so the row lies inside the table's current bytes.
                unsafe {
                    ptr::copy_nonoverlapping(
                        row.as_ptr(),
                        table_ptr.cast::<f64>().add(i * SLOT_FIELDS),
                        3,
                    )
                };
            }
            self.call_dispatch((end - start) as u32);
            start = end;
        }
        for c in batch.drain(..) {
            c.user.release(env);
        }
    }

    fn call_dispatch(&self, count: u32) {
        let env = self.env;
        let Some(func) = js::ref_value(env, self.dispatch) else {
            return;
        };
        let mut recv = ptr::null_mut();
        let mut arg = ptr::null_mut();
        let mut result = ptr::null_mut();
        // SAFETY: called on the JS thread with a handle scope open; all handles are live.
        unsafe {
            sys::napi_get_global(env, &mut recv);
            sys::napi_create_uint32(env, count, &mut arg);
            let status =
                sys::napi_make_callback(env, self.async_ctx, recv, func, 1, &arg, &mut result);
            if status == sys::Status::napi_pending_exception {
                let mut err = ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut err);
                sys::napi_fatal_exception(env, err);
            }
        }
    }

    /// Reaps every ready completion, delivers it, and submits what the continuations
    /// queued; repeats while the kernel keeps completing inline (page-cache I/O).
    fn drain(&self) {
        let env = self.env;
        let mut scope = ptr::null_mut();
        // SAFETY: we are in a libuv callback on the JS thread, outside any JS frame.
        unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        for _ in 0..16 {
            let mut batch = std::mem::take(&mut *self.scratch.borrow_mut());
            if let Some(ring) = self.ring.borrow_mut().as_mut() {
                ring.clear_eventfd();
                ring.reap(|c| batch.push(c));
            }
            let done = batch.is_empty();
            if !done {
                self.deliver(&mut batch);
            }
            *self.scratch.borrow_mut() = batch;
            if let Some(ring) = self.ring.borrow_mut().as_mut() {
                let _ = ring.flush();
            }
            if done {
                break;
            }
        }
        self.update_referenced();
        // SAFETY: closes the scope opened above.
        unsafe { sys::napi_close_handle_scope(env, scope) };
    }

    /// Closes the ring: cancels and waits for anything still outstanding (normally
    /// nothing: JS waits for its promises first), frees the ring, closes the libuv
    /// handles and releases the JS references. Safe to call more than once.
    fn teardown(&self) {
        if self.closed.replace(true) {
            return;
        }
        let env = self.env;
        if let Some(mut ring) = self.ring.borrow_mut().take() {
            if ring.outstanding() > 0 {
                ring.shutdown(Instant::now() + TEARDOWN_DEADLINE, |c| c.user.release(env));
            }
            // Drop leaks the ring instead of freeing it if the kernel still holds ops.
            drop(ring);
        }
        if let Some(mut w) = self.watcher.borrow_mut().take() {
            w.close::<RingShared>();
        }
        js::delete_ref(env, self.dispatch);
        js::delete_ref(env, self.completions);
        // SAFETY: async_ctx came from napi_async_init and is destroyed once, here.
        unsafe { sys::napi_async_destroy(env, self.async_ctx) };
        let hook = self.hook.replace(ptr::null());
        if !hook.is_null() {
            // SAFETY: `hook` is the strong reference given to the cleanup hook, which
            // has not run (it nulls the field first); we unregister it, then drop it.
            unsafe {
                sys::napi_remove_env_cleanup_hook(env, Some(env_cleanup), hook as *mut c_void);
                drop(Rc::from_raw(hook));
            }
        }
    }
}

impl LoopSource for RingShared {
    fn on_readable(&self) {
        self.drain();
    }

    fn before_block(&self) {
        if let Some(ring) = self.ring.borrow_mut().as_mut() {
            if ring.has_unsubmitted() {
                let _ = ring.flush();
            }
        }
    }
}

/// Runs when the JS thread (main or Worker) tears its environment down: cancel and
/// wait for every op so no memory is freed under the kernel.
unsafe extern "C" fn env_cleanup(arg: *mut c_void) {
    // SAFETY: arg is the strong reference stored in `hook`; taking it back here is the
    // one release of it (teardown sees a null `hook` and leaves it alone).
    let state = unsafe { Rc::from_raw(arg as *const RingShared) };
    state.hook.set(ptr::null());
    state.teardown();
}

#[napi]
pub struct NativeRing {
    state: Rc<RingShared>,
}

#[napi]
impl NativeRing {
    /// `dispatch(count)` is called with completions written to `completions` as
    /// (id, result, flags) triples.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        entries: u32,
        dispatch: Unknown,
        completions: Unknown,
    ) -> napi::Result<Self> {
        let raw_env = env.raw();
        let ring = Ring::new(RingOptions { entries }).map_err(errno_error)?;
        let mut resource = ptr::null_mut();
        let mut name = ptr::null_mut();
        let mut async_ctx = ptr::null_mut();
        // SAFETY: plain N-API calls on the JS thread with local out-pointers.
        unsafe {
            js::check(
                sys::napi_create_object(raw_env, &mut resource),
                "napi_create_object",
            )?;
            js::check(
                sys::napi_create_string_utf8(raw_env, c"uring-aio:Ring".as_ptr(), -1, &mut name),
                "napi_create_string_utf8",
            )?;
            js::check(
                sys::napi_async_init(raw_env, resource, name, &mut async_ctx),
                "napi_async_init",
            )?;
        }
        let eventfd = ring.eventfd();
        let state = Rc::new(RingShared {
            env: raw_env,
            ring: RefCell::new(Some(ring)),
            watcher: RefCell::new(None),
            dispatch: js::new_ref(raw_env, dispatch.raw(), 0)?,
            dispatch_strong: Cell::new(false),
            completions: js::new_ref(raw_env, completions.raw(), 1)?,
            async_ctx,
            hook: Cell::new(ptr::null()),
            closed: Cell::new(false),
            scratch: RefCell::new(Vec::new()),
        });
        let watcher = LoopWatcher::start(raw_env, eventfd, &state);
        match watcher {
            Ok(w) => *state.watcher.borrow_mut() = Some(w),
            Err(e) => {
                state.teardown();
                return Err(e);
            }
        }
        let hook = Rc::into_raw(Rc::clone(&state));
        state.hook.set(hook);
        // SAFETY: env_cleanup takes back exactly this strong reference.
        unsafe { sys::napi_add_env_cleanup_hook(raw_env, Some(env_cleanup), hook as *mut c_void) };
        Ok(Self { state })
    }

    /// Caller operations accepted and not yet settled.
    #[napi(getter)]
    pub fn pending(&self) -> u32 {
        self.state
            .ring
            .borrow()
            .as_ref()
            .map_or(0, |r| r.pending() as u32)
    }

    /// io_uring_enter calls made to submit so far (batching is observable).
    #[napi(getter)]
    pub fn enters(&self) -> f64 {
        self.state
            .ring
            .borrow()
            .as_ref()
            .map_or(0.0, |r| r.enters() as f64)
    }

    #[napi(getter)]
    pub fn sq_entries(&self) -> u32 {
        self.state
            .ring
            .borrow()
            .as_ref()
            .map_or(0, |r| r.sq_entries())
    }

    #[napi(getter)]
    pub fn cq_entries(&self) -> u32 {
        self.state
            .ring
            .borrow()
            .as_ref()
            .map_or(0, |r| r.cq_entries())
    }

    /// Whether the kernel implements io_uring opcode `code`.
    #[napi]
    pub fn supports(&self, code: u32) -> bool {
        self.state
            .ring
            .borrow()
            .as_ref()
            .is_some_and(|r| r.supports(code as u8))
    }

    #[napi]
    pub fn nop(&self) -> napi::Result<f64> {
        self.state.push(Op::Nop, Targets::NONE)
    }

    #[napi]
    pub fn read(
        &self,
        env: Env,
        fd: i32,
        view: Unknown,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let (buf, target) = landing_for_view(env.raw(), &view)?;
        self.state
            .push(rw_op(false, fd, buf, pos), Targets(vec![target]))
    }

    #[napi]
    pub fn read_shared(
        &self,
        fd: i32,
        mem: &NativeMemory,
        offset: f64,
        length: f64,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let buf = shared_window(mem, offset, length)?;
        self.state.push(rw_op(false, fd, buf, pos), Targets::NONE)
    }

    #[napi]
    pub fn write(
        &self,
        env: Env,
        fd: i32,
        view: Unknown,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let buf = copy_of_view(env.raw(), &view)?;
        self.state.push(rw_op(true, fd, buf, pos), Targets::NONE)
    }

    #[napi]
    pub fn write_shared(
        &self,
        fd: i32,
        mem: &NativeMemory,
        offset: f64,
        length: f64,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let buf = shared_window(mem, offset, length)?;
        self.state.push(rw_op(true, fd, buf, pos), Targets::NONE)
    }

    #[napi]
    pub fn readv(
        &self,
        env: Env,
        fd: i32,
        views: Vec<Unknown>,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let mut bufs = Vec::with_capacity(views.len());
        let mut targets = Targets(Vec::with_capacity(views.len()));
        for view in &views {
            match landing_for_view(env.raw(), view) {
                Ok((buf, target)) => {
                    bufs.push(buf);
                    targets.0.push(target);
                }
                Err(e) => {
                    targets.release(env.raw());
                    return Err(e);
                }
            }
        }
        self.state.push(Op::readv(fd, bufs, position(pos)), targets)
    }

    #[napi]
    pub fn writev(
        &self,
        env: Env,
        fd: i32,
        views: Vec<Unknown>,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let bufs = views
            .iter()
            .map(|v| copy_of_view(env.raw(), v))
            .collect::<napi::Result<Vec<_>>>()?;
        self.state
            .push(Op::writev(fd, bufs, position(pos)), Targets::NONE)
    }

    #[napi]
    pub fn fsync(&self, fd: i32, datasync: bool) -> napi::Result<f64> {
        self.state.push(Op::Fsync { fd, datasync }, Targets::NONE)
    }

    #[napi]
    pub fn fallocate(&self, fd: i32, mode: i32, offset: f64, length: f64) -> napi::Result<f64> {
        self.state.push(
            Op::Fallocate {
                fd,
                mode,
                offset: offset as u64,
                len: length as u64,
            },
            Targets::NONE,
        )
    }

    #[napi]
    pub fn ftruncate(&self, fd: i32, length: f64) -> napi::Result<f64> {
        self.state.push(
            Op::Ftruncate {
                fd,
                len: length as u64,
            },
            Targets::NONE,
        )
    }

    #[napi]
    pub fn openat(&self, path: String, flags: i32, mode: u32) -> napi::Result<f64> {
        let path = c_path(path)?;
        self.state.push(
            Op::OpenAt {
                dirfd: libc::AT_FDCWD,
                path,
                flags,
                mode,
            },
            Targets::NONE,
        )
    }

    #[napi]
    pub fn close_fd(&self, fd: i32) -> napi::Result<f64> {
        self.state.push(Op::Close { fd }, Targets::NONE)
    }

    /// statx(2); the raw `struct statx` is copied into `out` (a 256-byte view).
    #[napi]
    pub fn statx(
        &self,
        env: Env,
        dirfd: i32,
        path: String,
        flags: i32,
        mask: u32,
        out: Unknown,
    ) -> napi::Result<f64> {
        let path = c_path(path)?;
        let target = js::new_ref(env.raw(), out.raw(), 1)?;
        self.state
            .push(Op::statx(dirfd, path, flags, mask), Targets(vec![target]))
    }

    #[napi]
    pub fn unlinkat(&self, path: String, flags: i32) -> napi::Result<f64> {
        let path = c_path(path)?;
        self.state.push(
            Op::UnlinkAt {
                dirfd: libc::AT_FDCWD,
                path,
                flags,
            },
            Targets::NONE,
        )
    }

    #[napi]
    pub fn renameat(&self, from: String, to: String) -> napi::Result<f64> {
        let (oldpath, newpath) = (c_path(from)?, c_path(to)?);
        let op = Op::RenameAt {
            olddirfd: libc::AT_FDCWD,
            oldpath,
            newdirfd: libc::AT_FDCWD,
            newpath,
            flags: 0,
        };
        self.state.push(op, Targets::NONE)
    }

    #[napi]
    pub fn mkdirat(&self, path: String, mode: u32) -> napi::Result<f64> {
        let path = c_path(path)?;
        self.state.push(
            Op::MkdirAt {
                dirfd: libc::AT_FDCWD,
                path,
                mode,
            },
            Targets::NONE,
        )
    }

    /// Requests cancellation of op `id`; false if it is not pending.
    #[napi]
    pub fn cancel(&self, id: f64) -> bool {
        self.state
            .ring
            .borrow_mut()
            .as_mut()
            .is_some_and(|r| r.cancel(id as u64))
    }

    #[napi]
    pub fn cancel_all(&self) {
        if let Some(r) = self.state.ring.borrow_mut().as_mut() {
            r.cancel_all();
        }
    }

    /// Frees the ring and its loop handles. JS calls it once every op has settled.
    #[napi]
    pub fn close(&self) {
        self.state.teardown();
    }
}

impl Drop for NativeRing {
    fn drop(&mut self) {
        self.state.teardown();
    }
}

//! One completion source on the JS thread, shared by every backend (io_uring, AIO):
//! the in-flight backend, its libuv watcher, the JS dispatch function, delivery of
//! completions inside a callback scope, and teardown (JS `close`, GC, or the env
//! cleanup hook when the thread ends). Backends plug in through `Backend`.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::os::fd::RawFd;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use iobuf::batch::{FixedBuffers, ENTRY_FIELDS, RESULT_FIELDS};
use napi::bindgen_prelude::Unknown;
use napi::sys;
use napi::JsValue;

use crate::js;
use crate::memory::NativeMemory;
use crate::uv::{LoopSource, LoopWatcher};
use crate::views::{f64_rows, f64_rows_mut};

/// The JS views an op's output is copied into when it completes (empty for most ops).
pub struct Targets(pub Vec<sys::napi_ref>);

impl Targets {
    pub const NONE: Targets = Targets(Vec::new());

    pub fn release(self, env: sys::napi_env) {
        for r in self.0 {
            js::delete_ref(env, r);
        }
    }
}

/// A completion as the delivery code needs it.
pub trait Delivered {
    fn id(&self) -> u64;
    fn result(&self) -> f64;
    /// CQE flags (io_uring) or res2 (AIO).
    fn extra(&self) -> f64;
    /// Bytes to copy into the op's JS views, by view index. Only called on reaped ops.
    fn outputs(&self) -> Vec<(usize, &[u8])>;
    fn take_targets(&mut self) -> Targets;
    /// A received chunk this completion hands over (a buffer-ring receive that goes
    /// on), copied into `dst` with its buffer put straight back for the kernel: the
    /// byte count and the flags to report. None if it is not one, does not fit `dst`,
    /// or is larger than its ring copies.
    fn copy_chunk(&mut self, _dst: &mut [u8]) -> Option<(usize, u32)> {
        None
    }
}

/// Bytes of the chunk arena (see `Shared::chunk_arena`): the most received data one
/// write of completion rows copies out; chunks beyond it are handed over as views.
pub const CHUNK_ARENA_BYTES: usize = 1 << 20;

/// A row's extra field for a chunk copied into the arena at `at`: the flags in the
/// low 32 bits, `at + 1` above them (JS reads it as `Math.floor(extra / 2 ** 32) - 1`;
/// its bit operators see only the flags).
fn copied_extra(at: usize, flags: u32) -> f64 {
    (at as f64 + 1.0) * 4_294_967_296.0 + f64::from(flags)
}

/// What a kernel interface must offer to be driven from the JS event loop.
pub trait Backend: 'static {
    type Done: Delivered;
    fn eventfd(&self) -> RawFd;
    /// Caller ops accepted and not yet delivered.
    fn pending(&self) -> usize;
    fn has_unsubmitted(&mut self) -> bool;
    fn flush(&mut self);
    fn clear_eventfd(&self);
    /// Whether completions are ready to reap without waiting for the eventfd (the
    /// kernel often finishes page-cache I/O inside the submitting call).
    fn has_completions(&mut self) -> bool {
        false
    }
    fn reap_into(&mut self, out: &mut Vec<Self::Done>);
    fn cancel(&mut self, id: u64) -> bool;
    fn cancel_all(&mut self);
    /// Cancels and waits for everything until `deadline`, handing each op to `release`.
    fn shutdown(&mut self, deadline: Instant, release: &mut dyn FnMut(Self::Done));
    /// The batch path (rows as in `iobuf::batch`): the buffer pool, an asynchronous
    /// batch delivered as one op, and a synchronous run.
    fn set_buffers(&mut self, pool: Arc<FixedBuffers>) -> std::io::Result<()>;
    fn push_batch(&mut self, rows: &[f64], targets: Targets) -> u64;
    fn run_batch(&mut self, rows: &[f64], results: &mut [f64]);
}

/// Completions are handed to JS as f64 triples (id, result, extra) in a Float64Array.
const SLOT_FIELDS: usize = 3;

/// State shared by the JS object, the libuv handles and the env cleanup hook.
pub struct Shared<B: Backend> {
    env: sys::napi_env,
    backend: RefCell<Option<B>>,
    watcher: RefCell<Option<LoopWatcher>>,
    /// The JS dispatch function: strong while ops are pending, weak when idle, so an
    /// idle source that JS dropped can be collected.
    dispatch: sys::napi_ref,
    dispatch_strong: Cell<bool>,
    /// Float64Array the completions are written into (strong: it cannot reach back).
    completions: sys::napi_ref,
    async_ctx: sys::napi_async_context,
    /// The strong reference owned by the env cleanup hook, null once released.
    hook: Cell<*const Shared<B>>,
    /// Keeps the loop alive with nothing pending (JS waits for messages).
    keep_alive: Cell<bool>,
    closed: Cell<bool>,
    scratch: RefCell<Vec<B::Done>>,
    /// Where received chunks are copied as their rows are written (made on first
    /// `chunk_arena`), read by JS before the next rows are written.
    arena: RefCell<Option<Arc<iobuf::AlignedBuf>>>,
}

pub fn closed_error() -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        "ERR_USE_AFTER_CLOSE: destroyed",
    )
}

pub use crate::js::errno_error;

impl<B: Backend> Shared<B> {
    /// Wraps `backend`, starts watching its eventfd on this thread's loop and
    /// registers the env cleanup hook. `name` labels the async resource.
    pub fn start(
        env: sys::napi_env,
        backend: B,
        name: &std::ffi::CStr,
        dispatch: sys::napi_value,
        completions: sys::napi_value,
    ) -> napi::Result<Rc<Self>> {
        let mut resource = ptr::null_mut();
        let mut js_name = ptr::null_mut();
        let mut async_ctx = ptr::null_mut();
        // SAFETY: plain N-API calls on the JS thread with local out-pointers.
        unsafe {
            js::check(
                sys::napi_create_object(env, &mut resource),
                "napi_create_object",
            )?;
            js::check(
                sys::napi_create_string_utf8(env, name.as_ptr(), -1, &mut js_name),
                "napi_create_string_utf8",
            )?;
            js::check(
                sys::napi_async_init(env, resource, js_name, &mut async_ctx),
                "napi_async_init",
            )?;
        }
        let eventfd = backend.eventfd();
        let state = Rc::new(Self {
            env,
            backend: RefCell::new(Some(backend)),
            watcher: RefCell::new(None),
            dispatch: js::new_ref(env, dispatch, 0)?,
            dispatch_strong: Cell::new(false),
            completions: js::new_ref(env, completions, 1)?,
            async_ctx,
            hook: Cell::new(ptr::null()),
            keep_alive: Cell::new(false),
            closed: Cell::new(false),
            scratch: RefCell::new(Vec::new()),
            arena: RefCell::new(None),
        });
        match LoopWatcher::start(env, eventfd, &state) {
            Ok(w) => *state.watcher.borrow_mut() = Some(w),
            Err(e) => {
                state.teardown();
                return Err(e);
            }
        }
        let hook = Rc::into_raw(Rc::clone(&state));
        state.hook.set(hook);
        // SAFETY: env_cleanup::<B> takes back exactly this strong reference.
        unsafe { sys::napi_add_env_cleanup_hook(env, Some(env_cleanup::<B>), hook as *mut c_void) };
        Ok(state)
    }

    /// Runs `f` on the backend (None once closed).
    pub fn with<R>(&self, f: impl FnOnce(&mut B) -> R) -> Option<R> {
        self.backend.borrow_mut().as_mut().map(f)
    }

    /// Accepts an op through `push`, which gets the backend; releases `targets` if
    /// the source is closed.
    pub fn push(
        &self,
        targets: Targets,
        push: impl FnOnce(&mut B, Targets) -> u64,
    ) -> napi::Result<f64> {
        let id = {
            let mut backend = self.backend.borrow_mut();
            let Some(backend) = backend.as_mut() else {
                targets.release(self.env);
                return Err(closed_error());
            };
            push(backend, targets)
        };
        self.update_referenced();
        Ok(id as f64)
    }

    /// Accepts several ops with one borrow of the backend and one update of the loop
    /// handle's reference: `next(backend, i)` pushes op `i` and returns its id (or a
    /// negative errno), which `record(i, id)` is told. Errors once closed.
    pub fn push_many(
        &self,
        count: usize,
        mut next: impl FnMut(&mut B, usize) -> f64,
        mut record: impl FnMut(usize, f64),
    ) -> napi::Result<()> {
        {
            let mut backend = self.backend.borrow_mut();
            let Some(backend) = backend.as_mut() else {
                return Err(closed_error());
            };
            for i in 0..count {
                let id = next(backend, i);
                record(i, id);
            }
        }
        self.update_referenced();
        Ok(())
    }

    /// Makes `mem` the batch path's pool of buffers of `size` bytes.
    pub fn register_buffers(&self, mem: &NativeMemory, size: f64) -> napi::Result<()> {
        let pool = FixedBuffers::new(Arc::clone(mem.inner()), size as usize)
            .map_err(|e| errno_error(self.env, e))?;
        self.with(|b| b.set_buffers(Arc::new(pool)))
            .ok_or_else(closed_error)?
            .map_err(|e| errno_error(self.env, e))
    }

    /// Queues the first `count` entry rows of `entries` (a Float64Array) as one batch;
    /// when its last entry completes, the result rows are copied into `results`.
    pub fn submit_batch(
        &self,
        entries: &Unknown,
        count: u32,
        results: &Unknown,
    ) -> napi::Result<f64> {
        // SAFETY: no JS runs while the rows are read; push_batch copies what it keeps.
        let rows = unsafe { f64_rows(self.env, entries, count, ENTRY_FIELDS) }?;
        let target = js::new_ref(self.env, results.raw(), 1)?;
        self.push(Targets(vec![target]), |b, targets| {
            b.push_batch(rows, targets)
        })
    }

    /// Runs the first `count` entry rows synchronously, writing the result rows into
    /// `results` before it returns.
    pub fn run_batch(&self, entries: &Unknown, count: u32, results: &Unknown) -> napi::Result<()> {
        // SAFETY: no JS runs during this call, so neither array can be detached, and
        // lib/ always passes two distinct arrays, so the slices do not alias.
        let (rows, out) = unsafe {
            (
                f64_rows(self.env, entries, count, ENTRY_FIELDS)?,
                f64_rows_mut(self.env, results, count, RESULT_FIELDS)?,
            )
        };
        self.with(|b| b.run_batch(rows, out))
            .ok_or_else(closed_error)
    }

    /// Hands whatever is queued to the kernel now. lib/ calls it once per JS turn for
    /// every source that queued work (a shared microtask), so submission never waits
    /// for this source's own `uv_prepare`, which may already have run this loop turn.
    /// Completions it produces are delivered by the watcher: not from inside the
    /// microtask queue, where a read that completes inline would starve the loop.
    pub fn flush(&self) {
        if let Some(backend) = self.backend.borrow_mut().as_mut() {
            if backend.has_unsubmitted() {
                backend.flush();
            }
        }
    }

    /// Keeps the loop alive with nothing pending, or lets it go (see `keep_alive`).
    pub fn set_keep_alive(&self, keep: bool) {
        self.keep_alive.set(keep);
        self.update_referenced();
    }

    /// Keeps the loop alive and the dispatch function reachable exactly while ops are
    /// pending (the loop also while `keep_alive` is set).
    fn update_referenced(&self) {
        let pending = self
            .backend
            .borrow()
            .as_ref()
            .is_some_and(|b| b.pending() > 0);
        // JS waiting for messages also needs the loop and the dispatch function (and
        // through it the source) kept alive.
        let wanted = pending || self.keep_alive.get();
        if let Some(w) = self.watcher.borrow_mut().as_mut() {
            w.set_referenced(wanted);
        }
        if !self.closed.get() && self.dispatch_strong.get() != wanted {
            js::set_ref_strength(self.env, self.dispatch, wanted);
            self.dispatch_strong.set(wanted);
        }
    }

    /// Copies outputs into their JS views and hands the batch to the JS dispatch
    /// function inside a callback scope (so promise continuations run right after).
    fn deliver(&self, batch: &mut Vec<B::Done>) {
        let env = self.env;
        let mut start = 0;
        while start < batch.len() {
            let Some(written) = self.write_rows(&mut batch[start..]) else {
                break;
            };
            self.call_dispatch(written as u32);
            start += written;
        }
        for mut c in batch.drain(..) {
            c.take_targets().release(env);
        }
    }

    /// Copies the outputs of the first completions of `done` into their JS views and
    /// writes their rows into the completion table, as many as it holds; returns how
    /// many (None if the table is gone).
    fn write_rows(&self, done: &mut [B::Done]) -> Option<usize> {
        let env = self.env;
        let (table_ptr, table_len) =
            js::ref_value(env, self.completions).and_then(|v| js::view_bytes(env, v))?;
        let capacity = table_len / (8 * SLOT_FIELDS);
        if capacity == 0 {
            return None;
        }
        let end = capacity.min(done.len());
        let arena = self.arena.borrow().clone();
        let mut arena_used = 0;
        for (i, c) in done[..end].iter_mut().enumerate() {
            let targets = c.take_targets();
            for (index, bytes) in c.outputs() {
                if let Some(&target) = targets.0.get(index) {
                    js::copy_into_ref(env, target, bytes);
                }
            }
            targets.release(env);
            let mut extra = c.extra();
            if let Some(arena) = &arena {
                // SAFETY: the arena is CHUNK_ARENA_BYTES of memory this source owns; JS
                // reads it only while it handles the rows written by one call (before it
                // can make another), and no JS runs during this one.
                let free = unsafe {
                    std::slice::from_raw_parts_mut(
                        arena.as_ptr().add(arena_used),
                        arena.len() - arena_used,
                    )
                };
                if let Some((n, flags)) = c.copy_chunk(free) {
                    extra = copied_extra(arena_used, flags);
                    arena_used += n;
                }
            }
            let row = [c.id() as f64, c.result(), extra];
            // SAFETY: i < capacity, so the row lies inside the table's current bytes.
            unsafe {
                ptr::copy_nonoverlapping(
                    row.as_ptr(),
                    table_ptr.cast::<f64>().add(i * SLOT_FIELDS),
                    3,
                )
            };
        }
        Some(end)
    }

    /// A Buffer over the chunk arena, made on the first call: from then on, each
    /// write of completion rows copies the received chunks small enough for their
    /// buffer ring (`BufRing::copy_up_to`) into it and gives their buffers straight
    /// back; the row's extra field says where (`copied_extra`). JS copies a chunk out
    /// of it while it handles that row, so the arena never reaches a caller.
    pub fn chunk_arena(&self) -> napi::Result<Unknown<'_>> {
        let arena = {
            let mut slot = self.arena.borrow_mut();
            match &*slot {
                Some(a) => Arc::clone(a),
                None => {
                    let a = iobuf::AlignedBuf::zeroed(CHUNK_ARENA_BYTES, 64)
                        .map(Arc::new)
                        .ok_or_else(|| {
                            errno_error(self.env, std::io::Error::from_raw_os_error(libc::ENOMEM))
                        })?;
                    *slot = Some(Arc::clone(&a));
                    a
                }
            }
        };
        let (ptr, len) = (arena.as_ptr(), arena.len());
        // SAFETY: `ptr` is valid for `len` bytes while the Arc in the hint lives, which
        // release_arena drops when the Buffer's backing store dies.
        unsafe { js::external_buffer(self.env, ptr, len, arena, release_arena) }
    }

    /// Submits what is queued and, where the kernel completed some of it inside the
    /// submission (page-cache I/O, nops, sends with room), writes those completions'
    /// rows into the table for JS to settle now, without waiting for the loop: returns
    /// the row count. Completions beyond the table wait in `scratch` for the next drain.
    pub fn flush_and_take(&self) -> u32 {
        let mut batch = std::mem::take(&mut *self.scratch.borrow_mut());
        if let Some(backend) = self.backend.borrow_mut().as_mut() {
            if backend.has_unsubmitted() {
                backend.flush();
            }
            if backend.has_completions() {
                backend.reap_into(&mut batch);
            }
        }
        let written = if batch.is_empty() {
            0
        } else {
            self.write_rows(&mut batch).unwrap_or(0)
        };
        batch.drain(..written);
        *self.scratch.borrow_mut() = batch;
        self.update_referenced();
        written as u32
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
        // One eventfd reset per drain, before the first reap: a completion that lands
        // after it re-arms the watcher, so none is missed, and the rounds below do not
        // pay a read(2) each.
        if let Some(backend) = self.backend.borrow_mut().as_mut() {
            backend.clear_eventfd();
        }
        for _ in 0..16 {
            let mut batch = std::mem::take(&mut *self.scratch.borrow_mut());
            if let Some(backend) = self.backend.borrow_mut().as_mut() {
                backend.reap_into(&mut batch);
            }
            let done = batch.is_empty();
            if !done {
                self.deliver(&mut batch);
            }
            // JS may have left completions in `scratch` meanwhile (`flush_and_take` from
            // a continuation): keep them; this batch is empty, only its capacity is kept.
            let mut scratch = self.scratch.borrow_mut();
            if scratch.is_empty() {
                *scratch = batch;
            }
            drop(scratch);
            if let Some(backend) = self.backend.borrow_mut().as_mut() {
                backend.flush();
            }
            if done {
                break;
            }
        }
        self.update_referenced();
        // SAFETY: closes the scope opened above.
        unsafe { sys::napi_close_handle_scope(env, scope) };
    }

    /// Closes the source: cancels and waits for anything still outstanding (normally
    /// nothing: JS waits for its promises first), frees the backend, closes the libuv
    /// handles and releases the JS references. Safe to call more than once.
    pub fn teardown(&self) {
        if self.closed.replace(true) {
            return;
        }
        let env = self.env;
        if let Some(mut backend) = self.backend.borrow_mut().take() {
            if backend.pending() > 0 {
                backend.shutdown(
                    Instant::now() + ring_core::TEARDOWN_DEADLINE,
                    &mut |mut c| c.take_targets().release(env),
                );
            }
            // Each backend's Drop leaks instead of freeing if the kernel still holds ops.
            drop(backend);
        }
        if let Some(mut w) = self.watcher.borrow_mut().take() {
            w.close::<Self>();
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
                sys::napi_remove_env_cleanup_hook(env, Some(env_cleanup::<B>), hook as *mut c_void);
                drop(Rc::from_raw(hook));
            }
        }
    }
}

impl<B: Backend> LoopSource for Shared<B> {
    fn on_readable(&self) {
        self.drain();
    }

    fn before_block(&self) {
        // Normally the turn's microtask has submitted everything already; this catches
        // a backlog the kernel pushed back on.
        self.flush();
        let ready = !self.scratch.borrow().is_empty()
            || self
                .backend
                .borrow_mut()
                .as_mut()
                .is_some_and(|b| b.has_completions());
        // Completions the submission already produced are delivered now rather than
        // after a trip through epoll: one loop turn less per operation at depth 1.
        if ready {
            self.drain();
        }
    }
}

/// Runs when the JS thread (main or Worker) tears its environment down: cancel and
/// wait for every op so no memory is freed under the kernel.
unsafe extern "C" fn release_arena(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: hint is the Box<Arc<AlignedBuf>> external_buffer made in `chunk_arena`;
    // Node calls this exactly once, when the Buffer's backing store dies.
    drop(unsafe { Box::from_raw(hint.cast::<Arc<iobuf::AlignedBuf>>()) });
}

unsafe extern "C" fn env_cleanup<B: Backend>(arg: *mut c_void) {
    // SAFETY: arg is the strong reference stored in `hook`; taking it back here is the
    // one release of it (teardown sees a null `hook` and leaves it alone).
    let state = unsafe { Rc::from_raw(arg as *const Shared<B>) };
    state.hook.set(ptr::null());
    state.teardown();
}

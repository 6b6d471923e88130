//! Event-loop wiring shared by every completion source (the ring, later AIO): a
//! `uv_poll` handle watches the source's eventfd on the JS thread's own libuv loop, and
//! a `uv_prepare` handle submits queued work once per loop turn, just before the loop
//! blocks. Node exports the `uv_*` symbols; `uv_handle_size` gives each handle's size,
//! so no libuv headers or struct layouts are compiled in (only `data`, the first field
//! of every handle, is touched).

use std::ffi::c_void;
use std::os::raw::c_int;
use std::rc::Rc;

use napi::sys;

// uv_handle_type values (uv.h, stable since libuv 1.0).
const UV_POLL: c_int = 8;
const UV_PREPARE: c_int = 9;
const UV_READABLE: c_int = 1;

type PollCb = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
type HandleCb = unsafe extern "C" fn(handle: *mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(event_loop: *mut c_void, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, cb: PollCb) -> c_int;
    fn uv_prepare_init(event_loop: *mut c_void, handle: *mut c_void) -> c_int;
    fn uv_prepare_start(handle: *mut c_void, cb: HandleCb) -> c_int;
    fn uv_close(handle: *mut c_void, cb: HandleCb);
    fn uv_ref(handle: *mut c_void);
    fn uv_unref(handle: *mut c_void);
}

/// Something whose completions arrive through an eventfd.
pub trait LoopSource: 'static {
    /// The eventfd is readable: reap and deliver every ready completion.
    fn on_readable(&self);
    /// The loop is about to block: hand queued work to the kernel.
    fn before_block(&self);
}

/// The pair of libuv handles watching one source. Each handle holds one strong
/// reference to the source, released in its close callback, so the source outlives
/// every callback libuv can still make.
pub struct LoopWatcher {
    poll: *mut c_void,
    prepare: *mut c_void,
    referenced: bool,
    closed: bool,
}

/// The libuv loop of the thread that owns `env`.
fn event_loop(env: sys::napi_env) -> napi::Result<*mut c_void> {
    let mut lp: *mut sys::uv_loop_s = std::ptr::null_mut();
    // SAFETY: env is the live env of the calling JS thread; lp is a local out-pointer.
    let status = unsafe { sys::napi_get_uv_event_loop(env, &mut lp) };
    if status != sys::Status::napi_ok || lp.is_null() {
        return Err(napi::Error::from_reason(
            "could not get the libuv loop of this thread",
        ));
    }
    Ok(lp.cast())
}

/// Allocates uninitialised memory for a handle of `kind`; uv_*_init fills it.
fn alloc_handle(kind: c_int) -> napi::Result<*mut c_void> {
    // SAFETY: uv_handle_size is a pure function of its argument.
    let size = unsafe { uv_handle_size(kind) };
    // SAFETY: plain allocation; freed with libc::free in `close_cb` (or on init failure).
    let handle = unsafe { libc::calloc(1, size) };
    if handle.is_null() {
        return Err(napi::Error::from_reason("out of memory for a libuv handle"));
    }
    Ok(handle)
}

/// Stores a strong reference to `source` in the handle's `data` field.
///
/// # Safety
/// `handle` must be an initialised libuv handle (its first field is `void* data`).
unsafe fn set_data<S: LoopSource>(handle: *mut c_void, source: &Rc<S>) {
    // SAFETY: the caller guarantees `handle` starts with the `data` pointer.
    unsafe { *(handle as *mut *const S) = Rc::into_raw(source.clone()) };
}

/// # Safety
/// `handle` must carry a `data` pointer set by `set_data::<S>` that is still live.
unsafe fn source_of<'a, S>(handle: *mut c_void) -> &'a S {
    // SAFETY: data came from Rc::into_raw and is released only in close_cb, after
    // libuv has made its last callback on this handle.
    unsafe { &**(handle as *const *const S) }
}

unsafe extern "C" fn poll_cb<S: LoopSource>(handle: *mut c_void, _status: c_int, _events: c_int) {
    // SAFETY: libuv calls back only on a live, started handle whose data we set.
    unsafe { source_of::<S>(handle) }.on_readable();
}

unsafe extern "C" fn prepare_cb<S: LoopSource>(handle: *mut c_void) {
    // SAFETY: as in poll_cb.
    unsafe { source_of::<S>(handle) }.before_block();
}

unsafe extern "C" fn close_cb<S: LoopSource>(handle: *mut c_void) {
    // SAFETY: libuv makes no further callback after close_cb; we release the strong
    // reference set_data took, then free the memory alloc_handle gave.
    unsafe {
        drop(Rc::from_raw(*(handle as *const *const S)));
        libc::free(handle);
    }
}

impl LoopWatcher {
    /// Starts watching `fd` on the loop of `env`'s thread. Both handles start
    /// unreferenced: an idle source does not keep the process alive.
    pub fn start<S: LoopSource>(
        env: sys::napi_env,
        fd: c_int,
        source: &Rc<S>,
    ) -> napi::Result<Self> {
        let lp = event_loop(env)?;
        let poll = alloc_handle(UV_POLL)?;
        // SAFETY: poll is zeroed memory of uv_handle_size(UV_POLL) bytes; lp is this
        // thread's loop; fd is an open eventfd owned by the source.
        if unsafe { uv_poll_init(lp, poll, fd) } != 0 {
            // SAFETY: the handle was never initialised, so libuv does not know it.
            unsafe { libc::free(poll) };
            return Err(napi::Error::from_reason(
                "uv_poll_init failed on the completion eventfd",
            ));
        }
        let prepare = alloc_handle(UV_PREPARE)?;
        // SAFETY: prepare is zeroed memory of the right size; lp is this thread's loop.
        unsafe { uv_prepare_init(lp, prepare) };
        // SAFETY: both handles are initialised; the callbacks match their types.
        unsafe {
            set_data(poll, source);
            set_data(prepare, source);
            uv_poll_start(poll, UV_READABLE, poll_cb::<S>);
            uv_prepare_start(prepare, prepare_cb::<S>);
            uv_unref(poll);
            uv_unref(prepare);
        }
        Ok(Self {
            poll,
            prepare,
            referenced: false,
            closed: false,
        })
    }

    /// Keeps the loop alive (work in flight) or lets it exit (idle). The prepare
    /// handle stays unreferenced: the poll handle alone decides.
    pub fn set_referenced(&mut self, referenced: bool) {
        if self.closed || self.referenced == referenced {
            return;
        }
        self.referenced = referenced;
        // SAFETY: poll is a live handle until close().
        unsafe {
            if referenced {
                uv_ref(self.poll)
            } else {
                uv_unref(self.poll)
            }
        }
    }

    /// Closes both handles. Their close callbacks release the source and free the
    /// memory on a later loop iteration; after this no callback reaches the source.
    pub fn close<S: LoopSource>(&mut self) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        // SAFETY: both handles are live and not yet closing; uv_close stops them.
        unsafe {
            uv_close(self.poll, close_cb::<S>);
            uv_close(self.prepare, close_cb::<S>);
        }
    }
}

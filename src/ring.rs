//! `NativeRing`: the JS-facing io_uring ring. Converts JS values into
//! `ring_core::Op`s and forwards them; delivery and teardown live in `source`.

use std::sync::Arc;
use std::time::Instant;

use napi::bindgen_prelude::{BigInt, Either, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use ring_core::{Completion, FixedBuffers, IoBuf, Op, Ring, RingOptions, CURRENT_POSITION};

use crate::js;
use crate::memory::NativeMemory;
use crate::source::{errno_error, Backend, Delivered, Shared, Targets};
use crate::views::{
    c_path, copies_of_views, copy_of_view, landing_for_view, landings_for_views, position,
    shared_window,
};

impl Delivered for Completion<Targets> {
    fn id(&self) -> u64 {
        self.id
    }
    fn result(&self) -> f64 {
        f64::from(self.result)
    }
    fn extra(&self) -> f64 {
        f64::from(self.flags)
    }
    fn outputs(&self) -> Vec<(usize, &[u8])> {
        if let Some(batch) = &self.batch {
            return vec![(0, batch.as_bytes())];
        }
        // SAFETY: a Completion exists only once its CQE was reaped.
        unsafe { self.op.output(self.result) }
    }
    fn take_targets(&mut self) -> Targets {
        std::mem::replace(&mut self.user, Targets::NONE)
    }
}

impl Backend for Ring<Targets> {
    type Done = Completion<Targets>;
    fn eventfd(&self) -> std::os::fd::RawFd {
        Ring::eventfd(self)
    }
    fn pending(&self) -> usize {
        Ring::pending(self)
    }
    fn has_unsubmitted(&mut self) -> bool {
        Ring::has_unsubmitted(self)
    }
    fn flush(&mut self) {
        // Failures settle the affected ops (ring-core); nothing more to do here.
        let _ = Ring::flush(self);
    }
    fn clear_eventfd(&self) {
        Ring::clear_eventfd(self)
    }
    fn has_completions(&mut self) -> bool {
        Ring::has_completions(self)
    }
    fn reap_into(&mut self, out: &mut Vec<Self::Done>) {
        self.reap(|c| out.push(c));
    }
    fn cancel(&mut self, id: u64) -> bool {
        Ring::cancel(self, id)
    }
    fn cancel_all(&mut self) {
        Ring::cancel_all(self)
    }
    fn shutdown(&mut self, deadline: Instant, release: &mut dyn FnMut(Self::Done)) {
        Ring::shutdown(self, deadline, release);
    }
    fn set_buffers(&mut self, pool: Arc<FixedBuffers>) -> std::io::Result<()> {
        self.register_buffers(pool)
    }
    fn push_batch(&mut self, rows: &[f64], targets: Targets) -> u64 {
        Ring::push_batch(self, rows, targets)
    }
    fn run_batch(&mut self, rows: &[f64], results: &mut [f64]) {
        Ring::run_batch(self, rows, results)
    }
}

/// IORING_OP_READ or IORING_OP_WRITE of `buf` at the JS position `pos`.
fn rw_op(write: bool, fd: i32, buf: IoBuf, pos: Either<f64, BigInt>) -> Op {
    let offset = position(pos).unwrap_or(CURRENT_POSITION);
    if write {
        Op::Write { fd, buf, offset }
    } else {
        Op::Read { fd, buf, offset }
    }
}

#[napi]
pub struct NativeRing {
    state: std::rc::Rc<Shared<Ring<Targets>>>,
}

impl NativeRing {
    fn push(&self, op: Op, targets: Targets) -> napi::Result<f64> {
        self.state
            .push(targets, |ring, targets| ring.push(op, targets))
    }
}

#[napi]
impl NativeRing {
    /// io_uring_setup(`entries`); submits inside a call once `submit_batch` ops are
    /// queued (0: at the end of the JS turn only); `dispatch(count)` is called with
    /// completions written to `completions` as (id, result, flags) triples.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        entries: u32,
        submit_batch: u32,
        dispatch: Unknown,
        completions: Unknown,
    ) -> napi::Result<Self> {
        let ring = Ring::new(RingOptions {
            entries,
            submit_batch,
        })
        .map_err(errno_error)?;
        let state = Shared::start(
            env.raw(),
            ring,
            c"uring-aio:Ring",
            dispatch.raw(),
            completions.raw(),
        )?;
        Ok(Self { state })
    }

    /// Caller operations accepted and not yet settled.
    #[napi(getter)]
    pub fn pending(&self) -> u32 {
        self.state.with(|r| r.pending() as u32).unwrap_or(0)
    }

    /// io_uring_enter calls made to submit so far (batching is observable).
    #[napi(getter)]
    pub fn enters(&self) -> f64 {
        self.state.with(|r| r.enters() as f64).unwrap_or(0.0)
    }

    #[napi(getter)]
    pub fn sq_entries(&self) -> u32 {
        self.state.with(|r| r.sq_entries()).unwrap_or(0)
    }

    #[napi(getter)]
    pub fn cq_entries(&self) -> u32 {
        self.state.with(|r| r.cq_entries()).unwrap_or(0)
    }

    /// Submits what is queued now (one io_uring_enter).
    #[napi]
    pub fn flush(&self) {
        self.state.flush();
    }

    /// Whether the kernel implements io_uring opcode `code`.
    #[napi]
    pub fn supports(&self, code: u32) -> bool {
        self.state.with(|r| r.supports(code as u8)).unwrap_or(false)
    }

    #[napi]
    pub fn nop(&self) -> napi::Result<f64> {
        self.push(Op::Nop, Targets::NONE)
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
        self.push(rw_op(false, fd, buf, pos), Targets(vec![target]))
    }

    /// Read (or write, if `write`) a window of library-owned memory: zero-copy.
    #[napi]
    pub fn rw_shared(
        &self,
        write: bool,
        fd: i32,
        mem: &NativeMemory,
        offset: f64,
        length: f64,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        self.push(
            rw_op(write, fd, shared_window(mem, offset, length)?, pos),
            Targets::NONE,
        )
    }

    #[napi]
    pub fn write(
        &self,
        env: Env,
        fd: i32,
        view: Unknown,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        self.push(
            rw_op(true, fd, copy_of_view(env.raw(), &view)?, pos),
            Targets::NONE,
        )
    }

    #[napi]
    pub fn readv(
        &self,
        env: Env,
        fd: i32,
        views: Vec<Unknown>,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let (bufs, refs) = landings_for_views(env.raw(), &views)?;
        let offset = position(pos).unwrap_or(CURRENT_POSITION);
        self.push(Op::readv(fd, bufs, offset), Targets(refs))
    }

    #[napi]
    pub fn writev(
        &self,
        env: Env,
        fd: i32,
        views: Vec<Unknown>,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        let bufs = copies_of_views(env.raw(), &views)?;
        let offset = position(pos).unwrap_or(CURRENT_POSITION);
        self.push(Op::writev(fd, bufs, offset), Targets::NONE)
    }

    #[napi]
    pub fn fsync(&self, fd: i32, datasync: bool) -> napi::Result<f64> {
        self.push(Op::Fsync { fd, datasync }, Targets::NONE)
    }

    #[napi]
    pub fn fallocate(&self, fd: i32, mode: i32, offset: f64, length: f64) -> napi::Result<f64> {
        self.push(
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
        self.push(
            Op::Ftruncate {
                fd,
                len: length as u64,
            },
            Targets::NONE,
        )
    }

    #[napi]
    pub fn openat(
        &self,
        env: Env,
        path: Either<String, Unknown>,
        flags: i32,
        mode: u32,
    ) -> napi::Result<f64> {
        let path = c_path(env.raw(), path)?;
        self.push(
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
        self.push(Op::Close { fd }, Targets::NONE)
    }

    /// statx(2); the raw `struct statx` is copied into `out` (a 256-byte view).
    #[napi]
    pub fn statx(
        &self,
        env: Env,
        dirfd: i32,
        path: Either<String, Unknown>,
        flags: i32,
        mask: u32,
        out: Unknown,
    ) -> napi::Result<f64> {
        let path = c_path(env.raw(), path)?;
        let target = js::new_ref(env.raw(), out.raw(), 1)?;
        self.push(Op::statx(dirfd, path, flags, mask), Targets(vec![target]))
    }

    #[napi]
    pub fn unlinkat(
        &self,
        env: Env,
        path: Either<String, Unknown>,
        flags: i32,
    ) -> napi::Result<f64> {
        let path = c_path(env.raw(), path)?;
        self.push(
            Op::UnlinkAt {
                dirfd: libc::AT_FDCWD,
                path,
                flags,
            },
            Targets::NONE,
        )
    }

    #[napi]
    pub fn renameat(
        &self,
        env: Env,
        from: Either<String, Unknown>,
        to: Either<String, Unknown>,
    ) -> napi::Result<f64> {
        let (oldpath, newpath) = (c_path(env.raw(), from)?, c_path(env.raw(), to)?);
        let op = Op::RenameAt {
            olddirfd: libc::AT_FDCWD,
            oldpath,
            newdirfd: libc::AT_FDCWD,
            newpath,
            flags: 0,
        };
        self.push(op, Targets::NONE)
    }

    #[napi]
    pub fn mkdirat(&self, env: Env, path: Either<String, Unknown>, mode: u32) -> napi::Result<f64> {
        let path = c_path(env.raw(), path)?;
        self.push(
            Op::MkdirAt {
                dirfd: libc::AT_FDCWD,
                path,
                mode,
            },
            Targets::NONE,
        )
    }

    /// Registers `mem` as buffers of `size` bytes (IORING_REGISTER_BUFFERS).
    #[napi]
    pub fn register_buffers(&self, mem: &NativeMemory, size: f64) -> napi::Result<()> {
        self.state.register_buffers(mem, size)
    }

    /// Queues entry rows as one batch (see `Shared::submit_batch`).
    #[napi]
    pub fn submit_batch(
        &self,
        entries: Unknown,
        count: u32,
        results: Unknown,
    ) -> napi::Result<f64> {
        self.state.submit_batch(&entries, count, &results)
    }

    /// Runs entry rows synchronously (see `Shared::run_batch`).
    #[napi]
    pub fn run_batch(&self, entries: Unknown, count: u32, results: Unknown) -> napi::Result<()> {
        self.state.run_batch(&entries, count, &results)
    }

    /// Requests cancellation of op `id`; false if it is not pending.
    #[napi]
    pub fn cancel(&self, id: f64) -> bool {
        self.state
            .with(|r| Backend::cancel(r, id as u64))
            .unwrap_or(false)
    }

    #[napi]
    pub fn cancel_all(&self) {
        self.state.with(Backend::cancel_all);
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

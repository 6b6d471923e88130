//! `NativeAio`: the JS-facing kernel AIO context. Converts JS values into
//! `aio_core::Request`s and forwards them; delivery and teardown live in `source`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use aio_core::{
    CancelOutcome, Completion, Context, FixedBuffers, MemoryTable, Request, RequestOptions,
};
use iobuf::IoBuf;
use napi::bindgen_prelude::{BigInt, Either, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;

use crate::memory::NativeMemory;
use crate::source::{closed_error, errno_error, Backend, Delivered, Shared, Targets};
use crate::views::{
    copies_of_views, copy_of_view, f64_rows_mut, landing_for_view, landings_for_views, position,
    shared_window,
};

impl Delivered for Completion<Targets> {
    fn id(&self) -> u64 {
        self.id
    }
    fn result(&self) -> f64 {
        self.result as f64
    }
    fn extra(&self) -> f64 {
        self.res2 as f64
    }
    fn outputs(&self) -> Vec<(usize, &[u8])> {
        if let Some(batch) = &self.batch {
            return vec![(0, batch.as_bytes())];
        }
        Completion::outputs(self)
    }
    fn take_targets(&mut self) -> Targets {
        std::mem::replace(&mut self.user, Targets::NONE)
    }
}

impl Backend for Context<Targets> {
    type Done = Completion<Targets>;
    fn eventfd(&self) -> std::os::fd::RawFd {
        Context::eventfd(self)
    }
    fn pending(&self) -> usize {
        Context::pending(self)
    }
    fn has_unsubmitted(&mut self) -> bool {
        Context::has_unsubmitted(self)
    }
    fn flush(&mut self) {
        Context::flush(self)
    }
    fn clear_eventfd(&self) {
        Context::clear_eventfd(self)
    }
    fn reap_into(&mut self, out: &mut Vec<Self::Done>) {
        self.reap(|c| out.push(c));
    }
    fn cancel(&mut self, id: u64) -> bool {
        Context::cancel(self, id).cancelled()
    }
    fn cancel_all(&mut self) {
        Context::cancel_all(self)
    }
    fn shutdown(&mut self, deadline: Instant, release: &mut dyn FnMut(Self::Done)) {
        Context::shutdown(self, deadline, release);
    }
    fn has_completions(&mut self) -> bool {
        Context::has_completions(self)
    }
    fn set_buffers(&mut self, pool: Arc<FixedBuffers>) -> std::io::Result<()> {
        Context::set_buffers(self, pool)
    }
    fn push_batch(&mut self, rows: &[f64], targets: Targets) -> u64 {
        Context::push_batch(self, rows, targets)
    }
    fn run_batch(&mut self, rows: &[f64], results: &mut [f64]) {
        Context::run_batch(self, rows, results)
    }
}

/// `ioprio` < 0 means "no priority" (no IOCB_FLAG_IOPRIO); 0..=0xffff is the
/// 16-bit aio_reqprio. `resfd`: the caller's eventfd, or none (the context's).
fn options(rw_flags: i32, ioprio: i32, resfd: Option<i32>) -> RequestOptions {
    RequestOptions {
        rw_flags,
        ioprio: (ioprio >= 0).then_some(ioprio as u16 as i16),
        resfd,
    }
}

fn offset(pos: Either<f64, BigInt>) -> i64 {
    position(pos).unwrap_or(0) as i64
}

fn rw(write: bool, fd: i32, buf: IoBuf, pos: Either<f64, BigInt>) -> Request {
    let offset = offset(pos);
    if write {
        Request::Pwrite { fd, buf, offset }
    } else {
        Request::Pread { fd, buf, offset }
    }
}

/// Fields of one row of the turn's reads and writes (lib/aio.ts `ROW`): write (0 or
/// 1), fd, memory index (`register_memory`), offset in the memory, length, position,
/// RWF_* flags, ioprio (< 0: none). `push_rows` writes each op's id (or -errno) into
/// the row's first field.
const ROW_FIELDS: usize = 8;

/// What the turn's rows need: the context and the memories they name.
#[derive(Clone)]
struct RowTarget {
    state: Rc<Shared<Context<Targets>>>,
    memory: Rc<RefCell<MemoryTable>>,
}

/// A slot of `ROW_TARGETS`: its generation (bumped when it is freed, so a stale
/// handle finds nothing) and the context it holds.
type RowSlot = (u32, Option<RowTarget>);

thread_local! {
    /// The open contexts of this thread by handle (`NativeAio.handle`), for
    /// `push_aio_rows`: a plain function with a number costs a fraction of a method
    /// call, whose `this` napi-rs unwraps, type-checks and borrow-tracks (~3,500
    /// instructions a call, measured with callgrind). Each Worker has its own.
    static ROW_TARGETS: RefCell<Vec<RowSlot>> = const { RefCell::new(Vec::new()) };
}

/// Slots per generation in a handle (`generation * SLOTS + slot`).
const SLOTS: f64 = (1u64 << 24) as f64;

fn register_row_target(target: RowTarget) -> f64 {
    ROW_TARGETS.with_borrow_mut(|slots| {
        let slot = match slots.iter().position(|(_, t)| t.is_none()) {
            Some(free) => free,
            None => {
                slots.push((0, None));
                slots.len() - 1
            }
        };
        slots[slot].1 = Some(target);
        f64::from(slots[slot].0) * SLOTS + slot as f64
    })
}

fn row_target(handle: f64) -> Option<RowTarget> {
    let (generation, slot) = ((handle / SLOTS) as u32, (handle % SLOTS) as usize);
    ROW_TARGETS.with_borrow(|slots| match slots.get(slot) {
        Some((g, Some(target))) if *g == generation => Some(target.clone()),
        _ => None,
    })
}

fn unregister_row_target(handle: f64) {
    let (generation, slot) = ((handle / SLOTS) as u32, (handle % SLOTS) as usize);
    ROW_TARGETS.with_borrow_mut(|slots| {
        if let Some((g, target)) = slots.get_mut(slot) {
            if *g == generation && target.is_some() {
                *target = None;
                *g = g.wrapping_add(1);
            }
        }
    });
}

/// `NativeAio.pushRows` as a plain function of the context's handle (see
/// `ROW_TARGETS`); closed_error once the context is closed.
#[napi]
pub fn push_aio_rows(
    env: Env,
    handle: f64,
    rows: Unknown,
    count: u32,
    submit: bool,
) -> napi::Result<()> {
    let target = row_target(handle).ok_or_else(closed_error)?;
    push_rows(&target, env, &rows, count, submit)
}

/// Accepts the first `count` rows of `rows` (a Float64Array of `ROW_FIELDS`-field rows:
/// reads and writes of library memory, zero-copy) in one call, as many `rw_shared`
/// calls would, and writes each op's id, or -EINVAL for a row naming no live memory or
/// a window outside it, into its row's first field. With `submit`, also submits what is
/// queued (`flush`).
fn push_rows(
    target: &RowTarget,
    env: Env,
    rows: &Unknown,
    count: u32,
    submit: bool,
) -> napi::Result<()> {
    // SAFETY: no JS runs during this call, so the array cannot be detached or resized
    // while the slice lives, and nothing else borrows it.
    let rows = unsafe { f64_rows_mut(env.raw(), rows, count, ROW_FIELDS) }?;
    let memory = target.memory.borrow();
    target.state.push_many(
        count as usize,
        |ctx, i| {
            let row = &mut rows[i * ROW_FIELDS..(i + 1) * ROW_FIELDS];
            let id = match memory.window(row[2], row[3], row[4]) {
                Some(buf) => {
                    let (fd, offset) = (row[1] as i32, row[5] as i64);
                    let request = if row[0] != 0.0 {
                        Request::Pwrite { fd, buf, offset }
                    } else {
                        Request::Pread { fd, buf, offset }
                    };
                    let options = options(row[6] as i32, row[7] as i32, None);
                    ctx.push(request, options, Targets::NONE) as f64
                }
                None => -f64::from(libc::EINVAL),
            };
            row[0] = id;
            id
        },
        |_, _| {},
    )?;
    if submit {
        target.state.flush();
    }
    Ok(())
}

#[napi]
pub struct NativeAio {
    state: Rc<Shared<Context<Targets>>>,
    memory: Rc<RefCell<MemoryTable>>,
    handle: f64,
}

impl NativeAio {
    fn push(
        &self,
        request: Request,
        options: RequestOptions,
        targets: Targets,
    ) -> napi::Result<f64> {
        self.state
            .push(targets, |ctx, targets| ctx.push(request, options, targets))
    }
}

#[napi]
impl NativeAio {
    /// io_setup(`max_events`); at most `submit_batch` iocbs per io_submit (0: no
    /// cap); `dispatch(count)` receives (id, res, res2) triples.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        max_events: u32,
        submit_batch: u32,
        dispatch: Unknown,
        completions: Unknown,
    ) -> napi::Result<Self> {
        let mut ctx = Context::new(max_events).map_err(|e| errno_error(env.raw(), e))?;
        ctx.set_submit_batch(submit_batch as usize);
        let state = Shared::start(
            env.raw(),
            ctx,
            c"uring-aio:Aio",
            dispatch.raw(),
            completions.raw(),
        )?;
        let memory = Rc::new(RefCell::default());
        let handle = register_row_target(RowTarget {
            state: Rc::clone(&state),
            memory: Rc::clone(&memory),
        });
        Ok(Self {
            state,
            memory,
            handle,
        })
    }

    /// This context's handle for `pushAioRows`.
    #[napi(getter)]
    pub fn handle(&self) -> f64 {
        self.handle
    }

    /// The index by which the turn's rows name `mem` (see `push_rows`); lib/ asks once
    /// per memory and remembers the answer for as long as the NativeMemory lives.
    #[napi]
    pub fn register_memory(&self, mem: &NativeMemory) -> u32 {
        self.memory.borrow_mut().register(mem.inner())
    }

    #[napi(getter)]
    pub fn pending(&self) -> u32 {
        self.state.with(|c| c.pending() as u32).unwrap_or(0)
    }

    /// io_submit calls made so far.
    #[napi(getter)]
    pub fn submits(&self) -> f64 {
        self.state.with(|c| c.submits() as f64).unwrap_or(0.0)
    }

    /// Submits what is queued now (one io_submit per batch the kernel takes).
    #[napi]
    pub fn flush(&self) {
        self.state.flush();
    }

    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn pread(
        &self,
        env: Env,
        fd: i32,
        view: Unknown,
        pos: Either<f64, BigInt>,
        rw_flags: i32,
        ioprio: i32,
        resfd: Option<i32>,
    ) -> napi::Result<f64> {
        let (buf, target) = landing_for_view(env.raw(), &view)?;
        self.push(
            rw(false, fd, buf, pos),
            options(rw_flags, ioprio, resfd),
            Targets(vec![target]),
        )
    }

    /// AioContext.submit's io_submit of its requests `ids` (see `Context::flush_exact`):
    /// `[]` when none was refused, else `[index in ids, errno]`.
    #[napi]
    pub fn flush_exact(&self, ids: Vec<f64>) -> Vec<i32> {
        let ids: Vec<u64> = ids.into_iter().map(|id| id as u64).collect();
        match self.state.with(|c| c.flush_exact(&ids)).flatten() {
            Some((index, errno)) => vec![index as i32, errno],
            None => Vec::new(),
        }
    }

    /// pread (or pwrite, if `write`) of a window of library-owned memory: zero-copy.
    // One argument per iocb field the caller controls, like io_submit itself.
    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn rw_shared(
        &self,
        write: bool,
        fd: i32,
        mem: &NativeMemory,
        offset: f64,
        length: f64,
        pos: Either<f64, BigInt>,
        rw_flags: i32,
        ioprio: i32,
        resfd: Option<i32>,
    ) -> napi::Result<f64> {
        let request = rw(write, fd, shared_window(mem, offset, length)?, pos);
        self.push(request, options(rw_flags, ioprio, resfd), Targets::NONE)
    }

    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn pwrite(
        &self,
        env: Env,
        fd: i32,
        view: Unknown,
        pos: Either<f64, BigInt>,
        rw_flags: i32,
        ioprio: i32,
        resfd: Option<i32>,
    ) -> napi::Result<f64> {
        self.push(
            rw(true, fd, copy_of_view(env.raw(), &view)?, pos),
            options(rw_flags, ioprio, resfd),
            Targets::NONE,
        )
    }

    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn preadv(
        &self,
        env: Env,
        fd: i32,
        views: Vec<Unknown>,
        pos: Either<f64, BigInt>,
        rw_flags: i32,
        ioprio: i32,
        resfd: Option<i32>,
    ) -> napi::Result<f64> {
        let (bufs, refs) = landings_for_views(env.raw(), &views)?;
        self.push(
            Request::preadv(fd, bufs, offset(pos)),
            options(rw_flags, ioprio, resfd),
            Targets(refs),
        )
    }

    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn pwritev(
        &self,
        env: Env,
        fd: i32,
        views: Vec<Unknown>,
        pos: Either<f64, BigInt>,
        rw_flags: i32,
        ioprio: i32,
        resfd: Option<i32>,
    ) -> napi::Result<f64> {
        let bufs = copies_of_views(env.raw(), &views)?;
        self.push(
            Request::pwritev(fd, bufs, offset(pos)),
            options(rw_flags, ioprio, resfd),
            Targets::NONE,
        )
    }

    #[napi]
    pub fn fsync(&self, fd: i32, datasync: bool, resfd: Option<i32>) -> napi::Result<f64> {
        let request = if datasync {
            Request::Fdsync { fd }
        } else {
            Request::Fsync { fd }
        };
        self.push(request, options(0, -1, resfd), Targets::NONE)
    }

    #[napi]
    pub fn poll(&self, fd: i32, events: u32, resfd: Option<i32>) -> napi::Result<f64> {
        self.push(
            Request::Poll { fd, events },
            options(0, -1, resfd),
            Targets::NONE,
        )
    }

    #[napi]
    pub fn cancel(&self, id: f64) -> bool {
        self.state
            .with(|c| Backend::cancel(c, id as u64))
            .unwrap_or(false)
    }

    /// io_cancel's answer for request `id`: 0 cancelled (the event reports
    /// -ECANCELED), the errno io_cancel refused with (the request completes normally),
    /// or -1 when no such request is in flight.
    #[napi]
    pub fn io_cancel(&self, id: f64) -> i32 {
        match self.state.with(|c| c.cancel(id as u64)) {
            Some(CancelOutcome::Dequeued | CancelOutcome::Cancelled) => 0,
            Some(CancelOutcome::Refused(errno)) => errno,
            Some(CancelOutcome::NotFound) | None => -1,
        }
    }

    /// Takes what the kernel has completed now, without waiting (io_getevents, or
    /// io_pgetevents with the signals in `sigmask` blocked during the call); the
    /// events are delivered like any others. Returns how many were taken.
    #[napi]
    pub fn collect(&self, env: Env, sigmask: Option<Vec<i32>>) -> napi::Result<u32> {
        let mask = sigmask
            .map(|signals| aio_core::sys::signal_mask(&signals))
            .transpose()
            .map_err(|e| errno_error(env.raw(), e))?;
        self.state
            .with(|c| c.collect(mask))
            .ok_or_else(closed_error)?
            .map(|n| n as u32)
            .map_err(|e| errno_error(env.raw(), e))
    }

    /// Makes `mem` the pool of buffers of `size` bytes that batch entries use.
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

    #[napi]
    pub fn cancel_all(&self) {
        self.state.with(Backend::cancel_all);
    }

    /// io_destroy once every request has settled (JS waits for them first).
    #[napi]
    pub fn close(&self) {
        unregister_row_target(self.handle);
        self.state.teardown();
    }
}

impl Drop for NativeAio {
    fn drop(&mut self) {
        unregister_row_target(self.handle);
        self.state.teardown();
    }
}

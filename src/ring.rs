//! `NativeRing`: the JS-facing io_uring ring. Converts JS values into
//! `ring_core::Op`s and forwards them; delivery and teardown live in `source`.

use std::sync::Arc;
use std::time::Instant;

use napi::bindgen_prelude::{BigInt, Either, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;
use ring_core::{
    AlignedBuf, BufRing, Completion, FixedBuffers, IoBuf, Op, Reaped, Ring, RingOptions,
    SqeOptions, CURRENT_POSITION, OPCODES,
};

use crate::args::JsArgs;
use crate::js;
use crate::memory::NativeMemory;
use crate::net::NativeBufRing;
use crate::source::{closed_error, errno_error, Backend, Delivered, Shared, Targets};
use crate::views::{
    copy_of_view, deferred_landing_for_view, f64_rows, f64_rows_mut, position, shared_window,
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
        Completion::outputs(self)
    }
    fn take_targets(&mut self) -> Targets {
        std::mem::replace(&mut self.user, Targets::NONE)
    }
    fn copy_chunk(&mut self, dst: &mut [u8]) -> Option<(usize, u32)> {
        Completion::copy_chunk(self, dst)
    }
}

/// The row of a completion that carries no memory of its op (a multishot op's
/// intermediate result, a MSG_RING message).
fn row_completion(
    id: u64,
    result: i32,
    flags: u32,
    group: Option<Arc<BufRing>>,
) -> Completion<Targets> {
    Completion {
        id,
        result,
        flags,
        op: None,
        user: Targets::NONE,
        batch: None,
        group,
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
        // A multishot op's intermediate results reach JS as rows like any other
        // (IORING_CQE_F_MORE in the flags); they carry no memory of the op's.
        self.reap_all(|r| match r {
            Reaped::Done(c) => out.push(c),
            Reaped::More {
                id,
                result,
                flags,
                group,
            } => out.push(row_completion(id, result, flags, group)),
            Reaped::Message {
                user_data,
                result,
                flags,
            } => out.push(row_completion(user_data, result, flags, None)),
        });
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

/// Fields of a row of `push_rows`: kind (or, on return, the op's id) and its
/// arguments.
const TURN_ROW: usize = 8;
const TURN_NOP: u32 = 0;
const TURN_READ: u32 = 1;
const TURN_TABLE: u32 = 2;
const TURN_SEND: u32 = 3;

/// A `push_rows` row of kind `TURN_TABLE`: the opcode-table entry with its numbers and
/// objects, pushed as `NativeRing::submit` pushes it; its id, or -errno if refused.
fn push_table_row(
    env: napi::sys::napi_env,
    ring: &mut Ring<Targets>,
    row: &[f64],
    nums: &[f64],
    objs: napi::sys::napi_value,
) -> f64 {
    let einval = -f64::from(libc::EINVAL);
    let (index, flags, timeout) = (row[1] as usize, row[2] as u32, row[3]);
    let (num_start, num_count) = (row[4] as usize, row[5] as usize);
    let (obj_start, obj_count) = (row[6] as u32, row[7] as u32);
    let Some(nums) = nums.get(num_start..num_start + num_count) else {
        return einval;
    };
    let values: Option<Vec<Unknown>> = (obj_start..obj_start + obj_count)
        .map(|j| {
            // SAFETY: each element is a live handle of this call's scope.
            js::element(env, objs, j).map(|v| unsafe { Unknown::from_raw_unchecked(env, v) })
        })
        .collect();
    let Some(values) = values else {
        return einval;
    };
    match table_op(index, JsArgs::new(env, nums, &values, None, None)) {
        Ok((op, targets)) => ring.push_with(op, targets, sqe_options(flags, timeout)) as f64,
        Err(errno) => errno,
    }
}

/// Opcode-table entry `index` built from `args`, with the views its outputs go back
/// to; or -errno where the entry refused the arguments (their references released).
fn table_op(index: usize, mut args: JsArgs) -> Result<(Op, Targets), f64> {
    match Op::from_args(index, &mut args) {
        Ok(op) => Ok((op, Targets(std::mem::take(&mut args.targets)))),
        Err(e) => {
            args.release();
            Err(-f64::from(e.raw_os_error().unwrap_or(libc::EINVAL)))
        }
    }
}

/// `submit`'s SQE flags (1 drain, 2 async, 4 link, 8 hardlink, 16 fixed file) and
/// linked timeout (>= 0 ms) as ring-core options.
fn sqe_options(sqe_flags: u32, timeout_ms: f64) -> SqeOptions {
    SqeOptions {
        drain: sqe_flags & 1 != 0,
        force_async: sqe_flags & 2 != 0,
        link: sqe_flags & 4 != 0,
        hardlink: sqe_flags & 8 != 0,
        fixed_file: sqe_flags & 16 != 0,
        timeout_ms: (timeout_ms >= 0.0).then_some(timeout_ms),
    }
}

/// IORING_OP_READ or IORING_OP_WRITE of `buf` at the JS position `pos`: the fast
/// path of plain reads and writes (the table's entries serve every other form).
fn rw_op(write: bool, fd: i32, buf: IoBuf, pos: Either<f64, BigInt>) -> Op {
    rw_row(write, fd, buf, position(pos).unwrap_or(CURRENT_POSITION))
}

fn rw_row(write: bool, fd: i32, buf: IoBuf, offset: u64) -> Op {
    if write {
        Op::Write {
            fd,
            buf,
            offset,
            rw_flags: 0,
        }
    } else {
        Op::Read {
            fd,
            buf,
            offset,
            rw_flags: 0,
        }
    }
}

/// One row of the opcode table: the `Ring` method name, IORING_OP_* and kernel.
#[napi(object)]
pub struct OpRow {
    pub name: String,
    pub code: u32,
    pub kernel: String,
}

/// The opcode table's rows, in `submit` index order.
#[napi]
pub fn op_table() -> Vec<OpRow> {
    OPCODES
        .iter()
        .map(|info| OpRow {
            name: info.name.to_string(),
            code: u32::from(info.code),
            kernel: info.kernel.to_string(),
        })
        .collect()
}

/// epoll_create1(EPOLL_CLOEXEC) (ring-core's `epoll_create`): an epoll fd for
/// `epollCtl`/`epollWait`, owned by the caller.
#[napi]
pub fn epoll_create(env: Env) -> napi::Result<i32> {
    ring_core::epoll_create().map_err(|e| errno_error(env.raw(), e))
}

/// `RingOptions` as lib/ checked them (see ring-core for each field's meaning).
#[napi(object)]
pub struct NativeRingOptions {
    pub entries: u32,
    pub submit_batch: u32,
    pub cq_entries: Option<u32>,
    pub sqpoll_idle_ms: Option<u32>,
    pub sqpoll_cpu: Option<u32>,
    pub single_issuer: Option<bool>,
    pub attach_wq: Option<i32>,
    pub iopoll: Option<bool>,
    pub coop_taskrun: Option<bool>,
    pub defer_taskrun: Option<bool>,
}

#[napi]
pub struct NativeRing {
    state: std::rc::Rc<Shared<Ring<Targets>>>,
    /// The memory lib/ copies the turn's sends into (see `new_send_staging`).
    send_staging: std::cell::RefCell<Option<Arc<SendStaging>>>,
}

/// The turn's send staging: JS writes a send's bytes here when the call is made, and
/// each send op reads them from a window of `mem` (an Arc of it), so nothing is copied
/// again. JS writes here only while no op holds `mem` (`send_staging_free`).
struct SendStaging {
    mem: Arc<AlignedBuf>,
}

unsafe extern "C" fn release_staging(
    _env: napi::sys::napi_env,
    _data: *mut std::ffi::c_void,
    hint: *mut std::ffi::c_void,
) {
    // SAFETY: hint is the Box<Arc<SendStaging>> js::external_buffer made in
    // `new_send_staging`; Node calls this exactly once, when the Buffer's backing store dies.
    drop(unsafe { Box::from_raw(hint.cast::<Arc<SendStaging>>()) });
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
        options: NativeRingOptions,
        dispatch: Unknown,
        completions: Unknown,
    ) -> napi::Result<Self> {
        let ring = Ring::new(RingOptions {
            entries: options.entries,
            submit_batch: options.submit_batch,
            cq_entries: options.cq_entries.unwrap_or(0),
            sqpoll_idle_ms: options.sqpoll_idle_ms,
            sqpoll_cpu: options.sqpoll_cpu,
            single_issuer: options.single_issuer.unwrap_or(false),
            attach_wq: options.attach_wq,
            iopoll: options.iopoll.unwrap_or(false),
            coop_taskrun: options.coop_taskrun.unwrap_or(false),
            defer_taskrun: options.defer_taskrun.unwrap_or(false),
        })
        .map_err(|e| errno_error(env.raw(), e))?;
        let state = Shared::start(
            env.raw(),
            ring,
            c"uring-aio:Ring",
            dispatch.raw(),
            completions.raw(),
        )?;
        Ok(Self {
            state,
            send_staging: std::cell::RefCell::new(None),
        })
    }

    /// A fresh send staging of `bytes` bytes, which becomes this ring's, as a Buffer
    /// for lib/ to write sends into (see `SendStaging`).
    #[napi]
    pub fn new_send_staging(&self, env: Env, bytes: u32) -> napi::Result<Unknown<'_>> {
        let mem = AlignedBuf::zeroed(bytes as usize, 64).ok_or_else(|| {
            errno_error(env.raw(), std::io::Error::from_raw_os_error(libc::ENOMEM))
        })?;
        let staging = Arc::new(SendStaging { mem: Arc::new(mem) });
        let (ptr, len) = (staging.mem.as_ptr(), staging.mem.len());
        *self.send_staging.borrow_mut() = Some(Arc::clone(&staging));
        // SAFETY: `ptr` is valid for `len` bytes while the Arc<SendStaging> in the hint
        // lives (it holds `mem`), which release_staging drops when the Buffer dies.
        unsafe { js::external_buffer(env.raw(), ptr, len, staging, release_staging) }
    }

    /// Whether no op holds the send staging any more (every send handed over from it
    /// was reaped), so JS may write it again from the start.
    #[napi]
    pub fn send_staging_free(&self) -> bool {
        self.send_staging
            .borrow()
            .as_ref()
            .is_some_and(|s| Arc::strong_count(&s.mem) == 1)
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

    /// Submits what is queued and writes the completions the kernel already posted
    /// The arena received chunks are copied into as their rows are written (source
    /// `chunk_arena`); JS copies each out while it handles the row.
    #[napi]
    pub fn chunk_arena(&self) -> napi::Result<Unknown<'_>> {
        self.state.chunk_arena()
    }

    /// into the completion table; returns their count (source `flush_and_take`).
    #[napi]
    pub fn flush_and_take(&self) -> u32 {
        self.state.flush_and_take()
    }

    #[napi]
    pub fn read(
        &self,
        env: Env,
        fd: i32,
        view: Unknown,
        pos: Either<f64, BigInt>,
    ) -> napi::Result<f64> {
        // The landing zone is allocated when the read gets its SQE: a read waiting in
        // the backlog holds none.
        let (buf, target) = deferred_landing_for_view(env.raw(), &view)?;
        self.push(rw_op(false, fd, buf, pos), Targets(vec![target]))
    }

    /// Queues the first `count` rows of `rows` (a Float64Array of `TURN_ROW` fields) in
    /// order, the view of row `i` being `views[i]`:
    /// - kind 0 (fd, position, length unused): a nop;
    /// - kind 1 (fd, position, length): a read of `length` bytes (the view's size when
    ///   the call was made) through a landing zone, copied back into the view as far as
    ///   it then reaches;
    /// - kind 2 (table index, SQE flags, timeout ms, first number, numbers, first
    ///   object, objects): opcode-table entry `index` with its arguments taken from
    ///   `nums` (a Float64Array) and `objs` (an array) at those places, as `submit`;
    /// - kind 3 (fd, MSG_* flags, offset, length): a send of the `length` bytes at
    ///   `offset` of the send staging (`new_send_staging`), where lib/ copied them when
    ///   the call was made; the op holds the staging until it is reaped.
    ///
    /// Each row's first field is overwritten with the op's id, or -errno where its
    /// arguments were refused. lib/ fills the rows during a JS turn and queues them all
    /// with this one call, before anything else reaches this ring. With `submit`, it
    /// then submits and takes the completions already posted, as `flush_and_take`, and
    /// returns their count (0 otherwise).
    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn push_rows(
        &self,
        env: Env,
        rows: Unknown,
        count: u32,
        views: Unknown,
        submit: bool,
        nums: Unknown,
        num_count: u32,
        objs: Unknown,
    ) -> napi::Result<u32> {
        let env = env.raw();
        // SAFETY: no JS runs during this call, so neither Float64Array can be detached
        // or resized while its slice lives; they are distinct arrays (lib/), and
        // nothing else borrows them.
        let (rows, nums) = unsafe {
            (
                f64_rows_mut(env, &rows, count, TURN_ROW)?,
                f64_rows(env, &nums, num_count, 1)?,
            )
        };
        let views = views.raw();
        let objs = objs.raw();
        let staging = self.send_staging.borrow().clone();
        let mut ids = vec![0.0; count as usize];
        self.state.push_many(
            count as usize,
            |ring, i| {
                let row = &rows[i * TURN_ROW..(i + 1) * TURN_ROW];
                let (kind, fd, pos, length) = (row[0], row[1] as i32, row[2], row[3] as usize);
                let offset = if pos < 0.0 {
                    CURRENT_POSITION
                } else {
                    pos as u64
                };
                let made = match kind as u32 {
                    TURN_TABLE => return push_table_row(env, ring, row, nums, objs),
                    TURN_NOP => Some((Op::Nop {}, Targets::NONE)),
                    TURN_READ => js::element(env, views, i as u32)
                        .and_then(|view| js::new_ref(env, view, 1).ok())
                        .map(|target| {
                            // The landing zone is allocated when the read gets its SQE.
                            let buf = IoBuf::deferred_landing(length);
                            (rw_row(false, fd, buf, offset), Targets(vec![target]))
                        }),
                    // fd, MSG_* flags, then the bytes' place in the turn's send staging
                    // (the row's view), copied now into memory the op owns.
                    TURN_SEND => staging.as_ref().and_then(|staging| {
                        let (flags, at, len) = (row[2] as i32, row[3] as usize, row[4] as usize);
                        IoBuf::shared(Arc::clone(&staging.mem), at, len)
                            .map(|buf| (Op::Send { fd, buf, flags }, Targets::NONE))
                    }),
                    _ => None,
                };
                match made {
                    Some((op, targets)) => ring.push(op, targets) as f64,
                    None => -f64::from(libc::EINVAL),
                }
            },
            |i, id| ids[i] = id,
        )?;
        for (i, id) in ids.into_iter().enumerate() {
            rows[i * TURN_ROW] = id;
        }
        Ok(if submit {
            self.state.flush_and_take()
        } else {
            0
        })
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

    /// Queues entry `index` of the opcode table (`op_table`) with its arguments in
    /// the table's order: numbers in `nums`, paths, buffers and lists of buffers in
    /// `objs`, library-owned memory used in place in `memory`, the provided buffer ring
    /// an op selects from in `buf_ring`. `sqe_flags`: 1 drain, 2 async, 4 link, 8 hardlink (IOSQE_*);
    /// 16 fixed file; `timeout_ms` >= 0 links an IORING_OP_LINK_TIMEOUT behind the op.
    /// Returns the op's id, or -errno if the table entry refused the arguments.
    // Plain arguments rather than an options object: no JS allocation per call.
    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn submit(
        &self,
        env: Env,
        index: u32,
        sqe_flags: u32,
        timeout_ms: f64,
        nums: Vec<f64>,
        objs: Vec<Unknown>,
        memory: Option<&NativeMemory>,
        buf_ring: Option<&NativeBufRing>,
    ) -> napi::Result<f64> {
        let args = JsArgs::new(env.raw(), &nums, &objs, memory, buf_ring);
        // Refused arguments come back as a value, -errno, not a thrown string.
        let (op, targets) = match table_op(index as usize, args) {
            Ok(made) => made,
            Err(errno) => return Ok(errno),
        };
        let options = sqe_options(sqe_flags, timeout_ms);
        self.state.push(targets, |ring, targets| {
            ring.push_with(op, targets, options)
        })
    }

    /// The io_uring fd (for `attachWq`).
    #[napi(getter)]
    pub fn ring_fd(&self) -> i32 {
        self.state.with(|r| r.ring_fd()).unwrap_or(-1)
    }

    /// IORING_REGISTER_FILES.
    #[napi]
    pub fn register_files(&self, env: Env, fds: Vec<i32>) -> napi::Result<()> {
        self.state
            .with(|r| r.register_files(&fds))
            .ok_or_else(closed_error)?
            .map_err(|e| errno_error(env.raw(), e))
    }

    /// IORING_REGISTER_FILES_UPDATE; returns how many were updated.
    #[napi]
    pub fn update_files(&self, env: Env, offset: u32, fds: Vec<i32>) -> napi::Result<u32> {
        self.state
            .with(|r| r.update_files(offset, &fds))
            .ok_or_else(closed_error)?
            .map(|n| n as u32)
            .map_err(|e| errno_error(env.raw(), e))
    }

    /// IORING_UNREGISTER_FILES.
    #[napi]
    pub fn unregister_files(&self, env: Env) -> napi::Result<()> {
        self.state
            .with(|r| r.unregister_files())
            .ok_or_else(closed_error)?
            .map_err(|e| errno_error(env.raw(), e))
    }

    /// IORING_REGISTER_IOWQ_MAX_WORKERS; returns the previous [bounded, unbounded].
    #[napi]
    pub fn iowq_max_workers(
        &self,
        env: Env,
        bounded: u32,
        unbounded: u32,
    ) -> napi::Result<Vec<u32>> {
        self.state
            .with(|r| r.iowq_max_workers([bounded, unbounded]))
            .ok_or_else(closed_error)?
            .map(Vec::from)
            .map_err(|e| errno_error(env.raw(), e))
    }

    /// IORING_REGISTER_IOWQ_AFF with `cpus`, or IORING_UNREGISTER_IOWQ_AFF with null.
    #[napi]
    pub fn iowq_affinity(&self, env: Env, cpus: Option<Vec<u32>>) -> napi::Result<()> {
        let cpus: Option<Vec<usize>> = cpus.map(|c| c.into_iter().map(|n| n as usize).collect());
        self.state
            .with(|r| r.iowq_affinity(cpus.as_deref()))
            .ok_or_else(closed_error)?
            .map_err(|e| errno_error(env.raw(), e))
    }

    /// Keeps the event loop alive while JS waits for messages from other rings.
    #[napi]
    pub fn set_keep_alive(&self, keep: bool) {
        self.state.set_keep_alive(keep);
    }

    /// Ends a linked chain whose next op could not be queued.
    #[napi]
    pub fn end_chain(&self) {
        self.state.with(Ring::end_chain);
    }

    /// The opcodes (IORING_OP_*) this kernel supports, from IORING_REGISTER_PROBE.
    #[napi]
    pub fn supported_opcodes(&self) -> Vec<u32> {
        self.state
            .with(|r| r.supported_opcodes().into_iter().map(u32::from).collect())
            .unwrap_or_default()
    }

    /// A provided buffer ring of `count` buffers of `size` bytes, registered
    /// (IORING_REGISTER_PBUF_RING, ring-core's `register_buf_ring`).
    #[napi]
    pub fn register_buf_ring(
        &self,
        env: Env,
        count: u32,
        size: u32,
    ) -> napi::Result<NativeBufRing> {
        self.state
            .with(|r| r.register_buf_ring(count, size))
            .ok_or_else(closed_error)?
            .map(NativeBufRing::new)
            .map_err(|e| errno_error(env.raw(), e))
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

/// What `read_now`/`write_now` return for a short count on a regular file: the count
/// plus this, so lib/ sends the rest to the ring (the range was only partly cached, or
/// the file ends there: the ring's read then returns 0).
const SHORT_ON_REGULAR_FILE: f64 = 4_294_967_296.0;

/// The result of a non-blocking attempt as one number: the bytes (>= 0), `-(bytes +
/// 2^32)` for a short count on a regular file, or -errno (`EAGAIN`: it would block).
fn nowait_result(r: std::io::Result<ring_core::NowaitResult>) -> f64 {
    match r {
        Ok(r) if r.regular_file => -(r.bytes as f64 + SHORT_ON_REGULAR_FILE),
        Ok(r) => r.bytes as f64,
        Err(e) => -f64::from(e.raw_os_error().unwrap_or(libc::EIO)),
    }
}

/// A plain-Buffer read tried first on this thread, without blocking (ring-core
/// `read_nowait`): a page-cache hit lands in `view` before this returns, with no copy
/// through a landing zone. `pos` < 0 reads at the file position.
#[napi]
pub fn read_now(env: Env, fd: i32, view: Unknown, pos: f64) -> f64 {
    let Some((ptr, len)) = crate::js::view_bytes(env.raw(), view.raw()) else {
        return -f64::from(libc::EINVAL);
    };
    if len == 0 || ptr.is_null() {
        return -f64::from(libc::EINVAL);
    }
    // SAFETY: ptr is valid for len bytes right now, and no JS runs during this call,
    // so nothing can detach, resize or free the view's memory while the kernel writes
    // into it (the write is over when preadv2 returns).
    let buf = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
    nowait_result(ring_core::read_nowait(
        fd,
        buf,
        (pos >= 0.0).then_some(pos as u64),
    ))
}

/// A plain-Buffer write tried first on this thread, without blocking (ring-core
/// `write_nowait`), straight from `view`. `pos` < 0 writes at the file position.
#[napi]
pub fn write_now(env: Env, fd: i32, view: Unknown, pos: f64) -> f64 {
    let at = (pos >= 0.0).then_some(pos as u64);
    crate::js::with_view_bytes(env.raw(), view.raw(), |bytes| {
        if bytes.is_empty() {
            return -f64::from(libc::EINVAL);
        }
        nowait_result(ring_core::write_nowait(fd, bytes, at))
    })
    .unwrap_or(-f64::from(libc::EINVAL))
}

/// A send tried first on this thread without blocking (ring-core `send_nowait`),
/// straight from `view`: the bytes the socket's buffer took, or -errno (`EAGAIN`: full).
#[napi]
pub fn send_now(env: Env, fd: i32, view: Unknown, flags: i32) -> f64 {
    crate::js::with_view_bytes(env.raw(), view.raw(), |bytes| {
        if bytes.is_empty() {
            return -f64::from(libc::EINVAL);
        }
        match ring_core::send_nowait(fd, bytes, flags) {
            Ok(n) => n as f64,
            Err(e) => -f64::from(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    })
    .unwrap_or(-f64::from(libc::EINVAL))
}

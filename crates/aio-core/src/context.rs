//! An AIO context with an in-flight table: the same ownership rule as the ring. Each
//! request's iocb (boxed: io_cancel finds a request by its address), buffers and iovec
//! array belong to its slot from `push` until its io_event is reaped.

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use std::sync::Arc;

use iobuf::batch::{BatchResults, FixedBuffers};
use iobuf::inflight::{InFlight, Owner, Reaped, SlotState};
use iobuf::EventFd;

use crate::abi::{AioContext, IoEvent, Iocb};
use crate::batch::request_for_entry;
use crate::request::{Request, RequestOptions};
use crate::sys;

/// How long teardown waits for every request before leaking instead of freeing.
pub const TEARDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// A completed request handed back with the memory it owned.
///
/// For a whole batch (`push_batch`), `result` is the number of entries (or
/// -ECANCELED if the batch was cancelled), `request` is `None` and `batch` holds the
/// per-entry results.
#[derive(Debug)]
pub struct Completion<T> {
    pub id: u64,
    /// io_event.res: bytes, poll revents, or a negated errno.
    pub result: i64,
    pub res2: i64,
    /// The request's memory, reaped: `request.outputs(result)` reads what the kernel
    /// wrote.
    pub request: Option<Reaped<Request>>,
    pub user: T,
    pub batch: Option<BatchResults>,
}

impl<T> Completion<T> {
    /// The bytes the kernel read into memory the request owned, to copy out.
    pub fn outputs(&self) -> Vec<(usize, &[u8])> {
        self.request
            .as_ref()
            .map_or_else(Vec::new, |request| request.outputs(self.result))
    }
}

/// What the in-flight table keeps per request: its iocb (boxed: io_cancel finds a
/// request by its address) and the memory the iocb points into.
#[derive(Debug)]
struct Entry {
    iocb: Box<Iocb>,
    request: Request,
}

/// A kernel AIO context (io_setup) whose completions signal an eventfd
/// (IOCB_FLAG_RESFD).
pub struct Context<T> {
    ctx: AioContext,
    max_events: usize,
    table: InFlight<Entry, T>,
    eventfd: EventFd,
    events: Vec<IoEvent>,
    submits: u64,
    submit_batch: usize,
    /// Completions reaped during a synchronous run, delivered by the next `reap`.
    stash: Vec<Completion<T>>,
    pool: Option<Arc<FixedBuffers>>,
    /// Events `collect` took from the kernel, handed out by the next `reap`.
    collected: Vec<IoEvent>,
    /// A second context for synchronous batch runs, made on the first one: their
    /// requests never wait for room among the caller's (which may never complete, like
    /// polls on a quiet pipe, and fill `max_events`).
    sync_ctx: Option<AioContext>,
    /// Iocb boxes of reaped requests, reused by the next ones (one allocation less per
    /// request); at most `max_events` are kept. Boxes, not iocbs: the boxes are the
    /// allocations reused, each moving whole into an `Entry`.
    #[allow(clippy::vec_box)]
    spare_iocbs: Vec<Box<Iocb>>,
    /// Buffers a flush reuses (the ids it submits, their iocb addresses, the
    /// descriptor kinds it looked up): emptied before each use.
    scratch: FlushScratch,
}

/// See `Context::scratch`.
#[derive(Default)]
struct FlushScratch {
    ids: Vec<u64>,
    iocbs: Vec<*mut Iocb>,
    kinds: Vec<(RawFd, bool)>,
}

/// What `Context::cancel` achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The request had not reached the kernel: it settles with -ECANCELED.
    Dequeued,
    /// io_cancel succeeded (EINPROGRESS: cancellation under way; or, on old kernels,
    /// 0 with the event handed back): the event reports -ECANCELED (a cancelled
    /// poll's "no events" included).
    Cancelled,
    /// io_cancel refused with this errno (EINVAL: the request cannot be cancelled, as
    /// every file read or write; EAGAIN: its cancel callback could not stop it). The
    /// request completes normally.
    Refused(i32),
    /// No such caller request in flight (unknown, already completed, or settled
    /// without the kernel). For a batch id: the batch was not found.
    NotFound,
}

impl CancelOutcome {
    /// Whether the request will settle with -ECANCELED.
    pub fn cancelled(self) -> bool {
        matches!(self, CancelOutcome::Dequeued | CancelOutcome::Cancelled)
    }
}

impl<T> Context<T> {
    /// io_setup(`max_events`) plus the eventfd completions are signalled on.
    pub fn new(max_events: u32) -> io::Result<Self> {
        if max_events == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let eventfd = EventFd::new()?;
        let ctx = sys::io_setup(max_events)?;
        Ok(Self {
            ctx,
            max_events: max_events as usize,
            table: InFlight::default(),
            eventfd,
            events: vec![IoEvent::default(); max_events.min(1024) as usize],
            submits: 0,
            submit_batch: usize::MAX,
            stash: Vec::new(),
            pool: None,
            collected: Vec::new(),
            sync_ctx: None,
            spare_iocbs: Vec::new(),
            scratch: FlushScratch::default(),
        })
    }

    pub fn eventfd(&self) -> RawFd {
        self.eventfd.fd()
    }

    pub fn max_events(&self) -> usize {
        self.max_events
    }

    /// Caller requests and batches accepted and not yet reaped.
    pub fn pending(&self) -> usize {
        self.table.pending()
    }

    /// The buffers batch entries use (AIO registers nothing with the kernel: the pool
    /// is plain library memory). Once per context (EBUSY after).
    pub fn set_buffers(&mut self, pool: Arc<FixedBuffers>) -> io::Result<()> {
        if self.pool.is_some() {
            return Err(io::Error::from_raw_os_error(libc::EBUSY));
        }
        self.pool = Some(pool);
        Ok(())
    }

    /// Whether `reap` would deliver something without waiting for the eventfd.
    pub fn has_completions(&self) -> bool {
        !self.stash.is_empty()
            || self.table.has_local()
            || !self.collected.is_empty()
            || self.table.has_finished_batches()
    }

    /// io_submit calls made so far.
    pub fn submits(&self) -> u64 {
        self.submits
    }

    /// Caps how many iocbs one io_submit carries (0: no cap). The block layer plugs a
    /// batch and dispatches it to the device at the end of io_submit, so big batches
    /// make completions arrive together and the queue run in lockstep (measured here,
    /// O_DIRECT QD32 on virtio: 32 per call ~86k IOPS, 4 per call ~100-113k, like fio).
    /// `push` submits as soon as this many are queued.
    pub fn set_submit_batch(&mut self, batch: usize) {
        self.submit_batch = if batch == 0 { usize::MAX } else { batch };
    }

    pub fn has_unsubmitted(&self) -> bool {
        !self.table.backlog().is_empty()
    }

    /// Accepts a request; it goes to the kernel at the next `flush`, or at once with
    /// the ones before it when that makes `submit_batch` queued.
    pub fn push(&mut self, request: Request, options: RequestOptions, user: T) -> u64 {
        let id = self.insert(request, options, Owner::Caller(user));
        // A full io_submit's worth goes in now rather than at the next `flush`: the
        // device starts on it while the caller prepares the rest (O_DIRECT QD32 on
        // virtio: 0.84x of fio libaio when submitting at the end of the JS turn, 0.98x
        // when submitting as soon as `submit_batch` are queued).
        if self.table.backlog().len() >= self.submit_batch
            && self.table.in_kernel() < self.max_events
        {
            self.flush();
        }
        id
    }

    /// Accepts a batch of entry rows (see `iobuf::batch`): each row is validated first,
    /// and a refused row settles alone without reaching the kernel. The batch is
    /// delivered once, as a whole, when its last request completes.
    pub fn push_batch(&mut self, entries: &[f64], user: T) -> u64 {
        self.start_batch(entries, Some(user))
    }

    fn start_batch(&mut self, entries: &[f64], user: Option<T>) -> u64 {
        let pool = self.pool.clone();
        let resfd = self.eventfd.fd();
        let (batch, done) = self
            .table
            .start_batch(entries, user, |table, row, index, batch| {
                let (request, options) = request_for_entry(row, pool.as_deref())?;
                Ok(insert(
                    table,
                    resfd,
                    Box::default(),
                    request,
                    options,
                    Owner::Member { batch, index },
                ))
            });
        if done {
            self.eventfd.notify();
        }
        batch
    }

    /// Runs a batch synchronously: submits it, waits for every request, and writes the
    /// result rows into `results`. Other completions meanwhile wait for the next
    /// `reap`. Blocks until the last request completes, however long that takes.
    pub fn run_batch(&mut self, entries: &[f64], results: &mut [f64]) {
        let batch = self.start_batch(entries, None);
        // The run's requests go through a context of their own, so they never wait
        // behind the caller's requests in this one (which may never complete).
        let sync = match self.sync_ctx {
            Some(ctx) => Some(ctx),
            None => sys::io_setup(self.max_events as u32)
                .ok()
                .inspect(|&ctx| self.sync_ctx = Some(ctx)),
        };
        let mut members: Vec<u64> = Vec::new();
        if sync.is_some() {
            let table = &self.table;
            members = table
                .backlog()
                .iter()
                .copied()
                .filter(|&id| table.slot(id).is_some_and(|s| s.is_member_of(batch)))
                .collect();
            self.table.backlog_mut().retain(|id| !members.contains(id));
        }
        let mut pending: std::collections::VecDeque<u64> = members.into();
        let mut in_sync = 0usize;
        let mut stash = std::mem::take(&mut self.stash);
        let run = loop {
            if let Some(ctx) = sync {
                in_sync += self.submit_to(ctx, &mut pending, self.max_events - in_sync);
            }
            self.flush();
            self.clear_eventfd();
            self.reap(|c| stash.push(c));
            if let Some(run) = self.table.take_run(batch) {
                break run;
            }
            match sync {
                Some(ctx) if in_sync > 0 => {
                    // Wait for the run's own completions; `reap` hands them over.
                    let n = sys::io_getevents(ctx, 1, &mut self.events, None).unwrap_or(0);
                    in_sync -= n;
                    self.collected.extend_from_slice(&self.events[..n]);
                }
                // Nothing of the run in the kernel: what is left waits for room (after
                // a pause if the kernel said EAGAIN).
                Some(_) => self.eventfd.wait(1),
                // No second context (io_setup refused it): the run shares this one.
                None => self
                    .eventfd
                    .wait(if self.table.in_kernel() > 0 { -1 } else { 1 }),
            }
        };
        self.stash = stash;
        if !self.stash.is_empty() {
            self.eventfd.notify();
        }
        let rows = run.rows();
        let n = rows.len().min(results.len());
        results[..n].copy_from_slice(&rows[..n]);
    }

    /// Submits up to `room` requests of `queue` (off the backlog) to context `ctx`;
    /// a request the kernel refuses settles alone. Returns how many it took.
    fn submit_to(
        &mut self,
        ctx: AioContext,
        queue: &mut std::collections::VecDeque<u64>,
        room: usize,
    ) -> usize {
        let mut taken = 0;
        let mut kinds = FdKinds::default();
        while !queue.is_empty() && taken < room {
            let ids: Vec<u64> = queue.iter().take(room - taken).copied().collect();
            match self.submit_ids(ctx, &ids, &mut kinds) {
                Submitted::Took(n) => {
                    queue.drain(..n);
                    taken += n;
                    if n == 0 {
                        break;
                    }
                }
                Submitted::Busy => break,
                Submitted::Refused(errno) => {
                    let id = queue.pop_front().expect("batch was not empty");
                    self.settle_locally(id, -i64::from(errno));
                }
            }
        }
        taken
    }

    /// One io_submit of requests `ids`, in order, to context `ctx`. The ones the kernel
    /// took (a prefix) are in the kernel from now on. A read or write the kernel would
    /// run inside io_submit (see `FdKinds`) ends the prefix: it is refused with EAGAIN
    /// when it comes first, as the kernel refuses an iocb it cannot take.
    fn submit_ids(&mut self, ctx: AioContext, ids: &[u64], kinds: &mut FdKinds) -> Submitted {
        let mut batch = std::mem::take(&mut self.scratch.iocbs);
        batch.clear();
        let submitted = self.submit_iocbs(ctx, ids, kinds, &mut batch);
        // Only addresses of boxes the slots own: nothing dangles once they are reaped.
        batch.clear();
        self.scratch.iocbs = batch;
        submitted
    }

    fn submit_iocbs(
        &mut self,
        ctx: AioContext,
        ids: &[u64],
        kinds: &mut FdKinds,
        batch: &mut Vec<*mut Iocb>,
    ) -> Submitted {
        for &id in ids {
            let entry = &mut self
                .table
                .slot_mut(id)
                .expect("queued ids have slots")
                .payload;
            // On a pipe, FIFO, socket or character device the kernel runs the read or
            // write inside io_submit, and one with nothing to read would freeze this
            // thread (and its event loop) until data comes; RWF_NOWAIT (4.14) makes the
            // kernel answer EAGAIN itself instead of blocking.
            let blocks = entry.iocb.aio_rw_flags & crate::abi::rwf::NOWAIT == 0
                && entry
                    .request
                    .rw_fd()
                    .is_some_and(|fd| kinds.submits_synchronously(fd));
            if blocks {
                break;
            }
            batch.push(&mut *entry.iocb as *mut Iocb);
        }
        if batch.is_empty() {
            return Submitted::Refused(libc::EAGAIN);
        }
        self.submits += 1;
        // SAFETY: each iocb is boxed in its slot and points only at memory the slot's
        // request owns; slots leave the table only when reaped. The kernel reads each
        // iocb and writes its `aio_key`, through the pointers taken from `&mut` above,
        // while nothing else refers to them.
        match unsafe { submit(ctx, batch) } {
            Ok(n) => {
                for &id in &ids[..n] {
                    self.table.to_kernel(id);
                }
                Submitted::Took(n)
            }
            Err(e) => match e.raw_os_error().unwrap_or(libc::EIO) {
                libc::EAGAIN => Submitted::Busy,
                errno => Submitted::Refused(errno),
            },
        }
    }

    fn insert(&mut self, request: Request, options: RequestOptions, owner: Owner<T>) -> u64 {
        let iocb = self.spare_iocbs.pop().unwrap_or_default();
        insert(
            &mut self.table,
            self.eventfd.fd(),
            iocb,
            request,
            options,
            owner,
        )
    }

    fn settle_locally(&mut self, id: u64, result: i64) {
        if self.table.settle_locally(id, result) {
            self.eventfd.notify();
        }
    }

    /// Submits queued requests with as few io_submit calls as the kernel allows,
    /// keeping at most `max_events` in the kernel. A request refused at submission
    /// (the kernel's EBADF, EINVAL, ..., or EAGAIN for a read or write that would run
    /// inside io_submit) settles alone with that error; the kernel's EAGAIN is
    /// back-pressure: the rest stay queued for the next flush.
    pub fn flush(&mut self) {
        self.flush_until(|_, _| false);
    }

    /// `flush`, as one io_submit of the caller's requests `ids` (queued in this order,
    /// nothing of them submitted yet): when one of them is refused, it settles with
    /// the error, the ones after it are withdrawn (they settle with -ECANCELED,
    /// never submitted), and the answer is its index in `ids` and the errno, as
    /// io_submit(2) stops at the first iocb it refuses. None when none was refused
    /// (some may still wait in the queue for room).
    pub fn flush_exact(&mut self, ids: &[u64]) -> Option<(usize, i32)> {
        let mut refused = None;
        self.flush_until(|id, errno| {
            refused = ids.iter().position(|&mine| mine == id).map(|i| (i, errno));
            refused.is_some()
        });
        let (index, errno) = refused?;
        for &id in &ids[index + 1..] {
            if self
                .table
                .slot(id)
                .is_some_and(|s| s.state() == SlotState::Queued)
            {
                self.table.unqueue(id);
                self.settle_locally(id, -i64::from(libc::ECANCELED));
            }
        }
        Some((index, errno))
    }

    /// `flush`, stopping after a refused request when `stop(id, errno)` says so.
    fn flush_until(&mut self, mut stop: impl FnMut(u64, i32) -> bool) {
        // No JavaScript runs during a flush, so a descriptor names the same file
        // throughout: one fstat per descriptor per flush (the kinds start empty).
        let mut kinds = FdKinds::reusing(std::mem::take(&mut self.scratch.kinds));
        let mut ids = std::mem::take(&mut self.scratch.ids);
        while !self.table.backlog().is_empty() && self.table.in_kernel() < self.max_events {
            let room = (self.max_events - self.table.in_kernel()).min(self.submit_batch);
            ids.clear();
            ids.extend(self.table.backlog().iter().take(room).copied());
            match self.submit_ids(self.ctx, &ids, &mut kinds) {
                Submitted::Took(n) => {
                    for _ in 0..n {
                        self.table.pop_queued();
                    }
                    if n == 0 {
                        break;
                    }
                }
                Submitted::Busy => {
                    if self.table.in_kernel() == 0 {
                        // Nothing in flight will wake the loop: wake it to retry.
                        self.eventfd.notify();
                    }
                    break;
                }
                Submitted::Refused(errno) => {
                    // The first iocb was refused; the kernel took none of the batch.
                    let id = self.table.pop_queued().expect("batch was not empty");
                    self.settle_locally(id, -i64::from(errno));
                    if stop(id, errno) {
                        break;
                    }
                }
            }
        }
        self.scratch.ids = ids;
        self.scratch.kinds = kinds.0;
    }

    /// Requests cancellation: a queued request settles at once with -ECANCELED; one
    /// in the kernel gets io_cancel, and the outcome says what the kernel answered.
    /// Most requests (every file read or write, O_DIRECT included) cannot be cancelled
    /// and complete normally (`Refused`).
    ///
    /// A batch id cancels every request of the batch (`Cancelled` if it was found); it
    /// then completes with -ECANCELED, each row holding its request's own result.
    pub fn cancel(&mut self, id: u64) -> CancelOutcome {
        let batch = self.table.is_batch(id);
        let Some(targets) = self.table.cancel_targets(id) else {
            return CancelOutcome::NotFound;
        };
        let mut outcome = CancelOutcome::Cancelled;
        for target in targets {
            outcome = self.cancel_request(target);
        }
        if batch {
            CancelOutcome::Cancelled
        } else {
            outcome
        }
    }

    fn cancel_request(&mut self, id: u64) -> CancelOutcome {
        let Some(slot) = self.table.slot_mut(id) else {
            return CancelOutcome::NotFound;
        };
        slot.cancel_requested = true;
        match slot.state() {
            SlotState::Queued => {
                self.table.unqueue(id);
                self.settle_locally(id, -i64::from(libc::ECANCELED));
                CancelOutcome::Dequeued
            }
            SlotState::InKernel => {
                let iocb = &mut *slot.payload.iocb as *mut Iocb;
                // SAFETY: the iocb is in flight on this context and still boxed in
                // its slot.
                match unsafe { sys::io_cancel(self.ctx, iocb) } {
                    Ok(event) => {
                        // An old kernel's success: the event came back here and will
                        // never reach the ring (the table counts it out of the kernel
                        // when `reap` hands it over).
                        self.collected.push(event);
                        self.eventfd.notify();
                        CancelOutcome::Cancelled
                    }
                    Err(e) => match e.raw_os_error().unwrap_or(libc::EIO) {
                        libc::EINPROGRESS => CancelOutcome::Cancelled,
                        errno => CancelOutcome::Refused(errno),
                    },
                }
            }
            SlotState::SettledLocally => CancelOutcome::NotFound,
        }
    }

    pub fn cancel_all(&mut self) {
        for id in self.table.cancel_all_targets() {
            self.cancel_request(id);
        }
    }

    pub fn clear_eventfd(&self) {
        self.eventfd.clear();
    }

    /// Takes the events the kernel has ready now, without waiting: one io_getevents,
    /// or io_pgetevents (kernel 4.18) with `sigmask` (see `sys::signal_mask`) as the
    /// thread's signal mask for the call. They are handed out by the next `reap` (the
    /// eventfd is signalled). Reaches the requests whose completions signal the
    /// caller's eventfd (`RequestOptions::resfd`) rather than the context's. Errors are
    /// the syscall's: ENOSYS (no io_pgetevents), EINTR (a signal the mask leaves
    /// unblocked arrived), EINVAL, EFAULT.
    pub fn collect(&mut self, sigmask: Option<u64>) -> io::Result<usize> {
        let n = match sigmask {
            None => sys::io_getevents(self.ctx, 0, &mut self.events, Some(Duration::ZERO))?,
            Some(mask) => sys::io_pgetevents(
                self.ctx,
                0,
                &mut self.events,
                Some(Duration::ZERO),
                Some(mask),
            )?,
        };
        self.collected.extend_from_slice(&self.events[..n]);
        if n > 0 {
            self.eventfd.notify();
        }
        Ok(n)
    }

    /// Hands every available event to `deliver`, freeing its slot. Each carries the
    /// kernel's `res` and `res2` (0 for requests settled without the kernel).
    pub fn reap(&mut self, mut deliver: impl FnMut(Completion<T>)) -> usize {
        let mut delivered = self.stash.len();
        for c in self.stash.drain(..) {
            deliver(c);
        }
        let mut finished: Vec<(u64, i64, i64, bool)> = self
            .table
            .take_local()
            .into_iter()
            .map(|(id, res)| (id, res, 0, false))
            .collect();
        finished.extend(
            self.collected
                .drain(..)
                .map(|e| (e.data, e.res, e.res2, true)),
        );
        loop {
            let n =
                sys::io_getevents(self.ctx, 0, &mut self.events, Some(Duration::ZERO)).unwrap_or(0);
            finished.extend(
                self.events[..n]
                    .iter()
                    .map(|e| (e.data, e.res, e.res2, true)),
            );
            if n < self.events.len() {
                break;
            }
        }
        for (id, result, res2, from_kernel) in finished {
            let Some(done) = self.table.reaped(id, from_kernel) else {
                continue;
            };
            // A cancelled IOCB_CMD_POLL completes with no events (0), which a real
            // poll completion never reports: say what happened.
            let cancelled_poll = done.cancel_requested
                && result == 0
                && matches!(done.payload.get().request, Request::Poll { .. });
            let result = if cancelled_poll {
                -i64::from(libc::ECANCELED)
            } else {
                result
            };
            let spare = &mut self.spare_iocbs;
            let keep = self.max_events;
            let now = self
                .table
                .settle(done, result, res2 as f64, |id, memory, user| {
                    // Reaped: the kernel is done with the iocb, which serves the next request.
                    let request = memory.map(|entry| {
                        if spare.len() < keep {
                            spare.push(entry.iocb);
                        }
                        entry.request
                    });
                    deliver(Completion {
                        id,
                        result,
                        res2,
                        request: Some(request),
                        user,
                        batch: None,
                    })
                });
            delivered += usize::from(now);
        }
        let batches = self.table.deliver_batches(|done| {
            deliver(Completion {
                id: done.id,
                result: if done.cancelled {
                    -i64::from(libc::ECANCELED)
                } else {
                    done.results.len() as i64
                },
                res2: 0,
                request: None,
                user: done.user,
                batch: Some(done.results),
            })
        });
        delivered + batches
    }

    /// Blocks until every request completed (delivering each) or `deadline` passes.
    pub fn drain_blocking(
        &mut self,
        deadline: Instant,
        mut deliver: impl FnMut(Completion<T>),
    ) -> bool {
        let eventfd = self.eventfd();
        iobuf::drain_until(eventfd, deadline, || {
            self.flush();
            self.reap(&mut deliver);
            self.table.is_empty()
        })
    }

    /// Cancels everything and waits for every event; false if the kernel did not
    /// answer by `deadline` (the caller must then leak the context).
    pub fn shutdown(&mut self, deadline: Instant, deliver: impl FnMut(Completion<T>)) -> bool {
        self.cancel_all();
        self.drain_blocking(deadline, deliver)
    }
}

impl<T> Drop for Context<T> {
    fn drop(&mut self) {
        if !self.table.is_empty() && !self.shutdown(Instant::now() + TEARDOWN_DEADLINE, drop) {
            // The kernel still holds requests that point into our slots: the table
            // leaks them when dropped, and the context is not destroyed, rather than
            // freeing memory it may write.
            return;
        }
        // Nothing is outstanding, so io_destroy cannot block on our memory; it still
        // waits for an RCU grace period (about 30 ms here), so it runs on the
        // library's destroyer threads rather than stalling the caller's event loop.
        // The eventfd closes now: with nothing in flight, the kernel will not signal it.
        destroy_later(self.ctx);
        if let Some(sync) = self.sync_ctx {
            destroy_later(sync);
        }
    }
}

/// How many threads run io_destroy for the whole process: enough that a burst of
/// destroys drains quickly (each waits ~30 ms), few enough to stay out of the way.
const DESTROYERS: usize = 4;

/// Hands `ctx` (with nothing outstanding) to the destroyer threads, started on first
/// use; destroys it here if they cannot be started.
fn destroy_later(ctx: AioContext) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::{Mutex, OnceLock};
    static QUEUE: OnceLock<Option<Mutex<Sender<AioContext>>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (send, receive) = channel::<AioContext>();
        let receive = Arc::new(Mutex::new(receive));
        let mut started = 0;
        for i in 0..DESTROYERS {
            let receive = Arc::clone(&receive);
            let thread = std::thread::Builder::new()
                .name(format!("uring-aio-io-destroy-{i}"))
                .stack_size(64 * 1024)
                .spawn(move || loop {
                    let next = receive.lock().map(|r| r.recv());
                    match next {
                        Ok(Ok(ctx)) => {
                            let _ = sys::io_destroy(ctx);
                        }
                        _ => return,
                    }
                });
            started += usize::from(thread.is_ok());
        }
        (started > 0).then(|| Mutex::new(send))
    });
    let sent = queue
        .as_ref()
        .and_then(|send| send.lock().ok())
        .is_some_and(|send| send.send(ctx).is_ok());
    if !sent {
        let _ = sys::io_destroy(ctx);
    }
}

/// What one io_submit did with a run of queued requests.
enum Submitted {
    /// The kernel took this many (a prefix): they are in the kernel.
    Took(usize),
    /// The kernel's EAGAIN for the first: back-pressure, try again later.
    Busy,
    /// The first was refused with this errno (the kernel's, or EAGAIN for a read or
    /// write the kernel would run inside io_submit).
    Refused(i32),
}

/// Which descriptors kernel AIO would serve inside io_submit (`sys::submits_synchronously`),
/// each looked up once while no JavaScript can run (one flush): a descriptor may be
/// closed and reused for another file between two flushes, never during one.
#[derive(Default)]
struct FdKinds(Vec<(RawFd, bool)>);

impl FdKinds {
    /// Kinds looked up afresh, in `buffer`'s memory (its contents are dropped).
    fn reusing(mut buffer: Vec<(RawFd, bool)>) -> Self {
        buffer.clear();
        FdKinds(buffer)
    }

    fn submits_synchronously(&mut self, fd: RawFd) -> bool {
        if let Some(&(_, sync)) = self.0.iter().find(|&&(known, _)| known == fd) {
            return sync;
        }
        let sync = sys::submits_synchronously(fd);
        self.0.push((fd, sync));
        sync
    }
}

/// Queues `request` in `table` with its iocb, whose completion signals `resfd`.
fn insert<T>(
    table: &mut InFlight<Entry, T>,
    resfd: RawFd,
    iocb: Box<Iocb>,
    request: Request,
    options: RequestOptions,
    owner: Owner<T>,
) -> u64 {
    // The iocb carries the request's id, known only once the table assigned it (it is
    // written whole below, whatever the box held before).
    let id = table.insert(Entry { iocb, request }, owner, false);
    let entry = &mut table.slot_mut(id).expect("just inserted").payload;
    *entry.iocb = entry.request.iocb(id, options, resfd);
    id
}

/// io_submit, or in unit tests a fault queued with `fault::inject` in its place.
///
/// # Safety
/// As `sys::io_submit`.
unsafe fn submit(ctx: AioContext, iocbs: &[*mut Iocb]) -> io::Result<usize> {
    #[cfg(test)]
    if let Some(f) = fault::take() {
        return match f {
            fault::Fault::Errno(errno) => Err(io::Error::from_raw_os_error(errno)),
            // SAFETY: the caller's guarantee covers every iocb, so a prefix too.
            fault::Fault::Short(n) => unsafe { sys::io_submit(ctx, &iocbs[..n.min(iocbs.len())]) },
        };
    }
    // SAFETY: the caller's guarantee, passed on.
    unsafe { sys::io_submit(ctx, iocbs) }
}

#[cfg(test)]
use iobuf::fault;

#[cfg(test)]
#[path = "fault_tests.rs"]
mod fault_tests;

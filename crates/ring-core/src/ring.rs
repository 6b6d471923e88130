//! The ring: owns the io_uring instance, the in-flight table, the backlog of ops that
//! wait for submission-queue space, and the eventfd the kernel signals on completion.

use std::collections::VecDeque;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::{squeue, IoUring, Probe};
use iobuf::inflight::{Finished, InFlight, Owner, Reaped as ReapedMemory, SlotState};
use iobuf::{EventFd, IdMap};

use crate::batch::{op_for_entry, FixedBuffers};
use crate::bufring::BufRing;
use crate::op::Op;
use iobuf::batch::BatchResults;

/// How long teardown waits for the kernel to hand back every in-flight op before it
/// gives up and leaks the ring (leaking is safe; freeing memory the kernel may still
/// write is not).
pub const TEARDOWN_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub struct RingOptions {
    /// Submission queue size (rounded up to a power of two by the kernel).
    pub entries: u32,
    /// Submit inside `push` as soon as this many ops are queued, instead of waiting
    /// for the next `flush` (0: only at `flush`). With O_DIRECT the device starts on
    /// the first ops while the caller prepares the rest (QD32 on virtio: 0.70x of fio
    /// io_uring with 0, 0.91x with 8); with page-cache reads, where the kernel
    /// completes inline, one enter per flush is cheaper (8 costs about 5%).
    pub submit_batch: u32,
    /// Completion queue size (IORING_SETUP_CQSIZE, kernel 5.5; 0: twice `entries`).
    pub cq_entries: u32,
    /// A kernel thread polls the submission queue (IORING_SETUP_SQPOLL, kernel 5.1;
    /// unprivileged since 5.11), going to sleep after this many idle milliseconds.
    pub sqpoll_idle_ms: Option<u32>,
    /// The CPU the SQPOLL thread is pinned to (IORING_SETUP_SQ_AFF, kernel 5.1).
    pub sqpoll_cpu: Option<u32>,
    /// Only one task submits (IORING_SETUP_SINGLE_ISSUER, kernel 6.0): lets the kernel
    /// skip locking.
    pub single_issuer: bool,
    /// Share the io-wq worker pool of this ring's fd (IORING_SETUP_ATTACH_WQ, 5.6).
    pub attach_wq: Option<RawFd>,
    /// Busy-poll for completions instead of waiting for interrupts
    /// (IORING_SETUP_IOPOLL, kernel 5.1): only O_DIRECT reads and writes on a device
    /// with poll queues (and NOPs) run on such a ring; the kernel refuses the rest.
    /// Completions appear only when the ring polls (`reap_all`, `has_completions`),
    /// so while polled ops are in flight the ring keeps waking its own eventfd.
    pub iopoll: bool,
    /// The kernel runs completion work when the task next enters it, without
    /// interrupting it (IORING_SETUP_COOP_TASKRUN, 5.19, with
    /// IORING_SETUP_TASKRUN_FLAG so the ring knows when to enter to run that work).
    pub coop_taskrun: bool,
    /// Completion work runs only when this ring enters the kernel to wait for
    /// completions (IORING_SETUP_DEFER_TASKRUN, 6.1; implies SINGLE_ISSUER). The
    /// kernel still signals the eventfd when work is queued; `reap_all` enters with
    /// GETEVENTS when the TASKRUN flag says work waits.
    pub defer_taskrun: bool,
}

impl Default for RingOptions {
    fn default() -> Self {
        Self {
            entries: 256,
            submit_batch: 0,
            cq_entries: 0,
            sqpoll_idle_ms: None,
            sqpoll_cpu: None,
            single_issuer: false,
            attach_wq: None,
            iopoll: false,
            coop_taskrun: false,
            defer_taskrun: false,
        }
    }
}

impl RingOptions {
    /// The io_uring builder for these options (`submit_all`: IORING_SETUP_SUBMIT_ALL).
    fn builder(&self, submit_all: bool) -> io_uring::Builder {
        let mut builder = IoUring::builder();
        builder.setup_clamp();
        if submit_all {
            builder.setup_submit_all();
        }
        if self.cq_entries > 0 {
            builder.setup_cqsize(self.cq_entries);
        }
        if let Some(idle) = self.sqpoll_idle_ms {
            builder.setup_sqpoll(idle);
        }
        if let Some(cpu) = self.sqpoll_cpu {
            builder.setup_sqpoll_cpu(cpu);
        }
        if self.single_issuer {
            builder.setup_single_issuer();
        }
        if let Some(fd) = self.attach_wq {
            builder.setup_attach_wq(fd);
        }
        if self.iopoll {
            builder.setup_iopoll();
        }
        if self.coop_taskrun {
            builder.setup_coop_taskrun();
        }
        if self.defer_taskrun {
            builder.setup_defer_taskrun();
            builder.setup_single_issuer();
        }
        if self.coop_taskrun || self.defer_taskrun {
            builder.setup_taskrun_flag();
        }
        builder
    }
}

/// CQE flag: the op goes on and more completions will come (multishot, uapi 5.13).
pub const IORING_CQE_F_MORE: u32 = 1 << 1;
/// CQE flag: a zero-copy send's notification (the kernel released its memory; 6.0).
const IORING_CQE_F_NOTIF: u32 = 1 << 3;
/// CQE flag: the CQE names a provided buffer (a receive's chunk; 5.7).
const IORING_CQE_F_BUFFER: u32 = 1;
/// Where a CQE's flags hold the buffer id (uapi, 5.7).
const IORING_CQE_BUFFER_SHIFT: u32 = 16;

/// What `reap_all` hands back, in completion order.
#[derive(Debug)]
pub enum Reaped<T> {
    /// An op's final completion: its slot is freed, its memory handed back.
    Done(Completion<T>),
    /// One more result of a multishot op that goes on (its CQE had
    /// `IORING_CQE_F_MORE`): the op keeps its slot until its final completion.
    /// `group`: the buffer ring the result's buffer is from (a receive that selects
    /// one, with IORING_CQE_F_BUFFER in `flags`).
    More {
        id: u64,
        result: i32,
        flags: u32,
        group: Option<Arc<BufRing>>,
    },
    /// A message another ring sent with MSG_RING: `user_data` has `MSG_TAG` set and
    /// carries the sender's data in its low 52 bits.
    Message {
        user_data: u64,
        result: i32,
        flags: u32,
    },
}

/// How long a cancel keeps being retried at once for an op that is just starting.
const CANCEL_RETRY_FOR: Duration = Duration::from_secs(2);

/// io_uring_enter flag: wait for (and flush overflowed) completions (uapi, kernel 5.1).
const IORING_ENTER_GETEVENTS: u32 = 1;

/// An op's result given its link timeout's: -ECANCELED by a timer that fired
/// (-ETIME) is a timeout.
fn timed_result(op_result: i32, timer_result: i32) -> i32 {
    if op_result == -libc::ECANCELED && timer_result == -libc::ETIME {
        -libc::ETIME
    } else {
        op_result
    }
}

/// SQE flags a caller can ask for (IOSQE_*), and a timeout linked behind the op.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqeOptions {
    /// IOSQE_IO_DRAIN (kernel 5.2): start only once every earlier op has completed,
    /// and hold later ones until this one has.
    pub drain: bool,
    /// IOSQE_ASYNC (kernel 5.6): skip the non-blocking attempt and go straight to an
    /// io-wq worker.
    pub force_async: bool,
    /// IOSQE_IO_LINK (kernel 5.3): the next op pushed starts only after this one
    /// succeeded; if this one fails (or transfers less than asked), the rest of the
    /// chain completes with -ECANCELED.
    pub link: bool,
    /// IOSQE_IO_HARDLINK (kernel 5.5): as `link`, but the chain goes on whatever this
    /// op's result.
    pub hardlink: bool,
    /// IORING_OP_LINK_TIMEOUT (kernel 5.5) behind the op, in milliseconds: if the op
    /// has not completed by then it is cancelled and completes with -ETIME.
    pub timeout_ms: Option<f64>,
    /// IOSQE_FIXED_FILE (kernel 5.1): the op's fd is an index into the registered
    /// files (`Ring::register_files`).
    pub fixed_file: bool,
}

/// A completed operation handed back to its owner, with the memory it owned.
///
/// For a whole batch (`push_batch`), `result` is the number of entries (or
/// -ECANCELED if the batch was cancelled), `op` is `None` and `batch` holds the
/// per-entry results.
#[derive(Debug)]
pub struct Completion<T> {
    pub id: u64,
    /// The CQE's `res`: a count or value when >= 0, a negated errno when < 0.
    pub result: i32,
    pub flags: u32,
    /// The op's memory, reaped: `op.outputs(result)` reads what the kernel wrote.
    pub op: Option<ReapedMemory<Op>>,
    pub user: T,
    pub batch: Option<BatchResults>,
    /// The buffer ring of a buffer this completion hands over (`Reaped::More`'s).
    pub group: Option<Arc<BufRing>>,
}

impl<T> Completion<T> {
    /// The bytes the kernel produced into memory the op owned, to copy out to the
    /// caller's targets (see `Op::output`).
    pub fn outputs(&self) -> Vec<(usize, &[u8])> {
        self.op
            .as_ref()
            .map_or_else(Vec::new, |op| op.outputs(i64::from(self.result)))
    }

    /// For a receive that goes on (IORING_CQE_F_MORE) and handed over a buffer of its
    /// `group` holding at most `group.copy_up_to()` bytes: copies them into `dst` and
    /// puts the buffer straight back (`BufRing::copy_out`). Returns the byte count and
    /// the flags to report (the buffer bit and id cleared); None for anything else, or
    /// if `dst` is too short.
    pub fn copy_chunk(&self, dst: &mut [u8]) -> Option<(usize, u32)> {
        // `group` is set only with IORING_CQE_F_BUFFER in the flags.
        let group = self.group.as_ref()?;
        let len = usize::try_from(self.result).ok().filter(|&n| n > 0)?;
        if self.flags & IORING_CQE_F_MORE == 0
            || len > group.copy_up_to() as usize
            || len > dst.len()
        {
            return None;
        }
        let bid = (self.flags >> IORING_CQE_BUFFER_SHIFT) as u16;
        group
            .copy_out(bid, &mut dst[..len])
            .then_some((len, self.flags & !IORING_CQE_F_BUFFER & 0xffff))
    }
}

/// A completion read off the CQ, before delivery.
enum Ready<T> {
    Final(Finished<Entry, T>, i32, u32),
    More(u64, i32, u32),
    /// A zero-copy send settled for its caller before its notification (`settle_sent`).
    Sent(Completion<T>),
    Message(u64, i32, u32),
}

/// What the in-flight table keeps per op: the op (its memory) and the ring's
/// bookkeeping for it.
#[derive(Debug)]
struct Entry {
    op: Op,
    /// IOSQE_* flags of its SQE.
    flags: squeue::Flags,
    /// The id of the first op of its linked chain (0: not linked). A chain goes into
    /// the submission queue whole or not at all: the kernel ends a chain at the end of
    /// each submission.
    chain: u64,
    /// An op with a link timeout: the timer's id (0: none, or the timer was reaped).
    /// A timer: the id of the op it times.
    timer: u64,
    /// The timer's result, once reaped before the op (-ETIME: it fired).
    timer_result: i32,
    /// When a cancel first found this op not started yet (-ENOENT) with nothing else
    /// in the kernel: retries at once stop some time after it.
    first_miss: Option<Instant>,
    /// A zero-copy send's first result, once its CQE (IORING_CQE_F_MORE) was reaped:
    /// only its notification is left, which a peer that never reads can hold back
    /// for ever.
    zc_result: Option<i32>,
}

impl Entry {
    fn new(op: Op) -> Self {
        Self {
            op,
            flags: squeue::Flags::empty(),
            chain: 0,
            timer: 0,
            timer_result: 0,
            first_miss: None,
            zc_result: None,
        }
    }
}

/// An io_uring instance with an in-flight table.
///
/// The one rule: memory an op owns lives in its slot of the shared in-flight table
/// (`iobuf::inflight`) from `push` until its completion is reaped. Dropping the ring
/// cancels what is in flight and waits for every completion; if the kernel does not
/// answer within `TEARDOWN_DEADLINE`, the ring and the slots are leaked rather than
/// freed.
pub struct Ring<T> {
    uring: ManuallyDrop<IoUring>,
    table: InFlight<Entry, T>,
    /// Ids whose SQEs are in the submission queue but not yet consumed by the kernel,
    /// oldest first (the kernel consumes in order).
    in_sq: VecDeque<u64>,
    /// Set when io_uring_enter failed for good: nothing is submitted after that, and
    /// every op not already in the kernel settles with this errno.
    broken: Option<i32>,
    kernel_limit: usize,
    eventfd: ManuallyDrop<EventFd>,
    reaped: Vec<(u64, i32, u32)>,
    enters: u64,
    /// Completions reaped during a synchronous run, delivered by the next `reap`.
    stash: Vec<Reaped<T>>,
    fixed: Option<Arc<FixedBuffers>>,
    /// `RingOptions::submit_batch`, usize::MAX for none.
    submit_batch: usize,
    /// The chain whose last op so far asked for a link: it is not complete yet.
    open_chain: Option<u64>,
    /// Reaped ops whose link timeout's CQE has not arrived yet, by timer id: the
    /// timer's result decides whether -ECANCELED means "timed out" (-ETIME).
    parked: IdMap<(Finished<Entry, T>, i32, u32)>,
    /// Linked ops whose cancel found nothing (they had not started): a cancel goes
    /// again when an op of their chain completes.
    cancel_retries: Vec<u64>,
    /// The batch `run_batch` is waiting for: its entries skip the CQ limit.
    sync_run: Option<u64>,
    /// Cancels to send again at the next flush (their op was just starting).
    cancel_soon: Vec<u64>,
    /// IORING_SETUP_IOPOLL: completions must be polled for.
    iopoll: bool,
    /// Provided buffer rings registered with the kernel (IORING_REGISTER_PBUF_RING):
    /// kept until the io_uring is closed, or leaked with it.
    buf_rings: Vec<Arc<BufRing>>,
}

impl<T> Ring<T> {
    pub fn new(options: RingOptions) -> io::Result<Self> {
        if options.entries == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SUBMIT_ALL (5.18): keep submitting past an SQE that fails early, so one bad
        // op never strands the ones behind it. Older kernels reject the flag: retry.
        let uring = match options.builder(true).build(options.entries) {
            Ok(ring) => ring,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                options.builder(false).build(options.entries)?
            }
            Err(e) => return Err(e),
        };
        let eventfd = EventFd::new()?;
        uring.submitter().register_eventfd(eventfd.fd())?;
        let kernel_limit = uring.params().cq_entries() as usize;
        Ok(Self {
            uring: ManuallyDrop::new(uring),
            table: InFlight::default(),
            in_sq: VecDeque::new(),
            broken: None,
            kernel_limit,
            eventfd: ManuallyDrop::new(eventfd),
            reaped: Vec::new(),
            enters: 0,
            stash: Vec::new(),
            fixed: None,
            submit_batch: match options.submit_batch {
                0 => usize::MAX,
                n => n as usize,
            },
            open_chain: None,
            parked: IdMap::default(),
            cancel_retries: Vec::new(),
            sync_run: None,
            cancel_soon: Vec::new(),
            iopoll: options.iopoll,
            buf_rings: Vec::new(),
        })
    }

    /// The eventfd the kernel writes on every completion; watch it for readability.
    pub fn eventfd(&self) -> RawFd {
        self.eventfd.fd()
    }

    pub fn sq_entries(&self) -> u32 {
        self.uring.params().sq_entries()
    }

    pub fn cq_entries(&self) -> u32 {
        self.uring.params().cq_entries()
    }

    /// Every opcode the kernel supports (IORING_REGISTER_PROBE, kernel 5.6; empty
    /// before, where the probe itself is missing).
    pub fn supported_opcodes(&self) -> Vec<u8> {
        let mut probe = Probe::new();
        if self.uring.submitter().register_probe(&mut probe).is_err() {
            return Vec::new();
        }
        (0..=u8::MAX).filter(|&op| probe.is_supported(op)).collect()
    }

    /// Registers `buffers` with the kernel (IORING_REGISTER_BUFFERS, kernel 5.1) for
    /// the batch path's READ_FIXED / WRITE_FIXED entries. Once per ring (EBUSY after).
    /// Registration pins the pages and counts against RLIMIT_MEMLOCK (ENOMEM).
    pub fn register_buffers(&mut self, buffers: Arc<FixedBuffers>) -> io::Result<()> {
        if self.fixed.is_some() {
            return Err(io::Error::from_raw_os_error(libc::EBUSY));
        }
        let iovecs = buffers.iovecs();
        // SAFETY: the iovecs point into `buffers`' allocation, which the ring keeps
        // (self.fixed) until the io_uring is closed or leaked with it.
        unsafe { self.uring.submitter().register_buffers(&iovecs)? };
        buffers.memory().mark_registered();
        self.fixed = Some(buffers);
        Ok(())
    }

    /// Makes a provided buffer ring of `count` buffers (a power of two, at most
    /// 32768) of `size` bytes and registers it (IORING_REGISTER_PBUF_RING, kernel
    /// 5.19) under the next free buffer group id. The ring keeps it registered until
    /// the io_uring is closed; ops that select from it and the caller's views of its
    /// buffers hold it too (`Arc`). EINVAL for bad sizes; ENOMEM; EEXIST, EINVAL or
    /// ENOENT from an older kernel.
    pub fn register_buf_ring(&mut self, count: u32, size: u32) -> io::Result<Arc<BufRing>> {
        let bgid = u16::try_from(self.buf_rings.len())
            .map_err(|_| io::Error::from_raw_os_error(libc::ENOSPC))?;
        let ring = Arc::new(BufRing::new(count, size, bgid)?);
        // SAFETY: the entry ring is page-aligned memory of `count` entries that
        // `ring` owns; `self.buf_rings` keeps an Arc of it until the io_uring is
        // closed (Drop) or leaked with it, so the kernel never reads freed memory.
        unsafe {
            self.uring.submitter().register_buf_ring_with_flags(
                ring.ring_addr(),
                count as u16,
                bgid,
                0,
            )?
        };
        self.buf_rings.push(Arc::clone(&ring));
        Ok(ring)
    }

    /// The io_uring fd (for another ring's `RingOptions::attach_wq`).
    pub fn ring_fd(&self) -> RawFd {
        use std::os::fd::AsRawFd;
        self.uring.as_raw_fd()
    }

    /// Registers `fds` as the ring's fixed files (IORING_REGISTER_FILES, kernel 5.1):
    /// an op with `SqeOptions::fixed_file` names index `i` instead of `fds[i]`, and
    /// the kernel skips the fd table lookup. -1 leaves a slot empty (5.5). EBUSY if
    /// files are already registered.
    pub fn register_files(&mut self, fds: &[RawFd]) -> io::Result<()> {
        self.uring.submitter().register_files(fds)
    }

    /// Replaces fixed files from index `offset` (IORING_REGISTER_FILES_UPDATE, 5.5).
    pub fn update_files(&mut self, offset: u32, fds: &[RawFd]) -> io::Result<usize> {
        self.uring.submitter().register_files_update(offset, fds)
    }

    /// Drops the fixed files (IORING_UNREGISTER_FILES, kernel 5.1). Ops in flight
    /// keep their own references.
    pub fn unregister_files(&mut self) -> io::Result<()> {
        self.uring.submitter().unregister_files()
    }

    /// Sets the most io-wq workers per NUMA node, [bounded, unbounded]
    /// (IORING_REGISTER_IOWQ_MAX_WORKERS, kernel 5.15); 0 keeps a value. Returns the
    /// previous values.
    pub fn iowq_max_workers(&mut self, max: [u32; 2]) -> io::Result<[u32; 2]> {
        let mut values = max;
        self.uring
            .submitter()
            .register_iowq_max_workers(&mut values)?;
        Ok(values)
    }

    /// Pins the io-wq workers to `cpus` (IORING_REGISTER_IOWQ_AFF, kernel 5.14), or
    /// lets them run anywhere again with `None` (IORING_UNREGISTER_IOWQ_AFF). A CPU
    /// beyond the set's size (1024) is EINVAL; the kernel does not check that the
    /// others are online.
    pub fn iowq_affinity(&mut self, cpus: Option<&[usize]>) -> io::Result<()> {
        let Some(cpus) = cpus else {
            return self.uring.submitter().unregister_iowq_aff();
        };
        // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &cpu in cpus {
            if cpu >= libc::CPU_SETSIZE as usize {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            // SAFETY: cpu < CPU_SETSIZE, so the bit lies inside `set`.
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        self.uring.submitter().register_iowq_aff(&set)
    }

    /// Caller ops and batches accepted and not yet reaped (queued or in the kernel).
    pub fn pending(&self) -> usize {
        self.table.pending()
    }

    /// Every op the table holds, internal ones included. Zero means nothing the
    /// kernel could touch is outstanding.
    pub fn outstanding(&self) -> usize {
        self.table.len()
    }

    /// How many times `flush` entered the kernel (io_uring_enter) so far.
    pub fn enters(&self) -> u64 {
        self.enters
    }

    /// Ops waiting for submission (backlog or not yet entered).
    pub fn has_unsubmitted(&mut self) -> bool {
        !self.table.backlog().is_empty()
            || !self.cancel_soon.is_empty()
            || !self.uring.submission().is_empty()
    }

    /// Accepts an op. It goes to the kernel at the next `flush`, or at once when it
    /// makes `submit_batch` queued; until its completion is reaped, the ring owns `op`
    /// and `user`.
    pub fn push(&mut self, op: Op, user: T) -> u64 {
        self.push_with(op, user, SqeOptions::default())
    }

    /// `push` with SQE flags and a linked timeout. Ops pushed after one with `link` or
    /// `hardlink` join its chain, up to and including the first without.
    pub fn push_with(&mut self, op: Op, user: T, options: SqeOptions) -> u64 {
        let timeout = options.timeout_ms.map(Op::link_timeout);
        let mut flags = squeue::Flags::empty();
        if options.drain {
            flags |= squeue::Flags::IO_DRAIN;
        }
        if options.force_async {
            flags |= squeue::Flags::ASYNC;
        }
        if options.fixed_file {
            flags |= squeue::Flags::FIXED_FILE;
        }
        let continues = options.link || options.hardlink;
        let link = if options.hardlink {
            squeue::Flags::IO_HARDLINK
        } else {
            squeue::Flags::IO_LINK
        };
        let id = self
            .table
            .insert(Entry::new(op), Owner::Caller(user), false);
        let linked = continues || timeout.is_some() || self.open_chain.is_some();
        let chain = if linked {
            self.open_chain.unwrap_or(id)
        } else {
            0
        };
        // An op with a timeout links to its timer (a hard link in a hard-linked chain,
        // so that its failure does not cancel the rest); the timer links on.
        let op_flags = if timeout.is_some() && options.hardlink {
            flags | squeue::Flags::IO_HARDLINK
        } else if timeout.is_some() {
            flags | squeue::Flags::IO_LINK
        } else if continues {
            flags | link
        } else {
            flags
        };
        self.mark(id, op_flags, chain);
        if let Some(timeout) = timeout {
            let timer = self
                .table
                .insert(Entry::new(timeout), Owner::Internal, false);
            let timer_flags = if continues {
                link
            } else {
                squeue::Flags::empty()
            };
            self.mark(timer, timer_flags, chain);
            if let Some(slot) = self.table.slot_mut(timer) {
                slot.payload.timer = id;
            }
            if let Some(slot) = self.table.slot_mut(id) {
                slot.payload.timer = timer;
            }
        }
        self.open_chain = continues.then_some(chain);
        // Not while the kernel is pushing back (a full CQ, or SQEs left by EBUSY):
        // the loop's next flush retries then, rather than every push. Not in the
        // middle of a chain either.
        if self.table.backlog().len() >= self.submit_batch
            && self.open_chain.is_none()
            && self.in_sq.is_empty()
            && self.table.in_kernel() < self.kernel_limit
        {
            // A failed enter settles what it stranded and marks the ring broken, so
            // this op is accounted for either way; the error itself is not the push's.
            let _ = self.flush();
        }
        id
    }

    /// Ends a chain whose next op will not come (the caller failed to build it): the
    /// last op pushed loses its link flag.
    pub fn end_chain(&mut self) {
        let Some(chain) = self.open_chain.take() else {
            return;
        };
        if let Some(&last) = self.table.backlog().back() {
            if self
                .table
                .slot(last)
                .is_some_and(|s| s.payload.chain == chain)
            {
                unlink(&mut self.table, last);
            }
        }
    }

    fn mark(&mut self, id: u64, flags: squeue::Flags, chain: u64) {
        mark(&mut self.table, id, flags, chain);
    }

    /// Accepts a batch: `entries` holds rows of `ENTRY_FIELDS` values (see `batch`).
    /// Each row is validated first; a refused row settles alone with its error and
    /// never reaches the kernel. The batch completes once, as a whole, when its last
    /// entry does: `reap` hands back a `Completion` with `batch` set and `user`.
    pub fn push_batch(&mut self, entries: &[f64], user: T) -> u64 {
        self.start_batch(entries, Some(user))
    }

    fn start_batch(&mut self, entries: &[f64], user: Option<T>) -> u64 {
        // A batch never lands inside a chain.
        self.end_chain();
        let fixed = self.fixed.clone();
        // Linked entries form chains like linked ops; an entry refused by validation
        // ends its chain at the entry before it.
        let mut open: Option<(u64, u64)> = None;
        let (batch, done) = self
            .table
            .start_batch(entries, user, |table, row, index, batch| {
                let (op, sqe_flags) = match op_for_entry(row, fixed.as_deref()) {
                    Ok(entry) => entry,
                    Err(e) => {
                        if let Some((_, last)) = open.take() {
                            unlink(table, last);
                        }
                        return Err(e);
                    }
                };
                let flags = squeue::Flags::from_bits_truncate(sqe_flags);
                let links = flags.intersects(squeue::Flags::IO_LINK | squeue::Flags::IO_HARDLINK);
                let id = table.insert(Entry::new(op), Owner::Member { batch, index }, false);
                let chain = match open {
                    Some((chain, _)) => chain,
                    None if links => id,
                    None => 0,
                };
                mark(table, id, flags, chain);
                open = links.then_some((chain, id));
                Ok(id)
            });
        if let Some((_, last)) = open {
            unlink(&mut self.table, last);
        }
        if done {
            self.notify();
        }
        batch
    }

    /// Runs a batch synchronously: submits it, waits for every entry, and writes the
    /// result rows into `results` (which must hold `RESULT_FIELDS` per entry). Other
    /// ops that complete meanwhile are kept for the next `reap`. Blocks the thread
    /// until the last entry completes, however long the kernel takes.
    pub fn run_batch(&mut self, entries: &[f64], results: &mut [f64]) {
        let batch = self.start_batch(entries, None);
        // The thread waits for this run alone, and ops queued or in flight before it
        // may never complete (reads on empty pipes filling the CQ limit): its entries
        // go to the front of the backlog and past the CQ limit (extra CQEs wait in the
        // kernel's overflow list, IORING_FEAT_NODROP).
        self.sync_run = Some(batch);
        let table = &self.table;
        let members: Vec<u64> = table
            .backlog()
            .iter()
            .copied()
            .filter(|&id| table.slot(id).is_some_and(|s| s.is_member_of(batch)))
            .collect();
        let backlog = self.table.backlog_mut();
        backlog.retain(|id| !members.contains(id));
        for &id in members.iter().rev() {
            backlog.push_front(id);
        }
        // Completions of this run need no wake-up: IORING_CQ_EVENTFD_DISABLED (5.8;
        // ignored before) spares the kernel an eventfd signal per CQE.
        self.uring.completion().disable_eventfd();
        let mut stash = std::mem::take(&mut self.stash);
        let run = loop {
            self.reap_all(|r| stash.push(r));
            if let Some(run) = self.table.take_run(batch) {
                break run;
            }
            // Wait for at least one completion, then take all that are ready.
            let _ = self.enter(usize::from(self.table.in_kernel() > 0));
        };
        self.sync_run = None;
        self.uring.completion().enable_eventfd();
        self.stash = stash;
        if !self.stash.is_empty() {
            self.notify();
        }
        let rows = run.rows();
        let n = rows.len().min(results.len());
        results[..n].copy_from_slice(&rows[..n]);
    }

    /// Requests cancellation of op `id`. An op still in the backlog settles at once
    /// with -ECANCELED (the kernel never saw it); one in the kernel gets an
    /// IORING_OP_ASYNC_CANCEL and settles with whatever the kernel reports: -ECANCELED,
    /// or its real result if it had already finished. Returns false for unknown ids.
    ///
    /// A batch id cancels every entry of the batch; the batch then completes with
    /// -ECANCELED, each entry's row holding its own result.
    pub fn cancel(&mut self, id: u64) -> bool {
        let Some(targets) = self.table.cancel_targets(id) else {
            return false;
        };
        for target in targets {
            self.cancel_slot(target);
        }
        true
    }

    fn cancel_slot(&mut self, id: u64) {
        let Some(slot) = self.table.slot_mut(id) else {
            return;
        };
        if slot.is_internal() || slot.cancel_requested {
            return;
        }
        slot.cancel_requested = true;
        if let Some(first) = slot.payload.zc_result {
            // A zero-copy send that did its part: nothing to cancel but the wait for
            // its notification. Its caller gets the result now (at the next reap).
            if let Some(sent) = self.settle_sent(id, first) {
                self.stash.push(Reaped::Done(sent));
                self.notify();
            }
            return;
        }
        let chain = slot.payload.chain;
        match slot.state() {
            SlotState::Queued if chain != 0 => {
                // The kernel would cancel the rest of a chain whose op failed: so do we,
                // from this op on; the ops before it still run, as a shorter chain.
                self.settle_chain_locally(chain, id, -libc::ECANCELED);
            }
            SlotState::Queued => {
                self.table.unqueue(id);
                self.settle_locally(id, -libc::ECANCELED);
            }
            SlotState::InKernel => self.send_cancel(id),
            SlotState::SettledLocally => {}
        }
    }

    /// Asks the kernel to cancel op `id`. Behind an IOSQE_IO_DRAIN op in the kernel, an
    /// ASYNC_CANCEL SQE would itself wait for the drain, so the cancel goes through
    /// IORING_REGISTER_SYNC_CANCEL (6.0), which takes no SQE; an op the kernel has
    /// not started yet (-ENOENT) is tried again once another op completes.
    fn send_cancel(&mut self, id: u64) {
        let drained = self
            .table
            .any_in_kernel(|_, s| s.payload.flags.contains(squeue::Flags::IO_DRAIN));
        if drained {
            let now = io_uring::types::Timespec::new();
            let cancel = io_uring::types::CancelBuilder::user_data(id);
            match self
                .uring
                .submitter()
                .register_sync_cancel(Some(now), cancel)
            {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    self.cancel_later(id);
                    return;
                }
                Err(e) if e.raw_os_error() != Some(libc::EINVAL) => return,
                Err(_) => {} // no SYNC_CANCEL on this kernel: queue an SQE after all
                Ok(()) => return,
            }
        }
        self.table
            .insert(Entry::new(Op::Cancel { target: id }), Owner::Internal, true);
    }

    /// A `cancelFd` or `close` queued while an IOSQE_IO_DRAIN op is in the kernel
    /// would wait behind the drain, which waits for every op before it: one blocked
    /// read of that fd would hold all three for ever. Their cancels go through
    /// IORING_REGISTER_SYNC_CANCEL (6.0), which takes no SQE, before they are queued:
    /// a `cancelFd` settles here (0, or the kernel's error: ENOENT if nothing matched),
    /// a `close` goes on once the ops on its fd ended. Ops in a chain are left alone.
    fn unblock_behind_drain(&mut self) {
        let table = &self.table;
        let about_fds: Vec<u64> = table
            .backlog()
            .iter()
            .copied()
            .filter(|&id| {
                table
                    .slot(id)
                    .is_some_and(|s| s.payload.chain == 0 && s.payload.op.fd_cancel().is_some())
            })
            .collect();
        if about_fds.is_empty()
            || !table.any_in_kernel(|_, s| s.payload.flags.contains(squeue::Flags::IO_DRAIN))
        {
            return;
        }
        for id in about_fds {
            let Some((cancel, whole)) = self.table.slot(id).and_then(|s| s.payload.op.fd_cancel())
            else {
                continue;
            };
            let now = io_uring::types::Timespec::new();
            let result = match self
                .uring
                .submitter()
                .register_sync_cancel(Some(now), cancel)
            {
                Ok(()) => 0,
                Err(e) => -e.raw_os_error().unwrap_or(libc::EINVAL),
            };
            if whole {
                self.table.unqueue(id);
                self.settle_locally(id, result);
            }
        }
    }

    /// Settles the queued ops of `chain` from id `from` on with `result`, without the
    /// kernel; the last op left before them no longer links past the chain.
    fn settle_chain_locally(&mut self, chain: u64, from: u64, result: i32) {
        let table = &self.table;
        let in_chain = |id: &u64| table.slot(*id).is_some_and(|s| s.payload.chain == chain);
        let members: Vec<u64> = table
            .backlog()
            .iter()
            .copied()
            .filter(|queued| *queued >= from && in_chain(queued))
            .collect();
        let last_left = table
            .backlog()
            .iter()
            .copied()
            .filter(|queued| *queued < from && in_chain(queued))
            .max();
        self.table
            .backlog_mut()
            .retain(|queued| !members.contains(queued));
        if let Some(last) = last_left {
            unlink(&mut self.table, last);
        }
        if self.open_chain == Some(chain) {
            self.open_chain = None;
        }
        for member in members {
            self.settle_locally(member, result);
        }
    }

    /// A zero-copy send's first completion (`IORING_CQE_F_MORE`, not the
    /// notification): records its result, and if the send failed, was cancelled (an
    /// abort, `destroy`) or its timer fired, settles it for its caller now rather than
    /// at a notification that a peer which never reads holds back for ever. The op
    /// keeps its slot, and its memory, until the notification.
    fn zero_copy_sent(&mut self, id: u64, result: i32, flags: u32) -> Option<Completion<T>> {
        // A receive's chunk (a provided buffer) is never a send: no lookup for it.
        if flags & (IORING_CQE_F_NOTIF | IORING_CQE_F_BUFFER) != 0 {
            return None;
        }
        let slot = self.table.slot_mut(id)?;
        if !matches!(slot.payload.op, Op::SendZc { .. } | Op::SendMsgZc { .. }) {
            return None;
        }
        slot.payload.zc_result = Some(result);
        let timed_out = slot.payload.timer_result == -libc::ETIME;
        if result >= 0 && !slot.cancel_requested && !timed_out {
            return None;
        }
        let result = timed_result(result, slot.payload.timer_result);
        self.settle_sent(id, result)
    }

    /// Op `id`'s caller settles with `result` while the op stays in the table as an
    /// internal one (see `InFlight::detach_caller`).
    fn settle_sent(&mut self, id: u64, result: i32) -> Option<Completion<T>> {
        let user = self.table.detach_caller(id)?;
        Some(Completion {
            id,
            result,
            flags: 0,
            op: None,
            user,
            batch: None,
            group: None,
        })
    }

    /// Whether all that is left in the kernel are zero-copy sends whose callers have
    /// their result and whose notification a peer can hold back for ever: teardown
    /// does not wait for them (the table leaks their memory when dropped, never
    /// freeing it under the kernel).
    fn only_notifications_left(&self) -> bool {
        self.table.pending() == 0
            && self.table.backlog().is_empty()
            && !self.table.has_local()
            && !self
                .table
                .any_in_kernel(|_, s| !(s.is_internal() && s.payload.zc_result.is_some()))
    }

    /// Cancels every caller op and batch.
    pub fn cancel_all(&mut self) {
        for id in self.table.cancel_all_targets() {
            self.cancel_slot(id);
        }
    }

    /// Moves backlog ops into the submission queue while it and the completion queue
    /// have room, then enters the kernel once. A busy kernel (EAGAIN, EBUSY, EINTR)
    /// is back-pressure: the ops stay queued for the next flush.
    pub fn flush(&mut self) -> io::Result<usize> {
        self.enter(0)
    }

    /// `flush`, then waits until at least `want` completions are ready.
    fn enter(&mut self, want: usize) -> io::Result<usize> {
        for id in std::mem::take(&mut self.cancel_soon) {
            if self.table.slot(id).map(|s| s.state()) == Some(SlotState::InKernel) {
                self.send_cancel(id);
            }
        }
        if let Some(errno) = self.broken {
            self.fail_backlog(errno);
            return Err(io::Error::from_raw_os_error(errno));
        }
        self.unblock_behind_drain();
        let mut refused = Vec::new();
        let mut unready_ops: Vec<(u64, i32)> = Vec::new();
        let mut drain_in_batch = false;
        let mut held_behind_drain = false;
        {
            let mut sq = self.uring.submission();
            let table = &mut self.table;
            while !sq.is_full() {
                let Some(&id) = table.backlog().front() else {
                    break;
                };
                let slot = table.slot(id).expect("backlog ids have slots");
                // A `cancelFd` or `close` behind a drain that goes in with this
                // submission waits for the next round, where `unblock_behind_drain`
                // (the drain then in the kernel) cancels without an SQE.
                if drain_in_batch
                    && slot.payload.chain == 0
                    && slot.payload.op.fd_cancel().is_some()
                {
                    held_behind_drain = true;
                    break;
                }
                // Caller ops are held back so completions never outnumber the CQ.
                // Internal cancels (always at the front) are not: they must reach the
                // kernel even when the ring is full of ops that will never finish on
                // their own; the few extra CQEs go to the kernel's overflow list
                // (IORING_FEAT_NODROP, 5.5) and are flushed in `reap`.
                // Multishot ops are not held back either, nor counted: they stay in
                // the kernel until cancelled, so counting them would let a few
                // hundred idle sockets shut out every other op for good. Their CQEs
                // are reaped every loop turn (and go to the overflow list meanwhile).
                let exempt = slot.payload.op.is_multishot()
                    || match slot.owner() {
                        Owner::Internal => true,
                        Owner::Member { batch, .. } => Some(*batch) == self.sync_run,
                        Owner::Caller(_) => false,
                    };
                if !exempt && table.capped_in_kernel() >= self.kernel_limit {
                    break;
                }
                // A chain goes in whole: the kernel ends a chain with the submission.
                let chain = slot.payload.chain;
                let group = if chain == 0 {
                    1
                } else if Some(chain) == self.open_chain {
                    break;
                } else {
                    table
                        .backlog()
                        .iter()
                        .take_while(|&&q| table.slot(q).is_some_and(|s| s.payload.chain == chain))
                        .count()
                };
                if group > sq.capacity() {
                    // It can never fit: settle it rather than wait forever.
                    refused.extend(table.backlog_mut().drain(..group));
                    continue;
                }
                if sq.capacity() - sq.len() < group
                    || (!exempt
                        && group > 1
                        && table.capped_in_kernel() + group > self.kernel_limit)
                {
                    break;
                }
                // Memory an op allocates only now (deferred landing zones): all of the
                // group's, before any of it goes in; if that fails, the group settles
                // with ENOMEM instead. An op selecting from a buffer ring this ring did
                // not register (its group id would name another ring's buffers, or
                // none) settles the group with EINVAL.
                let ids: Vec<u64> = table.backlog().iter().take(group).copied().collect();
                let mut unready = 0;
                for &id in &ids {
                    let entry = &mut table.slot_mut(id).expect("backlog ids have slots").payload;
                    if !selects_from_own(&entry.op, &self.buf_rings) {
                        unready = libc::EINVAL;
                        break;
                    }
                    if !materialize(&mut entry.op) {
                        unready = libc::ENOMEM;
                        break;
                    }
                }
                if unready != 0 {
                    unready_ops.extend(table.backlog_mut().drain(..group).map(|id| (id, unready)));
                    continue;
                }
                for _ in 0..group {
                    let id = table.pop_queued().expect("counted above");
                    let entry = &table.slot(id).expect("backlog ids have slots").payload;
                    let sqe = entry.op.build(id).flags(entry.flags);
                    drain_in_batch |= entry.flags.contains(squeue::Flags::IO_DRAIN);
                    let long_lived = entry.op.is_multishot();
                    // SAFETY: every pointer in the SQE refers to heap memory owned by
                    // the op's slot, which stays in the table until its CQE is reaped.
                    unsafe { sq.push(&sqe) }.expect("checked that the queue has room");
                    if long_lived {
                        table.to_kernel_long_lived(id);
                    } else {
                        table.to_kernel(id);
                    }
                    self.in_sq.push_back(id);
                }
            }
        }
        for id in refused {
            self.settle_locally(id, -libc::EINVAL);
        }
        for (id, errno) in unready_ops {
            self.settle_locally(id, -errno);
        }
        if self.in_sq.is_empty() && want == 0 {
            return Ok(0);
        }
        self.enters += 1;
        match self.submit_and_wait(want) {
            Ok(n) => {
                self.in_sq.drain(..n.min(self.in_sq.len()));
                if held_behind_drain {
                    self.unblock_behind_drain();
                }
                self.wake_if_stranded();
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EAGAIN | libc::EBUSY | libc::EINTR)
                ) =>
            {
                // Back-pressure: the SQEs stay queued for the next flush.
                self.wake_if_stranded();
                Ok(0)
            }
            Err(e) => {
                // io_uring_enter fails only when it consumed nothing, so every SQE
                // still queued is ours to settle; the ring takes no more work.
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                self.broken = Some(errno);
                for id in std::mem::take(&mut self.in_sq) {
                    self.table.back_from_kernel(id);
                    self.settle_locally(id, -errno);
                }
                self.fail_backlog(errno);
                Err(e)
            }
        }
    }

    /// io_uring_enter: submits what is in the SQ and waits for `want` completions. In
    /// unit tests, a fault queued with `fault::inject` replaces (or shortens) it.
    fn submit_and_wait(&mut self, want: usize) -> io::Result<usize> {
        #[cfg(test)]
        if let Some(fault) = fault::take() {
            return match fault {
                fault::Fault::Errno(errno) => Err(io::Error::from_raw_os_error(errno)),
                fault::Fault::Short(n) => {
                    let n = n.min(self.in_sq.len()) as u32;
                    // SAFETY: submits `n` SQEs that are already in the queue, each built
                    // from memory its slot owns; no argument is passed.
                    unsafe {
                        self.uring
                            .submitter()
                            .enter::<libc::sigset_t>(n, 0, 0, None)
                    }
                }
            };
        }
        self.uring.submit_and_wait(want)
    }

    /// If SQEs wait in the queue and nothing in the kernel will complete to wake the
    /// loop, wake it through the eventfd so the next turn retries the submission.
    fn wake_if_stranded(&self) {
        if !self.in_sq.is_empty() && self.table.in_kernel() == self.in_sq.len() {
            self.notify();
        }
    }

    /// Settles op `id` (off the backlog) without the kernel; `reap` reports it.
    fn settle_locally(&mut self, id: u64, result: i32) {
        if self.table.settle_locally(id, i64::from(result)) {
            self.notify();
        }
    }

    /// On a broken ring, settles every op that never reached the kernel.
    fn fail_backlog(&mut self, errno: i32) {
        while let Some(id) = self.table.pop_queued() {
            self.settle_locally(id, -errno);
        }
    }

    /// Hands every available final completion to `deliver`, freeing its slot, and
    /// drops multishot intermediate results (`reap_all` keeps them). Internal ops are
    /// consumed here and never delivered. Returns how many were delivered.
    pub fn reap(&mut self, mut deliver: impl FnMut(Completion<T>)) -> usize {
        self.reap_all(|r| {
            if let Reaped::Done(c) = r {
                deliver(c);
            }
        })
    }

    /// Hands every available completion to `deliver` in completion order: final ones
    /// (freeing the slot) and the intermediate results of multishot ops. Returns how
    /// many final completions were delivered.
    pub fn reap_all(&mut self, mut deliver: impl FnMut(Reaped<T>)) -> usize {
        let mut delivered = 0;
        for r in self.stash.drain(..) {
            delivered += usize::from(matches!(r, Reaped::Done(_)));
            deliver(r);
        }
        let mut reaped = std::mem::take(&mut self.reaped);
        reaped.clear();
        if self.kernel_holds_completions() {
            self.get_events();
        }
        reaped.extend(
            self.uring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags())),
        );
        let from_cq = reaped.len();
        reaped.extend(
            self.table
                .take_local()
                .into_iter()
                .map(|(id, res)| (id, res as i32, 0)),
        );
        let mut ready = Vec::with_capacity(reaped.len());
        for (i, &(id, result, flags)) in reaped.iter().enumerate() {
            let from_kernel = i < from_cq;
            let in_kernel = self
                .table
                .slot(id)
                .is_some_and(|s| s.state() == SlotState::InKernel);
            if from_kernel && !in_kernel {
                // No op of ours is waiting for it: a message another ring posted
                // (MSG_RING; ours carry MSG_TAG, a foreign one anything else).
                ready.push(Ready::Message(id, result, flags));
                continue;
            }
            if flags & IORING_CQE_F_MORE != 0 {
                // The op goes on, in the kernel.
                match self.zero_copy_sent(id, result, flags) {
                    Some(sent) => ready.push(Ready::Sent(sent)),
                    None => ready.push(Ready::More(id, result, flags)),
                }
                continue;
            }
            let Some(finished) = self.table.reaped(id, from_kernel) else {
                continue;
            };
            self.after_reap(&finished);
            let entry = finished.payload.get();
            match entry.op {
                // A `{ timeout }` timer (a batch's LINK_TIMEOUT entry is a member like
                // any other).
                Op::LinkTimeout { .. } if matches!(finished.owner, Owner::Internal) => {
                    // The timer of op `entry.timer`: its -ETIME means the op timed out.
                    if let Some((op, op_result, op_flags)) = self.parked.remove(&id) {
                        ready.push(Ready::Final(op, timed_result(op_result, result), op_flags));
                    } else if let Some(op) = self.table.slot_mut(entry.timer) {
                        op.payload.timer = 0;
                        op.payload.timer_result = result;
                        // A zero-copy send that timed out after its first result.
                        let first = op.payload.zc_result.filter(|_| result == -libc::ETIME);
                        if let Some(sent) = first.and_then(|first| {
                            self.settle_sent(entry.timer, timed_result(first, result))
                        }) {
                            ready.push(Ready::Sent(sent));
                        }
                    }
                    continue;
                }
                Op::Cancel { target } if result == -libc::ENOENT => self.cancel_missed(target),
                _ => {}
            }
            if entry.timer != 0 && self.table.contains(entry.timer) {
                self.parked.insert(entry.timer, (finished, result, flags));
                continue;
            }
            let result = timed_result(result, entry.timer_result);
            ready.push(Ready::Final(finished, result, flags));
        }
        for item in ready {
            let (finished, result, flags) = match item {
                Ready::More(id, result, flags) => {
                    let group = if flags & IORING_CQE_F_BUFFER != 0 {
                        self.table
                            .slot(id)
                            .and_then(|s| s.payload.op.buffer_group())
                    } else {
                        None
                    };
                    deliver(Reaped::More {
                        id,
                        result,
                        flags,
                        group,
                    });
                    continue;
                }
                Ready::Sent(sent) => {
                    deliver(Reaped::Done(sent));
                    delivered += 1;
                    continue;
                }
                Ready::Message(user_data, result, flags) => {
                    deliver(Reaped::Message {
                        user_data,
                        result,
                        flags,
                    });
                    continue;
                }
                Ready::Final(finished, result, flags) => (finished, result, flags),
            };
            let delivered_now = self.table.settle(
                finished,
                i64::from(result),
                f64::from(flags),
                |id, memory, user| {
                    deliver(Reaped::Done(Completion {
                        id,
                        result,
                        flags,
                        op: Some(memory.map(|entry| entry.op)),
                        user,
                        batch: None,
                        group: None,
                    }))
                },
            );
            delivered += usize::from(delivered_now);
        }
        self.reaped = reaped;
        let batches = self.table.deliver_batches(|done| {
            deliver(Reaped::Done(Completion {
                id: done.id,
                result: if done.cancelled {
                    -libc::ECANCELED
                } else {
                    done.results.len() as i32
                },
                flags: 0,
                op: None,
                user: done.user,
                batch: Some(done.results),
                group: None,
            }))
        });
        delivered + batches
    }

    /// A cancel found nothing to cancel. An op that has not started yet (linked behind
    /// another, or drained) is not cancellable in the kernel: try again once another
    /// op completes, or at once if none is left in the kernel (it is starting now).
    fn cancel_missed(&mut self, target: u64) {
        if self.table.slot(target).map(|s| s.state()) != Some(SlotState::InKernel) {
            return;
        }
        self.cancel_later(target);
    }

    /// Op `target` was not found by a cancel (not started yet). If other ops are in the
    /// kernel, try again when one completes (`after_reap`); if none is, the op is
    /// starting now (the kernel issues it from task work): try again on the next flush,
    /// after a wake-up of the loop, for up to `CANCEL_RETRY_FOR`.
    fn cancel_later(&mut self, target: u64) {
        let others = self
            .table
            .any_in_kernel(|id, s| id != target && !s.is_internal());
        if others {
            self.cancel_retries.push(target);
            return;
        }
        if let Some(slot) = self.table.slot_mut(target) {
            let first = *slot.payload.first_miss.get_or_insert_with(Instant::now);
            if first.elapsed() < CANCEL_RETRY_FOR {
                self.cancel_soon.push(target);
                self.notify();
            }
        }
    }

    /// Sends again the cancels that found their op not started, once another op has
    /// completed (only real completions: a cancel's own does not count, so this never
    /// loops without progress).
    fn after_reap(&mut self, finished: &Finished<Entry, T>) {
        if matches!(finished.owner, Owner::Internal) || self.cancel_retries.is_empty() {
            return;
        }
        for target in std::mem::take(&mut self.cancel_retries) {
            if self.table.contains(target) {
                self.send_cancel(target);
            }
        }
    }

    /// Whether `reap` would deliver something now. On an IOPOLL ring this polls
    /// once, and if polled ops are still in flight wakes the eventfd so the loop comes
    /// back to poll again instead of sleeping.
    pub fn has_completions(&mut self) -> bool {
        if self.iopoll && self.table.in_kernel() > 0 {
            self.get_events();
            if self.uring.completion().is_empty() {
                self.notify();
            }
        }
        !self.stash.is_empty()
            || self.table.has_local()
            || self.table.has_finished_batches()
            || !self.uring.completion().is_empty()
            || self.kernel_holds_completions()
    }

    /// Whether completions wait in the kernel for this task to enter it: ones the CQ
    /// could not hold (overflow), task work a COOP/DEFER_TASKRUN ring deferred
    /// (IORING_SQ_TASKRUN), or polled I/O (IOPOLL).
    fn kernel_holds_completions(&mut self) -> bool {
        let sq = self.uring.submission();
        sq.cq_overflow() || sq.taskrun() || (self.iopoll && self.table.in_kernel() > 0)
    }

    /// Enters the kernel to wait for nothing: flushes overflowed completions into the
    /// CQ, runs deferred task work and polls IOPOLL I/O once. Submits nothing (the
    /// SQ's bookkeeping is `enter`'s).
    fn get_events(&mut self) {
        // SAFETY: no SQE is submitted and no argument is passed, so the kernel reads no
        // memory of ours.
        let _ = unsafe {
            self.uring
                .submitter()
                .enter::<libc::sigset_t>(0, 0, IORING_ENTER_GETEVENTS, None)
        };
    }

    /// Resets the eventfd's counter so a level-triggered watcher sleeps until the next
    /// completion. Call before `reap`, so a completion that lands in between re-arms it.
    pub fn clear_eventfd(&self) {
        self.eventfd.clear();
    }

    /// Wakes the eventfd watcher without the kernel (for locally settled ops).
    fn notify(&self) {
        self.eventfd.notify();
    }

    /// Blocks until every outstanding op has completed (delivering each to `deliver`)
    /// or `deadline` passes. Returns true when nothing is outstanding. Used for
    /// teardown and by synchronous callers; it submits whatever is queued.
    pub fn drain_blocking(
        &mut self,
        deadline: Instant,
        mut deliver: impl FnMut(Completion<T>),
    ) -> bool {
        let eventfd = self.eventfd();
        iobuf::drain_until(eventfd, deadline, || {
            // A broken ring settles what it could not submit; keep waiting for the
            // ops the kernel already holds.
            let _ = self.flush();
            self.reap(&mut deliver);
            self.table.is_empty() || self.only_notifications_left()
        })
    }

    /// Cancels everything and waits for every completion. Returns false if the
    /// kernel did not answer in time: the caller must then leak the ring.
    pub fn shutdown(&mut self, deadline: Instant, deliver: impl FnMut(Completion<T>)) -> bool {
        self.cancel_all();
        self.drain_blocking(deadline, deliver)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        if !self.table.is_empty() && !self.shutdown(Instant::now() + TEARDOWN_DEADLINE, drop) {
            // The kernel still owns memory in some slots: leak the ring (the table
            // leaks its slots itself when dropped with ops in the kernel) and the
            // eventfd instead of freeing what it may write.
            // Registered pages stay pinned by the leaked ring: keep them allocated.
            std::mem::forget(self.fixed.take());
            std::mem::forget(std::mem::take(&mut self.buf_rings));
            return;
        }
        // SAFETY: nothing is outstanding but zero-copy notifications, whose memory the
        // table leaks when it is dropped after this (their slots are in the kernel), so
        // the kernel refers to no memory we free; each field is dropped exactly once, here.
        unsafe {
            ManuallyDrop::drop(&mut self.uring);
            ManuallyDrop::drop(&mut self.eventfd);
        }
    }
}

/// Allocates the memory `op` defers until it gets its SQE (a plain read's landing
/// zone: see `IoBuf::deferred_landing`). False if the allocation failed.
fn materialize(op: &mut Op) -> bool {
    match op {
        Op::Read { buf, .. } => buf.materialize(),
        _ => true,
    }
}

/// Whether `op`, if it selects buffers from a provided buffer ring, selects from one
/// of `own` (the rings this ring registered): the kernel knows a ring only by its
/// group id, which means this ring's group of that id.
fn selects_from_own(op: &Op, own: &[Arc<BufRing>]) -> bool {
    match op {
        Op::RecvMultishot { group, .. } => own.iter().any(|g| Arc::ptr_eq(g, group)),
        _ => true,
    }
}

/// Takes the link flags off op `id` (the end of its chain).
fn unlink<T>(table: &mut InFlight<Entry, T>, id: u64) {
    if let Some(slot) = table.slot_mut(id) {
        slot.payload.flags -= squeue::Flags::IO_LINK | squeue::Flags::IO_HARDLINK;
    }
}

/// Sets op `id`'s SQE flags and chain.
fn mark<T>(table: &mut InFlight<Entry, T>, id: u64, flags: squeue::Flags, chain: u64) {
    if let Some(slot) = table.slot_mut(id) {
        slot.payload.flags = flags;
        slot.payload.chain = chain;
    }
}

#[cfg(test)]
use iobuf::fault;

#[cfg(test)]
#[path = "fault_tests.rs"]
mod fault_tests;

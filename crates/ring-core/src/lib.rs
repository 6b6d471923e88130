//! io_uring core of uring-aio: owns the ring, the in-flight table, SQE building and
//! reaping. Knows nothing of Node: it is tested with `cargo test` against the real
//! kernel, with plain Rust buffers.
//!
//! Ownership rule: memory the kernel may read or write belongs to the in-flight op
//! from `Ring::push` until its completion is handed back by `Ring::reap`, on every
//! path, teardown included.

pub mod batch;
pub mod bufring;
pub mod nowait;
pub mod op;
pub mod probe;
pub mod ring;
pub mod sockaddr;

pub use batch::{BatchResults, EntryError, FixedBuffers, ENTRY_FIELDS, RESULT_FIELDS};
pub use bufring::BufRing;
pub use io_uring::opcode;
pub use iobuf::{AlignedBuf, IoBuf, PAGE_ALIGN};
pub use nowait::{read_nowait, send_nowait, write_nowait, NowaitResult};
pub use op::{
    epoll_create, ArgList, Op, OpArgs, OpInfo, ADDR_OUT, CURRENT_POSITION, MSG_TAG, OPCODES,
};
pub use probe::{explain, probe, Unavailable};
pub use ring::{
    Completion, Reaped, Ring, RingOptions, SqeOptions, IORING_CQE_F_MORE, TEARDOWN_DEADLINE,
};

//! Linux kernel AIO (`io_setup`, `io_submit`, `io_getevents`, `io_cancel`,
//! `io_destroy`, `io_pgetevents`) for uring-aio, over `libc::syscall` with our own ABI
//! definitions. Knows nothing of Node; tested with `cargo test` on the real kernel.
//!
//! Ownership rule: an iocb, its iovec array and its buffers belong to the request's
//! slot from `Context::push` until its io_event is reaped; `io_destroy` runs only once
//! nothing is outstanding.
//!
//! Buffered (non-O_DIRECT) AIO on regular files is performed synchronously inside
//! `io_submit`: it blocks the calling thread for the duration of the I/O.

pub mod abi;
pub mod batch;
pub mod context;
pub mod explain;
pub mod memory;
pub mod request;
pub mod sys;

pub use abi::{cmd, flag, ioprio, rwf, AioContext, IoEvent, Iocb, IoprioClass};
pub use context::{CancelOutcome, Completion, Context, TEARDOWN_DEADLINE};
pub use explain::{explain, explain_request, explain_setup, setup_syscall, RequestShape, Syscall};
pub use iobuf::batch::{BatchResults, EntryError, FixedBuffers, ENTRY_FIELDS, RESULT_FIELDS};
pub use memory::MemoryTable;
pub use request::{Request, RequestOptions};

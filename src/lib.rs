//! napi-rs binding of uring-aio: converts JS values, pins memory, forwards to
//! `ring-core`, and wires completions into the JS thread's libuv loop. No I/O logic.

mod aio;
mod args;
mod js;
mod memory;
mod ring;
mod source;
mod uv;
mod views;

use napi_derive::napi;

pub use aio::NativeAio;
pub use memory::NativeMemory;
pub use ring::{epoll_create, op_table, NativeRing, NativeRingOptions, OpRow};

/// Result of probing io_uring: `errno` is 0 when usable.
#[napi(object)]
pub struct ProbeResult {
    pub errno: i32,
    pub reason: String,
}

/// Tries io_uring once (a 2-entry ring) and explains any failure.
#[napi]
pub fn probe_io_uring() -> ProbeResult {
    match ring_core::probe() {
        Ok(()) => ProbeResult {
            errno: 0,
            reason: String::new(),
        },
        Err(e) => ProbeResult {
            errno: e.errno,
            reason: e.reason,
        },
    }
}

/// Words for an io_setup failure with `errno`.
#[napi]
pub fn explain_aio_setup_error(errno: i32) -> String {
    aio_core::explain_setup(errno)
}

/// Words for an io_uring_setup failure with `errno`.
#[napi]
pub fn explain_setup_error(errno: i32) -> String {
    ring_core::explain(errno)
}

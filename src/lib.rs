//! napi-rs binding of uring-aio: converts JS values, pins memory, forwards to
//! `ring-core`, and wires completions into the JS thread's libuv loop. No I/O logic.

mod aio;
mod args;
mod js;
mod memory;
mod net;
mod ring;
mod source;
mod uv;
mod views;

use napi_derive::napi;

pub use aio::{push_aio_rows, NativeAio};
pub use memory::NativeMemory;
pub use net::{
    adopt_socket, before_bind, bind_now, getsockopt_now, listen_now, local_address, peer_address,
    release_socket, setsockopt_now, sockaddr_decode, sockaddr_inet, sockaddr_unix, socket_now,
    NativeBufRing, SocketAddress,
};
pub use ring::{
    epoll_create, op_table, read_now, send_now, write_now, NativeRing, NativeRingOptions, OpRow,
};

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

/// Words for a failure of the AIO context's setup with `errno`.
#[napi]
pub fn explain_aio_setup_error(errno: i32) -> String {
    aio_core::explain_setup(errno)
}

/// Which call of the AIO context's setup failed with `errno`: 'eventfd' or 'io_setup'.
#[napi]
pub fn aio_setup_syscall(errno: i32) -> &'static str {
    aio_core::setup_syscall(errno).name()
}

/// Words for `errno` from the AIO syscall named `syscall` ('io_submit', 'io_cancel',
/// ...), if its man page documents it.
#[napi]
pub fn explain_aio_error(syscall: String, errno: i32) -> Option<&'static str> {
    aio_core::explain(aio_core::Syscall::from_name(&syscall)?, errno)
}

/// Words for an AIO request's failure with `errno`, from what it asked for: the
/// command (IOCB_CMD_*), descriptor, offset, buffer lengths (one window of `memory`
/// at `memory_offset` when the request used library memory in place; the library's
/// own copies otherwise), RWF flags, aio_reqprio (-1: none) and eventfd (-1: none).
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn explain_aio_request_error(
    errno: i32,
    opcode: u32,
    fd: i32,
    offset: napi::bindgen_prelude::Either<f64, napi::bindgen_prelude::BigInt>,
    lengths: Vec<f64>,
    memory: Option<&NativeMemory>,
    memory_offset: f64,
    rw_flags: i32,
    ioprio: i32,
    resfd: i32,
) -> Option<String> {
    let address = |i: usize| match memory {
        Some(mem) if i == 0 => mem.inner().as_ptr() as u64 + memory_offset as u64,
        // The library's copies and landing zones are page-aligned.
        _ => 0,
    };
    let shape = aio_core::RequestShape {
        opcode: opcode as u16,
        fd,
        offset: views::position(offset).unwrap_or(0),
        buffers: lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| (address(i), len as u64))
            .collect(),
        rw_flags,
        ioprio: (ioprio >= 0).then_some(ioprio as u16 as i16),
        resfd: (resfd >= 0).then_some(resfd),
    };
    aio_core::explain_request(errno, &shape)
}

/// A new eventfd (EFD_CLOEXEC, and EFD_NONBLOCK if asked) owned by the caller, for
/// an AIO request's `eventfd`. Throws the errno on failure.
#[napi]
pub fn create_eventfd(env: napi::Env, nonblocking: bool) -> napi::Result<i32> {
    use std::os::fd::IntoRawFd;
    aio_core::sys::eventfd(nonblocking)
        .map(IntoRawFd::into_raw_fd)
        .map_err(|e| source::errno_error(env.raw(), e))
}

/// Words for an io_uring_setup failure with `errno`.
#[napi]
pub fn explain_setup_error(errno: i32) -> String {
    ring_core::explain(errno)
}

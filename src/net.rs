//! Sockets: socket addresses between JS and `ring_core::sockaddr` (which builds and
//! parses the bytes), the plain socket calls lib/ falls back to, and `NativeBufRing`,
//! a provided buffer ring whose held buffers JS sees as Buffers over the ring's
//! memory (zero-copy).

use std::ffi::c_void;
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Unknown};
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use ring_core::sockaddr::{self, Address};
use ring_core::BufRing;

use crate::js;
use crate::source::errno_error;

fn einval() -> std::io::Error {
    std::io::Error::from_raw_os_error(libc::EINVAL)
}

/// A socket address as JS sees it: `family` 4 or 6 with `address` and `port` (and
/// `flowinfo`/`scopeid` for IPv6), or `family` 0 with `path` (AF_UNIX).
#[napi(object)]
pub struct SocketAddress {
    pub family: u32,
    pub address: Option<String>,
    pub port: Option<u32>,
    pub flowinfo: Option<u32>,
    pub scopeid: Option<u32>,
    pub path: Option<String>,
}

fn to_js(address: Address) -> SocketAddress {
    match address {
        Address::Inet(addr) => {
            let (family, flowinfo, scopeid) = match addr {
                std::net::SocketAddr::V4(_) => (4, None, None),
                std::net::SocketAddr::V6(v6) => (6, Some(v6.flowinfo()), Some(v6.scope_id())),
            };
            SocketAddress {
                family,
                address: Some(addr.ip().to_string()),
                port: Some(u32::from(addr.port())),
                flowinfo,
                scopeid,
                path: None,
            }
        }
        Address::Unix(path) => SocketAddress {
            family: 0,
            address: None,
            port: None,
            flowinfo: None,
            scopeid: None,
            path: Some(String::from_utf8_lossy(&path).into_owned()),
        },
    }
}

/// A copy of a view's bytes (the view is read once, now).
fn view_copy(env: &Env, view: &Unknown) -> napi::Result<Vec<u8>> {
    js::with_view_bytes(env.raw(), view.raw(), <[u8]>::to_vec)
        .ok_or_else(|| errno_error(env.raw(), einval()))
}

/// The `struct sockaddr_in`/`sockaddr_in6` bytes of `address` (text, checked by lib/)
/// and `port`; `family` 4, 6 or 0 (inferred). EINVAL if the text is not one.
#[napi]
pub fn sockaddr_inet(
    env: Env,
    address: String,
    port: u32,
    family: u32,
    flowinfo: u32,
    scopeid: u32,
) -> napi::Result<Buffer> {
    let port = u16::try_from(port).map_err(|_| errno_error(env.raw(), einval()))?;
    let family = u8::try_from(family).map_err(|_| errno_error(env.raw(), einval()))?;
    sockaddr::parse_inet(&address, port, family, flowinfo, scopeid)
        .map(|addr| Buffer::from(sockaddr::encode_inet(&addr)))
        .map_err(|e| errno_error(env.raw(), e))
}

/// The `struct sockaddr_un` bytes of the path in `path` (a view of its bytes).
#[napi]
pub fn sockaddr_unix(env: Env, path: Unknown) -> napi::Result<Buffer> {
    let bytes = view_copy(&env, &path)?;
    sockaddr::encode_unix(&bytes)
        .map(Buffer::from)
        .map_err(|e| errno_error(env.raw(), e))
}

/// The address in `bytes` (what the kernel wrote), or null for another family.
#[napi]
pub fn sockaddr_decode(env: Env, bytes: Unknown) -> napi::Result<Option<SocketAddress>> {
    Ok(sockaddr::decode(&view_copy(&env, &bytes)?).map(to_js))
}

/// getsockname(2) of `fd`, decoded.
#[napi]
pub fn local_address(env: Env, fd: i32) -> napi::Result<Option<SocketAddress>> {
    let bytes = sockaddr::local_name(fd).map_err(|e| errno_error(env.raw(), e))?;
    Ok(sockaddr::decode(&bytes).map(to_js))
}

/// getpeername(2) of `fd`, decoded.
#[napi]
pub fn peer_address(env: Env, fd: i32) -> napi::Result<Option<SocketAddress>> {
    let bytes = sockaddr::peer_name(fd).map_err(|e| errno_error(env.raw(), e))?;
    Ok(sockaddr::decode(&bytes).map(to_js))
}

/// socket(2) now (where the kernel lacks IORING_OP_SOCKET).
#[napi]
pub fn socket_now(env: Env, domain: i32, kind: i32, protocol: i32) -> napi::Result<i32> {
    sockaddr::socket_now(domain, kind, protocol).map_err(|e| errno_error(env.raw(), e))
}

/// bind(2) now to the address bytes in `addr` (where the kernel lacks IORING_OP_BIND).
#[napi]
pub fn bind_now(env: Env, fd: i32, addr: Unknown) -> napi::Result<()> {
    let bytes = view_copy(&env, &addr)?;
    sockaddr::bind_now(fd, &bytes).map_err(|e| errno_error(env.raw(), e))
}

/// listen(2) now (where the kernel lacks IORING_OP_LISTEN).
#[napi]
pub fn listen_now(env: Env, fd: i32, backlog: i32) -> napi::Result<()> {
    sockaddr::listen_now(fd, backlog).map_err(|e| errno_error(env.raw(), e))
}

/// setsockopt(2) now, with the option's bytes in `value` (where the kernel lacks
/// SOCKET_URING_OP_SETSOCKOPT).
#[napi]
pub fn setsockopt_now(
    env: Env,
    fd: i32,
    level: i32,
    name: i32,
    value: Unknown,
) -> napi::Result<()> {
    let bytes = view_copy(&env, &value)?;
    sockaddr::setsockopt_now(fd, level, name, &bytes).map_err(|e| errno_error(env.raw(), e))
}

/// getsockopt(2) now: the option's bytes (where the kernel lacks
/// SOCKET_URING_OP_GETSOCKOPT, and for levels other than SOL_SOCKET).
#[napi]
pub fn getsockopt_now(env: Env, fd: i32, level: i32, name: i32) -> napi::Result<Buffer> {
    sockaddr::getsockopt_now(fd, level, name)
        .map(Buffer::from)
        .map_err(|e| errno_error(env.raw(), e))
}

/// SO_REUSEADDR (stream sockets only) and SO_REUSEPORT before a bind, as node:net sets them.
#[napi]
pub fn before_bind(env: Env, fd: i32, reuse_addr: bool, reuse_port: bool) -> napi::Result<()> {
    sockaddr::before_bind(fd, reuse_addr, reuse_port).map_err(|e| errno_error(env.raw(), e))
}

thread_local! {
    /// The sockets this thread's rings made (socket, accept) and did not close.
    static OWNED_SOCKETS: std::cell::RefCell<Option<sockaddr::OwnedSockets>> =
        const { std::cell::RefCell::new(None) };
}

/// Closes the sockets this thread's rings made and nothing closed: the environment
/// (a Worker's, or the main one at exit) is ending.
unsafe extern "C" fn close_owned_sockets(_arg: *mut c_void) {
    if let Some(mut owned) = OWNED_SOCKETS.with(|o| o.borrow_mut().take()) {
        owned.close_all();
    }
}

/// Remembers socket `fd`, made by a ring (socket, accept), so that it is closed when
/// the thread's environment ends unless `release_socket` forgot it first.
#[napi]
pub fn adopt_socket(env: Env, fd: i32) {
    OWNED_SOCKETS.with(|o| {
        let mut owned = o.borrow_mut();
        owned
            .get_or_insert_with(|| {
                // SAFETY: the hook is a plain function without data; it runs once, on
                // this thread, when the environment ends.
                unsafe {
                    sys::napi_add_env_cleanup_hook(
                        env.raw(),
                        Some(close_owned_sockets),
                        std::ptr::null_mut(),
                    )
                };
                sockaddr::OwnedSockets::default()
            })
            .adopt(fd);
    });
}

/// Forgets socket `fd` (a ring is closing it).
#[napi]
pub fn release_socket(fd: i32) {
    OWNED_SOCKETS.with(|o| {
        if let Some(owned) = o.borrow_mut().as_mut() {
            owned.release(fd);
        }
    });
}

/// A provided buffer ring registered with a ring (`NativeRing::register_buf_ring`).
#[napi]
pub struct NativeBufRing {
    ring: Arc<BufRing>,
}

impl NativeBufRing {
    pub fn new(ring: Arc<BufRing>) -> Self {
        Self { ring }
    }

    pub fn inner(&self) -> &Arc<BufRing> {
        &self.ring
    }
}

/// What a held buffer's JS view keeps: the ring's memory, and which taking to give
/// back when the view is collected.
struct Held {
    ring: Arc<BufRing>,
    bid: u16,
    generation: u32,
}

unsafe extern "C" fn release_held(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: hint is the Box<Held> js::external_buffer made in `view`; Node calls this exactly once,
    // when the Buffer's backing store dies (after a detach, or when collected).
    let held = unsafe { Box::from_raw(hint.cast::<Held>()) };
    // A taking given back already (an explicit release) is not given back again.
    held.ring.give_back(held.bid, held.generation);
}

#[napi]
impl NativeBufRing {
    #[napi(getter)]
    pub fn count(&self) -> u32 {
        self.ring.count()
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.ring.size()
    }

    #[napi(getter)]
    pub fn bgid(&self) -> u32 {
        u32::from(self.ring.bgid())
    }

    /// The largest chunk copied out of its buffer as its completion is delivered
    /// (the buffer goes straight back); larger ones are held views.
    #[napi(getter)]
    pub fn copy_up_to(&self) -> u32 {
        self.ring.copy_up_to()
    }

    #[napi(setter)]
    pub fn set_copy_up_to(&self, bytes: u32) {
        self.ring.set_copy_up_to(bytes);
    }

    /// Buffers held by JS (taken and not given back).
    #[napi(getter)]
    pub fn held(&self) -> u32 {
        self.ring.held() as u32
    }

    /// Records that a reaped completion handed buffer `bid` over; returns the
    /// taking's generation, or -1 if it is not a buffer of this ring or is held.
    #[napi]
    pub fn take(&self, bid: u32) -> f64 {
        u16::try_from(bid)
            .ok()
            .and_then(|bid| self.ring.take(bid))
            .map_or(-1.0, f64::from)
    }

    /// Gives taking `generation` of buffer `bid` back to the kernel (once).
    #[napi]
    pub fn give_back(&self, bid: u32, generation: u32) -> bool {
        u16::try_from(bid).is_ok_and(|bid| self.ring.give_back(bid, generation))
    }

    /// A Buffer over the first `len` bytes of held buffer `bid` (taking
    /// `generation`): zero-copy. Its backing store holds the ring's memory, and gives
    /// the taking back when it dies (if not given back before).
    #[napi]
    pub fn view(&self, env: Env, bid: u32, generation: u32, len: u32) -> napi::Result<Unknown<'_>> {
        let raw_env = env.raw();
        let bid = u16::try_from(bid).map_err(|_| errno_error(raw_env, einval()))?;
        let ptr = self
            .ring
            .buffer_ptr(bid)
            .filter(|_| len <= self.ring.size())
            .ok_or_else(|| errno_error(raw_env, einval()))?;
        let hint = Held {
            ring: Arc::clone(&self.ring),
            bid,
            generation,
        };
        // SAFETY: `ptr` is valid for `len` <= size bytes (buffer `bid` of the ring's
        // data memory), which lives as long as the Arc in `hint`, released only by
        // release_held. The kernel does not write the buffer while it is held.
        unsafe { js::external_buffer(raw_env, ptr, len as usize, hint, release_held) }
    }

    /// Detaches the ArrayBuffer behind `view` (a Buffer from `view`), so JS can no
    /// longer reach the memory once the buffer went back to the kernel. False if it
    /// cannot be detached.
    #[napi]
    pub fn detach(&self, env: Env, view: Unknown) -> bool {
        js::detach_view(env.raw(), view.raw())
    }
}

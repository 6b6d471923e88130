//! Socket addresses: the one place where `struct sockaddr_in`, `sockaddr_in6` and
//! `sockaddr_un` are built from an address and parsed back. The kernel takes and
//! returns them as bytes; these functions read and write those bytes field by field
//! (no casts of our memory to C structs), so building and parsing need no `unsafe`.
//!
//! Also the socket calls that take no memory of an in-flight op and never block,
//! used on the JS thread: getsockname/getpeername (a multishot accept's peer, the
//! port the kernel picked), socket/bind/listen where the kernel lacks their
//! io_uring opcodes (IORING_OP_SOCKET 5.19, IORING_OP_BIND/LISTEN 6.11), and
//! setsockopt/getsockopt where it lacks the socket commands (6.7).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// `sizeof(struct sockaddr_storage)`: room for any address the kernel returns.
pub const SOCKADDR_STORAGE: usize = 128;
/// `sizeof(struct sockaddr_in)`.
const SOCKADDR_IN: usize = 16;
/// `sizeof(struct sockaddr_in6)`.
const SOCKADDR_IN6: usize = 28;
/// `sizeof(((struct sockaddr_un *)0)->sun_path)`.
pub const SUN_PATH: usize = 108;
/// `offsetof(struct sockaddr_un, sun_path)`: after the 2-byte family.
const SUN_PATH_OFFSET: usize = 2;

/// A socket address as the kernel writes it, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// AF_INET or AF_INET6.
    Inet(SocketAddr),
    /// AF_UNIX: the path's bytes (empty for an unnamed socket; a leading NUL for an
    /// abstract one).
    Unix(Vec<u8>),
}

fn invalid() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

/// The bytes of an AF_INET or AF_INET6 address: `sockaddr_in` (16 bytes) or
/// `sockaddr_in6` (28 bytes). Port and flow label in network byte order, the family
/// and scope id in the CPU's.
pub fn encode_inet(addr: &SocketAddr) -> Vec<u8> {
    match addr {
        SocketAddr::V4(v4) => {
            let mut out = vec![0u8; SOCKADDR_IN];
            out[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            out[2..4].copy_from_slice(&v4.port().to_be_bytes());
            out[4..8].copy_from_slice(&v4.ip().octets());
            out
        }
        SocketAddr::V6(v6) => {
            let mut out = vec![0u8; SOCKADDR_IN6];
            out[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            out[2..4].copy_from_slice(&v6.port().to_be_bytes());
            out[4..8].copy_from_slice(&v6.flowinfo().to_be_bytes());
            out[8..24].copy_from_slice(&v6.ip().octets());
            out[24..28].copy_from_slice(&v6.scope_id().to_ne_bytes());
            out
        }
    }
}

/// An IP address and port from text: `family` 4 or 6, or 0 to infer it from the
/// text. EINVAL if the text is not an address of that family.
pub fn parse_inet(
    address: &str,
    port: u16,
    family: u8,
    flowinfo: u32,
    scope_id: u32,
) -> io::Result<SocketAddr> {
    let ip: IpAddr = address.parse().map_err(|_| invalid())?;
    match (ip, family) {
        (IpAddr::V4(v4), 0 | 4) => Ok(SocketAddr::V4(SocketAddrV4::new(v4, port))),
        (IpAddr::V6(v6), 0 | 6) => Ok(SocketAddr::V6(SocketAddrV6::new(
            v6, port, flowinfo, scope_id,
        ))),
        _ => Err(invalid()),
    }
}

/// The bytes of an AF_UNIX address for `path`: a pathname (NUL-terminated, at most
/// 107 bytes) or, when it starts with a NUL byte, an abstract name (at most 108
/// bytes, not terminated). ENAMETOOLONG past that; EINVAL for an empty path or a
/// NUL inside a pathname.
pub fn encode_unix(path: &[u8]) -> io::Result<Vec<u8>> {
    if path.is_empty() {
        return Err(invalid());
    }
    let abstract_name = path[0] == 0;
    if !abstract_name && path.contains(&0) {
        return Err(invalid());
    }
    let max = if abstract_name {
        SUN_PATH
    } else {
        SUN_PATH - 1
    };
    if path.len() > max {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let mut out = Vec::with_capacity(SUN_PATH_OFFSET + path.len() + 1);
    out.extend_from_slice(&(libc::AF_UNIX as u16).to_ne_bytes());
    out.extend_from_slice(path);
    if !abstract_name {
        out.push(0);
    }
    Ok(out)
}

/// The address in `bytes` (the first `addrlen` bytes the kernel wrote), or `None`
/// for a family other than AF_INET, AF_INET6 and AF_UNIX, or bytes too short for it.
pub fn decode(bytes: &[u8]) -> Option<Address> {
    let family = u16::from_ne_bytes(bytes.get(0..2)?.try_into().ok()?);
    match i32::from(family) {
        libc::AF_INET if bytes.len() >= SOCKADDR_IN => {
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let ip = Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]);
            Some(Address::Inet(SocketAddr::V4(SocketAddrV4::new(ip, port))))
        }
        libc::AF_INET6 if bytes.len() >= SOCKADDR_IN6 => {
            let port = u16::from_be_bytes([bytes[2], bytes[3]]);
            let flowinfo = u32::from_be_bytes(bytes[4..8].try_into().ok()?);
            let octets: [u8; 16] = bytes[8..24].try_into().ok()?;
            let scope_id = u32::from_ne_bytes(bytes[24..28].try_into().ok()?);
            Some(Address::Inet(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(octets),
                port,
                flowinfo,
                scope_id,
            ))))
        }
        libc::AF_UNIX => {
            let path = &bytes[SUN_PATH_OFFSET.min(bytes.len())..];
            let path = &path[..path.len().min(SUN_PATH)];
            // A pathname ends at its NUL (the kernel may count it, or not); an
            // abstract name is exactly as long as the address says.
            let path = if path.first() == Some(&0) {
                path
            } else {
                &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())]
            };
            Some(Address::Unix(path.to_vec()))
        }
        _ => None,
    }
}

fn name_of(
    fd: RawFd,
    call: unsafe extern "C" fn(
        libc::c_int,
        *mut libc::sockaddr,
        *mut libc::socklen_t,
    ) -> libc::c_int,
) -> io::Result<Vec<u8>> {
    let mut storage = [0u8; SOCKADDR_STORAGE];
    let mut len = SOCKADDR_STORAGE as libc::socklen_t;
    // SAFETY: `storage` is writable for `len` bytes and `len` is a valid socklen_t;
    // the kernel writes at most `len` bytes and the real length into `len`. Both live
    // on this stack frame for the whole (synchronous) call.
    let rc = unsafe { call(fd, storage.as_mut_ptr().cast(), &mut len) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(storage[..(len as usize).min(SOCKADDR_STORAGE)].to_vec())
}

/// getsockname(2): the bytes of the address socket `fd` is bound to.
pub fn local_name(fd: RawFd) -> io::Result<Vec<u8>> {
    name_of(fd, libc::getsockname)
}

/// getpeername(2): the bytes of the address of the peer socket `fd` is connected to.
pub fn peer_name(fd: RawFd) -> io::Result<Vec<u8>> {
    name_of(fd, libc::getpeername)
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// socket(2), for kernels without IORING_OP_SOCKET (it never blocks).
pub fn socket_now(domain: i32, kind: i32, protocol: i32) -> io::Result<RawFd> {
    // SAFETY: socket takes integers and touches no memory of ours.
    check(unsafe { libc::socket(domain, kind, protocol) })
}

/// bind(2) to the address in `addr` (`encode_inet`/`encode_unix` bytes), for kernels
/// without IORING_OP_BIND (it never blocks).
pub fn bind_now(fd: RawFd, addr: &[u8]) -> io::Result<()> {
    if addr.len() < 2 || addr.len() > SOCKADDR_STORAGE {
        return Err(invalid());
    }
    // SAFETY: `addr` is readable for `addr.len()` bytes for the whole synchronous call,
    // and the kernel reads at most that many.
    check(unsafe { libc::bind(fd, addr.as_ptr().cast(), addr.len() as libc::socklen_t) }).map(drop)
}

/// listen(2), for kernels without IORING_OP_LISTEN (it never blocks).
pub fn listen_now(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: listen takes integers and touches no memory of ours.
    check(unsafe { libc::listen(fd, backlog) }).map(drop)
}

/// The most bytes a socket option value takes here (`struct linger` is 8; a few
/// options, like TCP_INFO, are larger): getsockopt's landing room.
pub const SOCKOPT_MAX: usize = 256;

/// setsockopt(2) with `value` as the option's bytes (it never blocks): where the
/// kernel lacks SOCKET_URING_OP_SETSOCKOPT (6.7).
pub fn setsockopt_now(fd: RawFd, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
    if value.len() > SOCKOPT_MAX {
        return Err(invalid());
    }
    // SAFETY: `value` is readable for `value.len()` bytes for the whole synchronous
    // call, and the kernel reads at most that many.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// getsockopt(2) (it never blocks): the option's bytes, at most `SOCKOPT_MAX`. Where
/// the kernel lacks SOCKET_URING_OP_GETSOCKOPT (6.7), and for levels other than
/// SOL_SOCKET, which that command refuses.
pub fn getsockopt_now(fd: RawFd, level: i32, name: i32) -> io::Result<Vec<u8>> {
    let mut value = [0u8; SOCKOPT_MAX];
    let mut len = SOCKOPT_MAX as libc::socklen_t;
    // SAFETY: `value` is writable for `len` bytes and `len` is a valid socklen_t; the
    // kernel writes at most `len` bytes and the real length into `len`. Both live on
    // this stack frame for the whole (synchronous) call.
    check(unsafe { libc::getsockopt(fd, level, name, value.as_mut_ptr().cast(), &mut len) })?;
    Ok(value[..(len as usize).min(SOCKOPT_MAX)].to_vec())
}

/// What node:net does before binding a TCP socket (libuv's `uv__tcp_bind`): sets
/// SO_REUSEADDR, so that a server restarted while connections of the last one sit in
/// TIME_WAIT gets its port back (`reuse_addr`); `reuse_port` sets SO_REUSEPORT too
/// (several sockets share the port, the kernel spreads connections over them). Only
/// stream sockets take SO_REUSEADDR here: on a datagram socket it would let two
/// sockets bind one port (node:dgram sets it only when asked).
pub fn before_bind(fd: RawFd, reuse_addr: bool, reuse_port: bool) -> io::Result<()> {
    let on = 1i32.to_ne_bytes();
    if reuse_addr {
        let kind = getsockopt_now(fd, libc::SOL_SOCKET, libc::SO_TYPE)?;
        if kind.get(..4) == Some(&libc::SOCK_STREAM.to_ne_bytes()[..]) {
            setsockopt_now(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, &on)?;
        }
    }
    if reuse_port {
        setsockopt_now(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, &on)?;
    }
    Ok(())
}

/// The inode of socket `fd` (None if `fd` is not an open socket): what tells a socket
/// from a later file that got the same descriptor number.
fn socket_inode(fd: RawFd) -> Option<u64> {
    // SAFETY: `stat` is plain old data (all zeroes is valid) that fstat fills; it
    // lives on this stack frame for the whole synchronous call.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; fstat writes at most `size_of::<stat>()` bytes into `stat`.
    let rc = unsafe { libc::fstat(fd, &mut stat) };
    (rc == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFSOCK).then_some(stat.st_ino)
}

/// The sockets a thread's rings made (socket, accept) and that were not closed
/// through a ring: the binding closes them when the thread's environment ends (a
/// Worker's exit), so their peers see the connection end, as node:net's handles do.
/// Each is kept with its inode: a descriptor closed elsewhere whose number went to
/// another file is left alone.
#[derive(Debug, Default)]
pub struct OwnedSockets {
    inodes: std::collections::HashMap<RawFd, u64>,
}

impl OwnedSockets {
    /// Remembers socket `fd` (nothing if it is not one).
    pub fn adopt(&mut self, fd: RawFd) {
        if let Some(inode) = socket_inode(fd) {
            self.inodes.insert(fd, inode);
        }
    }

    /// Forgets `fd` (it is being closed).
    pub fn release(&mut self, fd: RawFd) {
        self.inodes.remove(&fd);
    }

    /// Closes every socket still open under its number; returns how many.
    pub fn close_all(&mut self) -> usize {
        let mut closed = 0;
        for (fd, inode) in self.inodes.drain() {
            if socket_inode(fd) == Some(inode) {
                // SAFETY: `fd` is the socket a ring made (same inode), which nothing
                // closed; close takes an integer and touches no memory of ours.
                unsafe { libc::close(fd) };
                closed += 1;
            }
        }
        closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_round_trips() {
        for (text, family) in [
            ("127.0.0.1", 4),
            ("::1", 6),
            ("::ffff:1.2.3.4", 6),
            ("fe80::1", 0),
        ] {
            let addr = parse_inet(text, 8080, family, 0, 0).unwrap();
            assert_eq!(decode(&encode_inet(&addr)), Some(Address::Inet(addr)));
            assert_eq!(addr.ip().to_string(), text);
        }
        assert!(parse_inet("127.0.0.1", 1, 6, 0, 0).is_err());
        assert!(parse_inet("::1", 1, 4, 0, 0).is_err());
        assert!(parse_inet("localhost", 1, 0, 0, 0).is_err());
    }

    #[test]
    fn inet_bytes_are_the_kernels() {
        let v4 = encode_inet(&"10.1.2.3:258".parse().unwrap());
        assert_eq!(&v4[2..8], &[1, 2, 10, 1, 2, 3]);
        assert_eq!(v4.len(), 16);
        assert_eq!(encode_inet(&"[::1]:1".parse().unwrap()).len(), 28);
    }

    #[test]
    fn unix_paths() {
        let addr = encode_unix(b"/run/x.sock").unwrap();
        assert_eq!(addr.len(), 2 + 11 + 1);
        assert_eq!(decode(&addr), Some(Address::Unix(b"/run/x.sock".to_vec())));
        let abs = encode_unix(b"\0name").unwrap();
        assert_eq!(abs.len(), 2 + 5);
        assert_eq!(decode(&abs), Some(Address::Unix(b"\0name".to_vec())));
        assert_eq!(
            encode_unix(&[b'a'; 108]).unwrap_err().raw_os_error(),
            Some(libc::ENAMETOOLONG)
        );
        assert!(encode_unix(b"").is_err());
        assert!(encode_unix(b"a\0b").is_err());
        // An unnamed peer: only the family.
        assert_eq!(
            decode(&(libc::AF_UNIX as u16).to_ne_bytes()),
            Some(Address::Unix(Vec::new()))
        );
    }

    #[test]
    fn bound_socket_names_itself() {
        let fd = socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
        bind_now(fd, &encode_inet(&"127.0.0.1:0".parse().unwrap())).unwrap();
        listen_now(fd, 1).unwrap();
        let Some(Address::Inet(addr)) = decode(&local_name(fd).unwrap()) else {
            panic!("not an inet address");
        };
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert_ne!(addr.port(), 0);
        assert_eq!(
            peer_name(fd).unwrap_err().raw_os_error(),
            Some(libc::ENOTCONN)
        );
        // SAFETY: fd is ours, closed once.
        unsafe { libc::close(fd) };
    }

    #[test]
    fn owned_sockets_close_only_their_own() {
        let mut owned = OwnedSockets::default();
        let kept = socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
        let released =
            socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
        let reused = socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
        for fd in [kept, released, reused] {
            owned.adopt(fd);
        }
        owned.release(released);
        // `reused` closed elsewhere and its number taken by another socket.
        let other = socket_now(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0).unwrap();
        // SAFETY: both fds are ours; dup2 puts a copy of `other` under `reused`'s number.
        unsafe { libc::dup2(other, reused) };
        assert_eq!(owned.close_all(), 1);
        assert_eq!(socket_inode(kept), None, "closed");
        assert!(socket_inode(released).is_some());
        assert!(
            socket_inode(reused).is_some(),
            "another socket under the number: left alone"
        );
        // SAFETY: the fds still open are ours, closed once.
        unsafe {
            libc::close(released);
            libc::close(reused);
            libc::close(other);
        }
    }

    #[test]
    fn socket_options_set_and_read_back() {
        let fd = socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
        let reuse = |fd| getsockopt_now(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR).unwrap();
        assert_eq!(reuse(fd), 0i32.to_ne_bytes());
        before_bind(fd, true, false).unwrap();
        assert_eq!(reuse(fd), 1i32.to_ne_bytes());
        let udp = socket_now(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0).unwrap();
        before_bind(udp, true, false).unwrap();
        assert_eq!(
            reuse(udp),
            0i32.to_ne_bytes(),
            "a datagram socket is left alone"
        );
        assert_eq!(
            setsockopt_now(fd, libc::SOL_SOCKET, libc::SO_LINGER, &[0; SOCKOPT_MAX + 1])
                .unwrap_err()
                .raw_os_error(),
            Some(libc::EINVAL)
        );
        // SAFETY: both fds are ours, closed once.
        unsafe {
            libc::close(fd);
            libc::close(udp);
        }
    }
}

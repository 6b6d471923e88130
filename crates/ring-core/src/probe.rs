//! Whether io_uring can be used here, and if not, why: without touching io_uring at
//! import time, and with a reason a person can act on.

use io_uring::IoUring;

/// Why io_uring is unavailable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// Positive errno from io_uring_setup (ENOSYS, EPERM, ENOMEM, ...).
    pub errno: i32,
    /// What caused it, in words.
    pub reason: String,
}

const AIO_HINT: &str = "the kernel AIO backend (Aio) works without io_uring";

/// Reads `/proc/sys/kernel/io_uring_disabled` (kernel 6.6+); `None` where absent.
pub fn io_uring_disabled_sysctl() -> Option<u8> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Explains an io_uring_setup failure with `errno`.
pub fn explain(errno: i32) -> String {
    let cause = match errno {
        libc::ENOSYS => "io_uring is not available in this kernel (needs Linux 5.6+ built with CONFIG_IO_URING)".to_string(),
        libc::EPERM => match io_uring_disabled_sysctl() {
            Some(2) => "io_uring is disabled by the sysctl kernel.io_uring_disabled=2".to_string(),
            Some(1) => {
                "io_uring is restricted by the sysctl kernel.io_uring_disabled=1 to members of kernel.io_uring_group"
                    .to_string()
            }
            _ => "io_uring_setup was denied, most likely by a seccomp filter (Docker's default profile blocks io_uring)"
                .to_string(),
        },
        libc::ENOMEM => {
            "not enough locked memory for the ring (raise RLIMIT_MEMLOCK with `ulimit -l`, or use fewer entries)".to_string()
        }
        // The AIO backend needs a descriptor too (its eventfd): pointing there would
        // fail the same way.
        libc::EMFILE => {
            return "too many open files: the process is at its descriptor limit (raise it with `ulimit -n`, or close files)".to_string();
        }
        libc::ENFILE => {
            return "too many open files in the system (fs.file-max): close files or raise the limit".to_string();
        }
        other => format!("io_uring_setup failed with errno {other}"),
    };
    format!("{cause}; {AIO_HINT}")
}

/// Creates and drops a tiny ring to see whether io_uring works, and checks that the
/// kernel has the opcodes the library's basic operations need (READ/WRITE, 5.6).
pub fn probe() -> Result<(), Unavailable> {
    let ring = IoUring::new(2).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        Unavailable {
            errno,
            reason: explain(errno),
        }
    })?;
    let mut probe = io_uring::Probe::new();
    let has_rw = ring.submitter().register_probe(&mut probe).is_ok()
        && probe.is_supported(io_uring::opcode::Read::CODE)
        && probe.is_supported(io_uring::opcode::Write::CODE);
    if !has_rw {
        return Err(Unavailable {
            errno: libc::ENOSYS,
            reason: format!(
                "this kernel's io_uring lacks IORING_OP_READ/WRITE (needs Linux 5.6+); {AIO_HINT}"
            ),
        });
    }
    Ok(())
}

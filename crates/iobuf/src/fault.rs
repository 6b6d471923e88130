//! Test-only fault injection for both cores: the next submissions on this thread
//! (`io_uring_enter` in ring-core, `io_submit` in aio-core) fail or take fewer entries
//! than given. liburing's test/ and tokio-rs/io-uring's history of use-after-free bugs
//! on these paths are why they are tested. Built only with the `fault-injection`
//! feature, which the cores enable for their own tests.

use std::cell::RefCell;
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// The submission fails with this errno, taking nothing.
    Errno(i32),
    /// The submission is given only this many of the queued entries.
    Short(usize),
}

thread_local! {
    static FAULTS: RefCell<VecDeque<Fault>> = const { RefCell::new(VecDeque::new()) };
}

/// Queues faults for the next submissions, in order.
pub fn inject(faults: &[Fault]) {
    FAULTS.with(|f| f.borrow_mut().extend(faults.iter().copied()));
}

/// The next queued fault, if any.
pub fn take() -> Option<Fault> {
    FAULTS.with(|f| f.borrow_mut().pop_front())
}

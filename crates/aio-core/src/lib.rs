//! Linux kernel AIO (`io_setup`, `io_submit`, `io_getevents`, ...) for uring-aio.
//!
//! Empty on purpose: the AIO issue fills this crate. It is a workspace member now so
//! that the layout in DESIGN.md holds from the first commit.

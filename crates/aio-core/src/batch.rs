//! The batch path on an AIO context: entries (validated in `iobuf::batch`) become
//! IOCB_CMD_PREAD / PWRITE / FSYNC / FDSYNC iocbs on the context's buffer pool.

use iobuf::batch::{parse_entry, sqe_flags_of, Entry, EntryError, FixedBuffers};

use crate::request::{Request, RequestOptions};

/// The request for one entry row, or why there is none. AIO has no "file position"
/// (-1), no NOP, no link timeout and no SQE flags, so those entries are refused
/// (Position, Opcode, SqeFlags).
pub fn request_for_entry(
    row: &[f64],
    pool: Option<&FixedBuffers>,
) -> Result<(Request, RequestOptions), EntryError> {
    if sqe_flags_of(row)? != 0 {
        return Err(EntryError::SqeFlags);
    }
    Ok(match parse_entry(row, pool)? {
        Entry::Nop | Entry::LinkTimeout { .. } => return Err(EntryError::Opcode),
        Entry::Fsync { fd, datasync } => (
            if datasync {
                Request::Fdsync { fd }
            } else {
                Request::Fsync { fd }
            },
            RequestOptions::default(),
        ),
        Entry::Rw {
            write,
            fd,
            buf,
            offset,
            rw_flags,
            ..
        } => {
            let offset = offset.ok_or(EntryError::Position)? as i64;
            let request = if write {
                Request::Pwrite { fd, buf, offset }
            } else {
                Request::Pread { fd, buf, offset }
            };
            let options = RequestOptions {
                rw_flags: rw_flags as i32,
                ..RequestOptions::default()
            };
            (request, options)
        }
    })
}

/// Property tests of the iocb builder over the batch path: whatever numbers a row
/// holds, an accepted entry's iocb points inside its pool buffer, names the entry's fd,
/// command and offset, and carries the library's eventfd (PROPTEST_CASES scales it).
#[cfg(test)]
mod iocb_fuzz {
    use std::sync::Arc;

    use iobuf::batch::{BATCH_FSYNC, BATCH_READ_FIXED, BATCH_WRITE_FIXED};
    use iobuf::AlignedBuf;
    use proptest::prelude::*;

    use super::*;
    use crate::abi::{cmd, flag};

    const COUNT: usize = 4;
    const SIZE: usize = 4096;
    const RESFD: i32 = 77;

    fn field() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NAN),
            Just(-1.0),
            Just(0.5),
            Just(f64::from(u32::MAX) + 1.0),
            (0u32..=16).prop_map(f64::from),
            (0u32..=SIZE as u32 + 1).prop_map(f64::from),
            (0u64..1 << 40).prop_map(|n| n as f64),
            any::<f64>(),
        ]
    }

    fn row() -> impl Strategy<Value = Vec<f64>> {
        (
            prop_oneof![
                Just(f64::from(BATCH_READ_FIXED)),
                Just(f64::from(BATCH_WRITE_FIXED)),
                Just(f64::from(BATCH_FSYNC)),
                field()
            ],
            0u32..8,
            prop::collection::vec(field(), 4),
            prop_oneof![Just(0.0), Just(1.0), field()],
            prop_oneof![Just(0.0), field()],
        )
            .prop_map(|(op, fd, rest, flags, sqe)| {
                vec![
                    op,
                    f64::from(fd),
                    rest[0],
                    rest[1],
                    rest[2],
                    rest[3],
                    0.0,
                    flags,
                    sqe,
                ]
            })
    }

    proptest! {
        #[test]
        fn accepted_entries_build_iocbs_inside_their_buffer(row in row()) {
            let mem = Arc::new(AlignedBuf::zeroed(COUNT * SIZE, 4096).unwrap());
            let pool = FixedBuffers::new(Arc::clone(&mem), SIZE).unwrap();
            let base = mem.as_ptr() as u64;
            let Ok((request, options)) = request_for_entry(&row, Some(&pool)) else {
                return Ok(());
            };
            let iocb = request.iocb(42, options, RESFD);
            prop_assert_eq!(iocb.aio_data, 42);
            prop_assert_eq!(iocb.aio_fildes, row[1] as u32);
            prop_assert_eq!(iocb.aio_flags & flag::RESFD, flag::RESFD);
            prop_assert_eq!(iocb.aio_resfd, RESFD as u32);
            match iocb.aio_lio_opcode {
                cmd::PREAD | cmd::PWRITE => {
                    let index = row[2] as u64;
                    let window = base + index * SIZE as u64..=base + (index + 1) * SIZE as u64;
                    let inside = window.contains(&iocb.aio_buf) && window.contains(&(iocb.aio_buf + iocb.aio_nbytes));
                    prop_assert!(inside, "iocb outside buffer {}: {:?}", index, row);
                    prop_assert_eq!(iocb.aio_offset, row[5] as i64);
                    prop_assert!(iocb.aio_offset >= 0, "negative offset {}", iocb.aio_offset);
                    let write = iocb.aio_lio_opcode == cmd::PWRITE;
                    prop_assert_eq!(write, row[0] == f64::from(BATCH_WRITE_FIXED));
                }
                cmd::FSYNC | cmd::FDSYNC => {
                    prop_assert_eq!(iocb.aio_buf, 0);
                    prop_assert_eq!(iocb.aio_lio_opcode == cmd::FDSYNC, row[7] == 1.0);
                }
                other => prop_assert!(false, "unexpected command {}", other),
            }
        }
    }
}

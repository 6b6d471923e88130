//! Property tests of the batch entry validator: whatever numbers JS writes into an
//! entry row, `parse_entry` never panics, and an entry it accepts never reaches outside
//! its pool buffer or names an fd, opcode or flag the kernel would misread.
//!
//! PROPTEST_CASES sets the number of rows (256 by default; the README's long run uses
//! 1,000,000).

use std::sync::Arc;

use iobuf::batch::{
    parse_entry, sqe_flags_of, Entry, EntryError, FixedBuffers, BATCH_FSYNC, BATCH_LINK_TIMEOUT,
    BATCH_NOP, BATCH_READ_FIXED, BATCH_WRITE_FIXED, ENTRY_FIELDS,
};
use iobuf::AlignedBuf;
use proptest::prelude::*;

const COUNT: usize = 4;
const SIZE: usize = 4096;

fn pool() -> FixedBuffers {
    let mem = Arc::new(AlignedBuf::zeroed(COUNT * SIZE, 4096).unwrap());
    FixedBuffers::new(mem, SIZE).unwrap()
}

/// Numbers a row field may hold: the edges of every check, and anything at all.
fn field() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(-1.0),
        Just(0.5),
        Just(f64::from(u32::MAX)),
        Just(f64::from(u32::MAX) + 1.0),
        Just(f64::from(i32::MAX) + 1.0),
        Just(9_007_199_254_740_992.0),
        (0u32..=16).prop_map(f64::from),
        (0u32..=SIZE as u32 + 1).prop_map(f64::from),
        any::<i64>().prop_map(|n| n as f64),
        any::<f64>(),
    ]
}

fn opcode() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::from(BATCH_NOP)),
        Just(f64::from(BATCH_FSYNC)),
        Just(f64::from(BATCH_READ_FIXED)),
        Just(f64::from(BATCH_WRITE_FIXED)),
        Just(f64::from(BATCH_LINK_TIMEOUT)),
        field(),
    ]
}

fn row() -> impl Strategy<Value = Vec<f64>> {
    (opcode(), prop::collection::vec(field(), ENTRY_FIELDS - 1)).prop_map(|(op, rest)| {
        let mut row = vec![op];
        row.extend(rest);
        row
    })
}

/// Rows shaped like buffer entries (a read or write, a small fd, a pool index, a window
/// near the buffer's edges), so most are accepted and the window checks are exercised.
fn buffer_row() -> impl Strategy<Value = Vec<f64>> {
    (
        prop_oneof![Just(BATCH_READ_FIXED), Just(BATCH_WRITE_FIXED)],
        0u32..8,
        0u32..=COUNT as u32,
        0u32..=SIZE as u32 + 1,
        0u32..=SIZE as u32 + 1,
        prop_oneof![Just(-1.0), (0u64..1 << 40).prop_map(|n| n as f64)],
    )
        .prop_map(|(op, fd, index, offset, len, position)| {
            vec![
                f64::from(op),
                f64::from(fd),
                f64::from(index),
                f64::from(offset),
                f64::from(len),
                position,
                0.0,
                0.0,
                0.0,
            ]
        })
}

proptest! {
    #[test]
    fn buffer_entries_stay_inside_their_buffer(row in buffer_row()) {
        let pool = pool();
        let base = pool.memory().as_ptr() as usize;
        let (index, offset, len) = (row[2] as usize, row[3] as usize, row[4] as usize);
        let fits = index < COUNT && offset <= SIZE && len <= SIZE - offset.min(SIZE);
        match parse_entry(&row, Some(&pool)) {
            Ok(Entry::Rw { buf, .. }) => {
                prop_assert!(fits, "accepted a window outside the buffer: {:?}", row);
                prop_assert_eq!(buf.ptr() as usize, base + index * SIZE + offset);
                prop_assert_eq!(buf.len(), len);
            }
            Ok(other) => prop_assert!(false, "a buffer row became {:?}", other),
            Err(e) => prop_assert!(!fits, "refused a window inside the buffer ({:?}): {:?}", e, row),
        }
    }

    #[test]
    fn accepted_entries_stay_inside_their_buffer(row in row()) {
        let pool = pool();
        let base = pool.memory().as_ptr() as usize;
        match parse_entry(&row, Some(&pool)) {
            Ok(Entry::Rw { fd, buf, buf_index, offset, .. }) => {
                prop_assert!(fd >= 0, "fd {}", fd);
                prop_assert!((buf_index as usize) < COUNT, "buffer {}", buf_index);
                let start = buf.ptr() as usize;
                let window = base + buf_index as usize * SIZE..base + (buf_index as usize + 1) * SIZE;
                let inside = window.contains(&start) || (buf.is_empty() && start == window.end);
                prop_assert!(inside, "window starts outside its buffer");
                prop_assert!(start + buf.len() <= window.end, "window ends past its buffer");
                let exact = offset.is_none_or(|o| o < 1 << 53);
                prop_assert!(exact, "position {:?}", offset);
            }
            Ok(Entry::Fsync { fd, .. }) => prop_assert!(fd >= 0, "fd {}", fd),
            Ok(Entry::LinkTimeout { ms }) => {
                let in_range = (0.0..=1e12).contains(&ms);
                prop_assert!(in_range, "ms {}", ms);
            }
            Ok(Entry::Nop) => prop_assert_eq!(row[0], 0.0),
            Err(e) => prop_assert!(e.errno() > 0, "errno of {:?}", e),
        }
    }

    #[test]
    fn no_pool_means_no_buffer(row in row()) {
        if let Ok(entry) = parse_entry(&row, None) {
            let rw = matches!(entry, Entry::Rw { .. });
            prop_assert!(!rw, "a buffer entry without a pool");
        }
    }

    #[test]
    fn sqe_flags_are_only_the_allowed_bits(row in row()) {
        if let Ok(bits) = sqe_flags_of(&row) {
            prop_assert_eq!(bits & !(1 | 2 | 4 | 8 | 16), 0);
        }
    }

    #[test]
    fn short_or_long_rows_are_refused(len in prop_oneof![0usize..ENTRY_FIELDS, ENTRY_FIELDS + 1..20], value in field()) {
        let row = vec![value; len];
        prop_assert_eq!(parse_entry(&row, Some(&pool())).err(), Some(EntryError::Opcode));
    }
}

//! The batch path against the real kernel: registered buffers, validation of every
//! entry before it becomes an SQE, whole-batch completion, synchronous runs.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring_core::batch::{BATCH_NOP, BATCH_READ_FIXED, BATCH_WRITE_FIXED};
use ring_core::{
    probe, AlignedBuf, Completion, EntryError, FixedBuffers, Ring, RingOptions, ENTRY_FIELDS,
    RESULT_FIELDS,
};

const SIZE: usize = 4096;

fn ring_with_buffers(entries: u32, count: usize) -> Option<(Ring<u32>, Arc<FixedBuffers>)> {
    if let Err(e) = probe() {
        eprintln!("skipped: {}", e.reason);
        return None;
    }
    let mut ring = Ring::new(RingOptions {
        entries,
        ..RingOptions::default()
    })
    .expect("ring");
    let mem = Arc::new(AlignedBuf::zeroed(count * SIZE, 4096).unwrap());
    let fixed = Arc::new(FixedBuffers::new(mem, SIZE).unwrap());
    ring.register_buffers(Arc::clone(&fixed)).expect("register");
    Some((ring, fixed))
}

fn data_file(len: usize) -> (std::path::PathBuf, std::fs::File, Vec<u8>) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    // Tests run in parallel: each gets its own file.
    let path = std::env::temp_dir().join(format!(
        "ring-core-batch-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    (path, file, data)
}

fn entry(opcode: u8, fd: i32, buffer: f64, length: f64, position: f64, tag: f64) -> [f64; 9] {
    [
        f64::from(opcode),
        f64::from(fd),
        buffer,
        0.0,
        length,
        position,
        tag,
        0.0,
        0.0,
    ]
}

fn buffer_bytes(fixed: &FixedBuffers, index: usize, len: usize) -> Vec<u8> {
    // SAFETY: the completion that filled this buffer has been reaped.
    unsafe { std::slice::from_raw_parts(fixed.memory().as_ptr().add(index * SIZE), len) }.to_vec()
}

fn wait_batch(ring: &mut Ring<u32>) -> Completion<u32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        ring.flush().unwrap();
        let mut out = Vec::new();
        ring.reap(|c| out.push(c));
        if let Some(c) = out.pop() {
            return c;
        }
        assert!(Instant::now() < deadline, "the batch did not complete");
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn batch_reads_fill_registered_buffers() {
    let Some((mut ring, fixed)) = ring_with_buffers(8, 4) else {
        return;
    };
    let (path, file, data) = data_file(64 * SIZE);
    let positions = [5 * SIZE, 0, 63 * SIZE, 17 * SIZE];
    let rows: Vec<f64> = positions
        .iter()
        .enumerate()
        .flat_map(|(i, &p)| {
            entry(
                BATCH_READ_FIXED,
                file.as_raw_fd(),
                i as f64,
                SIZE as f64,
                p as f64,
                100.0 + i as f64,
            )
        })
        .collect();
    ring.push_batch(&rows, 7);
    let done = wait_batch(&mut ring);
    assert_eq!((done.user, done.result), (7, 4));
    let results = done.batch.unwrap();
    for (i, &p) in positions.iter().enumerate() {
        assert_eq!(results.rows()[i * RESULT_FIELDS], 100.0 + i as f64, "tag");
        assert_eq!(results.get(i).0, SIZE as i64);
        assert_eq!(buffer_bytes(&fixed, i, SIZE), &data[p..p + SIZE]);
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn refused_entries_fail_alone_and_never_reach_the_kernel() {
    let Some((mut ring, _fixed)) = ring_with_buffers(8, 2) else {
        return;
    };
    let (path, file, _) = data_file(4 * SIZE);
    let fd = file.as_raw_fd();
    let mut rows = Vec::new();
    rows.extend(entry(BATCH_READ_FIXED, fd, 0.0, SIZE as f64, 0.0, 0.0));
    rows.extend(entry(BATCH_READ_FIXED, fd, 2.0, SIZE as f64, 0.0, 1.0)); // no buffer 2
    rows.extend(entry(
        BATCH_READ_FIXED,
        fd,
        1.0,
        SIZE as f64 + 1.0,
        0.0,
        2.0,
    )); // too long
    rows.extend(entry(BATCH_READ_FIXED, -1, 1.0, 16.0, 0.0, 3.0)); // bad fd
    rows.extend(entry(99, fd, 1.0, 16.0, 0.0, 4.0)); // unknown opcode
    rows.extend(entry(BATCH_READ_FIXED, fd, 1.0, 16.0, -5.0, 5.0)); // bad position
    rows.extend(entry(BATCH_READ_FIXED, fd, 0.5, 16.0, 0.0, 6.0)); // fractional index
    let submits_before = ring.enters();
    ring.push_batch(&rows, 1);
    let done = wait_batch(&mut ring);
    let results = done.batch.unwrap();
    assert_eq!(results.get(0), (SIZE as i64, 0.0));
    let refused = [
        (1, EntryError::Buffer),
        (2, EntryError::Bounds),
        (3, EntryError::Fd),
        (4, EntryError::Opcode),
        (5, EntryError::Position),
        (6, EntryError::Buffer),
    ];
    for (i, why) in refused {
        assert_eq!(
            results.get(i),
            (-i64::from(why.errno()), -(why as i32 as f64)),
            "entry {i}"
        );
    }
    // One valid entry went in: one enter, no more.
    assert_eq!(ring.enters() - submits_before, 1);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn batch_larger_than_ring_completes_in_order_of_rows() {
    let Some((mut ring, fixed)) = ring_with_buffers(4, 64) else {
        return;
    };
    let (path, file, data) = data_file(64 * SIZE);
    let rows: Vec<f64> = (0..64)
        .flat_map(|i| {
            entry(
                BATCH_READ_FIXED,
                file.as_raw_fd(),
                i as f64,
                SIZE as f64,
                ((63 - i) * SIZE) as f64,
                i as f64,
            )
        })
        .collect();
    ring.push_batch(&rows, 0);
    let done = wait_batch(&mut ring);
    assert_eq!(done.result, 64);
    for i in 0..64 {
        assert_eq!(done.batch.as_ref().unwrap().get(i).0, SIZE as i64);
        let p = (63 - i) * SIZE;
        assert_eq!(buffer_bytes(&fixed, i, SIZE), &data[p..p + SIZE], "row {i}");
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn run_batch_writes_then_reads_synchronously() {
    let Some((mut ring, fixed)) = ring_with_buffers(8, 8) else {
        return;
    };
    let (path, file, _) = data_file(8 * SIZE);
    let fd = file.as_raw_fd();
    for i in 0..8 {
        // SAFETY: no operation uses the buffers yet.
        unsafe {
            std::ptr::write_bytes(fixed.memory().as_ptr().add(i * SIZE), 0xA0 + i as u8, SIZE)
        };
    }
    let writes: Vec<f64> = (0..8)
        .flat_map(|i| {
            entry(
                BATCH_WRITE_FIXED,
                fd,
                i as f64,
                SIZE as f64,
                (i * SIZE) as f64,
                i as f64,
            )
        })
        .collect();
    let mut results = vec![0.0; 8 * RESULT_FIELDS];
    ring.run_batch(&writes, &mut results);
    assert!((0..8).all(|i| results[i * RESULT_FIELDS + 1] == SIZE as f64));
    let on_disk = std::fs::read(&path).unwrap();
    for i in 0..8 {
        assert!(on_disk[i * SIZE..(i + 1) * SIZE]
            .iter()
            .all(|&b| b == 0xA0 + i as u8));
    }
    assert_eq!(ring.pending(), 0);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn run_batch_keeps_other_completions_for_reap() {
    let Some((mut ring, _fixed)) = ring_with_buffers(8, 1) else {
        return;
    };
    ring.push(ring_core::Op::Nop {}, 42);
    ring.flush().unwrap();
    let nops: Vec<f64> = (0..3)
        .flat_map(|i| entry(BATCH_NOP, 0, 0.0, 0.0, 0.0, i as f64))
        .collect();
    let mut results = vec![0.0; 3 * RESULT_FIELDS];
    ring.run_batch(&nops, &mut results);
    let mut out = Vec::new();
    ring.reap(|c| out.push(c.user));
    assert_eq!(out, [42]);
}

#[test]
fn cancelled_batch_completes_once_with_ecanceled() {
    let Some((mut ring, _fixed)) = ring_with_buffers(8, 2) else {
        return;
    };
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let rows: Vec<f64> = (0..2)
        .flat_map(|i| entry(BATCH_READ_FIXED, fds[0], i as f64, 16.0, -1.0, i as f64))
        .collect();
    let id = ring.push_batch(&rows, 5);
    ring.flush().unwrap();
    assert!(ring.cancel(id));
    let done = wait_batch(&mut ring);
    assert_eq!((done.id, done.result), (id, -libc::ECANCELED));
    let results = done.batch.unwrap();
    assert!((0..2).all(|i| results.get(i).0 == -i64::from(libc::ECANCELED)));
    assert_eq!(ring.pending(), 0);
    // SAFETY: closing the descriptors we made; nothing uses them any more.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
}

#[test]
fn registering_buffers_twice_is_ebusy() {
    let Some((mut ring, fixed)) = ring_with_buffers(4, 1) else {
        return;
    };
    let err = ring.register_buffers(fixed).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBUSY));
}

#[test]
fn entries_need_registered_buffers() {
    if probe().is_err() {
        return;
    }
    let mut ring: Ring<u32> = Ring::new(RingOptions {
        entries: 4,
        ..RingOptions::default()
    })
    .unwrap();
    ring.push_batch(&entry(BATCH_READ_FIXED, 0, 0.0, 16.0, 0.0, 0.0), 0);
    let done = wait_batch(&mut ring);
    let why = EntryError::Buffer;
    assert_eq!(
        done.batch.unwrap().get(0),
        (-i64::from(why.errno()), -(why as i32 as f64))
    );
    let _ = ENTRY_FIELDS;
}

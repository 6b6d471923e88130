//! The library memory (`AlignedBuf`s shown to JS as alignedBuffers) that a binding names
//! by index instead of passing an object per request: one lookup by number replaces a
//! class-instance argument, which costs a JS-engine binding more than the rest of the
//! request's user-space work.

use std::sync::{Arc, Weak};

use iobuf::{AlignedBuf, IoBuf};

/// Memories by index. Weak: the table keeps no memory alive (each request holds its own
/// `Arc` through its `IoBuf`). A slot whose memory died is free again: the binding must
/// forget an index no later than it drops its own strong reference to that memory, so
/// nothing can name the slot any more when it is reused.
#[derive(Debug, Default)]
pub struct MemoryTable {
    slots: Vec<Weak<AlignedBuf>>,
    /// Where the search for a dead slot to reuse goes on from.
    cursor: usize,
}

impl MemoryTable {
    /// How many slots a registration looks at for a dead one before it appends: the
    /// table stays near the number of live memories at a bounded cost per call.
    const PROBES: usize = 8;

    /// The index that names `mem` from now on (a dead slot's, or a new one).
    pub fn register(&mut self, mem: &Arc<AlignedBuf>) -> u32 {
        let len = self.slots.len();
        for _ in 0..Self::PROBES.min(len) {
            let at = self.cursor % len;
            self.cursor = at + 1;
            if self.slots[at].strong_count() == 0 {
                self.slots[at] = Arc::downgrade(mem);
                return at as u32;
            }
        }
        self.slots.push(Arc::downgrade(mem));
        (self.slots.len() - 1) as u32
    }

    /// The window `offset..offset + length` of memory `index` (numbers as JS passes
    /// them), or None when no live memory has that index or the window does not fit.
    pub fn window(&self, index: f64, offset: f64, length: f64) -> Option<IoBuf> {
        if !(index >= 0.0 && offset >= 0.0 && length >= 0.0) {
            return None;
        }
        let mem = self.slots.get(index as usize)?.upgrade()?;
        IoBuf::shared(mem, offset as usize, length as usize)
    }

    /// Slots held, live or dead.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(len: usize) -> Arc<AlignedBuf> {
        Arc::new(AlignedBuf::zeroed(len, 4096).unwrap())
    }

    #[test]
    fn window_names_the_registered_memory() {
        let mut table = MemoryTable::default();
        let a = memory(8192);
        let b = memory(4096);
        let (ia, ib) = (table.register(&a), table.register(&b));
        assert_ne!(ia, ib);
        let w = table.window(f64::from(ib), 1024.0, 512.0).unwrap();
        assert_eq!(w.ptr(), b.as_ptr().wrapping_add(1024));
        assert_eq!(w.len(), 512);
    }

    #[test]
    fn window_outside_the_memory_is_refused() {
        let mut table = MemoryTable::default();
        let a = memory(4096);
        let i = f64::from(table.register(&a));
        assert!(table.window(i, 4096.0, 1.0).is_none());
        assert!(table.window(i, 0.0, 4097.0).is_none());
        assert!(table.window(i, -1.0, 1.0).is_none());
        assert!(table.window(i + 1.0, 0.0, 1.0).is_none());
        assert!(table.window(f64::NAN, 0.0, 1.0).is_none());
        assert!(table.window(i, 0.0, 4096.0).is_some());
    }

    #[test]
    fn table_keeps_no_memory_alive() {
        let mut table = MemoryTable::default();
        let a = memory(4096);
        let i = f64::from(table.register(&a));
        let weak = Arc::downgrade(&a);
        drop(a);
        assert!(weak.upgrade().is_none());
        assert!(table.window(i, 0.0, 1.0).is_none());
    }

    #[test]
    fn window_keeps_its_memory_alive() {
        let mut table = MemoryTable::default();
        let a = memory(4096);
        let i = f64::from(table.register(&a));
        let w = table.window(i, 0.0, 4096.0).unwrap();
        let weak = Arc::downgrade(&a);
        drop(a);
        assert!(
            weak.upgrade().is_some(),
            "the request's IoBuf holds the memory"
        );
        drop(w);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn dead_slots_are_reused() {
        let mut table = MemoryTable::default();
        let live: Vec<_> = (0..4).map(|_| memory(4096)).collect();
        for m in &live {
            table.register(m);
        }
        for _ in 0..1000 {
            let m = memory(4096);
            table.register(&m);
        }
        // 1000 memories that died one after another took the same few slots.
        assert!(
            table.len() <= live.len() + 2,
            "table grew to {}",
            table.len()
        );
        for (i, m) in live.iter().enumerate() {
            assert_eq!(table.window(i as f64, 0.0, 1.0).unwrap().ptr(), m.as_ptr());
        }
    }
}

//! The in-flight table both backends share: the one place the ownership rule lives.
//!
//! An operation's payload (its SQE's or iocb's memory: buffers, iovecs, paths, ...)
//! enters the table when the operation is accepted and leaves it only through
//! `InFlight::reaped`, once its completion was reaped or it settled without the kernel.
//! Cancel, garbage collection, teardown and failed submissions never take it out, and
//! dropping a table while the kernel still holds one of its operations leaks every
//! payload rather than freeing memory the kernel may write.
//!
//! What leaves the table is wrapped in `Reaped`, which only this module makes: reading
//! what the kernel wrote into a payload (`Reaped::outputs`) needs no `unsafe` at the
//! call site, because holding a `Reaped` is the proof that the kernel is done with it.

use std::collections::VecDeque;

use crate::batch::{BatchResults, Batches, EntryError, FinishedBatch};
use crate::IdMap;

/// Who an operation in the table belongs to.
#[derive(Debug)]
pub enum Owner<T> {
    /// A caller's operation, delivered on its own.
    Caller(T),
    /// One entry of batch `batch`, at row `index`: recorded in the batch's results.
    Member { batch: u64, index: u32 },
    /// The backend's own operation (a cancel, a link timer): consumed, never delivered.
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// In the backlog: the kernel has not seen it.
    Queued,
    /// Handed to the kernel (in the submission queue or submitted): only its
    /// completion frees it.
    InKernel,
    /// Settled without the kernel (cancelled while queued, refused, or stranded by a
    /// failed submission); reported at the next reap.
    SettledLocally,
}

/// One operation in the table.
#[derive(Debug)]
pub struct Slot<P, T> {
    /// The memory the kernel may touch, and whatever else the backend keeps per op.
    pub payload: P,
    owner: Owner<T>,
    state: SlotState,
    /// A cancel was asked for (the op may still complete normally).
    pub cancel_requested: bool,
    /// In the kernel as a long-lived op (`to_kernel_long_lived`): not counted by
    /// `capped_in_kernel`.
    long_lived: bool,
}

impl<P, T> Slot<P, T> {
    pub fn state(&self) -> SlotState {
        self.state
    }

    pub fn owner(&self) -> &Owner<T> {
        &self.owner
    }

    pub fn is_internal(&self) -> bool {
        matches!(self.owner, Owner::Internal)
    }

    /// Whether it is an entry of batch `batch`.
    pub fn is_member_of(&self, batch: u64) -> bool {
        matches!(self.owner, Owner::Member { batch: b, .. } if b == batch)
    }
}

/// Reading what the kernel wrote into an operation's memory.
pub trait Outputs {
    /// The bytes to copy back to the caller, as (target index, bytes), given the
    /// completion's result.
    ///
    /// # Safety
    /// The kernel must be done with the memory: the operation's completion was reaped.
    /// Call it through `Reaped::outputs`, which guarantees that.
    unsafe fn outputs(&self, result: i64) -> Vec<(usize, &[u8])>;
}

/// A payload whose operation is over: the kernel will never touch its memory again.
/// Only the in-flight table makes one (`InFlight::reaped`).
#[derive(Debug)]
pub struct Reaped<P>(P);

impl<P> Reaped<P> {
    pub fn get(&self) -> &P {
        &self.0
    }

    /// A part of the payload, still known to be reaped.
    pub fn map<Q>(self, part: impl FnOnce(P) -> Q) -> Reaped<Q> {
        Reaped(part(self.0))
    }
}

impl<P: Outputs> Reaped<P> {
    pub fn outputs(&self, result: i64) -> Vec<(usize, &[u8])> {
        // SAFETY: a Reaped is made only by `InFlight::reaped`, after the operation's
        // completion was reaped (or it settled without reaching the kernel).
        unsafe { self.0.outputs(result) }
    }
}

/// An operation that left the table.
#[derive(Debug)]
pub struct Finished<P, T> {
    pub id: u64,
    pub payload: Reaped<P>,
    pub owner: Owner<T>,
    pub cancel_requested: bool,
}

/// The operations a backend has accepted and not yet handed back, keyed by the id the
/// kernel echoes (`user_data`, `aio_data`), with the backlog of those not yet given to
/// the kernel and the batches they belong to.
#[derive(Debug)]
pub struct InFlight<P, T> {
    slots: IdMap<Slot<P, T>>,
    backlog: VecDeque<u64>,
    local: Vec<(u64, i64)>,
    next_id: u64,
    in_kernel: usize,
    /// Of `in_kernel`, the long-lived ones.
    long_lived: usize,
    /// Caller operations and asynchronous batches accepted and not yet delivered.
    user_pending: usize,
    batches: Batches<T>,
}

impl<P, T> Default for InFlight<P, T> {
    fn default() -> Self {
        Self {
            slots: IdMap::default(),
            backlog: VecDeque::new(),
            local: Vec::new(),
            next_id: 1,
            in_kernel: 0,
            long_lived: 0,
            user_pending: 0,
            batches: Batches::default(),
        }
    }
}

impl<P, T> InFlight<P, T> {
    /// Accepts an operation into the backlog (at its front when `urgent`).
    pub fn insert(&mut self, payload: P, owner: Owner<T>, urgent: bool) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if matches!(owner, Owner::Caller(_)) {
            self.user_pending += 1;
        }
        self.slots.insert(
            id,
            Slot {
                payload,
                owner,
                state: SlotState::Queued,
                cancel_requested: false,
                long_lived: false,
            },
        );
        if urgent {
            self.backlog.push_front(id);
        } else {
            self.backlog.push_back(id);
        }
        id
    }

    pub fn slot(&self, id: u64) -> Option<&Slot<P, T>> {
        self.slots.get(&id)
    }

    pub fn slot_mut(&mut self, id: u64) -> Option<&mut Slot<P, T>> {
        self.slots.get_mut(&id)
    }

    pub fn contains(&self, id: u64) -> bool {
        self.slots.contains_key(&id)
    }

    /// The ids not yet given to the kernel, oldest first.
    pub fn backlog(&self) -> &VecDeque<u64> {
        &self.backlog
    }

    /// Reorders or removes backlog ids (each removed one must then be settled).
    pub fn backlog_mut(&mut self) -> &mut VecDeque<u64> {
        &mut self.backlog
    }

    /// Takes the oldest queued id off the backlog.
    pub fn pop_queued(&mut self) -> Option<u64> {
        self.backlog.pop_front()
    }

    /// Takes `id` off the backlog.
    pub fn unqueue(&mut self, id: u64) {
        self.backlog.retain(|&queued| queued != id);
    }

    /// Op `id` (off the backlog) was handed to the kernel: from now on only its
    /// completion frees it.
    pub fn to_kernel(&mut self, id: u64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.state = SlotState::InKernel;
            self.in_kernel += 1;
        }
    }

    /// Op `id` went to the kernel as one that may stay there indefinitely (a
    /// multishot op): it counts in `in_kernel` but not in `capped_in_kernel`, so ops
    /// that never finish on their own cannot use up a cap on ops in the kernel.
    pub fn to_kernel_long_lived(&mut self, id: u64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.state = SlotState::InKernel;
            slot.long_lived = true;
            self.in_kernel += 1;
            self.long_lived += 1;
        }
    }

    /// Ops the kernel holds, less the long-lived ones.
    pub fn capped_in_kernel(&self) -> usize {
        self.in_kernel - self.long_lived
    }

    /// Op `id` left the kernel without a completion (the kernel refused its
    /// submission and consumed nothing): it is the backend's to settle again.
    pub fn back_from_kernel(&mut self, id: u64) {
        if let Some(slot) = self.slots.get_mut(&id) {
            if slot.state == SlotState::InKernel {
                slot.state = SlotState::Queued;
                self.in_kernel -= 1;
                if std::mem::take(&mut slot.long_lived) {
                    self.long_lived -= 1;
                }
            }
        }
    }

    /// Operations the kernel holds.
    pub fn in_kernel(&self) -> usize {
        self.in_kernel
    }

    /// Whether some operation is in the kernel.
    pub fn any_in_kernel(&self, mut also: impl FnMut(u64, &Slot<P, T>) -> bool) -> bool {
        self.slots
            .iter()
            .any(|(&id, s)| s.state == SlotState::InKernel && also(id, s))
    }

    /// Settles op `id` (not in the kernel, off the backlog) with `result`, reported at
    /// the next reap. Returns false for an unknown id.
    pub fn settle_locally(&mut self, id: u64, result: i64) -> bool {
        let Some(slot) = self.slots.get_mut(&id) else {
            return false;
        };
        debug_assert_ne!(slot.state, SlotState::InKernel);
        slot.state = SlotState::SettledLocally;
        self.local.push((id, result));
        true
    }

    pub fn has_local(&self) -> bool {
        !self.local.is_empty()
    }

    /// The locally settled (id, result) pairs, in settlement order.
    pub fn take_local(&mut self) -> Vec<(u64, i64)> {
        std::mem::take(&mut self.local)
    }

    /// Op `id` is over: its completion was reaped (`from_kernel`) or it settled
    /// locally. Takes it out of the table; `None` for an unknown id, or for a
    /// completion of an op the table has not handed to the kernel.
    pub fn reaped(&mut self, id: u64, from_kernel: bool) -> Option<Finished<P, T>> {
        let state = self.slots.get(&id)?.state;
        match (from_kernel, state) {
            (true, SlotState::InKernel) => {
                self.in_kernel -= 1;
                if self.slots.get(&id).is_some_and(|s| s.long_lived) {
                    self.long_lived -= 1;
                }
            }
            (false, SlotState::SettledLocally) => {}
            _ => return None,
        }
        let slot = self.slots.remove(&id)?;
        Some(Finished {
            id,
            payload: Reaped(slot.payload),
            owner: slot.owner,
            cancel_requested: slot.cancel_requested,
        })
    }

    /// Hands a finished op to its owner: a caller's to `deliver` (id, payload, user),
    /// a batch member's into its batch's results. Returns whether `deliver` ran.
    pub fn settle(
        &mut self,
        finished: Finished<P, T>,
        result: i64,
        extra: f64,
        deliver: impl FnOnce(u64, Reaped<P>, T),
    ) -> bool {
        match finished.owner {
            Owner::Caller(user) => {
                self.user_pending -= 1;
                deliver(finished.id, finished.payload, user);
                true
            }
            Owner::Member { batch, index } => {
                self.batches.record(batch, index, result, extra);
                false
            }
            Owner::Internal => false,
        }
    }

    /// Hands op `id`'s caller part back while the op stays in the table: its slot (and
    /// so its memory) becomes internal, freed when its last completion is reaped. For
    /// an op whose caller has its result before the kernel is done with its memory (a
    /// zero-copy send awaiting its notification). `None` if it is not a caller's op.
    pub fn detach_caller(&mut self, id: u64) -> Option<T> {
        let slot = self.slots.get_mut(&id)?;
        if !matches!(slot.owner, Owner::Caller(_)) {
            return None;
        }
        let Owner::Caller(user) = std::mem::replace(&mut slot.owner, Owner::Internal) else {
            return None;
        };
        self.user_pending -= 1;
        Some(user)
    }

    /// Whether `id` is a batch (not an op).
    pub fn is_batch(&self, id: u64) -> bool {
        self.batches.contains(id)
    }

    /// The ops a cancel of `id` reaches: a batch's members (marking the batch
    /// cancelled), a caller op itself, or none (unknown ids, internal ops).
    pub fn cancel_targets(&mut self, id: u64) -> Option<Vec<u64>> {
        if self.batches.contains(id) {
            return self.batches.cancel(id);
        }
        matches!(
            self.slots.get(&id).map(|s| &s.owner),
            Some(Owner::Caller(_))
        )
        .then(|| vec![id])
    }

    /// Marks every batch cancelled and returns every op that is not internal.
    pub fn cancel_all_targets(&mut self) -> Vec<u64> {
        self.batches.cancel_all();
        self.slots
            .iter()
            .filter(|(_, s)| !s.is_internal())
            .map(|(&id, _)| id)
            .collect()
    }

    /// Starts batch rows `entries` (see `batch`): `accept(table, row, index, batch)`
    /// turns each row into a member op (inserted with `Owner::Member`) or refuses it.
    /// `user` is `None` for a synchronous run. Returns the batch id and whether it is
    /// already complete (every entry refused).
    pub fn start_batch(
        &mut self,
        entries: &[f64],
        user: Option<T>,
        mut accept: impl FnMut(&mut Self, &[f64], u32, u64) -> Result<u64, EntryError>,
    ) -> (u64, bool) {
        if user.is_some() {
            self.user_pending += 1;
        }
        let batch = self.next_id;
        self.next_id += 1;
        let mut batches = std::mem::take(&mut self.batches);
        let done = batches.start(batch, entries, user, |row, index| {
            accept(self, row, index, batch)
        });
        self.batches = batches;
        (batch, done)
    }

    /// Hands every finished asynchronous batch to `deliver`; returns how many.
    pub fn deliver_batches(&mut self, deliver: impl FnMut(FinishedBatch<T>)) -> usize {
        let n = self.batches.deliver_finished(deliver);
        self.user_pending -= n;
        n
    }

    /// The results of synchronous run `batch` once complete.
    pub fn take_run(&mut self, batch: u64) -> Option<BatchResults> {
        self.batches.take_run(batch)
    }

    pub fn has_finished_batches(&self) -> bool {
        self.batches.has_finished()
    }

    /// Caller operations and batches accepted and not yet delivered.
    pub fn pending(&self) -> usize {
        self.user_pending
    }

    /// Every op in the table, internal ones included.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Nothing outstanding: no op and no batch.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.batches.is_empty()
    }
}

impl<P, T> Drop for InFlight<P, T> {
    fn drop(&mut self) {
        if self.in_kernel > 0 {
            // The kernel may still write into these payloads (teardown gave up waiting
            // for it): leak them instead of freeing its memory.
            std::mem::forget(std::mem::take(&mut self.slots));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detached_op_keeps_its_slot_and_settles_for_no_one() {
        let mut table: InFlight<u8, &str> = InFlight::default();
        let id = table.insert(1, Owner::Caller("caller"), false);
        table.pop_queued();
        table.to_kernel(id);
        assert_eq!(table.detach_caller(id), Some("caller"));
        assert_eq!(table.pending(), 0);
        assert_eq!(table.detach_caller(id), None, "internal now");
        let finished = table.reaped(id, true).expect("still in the table");
        assert!(!table.settle(finished, 0, 0.0, |_, _, _| panic!("delivered")));
        assert!(table.is_empty());
    }

    #[test]
    fn a_table_dropped_with_an_op_in_the_kernel_leaks_its_payloads() {
        use std::sync::Arc;
        let memory = Arc::new(0u8);
        let mut table: InFlight<Arc<u8>, ()> = InFlight::default();
        let id = table.insert(Arc::clone(&memory), Owner::Caller(()), false);
        table.pop_queued();
        table.to_kernel(id);
        drop(table);
        assert_eq!(
            Arc::strong_count(&memory),
            2,
            "the payload was leaked, not freed"
        );
    }

    #[test]
    fn only_a_reaped_op_leaves_the_table() {
        let mut table: InFlight<u32, ()> = InFlight::default();
        let id = table.insert(7, Owner::Caller(()), false);
        assert!(table.reaped(id, true).is_none(), "not in the kernel yet");
        assert!(table.reaped(id, false).is_none(), "not settled either");
        table.pop_queued();
        table.to_kernel(id);
        assert!(
            table.reaped(id, false).is_none(),
            "in the kernel: only its completion frees it"
        );
        let finished = table.reaped(id, true).expect("its completion");
        assert_eq!(*finished.payload.get(), 7);
        assert_eq!(table.in_kernel(), 0);
        assert!(table.settle(finished, 0, 0.0, |_, _, _| {}));
        assert_eq!(table.pending(), 0);
    }

    #[test]
    fn long_lived_ops_are_not_counted_against_the_cap() {
        let mut table: InFlight<u32, ()> = InFlight::default();
        let multishot = table.insert(1, Owner::Caller(()), false);
        let read = table.insert(2, Owner::Caller(()), false);
        table.pop_queued();
        table.to_kernel_long_lived(multishot);
        table.pop_queued();
        table.to_kernel(read);
        assert_eq!(table.in_kernel(), 2);
        assert_eq!(table.capped_in_kernel(), 1);
        table.back_from_kernel(multishot);
        assert_eq!((table.in_kernel(), table.capped_in_kernel()), (1, 1));
        table.to_kernel_long_lived(multishot);
        assert!(table.reaped(multishot, true).is_some());
        assert_eq!((table.in_kernel(), table.capped_in_kernel()), (1, 1));
        assert!(table.reaped(read, true).is_some());
        assert_eq!((table.in_kernel(), table.capped_in_kernel()), (0, 0));
    }
}

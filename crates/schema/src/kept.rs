//! Data kept in memory between requests until a commit touches it.
//!
//! What is kept belongs to an epoch, which every commit that touches its
//! topic raises as the data watch reports the commit: in this process
//! before the committing request returns, for another process within the
//! watch's bound. A read that started in an older epoch still answers its
//! own request but is not kept, so a commit that overtakes a read never
//! leaves its older data behind.

use std::sync::{Mutex, MutexGuard};

use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::watch::{Commit, CommitObserver};

/// What is kept, and the epoch it was read in.
pub struct Epoch<T> {
    pub number: u64,
    pub kept: T,
}

/// A `T` kept until a commit touches `topic`, which empties it.
pub struct UntilCommit<T> {
    topic: Topic,
    state: Mutex<Epoch<T>>,
}

impl<T: Default> UntilCommit<T> {
    /// Nothing kept yet, until commits that touch `topic`.
    pub fn new(topic: Topic) -> Self {
        Self {
            topic,
            state: Mutex::new(Epoch {
                number: 0,
                kept: T::default(),
            }),
        }
    }

    /// The kept value and its epoch. A panic while it was held leaves
    /// nothing half-written that a reader could trust less than a fresh
    /// read, so a poisoned lock is taken as it is.
    pub fn lock(&self) -> MutexGuard<'_, Epoch<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<T: Default + Send> CommitObserver for UntilCommit<T> {
    fn committed(&self, commit: &Commit) {
        if commit.touched.meets(&Footprint::of(&[self.topic])) {
            let mut state = self.lock();
            state.number += 1;
            state.kept = T::default();
        }
    }
}

/// A commit that touched `topics`, as the data watch reports it.
#[cfg(test)]
pub fn commit_touching(topics: &[Topic]) -> Commit {
    Commit {
        version: 1,
        touched: Footprint::of(topics),
    }
}

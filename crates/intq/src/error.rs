//! Error types: each says what went wrong and gives back what the caller handed in.

use core::fmt;

/// [`Producer::try_push`](crate::Producer::try_push) found no free slot (the `EAGAIN` of this
/// world). The value is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError<T> {
    /// All `N` slots hold unread items.
    Full(T),
}

impl<T> PushError<T> {
    /// Returns the value that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(value) => value,
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue full: the consumer has not read any of the N queued items")
    }
}

impl<T: fmt::Debug> core::error::Error for PushError<T> {}

/// [`Producer::push_or_count`](crate::Producer::push_or_count) found the queue full: the item
/// was rejected and counted as an overrun. The value is handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrun<T> {
    /// The rejected item.
    pub value: T,
    /// The producer's running overrun total, this rejection included (wraps at `usize::MAX`).
    pub total: usize,
}

impl<T> fmt::Display for Overrun<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "queue overrun: item dropped ({} overruns so far)",
            self.total
        )
    }
}

impl<T: fmt::Debug> core::error::Error for Overrun<T> {}

/// [`Consumer::try_pop`](crate::Consumer::try_pop) or
/// [`Consumer::peek`](crate::Consumer::peek) found no item (the `EAGAIN` of this world).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopError {
    /// The producer has not published any unread item.
    Empty,
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue empty: no item published by the producer")
    }
}

impl core::error::Error for PopError {}

/// [`Queue::split_static`](crate::Queue::split_static) was called a second time: the
/// producer and consumer of this queue exist already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadySplit;

impl fmt::Display for AlreadySplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue already split: its producer and consumer were handed out before")
    }
}

impl core::error::Error for AlreadySplit {}

/// A chunk was committed with more items than it holds. Nothing was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitError {
    /// The number of items the caller asked to commit.
    pub requested: usize,
    /// The number of items the chunk holds.
    pub chunk_len: usize,
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot commit {} items: the chunk holds only {}",
            self.requested, self.chunk_len
        )
    }
}

impl core::error::Error for CommitError {}

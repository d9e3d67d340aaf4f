//! How a long job (an import, generating bench data, a sync) tells whoever
//! runs it how far it has got. The job only reports; what to show, if
//! anything, is the caller's business (the CLI draws a progress bar).

/// Receives a long job's progress.
pub trait Progress: Send + Sync {
    /// A stage begins: what it does, and how many units (records, rows,
    /// changes) it has, when that is known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `done` units of the current stage are done, in all.
    fn advanced(&self, done: u64);
}

/// Progress that nobody watches.
impl Progress for () {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advanced(&self, _: u64) {}
}

//! The latest commits a process has seen, to judge an answer computed while
//! some of them landed.

use std::collections::VecDeque;

use concord_persistence::footprint::Footprint;
use concord_persistence::watch::Commit;

/// How many recent commits are remembered.
const REMEMBERED: usize = 1024;

/// The last commit seen and the ones before it, oldest first.
#[derive(Debug, Default)]
pub(crate) struct RecentCommits {
    seen: i64,
    commits: VecDeque<Commit>,
}

impl RecentCommits {
    /// Nothing remembered yet, every commit up to `version` seen.
    pub fn starting_at(version: i64) -> Self {
        Self {
            seen: version,
            commits: VecDeque::new(),
        }
    }

    /// The last commit seen.
    pub fn seen(&self) -> i64 {
        self.seen
    }

    /// Remembers `commit`; false when it was already seen.
    pub fn record(&mut self, commit: &Commit) -> bool {
        if commit.version <= self.seen {
            return false;
        }
        self.seen = commit.version;
        self.commits.push_back(commit.clone());
        if self.commits.len() > REMEMBERED {
            self.commits.pop_front();
        }
        true
    }

    /// Whether an answer that read `reads`, computed from a request that
    /// started at version `since`, may be stale: a commit after `since`
    /// touched what it read, or the commits after `since` are not all known.
    pub fn outdated(&self, since: i64, reads: &Footprint) -> bool {
        if since >= self.seen {
            return false;
        }
        match self.commits.front() {
            Some(oldest) if oldest.version <= since + 1 => self
                .commits
                .iter()
                .filter(|commit| commit.version > since)
                .any(|commit| commit.touched.meets(reads)),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use concord_persistence::footprint::Topic;

    use super::*;

    fn commit(version: i64, touched: Footprint) -> Commit {
        Commit { version, touched }
    }

    #[test]
    fn only_commits_after_the_start_that_meet_the_reads_make_an_answer_stale() {
        let mut recent = RecentCommits::starting_at(10);
        let js = Footprint::default().in_regions(Topic::Guide, ["320000"]);
        let gd = Footprint::default().in_regions(Topic::Guide, ["440000"]);
        assert!(recent.record(&commit(11, js.clone())));
        assert!(!recent.record(&commit(11, js.clone())), "seen already");
        assert!(recent.outdated(10, &js));
        assert!(!recent.outdated(10, &gd));
        assert!(!recent.outdated(11, &js), "started after it");
        assert!(recent.outdated(3, &gd), "commits before 11 are unknown");
    }

    #[test]
    fn an_answer_older_than_the_remembered_commits_counts_as_stale() {
        let mut recent = RecentCommits::starting_at(0);
        for version in 1..=(REMEMBERED as i64 + 5) {
            recent.record(&commit(version, Footprint::of(&[Topic::Audit])));
        }
        let reads = Footprint::of(&[Topic::Guide]);
        assert!(recent.outdated(2, &reads));
        assert!(!recent.outdated(100, &reads));
    }
}

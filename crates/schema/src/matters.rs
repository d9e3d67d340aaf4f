//! The catalogue's service matters kept in memory by code, between
//! requests.
//!
//! Guide pages name a matter on every row, and dashboards ask for its name
//! and category: a zone page of 80 guides reads about 20 matters, every
//! time, for a catalogue that changes only when a matter is saved, imported
//! or synced. Each matter read is kept, so a page reads only the matters no
//! page has read since the catalogue last changed (none, once the zone's
//! pages have been seen).
//!
//! A commit that touches [`Topic::Catalogue`] forgets every kept matter as
//! the data watch reports it: before the committing request returns in this
//! process, and within the watch's bound for another process, the freshness
//! the response cache and the kept reference tables promise. A read that a
//! commit overtakes is not kept. Only matters that exist are kept, so the
//! memory held is bounded by the catalogue, whatever codes callers ask for.

use std::collections::HashMap;
use std::sync::Arc;

use concord_domain::catalogue::ServiceMatter;
use concord_persistence::footprint::Topic;
use concord_persistence::queries;
use concord_persistence::watch::{Commit, CommitObserver};
use concord_persistence::{DatabaseConnection, StoreError};

use crate::kept::UntilCommit;

/// The matters read since the catalogue last changed, by code, shared by
/// every request.
pub struct KeptMatters {
    state: UntilCommit<HashMap<String, Arc<ServiceMatter>>>,
}

impl Default for KeptMatters {
    fn default() -> Self {
        Self {
            state: UntilCommit::new(Topic::Catalogue),
        }
    }
}

impl KeptMatters {
    /// The matters of `codes` that exist, in no particular order: the kept
    /// ones, and the others read in one statement and kept unless a commit
    /// to the catalogue arrived while it ran.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        codes: &[String],
    ) -> Result<Vec<Arc<ServiceMatter>>, StoreError> {
        let Looked {
            mut found,
            unread,
            epoch,
        } = self.look_up(codes);
        if unread.is_empty() {
            return Ok(found);
        }
        let read: Vec<Arc<ServiceMatter>> = queries::matters_by_codes(db, &unread)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        self.keep(epoch, &read);
        found.extend(read);
        Ok(found)
    }

    /// The kept matters of `codes`, the codes not kept, and the epoch a
    /// read of those starting now belongs to.
    fn look_up(&self, codes: &[String]) -> Looked {
        let state = self.state.lock();
        let mut found = Vec::with_capacity(codes.len());
        let mut unread = Vec::new();
        for code in codes {
            match state.kept.get(code) {
                Some(matter) => found.push(Arc::clone(matter)),
                None => unread.push(code.clone()),
            }
        }
        Looked {
            found,
            unread,
            epoch: state.number,
        }
    }

    /// Keeps matters read from `epoch` on, unless a commit has come since.
    fn keep(&self, epoch: u64, read: &[Arc<ServiceMatter>]) {
        let mut state = self.state.lock();
        if state.number == epoch {
            for matter in read {
                state
                    .kept
                    .insert(matter.code.to_string(), Arc::clone(matter));
            }
        }
    }
}

/// What [`KeptMatters::look_up`] found.
struct Looked {
    found: Vec<Arc<ServiceMatter>>,
    unread: Vec<String>,
    epoch: u64,
}

impl CommitObserver for KeptMatters {
    fn committed(&self, commit: &Commit) {
        self.state.committed(commit);
    }
}

#[cfg(test)]
mod tests {
    use concord_domain::{CategoryCode, MatterCode, Origin, Provenance};
    use concord_persistence::{ConnectOptions, connect, migrate, seed};

    use super::*;
    use crate::kept::commit_touching;

    fn codes(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn sorted(matters: &[Arc<ServiceMatter>]) -> Vec<&str> {
        let mut codes: Vec<&str> = matters.iter().map(|m| m.code.as_str()).collect();
        codes.sort_unstable();
        codes
    }

    #[tokio::test]
    async fn a_kept_matter_lasts_until_a_commit_touches_the_catalogue() {
        let (db, statements) = connect(&ConnectOptions::new("sqlite::memory:"))
            .await
            .unwrap();
        migrate(&db).await.unwrap();
        seed::seed(&db).await.unwrap();
        let kept = KeptMatters::default();
        let asked = codes(&[
            "SI-PENSION-TRANSFER",
            "NO-SUCH-MATTER",
            "SI-CARD-APPLICATION",
        ]);

        let first = kept.get(&db, &asked).await.unwrap();
        assert_eq!(
            sorted(&first),
            ["SI-CARD-APPLICATION", "SI-PENSION-TRANSFER"]
        );

        // Kept matters cost nothing; an unknown code is asked for again,
        // and a new one is read alone.
        let read = statements.get();
        let again = kept.get(&db, &asked[..1]).await.unwrap();
        assert!(Arc::ptr_eq(
            &again[0],
            &first_of(&first, "SI-PENSION-TRANSFER")
        ));
        assert_eq!(statements.get(), read, "a kept matter costs no statement");
        kept.get(&db, &asked).await.unwrap();
        assert_eq!(statements.get(), read + 1, "the unknown code is read again");

        kept.committed(&commit_touching(&[Topic::Guide, Topic::Reference]));
        let still = kept.get(&db, &asked[..1]).await.unwrap();
        assert!(Arc::ptr_eq(&still[0], &again[0]));

        kept.committed(&commit_touching(&[Topic::Catalogue]));
        let before = statements.get();
        let reread = kept.get(&db, &asked[..1]).await.unwrap();
        assert!(!Arc::ptr_eq(&reread[0], &again[0]));
        assert_eq!(statements.get(), before + 1);
    }

    fn first_of(matters: &[Arc<ServiceMatter>], code: &str) -> Arc<ServiceMatter> {
        Arc::clone(matters.iter().find(|m| m.code.as_str() == code).unwrap())
    }

    #[test]
    fn a_read_that_a_commit_overtakes_is_not_kept() {
        let kept = KeptMatters::default();
        let asked = codes(&["SI-PENSION-TRANSFER"]);
        let read = [Arc::new(matter(&asked[0]))];

        let epoch = kept.look_up(&asked).epoch;
        kept.committed(&commit_touching(&[Topic::Catalogue]));
        kept.keep(epoch, &read);
        assert_eq!(
            kept.look_up(&asked).unread,
            asked,
            "the overtaken read was kept"
        );

        let epoch = kept.look_up(&asked).epoch;
        kept.committed(&commit_touching(&[Topic::Guide]));
        kept.keep(epoch, &read);
        let looked = kept.look_up(&asked);
        assert!(looked.unread.is_empty());
        assert!(Arc::ptr_eq(&looked.found[0], &read[0]));
    }

    fn matter(code: &str) -> ServiceMatter {
        let now = chrono::Utc::now();
        ServiceMatter {
            code: MatterCode::try_from(code).unwrap(),
            name_zh: "养老保险关系转移".to_owned(),
            name_en: String::new(),
            category: CategoryCode::try_from("SOCIAL_INSURANCE").unwrap(),
            national_item: None,
            served_groups: None,
            provenance: Provenance {
                origin: Origin::National,
                revision: 1,
                illustrative: false,
                created_at: now,
                updated_at: now,
            },
        }
    }
}

//! What a commit changed and what an answer read, in the same terms, so that
//! a commit can tell which cached answers it made stale.
//!
//! A footprint is a set of marks: a topic (a kind of stored row), for one
//! region or for every region. Only the topics whose rows belong to a region
//! are ever narrowed to one; every other topic is marked whole. A read of a
//! topic for one region is met by a change of that topic for that region or
//! for every region; a read of the whole topic is met by any change of it.

use std::collections::BTreeSet;
use std::fmt;

/// A kind of stored row, as far as cached answers are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// Regions, zones and their members, categories, editions: seed data.
    Reference,
    /// Service matters and national items, with their baselines.
    Catalogue,
    /// Standards of every level, their revisions and supersession.
    Standard,
    /// Service guides and their revisions.
    Guide,
    /// Operating procedures.
    Procedure,
    /// Evaluation records.
    Evaluation,
    /// Collaborative standards, adoptions and elevation proposals.
    Collaboration,
    /// The audit log.
    Audit,
    /// The change log that the sync feed serves.
    ChangeLog,
    /// The sync job's per-peer status.
    Sync,
}

impl Topic {
    const ALL: [Topic; 10] = [
        Topic::Reference,
        Topic::Catalogue,
        Topic::Standard,
        Topic::Guide,
        Topic::Procedure,
        Topic::Evaluation,
        Topic::Collaboration,
        Topic::Audit,
        Topic::ChangeLog,
        Topic::Sync,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Topic::Reference => "REFERENCE",
            Topic::Catalogue => "CATALOGUE",
            Topic::Standard => "STANDARD",
            Topic::Guide => "GUIDE",
            Topic::Procedure => "PROCEDURE",
            Topic::Evaluation => "EVALUATION",
            Topic::Collaboration => "COLLABORATION",
            Topic::Audit => "AUDIT",
            Topic::ChangeLog => "CHANGE_LOG",
            Topic::Sync => "SYNC",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|topic| topic.as_str() == text)
    }
}

/// One mark: a topic, for one region or (`None`) for every region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Mark {
    topic: Topic,
    region: Option<String>,
}

/// A set of marks, or everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    everything: bool,
    marks: BTreeSet<Mark>,
}

impl Footprint {
    /// The footprint of a commit whose changes are not known in detail, or
    /// of an answer that may have read anything: it meets every footprint
    /// but the empty one.
    pub fn everything() -> Self {
        Self {
            everything: true,
            marks: BTreeSet::new(),
        }
    }

    /// Whether nothing is marked.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.marks.is_empty()
    }

    /// Marks `topic` for every region.
    pub fn add(&mut self, topic: Topic) -> &mut Self {
        self.marks.insert(Mark {
            topic,
            region: None,
        });
        self
    }

    /// Marks `topic` for `region` only.
    pub fn add_region(&mut self, topic: Topic, region: &str) -> &mut Self {
        if !self.marks.contains(&Mark {
            topic,
            region: None,
        }) {
            self.marks.insert(Mark {
                topic,
                region: Some(region.to_owned()),
            });
        }
        self
    }

    /// This footprint with `topic` marked for each of `regions`.
    pub fn in_regions<'a>(
        mut self,
        topic: Topic,
        regions: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        for region in regions {
            self.add_region(topic, region);
        }
        self
    }

    /// Adds every mark of `other`.
    pub fn extend(&mut self, other: &Footprint) {
        self.everything |= other.everything;
        self.marks.extend(other.marks.iter().cloned());
    }

    /// A footprint of the given whole topics.
    pub fn of(topics: &[Topic]) -> Self {
        let mut footprint = Self::default();
        for topic in topics {
            footprint.add(*topic);
        }
        footprint
    }

    /// Whether a change with footprint `other` can alter what a read with
    /// this footprint saw (the relation is symmetric).
    pub fn meets(&self, other: &Footprint) -> bool {
        if self.is_empty() || other.is_empty() {
            return false;
        }
        if self.everything || other.everything {
            return true;
        }
        let (small, large) = if self.marks.len() <= other.marks.len() {
            (self, other)
        } else {
            (other, self)
        };
        small.marks.iter().any(|mark| large.meets_mark(mark))
    }

    fn meets_mark(&self, mark: &Mark) -> bool {
        let whole = Mark {
            topic: mark.topic,
            region: None,
        };
        match &mark.region {
            Some(_) => self.marks.contains(mark) || self.marks.contains(&whole),
            // The whole topic meets any mark of it, whatever its region.
            None => self
                .marks
                .range(&whole..)
                .next()
                .is_some_and(|m| m.topic == mark.topic),
        }
    }

    /// Reads the text form written by [`Footprint::fmt`]; anything it does
    /// not understand is read as everything, which only costs evictions.
    pub fn parse(text: &str) -> Self {
        if text == "*" {
            return Self::everything();
        }
        let mut footprint = Self::default();
        for part in text.split_whitespace() {
            let (topic, region) = match part.split_once('@') {
                Some((topic, region)) => (topic, Some(region)),
                None => (part, None),
            };
            match (Topic::parse(topic), region) {
                (Some(topic), Some(region)) => footprint.add_region(topic, region),
                (Some(topic), None) => footprint.add(topic),
                (None, _) => return Self::everything(),
            };
        }
        footprint
    }
}

/// The text form stored with each commit: `*` for everything, otherwise
/// space-separated `TOPIC` or `TOPIC@region` marks.
impl fmt::Display for Footprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.everything {
            return f.write_str("*");
        }
        for (i, mark) in self.marks.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(mark.topic.as_str())?;
            if let Some(region) = &mark.region {
                write!(f, "@{region}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guide_of(region: &str) -> Footprint {
        let mut footprint = Footprint::default();
        footprint.add_region(Topic::Guide, region);
        footprint
    }

    #[test]
    fn a_region_read_is_met_only_by_its_region_or_the_whole_topic() {
        let read = guide_of("440000");
        assert!(!read.meets(&guide_of("320000")));
        assert!(read.meets(&guide_of("440000")));
        assert!(read.meets(&Footprint::of(&[Topic::Guide])));
        assert!(!read.meets(&Footprint::of(&[Topic::Standard])));
        assert!(read.meets(&Footprint::everything()));
    }

    #[test]
    fn a_whole_topic_read_is_met_by_any_region_of_it() {
        let read = Footprint::of(&[Topic::Guide, Topic::Catalogue]);
        assert!(read.meets(&guide_of("320000")));
        assert!(guide_of("320000").meets(&read), "the relation is symmetric");
        assert!(!read.meets(&Footprint::of(&[Topic::Audit])));
        let mut audit = Footprint::default();
        audit.add_region(Topic::Audit, "110000");
        assert!(!read.meets(&audit));
    }

    #[test]
    fn nothing_meets_the_empty_footprint() {
        assert!(!Footprint::default().meets(&Footprint::everything()));
        assert!(!Footprint::everything().meets(&Footprint::default()));
    }

    #[test]
    fn the_text_form_reads_back() {
        let mut footprint = Footprint::of(&[Topic::Standard, Topic::ChangeLog]);
        footprint
            .add_region(Topic::Guide, "330000")
            .add_region(Topic::Audit, "330000");
        let text = footprint.to_string();
        assert_eq!(text, "STANDARD GUIDE@330000 AUDIT@330000 CHANGE_LOG");
        assert_eq!(Footprint::parse(&text), footprint);
        assert_eq!(Footprint::parse("*"), Footprint::everything());
        assert_eq!(Footprint::parse("NO_SUCH_TOPIC"), Footprint::everything());
        assert_eq!(Footprint::parse(""), Footprint::default());
    }

    #[test]
    fn a_region_mark_under_a_whole_topic_adds_nothing() {
        let mut footprint = Footprint::of(&[Topic::Guide]);
        footprint.add_region(Topic::Guide, "330000");
        assert_eq!(footprint, Footprint::of(&[Topic::Guide]));
    }
}

//! Cross-regional alignment (跨区域协同): how far a zone's members differ on a
//! matter, whether guides meet a national baseline or a collaborative
//! standard's targets, how equal a metric is across regions, and the
//! workflows of adopting a collaborative standard and elevating a standard.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use crate::{Channel, Fee, GuideDraft, RegionCode, ValidationError};

/// One member's published guide values, as alignment compares them.
#[derive(Debug, Clone, PartialEq)]
pub struct GuideValues {
    /// The member's region code (GB/T 2260), e.g. `330000`.
    pub region: String,
    /// Time limit in working days.
    pub time_limit_days: i32,
    /// Fee in fen.
    pub fee_fen: i64,
    /// Materials the guide asks for.
    pub materials: Vec<String>,
    /// Channels through which the matter can be handled.
    pub channels: Vec<Channel>,
}

impl GuideValues {
    /// The values of `region`'s guide `draft`.
    pub fn from_draft(region: &RegionCode, draft: &GuideDraft) -> Self {
        Self {
            region: region.as_str().to_owned(),
            time_limit_days: draft.time_limit_days,
            fee_fen: draft.fee.fen(),
            materials: draft.materials.clone(),
            channels: draft.channels.clone(),
        }
    }
}

/// The range and middle of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The middle value, or the mean of the two middle values for an even count.
    pub median: f64,
}

/// min, max and median (mean of the two middle values for an even count);
/// None for no values.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    };
    Some(Spread { min, max, median })
}

/// A material only some guides ask for, and the regions whose guides do.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialUse {
    /// The material's name as the guides state it.
    pub material: String,
    /// The regions whose guides ask for it, sorted, without repeats.
    pub regions: Vec<String>,
}

/// Which materials a set of guides share and which they do not.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialsComparison {
    /// Materials every guide asks for.
    pub common: Vec<String>,
    /// Materials some but not all guides ask for.
    pub partial: Vec<MaterialUse>,
}

/// `common`: materials every guide asks for; `partial`: those only some ask
/// for, each with the regions that do (sorted). Order: first appearance
/// across guides in the given order. With no guides both are empty.
pub fn compare_materials(guides: &[GuideValues]) -> MaterialsComparison {
    // For each material in order of first appearance, the guides asking for
    // it; counting guides rather than occurrences so a material listed twice
    // in one guide does not pass for a shared one.
    let mut seen: Vec<(&str, BTreeSet<usize>)> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (index, guide) in guides.iter().enumerate() {
        for material in &guide.materials {
            let at = *position.entry(material.as_str()).or_insert_with(|| {
                seen.push((material.as_str(), BTreeSet::new()));
                seen.len() - 1
            });
            seen[at].1.insert(index);
        }
    }
    let mut comparison = MaterialsComparison {
        common: Vec::new(),
        partial: Vec::new(),
    };
    for (material, asking) in seen {
        if asking.len() == guides.len() {
            comparison.common.push(material.to_owned());
        } else {
            let regions: BTreeSet<&str> = asking
                .iter()
                .map(|&index| guides[index].region.as_str())
                .collect();
            comparison.partial.push(MaterialUse {
                material: material.to_owned(),
                regions: regions.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    comparison
}

/// The best practice: shortest time limit, then fewest materials, then
/// lowest fee, then lowest region code. None for no guides.
pub fn best_practice(guides: &[GuideValues]) -> Option<&GuideValues> {
    guides.iter().min_by(|a, b| {
        (a.time_limit_days, a.materials.len(), a.fee_fen, &a.region).cmp(&(
            b.time_limit_days,
            b.materials.len(),
            b.fee_fen,
            &b.region,
        ))
    })
}

/// The five parts of an alignment score, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreParts {
    /// Members with a published guide / members.
    pub coverage: f64,
    /// 1 − (max − min) / max over the time limits.
    pub time_limit: f64,
    /// 1 − (max − min) / max over the fees.
    pub fee: f64,
    /// Jaccard index of the guides' material sets.
    pub materials: f64,
    /// Jaccard index of the guides' channel sets.
    pub channels: f64,
}

/// An alignment score and the parts it is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignmentScore {
    /// coverage × the mean of the four agreement parts.
    pub score: f64,
    /// What the score is made of.
    pub parts: ScoreParts,
}

/// The alignment score of a zone on a matter, in [0, 1]:
///
/// - `coverage` = members with a published guide / members (0 when
///   members == 0; `guides` holds one guide per member that has one)
/// - `time_limit` = 1 − (max − min) / max over the guides' time limits (1 when
///   max == 0 or fewer than 2 guides)
/// - `fee` = the same formula over fees in fen
/// - `materials` = |materials every guide asks for| / |materials any guide
///   asks for| (Jaccard; 1 when the union is empty)
/// - `channels` = the same Jaccard over channel sets
/// - `score` = coverage × (time_limit + fee + materials + channels) / 4
///
/// With no guide at all the score is 0. So the score is 1 exactly when every
/// member has a guide and all guides agree on time limit, fee, the set of
/// materials and the set of channels.
///
/// Worked example: 4 members, all with a guide; time limits 10, 15, 20, 20
/// working days; fees 0, 0, 0, 0; materials {A, B}, {A, B}, {A, B, C}, {A};
/// channels {COUNTER, ONLINE} three times and {COUNTER} once.
///
/// - coverage = 4 / 4 = 1
/// - time_limit = 1 − (20 − 10) / 20 = 0.5
/// - fee = 1 (every fee is 0)
/// - materials = |{A}| / |{A, B, C}| = 1/3
/// - channels = |{COUNTER}| / |{COUNTER, ONLINE}| = 1/2
/// - score = 1 × (0.5 + 1 + 1/3 + 0.5) / 4 = 0.583333…
pub fn alignment_score(members: usize, guides: &[GuideValues]) -> AlignmentScore {
    let coverage = if members == 0 {
        0.0
    } else {
        // Capped so that a caller passing a guide per region it did not count
        // as a member cannot push the score above 1.
        (guides.len() as f64 / members as f64).min(1.0)
    };
    let time_limits: Vec<i64> = guides
        .iter()
        .map(|g| i64::from(g.time_limit_days))
        .collect();
    let fees: Vec<i64> = guides.iter().map(|g| g.fee_fen).collect();
    let parts = ScoreParts {
        coverage,
        time_limit: agreement(&time_limits),
        fee: agreement(&fees),
        materials: jaccard(guides.iter().map(|g| g.materials.as_slice())),
        channels: jaccard(guides.iter().map(|g| g.channels.as_slice())),
    };
    let score = coverage * (parts.time_limit + parts.fee + parts.materials + parts.channels) / 4.0;
    AlignmentScore { score, parts }
}

/// 1 − (max − min) / max; 1 for fewer than two values or a zero maximum.
fn agreement(values: &[i64]) -> f64 {
    let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) else {
        return 1.0;
    };
    // Values are non-negative, so a maximum of 0 means every value is 0.
    if values.len() < 2 || max <= 0 {
        return 1.0;
    }
    // A negative value is invalid input; clamping keeps the part in [0, 1].
    (1.0 - (max - min) as f64 / max as f64).clamp(0.0, 1.0)
}

/// |intersection| / |union| of the lists taken as sets; 1 when the union is empty.
fn jaccard<'a, T: Ord + 'a>(lists: impl Iterator<Item = &'a [T]>) -> f64 {
    let mut union: BTreeSet<&T> = BTreeSet::new();
    let mut common: Option<BTreeSet<&T>> = None;
    for list in lists {
        let set: BTreeSet<&T> = list.iter().collect();
        union.extend(set.iter().copied());
        common = Some(match common {
            None => set,
            Some(common) => common.intersection(&set).copied().collect(),
        });
    }
    if union.is_empty() {
        return 1.0;
    }
    common.map_or(0, |common| common.len()) as f64 / union.len() as f64
}

/// A national item's baseline (底线标准) as data: None / empty means no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// Longest time limit a guide may state, in working days.
    pub max_time_limit_days: Option<i32>,
    /// Highest fee a guide may charge, in fen.
    pub max_fee_fen: Option<i64>,
    /// Channels every guide must offer.
    pub required_channels: Vec<Channel>,
}

/// A way in which a guide falls short of its national item's baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineViolation {
    /// The guide's time limit is longer than the baseline allows.
    TimeLimitExceeded { limit: i32, actual: i32 },
    /// The guide's fee (in fen) is higher than the baseline allows.
    FeeExceeded { limit: i64, actual: i64 },
    /// The guide does not offer a channel the baseline requires.
    MissingChannel(Channel),
}

impl BaselineViolation {
    /// The rule broken: `TIME_LIMIT`, `FEE` or `CHANNEL`.
    pub fn rule(&self) -> &'static str {
        match self {
            Self::TimeLimitExceeded { .. } => "TIME_LIMIT",
            Self::FeeExceeded { .. } => "FEE",
            Self::MissingChannel(_) => "CHANNEL",
        }
    }

    /// A sentence saying what is wrong, with the numbers.
    pub fn describe(&self) -> String {
        match self {
            Self::TimeLimitExceeded { limit, actual } => {
                format!("time limit {actual} working days exceeds the baseline's {limit}")
            }
            Self::FeeExceeded { limit, actual } => format!(
                "fee {} yuan exceeds the baseline's {} yuan",
                yuan(*actual),
                yuan(*limit)
            ),
            Self::MissingChannel(channel) => {
                format!("the {channel} channel the baseline requires is not offered")
            }
        }
    }
}

/// An amount in fen as yuan with two decimals, or in fen if it is not a valid fee.
fn yuan(fen: i64) -> String {
    Fee::from_fen(fen).map_or_else(|_| format!("{fen} fen"), |fee| fee.to_string())
}

/// Every way `guide` breaks `baseline`: time limit, then fee, then each
/// missing required channel in channel order.
pub fn baseline_violations(baseline: &Baseline, guide: &GuideValues) -> Vec<BaselineViolation> {
    let mut violations = Vec::new();
    if let Some(limit) = baseline.max_time_limit_days
        && guide.time_limit_days > limit
    {
        violations.push(BaselineViolation::TimeLimitExceeded {
            limit,
            actual: guide.time_limit_days,
        });
    }
    if let Some(limit) = baseline.max_fee_fen
        && guide.fee_fen > limit
    {
        violations.push(BaselineViolation::FeeExceeded {
            limit,
            actual: guide.fee_fen,
        });
    }
    violations.extend(
        missing_channels(&baseline.required_channels, &guide.channels)
            .into_iter()
            .map(BaselineViolation::MissingChannel),
    );
    violations
}

/// The `required` channels not in `offered`, in channel order, without repeats.
fn missing_channels(required: &[Channel], offered: &[Channel]) -> Vec<Channel> {
    let required: BTreeSet<Channel> = required.iter().copied().collect();
    required
        .into_iter()
        .filter(|channel| !offered.contains(channel))
        .collect()
}

/// A collaborative standard's targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    /// Longest time limit a member's guide may state, in working days.
    pub max_time_limit_days: Option<i32>,
    /// The unified materials list: a guide may ask for nothing outside it.
    pub materials: Option<Vec<String>>,
    /// Channels every member's guide must offer.
    pub required_channels: Vec<Channel>,
}

/// Whether a guide meets one target, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    /// `TIME_LIMIT`, `MATERIALS` or `CHANNELS`.
    pub target: &'static str,
    /// Whether the guide meets the target.
    pub met: bool,
    /// A sentence with the values compared, naming what is extra or missing.
    pub detail: String,
}

/// Checks one guide against targets: time limit ≤ max; asks for no material
/// outside the unified list (detail names the extra ones); offers every
/// required channel (detail names the missing ones). Only targets that are
/// set are checked, in the order time limit, materials, channels.
pub fn check_targets(targets: &Targets, guide: &GuideValues) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    if let Some(limit) = targets.max_time_limit_days {
        let actual = guide.time_limit_days;
        let met = actual <= limit;
        let verdict = if met { "is within" } else { "exceeds" };
        checks.push(TargetCheck {
            target: "TIME_LIMIT",
            met,
            detail: format!("time limit {actual} working days {verdict} the target of {limit}"),
        });
    }
    if let Some(unified) = &targets.materials {
        let mut extra: Vec<&str> = Vec::new();
        for material in &guide.materials {
            if !unified.contains(material) && !extra.contains(&material.as_str()) {
                extra.push(material);
            }
        }
        checks.push(TargetCheck {
            target: "MATERIALS",
            met: extra.is_empty(),
            detail: if extra.is_empty() {
                "asks only for materials on the unified list".to_owned()
            } else {
                format!(
                    "asks for materials outside the unified list: {}",
                    extra.join(", ")
                )
            },
        });
    }
    if !targets.required_channels.is_empty() {
        let missing = missing_channels(&targets.required_channels, &guide.channels);
        checks.push(TargetCheck {
            target: "CHANNELS",
            met: missing.is_empty(),
            detail: if missing.is_empty() {
                "offers every required channel".to_owned()
            } else {
                let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
                format!("does not offer required channels: {}", names.join(", "))
            },
        });
    }
    checks
}

/// Coefficient of variation: population standard deviation / mean. None for
/// no values; 0 when the mean is 0 (all values zero are perfectly equal).
/// Values are non-negative metrics.
pub fn coefficient_of_variation(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    if mean == 0.0 {
        return Some(0.0);
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
    Some(variance.sqrt() / mean)
}

/// A spelling outside one of this module's closed sets, with the allowed ones.
/// (Its own type because `ParseEnumError` cannot be built outside `enums`.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of {allowed}")]
pub struct ParseStateError {
    value: String,
    allowed: String,
}

// The same shape as `enums::closed_set!`, which is not reachable from here.
macro_rules! state_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The one spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $name {
            type Err = ParseStateError;
            fn from_str(value: &str) -> Result<Self, ParseStateError> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseStateError {
                        value: value.to_owned(),
                        allowed: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

state_set!(
    /// A member's answer to a proposed collaborative standard.
    Decision {
        /// Not answered yet.
        Pending = "PENDING",
        Adopted = "ADOPTED",
        Rejected = "REJECTED",
    }
);

state_set!(
    /// The life cycle of a collaborative standard proposed in a zone.
    ProposalStatus {
        /// Waiting for every member to adopt it.
        Proposed = "PROPOSED",
        /// Adopted by every member.
        InForce = "IN_FORCE",
        Withdrawn = "WITHDRAWN",
    }
);

state_set!(
    /// Where a proposal to elevate a local or regional standard to a
    /// national or industry one stands.
    ElevationStatus {
        Proposed = "PROPOSED",
        UnderReview = "UNDER_REVIEW",
        Accepted = "ACCEPTED",
        Declined = "DECLINED",
    }
);

state_set!(
    /// What the national administration decides on an elevation.
    ElevationDecision {
        /// Take it under review.
        Review = "REVIEW",
        Accept = "ACCEPT",
        Decline = "DECLINE",
    }
);

/// The status a proposal takes from its members' decisions: IN_FORCE when
/// every member adopted (and there is at least one member), else PROPOSED.
/// A rejection keeps it PROPOSED, so the member can still reconsider;
/// withdrawal is a separate act, never the result of decisions.
pub fn proposal_status(decisions: &[Decision]) -> ProposalStatus {
    if !decisions.is_empty() && decisions.iter().all(|d| *d == Decision::Adopted) {
        ProposalStatus::InForce
    } else {
        ProposalStatus::Proposed
    }
}

/// Whether a member may record `decision` on a proposal in `status`: only
/// while PROPOSED, only ADOPTED or REJECTED, and a rejection needs a
/// non-blank reason. Err(ValidationError) naming the field ("proposal" for
/// the status, "decision", "reason") otherwise.
pub fn check_decision(
    status: ProposalStatus,
    decision: Decision,
    reason: Option<&str>,
) -> Result<(), ValidationError> {
    if status != ProposalStatus::Proposed {
        return Err(ValidationError::new(
            "proposal",
            format!("the proposal is {status}; decisions are recorded only while it is PROPOSED"),
        ));
    }
    match decision {
        Decision::Pending => Err(ValidationError::new(
            "decision",
            "must be ADOPTED or REJECTED; PENDING is where every member starts",
        )),
        Decision::Rejected if reason.is_none_or(|r| r.trim().is_empty()) => {
            Err(ValidationError::new("reason", "a rejection needs a reason"))
        }
        Decision::Adopted | Decision::Rejected => Ok(()),
    }
}

impl ElevationStatus {
    /// The decisions an elevation in this status can take: REVIEW or DECLINE
    /// while PROPOSED, ACCEPT or DECLINE while UNDER_REVIEW, none once final.
    pub fn allowed_decisions(self) -> &'static [ElevationDecision] {
        use ElevationDecision::*;
        match self {
            Self::Proposed => &[Review, Decline],
            Self::UnderReview => &[Accept, Decline],
            Self::Accepted | Self::Declined => &[],
        }
    }
}

/// PROPOSED --REVIEW--> UNDER_REVIEW --ACCEPT--> ACCEPTED / --DECLINE-->
/// DECLINED; a PROPOSED one may also be DECLINED directly. Anything else is
/// Err(ValidationError on field "decision") saying the status and what is
/// allowed from it.
pub fn next_elevation_status(
    current: ElevationStatus,
    decision: ElevationDecision,
) -> Result<ElevationStatus, ValidationError> {
    use ElevationDecision as D;
    use ElevationStatus as S;
    match (current, decision) {
        (S::Proposed, D::Review) => Ok(S::UnderReview),
        (S::Proposed | S::UnderReview, D::Decline) => Ok(S::Declined),
        (S::UnderReview, D::Accept) => Ok(S::Accepted),
        _ => {
            let allowed: Vec<&str> = current
                .allowed_decisions()
                .iter()
                .map(|d| d.as_str())
                .collect();
            let allowed = if allowed.is_empty() {
                "none, it is final".to_owned()
            } else {
                allowed.join(", ")
            };
            Err(ValidationError::new(
                "decision",
                format!(
                    "an elevation that is {current} cannot take {decision}; allowed: {allowed}"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::{Counter, CrossProvince, Mobile, Online};
    use proptest::prelude::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "expected {expected}, got {actual}"
        );
    }

    fn guide(
        region: &str,
        days: i32,
        fee: i64,
        materials: &[&str],
        channels: &[Channel],
    ) -> GuideValues {
        GuideValues {
            region: region.to_owned(),
            time_limit_days: days,
            fee_fen: fee,
            materials: materials.iter().map(|m| (*m).to_owned()).collect(),
            channels: channels.to_vec(),
        }
    }

    fn plain(region: &str) -> GuideValues {
        guide(region, 10, 0, &["A"], &[Counter])
    }

    #[test]
    fn values_come_from_a_draft() {
        let draft = GuideDraft {
            time_limit_days: 7,
            fee: Fee::from_fen(1250).unwrap(),
            materials: vec!["身份证".into()],
            channels: vec![Online],
            legal_basis: "《社会保险法》".into(),
            guarantee_level: None,
        };
        let region = RegionCode::try_from("330000").unwrap();
        assert_eq!(
            GuideValues::from_draft(&region, &draft),
            guide("330000", 7, 1250, &["身份证"], &[Online])
        );
    }

    #[test]
    fn spread_of_no_values_is_none() {
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn spread_of_one_value() {
        assert_eq!(
            spread(&[4.5]),
            Some(Spread {
                min: 4.5,
                max: 4.5,
                median: 4.5
            })
        );
    }

    #[test]
    fn spread_of_an_odd_count_takes_the_middle_value() {
        let s = spread(&[20.0, 10.0, 15.0]).unwrap();
        assert_close(s.min, 10.0);
        assert_close(s.max, 20.0);
        assert_close(s.median, 15.0);
    }

    #[test]
    fn spread_of_an_even_count_averages_the_two_middle_values() {
        let s = spread(&[20.0, 10.0, 15.0, 20.0]).unwrap();
        assert_close(s.min, 10.0);
        assert_close(s.max, 20.0);
        assert_close(s.median, 17.5);
    }

    #[test]
    fn spread_sorts_unsorted_input() {
        let s = spread(&[9.0, 1.0, 5.0, 3.0, 7.0, 2.0]).unwrap();
        assert_close(s.min, 1.0);
        assert_close(s.max, 9.0);
        assert_close(s.median, 4.0);
    }

    #[test]
    fn identical_material_lists_are_all_common() {
        let guides = [
            guide("310000", 10, 0, &["A", "B"], &[]),
            guide("320000", 10, 0, &["A", "B"], &[]),
        ];
        let comparison = compare_materials(&guides);
        assert_eq!(comparison.common, ["A", "B"]);
        assert_eq!(comparison.partial, []);
    }

    #[test]
    fn disjoint_material_lists_are_all_partial() {
        let guides = [
            guide("320000", 10, 0, &["A"], &[]),
            guide("310000", 10, 0, &["B"], &[]),
        ];
        let comparison = compare_materials(&guides);
        assert_eq!(comparison.common, Vec::<String>::new());
        assert_eq!(
            comparison.partial,
            [
                MaterialUse {
                    material: "A".into(),
                    regions: vec!["320000".into()]
                },
                MaterialUse {
                    material: "B".into(),
                    regions: vec!["310000".into()]
                },
            ]
        );
    }

    #[test]
    fn one_guide_has_only_common_materials() {
        let comparison = compare_materials(&[guide("310000", 10, 0, &["B", "A"], &[])]);
        assert_eq!(comparison.common, ["B", "A"]);
        assert_eq!(comparison.partial, []);
    }

    #[test]
    fn no_guides_have_no_materials() {
        assert_eq!(
            compare_materials(&[]),
            MaterialsComparison {
                common: vec![],
                partial: vec![]
            }
        );
    }

    #[test]
    fn materials_keep_their_first_appearance_and_partial_regions_are_sorted() {
        let guides = [
            guide("340000", 10, 0, &["C", "A"], &[]),
            guide("310000", 10, 0, &["A", "D", "B"], &[]),
            guide("320000", 10, 0, &["B", "A", "C", "C"], &[]),
        ];
        let comparison = compare_materials(&guides);
        assert_eq!(comparison.common, ["A"]);
        let partial: Vec<(&str, Vec<&str>)> = comparison
            .partial
            .iter()
            .map(|u| {
                (
                    u.material.as_str(),
                    u.regions.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            partial,
            [
                ("C", vec!["320000", "340000"]),
                ("D", vec!["310000"]),
                ("B", vec!["310000", "320000"]),
            ]
        );
    }

    #[test]
    fn best_practice_of_no_guides_is_none() {
        assert_eq!(best_practice(&[]), None);
    }

    #[test]
    fn best_practice_takes_the_shortest_time_limit_first() {
        let guides = [
            guide("310000", 10, 0, &["A"], &[]),
            guide("320000", 5, 9900, &["A", "B", "C"], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "320000");
    }

    #[test]
    fn best_practice_breaks_a_time_limit_tie_by_fewest_materials() {
        let guides = [
            guide("310000", 5, 0, &["A", "B"], &[]),
            guide("320000", 5, 9900, &["A"], &[]),
            guide("330000", 9, 0, &[], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "320000");
    }

    #[test]
    fn best_practice_then_breaks_ties_by_lowest_fee() {
        let guides = [
            guide("310000", 5, 2000, &["A"], &[]),
            guide("320000", 5, 1000, &["B"], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "320000");
    }

    #[test]
    fn best_practice_then_breaks_ties_by_lowest_region_code() {
        let guides = [
            guide("330000", 5, 1000, &["A"], &[]),
            guide("310000", 5, 1000, &["B"], &[Online]),
            guide("320000", 5, 1000, &["C"], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "310000");
    }

    #[test]
    fn one_member_with_a_guide_scores_one() {
        let score = alignment_score(1, &[guide("310000", 20, 500, &["A", "B"], &[Counter])]);
        assert_eq!(score.score, 1.0);
        assert_eq!(
            score.parts,
            ScoreParts {
                coverage: 1.0,
                time_limit: 1.0,
                fee: 1.0,
                materials: 1.0,
                channels: 1.0
            }
        );
    }

    #[test]
    fn members_that_all_agree_score_exactly_one() {
        let guides = [
            guide("310000", 15, 2000, &["A", "B"], &[Counter, Online]),
            guide("320000", 15, 2000, &["B", "A"], &[Online, Counter]),
            guide("330000", 15, 2000, &["A", "B", "A"], &[Counter, Online]),
            guide("340000", 15, 2000, &["A", "B"], &[Online, Counter]),
        ];
        assert_eq!(alignment_score(4, &guides).score, 1.0);
    }

    #[test]
    fn a_missing_guide_scales_the_score_by_coverage() {
        let guides = [plain("310000"), plain("320000")];
        let score = alignment_score(3, &guides);
        assert_close(score.parts.coverage, 2.0 / 3.0);
        assert_close(score.score, 2.0 / 3.0);
    }

    #[test]
    fn no_guides_or_no_members_score_zero() {
        assert_eq!(alignment_score(4, &[]).score, 0.0);
        assert_eq!(alignment_score(0, &[]).score, 0.0);
        assert_eq!(alignment_score(0, &[plain("310000")]).score, 0.0);
    }

    #[test]
    fn zero_fees_everywhere_agree_on_fee() {
        let guides = [
            guide("310000", 10, 0, &["A"], &[Counter]),
            guide("320000", 20, 0, &["A"], &[Counter]),
        ];
        let score = alignment_score(2, &guides);
        assert_eq!(score.parts.fee, 1.0);
        assert_close(score.parts.time_limit, 0.5);
        assert_close(score.score, 3.5 / 4.0);
    }

    #[test]
    fn fees_disagreeing_are_scored_like_time_limits() {
        let guides = [
            guide("310000", 10, 500, &["A"], &[Counter]),
            guide("320000", 10, 2000, &["A"], &[Counter]),
        ];
        assert_close(alignment_score(2, &guides).parts.fee, 0.25);
    }

    #[test]
    fn no_materials_and_no_channels_anywhere_agree() {
        let guides = [
            guide("310000", 10, 0, &[], &[]),
            guide("320000", 10, 0, &[], &[]),
        ];
        assert_eq!(alignment_score(2, &guides).score, 1.0);
    }

    #[test]
    fn the_worked_example_of_the_documentation() {
        let both = [Counter, Online];
        let guides = [
            guide("310000", 10, 0, &["A", "B"], &both),
            guide("320000", 15, 0, &["A", "B"], &both),
            guide("330000", 20, 0, &["A", "B", "C"], &both),
            guide("340000", 20, 0, &["A"], &[Counter]),
        ];
        let score = alignment_score(4, &guides);
        assert_close(score.parts.coverage, 1.0);
        assert_close(score.parts.time_limit, 0.5);
        assert_close(score.parts.fee, 1.0);
        assert_close(score.parts.materials, 1.0 / 3.0);
        assert_close(score.parts.channels, 0.5);
        assert_close(score.score, (0.5 + 1.0 + 1.0 / 3.0 + 0.5) / 4.0);
        assert_close(score.score, 0.583_333_333_333_333_3);
    }

    const REGIONS: [&str; 6] = ["110000", "120000", "130000", "310000", "320000", "330000"];

    prop_compose! {
        fn any_guide()(
            days in 1i32..60,
            fee in 0i64..5000,
            materials in proptest::sample::subsequence(vec!["A", "B", "C", "D"], 0..=4),
            channels in proptest::sample::subsequence(Channel::ALL.to_vec(), 0..=4),
        ) -> GuideValues {
            guide("", days, fee, &materials, &channels)
        }
    }

    /// Gives each guide its own region, as one guide per member.
    fn with_regions(mut guides: Vec<GuideValues>) -> Vec<GuideValues> {
        for (guide, region) in guides.iter_mut().zip(REGIONS) {
            guide.region = region.to_owned();
        }
        guides
    }

    fn all_agree(guides: &[GuideValues]) -> bool {
        fn key(g: &GuideValues) -> (i32, i64, BTreeSet<&String>, BTreeSet<&Channel>) {
            (
                g.time_limit_days,
                g.fee_fen,
                g.materials.iter().collect(),
                g.channels.iter().collect(),
            )
        }
        guides.windows(2).all(|pair| key(&pair[0]) == key(&pair[1]))
    }

    /// One guide repeated for every member, with its lists reordered, so the
    /// score-is-one branch is reached far more often than by chance.
    fn agreeing_guides() -> impl Strategy<Value = Vec<GuideValues>> {
        (any_guide(), 1usize..=6).prop_flat_map(|(template, count)| {
            let copy = (
                Just(template.materials.clone()).prop_shuffle(),
                Just(template.channels.clone()).prop_shuffle(),
            )
                .prop_map(move |(materials, channels)| GuideValues {
                    materials,
                    channels,
                    ..template.clone()
                });
            proptest::collection::vec(copy, count)
        })
    }

    fn check_score(guides: &[GuideValues], extra: usize) -> Result<(), TestCaseError> {
        let members = guides.len() + extra;
        let AlignmentScore { score, parts } = alignment_score(members, guides);
        for part in [
            score,
            parts.coverage,
            parts.time_limit,
            parts.fee,
            parts.materials,
            parts.channels,
        ] {
            prop_assert!((0.0..=1.0).contains(&part), "{part} out of [0, 1]");
        }
        prop_assert_eq!(score == 1.0, extra == 0 && all_agree(guides));
        Ok(())
    }

    proptest! {
        #[test]
        fn any_score_is_in_range_and_one_only_when_members_agree(
            guides in proptest::collection::vec(any_guide(), 1..=6).prop_map(with_regions),
            extra in 0usize..=2,
        ) {
            check_score(&guides, extra)?;
        }

        #[test]
        fn agreeing_members_score_one_unless_one_has_no_guide(
            guides in agreeing_guides().prop_map(with_regions),
            extra in 0usize..=2,
        ) {
            prop_assert!(all_agree(&guides));
            check_score(&guides, extra)?;
        }
    }

    #[test]
    fn a_guide_within_the_baseline_breaks_nothing() {
        let baseline = Baseline {
            max_time_limit_days: Some(15),
            max_fee_fen: Some(0),
            required_channels: vec![Online],
        };
        let ok = guide("310000", 15, 0, &["A"], &[Counter, Online]);
        assert_eq!(baseline_violations(&baseline, &ok), []);
        assert_eq!(
            baseline_violations(&Baseline::default(), &guide("310000", 250, 9900, &[], &[])),
            []
        );
    }

    #[test]
    fn every_broken_baseline_rule_is_reported() {
        let baseline = Baseline {
            max_time_limit_days: Some(15),
            max_fee_fen: Some(2000),
            required_channels: vec![Mobile, Online, Mobile],
        };
        let bad = guide("310000", 20, 3050, &["A"], &[Counter]);
        let violations = baseline_violations(&baseline, &bad);
        assert_eq!(
            violations,
            [
                BaselineViolation::TimeLimitExceeded {
                    limit: 15,
                    actual: 20
                },
                BaselineViolation::FeeExceeded {
                    limit: 2000,
                    actual: 3050
                },
                BaselineViolation::MissingChannel(Online),
                BaselineViolation::MissingChannel(Mobile),
            ]
        );
        let rules: Vec<&str> = violations.iter().map(BaselineViolation::rule).collect();
        assert_eq!(rules, ["TIME_LIMIT", "FEE", "CHANNEL", "CHANNEL"]);
        let sentences: Vec<String> = violations.iter().map(BaselineViolation::describe).collect();
        assert_eq!(
            sentences,
            [
                "time limit 20 working days exceeds the baseline's 15",
                "fee 30.50 yuan exceeds the baseline's 20.00 yuan",
                "the ONLINE channel the baseline requires is not offered",
                "the MOBILE channel the baseline requires is not offered",
            ]
        );
    }

    #[test]
    fn no_targets_check_nothing() {
        assert_eq!(check_targets(&Targets::default(), &plain("310000")), []);
    }

    #[test]
    fn a_guide_meeting_every_target() {
        let targets = Targets {
            max_time_limit_days: Some(10),
            materials: Some(vec!["A".into(), "B".into()]),
            required_channels: vec![Counter],
        };
        assert_eq!(
            check_targets(
                &targets,
                &guide("310000", 10, 0, &["A"], &[Counter, Online])
            ),
            [
                TargetCheck {
                    target: "TIME_LIMIT",
                    met: true,
                    detail: "time limit 10 working days is within the target of 10".into(),
                },
                TargetCheck {
                    target: "MATERIALS",
                    met: true,
                    detail: "asks only for materials on the unified list".into(),
                },
                TargetCheck {
                    target: "CHANNELS",
                    met: true,
                    detail: "offers every required channel".into(),
                },
            ]
        );
    }

    #[test]
    fn a_guide_missing_every_target_names_what_is_wrong() {
        let targets = Targets {
            max_time_limit_days: Some(10),
            materials: Some(vec!["A".into()]),
            required_channels: vec![CrossProvince, Online, Counter],
        };
        let checks = check_targets(
            &targets,
            &guide("310000", 11, 0, &["C", "A", "B", "C"], &[Counter]),
        );
        assert_eq!(
            checks,
            [
                TargetCheck {
                    target: "TIME_LIMIT",
                    met: false,
                    detail: "time limit 11 working days exceeds the target of 10".into(),
                },
                TargetCheck {
                    target: "MATERIALS",
                    met: false,
                    detail: "asks for materials outside the unified list: C, B".into(),
                },
                TargetCheck {
                    target: "CHANNELS",
                    met: false,
                    detail: "does not offer required channels: ONLINE, CROSS_PROVINCE".into(),
                },
            ]
        );
    }

    #[test]
    fn only_set_targets_are_checked() {
        let targets = Targets {
            materials: Some(vec![]),
            ..Targets::default()
        };
        let checks = check_targets(&targets, &plain("310000"));
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].target, "MATERIALS");
        assert!(!checks[0].met);
    }

    #[test]
    fn coefficient_of_variation_on_hand_computed_values() {
        // mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; σ = √(32/8) = 2.
        let cv = coefficient_of_variation(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_close(cv, 0.4);
        // mean 2, σ = 1.
        assert_close(coefficient_of_variation(&[1.0, 3.0]).unwrap(), 0.5);
    }

    #[test]
    fn coefficient_of_variation_edge_cases() {
        assert_eq!(coefficient_of_variation(&[]), None);
        assert_eq!(coefficient_of_variation(&[0.0, 0.0, 0.0]), Some(0.0));
        assert_eq!(coefficient_of_variation(&[7.5]), Some(0.0));
        assert_eq!(coefficient_of_variation(&[3.0, 3.0]), Some(0.0));
    }

    #[test]
    fn workflow_states_round_trip_and_refuse_unknown_spellings() {
        for d in Decision::ALL {
            assert_eq!(d.as_str().parse::<Decision>().unwrap(), *d);
        }
        for s in ProposalStatus::ALL {
            assert_eq!(s.to_string().parse::<ProposalStatus>().unwrap(), *s);
        }
        for s in ElevationStatus::ALL {
            assert_eq!(s.as_str().parse::<ElevationStatus>().unwrap(), *s);
        }
        for d in ElevationDecision::ALL {
            assert_eq!(d.as_str().parse::<ElevationDecision>().unwrap(), *d);
        }
        assert_eq!(ProposalStatus::InForce.as_str(), "IN_FORCE");
        assert_eq!(ElevationStatus::UnderReview.as_str(), "UNDER_REVIEW");
        assert_eq!(
            "ADOPT".parse::<Decision>().unwrap_err().to_string(),
            "`ADOPT` is not one of PENDING, ADOPTED, REJECTED"
        );
    }

    #[test]
    fn a_proposal_is_in_force_only_when_every_member_adopted() {
        use Decision::*;
        assert_eq!(
            proposal_status(&[Adopted, Adopted, Adopted, Adopted]),
            ProposalStatus::InForce
        );
        assert_eq!(proposal_status(&[Adopted]), ProposalStatus::InForce);
        assert_eq!(
            proposal_status(&[Adopted, Pending, Adopted]),
            ProposalStatus::Proposed
        );
        assert_eq!(
            proposal_status(&[Adopted, Rejected, Adopted]),
            ProposalStatus::Proposed
        );
        assert_eq!(proposal_status(&[]), ProposalStatus::Proposed);
    }

    #[test]
    fn members_may_adopt_or_reject_with_a_reason_while_proposed() {
        let open = ProposalStatus::Proposed;
        assert_eq!(check_decision(open, Decision::Adopted, None), Ok(()));
        assert_eq!(
            check_decision(open, Decision::Rejected, Some("成本过高")),
            Ok(())
        );
    }

    #[test]
    fn a_rejection_without_a_reason_is_refused() {
        for reason in [None, Some(""), Some("  \n")] {
            let error =
                check_decision(ProposalStatus::Proposed, Decision::Rejected, reason).unwrap_err();
            assert_eq!(
                error,
                ValidationError::new("reason", "a rejection needs a reason")
            );
        }
    }

    #[test]
    fn no_decision_on_a_withdrawn_or_in_force_proposal() {
        let error = check_decision(ProposalStatus::Withdrawn, Decision::Adopted, None).unwrap_err();
        assert_eq!(error.field, "proposal");
        assert_eq!(
            error.message,
            "the proposal is WITHDRAWN; decisions are recorded only while it is PROPOSED"
        );
        let error =
            check_decision(ProposalStatus::InForce, Decision::Rejected, Some("late")).unwrap_err();
        assert_eq!(error.field, "proposal");
    }

    #[test]
    fn pending_is_not_a_decision() {
        let error = check_decision(ProposalStatus::Proposed, Decision::Pending, None).unwrap_err();
        assert_eq!(error.field, "decision");
    }

    #[test]
    fn every_elevation_transition() {
        use ElevationDecision as D;
        use ElevationStatus as S;
        let table = [
            (S::Proposed, D::Review, Ok(S::UnderReview)),
            (
                S::Proposed,
                D::Accept,
                Err("an elevation that is PROPOSED cannot take ACCEPT; allowed: REVIEW, DECLINE"),
            ),
            (S::Proposed, D::Decline, Ok(S::Declined)),
            (
                S::UnderReview,
                D::Review,
                Err(
                    "an elevation that is UNDER_REVIEW cannot take REVIEW; allowed: ACCEPT, DECLINE",
                ),
            ),
            (S::UnderReview, D::Accept, Ok(S::Accepted)),
            (S::UnderReview, D::Decline, Ok(S::Declined)),
            (
                S::Accepted,
                D::Review,
                Err("an elevation that is ACCEPTED cannot take REVIEW; allowed: none, it is final"),
            ),
            (
                S::Accepted,
                D::Accept,
                Err("an elevation that is ACCEPTED cannot take ACCEPT; allowed: none, it is final"),
            ),
            (
                S::Accepted,
                D::Decline,
                Err(
                    "an elevation that is ACCEPTED cannot take DECLINE; allowed: none, it is final",
                ),
            ),
            (
                S::Declined,
                D::Review,
                Err("an elevation that is DECLINED cannot take REVIEW; allowed: none, it is final"),
            ),
            (
                S::Declined,
                D::Accept,
                Err("an elevation that is DECLINED cannot take ACCEPT; allowed: none, it is final"),
            ),
            (
                S::Declined,
                D::Decline,
                Err(
                    "an elevation that is DECLINED cannot take DECLINE; allowed: none, it is final",
                ),
            ),
        ];
        assert_eq!(table.len(), S::ALL.len() * D::ALL.len());
        for (current, decision, expected) in table {
            let actual = next_elevation_status(current, decision);
            let expected = expected.map_err(|message| ValidationError::new("decision", message));
            assert_eq!(actual, expected, "{current} + {decision}");
            assert_eq!(
                current.allowed_decisions().contains(&decision),
                actual.is_ok(),
                "{current} + {decision}"
            );
        }
    }
}

//! Cross-regional alignment (跨区域协同): how far a zone's members differ on a
//! matter (`score`), whether guides meet a national baseline (`baseline`,
//! unless an `exemption` is in force) or
//! a collaborative standard's targets (`targets`), and how equal a metric is
//! across regions (`equalization`), and over time (`trend`). The workflows of adopting a
//! collaborative standard and elevating a standard are in `crate::workflow`.

mod baseline;
mod equalization;
mod exemption;
mod score;
mod targets;
pub mod trend;

pub use baseline::{Baseline, BaselineViolation, baseline_violations, publication_refusal};
pub use equalization::coefficient_of_variation;
pub use exemption::{Exemption, ExemptionGrant, exemption_key};
pub use score::{
    AlignmentScore, MaterialUse, MaterialsComparison, ScoreParts, Spread, alignment_score,
    best_practice, compare_materials, spread,
};
pub use targets::{TargetCheck, Targets, check_targets};

use std::collections::BTreeSet;

use crate::{Channel, Fee, GuideDraft, RegionCode};

/// One member's published guide values, as alignment compares them.
#[derive(Debug, Clone, PartialEq)]
pub struct GuideValues {
    /// The member's region code (GB/T 2260), e.g. `330000`.
    pub region: String,
    /// Time limit in working days.
    pub time_limit_days: i32,
    /// The fee.
    pub fee: Fee,
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
            fee: draft.fee,
            materials: draft.materials.clone(),
            channels: draft.channels.clone(),
        }
    }
}

/// The `required` channels not in `offered`, in channel order, without repeats.
fn missing_channels(required: &[Channel], offered: &[Channel]) -> Vec<Channel> {
    let required: BTreeSet<Channel> = required.iter().copied().collect();
    required
        .into_iter()
        .filter(|channel| !offered.contains(channel))
        .collect()
}

/// Guides to compare in the tests of every part.
#[cfg(test)]
mod testing {
    use super::GuideValues;
    use crate::Channel::Counter;
    use crate::{Channel, Fee};

    pub fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "expected {expected}, got {actual}"
        );
    }

    pub fn guide(
        region: &str,
        days: i32,
        fee: i64,
        materials: &[&str],
        channels: &[Channel],
    ) -> GuideValues {
        GuideValues {
            region: region.to_owned(),
            time_limit_days: days,
            fee: Fee::from_fen(fee).expect("a fee in range"),
            materials: materials.iter().map(|m| (*m).to_owned()).collect(),
            channels: channels.to_vec(),
        }
    }

    pub fn plain(region: &str) -> GuideValues {
        guide(region, 10, 0, &["A"], &[Counter])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel::Online;
    use crate::Fee;
    use crate::alignment::testing::*;

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
}

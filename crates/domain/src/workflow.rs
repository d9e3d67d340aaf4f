//! The workflows of collaboration: a zone's collaborative standard, which
//! comes into force when every member adopts it, and the elevation of a
//! local or regional standard to a national or industry one.

use chrono::{DateTime, Utc};

use crate::enums::closed_set;
use crate::{Provenance, RegionCode, StandardCode, StandardLevel, ValidationError};

closed_set!(
    /// A member's answer to a proposed collaborative standard.
    Decision {
        /// Not answered yet.
        Pending = "PENDING",
        Adopted = "ADOPTED",
        Rejected = "REJECTED",
    }
);

closed_set!(
    /// The life cycle of a collaborative standard proposed in a zone.
    ProposalStatus {
        /// Waiting for every member to adopt it.
        Proposed = "PROPOSED",
        /// Adopted by every member.
        InForce = "IN_FORCE",
        Withdrawn = "WITHDRAWN",
    }
);

closed_set!(
    /// Where a proposal to elevate a local or regional standard to a
    /// national or industry one stands.
    ElevationStatus {
        Proposed = "PROPOSED",
        UnderReview = "UNDER_REVIEW",
        Accepted = "ACCEPTED",
        Declined = "DECLINED",
    }
);

closed_set!(
    /// The level a standard is proposed to be raised to, spelt as that
    /// [`StandardLevel`].
    ElevationTarget {
        National = "NATIONAL",
        Industry = "INDUSTRY",
    }
);

impl ElevationTarget {
    /// The level a standard raised to this target has.
    pub fn level(self) -> StandardLevel {
        match self {
            Self::National => StandardLevel::National,
            Self::Industry => StandardLevel::Industry,
        }
    }
}

closed_set!(
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

/// A member region's decision on a zone's collaborative standard.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    /// The collaborative standard's code.
    pub standard: StandardCode,
    /// The member region.
    pub region: RegionCode,
    /// Pending until the member answers.
    pub decision: Decision,
    /// Why it rejected.
    pub reason: Option<String>,
    /// Who decided (the token's subject).
    pub decided_by: Option<String>,
    /// When it decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who may change it and how it has changed.
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::*;

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

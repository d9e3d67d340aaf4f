//! Exemptions from a national item's baseline (底线标准): a NATIONAL_ADMIN
//! lets one region publish one matter's guide below the baseline, for a
//! stated reason and a dated period.

use chrono::{DateTime, NaiveDate, Utc};

use crate::text::{NOTE_MAX, required_text};
use crate::{MatterCode, RegionCode, ValidationError};

/// An exemption as stored: the grant, who granted it, and whether and when
/// it was revoked.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemption {
    /// The region exempted.
    pub region: RegionCode,
    /// The matter whose guide may fall below the baseline.
    pub matter: MatterCode,
    /// Why, and for which days.
    pub grant: ExemptionGrant,
    /// Who granted it (the token's subject).
    pub granted_by: String,
    /// Who revoked it, if anyone did.
    pub revoked_by: Option<String>,
    /// When it was revoked; a revoked exemption covers nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Raised by each change.
    pub revision: i32,
}

impl Exemption {
    /// Whether it covers `today`: not revoked, and `today` within its period.
    pub fn in_force(&self, today: NaiveDate) -> bool {
        exemption_in_force(
            self.grant.valid_from,
            self.grant.valid_until,
            self.revoked_at.is_some(),
            today,
        )
    }

    /// Its key as the API and the change log write it.
    pub fn key(&self) -> String {
        exemption_key(
            self.region.as_str(),
            self.matter.as_str(),
            self.grant.valid_from,
        )
    }
}

/// An exemption's key as the API and the change log write it:
/// `region/matter/first day`.
pub fn exemption_key(region: &str, matter: &str, valid_from: NaiveDate) -> String {
    format!("{region}/{matter}/{valid_from}")
}

/// What a grant states: why, and from which day to which day (both included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptionGrant {
    pub rationale: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

impl ExemptionGrant {
    /// Returns the grant with its rationale trimmed, or every rule it breaks:
    /// a rationale is required, and the period may not end before it starts.
    pub fn validated(self) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let rationale = required_text("rationale", &self.rationale, NOTE_MAX).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });
        if self.valid_until < self.valid_from {
            errors.push(ValidationError::new(
                "validUntil",
                format!(
                    "{} is before validFrom {}",
                    self.valid_until, self.valid_from
                ),
            ));
        }
        if errors.is_empty() {
            Ok(Self { rationale, ..self })
        } else {
            Err(errors)
        }
    }
}

/// Whether an exemption valid from `valid_from` to `valid_until` (both
/// included) is in force on `today`; a revoked one never is.
fn exemption_in_force(
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    revoked: bool,
    today: NaiveDate,
) -> bool {
    !revoked && valid_from <= today && today <= valid_until
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::refused_fields;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_grant_needs_a_reason_and_an_ordered_period() {
        let grant = ExemptionGrant {
            rationale: "  山区网点少  ".into(),
            valid_from: day("2026-01-01"),
            valid_until: day("2026-12-31"),
        };
        assert_eq!(grant.clone().validated().unwrap().rationale, "山区网点少");
        let broken = ExemptionGrant {
            rationale: " ".into(),
            valid_until: day("2025-12-31"),
            ..grant
        };
        let fields = refused_fields(broken.validated());
        assert_eq!(fields, ["rationale", "validUntil"]);
    }

    #[test]
    fn an_exemption_is_in_force_on_the_days_it_names() {
        let (from, until) = (day("2026-01-01"), day("2026-06-30"));
        assert!(exemption_in_force(from, until, false, from));
        assert!(exemption_in_force(from, until, false, until));
        assert!(!exemption_in_force(from, until, false, day("2025-12-31")));
        assert!(!exemption_in_force(from, until, false, day("2026-07-01")));
        assert!(!exemption_in_force(from, until, true, day("2026-03-01")));
    }
}

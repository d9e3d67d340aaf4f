//! Who is calling, and what they may see and do.
//!
//! Verifies and issues JWTs, holds the roles, the principal a request runs as,
//! and the policy that the GraphQL layer asks. Knows nothing of databases or
//! HTTP: it depends only on `domain` for codes.

mod error;
mod issue;
mod keys;
mod policy;
mod settings;
mod verify;

use std::fmt;
use std::str::FromStr;

use concord_domain::{RegionCode, ZoneCode};

pub use error::AuthError;
pub use issue::{TokenRequest, generate_secret, issue_hs256, parse_ttl};
pub use policy::{
    Action, AuditScope, Authorized, Denial, DraftScope, Node, Target, audit_scope, authorize,
    conflict_scope, draft_scope, federation_part, may_attempt, may_query, may_read_changes,
};
pub use settings::{AuthSettings, KeyAlgorithm, PublicKeyFile};
pub use verify::{Verifier, bearer_token};

/// A role named in a token's `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads published data.
    Viewer,
    /// Writes its own region's rows; its token names the region.
    ProvinceAdmin,
    /// Writes its zone's collaborative standards; its token names the zone.
    ZoneCoordinator,
    /// Writes everything on the national hub.
    NationalAdmin,
    /// Reads the change feed for province-to-province sync.
    SyncAgent,
    /// Another node of the zone asking for this node's part of a live zone
    /// query; its token names the caller's region.
    Federation,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: &'static [Role] = &[
        Role::Viewer,
        Role::ProvinceAdmin,
        Role::ZoneCoordinator,
        Role::NationalAdmin,
        Role::SyncAgent,
        Role::Federation,
    ];

    /// The spelling used in tokens, the audit log and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "VIEWER",
            Role::ProvinceAdmin => "PROVINCE_ADMIN",
            Role::ZoneCoordinator => "ZONE_COORDINATOR",
            Role::NationalAdmin => "NATIONAL_ADMIN",
            Role::SyncAgent => "SYNC_AGENT",
            Role::Federation => "FEDERATION",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(text: &str) -> Result<Self, AuthError> {
        Role::ALL
            .iter()
            .copied()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| AuthError::UnknownRole(text.to_owned()))
    }
}

/// The caller of a request: anonymous, or what a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`; None when anonymous.
    pub subject: Option<String>,
    /// The token's `role`; None when anonymous.
    pub role: Option<Role>,
    /// The region of a PROVINCE_ADMIN, or the calling node's region for FEDERATION.
    pub region: Option<RegionCode>,
    /// The zone of a ZONE_COORDINATOR.
    pub zone: Option<ZoneCode>,
}

impl Principal {
    /// A caller without a token: reads published data only.
    pub fn anonymous() -> Self {
        Self {
            subject: None,
            role: None,
            region: None,
            zone: None,
        }
    }

    /// An authenticated principal whose region and zone fit its role: a
    /// PROVINCE_ADMIN or FEDERATION names a region, a ZONE_COORDINATOR a
    /// zone, others neither.
    fn scoped(
        subject: String,
        role: Role,
        region: Option<RegionCode>,
        zone: Option<ZoneCode>,
    ) -> Result<Self, AuthError> {
        let misfit = match (role, &region, &zone) {
            (Role::ProvinceAdmin | Role::Federation, Some(_), None)
            | (Role::ZoneCoordinator, None, Some(_))
            | (Role::Viewer | Role::NationalAdmin | Role::SyncAgent, None, None) => None,
            (Role::ProvinceAdmin | Role::Federation, None, _) => Some("must name its region"),
            (Role::ProvinceAdmin | Role::Federation, Some(_), Some(_)) => {
                Some("names a region, not a zone")
            }
            (Role::ZoneCoordinator, _, None) => Some("must name its zone"),
            (Role::ZoneCoordinator, Some(_), Some(_)) => Some("names a zone, not a region"),
            (Role::Viewer | Role::NationalAdmin | Role::SyncAgent, _, _) => {
                Some("names no region or zone")
            }
        };
        match misfit {
            Some(rule) => Err(AuthError::Scope(format!("a {role} token {rule}"))),
            None => Ok(Self {
                subject: Some(subject),
                role: Some(role),
                region,
                zone,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_print_and_parse_back() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
            assert_eq!(role.to_string(), role.as_str());
        }
    }

    #[test]
    fn an_unknown_role_lists_the_allowed_ones() {
        let error = "province_admin".parse::<Role>().unwrap_err();
        assert_eq!(error, AuthError::UnknownRole("province_admin".into()));
        let message = error.to_string();
        for role in Role::ALL {
            assert!(message.contains(role.as_str()), "{message}");
        }
    }

    #[test]
    fn a_principal_names_exactly_the_scope_its_role_needs() {
        let region = || Some(RegionCode::try_from("330000").unwrap());
        let zone = || Some(ZoneCode::try_from("YRD").unwrap());
        let scoped = |role, region, zone| Principal::scoped("someone".into(), role, region, zone);

        assert!(scoped(Role::ProvinceAdmin, region(), None).is_ok());
        assert!(scoped(Role::Federation, region(), None).is_ok());
        assert!(scoped(Role::Federation, None, None).is_err());
        assert!(scoped(Role::Federation, None, zone()).is_err());
        assert!(scoped(Role::ZoneCoordinator, None, zone()).is_ok());
        for role in [Role::Viewer, Role::NationalAdmin, Role::SyncAgent] {
            assert!(scoped(role, None, None).is_ok());
            assert!(scoped(role, region(), None).is_err());
            assert!(scoped(role, None, zone()).is_err());
        }
        assert_eq!(
            scoped(Role::ProvinceAdmin, None, None),
            Err(AuthError::Scope(
                "a PROVINCE_ADMIN token must name its region".into()
            ))
        );
        assert!(scoped(Role::ProvinceAdmin, region(), zone()).is_err());
        assert_eq!(
            scoped(Role::ZoneCoordinator, None, None),
            Err(AuthError::Scope(
                "a ZONE_COORDINATOR token must name its zone".into()
            ))
        );
        assert!(scoped(Role::ZoneCoordinator, region(), zone()).is_err());
    }
}

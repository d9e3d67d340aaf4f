//! Who is calling, and what they may see and do.
//!
//! Holds the roles, the principal a request runs as, and the policy that the
//! GraphQL layer asks. Knows nothing of databases or HTTP.

use concord_domain::{RegionCode, ZoneCode};

/// A role named in a token's `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Viewer,
    ProvinceAdmin,
    ZoneCoordinator,
    NationalAdmin,
    SyncAgent,
}

/// The caller of a request: anonymous, or what a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: Option<String>,
    pub role: Option<Role>,
    pub region: Option<RegionCode>,
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
}

/// Whose unpublished rows (draft guides, draft standards) a principal may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftScope {
    /// Published rows only.
    None,
    /// Its own region's drafts.
    Region(RegionCode),
    /// The drafts of every member of its zone.
    ZoneMembers(ZoneCode),
    /// Every draft.
    All,
}

/// The policy for reading drafts: province admins see their own region's,
/// zone coordinators their members', national admins everything.
pub fn draft_scope(principal: &Principal) -> DraftScope {
    match (principal.role, &principal.region, &principal.zone) {
        (Some(Role::NationalAdmin), _, _) => DraftScope::All,
        (Some(Role::ProvinceAdmin), Some(region), _) => DraftScope::Region(region.clone()),
        (Some(Role::ZoneCoordinator), _, Some(zone)) => DraftScope::ZoneMembers(zone.clone()),
        _ => DraftScope::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, region: Option<&str>, zone: Option<&str>) -> Principal {
        Principal {
            subject: Some("test".into()),
            role: Some(role),
            region: region.map(|r| RegionCode::try_from(r).unwrap()),
            zone: zone.map(|z| ZoneCode::try_from(z).unwrap()),
        }
    }

    #[test]
    fn drafts_are_visible_by_role_and_scope() {
        assert_eq!(draft_scope(&Principal::anonymous()), DraftScope::None);
        assert_eq!(
            draft_scope(&principal(Role::Viewer, None, None)),
            DraftScope::None
        );
        assert_eq!(
            draft_scope(&principal(Role::SyncAgent, None, None)),
            DraftScope::None
        );
        assert_eq!(
            draft_scope(&principal(Role::ProvinceAdmin, Some("330000"), None)),
            DraftScope::Region(RegionCode::try_from("330000").unwrap())
        );
        assert_eq!(
            draft_scope(&principal(Role::ProvinceAdmin, None, None)),
            DraftScope::None
        );
        assert_eq!(
            draft_scope(&principal(Role::ZoneCoordinator, None, Some("YRD"))),
            DraftScope::ZoneMembers(ZoneCode::try_from("YRD").unwrap())
        );
        assert_eq!(
            draft_scope(&principal(Role::NationalAdmin, None, None)),
            DraftScope::All
        );
    }
}

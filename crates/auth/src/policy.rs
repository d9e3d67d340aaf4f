//! The policy: what each principal may read and change. Resolvers ask these
//! functions and never decide access themselves.

use concord_domain::{RegionCode, StandardLevel, ZoneCode};

use crate::{Principal, Role};

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

/// Something a principal asks to do. Every variant but `ReadAuditLog` is a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create or update a region's service guide (as a draft).
    SaveGuide,
    /// Make a guide public.
    PublishGuide,
    /// Take a guide back to draft.
    UnpublishGuide,
    /// Save the operating procedure of a guide (as a draft).
    SaveProcedure,
    /// Make an operating procedure public.
    PublishProcedure,
    /// Create a standard.
    CreateStandard,
    /// Revise a standard's fields.
    ReviseStandard,
    /// Move a standard through its life cycle.
    SetStandardStatus,
    /// Mark a standard as superseded by another.
    SupersedeStandard,
    /// Create or update a service matter of the national catalogue.
    SaveMatter,
    /// Create or update an item of the national basic public service standard.
    SaveNationalItem,
    /// Let a region publish a matter's guide below its national baseline for a while.
    GrantBaselineExemption,
    /// End a baseline exemption.
    RevokeBaselineExemption,
    /// Record a region's evaluation of a matter for a period.
    RecordEvaluation,
    /// Propose a zone's collaborative standard (a REGIONAL standard).
    ProposeCollaborativeStandard,
    /// Withdraw a zone's collaborative standard while it is proposed.
    WithdrawCollaborativeStandard,
    /// Adopt or reject a collaborative standard for a member region.
    DecideAdoption,
    /// Propose raising a local or regional standard to a national or industry one.
    ProposeElevation,
    /// Move an elevation proposal to review, acceptance or decline.
    DecideElevation,
    /// Settle a sync conflict on a row this node owns.
    ResolveSyncConflict,
    /// Read the audit log.
    ReadAuditLog,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: &'static [Action] = &[
        Action::SaveGuide,
        Action::PublishGuide,
        Action::UnpublishGuide,
        Action::SaveProcedure,
        Action::PublishProcedure,
        Action::CreateStandard,
        Action::ReviseStandard,
        Action::SetStandardStatus,
        Action::SupersedeStandard,
        Action::SaveMatter,
        Action::SaveNationalItem,
        Action::GrantBaselineExemption,
        Action::RevokeBaselineExemption,
        Action::RecordEvaluation,
        Action::ProposeCollaborativeStandard,
        Action::WithdrawCollaborativeStandard,
        Action::DecideAdoption,
        Action::ProposeElevation,
        Action::DecideElevation,
        Action::ResolveSyncConflict,
        Action::ReadAuditLog,
    ];

    /// The phrase a denial uses: "may not {describe}".
    fn describe(self) -> &'static str {
        match self {
            Action::SaveGuide => "save a service guide",
            Action::PublishGuide => "publish a service guide",
            Action::UnpublishGuide => "unpublish a service guide",
            Action::SaveProcedure => "save an operating procedure",
            Action::PublishProcedure => "publish an operating procedure",
            Action::CreateStandard => "create a standard",
            Action::ReviseStandard => "revise a standard",
            Action::SetStandardStatus => "set a standard's status",
            Action::SupersedeStandard => "supersede a standard",
            Action::SaveMatter => "save a service matter",
            Action::SaveNationalItem => "save a national item",
            Action::GrantBaselineExemption => "grant a baseline exemption",
            Action::RevokeBaselineExemption => "revoke a baseline exemption",
            Action::RecordEvaluation => "record an evaluation",
            Action::ProposeCollaborativeStandard => "propose a collaborative standard",
            Action::WithdrawCollaborativeStandard => "withdraw a collaborative standard",
            Action::DecideAdoption => "decide the adoption of a collaborative standard",
            Action::ProposeElevation => "propose the elevation of a standard",
            Action::DecideElevation => "decide an elevation proposal",
            Action::ResolveSyncConflict => "settle a sync conflict",
            Action::ReadAuditLog => "read the audit log",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Action::SaveGuide
            | Action::PublishGuide
            | Action::UnpublishGuide
            | Action::SaveProcedure
            | Action::PublishProcedure
            | Action::RecordEvaluation
            | Action::DecideAdoption
            | Action::ResolveSyncConflict => Kind::RegionRow,
            Action::CreateStandard
            | Action::ReviseStandard
            | Action::SetStandardStatus
            | Action::SupersedeStandard
            | Action::ProposeCollaborativeStandard
            | Action::WithdrawCollaborativeStandard
            | Action::ProposeElevation => Kind::Standard,
            Action::SaveMatter
            | Action::SaveNationalItem
            | Action::GrantBaselineExemption
            | Action::RevokeBaselineExemption
            | Action::DecideElevation => Kind::Catalogue,
            Action::ReadAuditLog => Kind::AuditRead,
        }
    }
}

/// How the policy groups actions.
enum Kind {
    /// Guides, procedures, evaluations and adoptions: rows a region owns.
    RegionRow,
    /// Standards of any level.
    Standard,
    /// The national catalogue (matters, national items, baseline
    /// exemptions) and elevation decisions.
    Catalogue,
    /// Reading the audit log, scoped by [`audit_scope`].
    AuditRead,
}

/// The row an action touches, as far as the policy needs to know it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Target<'a> {
    /// The region that owns the row (its origin), or None for a national row (catalogue, national/industry standards).
    pub region: Option<&'a RegionCode>,
    /// For standards: the standard's level.
    pub level: Option<StandardLevel>,
    /// For REGIONAL standards: the issuing zone.
    pub zone: Option<&'a ZoneCode>,
}

/// What this deployment is: a national hub (None) or the node of one province.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The province whose rows this node may write; None on the national hub.
    pub region: Option<RegionCode>,
}

/// Why the policy said no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// No token was presented; the action needs one.
    #[error("this action needs a token: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    /// The caller is known but may not do this; the text says why, for the client.
    #[error("{0}")]
    Forbidden(String),
}

/// Which audit entries a principal may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditScope {
    /// Every entry.
    All,
    /// Entries of changes to this region's rows.
    Region(RegionCode),
}

/// Whether a principal could do `action` to some row at all: the check a
/// mutation makes before it reads a row or looks at its input, so that an
/// anonymous caller gets UNAUTHENTICATED and a role that may never do it
/// gets FORBIDDEN, whatever it sends and whether or not the row exists.
/// [`authorize`] still decides for the row itself.
pub fn may_attempt(principal: &Principal, action: Action) -> Result<(), Denial> {
    let Some(role) = principal.role else {
        return Err(Denial::Unauthenticated);
    };
    let possible = match (role, action.kind()) {
        (Role::NationalAdmin, _) => true,
        (Role::ProvinceAdmin, kind) => !matches!(kind, Kind::Catalogue),
        (Role::ZoneCoordinator, kind) => matches!(kind, Kind::Standard),
        (Role::Viewer | Role::SyncAgent | Role::Federation, _) => false,
    };
    if possible {
        Ok(())
    } else {
        Err(role_may_not(role, action))
    }
}

/// Proof that the policy let a caller do something: only [`authorize`]
/// makes one, and every write of `persistence` takes one, so a write whose
/// caller was never checked does not compile. It names the caller for the
/// audit log.
#[derive(Debug, Clone)]
pub struct Authorized {
    subject: String,
    role: Role,
    region: Option<RegionCode>,
    zone: Option<ZoneCode>,
}

impl Authorized {
    /// The token's subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The region of a PROVINCE_ADMIN.
    pub fn region(&self) -> Option<&RegionCode> {
        self.region.as_ref()
    }

    /// The zone of a ZONE_COORDINATOR.
    pub fn zone(&self) -> Option<&ZoneCode> {
        self.zone.as_ref()
    }
}

/// The one place that answers "may this principal do this action to this
/// target on this node": the proof that it may, or why not.
///
/// For `ReadAuditLog` the target is not consulted: which entries may be read
/// comes from [`audit_scope`].
pub fn authorize(
    principal: &Principal,
    action: Action,
    target: &Target<'_>,
    node: &Node,
) -> Result<Authorized, Denial> {
    let Some(role) = principal.role else {
        return Err(Denial::Unauthenticated);
    };
    let proof = || Authorized {
        subject: principal.subject.clone().unwrap_or_default(),
        role,
        region: principal.region.clone(),
        zone: principal.zone.clone(),
    };
    if let Kind::AuditRead = action.kind() {
        return audit_scope(principal).map(|_| proof());
    }
    match role {
        Role::NationalAdmin => {}
        Role::ProvinceAdmin => province_admin(principal.region.as_ref(), action, target)?,
        Role::ZoneCoordinator => zone_coordinator(principal.zone.as_ref(), action, target)?,
        Role::Viewer | Role::SyncAgent | Role::Federation => {
            return Err(role_may_not(role, action));
        }
    }
    // A province node holds peers' rows only as replicas, and the national
    // catalogue belongs to the hub: whatever the token, it writes its own rows only.
    if let Some(own) = &node.region
        && target.region != Some(own)
    {
        let owner = match target.region {
            Some(other) => format!("this row belongs to region {other}"),
            None => "this row is national".to_owned(),
        };
        return Err(Denial::Forbidden(format!(
            "this node writes only rows of region {own}; {owner}"
        )));
    }
    Ok(proof())
}

fn province_admin(
    region: Option<&RegionCode>,
    action: Action,
    target: &Target<'_>,
) -> Result<(), Denial> {
    let Some(own) = region else {
        return Err(Denial::Forbidden(
            "a PROVINCE_ADMIN token without a region may change nothing".to_owned(),
        ));
    };
    match action.kind() {
        Kind::Standard if target.level != Some(StandardLevel::Local) => {
            let level = target.level.map_or("unknown", StandardLevel::as_str);
            Err(Denial::Forbidden(format!(
                "a PROVINCE_ADMIN may {} only at LOCAL level; this one is {level}",
                action.describe()
            )))
        }
        Kind::RegionRow | Kind::Standard if target.region == Some(own) => Ok(()),
        Kind::RegionRow | Kind::Standard => {
            let whose = match target.region {
                Some(other) => format!("region {other}"),
                None => "the nation".to_owned(),
            };
            Err(Denial::Forbidden(format!(
                "a PROVINCE_ADMIN of {own} may {} only for region {own}, not for {whose}",
                action.describe()
            )))
        }
        Kind::Catalogue => Err(role_may_not(Role::ProvinceAdmin, action)),
        // Allowed; `audit_scope` limits it to the admin's own region.
        Kind::AuditRead => Ok(()),
    }
}

fn zone_coordinator(
    zone: Option<&ZoneCode>,
    action: Action,
    target: &Target<'_>,
) -> Result<(), Denial> {
    let Some(own) = zone else {
        return Err(Denial::Forbidden(
            "a ZONE_COORDINATOR token without a zone may change nothing".to_owned(),
        ));
    };
    if !matches!(action.kind(), Kind::Standard) {
        return Err(role_may_not(Role::ZoneCoordinator, action));
    }
    if target.level == Some(StandardLevel::Regional) && target.zone == Some(own) {
        Ok(())
    } else {
        Err(Denial::Forbidden(format!(
            "a ZONE_COORDINATOR of {own} may {} only for REGIONAL standards of zone {own}",
            action.describe()
        )))
    }
}

fn role_may_not(role: Role, action: Action) -> Denial {
    Denial::Forbidden(format!("role {role} may not {}", action.describe()))
}

/// Which audit entries a principal may read (NATIONAL_ADMIN all; PROVINCE_ADMIN its region's); else Denial.
pub fn audit_scope(principal: &Principal) -> Result<AuditScope, Denial> {
    match (principal.role, &principal.region) {
        (None, _) => Err(Denial::Unauthenticated),
        (Some(Role::NationalAdmin), _) => Ok(AuditScope::All),
        (Some(Role::ProvinceAdmin), Some(region)) => Ok(AuditScope::Region(region.clone())),
        (Some(role), _) => Err(role_may_not(role, Action::ReadAuditLog)),
    }
}

/// Whose sync conflicts a principal may list: every region's (None) for
/// NATIONAL_ADMIN and SYNC_AGENT, its own region's for a PROVINCE_ADMIN,
/// who settles them; nobody else's.
pub fn conflict_scope(principal: &Principal) -> Result<Option<RegionCode>, Denial> {
    match (principal.role, &principal.region) {
        (None, _) => Err(Denial::Unauthenticated),
        (Some(Role::NationalAdmin | Role::SyncAgent), _) => Ok(None),
        (Some(Role::ProvinceAdmin), Some(region)) => Ok(Some(region.clone())),
        (Some(role), _) => Err(Denial::Forbidden(format!(
            "role {role} may not list sync conflicts"
        ))),
    }
}

/// Whether a principal may read the change feed and the sync status: the
/// sync agents that replicate this node, and NATIONAL_ADMIN.
pub fn may_read_changes(principal: &Principal) -> Result<(), Denial> {
    match principal.role {
        None => Err(Denial::Unauthenticated),
        Some(Role::SyncAgent | Role::NationalAdmin) => Ok(()),
        Some(role) => Err(Denial::Forbidden(format!(
            "role {role} may not read the change feed; it is for SYNC_AGENT and NATIONAL_ADMIN"
        ))),
    }
}

/// Whether a principal may send GraphQL requests: everyone but
/// FEDERATION. The GraphQL API shows every region's published rows this
/// node holds, replicas included, and a peer node may read only what this
/// node itself publishes ([`federation_part`]).
pub fn may_query(principal: &Principal) -> Result<(), Denial> {
    match principal.role {
        Some(Role::Federation) => Err(Denial::Forbidden(
            "a FEDERATION token reads only this node's part (/federation/part), not /graphql"
                .to_owned(),
        )),
        _ => Ok(()),
    }
}

/// The region whose published rows a principal may read as this node's
/// part of a live zone query: always this node's own region, and only for
/// a FEDERATION token. A national hub publishes no member part.
pub fn federation_part(principal: &Principal, node: &Node) -> Result<RegionCode, Denial> {
    match principal.role {
        None => Err(Denial::Unauthenticated),
        Some(Role::Federation) => node.region.clone().ok_or_else(|| {
            Denial::Forbidden(
                "this node is a national hub (node.region is unset) and serves no member part"
                    .to_owned(),
            )
        }),
        Some(role) => Err(Denial::Forbidden(format!(
            "role {role} may not read a member part; it is for FEDERATION tokens"
        ))),
    }
}

#[cfg(test)]
mod tests;

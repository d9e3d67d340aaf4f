//! GraphQL mirrors of the domain's closed sets.

use async_graphql::Enum;
use concord_domain as domain;
use concord_persistence::entity::Stored;

macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident $(as $graphql:literal)? { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        $(#[graphql(name = $graphql)])?
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<domain::$name> for $name {
            fn from(value: domain::$name) -> Self {
                match value {
                    $(domain::$name::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for domain::$name {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => domain::$name::$variant),+
                }
            }
        }

        impl From<Stored<domain::$name>> for $name {
            fn from(value: Stored<domain::$name>) -> Self {
                Self::from(value.0)
            }
        }
    };
}

mirror!(
    /// The kind of a provincial-level division.
    RegionKind {
        /// A province (省).
        Province,
        /// A municipality directly under the central government (直辖市).
        Municipality,
        /// An autonomous region (自治区).
        AutonomousRegion,
        /// A special administrative region (特别行政区).
        Sar,
    }
);

mirror!(
    /// Where a standard sits in the standard system.
    StandardLevel {
        /// A national standard (GB, GB/T).
        National,
        /// An industry standard, such as HR&SS's LD/T.
        Industry,
        /// A local standard of a province or city (DB).
        Local,
        /// A cross-regional collaborative standard of a zone.
        Regional,
        /// A group standard of an association (T/).
        Group,
        /// An internal standard of an agency (Q/).
        Internal,
    }
);

mirror!(
    /// The life cycle of a standard.
    StandardStatus {
        /// Being written; visible only to those who may edit it.
        Draft,
        /// In force.
        InForce,
        /// Replaced by a newer standard.
        Superseded,
        /// Withdrawn without replacement.
        Withdrawn,
    }
);

mirror!(
    /// Whether a service guide is visible to the public.
    GuideStatus {
        /// Being written; visible only to those who may edit it.
        Draft,
        /// Published.
        Published,
    }
);

mirror!(
    /// How a citizen can have a matter handled.
    Channel {
        /// At a service hall counter.
        Counter,
        /// On a web portal.
        Online,
        /// In a mobile app or mini-program.
        Mobile,
        /// In any province (跨省通办).
        CrossProvince,
    }
);

mirror!(
    /// Where a collaborative standard stands.
    ProposalStatus as "CollaborativeStandardStatus" {
        /// Waiting for every member to adopt it.
        Proposed,
        /// Adopted by every member.
        InForce,
        /// Withdrawn by the zone.
        Withdrawn,
    }
);

mirror!(
    /// A member's answer to a collaborative standard, so far.
    Decision as "AdoptionDecision" {
        /// Not answered yet.
        Pending,
        /// The member adopts it.
        Adopted,
        /// The member rejects it.
        Rejected,
    }
);

mirror!(
    /// Where a proposal to elevate a standard stands.
    ElevationStatus {
        /// Proposed, not yet taken up.
        Proposed,
        /// Under review by the national administration.
        UnderReview,
        /// Accepted: the standard is to be raised.
        Accepted,
        /// Declined.
        Declined,
    }
);

mirror!(
    /// Where a standard is proposed to be raised to.
    ElevationTarget {
        /// A national standard.
        National,
        /// An industry standard.
        Industry,
    }
);

mirror!(
    /// A kind of row that is audited, versioned and replicated.
    RowKind {
        /// A service matter of the catalogue.
        Matter,
        /// A standard.
        Standard,
        /// A region's service guide.
        Guide,
        /// A region's operating procedure.
        Procedure,
        /// An item of the national standard.
        NationalItem,
        /// A region's evaluation of a matter for a period.
        Evaluation,
        /// A zone's collaborative standard.
        CollaborativeStandard,
        /// A member's decision on a collaborative standard.
        Adoption,
        /// A baseline exemption.
        #[graphql(name = "BASELINE_EXEMPTION")]
        Exemption,
        /// An elevation proposal.
        Elevation,
    }
);

mirror!(
    /// What an audited change did.
    AuditAction {
        /// A matter was added to the catalogue.
        CreateMatter,
        /// A matter of the catalogue was changed.
        UpdateMatter,
        /// An item of the national standard was added.
        CreateNationalItem,
        /// An item of the national standard was changed.
        UpdateNationalItem,
        /// A region's first guide for a matter was saved.
        CreateGuide,
        /// A guide was changed.
        UpdateGuide,
        /// A guide was published.
        PublishGuide,
        /// A guide was taken back to draft.
        UnpublishGuide,
        /// A procedure's steps were saved.
        SaveProcedure,
        /// A procedure was published.
        PublishProcedure,
        /// A standard was created.
        CreateStandard,
        /// A standard's content was revised.
        ReviseStandard,
        /// A standard moved along its life cycle.
        SetStandardStatus,
        /// A standard was superseded by another, or superseded one.
        SupersedeStandard,
        /// A zone proposed a collaborative standard.
        ProposeCollaborativeStandard,
        /// A member adopted a collaborative standard.
        AdoptCollaborativeStandard,
        /// A member rejected a collaborative standard.
        RejectCollaborativeStandard,
        /// A collaborative standard was withdrawn.
        WithdrawCollaborativeStandard,
        /// Raising a standard's level was proposed.
        ProposeElevation,
        /// An elevation proposal was decided.
        DecideElevation,
        /// An accepted elevation created its national or industry standard.
        ElevateStandard,
        /// A baseline exemption was granted.
        GrantBaselineExemption,
        /// A baseline exemption was revoked.
        RevokeBaselineExemption,
        /// An evaluation was recorded.
        RecordEvaluation,
        /// A replication conflict was settled.
        ResolveSyncConflict,
    }
);

mirror!(
    /// Which version of a conflicted row a settlement keeps.
    Settlement as "ConflictChoice" {
        /// The version the row has: the conflict closes and the row stays.
        Winner,
        /// The version that lost: it becomes the row's next revision.
        Loser,
    }
);

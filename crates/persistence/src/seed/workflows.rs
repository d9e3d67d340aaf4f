//! Illustrative collaboration: a collaborative standard in force in the
//! Yangtze River Delta, one still proposed in Jing-Jin-Ji with a member's
//! rejection, and an elevation proposal under review — so that every
//! workflow has something to show on a new node. All of it is flagged
//! illustrative; the REGIONAL codes are invented.

use chrono::{DateTime, Utc};
use concord_domain::workflow::{Decision, ElevationStatus, ElevationTarget, ProposalStatus};
use concord_domain::{Channel, Origin, StandardLevel, StandardStatus};
use sea_orm::{ConnectionTrait, Set};

use super::{Seeding, first_revision, insert_missing};
use crate::StoreError;
use crate::entity::{
    ChannelList, adoption, collaborative_standard, elevation_proposal, standard, standard_matter,
};
use crate::search::{self, Searched};

struct Collaboration {
    code: &'static str,
    zone: &'static str,
    title_zh: &'static str,
    title_en: &'static str,
    matters: &'static [&'static str],
    max_time_limit_days: Option<i32>,
    required_channels: &'static [Channel],
    /// Each member's decision, with the reason for a rejection.
    decisions: &'static [(&'static str, Decision, Option<&'static str>)],
}

const COLLABORATIONS: &[Collaboration] = &[
    Collaboration {
        code: "DB31/T 310901-2026",
        zone: "YRD",
        title_zh: "长三角社会保障卡跨省通办服务规范（示例）",
        title_en: "YRD social security card cross-province service specification (illustrative)",
        matters: &["SI-CARD-APPLICATION", "SI-CARD-REPLACEMENT"],
        max_time_limit_days: Some(10),
        required_channels: &[Channel::Online, Channel::CrossProvince],
        decisions: &[
            ("310000", Decision::Adopted, None),
            ("320000", Decision::Adopted, None),
            ("330000", Decision::Adopted, None),
            ("340000", Decision::Adopted, None),
        ],
    },
    Collaboration {
        code: "DB11/T 9901-2026",
        zone: "JJJ",
        title_zh: "京津冀养老保险关系转移接续服务规范（示例）",
        title_en: "JJJ pension insurance relationship transfer service specification (illustrative)",
        matters: &["SI-PENSION-TRANSFER"],
        max_time_limit_days: Some(15),
        required_channels: &[Channel::Online],
        decisions: &[
            ("110000", Decision::Adopted, None),
            ("120000", Decision::Pending, None),
            (
                "130000",
                Decision::Rejected,
                Some("经办系统尚不支持全程网办，系统升级完成后再行采纳"),
            ),
        ],
    },
];

const ELEVATED: &str = "DB5108/T 54-2024";

pub(super) async fn load<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let example = Seeding {
        origin: Origin::National.as_str(),
        illustrative: true,
        at: now,
    };
    let mut standards = Vec::new();
    let mut links = Vec::new();
    let mut targets = Vec::new();
    let mut adoptions = Vec::new();
    for c in COLLABORATIONS {
        let statuses: Vec<Decision> = c.decisions.iter().map(|d| d.1).collect();
        let status = concord_domain::workflow::proposal_status(&statuses);
        let standard_status = match status {
            ProposalStatus::InForce => StandardStatus::InForce,
            ProposalStatus::Proposed => StandardStatus::Draft,
            ProposalStatus::Withdrawn => StandardStatus::Withdrawn,
        };
        standards.push(first_revision!(
            standard::ActiveModel {
                code: Set(c.code.to_owned()),
                title_zh: Set(c.title_zh.to_owned()),
                title_en: Set(c.title_en.to_owned()),
                level: Set(StandardLevel::Regional.into()),
                status: Set(standard_status.into()),
                issuing_region: Set(None),
                issuing_zone: Set(Some(c.zone.to_owned())),
                issued_on: Set(None),
                effective_on: Set(None),
                supersedes: Set(None),
                review_on: Set(None),
                elevated_from: Set(None),
                note: Set("illustrative collaborative standard; the code is invented".to_owned()),
            },
            example,
        ));
        for matter in c.matters {
            links.push(standard_matter::ActiveModel {
                standard_code: Set(c.code.to_owned()),
                matter_code: Set((*matter).to_owned()),
            });
        }
        targets.push(first_revision!(
            collaborative_standard::ActiveModel {
                standard_code: Set(c.code.to_owned()),
                zone_code: Set(c.zone.to_owned()),
                status: Set(status.into()),
                max_time_limit_days: Set(c.max_time_limit_days),
                materials: Set(None),
                required_channels: Set(Some(ChannelList(c.required_channels.to_vec()))),
            },
            example,
        ));
        for (region, decision, reason) in c.decisions {
            let decided = *decision != Decision::Pending;
            adoptions.push(first_revision!(
                adoption::ActiveModel {
                    standard_code: Set(c.code.to_owned()),
                    region_code: Set((*region).to_owned()),
                    decision: Set((*decision).into()),
                    reason: Set(reason.map(str::to_owned)),
                    decided_by: Set(decided.then(|| "illustrative".to_owned())),
                    decided_at: Set(decided.then_some(now)),
                },
                Seeding {
                    origin: region,
                    ..example
                },
            ));
        }
    }
    let codes = super::codes(&standards, |s| &s.code);
    let mut inserted = insert_missing(conn, standards).await?;
    search::reindex(conn, Searched::Standard, &codes).await?;
    inserted += insert_missing(conn, links).await?;
    inserted += insert_missing(conn, targets).await?;
    inserted += insert_missing(conn, adoptions).await?;

    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let proposed = elevation_proposal::Entity::find()
        .filter(elevation_proposal::Column::StandardCode.eq(ELEVATED))
        .count(conn)
        .await?;
    if proposed == 0 {
        elevation_proposal::Entity::insert(elevation_proposal::ActiveModel {
            id: sea_orm::NotSet,
            standard_code: Set(ELEVATED.to_owned()),
            number: Set(1),
            target_level: Set(ElevationTarget::Industry.into()),
            rationale: Set(
                "基层服务阵地建设指南经广元市实践检验，可为全国人社基层服务平台建设提供统一指引（示例）".to_owned(),
            ),
            status: Set(ElevationStatus::UnderReview.into()),
            proposed_by: Set("illustrative".to_owned()),
            decided_by: Set(None),
            decided_at: Set(None),
            elevated_code: Set(None),
            keep_local: Set(false),
            origin: Set("510000".to_owned()),
            revision: Set(2),
            illustrative: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(conn)
        .await?;
        inserted += 1;
    }
    Ok(inserted)
}

//! The illustrative data set: service matters from `data/illustrative/matters.json`,
//! and for each of them a guide and an operating procedure in every member
//! region of every zone and in every pilot province.
//!
//! Each region's guide is derived from the matter's template with a
//! deterministic variation, so that regions differ the way real provinces'
//! guides do: in time limits, in the extra materials some of them ask for,
//! in whether a mobile channel exists, and in fees.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use concord_domain::{
    Channel, Fee, GuideDraft, GuideStatus, MatterCode, Origin, ProcedureStep, ServedGroup,
    StandardCode,
};
use sea_orm::{ConnectionTrait, Set};
use serde::Deserialize;

use super::{Seeding, first_revision, insert_missing, reference};
use crate::StoreError;
use crate::entity::{
    ChannelList, StepList, TextList, evaluation, national_item, operating_procedure, service_guide,
    service_matter, standard_matter,
};
use crate::search::{self, Searched};

const MATTERS: &str = include_str!("../../../../data/illustrative/matters.json");
const FILE: &str = "matters.json";

/// Zone members (from `zones.csv`) and the pilot provinces: the regions that
/// get an illustrative guide for every matter.
const REGIONS: &[&str] = &[
    "110000", "120000", "130000", // Jing-Jin-Ji
    "310000", "320000", "330000", "340000", // Yangtze River Delta
    "440000", "810000", "820000", // Greater Bay Area
    "500000", "510000", // Chengdu-Chongqing
    "220000", "420000", "460000", "530000", // other pilot provinces
];

#[derive(Deserialize)]
struct Catalogue {
    matters: Vec<MatterTemplate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MatterTemplate {
    code: String,
    name_zh: String,
    name_en: String,
    category: String,
    national_item: Option<String>,
    standards: Vec<String>,
    guide: GuideTemplate,
    procedure: Vec<ProcedureStep>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuideTemplate {
    time_limit_days: i32,
    fee: String,
    materials: Vec<String>,
    optional_materials: Vec<String>,
    channels: Vec<Channel>,
    legal_basis: String,
    guarantee_level: Option<String>,
}

fn invalid(message: impl ToString) -> StoreError {
    StoreError::Reference {
        file: FILE,
        message: message.to_string(),
    }
}

/// FNV-1a: a stable hash, so the data set is the same on every node and run.
fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// One region's version of a matter's guide and procedure.
fn vary(
    region: &str,
    template: &MatterTemplate,
    pilot: bool,
) -> Result<(GuideDraft, Vec<ProcedureStep>), StoreError> {
    let hash = stable_hash(&[region, &template.code]);
    let base = template.guide.time_limit_days;
    // Up to a fifth faster or slower; pilot provinces lean faster.
    let step = (base / 5).max(1);
    let offset = (hash % 5) as i32 - 2 - i32::from(pilot);
    let time_limit_days = (base + offset * step / 2).clamp(1, base + step);

    let mut materials = template.guide.materials.clone();
    if pilot && materials.len() >= 3 {
        // Pilot provinces share data between departments and ask for less.
        materials.pop();
    }
    for (index, extra) in template.guide.optional_materials.iter().enumerate() {
        if (hash >> (8 + index)) & 1 == 1 {
            materials.push(extra.clone());
        }
    }

    let mut channels = template.guide.channels.clone();
    if (hash >> 16).is_multiple_of(4) && channels.len() > 1 {
        channels.retain(|c| *c != Channel::Mobile);
    }

    let fee = Fee::parse_yuan(&template.guide.fee).map_err(invalid)?;
    let fee = if fee.fen() > 0 && (hash >> 20).is_multiple_of(3) {
        Fee::FREE
    } else {
        fee
    };

    let guide = GuideDraft {
        time_limit_days,
        fee,
        materials,
        channels,
        legal_basis: template.guide.legal_basis.clone(),
        guarantee_level: template.guide.guarantee_level.clone(),
    }
    .validated()
    .map_err(|errors| invalid(format!("{}: {errors:?}", template.code)))?;

    // Shorten the longest steps until the procedure fits the guide's limit.
    let mut steps = template.procedure.clone();
    while steps.iter().map(|s| s.time_limit_days).sum::<i32>() > time_limit_days {
        let Some(longest) = steps.iter_mut().max_by_key(|s| s.time_limit_days) else {
            break;
        };
        longest.time_limit_days -= 1;
    }
    let steps = concord_domain::validate_steps(&steps, Some(time_limit_days))
        .map_err(|errors| invalid(format!("{}: {errors:?}", template.code)))?;
    Ok((guide, steps))
}

fn parse() -> Result<Vec<MatterTemplate>, StoreError> {
    let catalogue: Catalogue = serde_json::from_str(MATTERS).map_err(invalid)?;
    let mut codes = BTreeSet::new();
    for matter in &catalogue.matters {
        MatterCode::try_from(matter.code.as_str()).map_err(invalid)?;
        if !codes.insert(matter.code.as_str()) {
            return Err(invalid(format!("matter `{}` appears twice", matter.code)));
        }
        for code in &matter.standards {
            StandardCode::try_from(code.as_str()).map_err(invalid)?;
        }
    }
    Ok(catalogue.matters)
}

pub(super) async fn load<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let templates = parse()?;
    let items: HashMap<String, (i32, String)> = reference::national_items()?
        .into_iter()
        .map(|(number, name, category)| (name, (number, category)))
        .collect();
    // Matters point at the current edition of the national standard.
    let edition = 2023;
    let example = Seeding {
        origin: Origin::National.as_str(),
        illustrative: true,
        at: now,
    };
    let pilots = [
        "220000", "330000", "420000", "460000", "500000", "510000", "530000",
    ];

    let mut matters = Vec::new();
    let mut links = Vec::new();
    let mut guides = Vec::new();
    let mut procedures = Vec::new();
    let mut evaluations = Vec::new();
    for template in &templates {
        let number = match &template.national_item {
            Some(name) => {
                let (number, category) = items.get(name).ok_or_else(|| {
                    invalid(format!("{}: unknown national item `{name}`", template.code))
                })?;
                if *category != template.category {
                    return Err(invalid(format!(
                        "{}: national item `{name}` is in {category}, not {}",
                        template.code, template.category
                    )));
                }
                Some(*number)
            }
            None => None,
        };
        matters.push(first_revision!(
            service_matter::ActiveModel {
                code: Set(template.code.clone()),
                name_zh: Set(template.name_zh.clone()),
                name_en: Set(template.name_en.clone()),
                category_code: Set(template.category.clone()),
                national_edition: Set(number.map(|_| edition)),
                national_number: Set(number),
                served_groups: Set(None),
            },
            example,
        ));
        for standard in &template.standards {
            links.push(standard_matter::ActiveModel {
                standard_code: Set(standard.clone()),
                matter_code: Set(template.code.clone()),
            });
        }
        for region in REGIONS {
            let (guide, steps) = vary(region, template, pilots.contains(region))?;
            evaluations.extend(evaluations_of(
                region,
                &template.code,
                guide.time_limit_days,
                now,
            ));
            guides.push(first_revision!(
                service_guide::ActiveModel {
                    region_code: Set((*region).to_owned()),
                    matter_code: Set(template.code.clone()),
                    time_limit_days: Set(guide.time_limit_days),
                    fee_fen: Set(guide.fee.into()),
                    materials: Set(TextList(guide.materials)),
                    channels: Set(ChannelList(guide.channels)),
                    legal_basis: Set(guide.legal_basis),
                    guarantee_level: Set(guide.guarantee_level),
                    status: Set(GuideStatus::Published.into()),
                    published_at: Set(Some(now)),
                },
                Seeding {
                    origin: region,
                    ..example
                },
            ));
            procedures.push(first_revision!(
                operating_procedure::ActiveModel {
                    region_code: Set((*region).to_owned()),
                    matter_code: Set(template.code.clone()),
                    steps: Set(StepList(steps)),
                    status: Set(GuideStatus::Published.into()),
                },
                Seeding {
                    origin: region,
                    ..example
                },
            ));
        }
    }
    let codes = super::codes(&matters, |m| &m.code);
    let mut inserted = insert_missing(conn, matters).await?;
    search::reindex(conn, Searched::Matter, &codes).await?;
    inserted += insert_missing(conn, links).await?;
    inserted += insert_missing(conn, guides).await?;
    inserted += insert_missing(conn, procedures).await?;
    inserted += insert_missing(conn, evaluations).await?;
    set_baselines(conn, &templates, &items, edition).await?;
    set_served_groups(conn).await?;
    inserted += super::workflows::load(conn, now).await?;
    Ok(inserted)
}

/// The quarters of the illustrative evaluations.
const PERIODS: &[&str] = &["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"];

/// A region's evaluations of a matter over [`PERIODS`]: satisfaction that
/// tends to rise through the year, and average days within the time limit.
fn evaluations_of(
    region: &str,
    matter: &str,
    time_limit_days: i32,
    now: DateTime<Utc>,
) -> Vec<evaluation::ActiveModel> {
    PERIODS
        .iter()
        .enumerate()
        .map(|(quarter, period)| {
            let hash = stable_hash(&[region, matter, period]);
            let satisfaction = 80.0 + (hash % 120) as f64 / 10.0 + quarter as f64 * 1.5;
            let share = 0.35 + ((hash >> 12) % 55) as f64 / 100.0;
            let average_days = (f64::from(time_limit_days) * share * 10.0).round() / 10.0;
            first_revision!(
                evaluation::ActiveModel {
                    region_code: Set(region.to_owned()),
                    matter_code: Set(matter.to_owned()),
                    period: Set((*period).to_owned()),
                    satisfaction: Set(satisfaction.min(100.0)),
                    cases_handled: Set(50 + ((hash >> 24) % 4000) as i64),
                    average_days: Set(average_days),
                },
                Seeding {
                    origin: region,
                    illustrative: true,
                    at: now
                },
            )
        })
        .collect()
}

/// Gives each linked national item an illustrative baseline where it has
/// none: the longest template time limit among its matters, and an online
/// channel where all of them offer one. Regions slower than the template
/// then show up as baseline violations.
async fn set_baselines<C: ConnectionTrait>(
    conn: &C,
    templates: &[MatterTemplate],
    items: &HashMap<String, (i32, String)>,
    edition: i32,
) -> Result<(), StoreError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let mut baselines: HashMap<i32, (i32, bool)> = HashMap::new();
    for template in templates {
        let Some((number, _)) = template
            .national_item
            .as_ref()
            .and_then(|name| items.get(name))
        else {
            continue;
        };
        let online = template.guide.channels.contains(&Channel::Online);
        let entry = baselines.entry(*number).or_insert((0, true));
        entry.0 = entry.0.max(template.guide.time_limit_days);
        entry.1 &= online;
    }
    for (number, (days, online)) in baselines {
        let channels = if online {
            vec![Channel::Online.as_str().to_owned()]
        } else {
            Vec::new()
        };
        national_item::Entity::update_many()
            .col_expr(national_item::Column::MaxTimeLimitDays, Expr::value(days))
            .col_expr(
                national_item::Column::RequiredChannels,
                Expr::value(serde_json::to_value(TextList(channels)).map_err(invalid)?),
            )
            .filter(national_item::Column::Edition.eq(edition))
            .filter(national_item::Column::Number.eq(number))
            .filter(national_item::Column::Illustrative.eq(true))
            .filter(national_item::Column::MaxTimeLimitDays.is_null())
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Illustrative served groups for the national items named in the
/// reference data, by name: the official lists were not found, so these are
/// a plausible reading of each item's name, not the ministry's text.
const SERVED_GROUPS: &[(&str, &[ServedGroup])] = {
    use ServedGroup::*;
    &[
        (
            "职业介绍、职业指导和创业开业指导",
            &[
                Workers,
                RegisteredUnemployed,
                CollegeGraduates,
                MigrantWorkers,
                Veterans,
            ],
        ),
        (
            "就业登记与失业登记",
            &[Workers, RegisteredUnemployed, Employers],
        ),
        (
            "流动人员人事档案管理服务",
            &[MobilePersonnel, CollegeGraduates],
        ),
        ("就业见习服务", &[CollegeGraduates, UnemployedYouth]),
        (
            "就业援助",
            &[EmploymentDifficulties, PeopleWithDisabilities],
        ),
        (
            "职业技能培训",
            &[Workers, MigrantWorkers, RegisteredUnemployed, Veterans],
        ),
        ("劳动关系协调", &[Workers, Employers]),
        ("劳动人事争议调解仲裁", &[DisputeParties]),
        ("劳动保障监察", &[Workers, Employers, MigrantWorkers]),
        ("失业保险", &[InsuredPersons, RegisteredUnemployed]),
        ("工伤保险", &[InsuredPersons, InjuredWorkers, Employers]),
        (
            "企业职工基本养老保险",
            &[InsuredPersons, Retirees, Employers],
        ),
        ("城乡居民基本养老保险", &[Residents, Retirees]),
    ]
};

/// Gives the illustrative national items of every edition their
/// illustrative served groups, where they have none.
async fn set_served_groups<C: ConnectionTrait>(conn: &C) -> Result<(), StoreError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    for (name, groups) in SERVED_GROUPS {
        let codes = TextList(groups.iter().map(ToString::to_string).collect());
        national_item::Entity::update_many()
            .col_expr(
                national_item::Column::ServedGroups,
                Expr::value(serde_json::to_value(codes).map_err(invalid)?),
            )
            .filter(national_item::Column::NameZh.eq(*name))
            .filter(national_item::Column::Illustrative.eq(true))
            .filter(national_item::Column::ServedGroups.is_null())
            .exec(conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_national_item_has_illustrative_served_groups() {
        let names: BTreeSet<String> = reference::national_items()
            .unwrap()
            .into_iter()
            .map(|(_, name, _)| name)
            .collect();
        let grouped: BTreeSet<String> = SERVED_GROUPS
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        assert_eq!(grouped, names);
    }

    #[test]
    fn the_catalogue_is_broad_enough() {
        let templates = parse().unwrap();
        assert!(templates.len() >= 24, "{} matters", templates.len());
        for category in [
            "EMPLOYMENT",
            "SOCIAL_INSURANCE",
            "SKILLS",
            "LABOUR_RELATIONS",
        ] {
            assert!(
                templates.iter().any(|t| t.category == category),
                "{category}"
            );
        }
    }

    #[test]
    fn every_region_gets_a_valid_and_varied_guide() {
        let templates = parse().unwrap();
        let mut time_limits = BTreeSet::new();
        for template in &templates {
            for region in REGIONS {
                let (guide, steps) = vary(region, template, false).unwrap();
                let total: i32 = steps.iter().map(|s| s.time_limit_days).sum();
                assert!(total <= guide.time_limit_days, "{} {region}", template.code);
                time_limits.insert((template.code.as_str(), guide.time_limit_days));
            }
        }
        assert!(time_limits.len() > templates.len(), "regions never differ");
    }

    #[test]
    fn the_variation_is_deterministic() {
        let templates = parse().unwrap();
        let first = vary("330000", &templates[0], true).unwrap();
        assert_eq!(first, vary("330000", &templates[0], true).unwrap());
    }
}

//! Building one record of each kind from its fields.

use concord_domain::alignment::Baseline;
use concord_domain::guide::MAX_TIME_LIMIT_DAYS;
use concord_domain::{
    CategoryCode, Channel, Fee, GuideDraft, GuideStatus, MatterCode, ProcedureStep, RegionCode,
    ServedGroup, StandardCode, StandardLevel, StandardStatus, ZoneCode, check_issuer, national,
    validate_steps,
};
use serde_json::value::RawValue;

use crate::write::{
    GuideRecord, MatterRecord, NationalItemRecord, ProcedureRecord, StandardRecord,
};

use super::fields::{
    Fields, Reported, STEP_FIELDS, Value, code_text, code_value, column, date, english, long_text,
    name, note, one_of, snake, whole,
};
use super::parse::json_fields;
use super::positions::{At, Places};
use super::{Entry, Problem, Record};

/// A whole number within `range`.
fn within(
    range: std::ops::RangeInclusive<i32>,
    unit: &'static str,
) -> impl Fn(Value<'_>) -> Result<i32, String> {
    move |value| {
        let number = whole::<i32>(value)?;
        if range.contains(&number) {
            Ok(number)
        } else {
            Err(format!(
                "must be between {} and {}{unit}",
                range.start(),
                range.end()
            ))
        }
    }
}

/// A long text that may be left out, empty then.
fn text(f: &mut Fields<'_>, field: &'static str) -> Result<String, Reported> {
    f.optional(field, long_text).map(Option::unwrap_or_default)
}

/// A list of served groups, each a code of the catalogue, none repeated.
fn served_groups(f: &mut Fields<'_>) -> Result<Option<Vec<ServedGroup>>, Reported> {
    f.list("served_groups", |item| {
        item.parse::<ServedGroup>()
            .map_err(|error| error.to_string())
    })
    .and_then(|list| f.distinct("served_groups", list))
}

pub(super) fn national_item(f: &mut Fields<'_>) -> Option<NationalItemRecord> {
    let edition = f.required("edition", within(national::EDITIONS, ""));
    let number = f.required("number", within(national::ITEM_NUMBERS, ""));
    let name_zh = f.required("name_zh", name);
    let name_en = f
        .optional("name_en", english)
        .map(Option::unwrap_or_default);
    let category = f.required("category", code_value::<CategoryCode>);
    let area_zh = text(f, "area_zh");
    let served_group = text(f, "served_group");
    let groups = served_groups(f).map(Option::unwrap_or_default);
    let content = text(f, "content");
    let baseline_standard = text(f, "baseline_standard");
    let funding_responsibility = text(f, "funding_responsibility");
    let lead_department = text(f, "lead_department");
    let max_time_limit_days = f.optional(
        "max_time_limit_days",
        within(1..=MAX_TIME_LIMIT_DAYS, " working days"),
    );
    let max_fee = f.optional("max_fee", Value::amount);
    let required_channels = f
        .list("required_channels", |item| {
            item.parse::<Channel>().map_err(|error| error.to_string())
        })
        .and_then(|list| f.distinct("required_channels", list))
        .map(|list| {
            let mut channels = list.unwrap_or_default();
            channels.sort();
            channels
        });
    let illustrative = f.illustrative();
    Some(NationalItemRecord {
        edition: edition.ok()?,
        number: number.ok()?,
        name_zh: name_zh.ok()?,
        name_en: name_en.ok()?,
        category: category.ok()?,
        area_zh: area_zh.ok()?,
        served_group: served_group.ok()?,
        served_groups: groups.ok()?,
        content: content.ok()?,
        baseline_standard: baseline_standard.ok()?,
        funding_responsibility: funding_responsibility.ok()?,
        lead_department: lead_department.ok()?,
        baseline: Baseline {
            max_time_limit_days: max_time_limit_days.ok()?,
            max_fee_fen: max_fee.ok()?.map(Fee::fen),
            required_channels: required_channels.ok()?,
        },
        illustrative: illustrative.ok()?,
    })
}

pub(super) fn matter(f: &mut Fields<'_>) -> Option<MatterRecord> {
    let code = f.required("code", code_value::<MatterCode>);
    let name_zh = f.required("name_zh", name);
    let name_en = f
        .optional("name_en", english)
        .map(Option::unwrap_or_default);
    let category = f.required("category", code_value::<CategoryCode>);
    let edition = f.optional("national_edition", whole::<i32>);
    let number = f.optional("national_number", whole::<i32>);
    let national_item = match (edition, number) {
        (Ok(Some(edition)), Ok(Some(number))) => Ok(Some((edition, number))),
        (Ok(None), Ok(None)) => Ok(None),
        (Ok(Some(_)), Ok(None)) => {
            let message = format!(
                "is required with {} (give both or neither)",
                f.name("national_edition")
            );
            f.report(f.places.field("national_number"), message);
            Err(Reported)
        }
        (Ok(None), Ok(Some(_))) => {
            let message = format!(
                "is required with {} (give both or neither)",
                f.name("national_number")
            );
            f.report(f.places.field("national_edition"), message);
            Err(Reported)
        }
        _ => Err(Reported),
    };
    let standards = f
        .list("standards", code_text::<StandardCode>)
        .and_then(|list| f.distinct("standards", list));
    // A blank cell or a list left out takes the national item's groups.
    let served_groups = served_groups(f).map(|list| list.filter(|groups| !groups.is_empty()));
    let illustrative = f.illustrative();
    Some(MatterRecord {
        code: code.ok()?,
        name_zh: name_zh.ok()?,
        name_en: name_en.ok()?,
        category: category.ok()?,
        national_item: national_item.ok()?,
        standards: standards.ok()?,
        served_groups: served_groups.ok()?,
        illustrative: illustrative.ok()?,
    })
}

pub(super) fn standard(f: &mut Fields<'_>) -> Option<StandardRecord> {
    let code = f.required("code", code_value::<StandardCode>);
    let title_zh = f.required("title_zh", name);
    let title_en = f
        .optional("title_en", english)
        .map(Option::unwrap_or_default);
    let level = f.required("level", one_of::<StandardLevel>);
    let status = f
        .optional("status", one_of::<StandardStatus>)
        .map(|status| status.unwrap_or(StandardStatus::InForce));
    let mut issuing_region = f.optional("issuing_region", code_value::<RegionCode>);
    let issuing_zone = f.optional("issuing_zone", code_value::<ZoneCode>);
    let issued_on = f.optional("issued_on", date);
    let effective_on = f.optional("effective_on", date);
    let review_on = f.optional("review_on", date);
    let supersedes = f.optional("supersedes", code_value::<StandardCode>);
    let note = f.optional("note", note).map(Option::unwrap_or_default);
    let matters = f
        .list("matters", code_text::<MatterCode>)
        .and_then(|list| f.distinct("matters", list));
    let illustrative = f.illustrative();

    let mut consistent = true;
    if let (Ok(code), Ok(level), Ok(region), Ok(zone)) =
        (&code, &level, &issuing_region, &issuing_zone)
    {
        match check_issuer(code, *level, region.as_ref(), zone.as_ref()) {
            Err(errors) => {
                for error in errors {
                    f.report(f.places.field(&column(&error.field)), error.message);
                }
                consistent = false;
            }
            // A local standard is issued in the province its `DB` code names.
            Ok(()) if *level == StandardLevel::Local && region.is_none() => {
                issuing_region = Ok(code.local_province());
            }
            Ok(()) => {}
        }
    }
    if let (Ok(Some(issued)), Ok(Some(effective))) = (&issued_on, &effective_on)
        && effective < issued
    {
        let message = format!("is before {} ({issued})", f.name("issued_on"));
        f.report(f.places.field("effective_on"), message);
        consistent = false;
    }
    if let (Ok(Some(effective)), Ok(Some(review))) = (&effective_on, &review_on)
        && review < effective
    {
        let message = format!("is before {} ({effective})", f.name("effective_on"));
        f.report(f.places.field("review_on"), message);
        consistent = false;
    }
    if let (Ok(code), Ok(Some(superseded))) = (&code, &supersedes)
        && code == superseded
    {
        f.report(
            f.places.field("supersedes"),
            "a standard cannot supersede itself",
        );
        consistent = false;
    }
    if !consistent {
        return None;
    }
    Some(StandardRecord {
        code: code.ok()?,
        title_zh: title_zh.ok()?,
        title_en: title_en.ok()?,
        level: level.ok()?,
        status: status.ok()?,
        issuing_region: issuing_region.ok()?,
        issuing_zone: issuing_zone.ok()?,
        issued_on: issued_on.ok()?,
        effective_on: effective_on.ok()?,
        supersedes: supersedes.ok()?,
        review_on: review_on.ok()?,
        note: note.ok()?,
        matters: matters.ok()?,
        illustrative: illustrative.ok()?,
    })
}

pub(super) fn guide(f: &mut Fields<'_>) -> Option<GuideRecord> {
    let region = f.required("region", code_value::<RegionCode>);
    let matter = f.required("matter", code_value::<MatterCode>);
    let time_limit_days = f.required("time_limit_days", whole::<i32>);
    let fee = f
        .optional("fee", Value::amount)
        .map(|fee| fee.unwrap_or(Fee::FREE));
    let materials = f.required_list("materials", |item| Ok(item.to_owned()));
    let channels = f.required_list("channels", |item| {
        item.parse::<Channel>().map_err(|error| error.to_string())
    });
    let legal_basis = f
        .optional("legal_basis", Value::text)
        .map(Option::unwrap_or_default);
    let guarantee_level = f.optional("guarantee_level", Value::text);
    let status = f
        .optional("status", one_of::<GuideStatus>)
        .map(|status| status.unwrap_or(GuideStatus::Published));
    let illustrative = f.illustrative();

    // The guide's rules run on every field that was read; one that was not
    // has been reported, and stands in with a value the rules accept.
    let draft = GuideDraft {
        time_limit_days: time_limit_days.as_ref().copied().unwrap_or(1),
        fee: fee.as_ref().copied().unwrap_or(Fee::FREE),
        materials: materials.as_ref().cloned().unwrap_or_default(),
        channels: channels
            .as_ref()
            .cloned()
            .unwrap_or_else(|_| vec![Channel::Counter]),
        legal_basis: legal_basis.as_ref().cloned().unwrap_or_default(),
        guarantee_level: guarantee_level.as_ref().cloned().unwrap_or_default(),
    };
    let guide = match draft.validated() {
        Ok(guide) => Some(guide),
        Err(errors) => {
            for error in errors {
                // `materials[2]` names an item, `timeLimitDays` a field.
                let at = match error.field.split_once('[') {
                    Some((field, rest)) => {
                        let index = rest.trim_end_matches(']').parse().unwrap_or(0);
                        f.places.item(&snake(field), index)
                    }
                    None => f.places.field(&snake(&error.field)),
                };
                f.report(at, error.message);
            }
            None
        }
    };
    let all_read = time_limit_days.is_ok()
        && fee.is_ok()
        && materials.is_ok()
        && channels.is_ok()
        && legal_basis.is_ok()
        && guarantee_level.is_ok();
    if !all_read {
        return None;
    }
    Some(GuideRecord {
        region: region.ok()?,
        matter: matter.ok()?,
        guide: guide?,
        status: status.ok()?,
        illustrative: illustrative.ok()?,
    })
}

/// A procedure whose steps have been read but not yet checked against its
/// guide's time limit, which may come later in the file.
pub(super) struct PendingProcedure {
    pub(super) region: RegionCode,
    pub(super) matter: MatterCode,
    pub(super) illustrative: bool,
    pub(super) steps: Vec<ProcedureStep>,
    /// Where each step was written (a CSV row, or a JSON object).
    pub(super) step_places: Vec<Places>,
    pub(super) places: Places,
}

impl PendingProcedure {
    pub(super) fn key(&self) -> (&str, &str) {
        (self.region.as_str(), self.matter.as_str())
    }

    /// Checks the steps, within `time_limit_days` when the guide is known.
    pub(super) fn finish(self, time_limit_days: Option<i32>) -> Result<Record, Vec<Problem>> {
        match validate_steps(&self.steps, time_limit_days) {
            Ok(steps) => Ok(Record {
                entry: Entry::Procedure(ProcedureRecord {
                    region: self.region,
                    matter: self.matter,
                    steps,
                    // The official lists a province loads are in force:
                    // checked against the guide's time limit here, as
                    // publishing checks them.
                    status: GuideStatus::Published,
                    illustrative: self.illustrative,
                }),
                places: self.places,
            }),
            Err(errors) => Err(errors
                .into_iter()
                .map(|error| {
                    // `steps[1].name` names a step's field, `steps` the whole list.
                    let step_field = error.field.strip_prefix("steps[").and_then(|rest| {
                        let (index, field) = rest.split_once("].")?;
                        let places = self.step_places.get(index.parse::<usize>().ok()?)?;
                        Some(places.field(&snake(field)))
                    });
                    step_field
                        .unwrap_or_else(|| self.places.field("steps"))
                        .problem(error.message)
                })
                .collect()),
        }
    }
}

/// The fields of one step, whether a CSV row or a JSON object.
pub(super) fn step(f: &mut Fields<'_>) -> Option<ProcedureStep> {
    let name = f.required("name", Value::text);
    let actor = f.required("actor", Value::text);
    let time_limit_days = f.required("time_limit_days", whole::<i32>);
    Some(ProcedureStep {
        name: name.ok()?,
        actor: actor.ok()?,
        time_limit_days: time_limit_days.ok()?,
    })
}

pub(super) fn json_procedure(f: &mut Fields<'_>) -> Option<PendingProcedure> {
    let region = f.required("region", code_value::<RegionCode>);
    let matter = f.required("matter", code_value::<MatterCode>);
    let illustrative = f.illustrative();
    let steps_at = f.places.field("steps");
    let steps = match f.values.get("steps").copied() {
        None => None,
        Some(value) if value.is_blank() => {
            f.report(steps_at, "must not be empty");
            None
        }
        // CSV procedures are read row by row (`group_steps`), never here.
        Some(Value::Cell(_)) => None,
        Some(Value::Json(raw, lines)) => {
            let path = match &steps_at {
                At::Json { path, .. } => path.clone(),
                At::Csv { .. } => String::new(),
            };
            match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                Err(_) => {
                    f.report(steps_at, "must be a list (a JSON array of steps)");
                    None
                }
                Ok(items) => {
                    let mut steps = Vec::with_capacity(items.len());
                    let mut places = Vec::with_capacity(items.len());
                    let mut all_read = true;
                    for (index, item) in items.into_iter().enumerate() {
                        let fields = json_fields(
                            lines,
                            item,
                            format!("{path}[{index}]"),
                            STEP_FIELDS,
                            &mut f.problems,
                        );
                        let Some(mut fields) = fields else {
                            all_read = false;
                            continue;
                        };
                        let read = step(&mut fields);
                        f.problems.append(&mut fields.problems);
                        match read {
                            Some(read) => {
                                steps.push(read);
                                places.push(fields.places);
                            }
                            None => all_read = false,
                        }
                    }
                    all_read.then_some((steps, places))
                }
            }
        }
    };
    let (steps, step_places) = steps?;
    Some(PendingProcedure {
        region: region.ok()?,
        matter: matter.ok()?,
        illustrative: illustrative.ok()?,
        steps,
        step_places,
        places: f.places.clone(),
    })
}

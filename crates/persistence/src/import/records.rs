//! Building one record of each kind from its fields.

use concord_domain::ValidationError;
use concord_domain::alignment::Baseline;
use concord_domain::{
    CategoryCode, Channel, Fee, GuideDraft, GuideStatus, MatterCode, MatterDraft,
    NationalItemDraft, ProcedureStep, RegionCode, ServedGroup, StandardCode, StandardDraft,
    StandardLevel, StandardStatus, ZoneCode, national, national_item_of, validate_steps,
};
use serde_json::value::RawValue;

use crate::write::{GuideRecord, ProcedureRecord};

use super::fields::{
    Fields, Reported, STEP_FIELDS, Value, code_text, code_value, date, one_of, snake, whole,
};
use super::parse::json_fields;
use super::positions::{At, Places};
use super::{Entry, Problem, Record};

/// A text that may be left out, empty then.
fn text(f: &mut Fields<'_>, field: &'static str) -> Result<String, Reported> {
    f.optional(field, Value::text)
        .map(Option::unwrap_or_default)
}

/// A list of served groups, each a code of the catalogue.
fn served_groups(f: &mut Fields<'_>) -> Result<Option<Vec<ServedGroup>>, Reported> {
    f.list("served_groups", |item| {
        item.parse::<ServedGroup>()
            .map_err(|error| error.to_string())
    })
}

/// The values of one record's fields as they are read. Each kind below reads
/// its fields into its domain draft and lets the draft's `validated` apply
/// the rules a mutation applies. A value that could not be read has been
/// reported, and stands in with one the rules accept: the rules still run
/// over every value that was read, so all of a record's problems are
/// reported at once, and the record itself is dropped.
#[derive(Default)]
struct Reading {
    failed: bool,
}

impl Reading {
    fn or<T>(&mut self, read: Result<T, Reported>, stand_in: T) -> T {
        read.unwrap_or_else(|Reported| {
            self.failed = true;
            stand_in
        })
    }

    /// The draft's rules applied, and the record kept only if every value
    /// was read.
    fn finish<T>(
        self,
        f: &mut Fields<'_>,
        validated: Result<T, Vec<ValidationError>>,
    ) -> Option<T> {
        let checked = f.checked(validated);
        if self.failed { None } else { checked }
    }
}

/// A code that no rule reads, standing in for one that could not be read.
fn stand_in<T: for<'s> TryFrom<&'s str>>(code: &str) -> Option<T> {
    T::try_from(code).ok()
}

pub(super) fn national_item(f: &mut Fields<'_>) -> Option<NationalItemDraft> {
    let mut r = Reading::default();
    let edition = r.or(
        f.required("edition", whole::<i32>),
        *national::EDITIONS.start(),
    );
    let number = r.or(
        f.required("number", whole::<i32>),
        *national::ITEM_NUMBERS.start(),
    );
    let name_zh = r.or(f.required("name_zh", Value::text), "-".to_owned());
    let name_en = r.or(text(f, "name_en"), String::new());
    let category = match f.required("category", code_value::<CategoryCode>) {
        Ok(category) => category,
        Err(Reported) => {
            r.failed = true;
            stand_in("EMPLOYMENT")?
        }
    };
    let area_zh = r.or(text(f, "area_zh"), String::new());
    let served_group = r.or(text(f, "served_group"), String::new());
    let served_groups = r.or(served_groups(f).map(Option::unwrap_or_default), Vec::new());
    let content = r.or(text(f, "content"), String::new());
    let baseline_standard = r.or(text(f, "baseline_standard"), String::new());
    let funding_responsibility = r.or(text(f, "funding_responsibility"), String::new());
    let lead_department = r.or(text(f, "lead_department"), String::new());
    let max_time_limit_days = r.or(f.optional("max_time_limit_days", whole::<i32>), None);
    let max_fee = r.or(f.optional("max_fee", Value::amount), None);
    let required_channels = f
        .list("required_channels", |item| {
            item.parse::<Channel>().map_err(|error| error.to_string())
        })
        .map(Option::unwrap_or_default);
    let required_channels = r.or(required_channels, Vec::new());
    let illustrative = r.or(f.illustrative(), false);
    let draft = NationalItemDraft {
        edition,
        number,
        name_zh,
        name_en,
        category,
        area_zh,
        served_group,
        served_groups,
        content,
        baseline_standard,
        funding_responsibility,
        lead_department,
        baseline: Baseline {
            max_time_limit_days,
            max_fee_fen: max_fee.map(Fee::fen),
            required_channels,
        },
        illustrative,
    };
    r.finish(f, draft.validated())
}

pub(super) fn matter(f: &mut Fields<'_>) -> Option<MatterDraft> {
    let mut r = Reading::default();
    let code = f.required("code", code_value::<MatterCode>);
    let name_zh = r.or(f.required("name_zh", Value::text), "-".to_owned());
    let name_en = r.or(text(f, "name_en"), String::new());
    let category = f.required("category", code_value::<CategoryCode>);
    let edition = f.optional("national_edition", whole::<i32>);
    let number = f.optional("national_number", whole::<i32>);
    let national_item = match (edition, number) {
        (Ok(edition), Ok(number)) => {
            f.checked(national_item_of(edition, number).map_err(|error| vec![error]))
        }
        _ => None,
    };
    let national_item = r.or(national_item.ok_or(Reported), None);
    let standards = r.or(f.list("standards", code_text::<StandardCode>), None);
    // A blank cell or a list left out takes the national item's groups.
    let served_groups = served_groups(f).map(|list| list.filter(|groups| !groups.is_empty()));
    let served_groups = r.or(served_groups, None);
    let illustrative = r.or(f.illustrative(), false);
    let (code, category) = match (code, category) {
        (Ok(code), Ok(category)) => (code, category),
        (code, category) => {
            r.failed = true;
            let code = code.ok().or_else(|| stand_in("X-STAND-IN"))?;
            let category = category.ok().or_else(|| stand_in("EMPLOYMENT"))?;
            (code, category)
        }
    };
    let draft = MatterDraft {
        code,
        name_zh,
        name_en,
        category,
        national_item,
        standards,
        served_groups,
        illustrative,
    };
    r.finish(f, draft.validated())
}

pub(super) fn standard(f: &mut Fields<'_>) -> Option<StandardDraft> {
    let mut r = Reading::default();
    let code = f.required("code", code_value::<StandardCode>);
    let title_zh = r.or(f.required("title_zh", Value::text), "-".to_owned());
    let title_en = r.or(text(f, "title_en"), String::new());
    let level = f.required("level", one_of::<StandardLevel>);
    // The official lists a province loads are in force unless they say not.
    let status = f
        .optional("status", one_of::<StandardStatus>)
        .map(|status| status.unwrap_or(StandardStatus::InForce));
    let status = r.or(status, StandardStatus::InForce);
    let issuing_region = f.optional("issuing_region", code_value::<RegionCode>);
    let issuing_zone = f.optional("issuing_zone", code_value::<ZoneCode>);
    let issued_on = r.or(f.optional("issued_on", date), None);
    let effective_on = r.or(f.optional("effective_on", date), None);
    let review_on = r.or(f.optional("review_on", date), None);
    let supersedes = r.or(f.optional("supersedes", code_value::<StandardCode>), None);
    let note = r.or(text(f, "note"), String::new());
    let matters = r.or(f.list("matters", code_text::<MatterCode>), None);
    let illustrative = r.or(f.illustrative(), false);
    // The issuer's rules read the code, the level, the region and the zone
    // together: when one could not be read, all four stand in as a national
    // standard's, which those rules accept.
    let (code, level, issuing_region, issuing_zone) =
        match (code, level, issuing_region, issuing_zone) {
            (Ok(code), Ok(level), Ok(region), Ok(zone)) => (code, level, region, zone),
            _ => {
                r.failed = true;
                (
                    stand_in("GB/T 1-2000")?,
                    StandardLevel::National,
                    None,
                    None,
                )
            }
        };
    let draft = StandardDraft {
        code,
        title_zh,
        title_en,
        level,
        status,
        issuing_region,
        issuing_zone,
        issued_on,
        effective_on,
        supersedes,
        review_on,
        note,
        matters,
        illustrative,
    };
    r.finish(f, draft.validated())
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

    let mut r = Reading::default();
    let draft = GuideDraft {
        time_limit_days: r.or(time_limit_days, 1),
        fee: r.or(fee, Fee::FREE),
        materials: r.or(materials, Vec::new()),
        channels: r.or(channels, vec![Channel::Counter]),
        legal_basis: r.or(legal_basis, String::new()),
        guarantee_level: r.or(guarantee_level, None),
    };
    let guide = r.finish(f, draft.validated())?;
    Some(GuideRecord {
        region: region.ok()?,
        matter: matter.ok()?,
        guide,
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

//! Reading a whole CSV or JSON file into records and problems, without the
//! database.

use std::collections::{HashMap, HashSet};
use std::fmt;

use concord_domain::guide::MAX_STEPS;
use concord_domain::{MatterCode, ProcedureStep, RegionCode};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::fields::{
    Field, Fields, Reported, Value, camel, code_value, column_named, field_list, fields_of, whole,
};
use super::positions::{At, Lines, Places, json_message};
use super::records::{
    PendingProcedure, guide, json_procedure, matter, national_item, standard, step,
};
use super::references::check_links;
use super::{Entry, Format, ImportKind, Problem, Record};

/// What reading a file produced: the good records, every problem, and the
/// keys the file declares.
#[derive(Default)]
pub(super) struct Parsed {
    pub(super) records: Vec<Record>,
    pub(super) problems: Vec<Problem>,
    pub(super) declared: Declared,
}

/// The keys a file declares, whether or not their records have problems, so
/// that a reference to a record with a problem of its own is not reported
/// as missing as well. Each key maps to the line that declares it.
#[derive(Default)]
pub(super) struct Declared(HashMap<(ImportKind, String, String), usize>);

impl Declared {
    pub(super) fn has(&self, kind: ImportKind, first: &str, second: &str) -> bool {
        self.0
            .contains_key(&(kind, first.to_owned(), second.to_owned()))
    }
}

impl Parsed {
    /// Records that the file declares a record of `kind` with `key` at `at`,
    /// reporting a key declared before. Returns whether the key was new.
    fn declare(&mut self, kind: ImportKind, key: (String, String), at: At) -> bool {
        let line = at.line_number();
        let (first, second) = &key;
        let described = match kind {
            ImportKind::NationalItems => format!("national item {second} of the {first} edition"),
            ImportKind::Matters => format!("matter `{first}`"),
            ImportKind::Standards => format!("standard `{first}`"),
            ImportKind::Guides => format!("the guide of region {first} for `{second}`"),
            ImportKind::Procedures => format!("the procedure of region {first} for `{second}`"),
        };
        match self.declared.0.get(&(kind, first.clone(), second.clone())) {
            Some(before) => {
                self.problems
                    .push(at.problem(format!("{described} is already on line {before}")));
                false
            }
            None => {
                self.declared.0.insert((kind, key.0, key.1), line);
                true
            }
        }
    }

    /// Declares the key of a record read from `fields`, and keeps the record
    /// unless its key was declared before. Returns whether the key was new.
    fn add(&mut self, kind: ImportKind, fields: &mut Fields<'_>, entry: Option<Entry>) -> bool {
        self.problems.append(&mut fields.problems);
        let (key, key_field) = match kind {
            ImportKind::NationalItems => (
                fields
                    .number_key("edition")
                    .zip(fields.number_key("number")),
                "number",
            ),
            ImportKind::Matters | ImportKind::Standards => {
                (fields.key("code").map(|code| (code, String::new())), "code")
            }
            ImportKind::Guides | ImportKind::Procedures => {
                (fields.key("region").zip(fields.key("matter")), "matter")
            }
        };
        let fresh = match key {
            Some(key) => self.declare(kind, key, fields.places.field(key_field)),
            None => true,
        };
        if let (true, Some(entry)) = (fresh, entry) {
            self.records.push(Record {
                entry,
                places: fields.places.clone(),
            });
        }
        fresh
    }
}

pub(super) fn parse_all(kind: Option<ImportKind>, format: Format, mut text: String) -> Parsed {
    // Excel writes a byte-order mark at the start of "CSV UTF-8".
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    let mut parsed = Parsed::default();
    let mut pending = Vec::new();
    match (format, kind) {
        (Format::Csv, Some(kind)) => read_csv(kind, &text, &mut parsed, &mut pending),
        (Format::Csv, None) => parsed.problems.push(At::line(1).problem(
            "a CSV file holds one kind of record: say which (national-items, matters, standards, guides or procedures)",
        )),
        (Format::Json, only) => {
            let lines = Lines::new(text);
            read_json(only, &lines, &mut parsed, &mut pending);
        }
    }
    finish_procedures(&mut parsed, pending);
    check_links(&mut parsed);
    // Apply in kind order, so that references resolve; file order within a kind.
    parsed.records.sort_by_key(|record| record.entry.kind());
    parsed.problems.sort_by_key(|problem| problem.line);
    parsed
}

fn read_csv(
    kind: ImportKind,
    text: &str,
    parsed: &mut Parsed,
    pending: &mut Vec<PendingProcedure>,
) {
    let spec = fields_of(kind, Format::Csv);
    let mut reader = csv::ReaderBuilder::new()
        // Rows of the wrong length are reported here, with the others.
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            parsed
                .problems
                .push(At::line(1).problem(format!("the header cannot be read: {error}")));
            return;
        }
    };
    let header_at = At::line(1);
    let mut columns = Vec::with_capacity(headers.len());
    for header in &headers {
        let column = column_named(kind, header);
        let known = spec.iter().find(|field| field.name == column);
        let repeated = known.is_some_and(|field| columns.contains(&Some(field.name)));
        if known.is_none() {
            parsed
                .problems
                .push(header_at.field(header).problem(format!(
                    "unknown column (the columns of {kind} are {})",
                    field_list(spec, &header_at)
                )));
        } else if repeated {
            parsed
                .problems
                .push(header_at.field(header).problem("the column appears twice"));
        }
        columns.push(known.filter(|_| !repeated).map(|field| field.name));
    }
    for field in spec.iter().filter(|field| field.required) {
        if !columns.contains(&Some(field.name)) {
            parsed.problems.push(
                header_at.problem(format!("the required column `{}` is missing", field.name)),
            );
        }
    }

    let mut rows = Vec::new();
    for row in reader.records() {
        match row {
            Ok(row) => {
                let line = record_line(row.position());
                if row.len() == headers.len() {
                    rows.push((line, row));
                } else {
                    parsed.problems.push(At::line(line).problem(format!(
                        "has {} fields, but the header has {}",
                        row.len(),
                        headers.len()
                    )));
                }
            }
            Err(error) => {
                let line = record_line(error.position());
                parsed
                    .problems
                    .push(At::line(line).problem(format!("cannot be read: {error}")));
            }
        }
    }
    let fields = rows.iter().map(|(line, row)| {
        let mut fields = Fields::new(At::line(*line));
        for (column, cell) in columns.iter().zip(row) {
            if let Some(name) = *column {
                fields.insert(name, Value::Cell(cell), At::line(*line).field(name));
            }
        }
        fields
    });
    if kind == ImportKind::Procedures {
        group_steps(fields.collect(), parsed, pending);
    } else {
        for mut fields in fields {
            let entry = build(kind, &mut fields);
            parsed.add(kind, &mut fields, entry);
        }
    }
}

/// The line a CSV record starts on, 0 when the reader does not know it. A
/// line past `usize::MAX` (only possible on a 32-bit target) saturates
/// rather than wrapping to a wrong line.
fn record_line(position: Option<&csv::Position>) -> usize {
    position.map_or(0, |position| {
        usize::try_from(position.line()).unwrap_or(usize::MAX)
    })
}

/// A national item, matter, standard or guide from its fields.
fn build(kind: ImportKind, fields: &mut Fields<'_>) -> Option<Entry> {
    match kind {
        ImportKind::NationalItems => national_item(fields).map(Entry::NationalItem),
        ImportKind::Matters => matter(fields).map(Entry::Matter),
        ImportKind::Standards => standard(fields).map(Entry::Standard),
        ImportKind::Guides => guide(fields).map(Entry::Guide),
        // Procedures are written differently in each format; see their readers.
        ImportKind::Procedures => None,
    }
}

/// One row of a CSV procedure: one step.
struct StepRow<'t> {
    fields: Fields<'t>,
    region: Result<RegionCode, Reported>,
    matter: Result<MatterCode, Reported>,
    position: Result<i64, Reported>,
    step: Option<ProcedureStep>,
    illustrative: Result<bool, Reported>,
}

impl StepRow<'_> {
    fn line(&self) -> usize {
        self.fields.places.record.line_number()
    }
}

/// Gathers CSV rows into procedures by region and matter, and checks that
/// each procedure numbers its steps 1 to n.
fn group_steps<'t>(
    rows: Vec<Fields<'t>>,
    parsed: &mut Parsed,
    pending: &mut Vec<PendingProcedure>,
) {
    let mut groups: Vec<((String, String), Vec<StepRow<'t>>)> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for mut fields in rows {
        let region = fields.required("region", code_value::<RegionCode>);
        let matter = fields.required("matter", code_value::<MatterCode>);
        // Bounded by the most steps a procedure may have, so that the gaps
        // reported below are few.
        let position = fields.required("step", |value| {
            whole::<i64>(value).and_then(|step| {
                if (1..=MAX_STEPS as i64).contains(&step) {
                    Ok(step)
                } else {
                    Err(format!(
                        "must be between 1 and {MAX_STEPS} (a procedure has at most {MAX_STEPS} steps)"
                    ))
                }
            })
        });
        let read_step = step(&mut fields);
        let illustrative = fields.illustrative();
        let Some(key) = fields.key("region").zip(fields.key("matter")) else {
            // Without its region and matter a row belongs to no procedure.
            parsed.problems.append(&mut fields.problems);
            continue;
        };
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(StepRow {
            fields,
            region,
            matter,
            position,
            step: read_step,
            illustrative,
        });
    }

    for (key, mut rows) in groups {
        for row in &mut rows {
            parsed.problems.append(&mut row.fields.problems);
        }
        let first = &rows[0];
        parsed.declare(
            ImportKind::Procedures,
            key,
            first.fields.places.field("matter"),
        );
        let mut ok = rows.iter().all(|row| {
            row.region.is_ok()
                && row.matter.is_ok()
                && row.position.is_ok()
                && row.step.is_some()
                && row.illustrative.is_ok()
        });

        let mut lines_by_position: HashMap<i64, usize> = HashMap::new();
        for row in &rows {
            let Ok(position) = row.position else { continue };
            match lines_by_position.get(&position) {
                Some(line) => {
                    parsed
                        .problems
                        .push(row.fields.places.field("step").problem(format!(
                            "step {position} of this procedure is already on line {line}"
                        )));
                    ok = false;
                }
                None => {
                    lines_by_position.insert(position, row.line());
                }
            }
        }
        let highest = lines_by_position.keys().copied().max().unwrap_or(0);
        let missing: Vec<String> = (1..=highest)
            .filter(|position| !lines_by_position.contains_key(position))
            .map(|position| position.to_string())
            .collect();
        if !missing.is_empty() {
            parsed
                .problems
                .push(first.fields.places.field("step").problem(format!(
                    "the steps of a procedure are numbered 1, 2, 3... without gaps; missing: {}",
                    missing.join(", ")
                )));
            ok = false;
        }
        let first_illustrative = first.illustrative.as_ref().ok().copied();
        for row in &rows[1..] {
            if let (Some(first_value), Ok(value)) = (first_illustrative, &row.illustrative)
                && first_value != *value
            {
                parsed
                    .problems
                    .push(row.fields.places.field("illustrative").problem(format!(
                        "differs from line {}: the rows of one procedure must agree",
                        first.line()
                    )));
                ok = false;
            }
        }
        if !ok {
            continue;
        }

        rows.sort_by_key(|row| row.position.as_ref().copied().unwrap_or(0));
        let first = &rows[0];
        let mut places = Places::new(first.fields.places.record.clone());
        for field in ["region", "matter", "illustrative"] {
            places
                .fields
                .insert(field.to_owned(), first.fields.places.field(field));
        }
        // Problems with the steps as a whole point at the first row's `step`.
        places
            .fields
            .insert("steps".to_owned(), first.fields.places.field("step"));
        let (Ok(region), Ok(matter), Ok(illustrative)) =
            (&first.region, &first.matter, &first.illustrative)
        else {
            continue;
        };
        pending.push(PendingProcedure {
            region: region.clone(),
            matter: matter.clone(),
            illustrative: *illustrative,
            steps: rows.iter().filter_map(|row| row.step.clone()).collect(),
            step_places: rows.iter().map(|row| row.fields.places.clone()).collect(),
            places,
        });
    }
}

/// Reads a JSON object's members against `spec`, reporting unknown, repeated
/// and missing ones. `None` when the value is not an object.
pub(super) fn json_fields<'t>(
    lines: &'t Lines,
    raw: &'t RawValue,
    path: String,
    spec: &[Field],
    problems: &mut Vec<Problem>,
) -> Option<Fields<'t>> {
    let at = lines.at(raw, path.clone());
    let Ok(members) = serde_json::from_str::<Members>(raw.get()) else {
        problems.push(at.problem("must be an object"));
        return None;
    };
    let mut fields = Fields::new(at.clone());
    for (key, value) in members.0 {
        let value_at = lines.at(value, format!("{path}.{key}"));
        match spec.iter().find(|field| camel(field.name) == key) {
            None => problems.push(value_at.problem(format!(
                "unknown field (the fields are {})",
                field_list(spec, &at)
            ))),
            Some(field) if fields.values.contains_key(field.name) => {
                problems.push(value_at.problem("is given twice"));
            }
            Some(field) => fields.insert(field.name, Value::Json(value, lines), value_at),
        }
    }
    for field in spec.iter().filter(|field| field.required) {
        if !fields.values.contains_key(field.name) {
            problems.push(at.problem(format!(
                "the required field `{}` is missing",
                camel(field.name)
            )));
        }
    }
    Some(fields)
}

fn read_json(
    only: Option<ImportKind>,
    lines: &Lines,
    parsed: &mut Parsed,
    pending: &mut Vec<PendingProcedure>,
) {
    let top = match serde_json::from_str::<Members>(lines.text()) {
        Ok(top) => top,
        Err(error) if error.is_data() => {
            parsed.problems.push(lines.at_error(&error).problem(
                "the file must be a JSON object with any of the keys nationalItems, matters, standards, guides and procedures",
            ));
            return;
        }
        Err(error) => {
            parsed
                .problems
                .push(lines.at_error(&error).problem(json_message(&error)));
            return;
        }
    };
    let mut seen = HashSet::new();
    for (key, raw) in top.0 {
        let at = lines.at(raw, key.clone());
        let Some(kind) = ImportKind::ALL
            .into_iter()
            .find(|kind| kind.json_key() == key)
        else {
            parsed.problems.push(at.problem(
                "unknown key (a file may carry nationalItems, matters, standards, guides and procedures)",
            ));
            continue;
        };
        if !seen.insert(kind) {
            parsed.problems.push(at.problem("is given twice"));
            continue;
        }
        if let Some(only) = only
            && only != kind
        {
            parsed.problems.push(at.problem(format!(
                "this import was asked for {only} only (--kind {only})"
            )));
            continue;
        }
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
            parsed
                .problems
                .push(at.problem("must be a list (a JSON array of objects)"));
            continue;
        };
        let spec = fields_of(kind, Format::Json);
        for (index, item) in items.into_iter().enumerate() {
            let Some(mut fields) = json_fields(
                lines,
                item,
                format!("{key}[{index}]"),
                spec,
                &mut parsed.problems,
            ) else {
                continue;
            };
            if kind == ImportKind::Procedures {
                // A procedure waits for the guides before it is checked.
                let procedure = json_procedure(&mut fields);
                if parsed.add(kind, &mut fields, None)
                    && let Some(procedure) = procedure
                {
                    pending.push(procedure);
                }
            } else {
                let entry = build(kind, &mut fields);
                parsed.add(kind, &mut fields, entry);
            }
        }
    }
}

/// Checks each procedure's steps, against its guide's time limit when the
/// guide is in the same file.
fn finish_procedures(parsed: &mut Parsed, pending: Vec<PendingProcedure>) {
    let limits: HashMap<(&str, &str), i32> = parsed
        .records
        .iter()
        .filter_map(|record| match &record.entry {
            Entry::Guide(guide) => Some((
                (guide.region.as_str(), guide.matter.as_str()),
                guide.guide.time_limit_days,
            )),
            _ => None,
        })
        .collect();
    let mut finished = Vec::with_capacity(pending.len());
    for procedure in pending {
        let limit = limits.get(&procedure.key()).copied();
        finished.push(procedure.finish(limit));
    }
    for result in finished {
        match result {
            Ok(record) => parsed.records.push(record),
            Err(mut problems) => parsed.problems.append(&mut problems),
        }
    }
}

/// A JSON object's members in the order written, duplicates included, each
/// value kept as raw text so that its position is known.
struct Members<'t>(Vec<(String, &'t RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

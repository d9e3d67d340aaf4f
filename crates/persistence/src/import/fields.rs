//! The fields each kind of record has, and the readers that turn a field's
//! value into a checked domain value or a problem at its place.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use concord_domain::{CodeError, Fee, ValidationError};
use serde_json::value::RawValue;

use super::positions::{At, Lines, Places};
use super::{Format, ImportKind, Problem};

/// A field of a kind of record: its snake_case name (the CSV column; JSON
/// uses the camelCase form) and whether it is required.
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) required: bool,
}

const fn required(name: &'static str) -> Field {
    Field {
        name,
        required: true,
    }
}

const fn optional(name: &'static str) -> Field {
    Field {
        name,
        required: false,
    }
}

const NATIONAL_ITEM_FIELDS: &[Field] = &[
    required("edition"),
    required("number"),
    required("name_zh"),
    optional("name_en"),
    required("category"),
    optional("area_zh"),
    optional("served_group"),
    optional("served_groups"),
    optional("content"),
    optional("baseline_standard"),
    optional("funding_responsibility"),
    optional("lead_department"),
    optional("max_time_limit_days"),
    optional("max_fee"),
    optional("required_channels"),
    optional("illustrative"),
];

const MATTER_FIELDS: &[Field] = &[
    required("code"),
    required("name_zh"),
    optional("name_en"),
    required("category"),
    optional("national_edition"),
    optional("national_number"),
    optional("standards"),
    optional("served_groups"),
    optional("illustrative"),
];

const STANDARD_FIELDS: &[Field] = &[
    required("code"),
    required("title_zh"),
    optional("title_en"),
    required("level"),
    optional("status"),
    optional("issuing_region"),
    optional("issuing_zone"),
    optional("issued_on"),
    optional("effective_on"),
    optional("review_on"),
    optional("supersedes"),
    optional("note"),
    optional("matters"),
    optional("illustrative"),
];

const GUIDE_FIELDS: &[Field] = &[
    required("region"),
    required("matter"),
    required("time_limit_days"),
    optional("fee"),
    required("materials"),
    required("channels"),
    optional("legal_basis"),
    optional("guarantee_level"),
    optional("status"),
    optional("illustrative"),
];

/// A CSV procedure is written one step per row.
const PROCEDURE_ROW_FIELDS: &[Field] = &[
    required("region"),
    required("matter"),
    required("step"),
    required("name"),
    required("actor"),
    required("time_limit_days"),
    optional("illustrative"),
];

/// A JSON procedure is one object with its steps in an array.
const PROCEDURE_FIELDS: &[Field] = &[
    required("region"),
    required("matter"),
    required("steps"),
    optional("illustrative"),
];

pub(super) const STEP_FIELDS: &[Field] = &[
    required("name"),
    required("actor"),
    required("time_limit_days"),
];

pub(super) fn fields_of(kind: ImportKind, format: Format) -> &'static [Field] {
    match (kind, format) {
        (ImportKind::NationalItems, _) => NATIONAL_ITEM_FIELDS,
        (ImportKind::Matters, _) => MATTER_FIELDS,
        (ImportKind::Standards, _) => STANDARD_FIELDS,
        (ImportKind::Guides, _) => GUIDE_FIELDS,
        (ImportKind::Procedures, Format::Csv) => PROCEDURE_ROW_FIELDS,
        (ImportKind::Procedures, Format::Json) => PROCEDURE_FIELDS,
    }
}

/// The headings of the tables in which the National Basic Public Service
/// Standards are published, each taken as the national-items column it is,
/// so that a ministry's own table loads once its edition and category
/// columns are added.
const OFFICIAL_HEADINGS: &[(&str, &str)] = &[
    ("版本", "edition"),
    ("序号", "number"),
    ("服务项目", "name_zh"),
    ("类别", "category"),
    ("服务对象", "served_group"),
    ("服务内容", "content"),
    ("服务标准", "baseline_standard"),
    ("支出责任", "funding_responsibility"),
    ("牵头负责单位", "lead_department"),
];

/// The column a CSV header names: itself, or for national items the column
/// an official heading stands for.
pub(super) fn column_named(kind: ImportKind, header: &str) -> &str {
    if kind != ImportKind::NationalItems {
        return header;
    }
    OFFICIAL_HEADINGS
        .iter()
        .find(|(heading, _)| *heading == header)
        .map_or(header, |(_, column)| column)
}

pub(super) fn field_list(fields: &[Field], at: &At) -> String {
    fields
        .iter()
        .map(|field| at.name(field.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field's value as written.
#[derive(Clone, Copy)]
pub(super) enum Value<'t> {
    /// A CSV cell, trimmed.
    Cell(&'t str),
    /// A JSON value, with the text it was parsed from to locate list items.
    Json(&'t RawValue, &'t Lines),
}

impl Value<'_> {
    /// An empty CSV cell or a JSON `null`, which count as left out.
    pub(super) fn is_blank(self) -> bool {
        match self {
            Value::Cell(cell) => cell.is_empty(),
            Value::Json(raw, _) => raw.get() == "null",
        }
    }

    pub(super) fn text(self) -> Result<String, String> {
        match self {
            Value::Cell(cell) => Ok(cell.to_owned()),
            Value::Json(raw, _) => serde_json::from_str::<String>(raw.get())
                .map(|text| text.trim().to_owned())
                .map_err(|_| "must be a string".to_owned()),
        }
    }

    fn integer(self) -> Result<i64, String> {
        match self {
            Value::Cell(cell) => cell
                .parse()
                .map_err(|_| format!("`{cell}` is not a whole number")),
            Value::Json(raw, _) => {
                serde_json::from_str(raw.get()).map_err(|_| "must be a whole number".to_owned())
            }
        }
    }

    fn boolean(self) -> Result<bool, String> {
        match self {
            Value::Cell(cell) if cell.eq_ignore_ascii_case("true") => Ok(true),
            Value::Cell(cell) if cell.eq_ignore_ascii_case("false") => Ok(false),
            Value::Cell(cell) => Err(format!("`{cell}` must be true or false")),
            Value::Json(raw, _) => {
                serde_json::from_str(raw.get()).map_err(|_| "must be true or false".to_owned())
            }
        }
    }

    /// An amount in yuan: a CSV cell, or a JSON number or string. A JSON
    /// number is read from its text, so `12.50` is exact.
    pub(super) fn amount(self) -> Result<Fee, String> {
        let text = match self {
            Value::Json(raw, _)
                if serde_json::from_str::<serde_json::Number>(raw.get()).is_ok() =>
            {
                raw.get().to_owned()
            }
            other => other.text()?,
        };
        Fee::parse_yuan(&text)
    }
}

pub(super) fn code_value<T>(value: Value<'_>) -> Result<T, String>
where
    T: for<'s> TryFrom<&'s str, Error = CodeError>,
{
    code_text(&value.text()?)
}

pub(super) fn code_text<T>(text: &str) -> Result<T, String>
where
    T: for<'s> TryFrom<&'s str, Error = CodeError>,
{
    T::try_from(text).map_err(|error| error.to_string())
}

pub(super) fn one_of<T>(value: Value<'_>) -> Result<T, String>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    value
        .text()?
        .parse()
        .map_err(|error: T::Err| error.to_string())
}

pub(super) fn whole<T: TryFrom<i64>>(value: Value<'_>) -> Result<T, String> {
    let number = value.integer()?;
    T::try_from(number).map_err(|_| format!("`{number}` is out of range"))
}

pub(super) fn date(value: Value<'_>) -> Result<NaiveDate, String> {
    let text = value.text()?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date written YYYY-MM-DD"))
}

/// Marks a value whose problem has been recorded.
#[derive(Debug)]
pub(super) struct Reported;

/// The fields of one record (or one step), with where each was written and
/// the problems found in them.
pub(super) struct Fields<'t> {
    pub(super) values: HashMap<&'static str, Value<'t>>,
    pub(super) places: Places,
    pub(super) problems: Vec<Problem>,
}

impl<'t> Fields<'t> {
    pub(super) fn new(record: At) -> Self {
        Self {
            values: HashMap::new(),
            places: Places::new(record),
            problems: Vec::new(),
        }
    }

    pub(super) fn insert(&mut self, name: &'static str, value: Value<'t>, at: At) {
        self.values.insert(name, value);
        self.places.fields.insert(name.to_owned(), at);
    }

    pub(super) fn report(&mut self, at: At, message: impl fmt::Display) {
        self.problems.push(at.problem(message));
    }

    /// The trimmed text of a field, for keys: `None` when it is left out or
    /// not text (which is reported elsewhere).
    pub(super) fn key(&self, name: &str) -> Option<String> {
        let value = self.values.get(name).filter(|value| !value.is_blank())?;
        value.text().ok().filter(|text| !text.is_empty())
    }

    /// The text of a numeric key as written (a CSV cell, a JSON number or
    /// string): `None` when it is left out.
    pub(super) fn number_key(&self, name: &str) -> Option<String> {
        let text = match self.values.get(name).filter(|value| !value.is_blank())? {
            Value::Cell(cell) => (*cell).to_owned(),
            Value::Json(raw, _) => serde_json::from_str::<String>(raw.get())
                .unwrap_or_else(|_| raw.get().to_owned())
                .trim()
                .to_owned(),
        };
        (!text.is_empty()).then_some(text)
    }

    /// A field that may be left out (absent, blank or null).
    pub(super) fn optional<T>(
        &mut self,
        name: &'static str,
        convert: impl FnOnce(Value<'t>) -> Result<T, String>,
    ) -> Result<Option<T>, Reported> {
        match self.values.get(name).copied() {
            None => Ok(None),
            Some(value) if value.is_blank() => Ok(None),
            Some(value) => match convert(value) {
                Ok(converted) => Ok(Some(converted)),
                Err(message) => {
                    self.report(self.places.field(name), message);
                    Err(Reported)
                }
            },
        }
    }

    /// A field that must have a value. A missing column or member has been
    /// reported once for the whole file or object, so it is not reported
    /// again here.
    pub(super) fn required<T>(
        &mut self,
        name: &'static str,
        convert: impl FnOnce(Value<'t>) -> Result<T, String>,
    ) -> Result<T, Reported> {
        let Some(value) = self.values.get(name).copied() else {
            return Err(Reported);
        };
        if value.is_blank() {
            self.report(self.places.field(name), "must not be empty");
            return Err(Reported);
        }
        self.optional(name, convert)?.ok_or(Reported)
    }

    /// A list: `;`-separated in a CSV cell (a blank cell is an empty list),
    /// a JSON array of strings (`null` counts as left out). Every bad item is
    /// reported.
    pub(super) fn list<T>(
        &mut self,
        name: &'static str,
        convert: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<Vec<T>>, Reported> {
        let Some(value) = self.values.get(name).copied() else {
            return Ok(None);
        };
        let at = self.places.field(name);
        let texts: Vec<(String, At)> = match value {
            Value::Cell(cell) => cell
                .split(';')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .enumerate()
                .map(|(index, item)| (item.to_owned(), at.item(index)))
                .collect(),
            Value::Json(raw, _) if raw.get() == "null" => return Ok(None),
            Value::Json(raw, lines) => {
                let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(raw.get()) else {
                    self.report(at, "must be a list (a JSON array of strings)");
                    return Err(Reported);
                };
                let path = match &at {
                    At::Json { path, .. } => path.clone(),
                    At::Csv { .. } => String::new(),
                };
                let mut texts = Vec::with_capacity(items.len());
                let mut ok = true;
                for (index, item) in items.into_iter().enumerate() {
                    let item_at = lines.at(item, format!("{path}[{index}]"));
                    match serde_json::from_str::<String>(item.get()) {
                        Ok(text) => texts.push((text.trim().to_owned(), item_at)),
                        Err(_) => {
                            self.report(item_at, "must be a string");
                            ok = false;
                        }
                    }
                }
                if !ok {
                    return Err(Reported);
                }
                texts
            }
        };
        let mut items = Vec::with_capacity(texts.len());
        let mut ok = true;
        for (text, item_at) in &texts {
            match convert(text) {
                Ok(item) => items.push(item),
                Err(message) => {
                    self.report(item_at.clone(), message);
                    ok = false;
                }
            }
        }
        self.places.items.insert(
            name.to_owned(),
            texts.into_iter().map(|(_, item_at)| item_at).collect(),
        );
        if ok { Ok(Some(items)) } else { Err(Reported) }
    }

    /// A required list: a missing column or member has been reported already.
    pub(super) fn required_list<T>(
        &mut self,
        name: &'static str,
        convert: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, Reported> {
        if !self.values.contains_key(name) {
            return Err(Reported);
        }
        match self.list(name, convert)? {
            Some(items) => Ok(items),
            None => {
                self.report(self.places.field(name), "must not be empty");
                Err(Reported)
            }
        }
    }

    /// What a draft's rules accepted, or `None` with each rule it broke
    /// reported where the field, or the list item, it names was written
    /// (`nameZh`, `standards[2]`).
    pub(super) fn checked<T>(&mut self, validated: Result<T, Vec<ValidationError>>) -> Option<T> {
        let errors = match validated {
            Ok(accepted) => return Some(accepted),
            Err(errors) => errors,
        };
        for error in errors {
            let at = match error.field.split_once('[') {
                Some((list, rest)) => match rest.trim_end_matches(']').parse() {
                    Ok(index) => self.places.item(&snake(list), index),
                    Err(_) => self.places.field(&snake(list)),
                },
                None => self.places.field(&snake(&error.field)),
            };
            self.report(at, error.message);
        }
        None
    }

    pub(super) fn illustrative(&mut self) -> Result<bool, Reported> {
        self.optional("illustrative", Value::boolean)
            .map(Option::unwrap_or_default)
    }
}

pub(super) fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

//! Where each record, field and list item of an import file was written:
//! CSV lines and columns, JSON lines, character columns and paths.

use std::collections::HashMap;
use std::fmt;

use serde_json::value::RawValue;

use super::Problem;
use super::fields::camel;

/// Where a record, a field or a list item was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum At {
    /// A CSV line, the column unless the whole line is meant, and the
    /// 1-based position in a `;` list.
    Csv {
        line: usize,
        column: Option<String>,
        item: Option<usize>,
    },
    /// A JSON value's line and character column, and its path from the top.
    Json {
        line: usize,
        column: usize,
        path: String,
    },
}

impl At {
    pub(super) fn line(line: usize) -> At {
        At::Csv {
            line,
            column: None,
            item: None,
        }
    }

    /// The line this place is on.
    pub(super) fn line_number(&self) -> usize {
        match self {
            At::Csv { line, .. } | At::Json { line, .. } => *line,
        }
    }

    /// The field `name` of the record written here: in CSV its column on
    /// this line; in JSON this place with the field's path, the best there
    /// is when the field itself was left out.
    pub(super) fn field(&self, name: &str) -> At {
        match self {
            At::Csv { line, .. } => At::Csv {
                line: *line,
                column: Some(name.to_owned()),
                item: None,
            },
            At::Json { line, column, path } => At::Json {
                line: *line,
                column: *column,
                path: format!("{path}.{}", camel(name)),
            },
        }
    }

    /// The `index`th (0-based) item of the list written here.
    pub(super) fn item(&self, index: usize) -> At {
        match self {
            At::Csv { line, column, .. } => At::Csv {
                line: *line,
                column: column.clone(),
                item: Some(index + 1),
            },
            At::Json { line, column, path } => At::Json {
                line: *line,
                column: *column,
                path: format!("{path}[{index}]"),
            },
        }
    }

    /// How a field is named in this format: snake_case in CSV, camelCase in JSON.
    pub(super) fn name(&self, field: &str) -> String {
        match self {
            At::Csv { .. } => field.to_owned(),
            At::Json { .. } => camel(field),
        }
    }

    pub(super) fn problem(&self, message: impl fmt::Display) -> Problem {
        match self {
            At::Csv { line, column, item } => Problem {
                line: *line,
                column: column.clone().unwrap_or_default(),
                message: match item {
                    Some(item) => format!("item {item}: {message}"),
                    None => message.to_string(),
                },
            },
            At::Json { line, column, path } => Problem {
                line: *line,
                column: column.to_string(),
                message: if path.is_empty() {
                    message.to_string()
                } else {
                    format!("{path}: {message}")
                },
            },
        }
    }
}

/// Where a record and each of its fields and list items were written.
#[derive(Debug, Clone)]
pub(super) struct Places {
    pub(super) record: At,
    pub(super) fields: HashMap<String, At>,
    pub(super) items: HashMap<String, Vec<At>>,
}

impl Places {
    pub(super) fn new(record: At) -> Self {
        Self {
            record,
            fields: HashMap::new(),
            items: HashMap::new(),
        }
    }

    pub(super) fn field(&self, name: &str) -> At {
        self.fields
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.record.field(name))
    }

    pub(super) fn item(&self, name: &str, index: usize) -> At {
        self.items
            .get(name)
            .and_then(|items| items.get(index))
            .cloned()
            .unwrap_or_else(|| self.field(name).item(index))
    }
}

/// Line starts of a JSON text, to turn the byte offset of a value into a
/// line and a character column.
pub(super) struct Lines<'t> {
    pub(super) text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Self { text, starts }
    }

    /// The place of `raw`, which must have been parsed from this text:
    /// its bytes lie inside the text, so the difference of the addresses is
    /// its offset.
    pub(super) fn at(&self, raw: &RawValue, path: String) -> At {
        let offset = (raw.get().as_ptr() as usize)
            .checked_sub(self.text.as_ptr() as usize)
            .filter(|offset| *offset <= self.text.len())
            .unwrap_or(0);
        let line = self.starts.partition_point(|start| *start <= offset);
        let start = self.starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        At::Json { line, column, path }
    }

    /// Converts serde_json's 1-based line and byte column into a place.
    pub(super) fn at_error(&self, error: &serde_json::Error) -> At {
        let line = error.line().clamp(1, self.starts.len());
        let start = self.starts[line - 1];
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        let column = self.text[start..end]
            .char_indices()
            .take_while(|(index, _)| *index < error.column())
            .count()
            .max(1);
        At::Json {
            line,
            column,
            path: String::new(),
        }
    }
}

/// serde_json's message without the position it appends.
pub(super) fn json_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    message
        .strip_suffix(&suffix)
        .map(str::to_owned)
        .unwrap_or(message)
}

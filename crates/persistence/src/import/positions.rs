//! Where each record, field and list item of an import file was written:
//! CSV lines and columns, JSON lines, character columns and paths.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

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
    /// A JSON value's byte offset in its text, and its path from the top.
    /// The line and character column are worked out only for a problem:
    /// counting characters for every value would be quadratic on a file
    /// written as one long line.
    Json {
        text: Source,
        offset: usize,
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
            At::Csv { line, .. } => *line,
            At::Json { text, offset, .. } => text.line(*offset),
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
            At::Json { text, offset, path } => At::Json {
                text: text.clone(),
                offset: *offset,
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
            At::Json { text, offset, path } => At::Json {
                text: text.clone(),
                offset: *offset,
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
            At::Json { text, offset, path } => Problem {
                line: text.line(*offset),
                column: text.column(*offset).to_string(),
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

/// A JSON text and where its lines start, shared by the places in it, to
/// turn a value's byte offset into a line and a character column.
#[derive(Clone)]
pub(super) struct Source(Arc<Text>);

struct Text {
    text: String,
    starts: Vec<usize>,
}

impl Source {
    /// The 1-based line of the byte at `offset`.
    fn line(&self, offset: usize) -> usize {
        self.0.starts.partition_point(|start| *start <= offset)
    }

    /// The 1-based character column of the byte at `offset`.
    fn column(&self, offset: usize) -> usize {
        let start = self.0.starts[self.line(offset) - 1];
        self.0.text[start..offset].chars().count() + 1
    }
}

/// Sources are the same when they are one text read once.
impl PartialEq for Source {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Source {}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({} bytes)", self.0.text.len())
    }
}

/// A JSON text being read, and the source its places point into.
pub(super) struct Lines {
    source: Source,
}

impl Lines {
    /// Takes the text rather than a copy: the places keep it until they
    /// are dropped, and a copy doubled the memory a large file took.
    pub(super) fn new(text: String) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Self {
            source: Source(Arc::new(Text { text, starts })),
        }
    }

    /// The text, which the values read borrow from.
    pub(super) fn text(&self) -> &str {
        &self.source.0.text
    }

    /// The place of `raw`, which must have been parsed from [`Self::text`]:
    /// its bytes lie inside the text, so the difference of the addresses is
    /// its offset.
    pub(super) fn at(&self, raw: &RawValue, path: String) -> At {
        let text = self.text();
        let offset = (raw.get().as_ptr() as usize)
            .checked_sub(text.as_ptr() as usize)
            .filter(|offset| *offset <= text.len())
            .unwrap_or(0);
        At::Json {
            text: self.source.clone(),
            offset,
            path,
        }
    }

    /// Converts serde_json's 1-based line and byte column into a place: the
    /// start of the character the column falls in (the first one, if none).
    pub(super) fn at_error(&self, error: &serde_json::Error) -> At {
        let starts = &self.source.0.starts;
        let text = self.text();
        let line = error.line().clamp(1, starts.len());
        let start = starts[line - 1];
        let end = starts.get(line).copied().unwrap_or(text.len());
        let within = text[start..end]
            .char_indices()
            .take_while(|(index, _)| *index < error.column())
            .last()
            .map_or(0, |(index, _)| index);
        At::Json {
            text: self.source.clone(),
            offset: start + within,
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

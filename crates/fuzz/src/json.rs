//! JSON documents edited value by value: near-valid JSON, which reaches
//! further into a reader than random text does.

use proptest::prelude::*;

/// A JSON document that may say what `serde_json::Value` cannot: the same
/// key twice, numbers past `f64`, any text where a value goes.
#[derive(Debug, Clone)]
pub enum Json {
    Raw(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The document of `text`, or `None` when it is not JSON.
    pub fn parse(text: &str) -> Option<Json> {
        serde_json::from_str(text)
            .ok()
            .map(|value| Json::from_value(&value))
    }

    /// A string value.
    pub fn string(text: &str) -> Json {
        Json::Raw(serde_json::to_string(text).expect("a string"))
    }

    fn from_value(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Array(items) => {
                Json::Array(items.iter().map(Json::from_value).collect())
            }
            serde_json::Value::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.clone(), Json::from_value(value)))
                    .collect(),
            ),
            scalar => Json::Raw(scalar.to_string()),
        }
    }

    /// The document pretty-printed, so that a reader's problems land on
    /// many different lines.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
        match self {
            Json::Raw(text) => out.push_str(text),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    pad(out, indent + 2);
                    item.write(out, indent + 2);
                }
                if !items.is_empty() {
                    out.push('\n');
                    pad(out, indent);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    pad(out, indent + 2);
                    out.push_str(&serde_json::to_string(key).expect("a string"));
                    out.push_str(": ");
                    value.write(out, indent + 2);
                }
                if !members.is_empty() {
                    out.push('\n');
                    pad(out, indent);
                }
                out.push('}');
            }
        }
    }

    /// The number of values below this one.
    fn count(&self) -> usize {
        match self {
            Json::Raw(_) => 0,
            Json::Array(items) => items.iter().map(|item| 1 + item.count()).sum(),
            Json::Object(members) => members.iter().map(|(_, value)| 1 + value.count()).sum(),
        }
    }

    /// Applies `edit` to the value numbered `*target` below this one, in
    /// document order; true once done.
    fn edit(&mut self, target: &mut usize, edit: &JsonEdit) -> bool {
        let len = match self {
            Json::Raw(_) => return false,
            Json::Array(items) => items.len(),
            Json::Object(members) => members.len(),
        };
        for index in 0..len {
            if *target == 0 {
                self.edit_child(index, edit);
                return true;
            }
            *target -= 1;
            let child = match self {
                Json::Array(items) => &mut items[index],
                Json::Object(members) => &mut members[index].1,
                Json::Raw(_) => unreachable!("a raw value has no children"),
            };
            if child.edit(target, edit) {
                return true;
            }
        }
        false
    }

    fn edit_child(&mut self, index: usize, edit: &JsonEdit) {
        match (self, edit) {
            (Json::Array(items), JsonEdit::Replace(_, value)) => items[index] = value.clone(),
            (Json::Object(members), JsonEdit::Replace(_, value)) => {
                members[index].1 = value.clone()
            }
            (Json::Array(items), JsonEdit::Remove(_)) => {
                items.remove(index);
            }
            (Json::Object(members), JsonEdit::Remove(_)) => {
                members.remove(index);
            }
            (Json::Array(items), JsonEdit::Copy(_)) => items.insert(index, items[index].clone()),
            (Json::Object(members), JsonEdit::Copy(_)) => {
                members.insert(index, members[index].clone())
            }
            (Json::Object(members), JsonEdit::Rename(_, key)) => members[index].0.clone_from(key),
            (Json::Array(items), JsonEdit::Wrap(_)) => {
                items[index] = Json::Array(vec![items[index].clone()])
            }
            (Json::Object(members), JsonEdit::Wrap(_)) => {
                members[index].1 = Json::Array(vec![members[index].1.clone()])
            }
            // `apply` renumbers numbers and splices strings, counting those only.
            (_, JsonEdit::Renumber(..) | JsonEdit::Splice(..))
            | (Json::Array(_), JsonEdit::Rename(..))
            | (Json::Raw(_), _) => {}
        }
    }

    /// The raw values of the document that `starts` says are of a kind,
    /// in document order.
    fn raws(&mut self, starts: fn(char) -> bool) -> Vec<&mut String> {
        match self {
            Json::Raw(text) if text.starts_with(starts) => vec![text],
            Json::Raw(_) => Vec::new(),
            Json::Array(items) => items
                .iter_mut()
                .flat_map(|item| item.raws(starts))
                .collect(),
            Json::Object(members) => members
                .iter_mut()
                .flat_map(|(_, value)| value.raws(starts))
                .collect(),
        }
    }
}

/// One change to a JSON document, at the value of that number in document
/// order (wrapping).
#[derive(Debug, Clone)]
pub enum JsonEdit {
    Replace(usize, Json),
    Remove(usize),
    Copy(usize),
    Rename(usize, String),
    Wrap(usize),
    /// Writes the number of that position among the document's numbers
    /// anew: where a reader expects a number, numbers at its edges reach
    /// further than values of another type.
    Renumber(usize, String),
    /// Puts a text into the string of that position among the document's
    /// strings, at a character position (wrapping): a valid value with a
    /// tricky character reaches further than a value of the wrong type.
    Splice(usize, usize, String),
}

impl JsonEdit {
    fn target(&self) -> usize {
        match self {
            JsonEdit::Replace(at, _)
            | JsonEdit::Remove(at)
            | JsonEdit::Copy(at)
            | JsonEdit::Rename(at, _)
            | JsonEdit::Wrap(at)
            | JsonEdit::Renumber(at, _)
            | JsonEdit::Splice(at, ..) => *at,
        }
    }
}

/// Numbers at and past the edges of `i32`, `i64` and `f64`, and in forms
/// that mean the same number.
pub const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "0.0",
    "1.5",
    "1e3",
    "1E-7",
    "2147483647",
    "-2147483648",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1.7976931348623157e308",
    "1e400",
    "5e-324",
];

/// Values where JSON readers go wrong: every type, numbers out of every
/// range and past `f64`, an escaped NUL, a lone surrogate, empty and nested
/// containers.
pub const ODD: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1",
    "-1",
    "250",
    "251",
    "2023",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "1e400",
    "-1e400",
    "1e3",
    "1.0",
    "12.345",
    "12.50",
    "0.1",
    "\"\"",
    "[]",
    "{}",
    "[[]]",
    "[null]",
    "{\"\": null}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\uDBFF\\uDFFF\"",
];

/// An odd value: one of [`ODD`], one of `texts` as a string or a list of
/// them, or arrays nested up to 200 deep.
pub fn odd(texts: BoxedStrategy<String>) -> impl Strategy<Value = Json> {
    prop_oneof![
        3 => proptest::sample::select(ODD).prop_map(|raw| Json::Raw(raw.to_owned())),
        4 => texts.clone().prop_map(|text| Json::string(&text)),
        1 => (1..200usize).prop_map(|depth| Json::Raw(format!("{}{}", "[".repeat(depth), "]".repeat(depth)))),
        1 => proptest::collection::vec(texts, 0..40).prop_map(|items| {
            Json::Raw(serde_json::to_string(&items).expect("strings"))
        }),
    ]
}

/// A random [`JsonEdit`] that puts `values` in and renames to `keys`.
pub fn edit(
    values: impl Strategy<Value = Json> + 'static,
    keys: &'static [&'static str],
) -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        6 => (any::<usize>(), values).prop_map(|(at, value)| JsonEdit::Replace(at, value)),
        2 => any::<usize>().prop_map(JsonEdit::Remove),
        2 => any::<usize>().prop_map(JsonEdit::Copy),
        1 => (any::<usize>(), proptest::sample::select(keys))
            .prop_map(|(at, key)| JsonEdit::Rename(at, key.to_owned())),
        1 => any::<usize>().prop_map(JsonEdit::Wrap),
        3 => (any::<usize>(), proptest::sample::select(NUMBERS))
            .prop_map(|(at, number)| JsonEdit::Renumber(at, number.to_owned())),
        3 => (any::<usize>(), any::<usize>(), crate::piece())
            .prop_map(|(at, position, text)| JsonEdit::Splice(at, position, text)),
    ]
}

/// `text` with `edits` applied in turn, pretty-printed; unchanged when it
/// is not JSON.
pub fn apply(text: &str, edits: &[JsonEdit]) -> String {
    let Some(mut document) = Json::parse(text) else {
        return text.to_owned();
    };
    for edit in edits {
        if let JsonEdit::Renumber(at, number) = edit {
            let mut numbers = document.raws(|c| c == '-' || c.is_ascii_digit());
            let count = numbers.len();
            if count > 0 {
                numbers[at % count].clone_from(number);
            }
            continue;
        }
        if let JsonEdit::Splice(at, position, text) = edit {
            let mut strings = document.raws(|c| c == '"');
            let count = strings.len();
            if let Some(raw) = strings.get_mut(at % count.max(1))
                && let Ok(string) = serde_json::from_str::<String>(raw)
            {
                let mut chars: Vec<char> = string.chars().collect();
                let position = position % (chars.len() + 1);
                chars.splice(position..position, text.chars());
                let spliced: String = chars.into_iter().collect();
                **raw = serde_json::to_string(&spliced).expect("a string");
            }
            continue;
        }
        let count = document.count();
        if count > 0 {
            document.edit(&mut (edit.target() % count), edit);
        }
    }
    document.text()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_can_say_what_a_value_cannot() {
        let text = r#"{"a": [1, {"b": 2}]}"#;
        let edits = [
            JsonEdit::Copy(0),
            JsonEdit::Replace(4, Json::Raw("1e400".into())),
            JsonEdit::Rename(5, "c".into()),
            JsonEdit::Remove(3),
        ];
        assert_eq!(
            apply(text, &edits[..1]),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ]\n}\n"
        );
        let edited = apply(text, &edits);
        let compact: String = edited.split_whitespace().collect();
        assert_eq!(compact, r#"{"c":[1,{}],"a":1e400}"#);
        let renumbered = apply(text, &[JsonEdit::Renumber(3, "-0".into())]);
        let compact: String = renumbered.split_whitespace().collect();
        assert_eq!(compact, r#"{"a":[1,{"b":-0}]}"#);
        let spliced = apply(r#"["ab", "字"]"#, &[JsonEdit::Splice(3, 1, "\0\"".into())]);
        let compact: String = spliced.split_whitespace().collect();
        assert_eq!(compact, r#"["ab","字\u0000\""]"#);
        assert_eq!(apply("not json", &edits), "not json");
    }
}

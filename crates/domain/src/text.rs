//! The rules every input's texts and lists go through, whichever way the
//! input arrives (a mutation or an import file): one place for each limit.

use std::collections::HashSet;
use std::fmt::Display;
use std::hash::Hash;

use crate::Channel;

/// An input that breaks a rule, naming the field so a client can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Longest name, title or list item (a material, a guarantee level): one
/// line on a printed guide.
pub const NAME_MAX: usize = 200;
/// Longest free text: a legal basis, a note, a rationale.
pub const NOTE_MAX: usize = 2000;
/// Longest text of a national item (its content, baseline standard, funding
/// responsibility…): the official texts run to a few hundred characters.
pub const LONG_TEXT_MAX: usize = 4000;

/// Checks a required text: trimmed, non-empty, at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = optional_text(field, value, max)?;
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    Ok(trimmed)
}

/// Checks a text that may be empty: trimmed, at most `max` characters, and
/// without U+0000, which PostgreSQL can neither store nor compare.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    no_nul(field, value)?;
    let trimmed = value.trim();
    if trimmed.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Refuses a text holding U+0000.
fn no_nul(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.contains('\0') {
        return Err(ValidationError::new(
            field,
            "must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

/// A row's names: the Chinese one required, the English one empty where
/// none is known; both at most [`NAME_MAX`] characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub zh: String,
    pub en: String,
}

impl Names {
    /// The names trimmed, or every rule they break, on the fields
    /// `{stem}Zh` and `{stem}En` (`nameZh`, `titleEn`, …).
    pub fn validated(stem: &str, zh: &str, en: &str) -> Result<Self, Vec<ValidationError>> {
        let zh = required_text(&format!("{stem}Zh"), zh, NAME_MAX);
        let en = optional_text(&format!("{stem}En"), en, NAME_MAX);
        match (zh, en) {
            (Ok(zh), Ok(en)) => Ok(Self { zh, en }),
            (zh, en) => Err(zh.err().into_iter().chain(en.err()).collect()),
        }
    }
}

/// Every item of a list that repeats an earlier one, each named by its
/// index (`standards[2]`).
pub fn repeats<T: Eq + Hash + Display>(field: &str, items: &[T]) -> Vec<ValidationError> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| !seen.insert(*item))
        .map(|(index, item)| {
            ValidationError::new(
                format!("{field}[{index}]"),
                format!("`{item}` is listed twice"),
            )
        })
        .collect()
}

/// Checks that no channel is listed twice, and returns them in their
/// canonical order.
pub fn distinct_channels(
    field: &str,
    channels: &[Channel],
) -> Result<Vec<Channel>, ValidationError> {
    let mut sorted = channels.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() == channels.len() {
        Ok(sorted)
    } else {
        Err(ValidationError::new(field, "a channel is listed twice"))
    }
}

/// The fields a validation that must fail names, in order; for tests.
#[cfg(test)]
pub(crate) fn refused_fields<T: std::fmt::Debug>(
    validated: Result<T, Vec<ValidationError>>,
) -> Vec<String> {
    validated
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::{Counter, Online};

    #[test]
    fn a_channel_listed_twice_is_refused_wherever_it_stands() {
        for twice in [
            vec![Online, Online],
            vec![Online, Counter, Online],
            vec![Counter, Online, Counter],
        ] {
            let error = distinct_channels("requiredChannels", &twice).unwrap_err();
            assert_eq!(error.field, "requiredChannels", "{twice:?}");
        }
        assert_eq!(
            distinct_channels("channels", &[Online, Counter]).unwrap(),
            vec![Counter, Online]
        );
        assert_eq!(distinct_channels("channels", &[]).unwrap(), vec![]);
    }

    #[test]
    fn each_repeat_is_named_by_its_index() {
        let errors = repeats("standards", &["A", "B", "A", "A", "C"]);
        let named: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("standards[2]", "`A` is listed twice"),
                ("standards[3]", "`A` is listed twice")
            ]
        );
        assert!(repeats::<&str>("standards", &[]).is_empty());
    }

    #[test]
    fn a_chinese_name_is_required_and_an_english_one_is_not() {
        let names = Names::validated("name", " 社保卡申领 ", "  ").unwrap();
        assert_eq!((names.zh.as_str(), names.en.as_str()), ("社保卡申领", ""));
        let errors = Names::validated("title", "", &"E".repeat(NAME_MAX + 1)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["titleZh", "titleEn"]);
    }

    /// Found by fuzzing: PostgreSQL refuses U+0000 in a text, so a name
    /// holding it failed in the database instead of being refused.
    #[test]
    fn a_nul_character_is_refused() {
        for text in ["\0", "社保\0卡", "a\0"] {
            let error = required_text("nameZh", text, NAME_MAX).unwrap_err();
            assert_eq!(error.message, "must not contain the NUL character (U+0000)");
            assert!(optional_text("nameEn", text, NAME_MAX).is_err());
        }
    }

    #[test]
    fn texts_are_trimmed_and_bounded_in_characters() {
        assert_eq!(required_text("f", "  社保卡 ", NAME_MAX).unwrap(), "社保卡");
        assert_eq!(
            required_text("f", "   ", NAME_MAX).unwrap_err().message,
            "must not be empty"
        );
        assert_eq!(optional_text("f", "  ", NAME_MAX).unwrap(), "");
        let long = "字".repeat(NAME_MAX + 1);
        assert!(optional_text("f", &long, NAME_MAX).is_err());
        assert!(optional_text("f", &"字".repeat(NAME_MAX), NAME_MAX).is_ok());
    }
}

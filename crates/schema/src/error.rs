//! The one error type the API returns, each with a stable `extensions.code`.

use async_graphql::ErrorExtensions;
use concord_persistence::StoreError;

/// What a client is told when a request fails.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    BadUserInput { field: String, message: String },
    /// Publishing a guide below its national item's baseline: a
    /// BAD_USER_INPUT that also names the rule broken and the baseline's
    /// figure, for a client to act on.
    #[error("{message}")]
    BelowBaseline {
        field: &'static str,
        rule: &'static str,
        baseline: String,
        message: String,
    },
    /// A stale `expectedRevision`.
    #[error("{message}")]
    Conflict { current: i32, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    LimitExceeded {
        limit: &'static str,
        message: String,
    },
    /// Something failed inside; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn bad_input(field: impl Into<String>, message: impl ToString) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.to_string(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::BadUserInput { .. } | ApiError::BelowBaseline { .. } => "BAD_USER_INPUT",
            ApiError::Conflict { .. } => "CONFLICT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::LimitExceeded { .. } => "LIMIT_EXCEEDED",
            ApiError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Internal(Box::new(error))
    }
}

impl From<std::sync::Arc<StoreError>> for ApiError {
    fn from(error: std::sync::Arc<StoreError>) -> Self {
        ApiError::Internal(Box::new(error))
    }
}

impl From<concord_persistence::mutate::MutationError> for ApiError {
    fn from(error: concord_persistence::mutate::MutationError) -> Self {
        use concord_persistence::mutate::MutationError;
        match error {
            MutationError::NotFound(what) => ApiError::NotFound(what),
            MutationError::Conflict { current } => ApiError::Conflict {
                current,
                message: format!(
                    "the row is at revision {current}; reload it and send that as expectedRevision"
                ),
            },
            MutationError::Invalid { field, message } => ApiError::BadUserInput { field, message },
            MutationError::BelowBaseline(violation) => ApiError::BelowBaseline {
                field: violation.field(),
                rule: violation.rule(),
                baseline: violation.baseline(),
                message: format!(
                    "the guide falls below its national item's baseline ({} rule, baseline {}): {}; \
                     a NATIONAL_ADMIN may grant an exemption for its region and matter",
                    violation.rule(),
                    violation.baseline(),
                    violation.describe()
                ),
            },
            MutationError::Store(error) => error.into(),
        }
    }
}

impl From<concord_auth::Denial> for ApiError {
    fn from(denial: concord_auth::Denial) -> Self {
        match denial {
            concord_auth::Denial::Unauthenticated => ApiError::Unauthenticated(
                "this needs a token: send `Authorization: Bearer <token>`".into(),
            ),
            concord_auth::Denial::Forbidden(why) => ApiError::Forbidden(why),
        }
    }
}

/// Turns the domain's list of broken rules into one error that names the
/// first field (under `prefix`) and says every problem.
pub fn invalid_input(prefix: &str, errors: Vec<concord_domain::ValidationError>) -> ApiError {
    let field = errors
        .first()
        .map(|e| format!("{prefix}{}", e.field))
        .unwrap_or_else(|| prefix.trim_end_matches('.').to_owned());
    let message = errors
        .iter()
        .map(|e| format!("{prefix}{e}"))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::BadUserInput { field, message }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = %concord_domain::error_chain(cause.as_ref()), "request failed");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            match self {
                ApiError::BadUserInput { field, .. } => extensions.set("field", field.as_str()),
                ApiError::BelowBaseline {
                    field,
                    rule,
                    baseline,
                    ..
                } => {
                    extensions.set("field", *field);
                    extensions.set("rule", *rule);
                    extensions.set("baseline", baseline.as_str());
                }
                ApiError::LimitExceeded { limit, .. } => extensions.set("limit", *limit),
                ApiError::Conflict { current, .. } => extensions.set("currentRevision", *current),
                ApiError::Unauthenticated(_)
                | ApiError::Forbidden(_)
                | ApiError::NotFound(_)
                | ApiError::Internal(_) => {}
            }
        })
    }
}

/// Turns any failure that maps to an [`ApiError`] into a GraphQL error with
/// its code. (async-graphql's blanket `From<Display>` would drop the code.)
pub trait OrApiError<T> {
    fn or_api(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> OrApiError<T> for Result<T, E> {
    fn or_api(self) -> async_graphql::Result<T> {
        self.map_err(|error| error.into().extend())
    }
}

/// Parses an argument into a domain type, naming the argument when it fails.
pub fn parse_arg<T, E>(field: &str, raw: &str) -> Result<T, ApiError>
where
    T: for<'a> TryFrom<&'a str, Error = E>,
    E: ToString,
{
    T::try_from(raw).map_err(|error| ApiError::bad_input(field, error))
}

/// Parses each item of a list argument, naming the first bad one by its
/// index (`input.matters[2]`).
pub fn parse_each<T, E>(field: &str, raw: &[String]) -> Result<Vec<T>, ApiError>
where
    T: for<'a> TryFrom<&'a str, Error = E>,
    E: ToString,
{
    raw.iter()
        .enumerate()
        .map(|(index, item)| parse_arg(&format!("{field}[{index}]"), item))
        .collect()
}

/// Parses an optional argument, naming `field`.
pub fn parse_optional<T, E>(field: &str, raw: Option<&str>) -> Result<Option<T>, ApiError>
where
    T: for<'a> TryFrom<&'a str, Error = E>,
    E: ToString,
{
    raw.map(|raw| parse_arg::<T, E>(field, raw)).transpose()
}

/// Parses an optional argument into its canonical text, naming `field`.
pub fn optional<T, E>(field: &str, raw: Option<&String>) -> Result<Option<String>, ApiError>
where
    T: for<'a> TryFrom<&'a str, Error = E> + Into<String>,
    E: ToString,
{
    Ok(parse_optional::<T, E>(field, raw.map(String::as_str))?.map(Into::into))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_errors_hide_their_cause() {
        let error = ApiError::Internal(Box::new(Outer(std::io::Error::other("disk on fire"))));
        let graphql = error.extend();
        assert_eq!(graphql.message, "internal error");
        let text = format!("{:?}", graphql.extensions);
        assert!(
            text.contains("INTERNAL") && !text.contains("disk"),
            "{text}"
        );
    }

    #[test]
    fn bad_input_names_the_field() {
        let error: ApiError =
            parse_arg::<concord_domain::RegionCode, _>("code", "33000").unwrap_err();
        let graphql = error.extend();
        let text = format!("{:?}", graphql.extensions);
        assert!(
            text.contains("BAD_USER_INPUT") && text.contains("code"),
            "{text}"
        );
        assert!(graphql.message.contains("6 digits"));
    }
}

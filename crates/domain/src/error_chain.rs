//! One line for an error and its causes, which the API's log and the sync
//! job's status both need.

/// Writes `error` and its whole cause chain on one line, each cause after a
/// `": "`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("sync failed")]
    struct Failed(#[source] Unread);

    #[derive(Debug, thiserror::Error)]
    #[error("the page cannot be read")]
    struct Unread(#[source] std::io::Error);

    #[test]
    fn every_cause_follows_in_order() {
        let error = Failed(Unread(std::io::Error::other("connection reset")));
        assert_eq!(
            error_chain(&error),
            "sync failed: the page cannot be read: connection reset"
        );
        assert_eq!(error_chain(&std::io::Error::other("alone")), "alone");
    }
}

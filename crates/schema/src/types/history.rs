//! Kept versions of standards and guides, the differences between them,
//! the audit log and evaluations.

use async_graphql::{Context, Json, Object, SimpleObject};
use concord_domain::audit::{self, KeptVersion};
use concord_domain::{Provenance, RowKind};
use derive_more::From;
use serde_json::Value;

use super::load_one;
use crate::error::ApiError;
use crate::loader::RevisionsOf;

/// One kept version of a standard or a guide.
pub struct Revision {
    pub revision: i32,
    pub changed_at: chrono::DateTime<chrono::Utc>,
    pub changed_by: Option<String>,
    pub content: Value,
}

impl From<KeptVersion> for Revision {
    fn from(version: KeptVersion) -> Self {
        Self {
            revision: version.revision,
            changed_at: version.changed_at,
            changed_by: version.changed_by,
            content: version.content,
        }
    }
}

/// One kept version of a standard or a guide.
#[Object]
impl Revision {
    /// The revision number.
    async fn revision(&self) -> i32 {
        self.revision
    }

    /// When this version was made.
    async fn changed_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.changed_at
    }

    /// Who made it (the token's subject); null for seeded or imported versions.
    async fn changed_by(&self) -> Option<&str> {
        self.changed_by.as_deref()
    }

    /// The content at this revision, field by field.
    async fn content(&self) -> Json<&Value> {
        Json(&self.content)
    }
}

/// A field that differs between two revisions.
#[derive(SimpleObject, Debug, PartialEq)]
pub struct FieldChange {
    /// The field's name, as in `content`.
    pub field: String,
    /// Its value at the earlier revision.
    pub old: Json<Value>,
    /// Its value at the later revision.
    pub new: Json<Value>,
}

/// Every kept version of a row, oldest first, ending with the present one:
/// what the change log kept under `kind` (`STANDARD`, `GUIDE`, ...) and the
/// row's `key`, and the row as it stands, at `revision` since `updated_at`,
/// with `content` its snapshot.
pub async fn kept_versions(
    ctx: &Context<'_>,
    kind: RowKind,
    key: String,
    current: &Provenance,
    content: Value,
) -> async_graphql::Result<Vec<Revision>> {
    let kept = load_one::<_, Vec<KeptVersion>>(ctx, RevisionsOf(kind, key)).await?;
    let current = Revision {
        revision: current.revision,
        changed_at: current.updated_at,
        changed_by: None,
        content,
    };
    Ok(with_current(
        kept.unwrap_or_default()
            .into_iter()
            .map(Revision::from)
            .collect(),
        current,
    ))
}

/// Keeps the version at `current` even when it was never written to history
/// (a seeded row that has not changed since), so the list always ends with
/// the present.
fn with_current(mut kept: Vec<Revision>, current: Revision) -> Vec<Revision> {
    if !kept.iter().any(|r| r.revision == current.revision) {
        kept.push(current);
    }
    kept.sort_by_key(|r| r.revision);
    kept
}

/// The fields that differ between revisions `from` and `to`.
pub fn diff(versions: &[Revision], from: i32, to: i32) -> Result<Vec<FieldChange>, ApiError> {
    let find = |field: &str, revision: i32| {
        versions
            .iter()
            .find(|r| r.revision == revision)
            .ok_or_else(|| {
                let kept: Vec<String> = versions.iter().map(|r| r.revision.to_string()).collect();
                ApiError::bad_input(
                    field,
                    format!("revision {revision} is not kept; kept: {}", kept.join(", ")),
                )
            })
    };
    let old = &find("from", from)?.content;
    let new = &find("to", to)?.content;
    let empty = serde_json::Map::new();
    let old_fields = old.as_object().unwrap_or(&empty);
    let new_fields = new.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = old_fields.keys().chain(new_fields.keys()).collect();
    names.sort();
    names.dedup();
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let before = old_fields.get(name).cloned().unwrap_or(Value::Null);
            let after = new_fields.get(name).cloned().unwrap_or(Value::Null);
            (before != after).then(|| FieldChange {
                field: name.clone(),
                old: Json(before),
                new: Json(after),
            })
        })
        .collect())
}

/// One successful mutation, as the audit log keeps it. Append-only.
#[derive(From)]
pub struct AuditEntry(pub audit::AuditEntry);

/// One successful mutation, as the audit log keeps it. Append-only.
#[Object]
impl AuditEntry {
    /// The entry's sequence number.
    async fn id(&self) -> i64 {
        self.0.id
    }

    /// When the change was committed.
    async fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.at
    }

    /// Who made it: the token's subject.
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The role the change was made under.
    async fn role(&self) -> &str {
        &self.0.role
    }

    /// The actor's region, for a PROVINCE_ADMIN.
    async fn actor_region(&self) -> Option<&str> {
        self.0.actor_region.as_ref().map(|region| region.as_str())
    }

    /// The actor's zone, for a ZONE_COORDINATOR.
    async fn actor_zone(&self) -> Option<&str> {
        self.0.actor_zone.as_ref().map(|zone| zone.as_str())
    }

    /// What was done, e.g. `PUBLISH_GUIDE`.
    async fn action(&self) -> super::AuditAction {
        self.0.action.into()
    }

    /// The kind of row changed, e.g. `GUIDE`.
    async fn target_kind(&self) -> super::RowKind {
        self.0.target_kind.into()
    }

    /// The row's key, e.g. `330000/SI-PENSION-TRANSFER` or a standard code.
    async fn target_key(&self) -> &str {
        &self.0.target_key
    }

    /// The region that owns the row (`100000` for national rows).
    async fn target_region(&self) -> &str {
        self.0.target_region.as_str()
    }

    /// The row's content before the change; null when it was created.
    async fn before(&self) -> Option<Json<&Value>> {
        self.0.before.as_ref().map(Json)
    }

    /// The row's content after the change.
    async fn after(&self) -> Option<Json<&Value>> {
        self.0.after.as_ref().map(Json)
    }
}

/// How well a region served a matter over a period.
#[derive(From)]
pub struct Evaluation(pub concord_domain::Evaluation);

/// How well a region served a matter over a period.
#[Object]
impl Evaluation {
    /// The evaluated region's code.
    async fn region(&self) -> &str {
        self.0.region.as_str()
    }

    /// The evaluated matter's code.
    async fn matter(&self) -> &str {
        self.0.matter.as_str()
    }

    /// The period, e.g. `2025-Q3`.
    async fn period(&self) -> &str {
        self.0.period.as_str()
    }

    /// Satisfaction, 0 to 100.
    async fn satisfaction(&self) -> f64 {
        self.0.values.satisfaction
    }

    /// Cases handled in the period.
    async fn cases_handled(&self) -> i64 {
        self.0.values.cases_handled
    }

    /// Average working days taken per case.
    async fn average_days(&self) -> f64 {
        self.0.values.average_days
    }

    /// Starts at 1 and grows by one with each correction.
    async fn revision(&self) -> i32 {
        self.0.revision
    }

    /// True when this row is illustrative sample data, not an official figure.
    async fn illustrative(&self) -> bool {
        self.0.illustrative
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn version(revision: i32, content: Value) -> Revision {
        Revision {
            revision,
            changed_at: chrono::Utc::now(),
            changed_by: None,
            content,
        }
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let versions = vec![
            version(
                1,
                json!({ "timeLimitDays": 10, "status": "PUBLISHED", "materials": ["a"] }),
            ),
            version(
                2,
                json!({ "timeLimitDays": 7, "status": "DRAFT", "materials": ["a"] }),
            ),
        ];
        let changes = diff(&versions, 1, 2).unwrap();
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["status", "timeLimitDays"]);
        assert_eq!(changes[1].old.0, json!(10));
        assert_eq!(changes[1].new.0, json!(7));
        assert!(diff(&versions, 2, 2).unwrap().is_empty());
        assert!(
            matches!(diff(&versions, 1, 3), Err(ApiError::BadUserInput { ref field, .. }) if field == "to")
        );
    }

    #[test]
    fn the_current_version_is_always_listed() {
        let listed = with_current(vec![], version(1, json!({})));
        assert_eq!(listed.len(), 1);
        let listed = with_current(
            vec![version(1, json!({})), version(2, json!({}))],
            version(2, json!({})),
        );
        assert_eq!(
            listed.iter().map(|r| r.revision).collect::<Vec<_>>(),
            [1, 2]
        );
    }
}

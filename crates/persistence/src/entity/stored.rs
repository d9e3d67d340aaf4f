//! Columns that hold a value of one of the domain's closed sets. A row is
//! converted once, where it is read: a column holding any other text fails
//! the read with an error naming the set, so no caller ever handles an
//! unchecked spelling, and none can skip or default a corrupt one.

use std::ops::Deref;
use std::sync::Arc;

use concord_domain::{Channel, ClosedSet, ServedGroup};
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{
    ActiveValue, ColIdx, DbErr, FromJsonQueryResult, IntoActiveValue, QueryResult, TryGetError,
    TryGetable, Value,
};
use serde::{Deserialize, Serialize};

/// A closed-set value, stored as its one spelling. It serialises as that
/// spelling too, so rows replicate and hash exactly as when the column was
/// plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Stored<T: ClosedSet>(pub T);

impl<T: ClosedSet> Deref for Stored<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ClosedSet> PartialEq<T> for Stored<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

impl<T: ClosedSet> std::fmt::Display for Stored<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.spelling())
    }
}

impl<T: ClosedSet> From<T> for Stored<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: ClosedSet> From<Stored<T>> for Value {
    fn from(value: Stored<T>) -> Self {
        value.0.spelling().into()
    }
}

impl<T: ClosedSet> TryGetable for Stored<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        text.parse().map(Self).map_err(|error| {
            TryGetError::DbErr(DbErr::TryIntoErr {
                from: "String",
                into: T::NAME,
                source: Arc::new(error),
            })
        })
    }
}

impl<T: ClosedSet> ValueType for Stored<T> {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(value)?;
        text.parse().map(Self).map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        T::NAME.to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl<T: ClosedSet> Nullable for Stored<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: ClosedSet> IntoActiveValue<Stored<T>> for Stored<T> {
    fn into_active_value(self) -> ActiveValue<Stored<T>> {
        ActiveValue::Set(self)
    }
}

impl<T: ClosedSet> sea_orm::sea_query::postgres_array::NotU8 for Stored<T> {}

/// Channels, stored as one JSON column of their spellings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ChannelList(pub Vec<Channel>);

/// Served groups, stored as one JSON column of their codes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct GroupList(pub Vec<ServedGroup>);

#[cfg(test)]
mod tests {
    use concord_domain::{Channel, GuideStatus};
    use sea_orm::{ConnectionTrait, EntityTrait, Statement};

    use crate::entity::service_guide;
    use crate::test_support::seeded_database;

    /// Rewrites one column of every stored guide, as a hand edit or an old
    /// bug might have left it.
    async fn every_guide_with(db: &sea_orm::DatabaseConnection, assignment: &str) {
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            format!("UPDATE service_guide SET {assignment}"),
        ))
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn stored_values_read_back_as_the_domain_values() {
        let db = seeded_database().await;
        let guides = service_guide::Entity::find().all(&db).await.unwrap();
        assert!(!guides.is_empty());
        assert!(guides.iter().all(|g| g.status == GuideStatus::Published));
        assert!(guides.iter().all(|g| !g.channels.0.is_empty()));
        assert!(
            guides
                .iter()
                .any(|g| g.channels.0.contains(&Channel::Counter))
        );
    }

    #[tokio::test]
    async fn a_status_outside_its_set_fails_the_read_naming_the_set() {
        let db = seeded_database().await;
        every_guide_with(&db, "status = 'HIDDEN'").await;
        let error = service_guide::Entity::find().all(&db).await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains("GuideStatus"), "{message}");
        assert!(message.contains("HIDDEN"), "{message}");
    }

    #[tokio::test]
    async fn a_channel_outside_its_set_fails_the_read() {
        let db = seeded_database().await;
        every_guide_with(&db, r#"channels = '["COUNTER", "FAX"]'"#).await;
        let error = service_guide::Entity::find().all(&db).await.unwrap_err();
        assert!(error.to_string().contains("FAX"), "{error}");
    }
}

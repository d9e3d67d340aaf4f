//! Columns that hold a domain value: one of the closed sets, or a fee. A row is
//! converted once, where it is read: a column holding any other text fails
//! the read with an error naming the set, so no caller ever handles an
//! unchecked spelling, and none can skip or default a corrupt one.

use std::ops::Deref;
use std::sync::Arc;

use concord_domain::{Channel, ClosedSet, Fee, ServedGroup};
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

/// A fee, stored as its whole number of fen. A stored amount outside what
/// a fee may be fails the read, as an unknown spelling does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredFee(pub Fee);

impl Deref for StoredFee {
    type Target = Fee;

    fn deref(&self) -> &Fee {
        &self.0
    }
}

impl From<Fee> for StoredFee {
    fn from(fee: Fee) -> Self {
        Self(fee)
    }
}

impl Serialize for StoredFee {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0.fen())
    }
}

impl<'de> Deserialize<'de> for StoredFee {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fen = i64::deserialize(deserializer)?;
        Fee::from_fen(fen)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

impl From<StoredFee> for Value {
    fn from(fee: StoredFee) -> Self {
        fee.0.fen().into()
    }
}

/// An amount that [`Fee::from_fen`] refuses, as the error of a read.
#[derive(Debug, thiserror::Error)]
#[error("{fen} fen is not a fee: {reason}")]
struct NotAFee {
    fen: i64,
    reason: String,
}

impl TryGetable for StoredFee {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let fen = i64::try_get_by(res, index)?;
        Fee::from_fen(fen).map(Self).map_err(|reason| {
            TryGetError::DbErr(DbErr::TryIntoErr {
                from: "i64",
                into: "Fee",
                source: Arc::new(NotAFee { fen, reason }),
            })
        })
    }
}

impl ValueType for StoredFee {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let fen = <i64 as ValueType>::try_from(value)?;
        Fee::from_fen(fen).map(Self).map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        "Fee".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::BigInt
    }

    fn column_type() -> ColumnType {
        ColumnType::BigInteger
    }
}

impl Nullable for StoredFee {
    fn null() -> Value {
        Value::BigInt(None)
    }
}

impl IntoActiveValue<StoredFee> for StoredFee {
    fn into_active_value(self) -> ActiveValue<StoredFee> {
        ActiveValue::Set(self)
    }
}

impl sea_orm::sea_query::postgres_array::NotU8 for StoredFee {}

/// Channels, stored as one JSON column of their spellings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ChannelList(pub Vec<Channel>);

/// Served groups, stored as one JSON column of their codes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct GroupList(pub Vec<ServedGroup>);

#[cfg(test)]
mod tests {
    use concord_domain::{Channel, Fee, GuideStatus};
    use sea_orm::{ConnectionTrait, EntityTrait, Statement};

    use super::{ChannelList, Stored, StoredFee};
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
    async fn an_amount_no_fee_can_have_fails_the_read() {
        let db = seeded_database().await;
        every_guide_with(&db, "fee_fen = -1").await;
        let error = service_guide::Entity::find().all(&db).await.unwrap_err();
        assert!(error.to_string().contains("-1 fen"), "{error}");
    }

    #[test]
    fn rows_replicate_as_they_did_with_plain_columns() {
        let fee = serde_json::to_value(StoredFee(Fee::whole_yuan(12))).unwrap();
        assert_eq!(fee, serde_json::json!(1200));
        let status = serde_json::to_value(Stored(GuideStatus::Published)).unwrap();
        assert_eq!(status, serde_json::json!("PUBLISHED"));
        let channels = serde_json::to_value(ChannelList(vec![Channel::Online])).unwrap();
        assert_eq!(channels, serde_json::json!(["ONLINE"]));
        assert!(serde_json::from_value::<StoredFee>(serde_json::json!(-5)).is_err());
        assert!(
            serde_json::from_value::<Stored<GuideStatus>>(serde_json::json!("HIDDEN")).is_err()
        );
    }

    #[tokio::test]
    async fn a_channel_outside_its_set_fails_the_read() {
        let db = seeded_database().await;
        every_guide_with(&db, r#"channels = '["COUNTER", "FAX"]'"#).await;
        let error = service_guide::Entity::find().all(&db).await.unwrap_err();
        assert!(error.to_string().contains("FAX"), "{error}");
    }
}

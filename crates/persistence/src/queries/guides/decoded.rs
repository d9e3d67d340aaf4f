//! Records decoded before, kept under the bytes they were decoded from.
//!
//! A page of guides decodes every column of every row into the domain's
//! records: on the region and zone pages, about a quarter of the server's
//! time, for rows that come back the same page after page. So each record
//! is kept under the exact bytes the database sent for its columns, and a
//! row whose columns come back byte for byte the same is given the kept
//! record instead of being decoded again.
//!
//! Nothing kept can be stale: decoding is a function of those bytes alone,
//! so a record found under them is the one decoding them again would make,
//! and a row changed by any writer, through Concord or by hand, comes back
//! with other bytes. Only records that decoded without a problem are kept;
//! a row that fails to decode fails every time it is read.
//!
//! At most [`CAPACITY`] records of a kind are kept. When they are full the
//! kept records are all dropped and the next rows read fill them again,
//! which bounds the memory whatever the data's size and however many
//! versions of a row have been read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sea_orm::QueryResult;
use sea_orm::sqlx::postgres::PgValueFormat;
use sea_orm::sqlx::sqlite::Sqlite;
use sea_orm::sqlx::{Decode, Row, TypeInfo, ValueRef};

use crate::StoreError;

/// Records of a kind kept at most: a few hundred bytes of columns and the
/// record each, a few megabytes in all.
const CAPACITY: usize = 4096;

/// Records of type `T` by the bytes of the columns they were decoded from.
pub(super) struct Decoded<T> {
    records: Mutex<HashMap<Box<[u8]>, T>>,
    capacity: usize,
}

impl<T> Default for Decoded<T> {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl<T> Decoded<T> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            records: Mutex::new(HashMap::new()),
            capacity,
        }
    }
}

impl<T: Clone> Decoded<T> {
    /// The record of the `count` columns of `row` from `first` on: the one
    /// kept under their bytes, else what `decode` makes of them, kept.
    pub(super) fn read(
        &self,
        row: &QueryResult,
        first: usize,
        count: usize,
        decode: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(bytes) = column_bytes(row, first, count) else {
            return decode();
        };
        if let Some(record) = self.lock().get(bytes.as_slice()) {
            return Ok(record.clone());
        }
        let record = decode()?;
        let mut records = self.lock();
        if records.len() >= self.capacity {
            records.clear();
        }
        records.insert(bytes.into_boxed_slice(), record.clone());
        Ok(record)
    }

    /// A panic while the map was held leaves it whole (an insert or a
    /// clear either happened or not), so a poisoned lock is taken as it is.
    fn lock(&self) -> MutexGuard<'_, HashMap<Box<[u8]>, T>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The bytes of `count` columns of `row` from `first` on, as the driver
/// received them, each with what they are: null, or the value's format
/// (PostgreSQL) or storage class (SQLite) and its length. Together they
/// decide what a column decodes to. `None` when a column cannot be read
/// that way, and the row is decoded as usual.
fn column_bytes(row: &QueryResult, first: usize, count: usize) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(64 * count);
    let columns = first..first + count;
    if let Some(row) = row.try_as_pg_row() {
        bytes.push(b'P');
        for index in columns {
            let value = row.try_get_raw(index).ok()?;
            if value.is_null() {
                bytes.push(0);
                continue;
            }
            bytes.push(match value.format() {
                PgValueFormat::Binary => 1,
                PgValueFormat::Text => 2,
            });
            let oid = value.type_info().oid()?;
            bytes.extend_from_slice(&oid.0.to_le_bytes());
            with_length(&mut bytes, value.as_bytes().ok()?);
        }
    } else if let Some(row) = row.try_as_sqlite_row() {
        bytes.push(b'S');
        for index in columns {
            let value = row.try_get_raw(index).ok()?;
            if value.is_null() {
                bytes.push(0);
                continue;
            }
            // The value's own storage class: a null one would name the
            // column's declared type instead, hence the test above.
            match value.type_info().name() {
                "INTEGER" => {
                    bytes.push(1);
                    let integer = <i64 as Decode<Sqlite>>::decode(value).ok()?;
                    bytes.extend_from_slice(&integer.to_le_bytes());
                }
                "REAL" => {
                    bytes.push(2);
                    let real = <f64 as Decode<Sqlite>>::decode(value).ok()?;
                    bytes.extend_from_slice(&real.to_bits().to_le_bytes());
                }
                "TEXT" => {
                    bytes.push(3);
                    let text = <&str as Decode<Sqlite>>::decode(value).ok()?;
                    with_length(&mut bytes, text.as_bytes());
                }
                "BLOB" => {
                    bytes.push(4);
                    with_length(&mut bytes, <&[u8] as Decode<Sqlite>>::decode(value).ok()?);
                }
                _ => return None,
            }
        }
    } else {
        return None;
    }
    Some(bytes)
}

/// `value` after its length, so that no two lists of columns run together
/// into the same bytes.
fn with_length(bytes: &mut Vec<u8>, value: &[u8]) {
    bytes.extend_from_slice(&value.len().to_le_bytes());
    bytes.extend_from_slice(value);
}

/// The kept records shared by every page of guides, of every database this
/// process reads: a record is kept under its bytes alone, which any database
/// of the same backend decodes the same way.
pub(super) struct Kept {
    pub(super) guides: Decoded<Arc<concord_domain::guide::ServiceGuide>>,
    pub(super) procedures: Decoded<Option<Arc<concord_domain::guide::OperatingProcedure>>>,
}

pub(super) static KEPT: std::sync::LazyLock<Kept> = std::sync::LazyLock::new(|| Kept {
    guides: Decoded::default(),
    procedures: Decoded::default(),
});

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use concord_domain::guide::ServiceGuide;
    use sea_orm::{ConnectionTrait, FromQueryResult, Statement};

    use super::*;
    use crate::entity::service_guide;
    use crate::test_support::seeded_database;

    #[tokio::test]
    async fn when_full_the_kept_records_make_room_for_the_next() {
        let db = seeded_database().await;
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT * FROM service_guide ORDER BY region_code, matter_code LIMIT 3",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        let columns = rows[0].column_names().len();
        let decoded = Decoded::with_capacity(2);
        let decodes = Cell::new(0);
        let read = |row: &QueryResult| {
            decoded
                .read(row, 0, columns, || {
                    decodes.set(decodes.get() + 1);
                    let model = service_guide::Model::from_query_result(row, "")?;
                    Ok(Arc::new(ServiceGuide::try_from(model)?))
                })
                .unwrap()
        };
        let first = read(&rows[0]);
        read(&rows[1]);
        assert!(Arc::ptr_eq(&first, &read(&rows[0])), "kept");
        assert_eq!(decodes.get(), 2);
        read(&rows[2]);
        assert_eq!(decoded.lock().len(), 1, "emptied to keep the third");
        assert!(!Arc::ptr_eq(&first, &read(&rows[0])), "decoded again");
        assert_eq!(decodes.get(), 4);
    }
}

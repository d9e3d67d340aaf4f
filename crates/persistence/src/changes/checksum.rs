//! Checksums of the replicated tables, to compare two nodes' data.

use std::collections::HashSet;

use concord_domain::{GuideStatus, StandardStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::StoreError;
use crate::entity::{
    adoption, baseline_exemption, collaborative_standard, elevation_proposal, evaluation,
    national_item, operating_procedure, service_guide, service_matter, standard, standard_matter,
    sync_conflict,
};

use super::corrupt;
use super::replicated::{Replicated, content_hash, hash_bytes};

/// A checksum of one replicated table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub table: &'static str,
    pub rows: u64,
    /// Hex SHA-256 over the rows in key order.
    pub sha256: String,
}

/// A checksum of every replicated table: the rows of each kind that leave
/// a node (drafts do not), with times cut to whole microseconds as
/// PostgreSQL keeps them, the links of
/// standards and matters, and the open sync conflicts. Two nodes that hold
/// the same replicated data give the same checksums, whichever database
/// each runs on; seed rows count, so nodes seeded alike compare alike.
pub async fn checksums<C: ConnectionTrait>(conn: &C) -> Result<Vec<Checksum>, StoreError> {
    let proposals: HashSet<String> = collaborative_standard::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|target| target.standard_code)
        .collect();
    // Proposals of draft standards stay on their node, as the drafts do.
    let published: HashSet<String> = standard::Entity::find()
        .filter(standard::Column::Status.ne(StandardStatus::Draft.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.code)
        .collect();
    let mut sums = vec![
        table_checksum::<service_matter::Model, _>(conn, "service_matter", |_| true).await?,
        // What replicates of standards and guides: what leaves a node.
        table_checksum::<standard::Model, _>(conn, "standard", |row| {
            row.status != StandardStatus::Draft || proposals.contains(&row.code)
        })
        .await?,
        table_checksum::<service_guide::Model, _>(conn, "service_guide", |row| {
            row.status == GuideStatus::Published
        })
        .await?,
        table_checksum::<operating_procedure::Model, _>(conn, "operating_procedure", |row| {
            row.status == GuideStatus::Published
        })
        .await?,
        table_checksum::<national_item::Model, _>(conn, "national_item", |_| true).await?,
        table_checksum::<evaluation::Model, _>(conn, "evaluation", |_| true).await?,
        table_checksum::<collaborative_standard::Model, _>(conn, "collaborative_standard", |_| {
            true
        })
        .await?,
        table_checksum::<adoption::Model, _>(conn, "adoption", |_| true).await?,
        table_checksum::<baseline_exemption::Model, _>(conn, "baseline_exemption", |_| true)
            .await?,
        table_checksum::<elevation_proposal::Model, _>(conn, "elevation_proposal", |row| {
            published.contains(&row.standard_code)
        })
        .await?,
    ];
    let links: Vec<(String, String)> = standard_matter::Entity::find()
        .order_by_asc(standard_matter::Column::StandardCode)
        .order_by_asc(standard_matter::Column::MatterCode)
        .all(conn)
        .await?
        .into_iter()
        .map(|link| (link.standard_code, link.matter_code))
        .collect();
    sums.push(Checksum {
        table: "standard_matter",
        rows: links.len() as u64,
        sha256: hash_bytes(&serde_json::to_vec(&links).map_err(corrupt)?),
    });
    let open: Vec<Value> = sync_conflict::Entity::find()
        .filter(sync_conflict::Column::Resolution.is_null())
        .order_by_asc(sync_conflict::Column::Kind)
        .order_by_asc(sync_conflict::Column::RowKey)
        .order_by_asc(sync_conflict::Column::LoserRevision)
        .order_by_asc(sync_conflict::Column::LoserHash)
        .all(conn)
        .await?
        .into_iter()
        .map(|conflict| {
            json!([
                conflict.kind,
                conflict.row_key,
                conflict.loser_revision,
                conflict.loser_hash,
                conflict.origin,
                conflict.winner_revision,
                conflict.winner_hash,
                conflict.loser_record,
                conflict.winner_record,
            ])
        })
        .collect();
    sums.push(Checksum {
        table: "sync_conflict",
        rows: open.len() as u64,
        sha256: hash_bytes(&serde_json::to_vec(&open).map_err(corrupt)?),
    });
    Ok(sums)
}

async fn table_checksum<M: Replicated, C: ConnectionTrait>(
    conn: &C,
    table: &'static str,
    replicates: impl Fn(&M) -> bool,
) -> Result<Checksum, StoreError> {
    let mut rows = M::Entity::find()
        .all(conn)
        .await?
        .iter()
        .filter(|row| replicates(row))
        .map(|row| Ok((row.log_key(), content_hash(row)?)))
        .collect::<Result<Vec<(String, String)>, StoreError>>()?;
    rows.sort();
    Ok(Checksum {
        table,
        rows: rows.len() as u64,
        sha256: hash_bytes(&serde_json::to_vec(&rows).map_err(corrupt)?),
    })
}

//! Concord's database schema as sea-orm migrations.
//!
//! The same migrations run on SQLite and PostgreSQL; tests run them too, so the
//! tested schema is the shipped one. Depends on nothing of Concord's.

pub use sea_orm_migration::prelude::*;

mod builders;

mod m20261129_000001_create_catalogue;
mod m20261129_000002_create_history_audit_evaluation;
mod m20261129_000003_create_alignment;
mod m20261129_000004_create_change_log;
mod m20261129_000005_create_data_version;
mod m20261202_180000_create_data_change;
mod m20261203_090000_create_text_gram;
mod m20261203_100000_create_guide_region_status_index;
mod m20261206_090000_create_sync_conflict;
mod m20261206_120000_create_baseline_exemption;
mod m20261206_120100_add_procedure_status;
mod m20261206_130000_add_served_groups;
mod m20261206_140000_add_standard_review_and_elevation;
mod m20261206_190000_text_gram_gram_collate_c;
mod m20261206_230000_create_text_gram_count;
mod m20261207_090000_rename_collaborative_target;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_catalogue::Migration),
            Box::new(m20261129_000002_create_history_audit_evaluation::Migration),
            Box::new(m20261129_000003_create_alignment::Migration),
            Box::new(m20261129_000004_create_change_log::Migration),
            Box::new(m20261129_000005_create_data_version::Migration),
            Box::new(m20261202_180000_create_data_change::Migration),
            Box::new(m20261203_090000_create_text_gram::Migration),
            Box::new(m20261203_100000_create_guide_region_status_index::Migration),
            Box::new(m20261206_090000_create_sync_conflict::Migration),
            Box::new(m20261206_120000_create_baseline_exemption::Migration),
            Box::new(m20261206_120100_add_procedure_status::Migration),
            Box::new(m20261206_130000_add_served_groups::Migration),
            Box::new(m20261206_140000_add_standard_review_and_elevation::Migration),
            Box::new(m20261206_190000_text_gram_gram_collate_c::Migration),
            Box::new(m20261206_230000_create_text_gram_count::Migration),
            Box::new(m20261207_090000_rename_collaborative_target::Migration),
        ]
    }
}

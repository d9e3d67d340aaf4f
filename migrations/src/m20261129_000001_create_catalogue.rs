//! Regions, zones, categories, the national standard, service matters,
//! standards, service guides and operating procedures.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns every owned row carries: who may change it, its revision, whether
/// it is illustrative rather than official, and when it was made and changed.
fn owned(mut table: TableCreateStatement) -> TableCreateStatement {
    table
        .col(string_len(Owned::Origin, 6))
        .col(integer(Owned::Revision).default(1))
        .col(boolean(Owned::Illustrative).default(false))
        .col(timestamp_with_time_zone(Owned::CreatedAt))
        .col(timestamp_with_time_zone(Owned::UpdatedAt));
    table
}

fn index(name: &str, table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(Alias::new(*column));
    }
    index
}

fn foreign_key(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    let mut fk = ForeignKey::create();
    fk.from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict);
    fk
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(owned(
                Table::create()
                    .table(Region::Table)
                    .col(string_len(Region::Code, 6).primary_key())
                    .col(string(Region::NameZh))
                    .col(string(Region::NameEn))
                    .col(string(Region::AbbrZh))
                    .col(string(Region::AbbrPinyin))
                    .col(string(Region::Iso3166_2))
                    .col(string(Region::Kind))
                    .col(boolean(Region::Pilot).default(false))
                    .col(string_null(Region::PilotNote))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_table(owned(
                Table::create()
                    .table(Zone::Table)
                    .col(string_len(Zone::Code, 8).primary_key())
                    .col(string(Zone::NameZh))
                    .col(string(Zone::NameEn))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ZoneMember::Table)
                    .col(string_len(ZoneMember::ZoneCode, 8))
                    .col(string_len(ZoneMember::RegionCode, 6))
                    .primary_key(
                        Index::create()
                            .col(ZoneMember::ZoneCode)
                            .col(ZoneMember::RegionCode),
                    )
                    .foreign_key(&mut foreign_key(
                        (ZoneMember::Table, ZoneMember::ZoneCode),
                        (Zone::Table, Zone::Code),
                    ))
                    .foreign_key(&mut foreign_key(
                        (ZoneMember::Table, ZoneMember::RegionCode),
                        (Region::Table, Region::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_zone_member_region",
                ZoneMember::Table,
                &["region_code"],
            ))
            .await?;

        manager
            .create_table(owned(
                Table::create()
                    .table(Category::Table)
                    .col(string_len(Category::Code, 40).primary_key())
                    .col(string(Category::NameZh))
                    .col(string(Category::NameEn))
                    .to_owned(),
            ))
            .await?;

        manager
            .create_table(owned(
                Table::create()
                    .table(NationalEdition::Table)
                    .col(integer(NationalEdition::Edition).primary_key())
                    .col(string(NationalEdition::TitleZh))
                    .col(integer(NationalEdition::ItemCount))
                    .col(string(NationalEdition::IssuedBy))
                    .col(text(NationalEdition::Note))
                    .col(integer_null(NationalEdition::Supersedes))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_table(owned(
                Table::create()
                    .table(NationalItem::Table)
                    .col(integer(NationalItem::Edition))
                    .col(integer(NationalItem::Number))
                    .col(string(NationalItem::NameZh))
                    .col(string(NationalItem::NameEn))
                    .col(string_len(NationalItem::CategoryCode, 40))
                    .col(string(NationalItem::AreaZh))
                    .col(text(NationalItem::ServedGroup))
                    .col(text(NationalItem::Content))
                    .col(text(NationalItem::BaselineStandard))
                    .col(text(NationalItem::FundingResponsibility))
                    .col(text(NationalItem::LeadDepartment))
                    .primary_key(
                        Index::create()
                            .col(NationalItem::Edition)
                            .col(NationalItem::Number),
                    )
                    .foreign_key(&mut foreign_key(
                        (NationalItem::Table, NationalItem::Edition),
                        (NationalEdition::Table, NationalEdition::Edition),
                    ))
                    .foreign_key(&mut foreign_key(
                        (NationalItem::Table, NationalItem::CategoryCode),
                        (Category::Table, Category::Code),
                    ))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(index(
                "ix_national_item_category",
                NationalItem::Table,
                &["category_code"],
            ))
            .await?;

        manager
            .create_table(owned(
                Table::create()
                    .table(ServiceMatter::Table)
                    .col(string_len(ServiceMatter::Code, 40).primary_key())
                    .col(string(ServiceMatter::NameZh))
                    .col(string(ServiceMatter::NameEn))
                    .col(string_len(ServiceMatter::CategoryCode, 40))
                    .col(integer_null(ServiceMatter::NationalEdition))
                    .col(integer_null(ServiceMatter::NationalNumber))
                    .foreign_key(&mut foreign_key(
                        (ServiceMatter::Table, ServiceMatter::CategoryCode),
                        (Category::Table, Category::Code),
                    ))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(index(
                "ix_service_matter_category",
                ServiceMatter::Table,
                &["category_code"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_service_matter_national_item",
                ServiceMatter::Table,
                &["national_edition", "national_number"],
            ))
            .await?;

        manager
            .create_table(owned(
                Table::create()
                    .table(Standard::Table)
                    .col(string_len(Standard::Code, 64).primary_key())
                    .col(string(Standard::TitleZh))
                    .col(string(Standard::TitleEn))
                    .col(string_len(Standard::Level, 16))
                    .col(string_len(Standard::Status, 16))
                    .col(string_len_null(Standard::IssuingRegion, 6))
                    .col(string_len_null(Standard::IssuingZone, 8))
                    .col(date_null(Standard::IssuedOn))
                    .col(date_null(Standard::EffectiveOn))
                    .col(string_len_null(Standard::Supersedes, 64))
                    .col(text(Standard::Note))
                    .foreign_key(&mut foreign_key(
                        (Standard::Table, Standard::IssuingRegion),
                        (Region::Table, Region::Code),
                    ))
                    .foreign_key(&mut foreign_key(
                        (Standard::Table, Standard::IssuingZone),
                        (Zone::Table, Zone::Code),
                    ))
                    .to_owned(),
            ))
            .await?;
        for (name, column) in [
            ("ix_standard_level", "level"),
            ("ix_standard_status", "status"),
            ("ix_standard_issuing_region", "issuing_region"),
            ("ix_standard_issuing_zone", "issuing_zone"),
            ("ix_standard_supersedes", "supersedes"),
        ] {
            manager
                .create_index(index(name, Standard::Table, &[column]))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(StandardMatter::Table)
                    .col(string_len(StandardMatter::StandardCode, 64))
                    .col(string_len(StandardMatter::MatterCode, 40))
                    .primary_key(
                        Index::create()
                            .col(StandardMatter::StandardCode)
                            .col(StandardMatter::MatterCode),
                    )
                    .foreign_key(&mut foreign_key(
                        (StandardMatter::Table, StandardMatter::StandardCode),
                        (Standard::Table, Standard::Code),
                    ))
                    .foreign_key(&mut foreign_key(
                        (StandardMatter::Table, StandardMatter::MatterCode),
                        (ServiceMatter::Table, ServiceMatter::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_standard_matter_matter",
                StandardMatter::Table,
                &["matter_code"],
            ))
            .await?;

        manager
            .create_table(owned(
                Table::create()
                    .table(ServiceGuide::Table)
                    .col(string_len(ServiceGuide::RegionCode, 6))
                    .col(string_len(ServiceGuide::MatterCode, 40))
                    .col(integer(ServiceGuide::TimeLimitDays))
                    .col(big_integer(ServiceGuide::FeeFen))
                    .col(json_binary(ServiceGuide::Materials))
                    .col(json_binary(ServiceGuide::Channels))
                    .col(text(ServiceGuide::LegalBasis))
                    .col(string_null(ServiceGuide::GuaranteeLevel))
                    .col(string_len(ServiceGuide::Status, 16))
                    .col(timestamp_with_time_zone_null(ServiceGuide::PublishedAt))
                    .primary_key(
                        Index::create()
                            .col(ServiceGuide::RegionCode)
                            .col(ServiceGuide::MatterCode),
                    )
                    .foreign_key(&mut foreign_key(
                        (ServiceGuide::Table, ServiceGuide::RegionCode),
                        (Region::Table, Region::Code),
                    ))
                    .foreign_key(&mut foreign_key(
                        (ServiceGuide::Table, ServiceGuide::MatterCode),
                        (ServiceMatter::Table, ServiceMatter::Code),
                    ))
                    .to_owned(),
            ))
            .await?;
        manager
            .create_index(index(
                "ix_service_guide_matter",
                ServiceGuide::Table,
                &["matter_code"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_service_guide_status",
                ServiceGuide::Table,
                &["status"],
            ))
            .await?;

        manager
            .create_table(owned(
                Table::create()
                    .table(OperatingProcedure::Table)
                    .col(string_len(OperatingProcedure::RegionCode, 6))
                    .col(string_len(OperatingProcedure::MatterCode, 40))
                    .col(json_binary(OperatingProcedure::Steps))
                    .primary_key(
                        Index::create()
                            .col(OperatingProcedure::RegionCode)
                            .col(OperatingProcedure::MatterCode),
                    )
                    .foreign_key(&mut foreign_key(
                        (OperatingProcedure::Table, OperatingProcedure::RegionCode),
                        (Region::Table, Region::Code),
                    ))
                    .foreign_key(&mut foreign_key(
                        (OperatingProcedure::Table, OperatingProcedure::MatterCode),
                        (ServiceMatter::Table, ServiceMatter::Code),
                    ))
                    .to_owned(),
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OperatingProcedure::Table.into_iden(),
            ServiceGuide::Table.into_iden(),
            StandardMatter::Table.into_iden(),
            Standard::Table.into_iden(),
            ServiceMatter::Table.into_iden(),
            NationalItem::Table.into_iden(),
            NationalEdition::Table.into_iden(),
            Category::Table.into_iden(),
            ZoneMember::Table.into_iden(),
            Zone::Table.into_iden(),
            Region::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Owned {
    Origin,
    Revision,
    Illustrative,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Region {
    Table,
    Code,
    NameZh,
    NameEn,
    AbbrZh,
    AbbrPinyin,
    #[sea_orm(iden = "iso_3166_2")]
    Iso3166_2,
    Kind,
    Pilot,
    PilotNote,
}

#[derive(DeriveIden)]
enum Zone {
    Table,
    Code,
    NameZh,
    NameEn,
}

#[derive(DeriveIden)]
enum ZoneMember {
    Table,
    ZoneCode,
    RegionCode,
}

#[derive(DeriveIden)]
enum Category {
    Table,
    Code,
    NameZh,
    NameEn,
}

#[derive(DeriveIden)]
enum NationalEdition {
    Table,
    Edition,
    TitleZh,
    ItemCount,
    IssuedBy,
    Note,
    Supersedes,
}

#[derive(DeriveIden)]
enum NationalItem {
    Table,
    Edition,
    Number,
    NameZh,
    NameEn,
    CategoryCode,
    AreaZh,
    ServedGroup,
    Content,
    BaselineStandard,
    FundingResponsibility,
    LeadDepartment,
}

#[derive(DeriveIden)]
enum ServiceMatter {
    Table,
    Code,
    NameZh,
    NameEn,
    CategoryCode,
    NationalEdition,
    NationalNumber,
}

#[derive(DeriveIden)]
enum Standard {
    Table,
    Code,
    TitleZh,
    TitleEn,
    Level,
    Status,
    IssuingRegion,
    IssuingZone,
    IssuedOn,
    EffectiveOn,
    Supersedes,
    Note,
}

#[derive(DeriveIden)]
enum StandardMatter {
    Table,
    StandardCode,
    MatterCode,
}

#[derive(DeriveIden)]
enum ServiceGuide {
    Table,
    RegionCode,
    MatterCode,
    TimeLimitDays,
    FeeFen,
    Materials,
    Channels,
    LegalBasis,
    GuaranteeLevel,
    Status,
    PublishedAt,
}

#[derive(DeriveIden)]
enum OperatingProcedure {
    Table,
    RegionCode,
    MatterCode,
    Steps,
}

//! Regions, zones, categories, the national standard, service matters,
//! standards, service guides and operating procedures.

use sea_orm_migration::{prelude::*, schema::*};

use crate::builders::{TableParts, drop_tables, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let region = Table::create()
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
            .owned_columns()
            .to_owned();
        manager.create_table(region).await?;
        let zone = Table::create()
            .table(Zone::Table)
            .col(string_len(Zone::Code, 8).primary_key())
            .col(string(Zone::NameZh))
            .col(string(Zone::NameEn))
            .owned_columns()
            .to_owned();
        manager.create_table(zone).await?;
        let zone_member = Table::create()
            .table(ZoneMember::Table)
            .col(string_len(ZoneMember::ZoneCode, 8))
            .col(string_len(ZoneMember::RegionCode, 6))
            .primary_key_of([ZoneMember::ZoneCode, ZoneMember::RegionCode])
            .references_restrict(ZoneMember::ZoneCode, (Zone::Table, Zone::Code))
            .references_restrict(ZoneMember::RegionCode, (Region::Table, Region::Code))
            .to_owned();
        manager.create_table(zone_member).await?;
        manager
            .create_index(index(
                "ix_zone_member_region",
                ZoneMember::Table,
                [ZoneMember::RegionCode],
            ))
            .await?;

        let category = Table::create()
            .table(Category::Table)
            .col(string_len(Category::Code, 40).primary_key())
            .col(string(Category::NameZh))
            .col(string(Category::NameEn))
            .owned_columns()
            .to_owned();
        manager.create_table(category).await?;

        let national_edition = Table::create()
            .table(NationalEdition::Table)
            .col(integer(NationalEdition::Edition).primary_key())
            .col(string(NationalEdition::TitleZh))
            .col(integer(NationalEdition::ItemCount))
            .col(string(NationalEdition::IssuedBy))
            .col(text(NationalEdition::Note))
            .col(integer_null(NationalEdition::Supersedes))
            .owned_columns()
            .to_owned();
        manager.create_table(national_edition).await?;
        let national_item = Table::create()
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
            .owned_columns()
            .primary_key_of([NationalItem::Edition, NationalItem::Number])
            .references_restrict(
                NationalItem::Edition,
                (NationalEdition::Table, NationalEdition::Edition),
            )
            .references_restrict(
                NationalItem::CategoryCode,
                (Category::Table, Category::Code),
            )
            .to_owned();
        manager.create_table(national_item).await?;
        manager
            .create_index(index(
                "ix_national_item_category",
                NationalItem::Table,
                [NationalItem::CategoryCode],
            ))
            .await?;

        let service_matter = Table::create()
            .table(ServiceMatter::Table)
            .col(string_len(ServiceMatter::Code, 40).primary_key())
            .col(string(ServiceMatter::NameZh))
            .col(string(ServiceMatter::NameEn))
            .col(string_len(ServiceMatter::CategoryCode, 40))
            .col(integer_null(ServiceMatter::NationalEdition))
            .col(integer_null(ServiceMatter::NationalNumber))
            .owned_columns()
            .references_restrict(
                ServiceMatter::CategoryCode,
                (Category::Table, Category::Code),
            )
            .to_owned();
        manager.create_table(service_matter).await?;
        manager
            .create_index(index(
                "ix_service_matter_category",
                ServiceMatter::Table,
                [ServiceMatter::CategoryCode],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_service_matter_national_item",
                ServiceMatter::Table,
                [
                    ServiceMatter::NationalEdition,
                    ServiceMatter::NationalNumber,
                ],
            ))
            .await?;

        let standard = Table::create()
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
            .owned_columns()
            .references_restrict(Standard::IssuingRegion, (Region::Table, Region::Code))
            .references_restrict(Standard::IssuingZone, (Zone::Table, Zone::Code))
            .to_owned();
        manager.create_table(standard).await?;
        for (name, column) in [
            ("ix_standard_level", Standard::Level),
            ("ix_standard_status", Standard::Status),
            ("ix_standard_issuing_region", Standard::IssuingRegion),
            ("ix_standard_issuing_zone", Standard::IssuingZone),
            ("ix_standard_supersedes", Standard::Supersedes),
        ] {
            manager
                .create_index(index(name, Standard::Table, [column]))
                .await?;
        }
        let standard_matter = Table::create()
            .table(StandardMatter::Table)
            .col(string_len(StandardMatter::StandardCode, 64))
            .col(string_len(StandardMatter::MatterCode, 40))
            .primary_key_of([StandardMatter::StandardCode, StandardMatter::MatterCode])
            .references_restrict(
                StandardMatter::StandardCode,
                (Standard::Table, Standard::Code),
            )
            .references_restrict(
                StandardMatter::MatterCode,
                (ServiceMatter::Table, ServiceMatter::Code),
            )
            .to_owned();
        manager.create_table(standard_matter).await?;
        manager
            .create_index(index(
                "ix_standard_matter_matter",
                StandardMatter::Table,
                [StandardMatter::MatterCode],
            ))
            .await?;

        let service_guide = Table::create()
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
            .owned_columns()
            .primary_key_of([ServiceGuide::RegionCode, ServiceGuide::MatterCode])
            .references_restrict(ServiceGuide::RegionCode, (Region::Table, Region::Code))
            .references_restrict(
                ServiceGuide::MatterCode,
                (ServiceMatter::Table, ServiceMatter::Code),
            )
            .to_owned();
        manager.create_table(service_guide).await?;
        for (name, column) in [
            ("ix_service_guide_matter", ServiceGuide::MatterCode),
            ("ix_service_guide_status", ServiceGuide::Status),
        ] {
            manager
                .create_index(index(name, ServiceGuide::Table, [column]))
                .await?;
        }

        let operating_procedure = Table::create()
            .table(OperatingProcedure::Table)
            .col(string_len(OperatingProcedure::RegionCode, 6))
            .col(string_len(OperatingProcedure::MatterCode, 40))
            .col(json_binary(OperatingProcedure::Steps))
            .owned_columns()
            .primary_key_of([
                OperatingProcedure::RegionCode,
                OperatingProcedure::MatterCode,
            ])
            .references_restrict(
                OperatingProcedure::RegionCode,
                (Region::Table, Region::Code),
            )
            .references_restrict(
                OperatingProcedure::MatterCode,
                (ServiceMatter::Table, ServiceMatter::Code),
            )
            .to_owned();
        manager.create_table(operating_procedure).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            [
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
            ],
        )
        .await
    }
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

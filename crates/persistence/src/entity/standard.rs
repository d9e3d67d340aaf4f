use concord_domain::standard::Standard;
use concord_domain::{RegionCode, StandardCode, StandardLevel, StandardStatus, ZoneCode};
use sea_orm::entity::prelude::*;

use super::{Stored, owned_row, provenance, refused};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "standard")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub title_zh: String,
    pub title_en: String,
    pub level: Stored<StandardLevel>,
    pub status: Stored<StandardStatus>,
    pub issuing_region: Option<String>,
    pub issuing_zone: Option<String>,
    pub issued_on: Option<Date>,
    pub effective_on: Option<Date>,
    pub supersedes: Option<String>,
    /// When the standard is due for review.
    pub review_on: Option<Date>,
    /// The local standard an accepted elevation raised this one from.
    pub elevated_from: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for Standard {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(format_args!("standard {}", row.code), column, error)
        };
        let code = |column: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(StandardCode::try_from)
                .transpose()
                .map_err(|e| fault(column, &e))
        };
        Ok(Self {
            code: StandardCode::try_from(row.code.as_str()).map_err(|e| fault("code", &e))?,
            title_zh: row.title_zh,
            title_en: row.title_en,
            level: *row.level,
            status: *row.status,
            issuing_region: row
                .issuing_region
                .as_deref()
                .map(RegionCode::try_from)
                .transpose()
                .map_err(|e| fault("issuing_region", &e))?,
            issuing_zone: row
                .issuing_zone
                .as_deref()
                .map(ZoneCode::try_from)
                .transpose()
                .map_err(|e| fault("issuing_zone", &e))?,
            issued_on: row.issued_on,
            effective_on: row.effective_on,
            supersedes: code("supersedes", &row.supersedes)?,
            review_on: row.review_on,
            elevated_from: code("elevated_from", &row.elevated_from)?,
            note: row.note,
            provenance: provenance!(row, fault),
        })
    }
}

impl From<&Standard> for Model {
    fn from(standard: &Standard) -> Self {
        owned_row!(
            standard,
            Self {
                code: standard.code.to_string(),
                title_zh: standard.title_zh.clone(),
                title_en: standard.title_en.clone(),
                level: Stored(standard.level),
                status: Stored(standard.status),
                issuing_region: standard.issuing_region.as_ref().map(ToString::to_string),
                issuing_zone: standard.issuing_zone.as_ref().map(ToString::to_string),
                issued_on: standard.issued_on,
                effective_on: standard.effective_on,
                supersedes: standard.supersedes.as_ref().map(ToString::to_string),
                review_on: standard.review_on,
                elevated_from: standard.elevated_from.as_ref().map(ToString::to_string),
                note: standard.note.clone(),
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use concord_domain::standard::Standard;
    use concord_domain::{StandardLevel, StandardStatus};

    use super::Model;
    use crate::StoreError;

    fn row() -> Model {
        let at = chrono::DateTime::UNIX_EPOCH;
        Model {
            code: "DB33/T 2030-2018".into(),
            title_zh: "社会保险经办服务规范".into(),
            title_en: String::new(),
            level: StandardLevel::Local.into(),
            status: StandardStatus::InForce.into(),
            issuing_region: Some("330000".into()),
            issuing_zone: None,
            issued_on: None,
            effective_on: None,
            supersedes: Some("DB33/T 2030-2010".into()),
            review_on: None,
            elevated_from: None,
            note: String::new(),
            origin: "330000".into(),
            revision: 1,
            illustrative: false,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_standard_reads_into_its_record_and_back_into_the_same_row() {
        let standard = Standard::try_from(row()).unwrap();
        assert_eq!(standard.code.year(), Some(2018));
        assert_eq!(
            standard.supersedes.as_ref().map(|c| c.as_str()),
            Some("DB33/T 2030-2010")
        );
        assert_eq!(Model::from(&standard), row());
    }

    #[test]
    fn a_code_it_names_that_the_domain_refuses_is_corrupt() {
        let bad = Model {
            supersedes: Some("not a code".into()),
            ..row()
        };
        let error = Standard::try_from(bad).unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt(message)
                if message.starts_with("standard DB33/T 2030-2018: supersedes: ")),
            "{error:?}"
        );
    }
}

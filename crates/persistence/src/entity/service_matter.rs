use concord_domain::catalogue::ServiceMatter;
use concord_domain::{CategoryCode, MatterCode};
use sea_orm::entity::prelude::*;

use super::{GroupList, owned_row, provenance, refused};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "service_matter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub category_code: String,
    pub national_edition: Option<i32>,
    pub national_number: Option<i32>,
    /// The codes of the groups the matter serves when they differ from its
    /// national item's; `None` means "as its item".
    #[sea_orm(column_type = "JsonBinary", nullable)]
    #[serde(default)]
    pub served_groups: Option<GroupList>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for ServiceMatter {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(format_args!("matter {}", row.code), column, error)
        };
        let national_item = match (row.national_edition, row.national_number) {
            (Some(edition), Some(number)) => Some((edition, number)),
            (None, None) => None,
            _ => {
                return Err(fault(
                    "national_edition",
                    &"an item's edition and number are set together",
                ));
            }
        };
        Ok(Self {
            code: MatterCode::try_from(row.code.as_str()).map_err(|e| fault("code", &e))?,
            name_zh: row.name_zh,
            name_en: row.name_en,
            category: CategoryCode::try_from(row.category_code.as_str())
                .map_err(|e| fault("category_code", &e))?,
            national_item,
            served_groups: row.served_groups.map(|list| list.0),
            provenance: provenance!(row, fault),
        })
    }
}

impl From<&ServiceMatter> for Model {
    fn from(matter: &ServiceMatter) -> Self {
        owned_row!(
            matter,
            Self {
                code: matter.code.to_string(),
                name_zh: matter.name_zh.clone(),
                name_en: matter.name_en.clone(),
                category_code: matter.category.to_string(),
                national_edition: matter.national_item.map(|(edition, _)| edition),
                national_number: matter.national_item.map(|(_, number)| number),
                served_groups: matter.served_groups.clone().map(GroupList),
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use concord_domain::ServedGroup;
    use concord_domain::catalogue::ServiceMatter;

    use super::Model;
    use crate::StoreError;
    use crate::entity::GroupList;

    fn row() -> Model {
        let at = chrono::DateTime::UNIX_EPOCH;
        Model {
            code: "EMP-REGISTRATION".into(),
            name_zh: "就业登记".into(),
            name_en: "Employment registration".into(),
            category_code: "EMPLOYMENT".into(),
            national_edition: Some(2023),
            national_number: Some(7),
            served_groups: Some(GroupList(vec![ServedGroup::Workers])),
            origin: "100000".into(),
            revision: 2,
            illustrative: false,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_matter_reads_into_its_record_and_back_into_the_same_row() {
        let matter = ServiceMatter::try_from(row()).unwrap();
        assert_eq!(matter.national_item, Some((2023, 7)));
        assert_eq!(
            matter.served_groups.as_deref(),
            Some(&[ServedGroup::Workers][..])
        );
        assert_eq!(Model::from(&matter), row());
    }

    #[test]
    fn an_item_edition_without_its_number_is_corrupt() {
        let half = Model {
            national_number: None,
            ..row()
        };
        let error = ServiceMatter::try_from(half).unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt(message)
                if message.starts_with("matter EMP-REGISTRATION: national_edition: ")),
            "{error:?}"
        );
    }
}

use concord_domain::{Baseline, CategoryCode, catalogue};
use sea_orm::entity::prelude::*;

use super::{ChannelList, GroupList, provenance, refused};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "national_item")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub edition: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub name_zh: String,
    pub name_en: String,
    pub category_code: String,
    pub area_zh: String,
    /// The official wording of who is served (服务对象).
    #[sea_orm(column_type = "Text")]
    pub served_group: String,
    /// The codes of the groups served, from the domain's catalogue
    /// (`ServedGroup`); `None` when none are listed. Replicas from a node
    /// without the column read it as `None`.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    #[serde(default)]
    pub served_groups: Option<GroupList>,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    #[sea_orm(column_type = "Text")]
    pub baseline_standard: String,
    #[sea_orm(column_type = "Text")]
    pub funding_responsibility: String,
    #[sea_orm(column_type = "Text")]
    pub lead_department: String,
    /// The baseline's longest allowed time limit, in working days.
    pub max_time_limit_days: Option<i32>,
    /// The baseline's highest allowed fee, in fen.
    pub max_fee_fen: Option<i64>,
    /// The channels the baseline requires.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub required_channels: Option<ChannelList>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A text of the official standard: stored empty where it has not been
/// loaded, which the domain says with `None`.
fn loaded(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

impl TryFrom<Model> for catalogue::NationalItem {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = |column: &str, error: &dyn std::fmt::Display| {
            refused(
                format_args!("national item {}/{}", row.edition, row.number),
                column,
                error,
            )
        };
        Ok(Self {
            edition: row.edition,
            number: row.number,
            name_zh: row.name_zh,
            name_en: row.name_en,
            category: CategoryCode::try_from(row.category_code.as_str())
                .map_err(|e| fault("category_code", &e))?,
            area_zh: row.area_zh,
            served_group: loaded(row.served_group),
            // No list stored means no group is listed.
            served_groups: row.served_groups.map_or_else(Vec::new, |list| list.0),
            content: loaded(row.content),
            baseline_standard: loaded(row.baseline_standard),
            funding_responsibility: loaded(row.funding_responsibility),
            lead_department: loaded(row.lead_department),
            baseline: Baseline {
                max_time_limit_days: row.max_time_limit_days,
                max_fee_fen: row.max_fee_fen,
                // No list stored means no channel is required.
                required_channels: row.required_channels.map_or_else(Vec::new, |list| list.0),
            },
            provenance: provenance!(row, fault),
        })
    }
}

#[cfg(test)]
mod tests {
    use concord_domain::{Channel, ServedGroup, catalogue};

    use super::Model;
    use crate::StoreError;
    use crate::entity::{ChannelList, GroupList};

    fn row() -> Model {
        Model {
            edition: 2023,
            number: 7,
            name_zh: "就业信息服务".into(),
            name_en: "Employment information".into(),
            category_code: "EMPLOYMENT".into(),
            area_zh: "劳有所得".into(),
            served_group: "劳动者".into(),
            served_groups: Some(GroupList(vec![ServedGroup::Workers])),
            content: String::new(),
            baseline_standard: String::new(),
            funding_responsibility: "地方政府".into(),
            lead_department: String::new(),
            max_time_limit_days: Some(5),
            max_fee_fen: None,
            required_channels: None,
            origin: "100000".into(),
            revision: 1,
            illustrative: false,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn texts_not_loaded_read_as_none_and_the_baseline_as_the_domains() {
        let item = catalogue::NationalItem::try_from(row()).unwrap();
        assert_eq!(item.category.as_str(), "EMPLOYMENT");
        assert_eq!(item.served_group.as_deref(), Some("劳动者"));
        assert_eq!(item.content, None);
        assert_eq!(item.funding_responsibility.as_deref(), Some("地方政府"));
        assert_eq!(item.served_groups, [ServedGroup::Workers]);
        assert_eq!(item.baseline.max_time_limit_days, Some(5));
        assert!(item.baseline.required_channels.is_empty());

        let required = Model {
            required_channels: Some(ChannelList(vec![Channel::Online])),
            ..row()
        };
        let item = catalogue::NationalItem::try_from(required).unwrap();
        assert_eq!(item.baseline.required_channels, [Channel::Online]);
    }

    #[test]
    fn a_category_code_the_domain_refuses_is_corrupt() {
        let bad = Model {
            category_code: "employment".into(),
            ..row()
        };
        let error = catalogue::NationalItem::try_from(bad).unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt(message)
                if message.starts_with("national item 2023/7: category_code: ")),
            "{error:?}"
        );
    }
}

use concord_domain::guide::ServiceGuide;
use concord_domain::{GuideDraft, GuideStatus};
use sea_orm::entity::prelude::*;

use super::{
    ChannelList, Stored, StoredFee, TextList, owned_row, provenance, regional_fault, regional_key,
};
use crate::StoreError;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "service_guide")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
    pub time_limit_days: i32,
    pub fee_fen: StoredFee,
    #[sea_orm(column_type = "JsonBinary")]
    pub materials: TextList,
    #[sea_orm(column_type = "JsonBinary")]
    pub channels: ChannelList,
    #[sea_orm(column_type = "Text")]
    pub legal_basis: String,
    pub guarantee_level: Option<String>,
    pub status: Stored<GuideStatus>,
    pub published_at: Option<DateTimeUtc>,
    pub origin: String,
    pub revision: i32,
    pub illustrative: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl TryFrom<Model> for ServiceGuide {
    type Error = StoreError;

    fn try_from(row: Model) -> Result<Self, StoreError> {
        let fault = regional_fault("guide", &row.region_code, &row.matter_code);
        let (region, matter) = regional_key(&row.region_code, &row.matter_code, fault)?;
        Ok(Self {
            region,
            matter,
            content: GuideDraft {
                time_limit_days: row.time_limit_days,
                fee: *row.fee_fen,
                materials: row.materials.0,
                channels: row.channels.0,
                legal_basis: row.legal_basis,
                guarantee_level: row.guarantee_level,
            },
            status: *row.status,
            published_at: row.published_at,
            provenance: provenance!(row, fault),
        })
    }
}

impl From<&ServiceGuide> for Model {
    fn from(guide: &ServiceGuide) -> Self {
        let content = &guide.content;
        owned_row!(
            guide,
            Self {
                region_code: guide.region.to_string(),
                matter_code: guide.matter.to_string(),
                time_limit_days: content.time_limit_days,
                fee_fen: StoredFee(content.fee),
                materials: TextList(content.materials.clone()),
                channels: ChannelList(content.channels.clone()),
                legal_basis: content.legal_basis.clone(),
                guarantee_level: content.guarantee_level.clone(),
                status: Stored(guide.status),
                published_at: guide.published_at,
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use concord_domain::guide::ServiceGuide;
    use concord_domain::{Channel, Fee, GuideStatus};

    use super::Model;
    use crate::StoreError;
    use crate::entity::{ChannelList, StoredFee, TextList};

    fn row() -> Model {
        let at = chrono::DateTime::UNIX_EPOCH;
        Model {
            region_code: "330000".into(),
            matter_code: "SI-CARD".into(),
            time_limit_days: 7,
            fee_fen: StoredFee(Fee::from_fen(1250).unwrap()),
            materials: TextList(vec!["居民身份证".into()]),
            channels: ChannelList(vec![Channel::Counter, Channel::Online]),
            legal_basis: "《社会保险法》".into(),
            guarantee_level: Some("每月".into()),
            status: GuideStatus::Published.into(),
            published_at: Some(at),
            origin: "330000".into(),
            revision: 3,
            illustrative: true,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_guide_reads_into_its_record_and_back_into_the_same_row() {
        let guide = ServiceGuide::try_from(row()).unwrap();
        assert_eq!(guide.region.as_str(), "330000");
        assert_eq!(guide.content.fee.fen(), 1250);
        assert_eq!(guide.provenance.origin.as_str(), "330000");
        assert_eq!(Model::from(&guide), row());
    }

    #[test]
    fn a_key_the_domain_refuses_is_corrupt_naming_the_guide_and_column() {
        let bad = Model {
            region_code: "33".into(),
            ..row()
        };
        let error = ServiceGuide::try_from(bad).unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt(message)
                if message.starts_with("guide 33/SI-CARD: region_code: ")),
            "{error:?}"
        );
    }
}

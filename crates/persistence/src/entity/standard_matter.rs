use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "standard_matter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub standard_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub matter_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

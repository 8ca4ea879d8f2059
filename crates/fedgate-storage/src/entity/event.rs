//! `events`

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub at: DateTimeUtc,
    pub kind: String,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub provider: Option<String>,
    pub federated_user_id: Option<Uuid>,
    pub user_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `token_signing_keys`: user-token signing keys, several per application over time

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub application_id: Uuid,
    pub algorithm: String,
    pub sealed_private: Vec<u8>,
    pub public_key: String,
    pub created_at: DateTimeUtc,
    pub activates_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

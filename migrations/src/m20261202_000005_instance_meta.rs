//! Facts about the installation itself, such as the master-key check value: a known
//! plaintext sealed with the master key, so a wrong or lost key is noticed at start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{binary, string_len};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstanceMeta {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstanceMeta::Table)
                    .col(string_len(InstanceMeta::Name, 64).primary_key())
                    .col(binary(InstanceMeta::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InstanceMeta::Table).to_owned())
            .await
    }
}

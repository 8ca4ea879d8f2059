//! Provider properties carry a slug (the URL segment of their hosted login), unique
//! within an application.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Properties {
    Table,
    ApplicationId,
    Slug,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Properties::Table)
                    .add_column(ColumnDef::new(Properties::Slug).string_len(40).null())
                    .to_owned(),
            )
            .await?;
        // NULL for kinds without a slug; both databases allow many NULLs in a unique index.
        manager
            .create_index(
                Index::create()
                    .name("ux_properties_slug")
                    .table(Properties::Table)
                    .col(Properties::ApplicationId)
                    .col(Properties::Slug)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ux_properties_slug").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Properties::Table)
                    .drop_column(Properties::Slug)
                    .to_owned(),
            )
            .await
    }
}

//! Subscribers, applications, properties and access keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    binary, binary_null, pk_uuid, string_len, string_len_null, string_len_uniq, text,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    Id,
    Email,
    EmailNormalized,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    SubscriberId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Properties {
    Table,
    Id,
    ApplicationId,
    Kind,
    InstanceName,
    SingletonKind,
    Settings,
    SealedSecret,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccessKeys {
    Table,
    Id,
    ApplicationId,
    SealedSecret,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subscribers::Table)
                    .col(pk_uuid(Subscribers::Id))
                    .col(string_len(Subscribers::Email, 254))
                    .col(string_len_uniq(Subscribers::EmailNormalized, 254))
                    .col(string_len(Subscribers::PasswordHash, 255))
                    .col(timestamp_with_time_zone(Subscribers::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .col(pk_uuid(Applications::Id))
                    .col(uuid(Applications::SubscriberId))
                    .col(string_len(Applications::Name, 100))
                    .col(timestamp_with_time_zone(Applications::CreatedAt))
                    .col(timestamp_with_time_zone(Applications::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_subscriber")
                            .from(Applications::Table, Applications::SubscriberId)
                            .to(Subscribers::Table, Subscribers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_applications_subscriber")
                    .table(Applications::Table)
                    .col(Applications::SubscriberId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Properties::Table)
                    .col(pk_uuid(Properties::Id))
                    .col(uuid(Properties::ApplicationId))
                    .col(string_len(Properties::Kind, 64))
                    .col(string_len(Properties::InstanceName, 100))
                    // Equal to `kind` for kinds allowed once per application, NULL
                    // otherwise; a unique index then enforces "at most one".
                    .col(string_len_null(Properties::SingletonKind, 64))
                    .col(text(Properties::Settings))
                    .col(binary_null(Properties::SealedSecret))
                    .col(timestamp_with_time_zone(Properties::CreatedAt))
                    .col(timestamp_with_time_zone(Properties::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_properties_application")
                            .from(Properties::Table, Properties::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_properties_instance")
                    .table(Properties::Table)
                    .col(Properties::ApplicationId)
                    .col(Properties::Kind)
                    .col(Properties::InstanceName)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_properties_singleton")
                    .table(Properties::Table)
                    .col(Properties::ApplicationId)
                    .col(Properties::SingletonKind)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccessKeys::Table)
                    .col(string_len(AccessKeys::Id, 32).primary_key())
                    .col(uuid(AccessKeys::ApplicationId))
                    .col(binary(AccessKeys::SealedSecret))
                    .col(timestamp_with_time_zone(AccessKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(AccessKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AccessKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_keys_application")
                            .from(AccessKeys::Table, AccessKeys::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_keys_application")
                    .table(AccessKeys::Table)
                    .col(AccessKeys::ApplicationId)
                    .col(AccessKeys::RevokedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccessKeys::Table.into_iden(),
            Properties::Table.into_iden(),
            Applications::Table.into_iden(),
            Subscribers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

//! User-token signing keys that rotate: an application has several keys over time,
//! each with the moment it becomes the signing key (`activates_at`). The old table
//! allowed one key per application (a column-level unique constraint, which SQLite
//! cannot drop), so its rows move to a new table, activating when they were created.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{binary, string_len, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
}

#[derive(DeriveIden)]
enum TokenSigningKeys {
    Table,
    Kid,
    ApplicationId,
    Algorithm,
    SealedPrivate,
    PublicKey,
    CreatedAt,
    ActivatesAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TokenSigningKeys::Table)
                    .col(string_len(TokenSigningKeys::Kid, 64).primary_key())
                    .col(uuid(TokenSigningKeys::ApplicationId))
                    .col(string_len(TokenSigningKeys::Algorithm, 16))
                    .col(binary(TokenSigningKeys::SealedPrivate))
                    .col(text(TokenSigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(TokenSigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone(TokenSigningKeys::ActivatesAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_token_signing_keys_application")
                            .from(TokenSigningKeys::Table, TokenSigningKeys::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_token_signing_keys_application")
                    .table(TokenSigningKeys::Table)
                    .col(TokenSigningKeys::ApplicationId)
                    .col(TokenSigningKeys::ActivatesAt)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO token_signing_keys \
                 (kid, application_id, algorithm, sealed_private, public_key, created_at, activates_at) \
                 SELECT kid, application_id, algorithm, sealed_private, public_key, created_at, created_at \
                 FROM signing_keys",
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Several keys per application cannot go back into a one-key table.
        Err(DbErr::Migration(
            "token key rotation cannot be undone: restore the database from a backup".into(),
        ))
    }
}

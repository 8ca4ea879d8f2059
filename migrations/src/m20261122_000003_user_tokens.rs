//! User tokens issued to users: listed, revoked and checked on verification.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    pk_uuid, string_len, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    ApplicationId,
    Id,
}

#[derive(DeriveIden)]
enum UserTokens {
    Table,
    Id,
    ApplicationId,
    UserId,
    IssuedAt,
    ExpiresAt,
    RevokedAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserTokens::Table)
                    // The token's `jti`.
                    .col(pk_uuid(UserTokens::Id))
                    .col(uuid(UserTokens::ApplicationId))
                    .col(string_len(UserTokens::UserId, 64))
                    .col(timestamp_with_time_zone(UserTokens::IssuedAt))
                    .col(timestamp_with_time_zone(UserTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(UserTokens::RevokedAt))
                    .col(timestamp_with_time_zone_null(UserTokens::LastSeenAt))
                    // A deleted user's tokens go with it (and then fail verification).
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_tokens_user")
                            .from_tbl(UserTokens::Table)
                            .from_col(UserTokens::ApplicationId)
                            .from_col(UserTokens::UserId)
                            .to_tbl(Users::Table)
                            .to_col(Users::ApplicationId)
                            .to_col(Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_tokens_user")
                    .table(UserTokens::Table)
                    .col(UserTokens::ApplicationId)
                    .col(UserTokens::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_tokens_expiry")
                    .table(UserTokens::Table)
                    .col(UserTokens::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserTokens::Table).to_owned())
            .await
    }
}

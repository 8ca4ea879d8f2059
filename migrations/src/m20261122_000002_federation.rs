//! Users, their locators, federated users, per-application signing keys, events.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    binary, binary_null, boolean, pk_uuid, string_len, string_len_null, text, text_null,
    timestamp_with_time_zone, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    ApplicationId,
    Id,
    ScreenName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserLocators {
    Table,
    ApplicationId,
    Kind,
    Normalized,
    Value,
    UserId,
    Verified,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FederatedUsers {
    Table,
    Id,
    ApplicationId,
    ProviderConfig,
    Issuer,
    Subject,
    LinkState,
    UserId,
    Candidates,
    Profile,
    SealedTokens,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    ApplicationId,
    Algorithm,
    SealedPrivate,
    PublicKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    ApplicationId,
    At,
    Kind,
    Outcome,
    Reason,
    Detail,
    Provider,
    FederatedUserId,
    UserId,
}

fn app_fk(
    name: &str,
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Applications::Table, Applications::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::ApplicationId))
                    .col(string_len(Users::Id, 64))
                    .col(string_len_null(Users::ScreenName, 200))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .primary_key(Index::create().col(Users::ApplicationId).col(Users::Id))
                    .foreign_key(&mut app_fk(
                        "fk_users_application",
                        Users::Table,
                        Users::ApplicationId,
                    ))
                    .to_owned(),
            )
            .await?;

        // The primary key makes a locator (an email, a phone number) unique per
        // application: two users cannot both own it.
        manager
            .create_table(
                Table::create()
                    .table(UserLocators::Table)
                    .col(uuid(UserLocators::ApplicationId))
                    .col(string_len(UserLocators::Kind, 8))
                    .col(string_len(UserLocators::Normalized, 320))
                    .col(string_len(UserLocators::Value, 320))
                    .col(string_len(UserLocators::UserId, 64))
                    .col(boolean(UserLocators::Verified))
                    .col(timestamp_with_time_zone(UserLocators::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(UserLocators::ApplicationId)
                            .col(UserLocators::Kind)
                            .col(UserLocators::Normalized),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_locators_user")
                            .from_tbl(UserLocators::Table)
                            .from_col(UserLocators::ApplicationId)
                            .from_col(UserLocators::UserId)
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
                    .name("ix_user_locators_user")
                    .table(UserLocators::Table)
                    .col(UserLocators::ApplicationId)
                    .col(UserLocators::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FederatedUsers::Table)
                    .col(pk_uuid(FederatedUsers::Id))
                    .col(uuid(FederatedUsers::ApplicationId))
                    .col(string_len(FederatedUsers::ProviderConfig, 100))
                    .col(string_len(FederatedUsers::Issuer, 255))
                    .col(string_len(FederatedUsers::Subject, 255))
                    .col(string_len(FederatedUsers::LinkState, 16))
                    .col(string_len_null(FederatedUsers::UserId, 64))
                    .col(text(FederatedUsers::Candidates))
                    .col(text(FederatedUsers::Profile))
                    .col(binary_null(FederatedUsers::SealedTokens))
                    .col(timestamp_with_time_zone(FederatedUsers::CreatedAt))
                    .col(timestamp_with_time_zone(FederatedUsers::UpdatedAt))
                    .col(timestamp_with_time_zone(FederatedUsers::LastLoginAt))
                    .foreign_key(&mut app_fk(
                        "fk_federated_users_application",
                        FederatedUsers::Table,
                        FederatedUsers::ApplicationId,
                    ))
                    // A linked user must exist in the same application.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_federated_users_user")
                            .from_tbl(FederatedUsers::Table)
                            .from_col(FederatedUsers::ApplicationId)
                            .from_col(FederatedUsers::UserId)
                            .to_tbl(Users::Table)
                            .to_col(Users::ApplicationId)
                            .to_col(Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Never keyed by email: by who the provider says it is.
        manager
            .create_index(
                Index::create()
                    .name("ux_federated_users_key")
                    .table(FederatedUsers::Table)
                    .col(FederatedUsers::ApplicationId)
                    .col(FederatedUsers::ProviderConfig)
                    .col(FederatedUsers::Issuer)
                    .col(FederatedUsers::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_federated_users_user")
                    .table(FederatedUsers::Table)
                    .col(FederatedUsers::ApplicationId)
                    .col(FederatedUsers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string_len(SigningKeys::Kid, 64).primary_key())
                    .col(uuid(SigningKeys::ApplicationId).unique_key())
                    .col(string_len(SigningKeys::Algorithm, 16))
                    .col(binary(SigningKeys::SealedPrivate))
                    .col(text(SigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .foreign_key(&mut app_fk(
                        "fk_signing_keys_application",
                        SigningKeys::Table,
                        SigningKeys::ApplicationId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(pk_uuid(Events::Id))
                    .col(uuid(Events::ApplicationId))
                    .col(timestamp_with_time_zone(Events::At))
                    .col(string_len(Events::Kind, 32))
                    .col(string_len_null(Events::Outcome, 32))
                    .col(string_len_null(Events::Reason, 100))
                    .col(text_null(Events::Detail))
                    .col(string_len_null(Events::Provider, 100))
                    .col(uuid_null(Events::FederatedUserId))
                    .col(string_len_null(Events::UserId, 64))
                    .foreign_key(&mut app_fk(
                        "fk_events_application",
                        Events::Table,
                        Events::ApplicationId,
                    ))
                    .to_owned(),
            )
            .await?;
        // Ids are time-ordered (UUID v7), so this index serves "newest first" paging.
        manager
            .create_index(
                Index::create()
                    .name("ix_events_application")
                    .table(Events::Table)
                    .col(Events::ApplicationId)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Events::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            FederatedUsers::Table.into_iden(),
            UserLocators::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

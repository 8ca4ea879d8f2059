//! The "rows of a user" indexes lead with the user instead of the application.
//!
//! `(application_id, user_id)` shared its leading column with the tables' unique keys
//! (`(application_id, kind, normalized)` of a locator, `(application_id, provider_config,
//! issuer, subject)` of a federated user, the application of a token). PostgreSQL,
//! planning a prepared look-up while a table was nearly empty, could pick such an
//! index for an exact-key look-up and keep that plan: each new user's email look-up
//! then read every locator of the application (measured: 50 million index entries read
//! for 10 000 logins). Led by `user_id`, these indexes serve only the look-ups that
//! name a user, and a look-up by key has its unique index as the only fitting plan,
//! whatever the statistics say.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, old index, new index)
const INDEXES: [(&str, &str, &str); 3] = [
    (
        "user_locators",
        "ix_user_locators_user",
        "ix_user_locators_owner",
    ),
    (
        "federated_users",
        "ix_federated_users_user",
        "ix_federated_users_owner",
    ),
    ("user_tokens", "ix_user_tokens_user", "ix_user_tokens_owner"),
];

fn index(table: &str, name: &str, columns: [&str; 2]) -> IndexCreateStatement {
    let mut create = Index::create();
    create.name(name).table(Alias::new(table));
    for c in columns {
        create.col(Alias::new(c));
    }
    create.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, old, new) in INDEXES {
            manager
                .create_index(index(table, new, ["user_id", "application_id"]))
                .await?;
            manager
                .drop_index(Index::drop().name(old).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, old, new) in INDEXES {
            manager
                .create_index(index(table, old, ["application_id", "user_id"]))
                .await?;
            manager
                .drop_index(Index::drop().name(new).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

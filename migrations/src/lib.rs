//! Fedgate's database schema, as an ordered, frozen history of migrations.
//!
//! Migrations never import entities: each spells out the schema as it was on the
//! day it was written, so later entity changes cannot rewrite history. They run on
//! SQLite and PostgreSQL alike.

use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_federation;
mod m20261122_000003_user_tokens;
mod m20261202_000004_provider_slugs;
mod m20261202_000005_instance_meta;
mod m20261202_000006_token_key_rotation;
mod m20261203_000007_event_retention;
mod m20261203_000008_webhook_deliveries;
mod m20261203_000009_owner_first_indexes;
mod m20261204_000010_expect_function;

/// All migrations, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_federation::Migration),
            Box::new(m20261122_000003_user_tokens::Migration),
            Box::new(m20261202_000004_provider_slugs::Migration),
            Box::new(m20261202_000005_instance_meta::Migration),
            Box::new(m20261202_000006_token_key_rotation::Migration),
            Box::new(m20261203_000007_event_retention::Migration),
            Box::new(m20261203_000008_webhook_deliveries::Migration),
            Box::new(m20261203_000009_owner_first_indexes::Migration),
            Box::new(m20261204_000010_expect_function::Migration),
        ]
    }
}

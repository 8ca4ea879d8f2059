//! `fedgate_expect(ok, what)`, on PostgreSQL: true when `ok`, else the statement that
//! asked fails with `what` as a serialization failure (SQLSTATE 40001).
//!
//! A login's first attempt reads the federated identity without locking it and sends
//! its writes as one statement whose identity update names the values it read
//! (`fedgate-storage`'s login). When another login changed the identity meanwhile that
//! update finds no row, and the statement must then write nothing at all: its last
//! part asks this function whether the update found its row, and the whole statement
//! fails if not, so that the login retries. SQLite needs nothing of the kind: its
//! writer takes its turn before a login reads.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = "CREATE FUNCTION fedgate_expect(ok boolean, what text) RETURNS boolean \
     LANGUAGE plpgsql AS $$ BEGIN \
     IF ok IS NOT TRUE THEN RAISE EXCEPTION USING MESSAGE = what, ERRCODE = 'serialization_failure'; END IF; \
     RETURN true; END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION fedgate_expect(boolean, text)")
                .await?;
        }
        Ok(())
    }
}

//! Every sealed value in the database, read in pages and replaced one by one only if
//! unchanged since read — what a master-key rotation needs while the service runs.

use fedgate_domain::ids::ApplicationId;
use fedgate_domain::ports::StoreResult;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, prelude::Uuid,
};

use crate::entity::{access_key, federated_user, instance_meta, property, signing_key};
use crate::{SeaStore, backend_err};

/// A column holding sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `properties.sealed_secret`: client secrets.
    PropertySecrets,
    /// `access_keys.sealed_secret`.
    AccessKeySecrets,
    /// `token_signing_keys.sealed_private`: user-token signing keys.
    SigningKeys,
    /// `federated_users.sealed_tokens`: providers' access and refresh tokens.
    FederatedUserTokens,
}

impl SealedColumn {
    /// Every column, in the order a rotation visits them.
    pub const ALL: [Self; 4] = [
        Self::PropertySecrets,
        Self::AccessKeySecrets,
        Self::SigningKeys,
        Self::FederatedUserTokens,
    ];
}

/// One sealed value and the row it belongs to.
#[derive(Debug, Clone)]
pub struct SealedRow {
    /// The column.
    pub column: SealedColumn,
    /// The row's id as its seal context names it.
    pub row_id: String,
    /// The owning application.
    pub application_id: ApplicationId,
    /// The value as read.
    pub sealed: Vec<u8>,
}

fn uuid_after(after: Option<&str>) -> Option<Uuid> {
    after.and_then(|a| Uuid::parse_str(a).ok())
}

impl SeaStore {
    /// Up to `limit` sealed values of `column` whose row id comes after `after`, in row
    /// id order.
    pub async fn sealed_rows(
        &self,
        column: SealedColumn,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<SealedRow>> {
        let err = |e: sea_orm::DbErr| backend_err(&e);
        let row = |row_id: String, app: Uuid, sealed: Vec<u8>| SealedRow {
            column,
            row_id,
            application_id: ApplicationId::from_uuid(app),
            sealed,
        };
        Ok(match column {
            SealedColumn::PropertySecrets => {
                let mut q =
                    property::Entity::find().filter(property::Column::SealedSecret.is_not_null());
                if let Some(a) = uuid_after(after) {
                    q = q.filter(property::Column::Id.gt(a));
                }
                q.order_by_asc(property::Column::Id)
                    .limit(limit)
                    .all(self.db())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .filter_map(|m| {
                        Some(row(
                            m.id.hyphenated().to_string(),
                            m.application_id,
                            m.sealed_secret?,
                        ))
                    })
                    .collect()
            }
            SealedColumn::FederatedUserTokens => {
                let mut q = federated_user::Entity::find()
                    .filter(federated_user::Column::SealedTokens.is_not_null());
                if let Some(a) = uuid_after(after) {
                    q = q.filter(federated_user::Column::Id.gt(a));
                }
                q.order_by_asc(federated_user::Column::Id)
                    .limit(limit)
                    .all(self.db())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .filter_map(|m| {
                        Some(row(
                            m.id.hyphenated().to_string(),
                            m.application_id,
                            m.sealed_tokens?,
                        ))
                    })
                    .collect()
            }
            SealedColumn::AccessKeySecrets => {
                let mut q = access_key::Entity::find();
                if let Some(a) = after {
                    q = q.filter(access_key::Column::Id.gt(a));
                }
                q.order_by_asc(access_key::Column::Id)
                    .limit(limit)
                    .all(self.db())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .map(|m| row(m.id, m.application_id, m.sealed_secret))
                    .collect()
            }
            SealedColumn::SigningKeys => {
                let mut q = signing_key::Entity::find();
                if let Some(a) = after {
                    q = q.filter(signing_key::Column::Kid.gt(a));
                }
                q.order_by_asc(signing_key::Column::Kid)
                    .limit(limit)
                    .all(self.db())
                    .await
                    .map_err(err)?
                    .into_iter()
                    .map(|m| row(m.kid, m.application_id, m.sealed_private))
                    .collect()
            }
        })
    }

    /// Replaces the value `row` was read with by `sealed` — only if the row still holds
    /// exactly what was read (a concurrent change wins). True when replaced.
    pub async fn replace_sealed(&self, row: &SealedRow, sealed: &[u8]) -> StoreResult<bool> {
        // UPDATE … SET column = new WHERE id = row AND column = old.
        macro_rules! swap {
            ($entity:ident, $id:ident, $column:ident, $row_id:expr) => {
                $entity::Entity::update_many()
                    .col_expr($entity::Column::$column, sealed.to_vec().into())
                    .filter(
                        Condition::all()
                            .add($entity::Column::$id.eq($row_id))
                            .add($entity::Column::$column.eq(row.sealed.clone())),
                    )
                    .exec(self.db())
                    .await
            };
        }
        let uuid = || Uuid::parse_str(&row.row_id).unwrap_or_default();
        let id = row.row_id.as_str();
        let done = match row.column {
            SealedColumn::PropertySecrets => swap!(property, Id, SealedSecret, uuid()),
            SealedColumn::FederatedUserTokens => {
                swap!(federated_user, Id, SealedTokens, uuid())
            }
            SealedColumn::AccessKeySecrets => swap!(access_key, Id, SealedSecret, id),
            SealedColumn::SigningKeys => swap!(signing_key, Kid, SealedPrivate, id),
        }
        .map_err(|e| backend_err(&e))?;
        Ok(done.rows_affected == 1)
    }

    /// Replaces an instance fact, only if it still holds `old`. True when replaced.
    pub async fn replace_instance_fact(
        &self,
        name: &str,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool> {
        let done = instance_meta::Entity::update_many()
            .col_expr(instance_meta::Column::Value, new.to_vec().into())
            .filter(
                Condition::all()
                    .add(instance_meta::Column::Name.eq(name))
                    .add(instance_meta::Column::Value.eq(old.to_vec())),
            )
            .exec(self.db())
            .await
            .map_err(|e| backend_err(&e))?;
        Ok(done.rows_affected == 1)
    }
}

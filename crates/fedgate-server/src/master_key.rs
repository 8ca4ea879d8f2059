//! `fedgate rotate-master-key`: re-seals every secret in the database under the
//! current `master_key` while the service runs.
//!
//! The procedure (docs/operations.md): back up; give every instance the new key as
//! `master_key` and the old one in `previous_master_keys` (they then seal with the new
//! key and open with either); run this command; remove the old key. Each value is
//! replaced only if unchanged since it was read, so a concurrent change by an instance
//! — already sealed with the new key — is never overwritten; a final pass proves that
//! nothing is left under an old key.

use anyhow::{Context, bail};
use fedgate_domain::seal::{SealContext, Sealer};
use fedgate_storage::SeaStore;
use fedgate_storage::sealed::{SealedColumn, SealedRow};

use crate::config::Settings;
use crate::startup::{MASTER_KEY_CHECK, master_keys, open_database, verify_master_key};

/// Rows read per page.
const PAGE: u64 = 500;

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotation {
    /// The current key's version (hex), which every secret is now sealed with.
    pub key_version: String,
    /// Values re-sealed, per column.
    pub resealed: Vec<(SealedColumn, u64)>,
    /// Values already sealed with the current key.
    pub already_current: u64,
}

impl Rotation {
    /// Values re-sealed in all.
    #[must_use]
    pub fn total_resealed(&self) -> u64 {
        self.resealed.iter().map(|(_, n)| n).sum()
    }
}

/// The seal context of a value of `column`: what the code sealing it uses.
fn context(row: &SealedRow) -> SealContext<'_> {
    let purpose = match row.column {
        SealedColumn::PropertySecrets => fedgate_domain::property::SECRET_PURPOSE,
        SealedColumn::AccessKeySecrets => fedgate_domain::access_key::SECRET_PURPOSE,
        SealedColumn::SigningKeys => fedgate_tokens::SEAL_PURPOSE,
        SealedColumn::FederatedUserTokens => fedgate_domain::federation::TOKENS_PURPOSE,
    };
    SealContext {
        purpose,
        application_id: row.application_id,
        row_id: &row.row_id,
    }
}

/// One pass over a column: re-seals what is not current; returns (re-sealed,
/// already current, left under an old key).
async fn pass(
    store: &SeaStore,
    sealer: &Sealer,
    column: SealedColumn,
    reseal: bool,
) -> anyhow::Result<(u64, u64, u64)> {
    let (mut resealed, mut current, mut left) = (0, 0, 0);
    let mut after: Option<String> = None;
    loop {
        let rows = store
            .sealed_rows(column, after.as_deref(), PAGE)
            .await
            .with_context(|| format!("cannot read {column:?}"))?;
        let Some(last) = rows.last() else { break };
        after = Some(last.row_id.clone());
        for row in &rows {
            if sealer.is_current(&row.sealed) {
                current += 1;
                continue;
            }
            if !reseal {
                left += 1;
                continue;
            }
            let Some(new) = sealer.reseal(&context(row), &row.sealed).with_context(|| {
                format!(
                    "{column:?} row {} opens with none of the configured keys: is a previous \
                     key missing from previous_master_keys?",
                    row.row_id
                )
            })?
            else {
                current += 1;
                continue;
            };
            if store.replace_sealed(row, &new).await? {
                resealed += 1;
            } else {
                // Changed (or deleted) since read, by an instance sealing with its own
                // current key: the final pass checks that key was the new one.
                left += 1;
            }
        }
    }
    Ok((resealed, current, left))
}

/// Re-seals every secret, and the master-key check value, under the current key.
pub async fn rotate(settings: &Settings) -> anyhow::Result<Rotation> {
    let store = open_database(settings).await?;
    let check = store
        .instance_fact(MASTER_KEY_CHECK)
        .await
        .context("cannot read the master-key check value")?;
    let (current, previous) = master_keys(settings, check.is_some())?;
    let sealer = Sealer::rotating(&current, &previous);
    verify_master_key(&store, &sealer, check).await?;

    let mut rotation = Rotation {
        key_version: sealer.key_version(),
        ..Rotation::default()
    };
    for column in SealedColumn::ALL {
        let (resealed, already, _) = pass(&store, &sealer, column, true).await?;
        rotation.resealed.push((column, resealed));
        rotation.already_current += already;
    }
    // Last, the check value: from now on only the new key starts an instance.
    let check = store
        .instance_fact(MASTER_KEY_CHECK)
        .await?
        .context("the master-key check value vanished")?;
    if let Some(new) = sealer.reseal_check(&check)? {
        store
            .replace_instance_fact(MASTER_KEY_CHECK, &check, &new)
            .await?;
    }
    let mut left = 0;
    for column in SealedColumn::ALL {
        left += pass(&store, &sealer, column, false).await?.2;
    }
    if left > 0 {
        bail!(
            "{left} secrets are still sealed with a previous key: some instance still seals with \
             it. Give every instance the new master_key (the old one in previous_master_keys), \
             then run rotate-master-key again."
        );
    }
    Ok(rotation)
}

//! `history verify` on PostgreSQL: the hash chain of the history (schema
//! version 4) recomputed over one snapshot of the store.

use std::collections::HashMap;

use super::read::stream;
use super::schema::chain_encoding;
use super::PostgresStore;
use crate::error::StoreError;
use crate::store::chain::{ChainReport, ChainState, Verifier};
use crate::store::Visit;

/// Recompute the chain; `None` for a store of a version before 4.
pub(super) fn verify_history(store: &PostgresStore) -> Result<Option<ChainReport>, StoreError> {
    if store.version.get() < 4 {
        return Ok(None);
    }
    let own = !store.in_transaction.get();
    if own {
        store.simple(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "starting a read snapshot",
        )?;
        store.in_transaction.set(true);
    }
    let result = verify_in_snapshot(store);
    if own {
        store.in_transaction.set(false);
        let end = store.simple("COMMIT", "ending a read snapshot");
        let report = result?;
        end?;
        return Ok(Some(report));
    }
    result.map(Some)
}

fn verify_in_snapshot(store: &PostgresStore) -> Result<ChainReport, StoreError> {
    let context = "verifying the history";
    let state = {
        let row = store
            .client
            .borrow_mut()
            .query_one(
                "SELECT pre_id, pre_hash, last_id, last_hash FROM history_chain",
                &[],
            )
            .map_err(|e| store.error(context, e))?;
        ChainState {
            pre_id: row.get(0),
            pre_hash: row.get(1),
            last_id: row.get(2),
            last_hash: row.get(3),
        }
    };
    let gaps: HashMap<i64, Vec<u8>> = store
        .client
        .borrow_mut()
        .query("SELECT id, prev_hash FROM history_chain_gaps", &[])
        .map_err(|e| store.error(context, e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut verifier = Verifier::new(state, gaps);
    // The server encodes each row (the trigger that wrote its hash used the
    // same expression); the hashes are recomputed here.
    let query = format!(
        "SELECT h.id, convert_to({}, 'UTF8'), h.hash FROM history h ORDER BY h.id",
        chain_encoding("h")
    );
    stream(store, &query, context, |row| {
        let id: i64 = row.get(0);
        let encoding: &[u8] = row.get(1);
        let hash: Option<&[u8]> = row.get(2);
        verifier.row(id, encoding, hash);
        Ok(if verifier.is_broken() {
            Visit::Break(())
        } else {
            Visit::Continue(())
        })
    })?;
    Ok(verifier.finish())
}

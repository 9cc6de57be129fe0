//! Bulk writes keep the history's hash chain: the moves a bulk write makes
//! as one set (on SQLite, with their hashes computed by the write itself
//! while the chain's trigger is set aside) verify with the changes around
//! them, through prunes, and a change made below the tool to one of their
//! rows is seen. A bulk write refused for a stale line leaves the chain as
//! it was.

use serde_json::Value;

use crate::common::{backend_tests, Backend, Env};

backend_tests!(
    bulk_moves_verify_with_the_changes_around_them,
    a_changed_row_of_a_bulk_write_is_seen,
    a_refused_bulk_write_leaves_the_chain_as_it_was,
);

/// Cursors `orders:0` ... `orders:{n-1}` of `billing`.
const CURSORS: u32 = 20;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn verified(env: &Env) -> Value {
    let record = json(&env.ok(&["history", "verify", "-o", "json"]));
    assert_eq!(record["verified"], true, "{record}");
    record
}

/// The NDJSON lines moving every cursor from `from + i` to `to + i`.
fn moves(from: u64, to: u64) -> String {
    (0..CURSORS)
        .map(|i| {
            format!(
                "{{\"consumer\":\"billing\",\"partition_key\":\"orders:{i}\",\"offset\":{},\"expect\":{}}}\n",
                to + u64::from(i),
                from + u64::from(i)
            )
        })
        .collect()
}

fn create(env: &Env) {
    let lines: String = (0..CURSORS)
        .map(|i| format!("billing:orders:{i},{i}\n"))
        .collect();
    env.ok_stdin(
        &["set", "--from-file", "-", "--create", "-q"],
        format!("key,offset\n{lines}"),
    );
}

/// The chain trigger's text on SQLite (`None` on PostgreSQL).
fn trigger(env: &Env) -> Option<String> {
    (env.backend == Backend::Sqlite).then(|| {
        env.conn()
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'history_chain'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    })
}

fn bulk_moves_verify_with_the_changes_around_them(backend: Backend) {
    let env = Env::on(backend);
    let before = trigger(&env);
    create(&env);
    env.ok(&["advance", "billing", "orders:0", "--by", "100", "-q"]);
    env.ok_stdin(
        &["set", "--from-file", "-", "-q"],
        moves(0, 1000).replace("\"expect\":0}", "\"expect\":100}"),
    );
    let record = verified(&env);
    assert_eq!(record["changes"], 2 * u64::from(CURSORS) + 1, "{record}");
    assert_eq!(record["head_id"], 2 * u64::from(CURSORS) + 1, "{record}");
    // The cursors hold what the bulk write wrote.
    let got = json(&env.ok(&["get", "billing", "orders:7", "-o", "json"]));
    assert_eq!(got["offset"], 1007, "{got}");
    // A change after the bulk write chains onto its last row, and a second
    // bulk write onto that one.
    env.ok(&["advance", "billing", "orders:3", "-q"]);
    env.ok_stdin(
        &["set", "--from-file", "-", "-q"],
        moves(1000, 2000).replace("\"expect\":1003}", "\"expect\":1004}"),
    );
    let record = verified(&env);
    assert_eq!(record["head_id"], 3 * u64::from(CURSORS) + 2, "{record}");
    // After a prune of everything, a bulk write's ids go on from the
    // highest ever given, and the chain holds.
    env.ok(&["history", "prune", "--before", "2999-01-01", "-q"]);
    env.ok_stdin(&["set", "--from-file", "-", "-q"], moves(2000, 3000));
    let record = verified(&env);
    assert_eq!(record["changes"], u64::from(CURSORS), "{record}");
    assert_eq!(record["head_id"], 4 * u64::from(CURSORS) + 2, "{record}");
    let ids: Vec<u64> = json(&env.ok(&["history", "-o", "json"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    let mut expected: Vec<u64> =
        (3 * u64::from(CURSORS) + 3..=4 * u64::from(CURSORS) + 2).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "{ids:?}");
    // The trigger is there as it was.
    assert_eq!(trigger(&env), before);
}

fn a_changed_row_of_a_bulk_write_is_seen(backend: Backend) {
    let env = Env::on(backend);
    create(&env);
    env.ok_stdin(&["set", "--from-file", "-", "-q"], moves(0, 500));
    verified(&env);
    let id = u64::from(CURSORS) + 5;
    let sql = format!("UPDATE history SET new_offset = 999 WHERE id = {id}");
    match backend {
        Backend::Sqlite => {
            let text = trigger(&env).unwrap();
            env.execute(&format!(
                "BEGIN; DROP TRIGGER history_chain; {sql}; {text}; COMMIT;"
            ));
        }
        Backend::Postgres => env.execute(&format!(
            "SET session_replication_role = replica; {sql}; SET session_replication_role = origin"
        )),
    }
    let out = env.run(&["history", "verify", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(record["broken_at"], id, "{record}");
}

fn a_refused_bulk_write_leaves_the_chain_as_it_was(backend: Backend) {
    let env = Env::on(backend);
    create(&env);
    let before = verified(&env);
    let trigger_before = trigger(&env);
    let listing = env.ok(&["get", "-o", "ndjson"]);
    // One line expects what its cursor does not hold: nothing is written.
    let out = env.run_stdin(
        &["set", "--from-file", "-", "-q"],
        moves(0, 500).replace("\"expect\":9}", "\"expect\":8}"),
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing was written"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.ok(&["get", "-o", "ndjson"]), listing);
    let after = verified(&env);
    assert_eq!(after["head_hash"], before["head_hash"]);
    assert_eq!(after["changes"], before["changes"]);
    assert_eq!(trigger(&env), trigger_before);
    // The next bulk write chains on from the head the refused one left
    // (PostgreSQL's sequences may have given ids to the refused rows).
    env.ok_stdin(&["set", "--from-file", "-", "-q"], moves(0, 500));
    let record = verified(&env);
    assert_eq!(record["changes"], 2 * u64::from(CURSORS), "{record}");
}

//! Ids and times of the history: an id is never given twice, not after a
//! prune of everything either, on both backends and on SQLite stores made
//! by older releases once `init` upgraded them; change times follow the
//! order of ids, and `--since` / `--before` select in that order;
//! `copy-store` carries snapshots and the highest ids, and leaves no new
//! store behind when it fails. Both backends unless said otherwise.

use serde_json::Value;

use crate::common::{backend_tests, dump, pg_admin, Backend, Env, PgSchema};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

/// The id of the one record a command printed with `-o json`.
fn id_of(out: &str, field: &str) -> i64 {
    json(out)[field]
        .as_i64()
        .unwrap_or_else(|| panic!("no {field}: {out}"))
}

backend_tests!(
    ids_are_never_given_twice_after_a_prune_of_everything,
    since_and_before_follow_the_order_of_ids,
    copy_store_carries_snapshots_and_the_highest_ids,
);

/// Three changes and a batch, then a prune whose time is in the future
/// (everything goes): the next change and the next batch get new ids, and
/// `undo` of an old id finds nothing rather than an unrelated change.
fn ids_are_never_given_twice_after_a_prune_of_everything(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:0", "10", "--create", "-q"]);
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    let third = id_of(
        &env.ok(&["advance", "billing", "orders:0", "-o", "json"]),
        "id",
    );
    assert_eq!(third, 3);
    let prune = json(&env.ok(&["history", "prune", "--before", "2999-01-01", "-o", "json"]));
    assert_eq!(prune["changes"], 3);
    let first_prune_batch = prune["batch"].as_i64().unwrap();
    // A second prune removes the first one's batch too: nothing is left.
    let prune = json(&env.ok(&["history", "prune", "--before", "2999-01-01", "-o", "json"]));
    assert_eq!(prune["batches"], 1);
    let second_prune_batch = prune["batch"].as_i64().unwrap();
    assert!(
        second_prune_batch > first_prune_batch,
        "batch id {second_prune_batch} given again"
    );
    let next = id_of(
        &env.ok(&["advance", "billing", "orders:0", "-o", "json"]),
        "id",
    );
    assert!(next > third, "change id {next} given again (after {third})");
    // `undo 1` from an old incident note: that change is gone, and no
    // other change answers to its id.
    let before = env.dump();
    let err = env.fails(5, &["undo", "1", "--reason", "old note"]);
    assert!(err.contains("1"), "{err}");
    assert_eq!(env.dump(), before);
    assert_eq!(env.offset("billing", "orders:0"), Some(13));
}

/// Changes stamped out of the order of their ids (as writers with
/// different clocks leave them): `history --since`, `undo --since` and
/// `history prune --before` take the changes from the first one recorded
/// at or after the time on, in the order of ids.
fn since_and_before_follow_the_order_of_ids(backend: Backend) {
    let env = Env::on(backend);
    // Changes 1, 2, 3 at 100 ms, 300 ms and 200 ms past the epoch, each
    // creating cursor svc:orders:ID at offset ID.
    let overriding = if backend == Backend::Postgres {
        "OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    for (id, at) in [(1, 100), (2, 300), (3, 200)] {
        env.execute(&format!(
            "INSERT INTO cursors (consumer, channel, partition, \"offset\", updated_at) \
             VALUES ('svc', 'orders', {id}, {id}, {at}); \
             INSERT INTO history (id, at, consumer, channel, partition, old_offset, new_offset, \
             command, reason, \"user\") {overriding} \
             VALUES ({id}, {at}, 'svc', 'orders', {id}, NULL, {id}, 'set', NULL, 'tester')"
        ));
    }
    if backend == Backend::Postgres {
        env.execute("SELECT setval(pg_get_serial_sequence('history', 'id'), 3)");
    }
    let ids = |out: &str| -> Vec<i64> {
        json_lines(out)
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let since = "1970-01-01T00:00:00.250Z";
    assert_eq!(
        ids(&env.ok(&["history", "--since", since, "-o", "ndjson"])),
        [2, 3]
    );
    assert_eq!(
        ids(&env.ok(&["history", "svc", "--since", since, "-o", "ndjson"])),
        [2, 3]
    );
    // The dry run of the undo plans changes 3 and 2.
    let before = env.dump();
    let planned = env.ok(&[
        "undo",
        "--since",
        since,
        "--reason",
        "r",
        "--dry-run",
        "-o",
        "ndjson",
    ]);
    assert_eq!(env.dump(), before);
    let planned: Vec<Value> = json_lines(&planned);
    assert_eq!(planned.len(), 2, "{planned:?}");
    // The prune takes what lies before the first change kept: change 1.
    let counted = json(&env.ok(&[
        "history",
        "prune",
        "--before",
        since,
        "--dry-run",
        "-o",
        "json",
    ]));
    assert_eq!(counted["changes"], 1);
    let pruned = json(&env.ok(&["history", "prune", "--before", since, "-o", "json"]));
    assert_eq!(pruned["changes"], 1);
    assert_eq!(ids(&env.ok(&["history", "-o", "ndjson"])), [2, 3]);
    env.ok(&["undo", "--since", since, "--reason", "back", "-q"]);
    assert_eq!(env.offset("svc", "orders:1"), Some(1));
    assert_eq!(env.offset("svc", "orders:2"), None);
    assert_eq!(env.offset("svc", "orders:3"), None);
}

/// `copy-store` into the other backend and back: snapshots arrive (and
/// are verified), and the ids given next follow the highest the source
/// ever gave, pruned ones included.
fn copy_store_carries_snapshots_and_the_highest_ids(backend: Backend) {
    if !Backend::Postgres.available() {
        return;
    }
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:0", "10", "--create", "-q"]);
    env.ok(&["set", "billing", "orders:1", "20", "--create", "-q"]);
    env.ok(&[
        "snapshot",
        "save",
        "before-deploy",
        "--reason",
        "INC-1",
        "-q",
    ]);
    env.ok(&["advance", "billing", "orders:0", "--by", "5", "-q"]);
    env.ok(&["snapshot", "save", "billing-only", "billing", "-q"]);
    // Everything before now goes: the highest ids stay given.
    env.ok(&["history", "prune", "--before", "2999-01-01", "-q"]);
    let other = Env::empty_on(match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    });
    let snapshots = |e: &Env| e.ok(&["snapshot", "list", "-o", "ndjson"]);
    let shown = |e: &Env, name: &str| e.ok(&["snapshot", "show", name, "-o", "ndjson"]);
    let to = other.db_arg();
    let record = json(
        &env.cmd()
            .args(["copy-store", "-o", "json", "--to"])
            .arg(&to)
            .output()
            .map(|o| {
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                String::from_utf8(o.stdout).unwrap()
            })
            .unwrap(),
    );
    assert_eq!(record["snapshots"], 2, "{record}");
    assert_eq!(snapshots(&other), snapshots(&env));
    assert_eq!(snapshots(&other).lines().count(), 2);
    for name in ["before-deploy", "billing-only"] {
        assert_eq!(shown(&other, name), shown(&env, name));
    }
    // The restore works on the copy.
    other.ok(&[
        "snapshot",
        "restore",
        "before-deploy",
        "--reason",
        "back",
        "-q",
    ]);
    assert_eq!(other.offset("billing", "orders:0"), Some(10));
    // Three changes and one prune batch were given before the copy: the
    // copy gives 4 and up, and batch 2 and up (the restore took batch 2).
    let next = id_of(
        &other.ok(&["advance", "billing", "orders:1", "-o", "json"]),
        "id",
    );
    assert!(next > 4, "change id {next} given again");
    // And back again: the highest ids ride along.
    let back = Env::empty_on(backend);
    other
        .cmd()
        .args(["copy-store", "-q", "--to"])
        .arg(back.db_arg())
        .assert()
        .success();
    assert_eq!(snapshots(&back), snapshots(&env));
    let again = id_of(
        &back.ok(&["advance", "billing", "orders:1", "-o", "json"]),
        "id",
    );
    assert!(again > next, "change id {again} given again (after {next})");
}

/// The schema of a version 2 store, as the previous release made it.
const VERSION_2_SCHEMA: &str = "
CREATE TABLE cursors (
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    offset     INTEGER CHECK (typeof(offset) = 'integer' AND offset >= 0),
    updated_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    PRIMARY KEY (consumer, channel, partition)
) WITHOUT ROWID;
CREATE TABLE batches (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    command TEXT    NOT NULL,
    reason  TEXT,
    user    TEXT    NOT NULL
);
CREATE TABLE history (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    old_offset INTEGER,
    new_offset INTEGER,
    command    TEXT    NOT NULL,
    reason     TEXT,
    user       TEXT    NOT NULL,
    batch      INTEGER REFERENCES batches (id)
);
CREATE INDEX history_by_cursor ON history (consumer, channel, partition);
CREATE INDEX history_by_batch ON history (batch) WHERE batch IS NOT NULL;
CREATE VIEW cursor_keys AS
SELECT consumer || ':' || channel || ':' || partition AS key,
       consumer, channel, partition, offset, updated_at
FROM cursors;
CREATE TABLE snapshots (
    name     TEXT    PRIMARY KEY,
    at       INTEGER NOT NULL,
    user     TEXT    NOT NULL,
    reason   TEXT,
    consumer TEXT
);
CREATE TABLE snapshot_cursors (
    snapshot  TEXT    NOT NULL REFERENCES snapshots (name),
    consumer  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    offset    INTEGER NOT NULL,
    PRIMARY KEY (snapshot, consumer, channel, partition)
) WITHOUT ROWID;
PRAGMA application_id = 1131770483;
PRAGMA user_version = 2;
PRAGMA journal_mode = WAL;
";

/// A version 2 store (SQLite only: the schema of the previous release)
/// is written as before, but a prune, which would make the next change
/// take the id of a pruned one, asks for `init` and changes nothing;
/// `init` upgrades it to version 3 keeping every row and id, and from
/// then on no id is given twice.
#[test]
fn a_version_2_store_is_upgraded_to_ids_never_given_twice() {
    let env = Env::empty();
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    conn.execute_batch(VERSION_2_SCHEMA).unwrap();
    drop(conn);
    env.ok(&["set", "billing", "orders:0", "10", "--create", "-q"]);
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    env.ok(&["snapshot", "save", "kept", "-q"]);
    let history = env.ok(&["history", "-o", "ndjson"]);
    let before = dump(&env.db);
    for args in [
        &["history", "prune", "--before", "2999-01-01"][..],
        &["history", "prune", "--before", "2999-01-01", "--dry-run"][..],
    ] {
        let err = env.fails(7, args);
        assert!(err.contains("cursorctl init"), "{err}");
    }
    assert_eq!(dump(&env.db), before, "a refused prune changes nothing");
    let upgraded = json(&env.ok(&["init", "-o", "json"]));
    assert_eq!(upgraded["status"], "upgraded");
    assert_eq!(upgraded["schema_version"], 4);
    assert_eq!(env.ok(&["history", "-o", "ndjson"]), history);
    assert_eq!(env.ok(&["snapshot", "list", "-o", "value"]), "kept\n");
    let sql: String = env
        .conn()
        .query_row(
            "SELECT group_concat(sql, ';') FROM sqlite_master WHERE name IN ('history', 'batches')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sql.matches("AUTOINCREMENT").count(), 2, "{sql}");
    env.ok(&["history", "prune", "--before", "2999-01-01", "-q"]);
    let next = id_of(
        &env.ok(&["advance", "billing", "orders:0", "-o", "json"]),
        "id",
    );
    assert_eq!(next, 3);
    assert_eq!(
        json(&env.ok(&["init", "-o", "json"]))["status"],
        "already-initialised"
    );
}

/// A `copy-store` that fails leaves no new store behind: a SQLite file it
/// created is removed, a PostgreSQL schema it created is dropped, and a
/// PostgreSQL schema that was there (empty) stays, empty. SQLite source.
#[test]
fn a_failed_copy_store_leaves_no_new_store() {
    let env = Env::new();
    env.ok(&["set", "billing", "orders:0", "10", "--create", "-q"]);
    env.ok(&["snapshot", "save", "s", "-q"]);
    // A value the copy cannot read: it fails after the destination was
    // made.
    env.conn()
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON; \
             INSERT INTO cursors (consumer, channel, partition, offset) VALUES ('zz', 'orders', 0, 'x');",
        )
        .unwrap();
    let source = dump(&env.db);
    let to = env.dir.path().join("copy.db");
    let out = env
        .cmd()
        .args(["copy-store", "--to"])
        .arg(&to)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert!(!to.exists(), "the new store file was left behind");
    for side in ["copy.db-wal", "copy.db-shm", "copy.db-journal"] {
        assert!(!env.dir.path().join(side).exists(), "{side} left behind");
    }
    assert_eq!(dump(&env.db), source);
    if !Backend::Postgres.available() {
        return;
    }
    let missing = PgSchema::new("copy");
    let out = env
        .cmd()
        .args(["copy-store", "--to", &missing.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let schemas = |name: &str| -> i64 {
        pg_admin()
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&name],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(schemas(&missing.name), 0, "the new schema was left behind");
    let empty = PgSchema::new("copy");
    pg_admin()
        .batch_execute(&format!("CREATE SCHEMA {}", empty.name))
        .unwrap();
    let out = env
        .cmd()
        .args(["copy-store", "--to", &empty.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert_eq!(
        schemas(&empty.name),
        1,
        "a schema that was there was dropped"
    );
    let objects: i64 = pg_admin()
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = $1) \
                  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                     WHERE n.nspname = $1)",
            &[&empty.name],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        objects, 0,
        "what the copy made in the empty schema was left"
    );
    // A destination that existed and held a store is never removed.
    let held = Env::on(Backend::Sqlite);
    held.ok(&["set", "other", "orders:0", "1", "--create", "-q"]);
    let kept = dump(&held.db);
    env.cmd()
        .args(["copy-store", "--to"])
        .arg(&held.db)
        .assert()
        .code(2);
    assert_eq!(dump(&held.db), kept);
}

/// PostgreSQL: a change's time is when its row was written, not when its
/// transaction began. An `advance` that waits for a row lock held by
/// another writer is stamped after the wait, so `history --since` and
/// `undo --since` of a time during the wait find it.
#[test]
fn postgres_change_times_are_when_the_row_was_written() {
    if !Backend::Postgres.available() {
        return;
    }
    let env = Env::on(Backend::Postgres);
    env.ok(&["set", "svc", "orders:0", "10", "--create", "-q"]);
    let mut holder = pg_admin();
    holder
        .batch_execute(&format!(
            "SET search_path = {}; BEGIN; \
             SELECT 1 FROM cursors WHERE consumer = 'svc' FOR UPDATE",
            env.pg_schema().unwrap()
        ))
        .unwrap();
    let waiting = env
        .std_cmd()
        .args(["advance", "svc", "orders:0", "--reason", "waited", "-q"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    let during: String = pg_admin()
        .query_one(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
            &[],
        )
        .unwrap()
        .get(0);
    std::thread::sleep(std::time::Duration::from_millis(300));
    holder.batch_execute("COMMIT").unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success());
    let found = json_lines(&env.ok(&["history", "--since", &during, "-o", "ndjson"]));
    assert_eq!(found.len(), 1, "history --since {during} missed the change");
    assert_eq!(found[0]["reason"], "waited");
    let planned = json_lines(&env.ok(&[
        "undo",
        "--since",
        &during,
        "--reason",
        "r",
        "--dry-run",
        "-o",
        "ndjson",
    ]));
    assert_eq!(planned.len(), 1, "undo --since {during}: {planned:?}");
    // The change is also stamped after the one before it.
    let all = json_lines(&env.ok(&["history", "-o", "ndjson"]));
    assert!(all[0]["at"].as_str() <= all[1]["at"].as_str(), "{all:?}");
}

/// PostgreSQL: a bulk write's set-wise statement stays linear in its chunk
/// whatever join the planner picks. With hash and merge joins turned off
/// (as a planner misled by stale statistics picks nested loops), creating
/// three chunks of new cursors in an emptied store takes about as long as
/// with them on; a statement that finds the moves that did not happen
/// with an anti-join compared every move with every other (seconds a
/// chunk).
#[test]
fn postgres_bulk_writes_stay_linear_under_nested_loops() {
    if !Backend::Postgres.available() {
        return;
    }
    let lines: String = (0..3 * 8192)
        .map(|i| {
            format!(
                "{{\"consumer\":\"c{:04}\",\"partition_key\":\"ch0:{}\",\"offset\":{i}}}\n",
                i / 200,
                i % 200
            )
        })
        .collect();
    let timed = |env: &Env, db: &std::ffi::OsStr| {
        let started = std::time::Instant::now();
        env.cmd()
            .arg("--db")
            .arg(db)
            .args(["set", "--from-file", "-", "--create", "-q"])
            .write_stdin(lines.clone())
            .assert()
            .success();
        started.elapsed()
    };
    let free = Env::on(Backend::Postgres);
    let baseline = timed(&free, &free.db_arg());
    let nested = Env::on(Backend::Postgres);
    let mut db = nested.db_arg();
    db.push("&options=-c%20enable_hashjoin%3Doff%20-c%20enable_mergejoin%3Doff");
    let forced = timed(&nested, &db);
    assert_eq!(nested.offset("c0122", "ch0:175"), Some(24575));
    assert!(
        forced < baseline * 3 + std::time::Duration::from_secs(3),
        "{forced:?} with nested loops only, against {baseline:?}"
    );
}

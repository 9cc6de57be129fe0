//! The core commands, driven through the real binary: init, get, set,
//! advance, exit codes, refusals that leave the store unchanged, and
//! concurrent writers. Every case runs on SQLite and on PostgreSQL
//! (`backend_tests!` at the bottom); the few plain tests say why they are
//! not.

use crate::common;

use std::fs;
use std::process::{Command, Stdio};
use std::thread;

use common::{backend_tests, pg_admin, stderr, stdout, Backend, Env, BIN};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

// ---- init and opening -----------------------------------------------------

/// A SQLite store is marked by its application id and version and is in
/// WAL mode; a PostgreSQL store by its meta table.
fn init_creates_a_marked_store_and_is_idempotent(backend: Backend) {
    let env = Env::empty_on(backend);
    let out = env.ok(&["init", "-o", "json"]);
    assert_eq!(json(&out)["status"], "created");
    match env.pg_schema() {
        None => {
            let conn = env.conn();
            let app_id: i64 = conn
                .query_row("PRAGMA application_id", [], |r| r.get(0))
                .unwrap();
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(app_id, 0x4375_7273);
            assert_eq!(version, 4);
            assert_eq!(mode, "wal");
        }
        Some(schema) => {
            let meta: Vec<(String, String)> = pg_admin()
                .query(
                    &format!("SELECT key, value FROM {schema}.meta ORDER BY key"),
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            assert_eq!(
                meta,
                [
                    ("application".to_owned(), "cursorctl".to_owned()),
                    ("schema_version".to_owned(), "4".to_owned())
                ]
            );
        }
    }
    env.seed(&[("billing", "orders:1", 5)]);
    let again = env.ok(&["init", "-o", "json"]);
    assert_eq!(json(&again)["status"], "already-initialised");
    assert_eq!(
        env.offset("billing", "orders:1"),
        Some(5),
        "init keeps what is there"
    );
}

fn read_commands_never_create_a_store(backend: Backend) {
    let env = Env::empty_on(backend);
    for args in [
        vec!["get"],
        vec!["get", "billing", "orders:1"],
        vec!["get", "billing"],
        vec!["set", "billing", "orders:1", "5", "--create", "--dry-run"],
        vec!["set", "billing", "orders:1", "5", "--create"],
        vec!["advance", "billing", "orders:1", "--create"],
    ] {
        let err = env.fails(7, &args);
        assert!(err.contains("no cursor store"), "{args:?}: {err}");
        assert!(err.contains("cursorctl init"), "{args:?}: {err}");
    }
    assert_eq!(
        fs::read_dir(env.dir.path()).unwrap().count(),
        0,
        "no file was created"
    );
    if let Some(schema) = env.pg_schema() {
        let schemas: i64 = pg_admin()
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .unwrap()
            .get(0);
        assert_eq!(schemas, 0, "no schema was created");
    }
}

// SQLite only: files. A PostgreSQL schema of another application is in
// postgres::unreachable_missing_and_foreign_stores_are_refused.
#[test]
fn a_foreign_sqlite_file_is_refused_and_left_byte_for_byte() {
    let env = Env::empty();
    {
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        conn.execute_batch("CREATE TABLE cursors (x); INSERT INTO cursors VALUES (1);")
            .unwrap();
    }
    let before = fs::read(&env.db).unwrap();
    for args in [
        vec!["init"],
        vec!["get"],
        vec!["set", "a", "b:1", "1", "--create"],
    ] {
        let err = env.fails(7, &args);
        assert!(err.contains("not a cursor store"), "{err}");
        assert!(err.contains("another application"), "{err}");
    }
    assert_eq!(fs::read(&env.db).unwrap(), before);

    // Another application's id.
    let other = env.dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&other).unwrap();
        conn.execute_batch("PRAGMA application_id = 1234; CREATE TABLE t (x);")
            .unwrap();
    }
    let before = fs::read(&other).unwrap();
    let err = env.fails(7, &["--db", other.to_str().unwrap(), "init"]);
    assert!(err.contains("application id"), "{err}");
    assert_eq!(fs::read(&other).unwrap(), before);
}

// SQLite only: a file that is not a database, and the journal files beside it.
#[test]
fn a_non_sqlite_file_is_refused_and_left_byte_for_byte() {
    let env = Env::empty();
    let text = b"this is not a database, it is somebody's notes\n".repeat(200);
    fs::write(&env.db, &text).unwrap();
    for args in [
        vec!["init"],
        vec!["get"],
        vec!["advance", "a", "b:1", "--create"],
    ] {
        let err = env.fails(7, &args);
        assert!(err.contains("not a SQLite database"), "{err}");
    }
    assert_eq!(fs::read(&env.db).unwrap(), text);
    let names: Vec<_> = fs::read_dir(env.dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no journal files left beside it");
}

fn a_newer_schema_is_refused_and_left_unchanged(backend: Backend) {
    let env = Env::on(backend);
    env.execute(match backend {
        Backend::Sqlite => "PRAGMA user_version = 99",
        Backend::Postgres => "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
    });
    let before = env.dump();
    let err = env.fails(7, &["set", "a", "b:1", "1", "--create"]);
    assert!(err.contains("schema version 99"), "{err}");
    env.fails(7, &["get"]);
    assert_eq!(env.dump(), before);
}

// ---- get ------------------------------------------------------------------

fn get_one_cursor_in_every_format(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 1041)]);
    let rec = json(&env.ok(&["get", "billing", "orders:3", "-o", "json"]));
    assert_eq!(rec["key"], "billing:orders:3");
    assert_eq!(rec["consumer"], "billing");
    assert_eq!(rec["partition_key"], "orders:3");
    assert_eq!(rec["channel"], "orders");
    assert_eq!(rec["partition"], 3);
    assert_eq!(rec["offset"], 1041);
    assert_eq!(rec["exists"], true);
    assert!(rec["updated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        env.ok(&["get", "billing", "orders:3", "-o", "value"]),
        "1041\n"
    );
    let tsv = env.ok(&["get", "billing", "orders:3", "-o", "tsv"]);
    let lines: Vec<_> = tsv.lines().collect();
    assert_eq!(
        lines[0],
        "key\tconsumer\tpartition_key\tchannel\tpartition\toffset\texists\tupdated_at\thead\tlag\towner\tlease_expires_at"
    );
    assert!(lines[1].starts_with("billing:orders:3\tbilling\torders:3\torders\t3\t1041\ttrue\t"));
    let table = env.ok(&["get", "billing", "orders:3"]);
    assert!(
        table.contains("CONSUMER") && table.contains("1041"),
        "{table}"
    );
    let nd = env.ok(&["get", "billing", "orders:3", "-o", "ndjson"]);
    assert_eq!(nd.lines().count(), 1);
}

fn an_absent_cursor_reads_as_zero_unless_it_must_exist(backend: Backend) {
    let env = Env::on(backend);
    let out = env.run(&["get", "billing", "orders:9", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let rec = json(&stdout(&out));
    assert_eq!(rec["offset"], 0);
    assert_eq!(rec["exists"], false);
    assert_eq!(rec["updated_at"], Value::Null);
    assert!(stderr(&out).contains("does not exist"));
    let err = env.fails(5, &["get", "billing", "orders:9", "--must-exist"]);
    assert!(err.contains("billing:orders:9"), "{err}");
}

fn listings_filter_by_consumer_channel_and_idle_time(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 1),
        ("billing", "orders:10", 2),
        ("billing", "orders:2", 3),
        ("billing", "refunds:0", 4),
        ("audit", "orders:0", 5),
    ]);
    let keys = |args: &[&str]| -> Vec<String> {
        let mut a = args.to_vec();
        a.extend(["-o", "ndjson"]);
        env.ok(&a)
            .lines()
            .map(|l| json(l)["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        keys(&["get"]),
        [
            "audit:orders:0",
            "billing:orders:0",
            "billing:orders:2",
            "billing:orders:10",
            "billing:refunds:0"
        ],
        "key order, partitions numerically"
    );
    assert_eq!(keys(&["get", "billing"]).len(), 4);
    assert_eq!(keys(&["get", "--channel", "orders"]).len(), 4);
    assert_eq!(
        keys(&["get", "billing", "--channel", "refunds"]),
        ["billing:refunds:0"]
    );
    assert!(keys(&["get", "--idle-for", "10m"]).is_empty());
    // Make one cursor look stuck for an hour.
    env.execute("UPDATE cursors SET updated_at = updated_at - 3600000 WHERE consumer = 'audit'");
    assert_eq!(keys(&["get", "--idle-for", "30m"]), ["audit:orders:0"]);
    let arr = json(&env.ok(&["get", "billing", "-o", "json"]));
    assert_eq!(arr.as_array().unwrap().len(), 4);
    assert_eq!(json(&env.ok(&["get", "nobody", "-o", "json"])), json("[]"));
    env.fails(5, &["get", "nobody", "--must-exist"]);
    let values = env.ok(&["get", "billing", "--channel", "orders", "-o", "value"]);
    assert_eq!(values, "1\n3\n2\n");
}

fn a_foreign_value_in_the_store_is_reported_not_overwritten(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:1", 5), ("billing", "orders:2", 6)]);
    // Past the CHECK constraint. PostgreSQL's column holds integers only:
    // there the foreign value is a negative one.
    let (sql, value) = match backend {
        Backend::Sqlite => (
            "PRAGMA ignore_check_constraints = ON;
             UPDATE cursors SET offset = 'garbage' WHERE partition = 1;",
            "garbage",
        ),
        Backend::Postgres => (
            // Below the store's rules too (no history row for the move).
            "ALTER TABLE cursors DROP CONSTRAINT cursors_offset_check;
             SET session_replication_role = replica;
             UPDATE cursors SET \"offset\" = -7 WHERE partition = 1;",
            "-7",
        ),
    };
    env.execute(sql);
    let before = env.dump();
    let err = env.fails(7, &["get", "billing", "orders:1"]);
    assert!(
        err.contains("invalid offset") && err.contains(value),
        "{err}"
    );
    let out = env.run(&["get", "billing", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "the valid cursor is still listed"
    );
    assert!(stderr(&out).contains("billing:orders:1"));
    env.fails(7, &["set", "billing", "orders:1", "9"]);
    env.fails(7, &["advance", "billing", "orders:1"]);
    assert_eq!(env.dump(), before);
}

fn updated_at_is_kept_for_writes_by_other_programs(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:1", 5)]);
    let updated_at = |key: &str| {
        env.store()
            .cursor(&cursorctl::CursorKey::parse(key).unwrap())
            .unwrap()
            .unwrap()
            .updated_at
            .unwrap()
    };
    env.execute("UPDATE cursors SET updated_at = 1000");
    env.execute("UPDATE cursors SET \"offset\" = 9");
    let at = updated_at("billing:orders:1");
    assert!(
        at > 1_700_000_000_000,
        "the trigger stamped the write: {at}"
    );
    env.execute(
        "INSERT INTO cursors (consumer, channel, partition, \"offset\") VALUES ('x', 'y', 0, 1)",
    );
    assert!(updated_at("x:y:0") > 1_700_000_000_000);
}

// ---- set and advance ------------------------------------------------------

fn set_and_advance_record_changes_with_user_and_reason(backend: Backend) {
    let env = Env::on(backend);
    let rec = json(&env.ok(&[
        "set", "billing", "orders:3", "100", "--create", "-o", "json",
    ]));
    assert_eq!(rec["status"], "created");
    assert_eq!(rec["old_offset"], Value::Null);
    assert_eq!(rec["new_offset"], 100);
    assert_eq!(rec["delta"], 100);
    for field in [
        "id",
        "key",
        "consumer",
        "partition_key",
        "old_offset",
        "new_offset",
        "delta",
        "status",
    ] {
        assert!(rec.get(field).is_some(), "missing {field}");
    }
    let rec = json(&env.ok(&[
        "advance", "billing", "orders:3", "-o", "json", "--reason", "poison",
    ]));
    assert_eq!(
        (rec["old_offset"].as_u64(), rec["new_offset"].as_u64()),
        (Some(100), Some(101))
    );
    assert_eq!(rec["status"], "advanced");
    let rec = json(&env.ok(&["advance", "billing", "orders:3", "--by", "9", "-o", "json"]));
    assert_eq!(rec["new_offset"], 110);
    let rec = json(&env.ok(&[
        "advance", "billing", "orders:3", "--to", "200", "-o", "json",
    ]));
    assert_eq!(rec["delta"], 90);
    let rec = json(&env.ok(&[
        "set",
        "billing",
        "orders:3",
        "50",
        "--allow-rewind",
        "--reason",
        "replay",
        "-o",
        "json",
    ]));
    assert_eq!(rec["status"], "rewound");
    assert_eq!(rec["delta"], -150);
    type Row = (Option<u64>, Option<u64>, String, Option<String>, String);
    let rows: Vec<Row> = env
        .history()
        .into_iter()
        .map(|r| (r.old_offset, r.new_offset, r.command, r.reason, r.user))
        .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0],
        (None, Some(100), "set".into(), None, "tester".into())
    );
    assert_eq!(
        rows[1],
        (
            Some(100),
            Some(101),
            "advance".into(),
            Some("poison".into()),
            "tester".into()
        )
    );
    assert_eq!(
        rows[4],
        (
            Some(200),
            Some(50),
            "set".into(),
            Some("replay".into()),
            "tester".into()
        )
    );
}

fn an_equal_offset_is_a_no_op_that_records_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let before = env.dump();
    let rec = json(&env.ok(&["set", "billing", "orders:3", "7", "-o", "json"]));
    assert_eq!(rec["status"], "unchanged");
    assert_eq!(rec["id"], Value::Null);
    env.ok(&["advance", "billing", "orders:3", "--by", "0"]);
    assert_eq!(env.dump(), before);
}

fn dry_run_shows_the_plan_and_writes_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let before = env.dump();
    // On SQLite the file's bytes too.
    let bytes = (backend == Backend::Sqlite).then(|| fs::read(&env.db).unwrap());
    let rec = json(&env.ok(&["set", "billing", "orders:3", "9", "--dry-run", "-o", "json"]));
    assert_eq!(rec["dry_run"], true);
    assert_eq!(rec["status"], "advanced");
    assert_eq!(rec["old_offset"], 7);
    assert_eq!(rec["delta"], 2);
    let rec = json(&env.ok(&[
        "advance",
        "new",
        "orders:3",
        "--create",
        "--dry-run",
        "-o",
        "json",
    ]));
    assert_eq!(rec["status"], "created");
    env.fails(4, &["set", "billing", "orders:3", "1", "--dry-run"]);
    env.fails(
        3,
        &[
            "set",
            "billing",
            "orders:3",
            "10",
            "--expect",
            "8",
            "--dry-run",
        ],
    );
    env.fails(5, &["set", "ghost", "orders:3", "10", "--dry-run"]);
    assert_eq!(env.dump(), before);
    if let Some(bytes) = bytes {
        assert_eq!(fs::read(&env.db).unwrap(), bytes);
    }
}

// ---- one test per exit code -----------------------------------------------

fn exit_0_success(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "a", "b:0", "1", "--create", "--reason", "first"]);
    // Exit 0 means the change is in the store, with its history row.
    assert_eq!(env.offset("a", "b:0"), Some(1));
    let rows: Vec<_> = env
        .history()
        .into_iter()
        .map(|r| (r.old_offset, r.new_offset, r.command, r.reason))
        .collect();
    assert_eq!(
        rows,
        [(None, Some(1), "set".to_owned(), Some("first".to_owned()))]
    );
}

fn exit_1_output_that_cannot_be_written(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("a", "b:0", 1)]);
    let before = env.dump();
    let devfull = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let out = env
        .std_cmd()
        .args(["get"])
        .stdout(devfull())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error") && !err.contains("panicked"), "{err}");
    // A read whose output failed changed nothing.
    assert_eq!(env.dump(), before);
    // A write whose change record cannot be printed is still committed,
    // exactly once: exit 1 is about the output, not the store.
    let out = env
        .std_cmd()
        .args(["advance", "a", "b:0"])
        .stdout(devfull())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(env.offset("a", "b:0"), Some(2));
    assert_eq!(env.history_len(), 2);
}

fn exit_2_usage_errors_write_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let before = env.dump();
    let cases: &[&[&str]] = &[
        &["set", "billing", "orders:3", "9223372036854775808"],
        &["set", "billing", "orders:3", "-1"],
        &["set", "billing", "orders:3", "+5"],
        &["set", "billing", "orders:3", "0x10"],
        &["set", "billing", "orders:3", "1.5"],
        &["set", "billing", "orders:3", ""],
        &["set", "bil:ling", "orders:3", "9"],
        &["set", "bil ling", "orders:3", "9"],
        &["set", "", "orders:3", "9"],
        &["set", "billing", "orders", "9"],
        &["set", "billing", "orders:x", "9"],
        &["set", "billing", "orders:4294967296", "9"],
        &["set", "billing", "orders:3", "1", "--allow-rewind"],
        &[
            "advance",
            "billing",
            "orders:3",
            "--by",
            "9223372036854775807",
        ],
        &["advance", "billing", "orders:3", "--by", "1", "--to", "9"],
        &["get", "--idle-for", "soon"],
        &["--busy-timeout", "forever", "get"],
        &["frobnicate"],
    ];
    for args in cases {
        let err = env.fails(2, args);
        assert!(!err.trim().is_empty(), "{args:?} printed no message");
    }
    let err = env.fails(2, &["set", "billing", "orders:3", "9223372036854775808"]);
    assert!(
        err.contains("9223372036854775807"),
        "the message names the limit: {err}"
    );
    let err = env.fails(
        2,
        &[
            "advance",
            "billing",
            "orders:3",
            "--by",
            "9223372036854775807",
        ],
    );
    assert!(err.contains("largest offset"), "{err}");
    assert_eq!(env.dump(), before);
}

fn exit_3_stale_expect_writes_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let before = env.dump();
    let out = env.run(&[
        "set", "billing", "orders:3", "9", "--expect", "6", "-o", "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
    let err = json(&stderr(&out));
    assert_eq!(err["error"]["code"], 3);
    assert_eq!(err["error"]["kind"], "stale");
    assert_eq!(err["error"]["expected"], 6);
    assert_eq!(err["error"]["actual"], 7);
    env.fails(3, &["advance", "billing", "orders:3", "--expect", "5"]);
    assert_eq!(env.dump(), before);
    env.ok(&["set", "billing", "orders:3", "9", "--expect", "7"]);
    assert_eq!(env.offset("billing", "orders:3"), Some(9));
}

fn exit_4_regression_writes_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let before = env.dump();
    let err = env.fails(4, &["set", "billing", "orders:3", "6"]);
    assert!(
        err.contains("regression") && err.contains("--allow-rewind"),
        "{err}"
    );
    env.fails(4, &["advance", "billing", "orders:3", "--to", "6"]);
    let out = env.run(&["set", "billing", "orders:3", "1", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(4));
    let err = json(&stderr(&out));
    assert_eq!(err["error"]["kind"], "regression");
    assert_eq!(err["error"]["current"], 7);
    assert_eq!(err["error"]["attempted"], 1);
    assert_eq!(env.dump(), before);
}

fn exit_5_writing_an_absent_cursor_needs_create(backend: Backend) {
    let env = Env::on(backend);
    let before = env.dump();
    let err = env.fails(5, &["set", "biling", "orders:3", "9"]);
    assert!(
        err.contains("biling:orders:3") && err.contains("--create"),
        "{err}"
    );
    env.fails(5, &["advance", "biling", "orders:3"]);
    assert_eq!(env.dump(), before);
}

fn exit_6_busy_store_writes_nothing_and_retry_works(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let before = env.dump();
    let locker = env.write_lock();
    let out = env.run(&[
        "--busy-timeout",
        "200ms",
        "advance",
        "billing",
        "orders:3",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert_eq!(json(&stderr(&out))["error"]["kind"], "busy");
    // Readers are not blocked by a writer (WAL mode, on SQLite).
    assert_eq!(
        env.ok(&["get", "billing", "orders:3", "-o", "value"]),
        "7\n"
    );
    locker.release();
    assert_eq!(env.dump(), before);
    env.ok(&["advance", "billing", "orders:3"]);
    assert_eq!(env.offset("billing", "orders:3"), Some(8));
}

// SQLite only: a directory as the store, and no -wal or -shm file made. On
// PostgreSQL a missing store is in read_commands_never_create_a_store, an
// unreachable server in postgres::unreachable_missing_and_foreign_stores_are_refused.
#[test]
fn exit_7_store_unusable() {
    let env = Env::empty();
    let listing = || {
        let mut names: Vec<_> = fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let err = env.fails(7, &["get"]);
    assert!(err.contains("no cursor store"), "{err}");
    env.fails(7, &["set", "a", "b:0", "1", "--create"]);
    // Nothing was created: not the store, nor its -wal or -shm files.
    assert!(listing().is_empty(), "{:?}", listing());
    let dir = env.dir.path().join("adir");
    fs::create_dir(&dir).unwrap();
    let err = env.fails(7, &["--db", dir.to_str().unwrap(), "get"]);
    assert!(err.contains("directory"), "{err}");
    env.fails(7, &["--db", dir.to_str().unwrap(), "advance", "a", "b:0"]);
    assert_eq!(listing(), ["adir"]);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "adir stays empty");
}

// ---- output plumbing --------------------------------------------------------

fn a_closed_pipe_ends_quietly(backend: Backend) {
    let env = Env::on(backend);
    env.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49999)
         INSERT INTO cursors (consumer, channel, partition, \"offset\") SELECT 'c', 'orders', i, i FROM n;",
    );
    let mut child = env
        .std_cmd()
        .args(["get", "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

// No store is opened: the arguments are refused first, whatever the backend.
#[test]
fn usage_errors_are_json_with_json_output() {
    let env = Env::new();
    let out = env.run(&["-o", "json", "set", "a", "b:1", "-3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = json(&stderr(&out));
    assert_eq!(err["error"]["kind"], "usage");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("negative"));
}

// No store is opened: help is the same whatever the backend.
#[test]
fn help_lists_the_exit_codes_and_examples() {
    let env = Env::empty();
    let help = env.ok(&["--help"]);
    for code in 0..=7 {
        assert!(
            help.contains(&format!("  {code}  ")),
            "exit code {code} missing:\n{help}"
        );
    }
    for cmd in [
        "init",
        "get",
        "set",
        "advance",
        "flush-sim",
        "history",
        "undo",
        "completions",
    ] {
        let help = env.ok(&[cmd, "--help"]);
        assert!(help.contains("Examples:"), "{cmd} --help has no examples");
    }
}

// ---- concurrency ------------------------------------------------------------

fn eight_processes_advancing_one_cursor_lose_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 0)]);
    let db = env.db_arg();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            thread::spawn(move || {
                for _ in 0..100 {
                    let out = Command::new(BIN)
                        .env_clear()
                        .env("CURSORCTL_DB", &db)
                        .args([
                            "--busy-timeout",
                            "30s",
                            "-q",
                            "advance",
                            "billing",
                            "orders:0",
                            "--by",
                            "1",
                        ])
                        .output()
                        .unwrap();
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(env.offset("billing", "orders:0"), Some(800));
    // 800 advances plus the row that created the cursor, and every
    // advance starts where the one before it ended.
    let history = env.history();
    assert_eq!(history.len(), 801);
    for (i, row) in history[1..].iter().enumerate() {
        let i = i as u64;
        assert_eq!(
            (row.command.as_str(), row.old_offset, row.new_offset),
            ("advance", Some(i), Some(i + 1)),
            "history row {}",
            row.id
        );
    }
}

/// Two processes write with the same `--expect`, and both are forced to be
/// inside the window at once: the store's write lock is held while they
/// start, and released only once both have the store open and are waiting
/// for it (on SQLite each holds the store's `-wal` file open; on
/// PostgreSQL the server shows both sessions waiting on a lock of the
/// store). Both therefore started from offset 10 before either wrote:
/// exactly one may win.
fn two_writers_with_the_same_expect_one_wins_one_is_stale(backend: Backend) {
    for round in 0..5 {
        let env = Env::on(backend);
        env.seed(&[("billing", "orders:0", 10)]);
        let lock = env.write_lock();
        let spawn = |to: &str| {
            env.std_cmd()
                .args(["--busy-timeout", "60s", "set", "billing", "orders:0", to])
                .args(["--expect", "10", "-q"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let mut a = spawn("11");
        let mut b = spawn("12");
        wait_until_both_wait_for_the_lock(&env, &[a.id(), b.id()]);
        for child in [&mut a, &mut b] {
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: a writer ended while the store was locked"
            );
        }
        lock.release();
        let codes = [
            a.wait_with_output().unwrap().status.code(),
            b.wait_with_output().unwrap().status.code(),
        ];
        let mut sorted = codes;
        sorted.sort();
        assert_eq!(sorted, [Some(0), Some(3)], "round {round}: {codes:?}");
        let winner = if codes[0] == Some(0) { 11 } else { 12 };
        assert_eq!(env.offset("billing", "orders:0"), Some(winner));
        assert_eq!(env.history_len(), 2);
    }
}

/// Wait until the processes `pids` have the store open and are held back
/// by the write lock another transaction holds (see the test above).
fn wait_until_both_wait_for_the_lock(env: &Env, pids: &[u32]) {
    let waiting = || -> usize {
        match env.pg_schema() {
            Some(schema) => {
                let sql = format!(
                    "SELECT count(DISTINCT l.pid) FROM pg_locks l \
                     WHERE NOT l.granted AND l.relation IN \
                     (SELECT oid FROM pg_class WHERE relnamespace = '{schema}'::regnamespace)"
                );
                let n: i64 = pg_admin().query_one(&sql, &[]).unwrap().get(0);
                usize::try_from(n).unwrap()
            }
            None => {
                let wal = format!("{}-wal", env.db.display());
                pids.iter()
                    .filter(|pid| {
                        fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                            fds.flatten().any(|fd| {
                                fs::read_link(fd.path()).is_ok_and(|to| to.to_string_lossy() == wal)
                            })
                        })
                    })
                    .count()
            }
        }
    };
    for _ in 0..600 {
        if waiting() == pids.len() {
            return;
        }
        thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the writers never both waited for the store's lock");
}

backend_tests!(
    init_creates_a_marked_store_and_is_idempotent,
    read_commands_never_create_a_store,
    a_newer_schema_is_refused_and_left_unchanged,
    get_one_cursor_in_every_format,
    an_absent_cursor_reads_as_zero_unless_it_must_exist,
    listings_filter_by_consumer_channel_and_idle_time,
    a_foreign_value_in_the_store_is_reported_not_overwritten,
    updated_at_is_kept_for_writes_by_other_programs,
    set_and_advance_record_changes_with_user_and_reason,
    an_equal_offset_is_a_no_op_that_records_nothing,
    dry_run_shows_the_plan_and_writes_nothing,
    exit_0_success,
    exit_1_output_that_cannot_be_written,
    exit_2_usage_errors_write_nothing,
    exit_3_stale_expect_writes_nothing,
    exit_4_regression_writes_nothing,
    exit_5_writing_an_absent_cursor_needs_create,
    exit_6_busy_store_writes_nothing_and_retry_works,
    a_closed_pipe_ends_quietly,
    eight_processes_advancing_one_cursor_lose_nothing,
    two_writers_with_the_same_expect_one_wins_one_is_stale,
);

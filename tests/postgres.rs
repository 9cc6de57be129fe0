//! The command line against a real PostgreSQL server, beyond the core,
//! pipeline and flush-sim suites (which run every case on PostgreSQL too,
//! concurrent writers from many processes included): row-lock waits,
//! refusals, roles, a connection cut during a bulk write, `copy-store` and
//! the operator commands of the second round. Each test has a PostgreSQL
//! schema of its own, dropped afterwards. Where no server is reachable the
//! tests fail, unless `CURSORCTL_TEST_PG=skip` (see `common::pg_available`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{pg_admin, pg_available, pg_url, require_tool, skip, Backend, Env, BIN};

/// A store in a schema of its own on the test server, dropped when the test
/// ends: an [`Env`] (`run`, `ok`, `fails`, `dump`, ...), its schema and URL.
struct Pg {
    env: Env,
    schema: String,
    url: String,
}

impl std::ops::Deref for Pg {
    type Target = Env;

    fn deref(&self) -> &Env {
        &self.env
    }
}

impl Pg {
    fn of(env: Env) -> Self {
        let schema = env.pg_schema().unwrap().to_owned();
        let url = env.db_arg().into_string().unwrap();
        Self { env, schema, url }
    }

    /// A schema name with nothing under it yet.
    fn empty() -> Option<Self> {
        pg_available().then(|| Self::of(Env::empty_on(Backend::Postgres)))
    }

    fn new() -> Option<Self> {
        pg_available().then(|| Self::of(Env::on(Backend::Postgres)))
    }

    /// The binary pointed at [`Pg::url`] (which a test may change).
    fn cmd(&self) -> Command {
        let mut cmd = self.env.std_cmd();
        cmd.env("CURSORCTL_DB", &self.url);
        cmd
    }

    fn offset(&self, consumer: &str, channel: &str, partition: i64) -> Option<i64> {
        pg_admin()
            .query_opt(
                &format!(
                    "SELECT \"offset\" FROM {}.cursors \
                     WHERE consumer = $1 AND channel = $2 AND partition = $3",
                    self.schema
                ),
                &[&consumer, &channel, &partition],
            )
            .unwrap()
            .map(|r| r.get(0))
    }
}

/// A row lock held by another session past `--busy-timeout` is exit 6,
/// and nothing is written.
#[test]
fn a_row_lock_held_past_the_busy_timeout_is_busy() {
    let Some(pg) = Pg::new() else { return };
    pg.ok(&["set", "billing", "orders:3", "5", "--create", "-q"]);
    let before = pg.dump();
    let mut holder = pg_admin();
    let mut tx = holder.transaction().unwrap();
    tx.execute(
        &format!(
            "SELECT * FROM {}.cursors WHERE consumer = 'billing' FOR UPDATE",
            pg.schema
        ),
        &[],
    )
    .unwrap();
    let started = Instant::now();
    let err = pg.fails(
        6,
        &["advance", "billing", "orders:3", "--busy-timeout", "300ms"],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(err.contains("busy"), "{err}");
    tx.rollback().unwrap();
    assert_eq!(pg.dump(), before);
    pg.ok(&["advance", "billing", "orders:3", "-q"]);
    assert_eq!(pg.offset("billing", "orders", 3), Some(6));
}

/// An unreachable server is exit 7, naming host and database, never the
/// password; a missing store is exit 7; a schema of another application is
/// refused by init and left as it is.
#[test]
fn unreachable_missing_and_foreign_stores_are_refused() {
    let Some(pg) = Pg::empty() else { return };
    let out = pg
        .cmd()
        .args(["--db", "postgres://ops:s3cret@127.0.0.1:1/cursors", "get"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:1/cursors"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let err = pg.fails(7, &["get"]);
    assert!(err.contains("no cursor store"), "{err}");
    assert!(err.contains(&pg.schema), "{err}");
    pg_admin()
        .batch_execute(&format!(
            "CREATE SCHEMA {0}; CREATE TABLE {0}.invoices (id int PRIMARY KEY)",
            pg.schema
        ))
        .unwrap();
    let err = pg.fails(7, &["init"]);
    assert!(err.contains("not a cursor store"), "{err}");
    let tables: i64 = pg_admin()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&pg.schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "init left the foreign schema as it was");
}

/// The GRANTs of docs/postgres-roles.sql: a viewer reads and cannot write,
/// a consumer checkpoints through the library but cannot write through the
/// command line (no history), an operator does everything. A forbidden
/// write is exit 7, "permission denied", and changes nothing.
#[test]
fn roles_get_what_the_guide_grants_and_nothing_more() {
    let Some(pg) = Pg::new() else { return };
    if !require_tool("psql") {
        return;
    }
    pg.ok(&["set", "billing", "orders:3", "5", "--create", "-q"]);
    let prefix = format!("{}_", pg.schema);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/postgres-roles.sql");
    let status = Command::new("psql")
        .args([
            &pg_url(),
            "-q",
            "-v",
            &format!("schema={}", pg.schema),
            "-v",
            &format!("prefix={prefix}"),
            "-f",
            script,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let mut client = pg_admin();
    let login = |role: &str| format!("{prefix}{role}_login");
    for role in ["viewer", "operator", "consumer"] {
        client
            .batch_execute(&format!(
                "CREATE ROLE {} LOGIN IN ROLE {prefix}{role}",
                login(role)
            ))
            .unwrap();
    }
    let as_role = |role: &str| {
        let url = pg.url.replacen("root@", &format!("{}@", login(role)), 1);
        move |args: &[&str]| {
            Command::new(BIN)
                .env_clear()
                .env("CURSORCTL_DB", &url)
                .args(args)
                .output()
                .unwrap()
        }
    };
    let before = pg.dump();
    let viewer = as_role("viewer");
    assert_eq!(
        viewer(&["get", "billing", "orders:3", "-o", "value"]).stdout,
        b"5\n"
    );
    assert_eq!(viewer(&["history"]).status.code(), Some(0));
    let refused = viewer(&["advance", "billing", "orders:3"]);
    assert_eq!(refused.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("permission denied"));
    let consumer = as_role("consumer");
    let refused = consumer(&["advance", "billing", "orders:3"]);
    assert_eq!(refused.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("permission denied"));
    assert_eq!(pg.dump(), before, "refused writes changed nothing");
    // The consumer's own path: a compare-and-swap through the library.
    let consumer_url: cursorctl::StoreLocation = pg
        .url
        .replacen("root@", &format!("{}@", login("consumer")), 1)
        .parse()
        .unwrap();
    let store = cursorctl::store::open(
        &consumer_url,
        cursorctl::Access::ReadWrite,
        Duration::from_secs(5),
    )
    .unwrap();
    let mut cursor = cursorctl::ConsumerCursor::resume("billing", "orders:3", &*store).unwrap();
    cursor.checkpoint(&*store, 6).unwrap();
    assert_eq!(pg.offset("billing", "orders", 3), Some(6));
    let operator = as_role("operator");
    assert_eq!(
        operator(&["advance", "billing", "orders:3", "-q"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        operator(&["undo", "2", "--reason", "test", "-q"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(pg.offset("billing", "orders", 3), Some(6));
    let role: String = client
        .query_one(
            &format!("SELECT role FROM {}.history WHERE id = 2", pg.schema),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        role,
        login("operator"),
        "the history records the database role"
    );
    for role in ["viewer", "operator", "consumer"] {
        let _ = client.batch_execute(&format!(
            "DROP ROLE {0}; DROP OWNED BY {prefix}{role}; DROP ROLE {prefix}{role}",
            login(role)
        ));
    }
}

/// The connection of a bulk write is terminated by the server while the
/// write runs: exit 7, and the store holds the old state or the new one,
/// never a mix. A few trials of 20,000 lines here; 50 trials of 200,000
/// lines in the long test below.
#[test]
fn a_bulk_write_whose_connection_is_cut_writes_all_or_nothing() {
    terminate_during_bulk_writes(20_000, 5);
}

/// 50 trials of a 200,000-line bulk write whose connection is terminated
/// at a random point: each is all or nothing, exit 7. Long: CI runs it with
/// `--ignored`.
#[test]
#[ignore = "long: about five minutes; CI runs it with --ignored"]
fn fifty_bulk_writes_of_200k_lines_cut_by_the_server_write_all_or_nothing() {
    terminate_during_bulk_writes(200_000, 50);
}

fn terminate_during_bulk_writes(lines: usize, trials: u64) {
    let Some(mut pg) = Pg::new() else { return };
    // A name of its own, so that only this test's connection is cut.
    let app = format!("bulk_{}", pg.schema);
    pg.url.push_str(&format!("&application_name={app}"));
    let dir = tempfile::tempdir().unwrap();
    let input = |offset: u32| {
        let path = dir.path().join(format!("to-{offset}.csv"));
        let mut text = String::from("consumer,partition_key,offset\n");
        for i in 0..lines {
            text.push_str(&format!("c,o:{i},{offset}\n"));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let (seed, bump) = (input(1), input(2));
    let run = |path: &std::path::Path, extra: &[&str]| {
        pg.cmd()
            .args(["set", "--from-file"])
            .arg(path)
            .args(extra)
            .args(["-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    let out = run(&seed, &["--create"]).wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // How long a whole write takes here: the cut falls at a random point
    // within it.
    let whole = started.elapsed();
    let counts = || -> (i64, i64, i64) {
        let row = pg_admin()
            .query_one(
                &format!(
                    "SELECT (SELECT count(*) FILTER (WHERE \"offset\" = 1) FROM {0}.cursors), \
                            (SELECT count(*) FILTER (WHERE \"offset\" = 2) FROM {0}.cursors), \
                            (SELECT count(*) FROM {0}.history)",
                    pg.schema
                ),
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    let lines = lines as i64;
    let mut random = u64::from(std::process::id()) | 1;
    let (mut cut, mut finished) = (0, 0);
    for trial in 0..trials {
        let before = counts();
        assert_eq!((before.0, before.1), (lines, 0), "trial {trial}: not reset");
        let child = run(&bump, &[]);
        // xorshift: a cut anywhere from the start to the end of a write.
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let at = whole.mul_f64((random % 1000) as f64 / 1000.0);
        std::thread::sleep(at);
        let terminated: i64 = pg_admin()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0);
        let out = child.wait_with_output().unwrap();
        let after = counts();
        match out.status.code() {
            Some(0) => {
                finished += 1;
                assert_eq!(after, (0, lines, before.2 + lines), "trial {trial}");
            }
            Some(7) => {
                assert!(terminated > 0, "trial {trial}");
                cut += 1;
                let err = String::from_utf8_lossy(&out.stderr);
                // Cut in the transaction, or (rarely) while connecting or
                // reading the header before the transaction began.
                assert!(
                    err.contains("rolled back")
                        || err.contains("connecting to PostgreSQL")
                        || err.contains("reading the store header"),
                    "trial {trial}: {err}"
                );
                assert_eq!(after, before, "trial {trial}: not the old state");
            }
            other => panic!(
                "trial {trial}: exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
        if after.1 != 0 {
            // Back to the old state for the next trial.
            pg_admin()
                .batch_execute(&format!(
                    // Below the store's rules (no history row for the move).
                    "SET session_replication_role = replica; UPDATE {}.cursors SET \"offset\" = 1",
                    pg.schema
                ))
                .unwrap();
        }
    }
    eprintln!(
        "bulk writes of {lines} lines: {cut} of {trials} cut mid-write, {finished} finished first \
         (a whole write took {whole:?})"
    );
    assert!(cut > 0, "no trial cut a write while it ran");
}

/// A bulk write whose cursors other writers move while it runs (under
/// SERIALIZABLE, where the server aborts it) runs again from the first line
/// and commits once they stop: every line lands, in one batch, after the
/// other writers' changes.
#[test]
fn a_bulk_write_aborted_by_a_serializable_conflict_runs_again() {
    let Some(mut pg) = Pg::new() else { return };
    pg.url
        .push_str("&options=-c%20default_transaction_isolation%3Dserializable");
    const LINES: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, offset: u32| {
        let path = dir.path().join(name);
        let mut text = String::from("consumer,partition_key,offset\n");
        for i in 0..LINES {
            text.push_str(&format!("c,o:{i},{offset}\n"));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let seed = write("seed.csv", 1);
    let target = write("target.csv", 500);
    let out = pg
        .cmd()
        .args(["-q", "set", "--create", "--from-file"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another writer advances the last cursor while the bulk write runs.
    let last = format!("o:{}", LINES - 1);
    let bulk = pg
        .cmd()
        .args(["--busy-timeout", "60s", "set", "--from-file"])
        .arg(&target)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut advanced = 0;
    let started = Instant::now();
    while advanced < 40 && started.elapsed() < Duration::from_secs(30) {
        let out = pg.run(&["-q", "advance", "c", &last]);
        if out.status.code() == Some(0) {
            advanced += 1;
        }
    }
    let out = bulk.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("ran ") && err.contains(" times"),
        "no run again: {err}"
    );
    let row = pg_admin()
        .query_one(
            &format!(
                "SELECT count(*) FILTER (WHERE \"offset\" = 500), \
                        (SELECT count(*) FROM {0}.history WHERE command = 'set'), \
                        (SELECT count(*) FROM {0}.history WHERE command = 'advance'), \
                        (SELECT count(*) FROM {0}.batches) \
                 FROM {0}.cursors",
                pg.schema
            ),
            &[],
        )
        .unwrap();
    let (at_target, set_rows, advance_rows, batches): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(
        at_target, LINES as i64,
        "every cursor holds the bulk's offset"
    );
    assert_eq!(set_rows, 2 * LINES as i64, "the seed and one committed run");
    assert_eq!(advance_rows, advanced);
    assert_eq!(batches, 2);
}

/// Under READ COMMITTED: a bulk write line without `expect` whose cursor
/// another session changes after the write read it (the write waits on the
/// row lock, then finds the offset moved) makes the write run again rather
/// than fail as stale, as a single `set` without `--expect` retries.
#[test]
fn a_bulk_write_that_finds_a_cursor_moved_after_reading_it_runs_again() {
    let Some(mut pg) = Pg::new() else { return };
    let app = format!("raced_{}", pg.schema);
    pg.url.push_str(&format!("&application_name={app}"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moves.csv");
    let mut text = String::from("consumer,partition_key,offset\n");
    for i in 0..100 {
        text.push_str(&format!("c,o:{i},50\n"));
    }
    std::fs::write(&path, &text).unwrap();
    pg.ok(&[
        "-q",
        "set",
        "--create",
        "--from-file",
        path.to_str().unwrap(),
    ]);
    std::fs::write(&path, text.replace(",50\n", ",70\n")).unwrap();
    // Another session moves o:99 and holds its row lock, uncommitted.
    let mut other = pg_admin();
    let mut txn = other.transaction().unwrap();
    txn.execute(
        &format!(
            "UPDATE {}.cursors SET \"offset\" = 60 WHERE partition = 99",
            pg.schema
        ),
        &[],
    )
    .unwrap();
    let bulk = pg
        .cmd()
        .args(["--busy-timeout", "30s", "set", "--from-file"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the bulk write waits for that row lock, commit the move.
    let started = Instant::now();
    loop {
        let waiting: i64 = pg_admin()
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&app],
            )
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the bulk write never waited"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    txn.commit().unwrap();
    let out = bulk.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("ran 2 times"), "{err}");
    let row = pg_admin()
        .query_one(
            &format!(
                "SELECT count(*) FILTER (WHERE \"offset\" = 70), \
                        (SELECT old_offset FROM {0}.history WHERE partition = 99 \
                         ORDER BY id DESC LIMIT 1) \
                 FROM {0}.cursors",
                pg.schema
            ),
            &[],
        )
        .unwrap();
    let (moved, old): (i64, Option<i64>) = (row.get(0), row.get(1));
    assert_eq!(moved, 100);
    assert_eq!(
        old,
        Some(60),
        "the change records the offset the other session wrote"
    );
}

/// `copy-store` moves a store from SQLite to PostgreSQL and back: every
/// cursor, change and batch arrives with its id and times, new ids follow
/// the copied ones, and a destination that is not empty is refused and
/// left as it is.
#[test]
fn copy_store_moves_a_store_to_postgres_and_back() {
    let Some(pg) = Pg::empty() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = |db: &str, args: &[&str]| {
        Command::new(BIN)
            .env_clear()
            .env("USER", "tester")
            .env("CURSORCTL_DB", db)
            .args(args)
            .output()
            .unwrap()
    };
    let ok = |db: &str, args: &[&str]| {
        let out = run(db, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = sqlite("first.db");
    ok(&first, &["init", "-q"]);
    ok(
        &first,
        &["set", "billing", "orders:3", "10", "--create", "-q"],
    );
    ok(
        &first,
        &["advance", "billing", "orders:3", "--by", "5", "-q"],
    );
    let mut bulk = pg.cmd();
    bulk.env("CURSORCTL_DB", &first)
        .args(["set", "--from-file", "-", "--create", "-q"])
        .stdin(Stdio::piped());
    let mut child = bulk.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for i in 0..50 {
            writeln!(
                stdin,
                "{{\"key\":\"alerts:audit:{i}\",\"offset\":{}}}",
                i * 7
            )
            .unwrap();
        }
    }
    assert!(child.wait().unwrap().success());
    let listing = |db: &str| ok(db, &["get", "-o", "ndjson"]);
    // The changes without the role (the copier's on PostgreSQL; none on
    // SQLite).
    let history = |db: &str| {
        ok(db, &["history", "-o", "ndjson"])
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("role");
                v
            })
            .collect::<Vec<_>>()
    };
    let copied = ok(&first, &["copy-store", "--to", &pg.url, "-o", "json"]);
    let record: serde_json::Value = serde_json::from_str(&copied).unwrap();
    assert_eq!(record["cursors"], 51);
    assert_eq!(record["changes"], 52);
    assert_eq!(record["batches"], 1);
    assert_eq!(listing(&pg.url), listing(&first));
    assert_eq!(history(&pg.url), history(&first));
    // New ids continue after the copied ones.
    let change = ok(&pg.url, &["advance", "billing", "orders:3", "-o", "json"]);
    let change: serde_json::Value = serde_json::from_str(&change).unwrap();
    assert_eq!(change["id"], 53);
    let back = sqlite("back.db");
    ok(&pg.url, &["copy-store", "--to", &back, "-q"]);
    assert_eq!(listing(&back), listing(&pg.url));
    assert_eq!(history(&back), history(&pg.url));
    // Undo works on the copy: ids and batches came along.
    ok(&back, &["undo", "--batch", "1", "--reason", "test", "-q"]);
    // A destination that holds anything is refused and left as it is.
    let before = pg.dump();
    let out = run(&first, &["copy-store", "--to", &pg.url]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert_eq!(pg.dump(), before);
    let out = run(&first, &["copy-store", "--to", &first]);
    assert_eq!(out.status.code(), Some(2));
}

/// The operator commands of the second round on PostgreSQL: describe,
/// copy, delete, snapshot save / restore, undo --since, history prune.
#[test]
fn operator_commands_work_on_postgres() {
    let Some(pg) = Pg::new() else { return };
    for (pk, offset) in [("orders:1", "5"), ("orders:2", "0"), ("audit:1", "7")] {
        pg.ok(&["set", "old", pk, offset, "--create", "-q"]);
    }
    let describe = pg.ok(&["describe", "old", "-o", "json", "--idle-for", "0s"]);
    let describe: serde_json::Value = serde_json::from_str(&describe).unwrap();
    assert_eq!(describe[0]["cursors"], 3);
    assert_eq!(describe[0]["channels"], 2);
    assert_eq!(describe[0]["highest_offset"], 7);
    pg.ok(&["snapshot", "save", "before", "old", "-q"]);
    pg.ok(&["copy", "old", "new", "--create", "-q"]);
    assert_eq!(pg.offset("new", "audit", 1), Some(7));
    let before = pg.dump();
    pg.fails(2, &["delete", "old"]);
    assert_eq!(pg.dump(), before, "a refused delete writes nothing");
    pg.ok(&[
        "delete",
        "old",
        "--channel",
        "orders",
        "--reason",
        "stale",
        "-q",
    ]);
    assert_eq!(pg.offset("old", "orders", 1), None);
    pg.ok(&["snapshot", "restore", "before", "--reason", "back", "-q"]);
    assert_eq!(pg.offset("old", "orders", 1), Some(5));
    let show = pg.ok(&["snapshot", "show", "before", "-o", "ndjson"]);
    assert!(show.lines().all(|l| l.contains("\"same\"")), "{show}");
    let since = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    std::thread::sleep(Duration::from_millis(50));
    pg.ok(&["advance", "new", "orders:1", "--by", "3", "-q"]);
    pg.ok(&["undo", "--since", &since, "--reason", "r", "-q"]);
    assert_eq!(pg.offset("new", "orders", 1), Some(5));
    let prune = pg.ok(&[
        "history",
        "prune",
        "--before",
        "1d",
        "--dry-run",
        "-o",
        "json",
    ]);
    let prune: serde_json::Value = serde_json::from_str(&prune).unwrap();
    assert_eq!(prune["changes"], 0, "nothing is a day old");
}

/// Whether the test server has TLS on (`ssl = on`).
fn server_has_tls() -> bool {
    let ssl: String = pg_admin().query_one("SHOW ssl", &[]).unwrap().get(0);
    ssl == "on" || skip("the PostgreSQL test server has ssl = off")
}

/// The server's certificate file (`ssl_cert_file`), when it can be read
/// where the tests run.
fn server_certificate() -> Option<PathBuf> {
    let mut admin = pg_admin();
    let file: String = admin.query_one("SHOW ssl_cert_file", &[]).unwrap().get(0);
    let data: String = admin.query_one("SHOW data_directory", &[]).unwrap().get(0);
    let path = Path::new(&data).join(file);
    if std::fs::read(&path).is_ok() {
        Some(path)
    } else {
        skip(&format!(
            "the server's certificate {} cannot be read here",
            path.display()
        ));
        None
    }
}

/// From now on every change of this store records, in a `security` column
/// added to its history row, what the server's `pg_stat_ssl` says of the
/// session that wrote it (`tls TLSv1.3`, or `plain`): the server's own view
/// of the connection, read back by the tests.
fn record_session_security(pg: &Pg) {
    pg_admin()
        .batch_execute(&format!(
            "CREATE FUNCTION {0}.session_security() RETURNS text LANGUAGE sql AS \
             $$ SELECT CASE WHEN ssl THEN 'tls ' || version ELSE 'plain' END \
                FROM pg_stat_ssl WHERE pid = pg_backend_pid() $$; \
             ALTER TABLE {0}.history ADD COLUMN security text DEFAULT {0}.session_security()",
            pg.schema
        ))
        .unwrap();
    pg.ok(&["set", "billing", "orders:3", "0", "--create", "-q"]);
}

/// `cursorctl --db URL ...` with these variables besides the test's own.
fn run_at(pg: &Pg, url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    pg.cmd()
        .envs(env.iter().copied())
        .args(["--db", url])
        .args(args)
        .output()
        .unwrap()
}

/// Advance the cursor through `url`, and say what the server saw of the
/// session that wrote the change.
fn security_of_a_write(pg: &Pg, url: &str, env: &[(&str, &str)]) -> String {
    let out = run_at(pg, url, env, &["advance", "billing", "orders:3", "-q"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{url} {env:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    pg_admin()
        .query_one(
            &format!(
                "SELECT security FROM {}.history ORDER BY id DESC LIMIT 1",
                pg.schema
            ),
            &[],
        )
        .unwrap()
        .get(0)
}

/// A refused connection through `url`: exit 7, and the message.
fn refused_at(pg: &Pg, url: &str, env: &[(&str, &str)]) -> String {
    let out = run_at(pg, url, env, &["advance", "billing", "orders:3", "-q"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(7), "{url} {env:?}: {err}");
    err
}

/// `prefer` (also the default) and `require` encrypt the session against
/// a server with TLS on, `disable` does not; `PGSSLMODE` counts when the
/// location names no mode. What the server saw of each session decides.
#[test]
fn sessions_are_encrypted_as_sslmode_asks() {
    let Some(pg) = Pg::new() else { return };
    if !server_has_tls() {
        return;
    }
    record_session_security(&pg);
    let with = |params: &str| format!("{}&{params}", pg.url);
    /// A location, the variables besides it, and whether the session is
    /// encrypted.
    type Case<'a> = (String, &'a [(&'a str, &'a str)], bool);
    let cases: [Case; 7] = [
        (pg.url.clone(), &[], true),
        (with("sslmode=prefer"), &[], true),
        (with("sslmode=require"), &[], true),
        (with("sslmode=disable"), &[], false),
        (pg.url.clone(), &[("PGSSLMODE", "disable")], false),
        (pg.url.clone(), &[("PGSSLMODE", "require")], true),
        (with("sslmode=require"), &[("PGSSLMODE", "disable")], true),
    ];
    for (url, env, encrypted) in cases {
        let seen = security_of_a_write(&pg, &url, env);
        if encrypted {
            assert!(seen.starts_with("tls "), "{url} {env:?}: {seen}");
        } else {
            assert_eq!(seen, "plain", "{url} {env:?}");
        }
    }
}

/// `verify-ca` trusts the authorities of `sslrootcert` (the test server's
/// self-signed certificate is its own authority), `verify-full` also wants
/// the certificate to name the host, an authority that did not sign the
/// certificate is refused, and so is `require` once libpq's
/// `~/.postgresql/root.crt` names such an authority. Every refusal is
/// exit 7, names the server and database, and writes nothing.
#[test]
fn server_certificates_are_verified_as_sslmode_asks() {
    let Some(pg) = Pg::new() else { return };
    if !server_has_tls() {
        return;
    }
    let Some(cert) = server_certificate() else {
        return;
    };
    record_session_security(&pg);
    let cert = cert.display().to_string();
    let unrelated = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/unrelated-ca.pem");
    let with = |params: &str| format!("{}&{params}", pg.url);
    let verified = |url: &str, env: &[(&str, &str)]| {
        let seen = security_of_a_write(&pg, url, env);
        assert!(seen.starts_with("tls "), "{url} {env:?}: {seen}");
    };

    verified(&with(&format!("sslmode=verify-ca&sslrootcert={cert}")), &[]);
    verified(&with("sslmode=verify-ca"), &[("PGSSLROOTCERT", &cert)]);
    verified(&with(&format!("sslmode=require&sslrootcert={cert}")), &[]);
    let changes = pg.history_len();

    // The certificate names a host name, not 127.0.0.1.
    let err = refused_at(
        &pg,
        &with(&format!("sslmode=verify-full&sslrootcert={cert}")),
        &[],
    );
    assert!(
        err.contains("the server's certificate could not be verified (sslmode=verify-full)"),
        "{err}"
    );
    assert!(
        err.contains("does not name the host connected to (127.0.0.1)"),
        "{err}"
    );
    assert!(err.contains("127.0.0.1:5432/test"), "{err}");
    // Where it names localhost (Debian's certificate does), verify-full
    // passes through that name.
    let names: Vec<&str> = err
        .split("it names ")
        .nth(1)
        .map(|n| n.lines().next().unwrap_or("").split(", ").collect())
        .unwrap_or_default();
    if names.contains(&"localhost") && pg.url.contains("@127.0.0.1:") {
        let by_name = pg.url.replacen("@127.0.0.1:", "@localhost:", 1);
        verified(
            &format!("{by_name}&sslmode=verify-full&sslrootcert={cert}"),
            &[],
        );
    } else {
        skip(&format!(
            "verify-full by name is not checked: the server's certificate names {names:?}, not localhost"
        ));
    }
    let changes_by_name = pg.history_len() - changes;

    // Without sslrootcert, the system's authorities: 127.0.0.1 is not named
    // (or the certificate is not trusted at all).
    let err = refused_at(&pg, &with("sslmode=verify-full"), &[]);
    assert!(
        err.contains("the server's certificate could not be verified (sslmode=verify-full)"),
        "{err}"
    );

    let err = refused_at(
        &pg,
        &with(&format!("sslmode=verify-ca&sslrootcert={unrelated}")),
        &[],
    );
    assert!(
        err.contains("the server's certificate could not be verified (sslmode=verify-ca)"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "not signed by an authority trusted here (the certificates in {unrelated})"
        )),
        "{err}"
    );
    assert!(err.contains("127.0.0.1:5432/test"), "{err}");

    // libpq's default root certificate file makes require verify the
    // chain; prefer verifies nothing.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::copy(unrelated, home.path().join(".postgresql/root.crt")).unwrap();
    let home = home.path().to_str().unwrap();
    let err = refused_at(&pg, &with("sslmode=require"), &[("HOME", home)]);
    assert!(
        err.contains("the server's certificate could not be verified (sslmode=require)"),
        "{err}"
    );
    assert!(err.contains(".postgresql/root.crt"), "{err}");
    verified(&with("sslmode=prefer"), &[("HOME", home)]);

    let err = refused_at(
        &pg,
        &with("sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem"),
        &[],
    );
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    assert!(err.contains("127.0.0.1:5432/test"), "{err}");

    assert_eq!(
        pg.history_len(),
        changes + changes_by_name + 1,
        "only the verified sessions wrote"
    );
}

/// An unknown `sslmode` (in the location or in `PGSSLMODE`),
/// `sslrootcert=system` with a mode weaker than verify-full and a client
/// certificate are refused before any connection is tried: bad arguments
/// in the location, exit 2, never the password.
#[test]
fn unknown_sslmodes_are_refused_before_connecting() {
    // Nothing listens on port 1: a message about the mode proves that no
    // connection was tried.
    let base = "postgres://ops:s3cret@127.0.0.1:1/cursors";
    for (db, env, expected) in [
        (
            format!("{base}?sslmode=verify"),
            None,
            "invalid sslmode \"verify\": use disable, prefer, require, verify-ca or verify-full",
        ),
        (
            base.to_owned(),
            Some("on"),
            "invalid PGSSLMODE \"on\": use disable, prefer, require, verify-ca or verify-full",
        ),
        (
            format!("{base}?sslrootcert=system&sslmode=require"),
            None,
            "sslrootcert=system needs sslmode=verify-full, not require",
        ),
        (
            format!("{base}?sslcert=client.pem&sslkey=client.key"),
            None,
            "invalid PostgreSQL connection string: unknown option `sslcert`",
        ),
    ] {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().args(["--db", &db, "get"]);
        if let Some(mode) = env {
            cmd.env("PGSSLMODE", mode);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{db}: {err}");
        assert!(err.contains(expected), "{db}: {err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}

/// A libpq `key=value` connection string is a PostgreSQL location as a URL
/// is: `init`, writes and reads work through it, `schema=` picks the
/// schema, and a refused connection names host and database but never the
/// password.
#[test]
fn key_value_connection_strings_are_postgres_locations() {
    if !pg_available() {
        return;
    }
    let schema = crate::common::PgSchema::new("kv");
    let config: ::postgres::Config = pg_url().parse().unwrap();
    let host = match &config.get_hosts()[0] {
        ::postgres::config::Host::Tcp(h) => h.clone(),
        ::postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let location = format!(
        "host={host} port={port} user={} dbname='{}' schema={}",
        config.get_user().unwrap_or("postgres"),
        config.get_dbname().unwrap_or("test"),
        schema.name
    );
    let run = |location: &str, args: &[&str]| {
        Command::new(BIN)
            .env_clear()
            .env("NO_COLOR", "1")
            .env("USER", "tester")
            .env("CURSORCTL_DB", location)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&location, &["init"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &location,
        &["-q", "set", "billing", "orders:3", "42", "--create"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&location, &["get", "billing", "orders:3", "-o", "value"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    let tables: i64 = schema
        .admin()
        .query_one("SELECT count(*) FROM cursors WHERE \"offset\" = 42", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "the write went to the schema named");
    // Nothing listens on port 1.
    let refused = format!(
        "host=127.0.0.1 port=1 user=ops password='s3cret phrase' dbname=platform connect_timeout=2 schema={}",
        schema.name
    );
    let out = run(&refused, &["get"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("127.0.0.1:1/platform"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

/// Run the binary against `url` with a clean environment and empty stdin;
/// one that runs a minute is killed and fails the test (a hang).
fn run_timed(url: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .envs(env.iter().copied())
        .args(["--db", url])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cursorctl");
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("cursorctl {args:?} against {url} still runs after a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    (child.wait_with_output().unwrap(), took)
}

/// A port where nothing listens (no server needed): `get`, `advance` and a
/// bulk write are exit 7 at once, naming host, port and database, never
/// the password.
#[test]
fn nothing_listening_is_exit_7_naming_the_server_without_the_password() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://ops:s3cret-word@127.0.0.1:{port}/cursors?connect_timeout=5");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bulk.ndjson");
    std::fs::write(&input, "{\"key\":\"billing:orders:3\",\"offset\":7}\n").unwrap();
    let input = input.to_str().unwrap();
    for args in [
        &["get"][..],
        &["advance", "billing", "orders:3"],
        &["set", "--from-file", input, "--create"],
        &["get", "-o", "json"],
    ] {
        let (out, took) = run_timed(&url, args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(7), "{args:?}: {err}");
        assert!(err.contains(&format!("127.0.0.1:{port}/cursors")), "{err}");
        assert!(!err.contains("s3cret-word"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(took < Duration::from_secs(30), "{args:?} took {took:?}");
    }
}

/// A server that accepts the connection and never answers (a hung server,
/// a proxy with nothing behind it): the connect timeout bounds the whole
/// connection, the login included, not only the TCP connect. From the URL
/// and from `PGCONNECT_TIMEOUT`. The bounds are generous: a loaded machine
/// is slow, but never waits for an answer that does not come.
#[test]
fn a_server_that_never_answers_is_exit_7_within_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept every connection and keep it open, silent, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => held.push(stream),
                Err(_) => break,
            }
        }
    });
    let base = format!("postgres://ops:s3cret-word@127.0.0.1:{port}/cursors");
    for (url, env) in [
        (format!("{base}?connect_timeout=1"), &[][..]),
        (base.clone(), &[("PGCONNECT_TIMEOUT", "1")][..]),
    ] {
        let (out, took) = run_timed(&url, &["get"], env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(7), "{url} {env:?}: {err}");
        assert!(err.contains(&format!("127.0.0.1:{port}/cursors")), "{err}");
        assert!(err.contains("connect timeout"), "{err}");
        assert!(!err.contains("s3cret-word"), "{err}");
        assert!(
            took >= Duration::from_millis(900),
            "{env:?}: gave up after {took:?}, before the connect timeout"
        );
        assert!(took < Duration::from_secs(10), "{env:?}: took {took:?}");
    }
}

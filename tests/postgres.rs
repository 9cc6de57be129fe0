//! The command line against a real PostgreSQL server: concurrent writers
//! from many processes, lock waits, refusals, roles, and a connection cut
//! during a bulk write. Each test has a PostgreSQL schema of its own,
//! dropped afterwards. Where no server is reachable the tests say they were
//! skipped, except under CI, where that is a failure.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::common::{pg_admin, pg_available, pg_url, BIN};

/// A schema of its own on the test server, dropped when the test ends.
struct Pg {
    schema: String,
    url: String,
}

impl Pg {
    fn empty() -> Option<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        if !pg_available() {
            return None;
        }
        let schema = format!(
            "cli_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let url = format!("{}?schema={schema}", pg_url());
        Some(Self { schema, url })
    }

    fn new() -> Option<Self> {
        let pg = Self::empty()?;
        pg.ok(&["init"]);
        Some(pg)
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("NO_COLOR", "1")
            .env("USER", "tester")
            .env("CURSORCTL_DB", &self.url);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run cursorctl")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "cursorctl {args:?}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "cursorctl {args:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Every row of every table of the store, as text.
    fn dump(&self) -> String {
        let mut client = pg_admin();
        let mut out = String::new();
        for table in ["cursors", "history", "batches", "meta"] {
            let rows = client
                .query(
                    &format!("SELECT t::text FROM {}.{table} t ORDER BY 1", self.schema),
                    &[],
                )
                .unwrap();
            for row in rows {
                out.push_str(&format!("{table}|{}\n", row.get::<_, String>(0)));
            }
        }
        out
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

    fn history_len(&self) -> i64 {
        pg_admin()
            .query_one(
                &format!("SELECT count(*) FROM {}.history", self.schema),
                &[],
            )
            .unwrap()
            .get(0)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = pg_admin().batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

/// Eight processes each advance one cursor by 1, a hundred times: the
/// cursor ends at 800, with 800 advances in the history (and its creation).
#[test]
fn eight_processes_advancing_one_cursor_lose_nothing() {
    let Some(pg) = Pg::new() else { return };
    pg.ok(&["set", "billing", "orders:3", "0", "--create", "-q"]);
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let url = pg.url.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let out = Command::new(BIN)
                        .env_clear()
                        .env("CURSORCTL_DB", &url)
                        .args([
                            "advance",
                            "billing",
                            "orders:3",
                            "-q",
                            "--busy-timeout",
                            "60s",
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
    assert_eq!(pg.offset("billing", "orders", 3), Some(800));
    assert_eq!(pg.history_len(), 801);
    // Every advance starts where the one before it ended.
    let rows = pg_admin()
        .query(
            &format!(
                "SELECT old_offset, new_offset FROM {}.history WHERE command = 'advance' ORDER BY id",
                pg.schema
            ),
            &[],
        )
        .unwrap();
    for (i, row) in rows.iter().enumerate() {
        let (old, new): (i64, i64) = (row.get(0), row.get(1));
        assert_eq!((old, new), (i as i64, i as i64 + 1));
    }
}

/// Two processes race `set --expect` from the same offset: exactly one
/// wins, the other is stale (exit 3) and writes nothing.
#[test]
fn racing_expect_writers_have_one_winner() {
    let Some(pg) = Pg::new() else { return };
    pg.ok(&["set", "billing", "orders:3", "10", "--create", "-q"]);
    for round in 0..5i64 {
        let from = 10 + round * 10;
        let children: Vec<_> = (1..=2)
            .map(|n| {
                pg.cmd()
                    .args([
                        "set",
                        "billing",
                        "orders:3",
                        &(from + n).to_string(),
                        "--expect",
                        &from.to_string(),
                        "-q",
                    ])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let codes: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().status.code())
            .collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(sorted, [Some(0), Some(3)], "round {round}");
        let now = pg.offset("billing", "orders", 3).unwrap();
        assert!(now == from + 1 || now == from + 2);
        pg.ok(&["set", "billing", "orders:3", &(from + 10).to_string(), "-q"]);
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
    if Command::new("psql").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and psql is missing"
        );
        eprintln!("skipped: psql is not installed");
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
/// never a mix.
#[test]
fn a_bulk_write_whose_connection_is_cut_writes_all_or_nothing() {
    let Some(mut pg) = Pg::new() else { return };
    // A name of its own, so that only this test's connection is cut.
    let app = format!("bulk_{}", pg.schema);
    pg.url.push_str(&format!("&application_name={app}"));
    const LINES: usize = 400;
    let mut seed = String::new();
    let mut bump = String::new();
    for i in 0..LINES {
        seed.push_str(&format!("{{\"key\":\"c:o:{i}\",\"offset\":1}}\n"));
        bump.push_str(&format!("{{\"key\":\"c:o:{i}\",\"offset\":2}}\n"));
    }
    let run_with = |input: &str, args: &[&str]| {
        let mut child = pg
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child
    };
    let out = run_with(&seed, &["set", "--from-file", "-", "--create", "-q"])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let (mut cut, mut finished) = (0, 0);
    for trial in 0..6u64 {
        let child = run_with(&bump, &["set", "--from-file", "-", "-q"]);
        std::thread::sleep(Duration::from_millis(50 + trial * 60));
        let terminated: i64 = pg_admin()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = $1",
                &[&app],
            )
            .unwrap()
            .get(0);
        let out = child.wait_with_output().unwrap();
        let counts: (i64, i64) = {
            let row = pg_admin()
                .query_one(
                    &format!(
                        "SELECT count(*) FILTER (WHERE \"offset\" = 1), \
                                count(*) FILTER (WHERE \"offset\" = 2) FROM {}.cursors",
                        pg.schema
                    ),
                    &[],
                )
                .unwrap();
            (row.get(0), row.get(1))
        };
        match out.status.code() {
            Some(0) => {
                finished += 1;
                assert_eq!(counts, (0, LINES as i64), "trial {trial}");
            }
            Some(7) => {
                assert!(terminated > 0);
                cut += 1;
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("rolled back"), "trial {trial}: {err}");
                assert!(
                    counts == (LINES as i64, 0) || counts == (0, LINES as i64),
                    "trial {trial}: mixed state {counts:?}"
                );
            }
            other => panic!(
                "trial {trial}: exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
        // Back to the old state for the next trial.
        pg_admin()
            .batch_execute(&format!("UPDATE {}.cursors SET \"offset\" = 1", pg.schema))
            .unwrap();
    }
    eprintln!("bulk write cut: {cut} trials cut mid-write, {finished} finished first");
    assert!(cut > 0, "no trial cut a write while it ran");
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
    let history = |db: &str| ok(db, &["history", "-o", "ndjson"]);
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

/// Run the binary against `url` with a clean environment and empty stdin;
/// one that runs a minute is killed and fails the test (a hang).
fn run_at(url: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
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
        let (out, took) = run_at(&url, args, &[]);
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
        let (out, took) = run_at(&url, &["get"], env);
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

/// A proxy to the test server that forwards everything until the client
/// commits a write transaction (`BEGIN`, then `COMMIT`), forwards that
/// `COMMIT`, and closes the client's connection as the server's answer
/// arrives: the transaction is committed and the client never hears it.
fn proxy_cutting_after_commit() -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let config: ::postgres::Config = pg_url().parse().unwrap();
    let host = match config.get_hosts().first() {
        Some(::postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let upstream = (host, config.get_ports().first().copied().unwrap_or(5432));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { break };
            let mut server = TcpStream::connect(&upstream).unwrap();
            let committing = Arc::new(AtomicBool::new(false));
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let seen = Arc::clone(&committing);
            std::thread::spawn(move || {
                let (begin, commit) = (b"Q\0\0\0\x0aBEGIN\0", b"Q\0\0\0\x0bCOMMIT\0");
                let mut armed = false;
                let mut buf = [0u8; 16384];
                while let Ok(n) = client_in.read(&mut buf) {
                    let data = &buf[..n];
                    if n == 0 || server_out.write_all(data).is_err() {
                        break;
                    }
                    armed |= data.windows(begin.len()).any(|w| w == begin);
                    if armed && data.windows(commit.len()).any(|w| w == commit) {
                        seen.store(true, Ordering::SeqCst);
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = server.read(&mut buf) {
                    if n == 0 || committing.load(Ordering::SeqCst) {
                        break;
                    }
                    if client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

/// A connection lost while committing leaves the outcome unknown: the
/// server may have committed (here it did). The message says so and
/// never that the transaction was rolled back.
#[test]
fn a_connection_lost_while_committing_is_not_called_rolled_back() {
    let Some(pg) = Pg::new() else { return };
    pg.ok(&["set", "billing", "orders:3", "5", "--create", "-q"]);
    let port = proxy_cutting_after_commit();
    let config: ::postgres::Config = pg_url().parse().unwrap();
    let url = format!(
        "postgres://{}@127.0.0.1:{port}/{}?schema={}",
        config.get_user().unwrap_or("root"),
        config.get_dbname().unwrap_or("test"),
        pg.schema
    );
    for args in [
        &["set", "billing", "orders:3", "7"][..],
        &["advance", "billing", "orders:3"],
    ] {
        let (out, _) = run_at(&url, args, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(7), "{args:?}: {err}");
        assert!(!err.contains("rolled back"), "{args:?}: {err}");
        assert!(err.contains("unknown"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Both were committed: the message was right not to say otherwise.
    assert_eq!(pg.offset("billing", "orders", 3), Some(8));
    assert_eq!(pg.history_len(), 3);
}

//! PostgreSQL high availability, and the write ids behind it (both
//! backends): every write stores its client-made id as it commits; a
//! connection lost while committing is settled by that id (committed: exit
//! 0 and its records; not written: a safe write runs again, a bulk write
//! says "not written"), never left "unknown" while a server that accepts
//! writes answers; `target_session_attrs` picks the server; a write
//! against a read-only server says so. The real failover (a primary
//! stopped, its synchronous standby promoted) is `.ci/failover.sh`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{backend_tests, pg_admin, pg_available, pg_url, Backend, Env, BIN};

backend_tests!(
    every_write_stores_its_id_with_its_change_or_batch,
    a_write_id_settles_to_its_records_or_to_not_written,
);

fn writes_rows(env: &Env) -> Vec<(Option<i64>, Option<i64>, bool)> {
    match env.pg_schema() {
        Some(schema) => pg_admin()
            .query(
                &format!(
                    "SELECT batch, change, not_written FROM {schema}.writes ORDER BY at, write_id"
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect(),
        None => {
            let conn = env.conn();
            let mut stmt = conn
                .prepare("SELECT batch, change, not_written FROM writes ORDER BY at, rowid")
                .unwrap_or_else(|_| {
                    conn.prepare("SELECT batch, change, not_written FROM writes ORDER BY at")
                        .unwrap()
                });
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            rows
        }
    }
}

/// One row in `writes` per committed write: a change's id, or a batch's;
/// nothing for a dry run or a refused write.
fn every_write_stores_its_id_with_its_change_or_batch(backend: Backend) {
    let env = Env::on(backend);
    let out = env.ok(&["set", "billing", "orders:1", "5", "--create", "-o", "json"]);
    let change: serde_json::Value = serde_json::from_str(&out).unwrap();
    let change_id = change["id"].as_i64().unwrap();
    assert_eq!(writes_rows(&env), [(None, Some(change_id), false)]);
    env.ok_stdin(
        &["set", "--from-file", "-", "--create", "-q"],
        "{\"key\":\"billing:orders:2\",\"offset\":1}\n{\"key\":\"billing:orders:3\",\"offset\":1}\n",
    );
    let rows = writes_rows(&env);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1].0.is_some() && rows[1].1.is_none(), "{rows:?}");
    // A dry run and a refused write leave no write id.
    env.ok(&["advance", "billing", "orders:1", "--dry-run", "-q"]);
    let before = env.dump();
    env.fails(3, &["set", "billing", "orders:1", "9", "--expect", "4"]);
    assert_eq!(env.dump(), before);
    assert_eq!(writes_rows(&env).len(), 2);
}

/// The library settles a write by its id: a committed one gives its
/// records back, read from the store; an id the store does not hold is
/// marked not written, and stays so.
fn a_write_id_settles_to_its_records_or_to_not_written(backend: Backend) {
    use cursorctl::store::{resolve_write_at, WriteResolution};
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:1", "5", "--create", "-q"]);
    let location = env.location();
    let store = cursorctl::store::open(
        &location,
        cursorctl::Access::ReadWrite,
        Duration::from_secs(5),
    )
    .unwrap();
    // A write through the library, its id taken from the transaction.
    let key = cursorctl::CursorKey::parse("billing:orders:1").unwrap();
    let txn = store.begin_write().unwrap();
    let write_id = txn.write_id().expect("a write id").to_owned();
    assert!(cursorctl::store::is_write_id(&write_id));
    txn.cas(&key.to_string(), 5, 6).unwrap();
    let change = txn
        .record_change(&cursorctl::store::ChangeInput {
            key: &key,
            old_offset: Some(5),
            new_offset: Some(6),
            command: "test",
            reason: None,
            user: "tester",
            batch: None,
        })
        .unwrap();
    txn.commit().unwrap();
    match resolve_write_at(&location, &write_id, Duration::from_secs(5)).unwrap() {
        WriteResolution::Committed { batch, changes } => {
            assert_eq!(batch, None);
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].id, change);
            assert_eq!(changes[0].new_offset, Some(6));
        }
        other => panic!("{other:?}"),
    }
    let absent = cursorctl::store::new_write_id();
    for _ in 0..2 {
        assert_eq!(
            resolve_write_at(&location, &absent, Duration::from_secs(5)).unwrap(),
            WriteResolution::NotWritten
        );
    }
    assert_eq!(env.offset("billing", "orders:1"), Some(6));
}

/// How the proxy treats the first commit it sees.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Forward the commit, and close the client's connection as the
    /// server's answer arrives: committed, and the client never hears it.
    AfterCommit,
    /// Close both connections instead of forwarding the commit: the server
    /// rolls the transaction back.
    BeforeCommit,
}

/// A proxy to the test server that forwards everything, and cuts the first
/// write transaction's commit (`BEGIN`, then a message ending in `COMMIT`)
/// as `cut` says; later connections are left alone.
fn proxy(cut: Cut) -> u16 {
    let config: ::postgres::Config = pg_url().parse().unwrap();
    let host = match config.get_hosts().first() {
        Some(::postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let upstream = (host, config.get_ports().first().copied().unwrap_or(5432));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let done = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { break };
            let mut server = TcpStream::connect(&upstream).unwrap();
            let committing = Arc::new(AtomicBool::new(false));
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let seen = Arc::clone(&committing);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let begin = b"Q\0\0\0\x0aBEGIN\0";
                let commit = b"COMMIT\0";
                let mut armed = false;
                let mut buf = [0u8; 65536];
                while let Ok(n) = client_in.read(&mut buf) {
                    let data = &buf[..n];
                    if n == 0 {
                        break;
                    }
                    armed |= data.windows(begin.len()).any(|w| w == begin);
                    let cutting =
                        armed && data.ends_with(commit) && !done.swap(true, Ordering::SeqCst);
                    if cutting && cut == Cut::BeforeCommit {
                        let _ = server_out.shutdown(Shutdown::Both);
                        let _ = client_in.shutdown(Shutdown::Both);
                        break;
                    }
                    if server_out.write_all(data).is_err() {
                        break;
                    }
                    if cutting {
                        seen.store(true, Ordering::SeqCst);
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
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

/// The URL of `env`'s store through the proxy at `port`, in the clear (the
/// proxy reads the protocol).
fn url_via(env: &Env, port: u16) -> String {
    let config: ::postgres::Config = pg_url().parse().unwrap();
    format!(
        "postgres://{}@127.0.0.1:{port}/{}?schema={}&sslmode=disable",
        config.get_user().unwrap_or("root"),
        config.get_dbname().unwrap_or("test"),
        env.pg_schema().unwrap()
    )
}

fn run(url: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .args(["--db", url, "--busy-timeout", "10s"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cursorctl");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cursorctl {args:?} still runs after a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The cursors and the history (not the write ids).
fn state(env: &Env) -> String {
    env.ok(&["get", "-o", "ndjson"]) + &env.ok(&["history", "-o", "ndjson"])
}

fn pg_env() -> Option<Env> {
    pg_available().then(|| Env::on(Backend::Postgres))
}

/// The connection cut once COMMIT is sent: the write was committed, and
/// the command says so (exit 0, its records), never "unknown"; the change
/// is in the history once.
#[test]
fn a_connection_lost_after_commit_is_settled_as_committed() {
    let Some(env) = pg_env() else { return };
    env.ok(&["set", "billing", "orders:3", "5", "--create", "-q"]);
    let bulk = b"{\"key\":\"billing:orders:4\",\"offset\":1}\n{\"key\":\"billing:orders:5\",\"offset\":2}\n";
    for (args, stdin) in [
        (
            &["set", "billing", "orders:3", "7", "-o", "ndjson"][..],
            &b""[..],
        ),
        (&["advance", "billing", "orders:3", "-o", "ndjson"], b""),
        (
            &["set", "--from-file", "-", "--create", "-o", "ndjson"],
            bulk,
        ),
    ] {
        let out = run(&url_via(&env, proxy(Cut::AfterCommit)), args, stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("unknown"), "{args:?}: {err}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("\"id\""), "{args:?}: {stdout}");
    }
    assert_eq!(env.offset("billing", "orders:3"), Some(8));
    assert_eq!(env.offset("billing", "orders:5"), Some(2));
    // The first set, the set, the advance, and the bulk write's two.
    assert_eq!(env.history_len(), 5);
}

/// The connection cut before COMMIT reaches the server: the write is not
/// there, proven by its id; `advance` and `set` (safe to run again once
/// absence is proven) run again and succeed once; a bulk write (its input
/// read once) says "not written", exit 7, and the store holds nothing of it.
#[test]
fn a_connection_lost_before_commit_is_not_written_or_run_again() {
    let Some(env) = pg_env() else { return };
    env.ok(&["set", "billing", "orders:3", "5", "--create", "-q"]);
    for args in [
        &["advance", "billing", "orders:3", "-o", "ndjson"][..],
        &[
            "set", "billing", "orders:3", "9", "--expect", "6", "-o", "ndjson",
        ],
    ] {
        let out = run(&url_via(&env, proxy(Cut::BeforeCommit)), args, b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("unknown"), "{args:?}: {err}");
    }
    assert_eq!(env.offset("billing", "orders:3"), Some(9));
    assert_eq!(env.history_len(), 3);
    let before = state(&env);
    let bulk = b"{\"key\":\"billing:orders:4\",\"offset\":1}\n{\"key\":\"billing:orders:5\",\"offset\":2}\n";
    let out = run(
        &url_via(&env, proxy(Cut::BeforeCommit)),
        &["set", "--from-file", "-", "--create"],
        bulk,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("not written"), "{err}");
    assert!(!err.contains("unknown"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(state(&env), before);
    // The write's id is marked not written.
    let marked: i64 = pg_admin()
        .query_one(
            &format!(
                "SELECT count(*) FROM {}.writes WHERE not_written",
                env.pg_schema().unwrap()
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(marked, 3);
}

/// The test server, with sessions made read-only by the location (as on a
/// standby): a write is exit 7 saying the server is read-only, with the
/// `target_session_attrs` hint, the store unchanged; named twice with
/// `target_session_attrs=read-write` (the default for writes), each host is
/// skipped with its reason; the read-only choices serve reads.
#[test]
fn read_only_servers_are_named_and_skipped_by_target_session_attrs() {
    let Some(env) = pg_env() else { return };
    env.ok(&["set", "billing", "orders:3", "5", "--create", "-q"]);
    let config: ::postgres::Config = pg_url().parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let base = format!(
        "user={} dbname={} schema={} options='-c default_transaction_read_only=on'",
        config.get_user().unwrap_or("root"),
        config.get_dbname().unwrap_or("test"),
        env.pg_schema().unwrap()
    );
    let before = env.dump();
    let one = format!("host=127.0.0.1 port={port} {base}");
    let out = run(&one, &["advance", "billing", "orders:3"], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("the server is read-only"), "{err}");
    assert!(
        err.contains("hint") && err.contains("target_session_attrs=read-write"),
        "{err}"
    );
    let two = format!("host=127.0.0.1,localhost port={port} {base}");
    let out = run(&two, &["advance", "billing", "orders:3"], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("(2 tried)"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}: the server is read-only")),
        "{err}"
    );
    assert!(
        err.contains(&format!("localhost:{port}: the server is read-only")),
        "{err}"
    );
    assert_eq!(env.dump(), before);
    // Reads: any server (the default), or the read-only choices.
    // (Reads run in read-only sessions of cursorctl's own, so for them only
    // recovery makes a server read-only: this one is not a standby.)
    for attrs in [
        "",
        " target_session_attrs=primary",
        " target_session_attrs=prefer-standby",
    ] {
        let out = run(
            &format!("{two}{attrs}"),
            &["get", "billing", "orders:3", "-o", "value"],
            b"",
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "5",
            "{attrs}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(
        &format!("host=127.0.0.1 port={port} {base} target_session_attrs=standby"),
        &["get"],
        b"",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("the server is not a standby"), "{err}");
    let out = run(
        &format!("{one} target_session_attrs=sometimes"),
        &["get"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
}

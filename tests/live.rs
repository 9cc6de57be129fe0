//! A live consumer checkpointing through the library (per-batch) in its own
//! process, while operators run `advance` and bulk `set` on the same cursor:
//! the cursor only ever moves forward, no update is lost, and the history
//! accounts for every operator change.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, BIN};
use cursorctl::store::sqlite::{Access, SqliteStore};
use cursorctl::{CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurabilityError};

const CONSUMER_ENV: &str = "CURSORCTL_TEST_LIVE_CONSUMER_DB";

/// The consumer: run in a child process (see below). It processes messages,
/// checkpoints every 5 through the library, and when an operator moved the
/// cursor (stale) it resumes from the store, as a real consumer does.
#[test]
#[ignore = "the consumer process of live_consumer_and_operators; not a test by itself"]
fn live_consumer_process() {
    let Some(db) = std::env::var_os(CONSUMER_ENV) else {
        return;
    };
    let store =
        SqliteStore::open(Path::new(&db), Access::ReadWrite, Duration::from_secs(30)).unwrap();
    let policy: CheckpointPolicy = "per-batch:5".parse().unwrap();
    let deadline = Instant::now() + Duration::from_millis(2500);
    let (mut checkpoints, mut resumes) = (0u64, 0u64);
    while Instant::now() < deadline {
        let mut cursor = ConsumerCursor::resume("live", "events:0", &store).unwrap();
        let mut driver = CheckpointDriver::new(policy);
        let mut next = cursor.current_offset();
        loop {
            // Processing a message takes a moment.
            thread::sleep(Duration::from_micros(300));
            next += 1;
            match driver.record_processed(&mut cursor, &store, next) {
                Ok(()) if driver.pending_offset().is_none() => checkpoints += 1,
                Ok(()) => {}
                Err(DurabilityError::StaleCheckpoint { .. }) => {
                    resumes += 1;
                    break;
                }
                Err(e) => panic!("consumer: {e}"),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    println!("consumer: {checkpoints} checkpoints, {resumes} resumes");
}

fn operator(db: &Path, args: &[&str], stdin: Option<&[u8]>) -> i32 {
    let mut child = Command::new(BIN)
        .env_clear()
        .env("CURSORCTL_DB", db)
        .env("USER", "operator")
        .args(["--busy-timeout", "30s", "-q"])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    out.status.code().unwrap_or(-1)
}

#[test]
fn live_consumer_and_operators() {
    let env = Env::new();
    env.seed(&[("live", "events:0", 0)]);
    // Log every transition of the offset, whoever makes it.
    env.conn()
        .execute_batch(
            "CREATE TABLE transitions (n INTEGER PRIMARY KEY, old INTEGER, new INTEGER);
             CREATE TRIGGER log_transitions AFTER UPDATE OF offset ON cursors
             BEGIN INSERT INTO transitions (old, new) VALUES (OLD.offset, NEW.offset); END;",
        )
        .unwrap();
    let consumer = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "live_consumer_process",
            "--ignored",
            "--nocapture",
        ])
        .env(CONSUMER_ENV, &env.db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let db = env.db.clone();
    let advancer = thread::spawn(move || {
        let mut ok = 0;
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match operator(&db, &["advance", "live", "events:0", "--by", "3"], None) {
                0 => ok += 1,
                code => panic!("advance: exit {code}"),
            }
            thread::sleep(Duration::from_millis(10));
        }
        ok
    });
    let db = env.db.clone();
    let bulk = thread::spawn(move || {
        let (mut ok, mut stale) = (0, 0);
        let start = Instant::now();
        // Race for two seconds, and until a few bulk writes got through.
        while start.elapsed() < Duration::from_secs(2)
            || (ok < 3 && start.elapsed() < Duration::from_secs(20))
        {
            let read = Command::new(BIN)
                .env_clear()
                .env("CURSORCTL_DB", &db)
                .args(["get", "live", "-o", "ndjson"])
                .output()
                .unwrap();
            assert!(read.status.success());
            let mut input = String::new();
            for line in String::from_utf8(read.stdout).unwrap().lines() {
                let mut rec: serde_json::Value = serde_json::from_str(line).unwrap();
                let offset = rec["offset"].as_u64().unwrap();
                rec["expect"] = offset.into();
                rec["offset"] = (offset + 10).into();
                input.push_str(&rec.to_string());
                input.push('\n');
            }
            match operator(&db, &["set", "--from-file", "-"], Some(input.as_bytes())) {
                0 => ok += 1,
                3 => stale += 1,
                code => panic!("bulk set: exit {code}"),
            }
        }
        (ok, stale)
    });
    let advances = advancer.join().unwrap();
    let (bulk_ok, bulk_stale) = bulk.join().unwrap();
    let out = consumer.wait_with_output().unwrap();
    let consumer_said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{consumer_said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let conn = env.conn();
    let transitions: Vec<(i64, i64)> = conn
        .prepare("SELECT old, new FROM transitions ORDER BY n")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Forward only, and each transition starts where the last one ended:
    // no write was based on a value another writer had already replaced.
    let mut at = 0;
    for (i, (old, new)) in transitions.iter().enumerate() {
        assert_eq!(*old, at, "transition {i} starts from a stale offset");
        assert!(new > old, "transition {i} moved backwards: {old} -> {new}");
        at = *new;
    }
    assert_eq!(env.offset("live", "events:0"), Some(at));
    // The history accounts for every operator change, in order.
    let history: Vec<(i64, i64, String)> = conn
        .prepare("SELECT old_offset, new_offset, command FROM history WHERE old_offset IS NOT NULL ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        history.len(),
        advances + bulk_ok,
        "one history row per operator change"
    );
    let mut rest = transitions.iter();
    for (old, new, command) in &history {
        assert!(
            rest.any(|t| t == &(*old, *new)),
            "history row {command} {old} -> {new} is not among the transitions, in order"
        );
    }
    let by_consumer = transitions.len() - history.len();
    assert!(
        by_consumer > 0,
        "the consumer checkpointed: {consumer_said}"
    );
    assert!(advances > 0 && bulk_ok > 0);
    eprintln!(
        "live: {} transitions: {by_consumer} by the consumer ({}), {advances} advances, {bulk_ok} bulk writes ({bulk_stale} stale)",
        transitions.len(),
        consumer_said.lines().find(|l| l.starts_with("consumer:")).unwrap_or("").trim()
    );
}

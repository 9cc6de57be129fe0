//! A live consumer checkpointing through the library (per-batch) in its own
//! process, while operators run `advance` and bulk `set` on the same cursor:
//! the cursor only ever moves forward, no update is lost, and the history
//! accounts for every operator change.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, BIN};
use cursorctl::store::sqlite::{Access, SqliteStore};
use cursorctl::{CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurabilityError};

/// Set in the consumer's process: the store it checkpoints.
const CONSUMER_ENV: &str = "CURSORCTL_TEST_LIVE_CONSUMER_DB";

/// The consumer's role. The test runs it in a child process: the test binary
/// itself, asked to run `live_consumer_and_operators` with CONSUMER_ENV set
/// (so there is no separate test to run or to ignore). It processes messages,
/// checkpoints every 5 through the library, and when an operator moved the
/// cursor (stale) it resumes from the store, as a real consumer does. It
/// reports every successful checkpoint as `checkpoint EXPECTED NEW` (the
/// offset the cursor believed the store held, and the one it wrote), and
/// every resume after a stale checkpoint as `stale`, one per line, in a file
/// beside the store.
fn consumer_role(db: &Path) {
    use std::io::Write;
    let store = SqliteStore::open(db, Access::ReadWrite, Duration::from_secs(30)).unwrap();
    let mut report = std::io::BufWriter::new(std::fs::File::create(consumer_report(db)).unwrap());
    let policy: CheckpointPolicy = "per-batch:5".parse().unwrap();
    let deadline = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < deadline {
        let mut cursor = ConsumerCursor::resume("live", "events:0", &store).unwrap();
        let mut driver = CheckpointDriver::new(policy);
        let mut next = cursor.current_offset();
        loop {
            // Processing a message takes a moment.
            thread::sleep(Duration::from_micros(300));
            next += 1;
            let expected = cursor.current_offset();
            match driver.record_processed(&mut cursor, &store, next) {
                Ok(()) if driver.pending_offset().is_none() => {
                    writeln!(report, "checkpoint {expected} {}", cursor.current_offset()).unwrap();
                }
                Ok(()) => {}
                Err(DurabilityError::StaleCheckpoint { .. }) => {
                    writeln!(report, "stale").unwrap();
                    break;
                }
                Err(e) => panic!("consumer: {e}"),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    report.flush().unwrap();
}

fn consumer_report(db: &Path) -> std::path::PathBuf {
    db.with_extension("consumer-report")
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
    if let Some(db) = std::env::var_os(CONSUMER_ENV) {
        consumer_role(Path::new(&db));
        return;
    }
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
            "live::live_consumer_and_operators",
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
    assert!(
        out.status.success(),
        "the consumer failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(consumer_report(&env.db)).unwrap();
    let mut checkpoints: Vec<(i64, i64)> = Vec::new();
    let mut resumes = 0;
    for line in report.lines() {
        if line == "stale" {
            resumes += 1;
        } else {
            let mut words = line.split(' ').skip(1).map(|w| w.parse::<i64>().unwrap());
            checkpoints.push((words.next().unwrap(), words.next().unwrap()));
        }
    }

    let conn = env.conn();
    let transitions: Vec<(i64, i64)> = conn
        .prepare("SELECT old, new FROM transitions ORDER BY n")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // The operators' changes, in order, from the history.
    let history: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT old_offset, new_offset FROM history WHERE old_offset IS NOT NULL ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        history.len(),
        advances + bulk_ok,
        "one history row per successful operator change"
    );
    // Every transition of the offset is either the consumer's next reported
    // checkpoint or the next operator change, exactly: each consumer write
    // started from the value the consumer expected (a write based on a value
    // another writer had already replaced would start elsewhere), no write
    // happened that nobody reported, and every write moved forward.
    let (mut by_consumer, mut by_operators) =
        (checkpoints.iter().peekable(), history.iter().peekable());
    for (i, t) in transitions.iter().enumerate() {
        assert!(t.1 > t.0, "transition {i} moved backwards: {t:?}");
        if by_consumer.peek() == Some(&t) {
            by_consumer.next();
        } else if by_operators.peek() == Some(&t) {
            by_operators.next();
        } else {
            panic!(
                "transition {i} {t:?} is neither the consumer's next checkpoint (expected, new) = {:?} nor the next operator change {:?}",
                by_consumer.peek(),
                by_operators.peek()
            );
        }
    }
    assert_eq!(
        by_consumer.next(),
        None,
        "a reported checkpoint left no transition"
    );
    assert_eq!(
        by_operators.next(),
        None,
        "a recorded change left no transition"
    );
    assert_eq!(
        env.offset("live", "events:0"),
        transitions.last().map(|t| t.1)
    );
    // The contended paths ran: the consumer was made stale and resumed, bulk
    // writes were refused as stale, and every kind of writer got through.
    assert!(!checkpoints.is_empty(), "the consumer checkpointed");
    assert!(resumes > 0, "no consumer checkpoint was stale");
    assert!(bulk_stale > 0, "no bulk write was stale");
    assert!(advances > 0 && bulk_ok > 0);
    eprintln!(
        "live: {} transitions: {} consumer checkpoints ({resumes} resumes after stale), {advances} advances, {bulk_ok} bulk writes ({bulk_stale} stale)",
        transitions.len(),
        checkpoints.len(),
    );
}

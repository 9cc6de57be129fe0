//! A live consumer checkpointing through the library (per message) in its
//! own process, while operators run `advance`, bulk `set` and `undo` from
//! other processes on its cursor and on another one, on SQLite and on
//! PostgreSQL (`backend_tests!` at the bottom): every transition of an
//! offset starts where the one before it ended, is the consumer's next
//! checkpoint or the next operator change in the history, and moves forward
//! unless it is an undo; nothing is lost.

use crate::common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{backend_tests, pg_admin, Backend, Env, BIN};
use cursorctl::{
    Access, CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurabilityError, StoreLocation,
};

/// Set in the consumer's process: the store it checkpoints.
const CONSUMER_ENV: &str = "CURSORCTL_TEST_LIVE_CONSUMER_DB";
/// Set in the consumer's process: the file it reports to.
const REPORT_ENV: &str = "CURSORCTL_TEST_LIVE_CONSUMER_REPORT";

/// The consumer's cursor; operators move it and [`OTHER`] too.
const CONSUMER: &str = "events:0";
const OTHER: &str = "events:1";

/// The consumer's role. The test runs it in a child process: the test binary
/// itself, asked to run this backend's `live_consumer_and_operators` with
/// CONSUMER_ENV set (so there is no separate test to run or to ignore). It
/// processes messages in bursts of 50 (then waits a moment for the next
/// ones, as a consumer polling a broker does), checkpoints every message
/// through the library, and when an operator moved the cursor (stale) it
/// resumes from the store, as a real consumer does. It reports every
/// successful checkpoint as `checkpoint EXPECTED NEW` (the offset the cursor
/// believed the store held, and the one it wrote), and every resume after a
/// stale checkpoint as `stale`, one per line.
fn consumer_role(location: &OsStr, report: &Path) {
    use std::io::Write;
    let location = StoreLocation::parse(location);
    let store =
        cursorctl::store::open(&location, Access::ReadWrite, Duration::from_secs(30)).unwrap();
    let store: &dyn cursorctl::DurableStore = &*store;
    let mut report = std::io::BufWriter::new(std::fs::File::create(report).unwrap());
    let policy: CheckpointPolicy = "per-message".parse().unwrap();
    let deadline = Instant::now() + Duration::from_millis(2500);
    let mut processed = 0u64;
    while Instant::now() < deadline {
        let mut cursor = ConsumerCursor::resume("live", CONSUMER, store).unwrap();
        let mut driver = CheckpointDriver::new(policy);
        let mut next = cursor.current_offset();
        loop {
            processed += 1;
            if processed % 50 == 0 {
                // Waiting for the next messages.
                thread::sleep(Duration::from_millis(25));
            }
            // Processing a message takes a moment.
            thread::sleep(Duration::from_micros(300));
            next += 1;
            let expected = cursor.current_offset();
            match driver.record_processed(&mut cursor, store, next) {
                Ok(()) if driver.pending_offset().is_none() => {
                    writeln!(report, "checkpoint {expected} {}", cursor.current_offset()).unwrap();
                }
                Ok(()) => panic!("consumer: a message per checkpoint, and nothing pending"),
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

/// Run an operator's command; its exit code.
fn operator(db: &OsStr, args: &[&str], stdin: Option<&[u8]>) -> i32 {
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
    let code = out.status.code().unwrap_or(-1);
    if ![0, 3].contains(&code) {
        panic!(
            "{args:?}: exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    code
}

/// A read by an operator: its standard output.
fn read(db: &OsStr, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .env_clear()
        .env("CURSORCTL_DB", db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Log every transition of an offset, whoever makes it, in the store
/// itself: a trigger on the cursors table writes (partition key, old, new)
/// in the writer's transaction. A creation has no old offset, a removal no
/// new one.
fn log_transitions(env: &Env) {
    match env.pg_schema() {
        None => env.execute(
            "CREATE TABLE transitions (n INTEGER PRIMARY KEY, pk TEXT, old INTEGER, new INTEGER);
             CREATE TRIGGER log_updates AFTER UPDATE OF offset ON cursors BEGIN
                 INSERT INTO transitions (pk, old, new)
                 VALUES (NEW.channel || ':' || NEW.partition, OLD.offset, NEW.offset);
             END;
             CREATE TRIGGER log_inserts AFTER INSERT ON cursors BEGIN
                 INSERT INTO transitions (pk, old, new)
                 VALUES (NEW.channel || ':' || NEW.partition, NULL, NEW.offset);
             END;
             CREATE TRIGGER log_deletes AFTER DELETE ON cursors BEGIN
                 INSERT INTO transitions (pk, old, new)
                 VALUES (OLD.channel || ':' || OLD.partition, OLD.offset, NULL);
             END;",
        ),
        // The row lock a writer holds from its UPDATE to its commit orders
        // the numbers of one cursor's transitions as their commits.
        Some(schema) => env.execute(&format!(
            r#"CREATE TABLE transitions (
                   n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                   pk text, old bigint, new bigint);
               CREATE FUNCTION log_transition() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                   IF TG_OP = 'INSERT' THEN
                       INSERT INTO {schema}.transitions (pk, old, new)
                       VALUES (NEW.channel || ':' || NEW.partition, NULL, NEW."offset");
                   ELSIF TG_OP = 'DELETE' THEN
                       INSERT INTO {schema}.transitions (pk, old, new)
                       VALUES (OLD.channel || ':' || OLD.partition, OLD."offset", NULL);
                   ELSE
                       INSERT INTO {schema}.transitions (pk, old, new)
                       VALUES (NEW.channel || ':' || NEW.partition, OLD."offset", NEW."offset");
                   END IF;
                   RETURN NULL;
               END
               $$;
               CREATE TRIGGER log_transitions AFTER INSERT OR DELETE OR UPDATE OF "offset"
               ON cursors FOR EACH ROW EXECUTE FUNCTION log_transition();"#
        )),
    }
}

/// The logged transitions of one cursor, in order.
fn transitions(env: &Env, pk: &str) -> Vec<(Option<i64>, Option<i64>)> {
    let sql = "SELECT old, new FROM transitions WHERE pk = $1 ORDER BY n";
    match env.pg_schema() {
        None => env
            .conn()
            .prepare(&sql.replace("$1", "?1"))
            .unwrap()
            .query_map([pk], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect(),
        Some(schema) => pg_admin()
            .query(&sql.replace("FROM ", &format!("FROM {schema}.")), &[&pk])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
    }
}

/// Run `step` again and again for two seconds, and on (for at most twenty)
/// until `enough` says its contended outcomes both happened.
fn race<T>(mut step: impl FnMut(&mut T), state: &mut T, enough: impl Fn(&T) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2)
        || (!enough(state) && start.elapsed() < Duration::from_secs(20))
    {
        step(state);
    }
}

fn live_consumer_and_operators(backend: Backend) {
    if let Some(db) = std::env::var_os(CONSUMER_ENV) {
        let report = std::env::var_os(REPORT_ENV).expect("the report's path");
        consumer_role(&db, Path::new(&report));
        return;
    }
    let env = Env::on(backend);
    env.seed(&[("live", CONSUMER, 0), ("live", OTHER, 0)]);
    log_transitions(&env);
    let report = env.dir.path().join("consumer-report");
    let module = backend.name();
    let consumer = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &format!("live::{module}::live_consumer_and_operators"),
            "--nocapture",
        ])
        .env(CONSUMER_ENV, env.db_arg())
        .env(REPORT_ENV, &report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let db = env.db_arg();
    let advancer = thread::spawn(move || {
        let mut ok = 0;
        let deadline = Instant::now() + Duration::from_secs(2);
        for pk in [CONSUMER, OTHER].iter().cycle() {
            if Instant::now() >= deadline {
                break;
            }
            // Without --expect an advance reads again when it loses a race.
            assert_eq!(
                operator(&db, &["advance", "live", pk, "--by", "3"], None),
                0
            );
            ok += 1;
            thread::sleep(Duration::from_millis(10));
        }
        ok
    });

    // `get` then `set --from-file` with every cursor's offset expected:
    // stale whenever a cursor moved between the two.
    let db = env.db_arg();
    let bulk = thread::spawn(move || {
        let mut outcomes = (0, 0);
        let step = |(ok, stale): &mut (usize, usize)| {
            let mut input = String::new();
            for line in read(&db, &["get", "live", "-o", "ndjson"]).lines() {
                let mut rec: serde_json::Value = serde_json::from_str(line).unwrap();
                let offset = rec["offset"].as_u64().unwrap();
                rec["expect"] = offset.into();
                rec["offset"] = (offset + 10).into();
                input.push_str(&rec.to_string());
                input.push('\n');
            }
            match operator(&db, &["set", "--from-file", "-"], Some(input.as_bytes())) {
                0 => *ok += 1,
                _ => *stale += 1,
            }
        };
        race(step, &mut outcomes, |&(ok, stale)| ok >= 3 && stale > 0);
        outcomes
    });

    // Undo the last change of each cursor in turn: stale whenever the
    // cursor moved since. The creations are left alone.
    let db = env.db_arg();
    let undoer = thread::spawn(move || {
        let mut outcomes = (0, 0, 0usize);
        let step = |(ok, stale, turn): &mut (usize, usize, usize)| {
            let pk = [CONSUMER, OTHER][*turn % 2];
            *turn += 1;
            let last = read(&db, &["history", "live", pk, "--limit", "1", "-o", "json"]);
            let last: serde_json::Value = serde_json::from_str(&last).unwrap();
            let last = &last[0];
            if last["old_offset"].is_null() {
                thread::sleep(Duration::from_millis(10));
                return;
            }
            let id = last["id"].as_i64().unwrap().to_string();
            match operator(&db, &["undo", &id, "--reason", "live test"], None) {
                0 => *ok += 1,
                _ => *stale += 1,
            }
        };
        race(step, &mut outcomes, |&(ok, stale, _)| ok >= 3 && stale > 0);
        (outcomes.0, outcomes.1)
    });

    let advances = advancer.join().unwrap();
    let (bulk_ok, bulk_stale) = bulk.join().unwrap();
    let (undo_ok, undo_stale) = undoer.join().unwrap();
    let out = consumer.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the consumer failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&report).unwrap();
    let mut checkpoints: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    let mut resumes = 0;
    for line in report.lines() {
        if line == "stale" {
            resumes += 1;
        } else {
            let mut words = line.split(' ').skip(1).map(|w| w.parse::<i64>().unwrap());
            checkpoints.push((words.next(), words.next()));
        }
    }

    // The operators' changes, from the history: one row per successful
    // change (a bulk write moves both cursors), besides the two creations.
    let history = env.history();
    let count = |command: &str| history.iter().filter(|r| r.command == command).count();
    assert_eq!(count("advance"), advances);
    assert_eq!(count("set"), 2 + 2 * bulk_ok);
    assert_eq!(count("undo"), undo_ok);
    assert_eq!(history.len(), 2 + advances + 2 * bulk_ok + undo_ok);

    let mut transitions_seen = 0;
    for pk in [CONSUMER, OTHER] {
        let log = transitions(&env, pk);
        let changes: Vec<_> = history
            .iter()
            .filter(|r| r.partition_key() == pk && r.old_offset.is_some())
            .collect();
        let mine = if pk == CONSUMER {
            &checkpoints[..]
        } else {
            &[]
        };
        let mut by_consumer = mine.iter().peekable();
        let mut by_operators = changes.iter().peekable();
        // Every transition starts where the one before it ended (the first
        // one where the cursor was created), and is either the consumer's
        // next reported checkpoint or the next operator change, exactly:
        // each consumer write started from the value the consumer expected
        // (a write based on a value another writer had already replaced
        // would start elsewhere), and no write happened that nobody
        // reported. Only an undo moves a cursor back, and only to where the
        // change it undid found the cursor.
        let mut at = Some(0);
        for (i, t) in log.iter().enumerate() {
            assert_eq!(
                t.0, at,
                "{pk}: transition {i} {t:?} does not start where the last ended"
            );
            at = t.1;
            if by_consumer.peek() == Some(&t) {
                by_consumer.next();
                assert!(t.1 > t.0, "{pk}: checkpoint {i} {t:?} moved backwards");
                continue;
            }
            let change = by_operators.next_if(|r| {
                (
                    r.old_offset.map(|o| o as i64),
                    r.new_offset.map(|o| o as i64),
                ) == *t
            });
            let Some(change) = change else {
                panic!(
                    "{pk}: transition {i} {t:?} is neither the consumer's next checkpoint \
                     (expected, new) = {:?} nor the next operator change {:?}",
                    by_consumer.peek(),
                    by_operators.peek()
                );
            };
            if change.command == "undo" {
                assert_eq!(change.reason.as_deref(), Some("live test"));
            } else {
                assert!(
                    t.1 > t.0,
                    "{pk}: change {} {t:?} moved backwards",
                    change.id
                );
            }
        }
        assert_eq!(
            by_consumer.next(),
            None,
            "{pk}: a reported checkpoint left no transition"
        );
        assert_eq!(
            by_operators.next().map(|r| r.id),
            None,
            "{pk}: a recorded change left no transition"
        );
        assert_eq!(
            env.offset("live", pk),
            at,
            "{pk}: the store holds where the last transition ended"
        );
        transitions_seen += log.len();
    }

    // The contended paths ran: the consumer was made stale and resumed, bulk
    // writes and undos were refused as stale, and every kind of writer got
    // through.
    assert!(!checkpoints.is_empty(), "the consumer checkpointed");
    assert!(resumes > 0, "no consumer checkpoint was stale");
    assert!(bulk_stale > 0, "no bulk write was stale");
    assert!(undo_stale > 0, "no undo was stale");
    assert!(advances > 0 && bulk_ok > 0 && undo_ok > 0);
    eprintln!(
        "live ({module}): {transitions_seen} transitions: {} consumer checkpoints ({resumes} resumes after stale), {advances} advances, {bulk_ok} bulk writes ({bulk_stale} stale), {undo_ok} undos ({undo_stale} stale)",
        checkpoints.len(),
    );
}

backend_tests!(live_consumer_and_operators);

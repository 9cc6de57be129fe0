//! Crash tests: `kill -9` at a random moment during long writes, then check
//! that the store is intact and holds a state the tool promised; and SIGINT /
//! SIGTERM, which must roll back with a clear message.

use crate::common;

use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::Env;
use rusqlite::Connection;

const TRIALS: usize = 50;

/// The lines of the bulk write killed by `kill -9`.
const BULK: i64 = 50_000;

/// A small deterministic generator, so a failing trial can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn integrity_ok(conn: &Connection) {
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(result, "ok");
}

/// Kill the child with SIGKILL after `delay`, unless it ended before.
/// Returns whether the kill landed while the child was running: its exit
/// status says it died of SIGKILL.
fn kill_after(mut child: Child, delay: Duration) -> bool {
    use std::os::unix::process::ExitStatusExt;
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap().signal() == Some(9)
}

fn signal(child: &Child, sig: i32) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Wait until the child has printed `needle` on stderr (or ended); returns
/// what it printed so far and a thread that collects the rest.
fn wait_for_stderr(child: &mut Child, needle: &str) -> (String, thread::JoinHandle<String>) {
    use std::io::Read;
    let mut err = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = err.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    // Keep draining in the background so the child never blocks on stderr.
    let rest = thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = err.read_to_end(&mut rest);
        String::from_utf8_lossy(&rest).into_owned()
    });
    (String::from_utf8_lossy(&seen).into_owned(), rest)
}

// ---- flush-sim --commit ----------------------------------------------------------

const BATCH: i64 = 7;

/// The store holds a prefix of the checkpoints 7, 14, 21, ...: the history
/// rows are exactly those, in order, and the cursor is at the last one.
fn check_checkpoint_prefix(env: &Env) -> usize {
    let conn = env.conn();
    integrity_ok(&conn);
    let offsets: Vec<i64> = conn
        .prepare("SELECT new_offset FROM history WHERE command = 'flush-sim' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (i, offset) in offsets.iter().enumerate() {
        assert_eq!(*offset, BATCH * (i as i64 + 1), "checkpoint {i}");
    }
    let last = offsets.last().copied().unwrap_or(0);
    assert_eq!(env.offset("c", "o:0"), Some(last));
    offsets.len()
}

#[test]
fn kill_9_during_flush_sim_commit_leaves_a_prefix_of_the_checkpoints() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut killed = 0;
    let mut committed = Vec::new();
    for trial in 0..TRIALS {
        let env = Env::new();
        env.seed(&[("c", "o:0", 0)]);
        let child = env
            .std_cmd()
            .args([
                "-q",
                "flush-sim",
                "c",
                "o:0",
                "--policy",
                "per-batch:7",
                "--messages",
                "100000000",
                "--commit",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(20 + rng.below(400));
        if kill_after(child, delay) {
            killed += 1;
        }
        let n = check_checkpoint_prefix(&env);
        committed.push(n);
        // The next command works.
        env.ok(&["advance", "c", "o:0"]);
        assert_eq!(
            env.offset("c", "o:0"),
            Some(BATCH * n as i64 + 1),
            "trial {trial}"
        );
    }
    assert!(
        killed >= TRIALS * 9 / 10,
        "only {killed} of {TRIALS} runs were killed mid-way"
    );
    assert!(
        committed.iter().any(|n| *n > 0),
        "no trial committed anything"
    );
    eprintln!("flush-sim kill -9: {TRIALS} trials, {killed} killed mid-run, checkpoints kept {committed:?}");
}

#[test]
fn sigint_and_sigterm_stop_flush_sim_commit_between_checkpoints() {
    for (sig, code, name) in [(2, 130, "SIGINT"), (15, 143, "SIGTERM")] {
        let env = Env::new();
        env.seed(&[("c", "o:0", 0)]);
        let mut child = env
            .std_cmd()
            .args([
                "flush-sim",
                "c",
                "o:0",
                "--policy",
                "per-batch:7",
                "--messages",
                "100000000",
                "--commit",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (_, rest) = wait_for_stderr(&mut child, "committing");
        thread::sleep(Duration::from_millis(100));
        signal(&child, sig);
        let status = child.wait().unwrap();
        let err = rest.join().unwrap();
        assert_eq!(status.code(), Some(code), "{name}: {err}");
        assert!(err.contains(&format!("interrupted by {name}")), "{err}");
        // The message's count and final offset are what the store holds.
        let n = check_checkpoint_prefix(&env);
        assert!(
            n > 0,
            "{name}: some checkpoints were committed before the signal"
        );
        let said = format!(
            "{n} checkpoint(s) were committed in batch 1, moving the cursor from 0 to {}",
            BATCH * n as i64
        );
        assert!(err.contains(&said), "{name}: should say {said:?}: {err}");
    }
}

// ---- set --from-file -----------------------------------------------------------

/// A store with `lines` cursors at offset = partition, and the NDJSON input
/// that moves each forward by one (with `expect`).
fn bulk_template(lines: i64) -> (Env, std::path::PathBuf, Vec<u8>) {
    let env = Env::new();
    env.conn()
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {lines} - 1)
             INSERT INTO cursors (consumer, channel, partition, offset) SELECT 'c', 'o', i, i FROM n;
             PRAGMA wal_checkpoint(TRUNCATE);"
        ))
        .unwrap();
    let mut input = String::with_capacity(lines as usize * 64);
    for i in 0..lines {
        input.push_str(&format!(
            "{{\"consumer\":\"c\",\"partition_key\":\"o:{i}\",\"offset\":{},\"expect\":{i}}}\n",
            i + 1
        ));
    }
    let path = env.dir.path().join("moves.ndjson");
    std::fs::write(&path, input).unwrap();
    let template = std::fs::read(&env.db).unwrap();
    (env, path, template)
}

/// Put the template store back (and drop any WAL left by a killed run).
fn restore(env: &Env, template: &[u8]) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", env.db.display()));
    }
    std::fs::write(&env.db, template).unwrap();
}

/// The store holds entirely the old or entirely the new state; returns
/// whether it is the new one.
fn all_old_or_all_new(env: &Env) -> bool {
    let conn = env.conn();
    integrity_ok(&conn);
    let (all, old, new, history): (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM cursors),
                    (SELECT count(*) FROM cursors WHERE offset = partition),
                    (SELECT count(*) FROM cursors WHERE offset = partition + 1),
                    (SELECT count(*) FROM history)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    match (old, new, history) {
        (o, 0, 0) if o == all => false,
        (0, n, h) if n == all && h == all => true,
        other => panic!("a mixed state (old, new, history rows) = {other:?}"),
    }
}

fn bulk_child(env: &Env, input: &std::path::Path, stderr: Stdio) -> Child {
    env.std_cmd()
        .arg("-q")
        .arg("set")
        .arg("--from-file")
        .arg(input)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// The size of the store's WAL file (0 when there is none).
fn wal_len(env: &Env) -> u64 {
    std::fs::metadata(format!("{}-wal", env.db.display())).map_or(0, |m| m.len())
}

/// Kill the child with SIGKILL as soon as the store's WAL has grown to
/// `size` bytes, unless it ended before. Returns whether the kill landed
/// while the child was running: its exit status says it died of SIGKILL.
fn kill_at_wal_size(env: &Env, mut child: Child, size: u64) -> bool {
    use std::os::unix::process::ExitStatusExt;
    while wal_len(env) < size {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        thread::sleep(Duration::from_micros(100));
    }
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap().signal() == Some(9)
}

#[test]
#[ignore = "several minutes: .ci/run runs it with --ignored"]
fn kill_9_during_a_bulk_write_leaves_all_old_or_all_new() {
    let (env, input, template) = bulk_template(BULK);
    // One whole run, watching the WAL: the transaction writes its pages
    // there, and its last frame, the commit, brings the WAL to its largest
    // size; after that the process checkpoints, removes the WAL and exits.
    let started = Instant::now();
    let mut child = bulk_child(&env, &input, Stdio::null());
    let mut committed_wal = 0;
    let mut first_growth = None;
    while child.try_wait().unwrap().is_none() {
        let len = wal_len(&env);
        if len > 0 && first_growth.is_none() {
            first_growth = Some(started.elapsed());
        }
        committed_wal = committed_wal.max(len);
        thread::sleep(Duration::from_micros(100));
    }
    assert!(child.wait().unwrap().success());
    let full = started.elapsed();
    assert!(all_old_or_all_new(&env));
    assert!(committed_wal > 0, "the run never grew the WAL");
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    // (killed while running, all new) counts.
    let (mut killed_old, mut killed_new, mut ended_new) = (0, 0, 0);
    for trial in 0..TRIALS {
        restore(&env, &template);
        let child = bulk_child(&env, &input, Stdio::null());
        // Half the kills while the WAL grows, before the commit frame;
        // half the moment the commit frame is written, while the process
        // is still checkpointing and closing.
        let at = if trial % 2 == 0 {
            1 + rng.below(committed_wal - 1)
        } else {
            committed_wal
        };
        let killed = kill_at_wal_size(&env, child, at);
        match (killed, all_old_or_all_new(&env)) {
            (true, false) => killed_old += 1,
            (true, true) => killed_new += 1,
            (false, true) => ended_new += 1,
            (false, false) => panic!("trial {trial}: the run ended without writing"),
        }
        // The next command works.
        env.ok(&["advance", "c", "o:0", "-q"]);
    }
    let counts = format!(
        "{killed_old} killed and all old, {killed_new} killed after the commit and all new, {ended_new} ended before the kill (all new)"
    );
    assert!(killed_old > 0, "no kill landed before the commit: {counts}");
    assert!(
        killed_new > 0,
        "no kill landed after the commit while the process was running: {counts}"
    );
    eprintln!(
        "bulk kill -9: {TRIALS} trials over a {full:?} run of {BULK} lines (WAL growing from {first_growth:?}, {committed_wal} bytes at the commit): {counts}, 0 mixed"
    );
}

#[test]
fn sigint_and_sigterm_roll_a_bulk_write_back() {
    let (env, input, template) = bulk_template(BULK);
    for (sig, code, name) in [(2, 130, "SIGINT"), (15, 143, "SIGTERM")] {
        restore(&env, &template);
        // Stdin would be read to its end before the lock is taken: the input
        // is a file, long enough that the signal lands while it is written.
        let child = env
            .std_cmd()
            .args(["set", "--from-file"])
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the run holds the write lock (it has started writing).
        let probe = env.conn();
        probe.busy_timeout(Duration::from_millis(0)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").is_ok() {
            assert!(
                Instant::now() < deadline,
                "the bulk write never took the lock"
            );
            thread::sleep(Duration::from_millis(5));
        }
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name}: {err}");
        assert!(err.contains(&format!("interrupted by {name}")), "{err}");
        assert!(err.contains("rolled back"), "{err}");
        assert!(!all_old_or_all_new(&env), "{name}: nothing was written");
        drop(probe);
    }
}

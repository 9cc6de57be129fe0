//! Crash tests: `kill -9` at a random moment during long writes, then check
//! that the store is intact and holds a state the tool promised; and SIGINT /
//! SIGTERM, which must roll back with a clear message.

mod common;

use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::Env;
use rusqlite::Connection;

const TRIALS: usize = 50;

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

fn kill_after(mut child: Child, delay: Duration) -> bool {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    killed
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
        assert!(err.contains("checkpoint(s) were committed"), "{err}");
        let n = check_checkpoint_prefix(&env);
        assert!(
            n > 0,
            "{name}: some checkpoints were committed before the signal"
        );
    }
}

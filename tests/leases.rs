//! Leases on both backends: acquire, renew, release and break through the
//! library; checkpoints through a lease fenced by epoch and by the store's
//! clock; `lease list`, `lease break`, the lease fields of `get`,
//! `describe` and `status`; operator writes with a note and `--fence`; two
//! leased consumer processes handing a cursor over when one is stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cursorctl::lease::{self, Lease};
use cursorctl::{Access, ConsumerCursor, CursorKey, DurabilityError, Store};
use proptest::prelude::*;
use serde_json::Value;

use crate::common::{backend_tests, stderr, stdout, Backend, Env, BIN};

const KEY: &str = "billing:orders:3";

fn writer(env: &Env) -> Box<dyn Store> {
    cursorctl::store::open(&env.location(), Access::ReadWrite, Duration::from_secs(10))
        .expect("open the store")
}

fn key() -> CursorKey {
    CursorKey::parse(KEY).unwrap()
}

/// Make every lease of the store expired, as time passing would.
fn expire_all(env: &Env) {
    env.execute("UPDATE leases SET expires_at = expires_at - 3600000");
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

backend_tests!(
    acquire_is_refused_while_another_owner_holds_it,
    checkpoint_through_a_broken_or_expired_lease_is_fenced,
    operators_see_and_break_leases,
    operator_writes_note_the_holder_and_fence,
    status_counts_orphaned_cursors,
    renewal_keeps_the_lease_live,
    driver_renews_the_lease_it_holds,
    leased_consumers_hand_over_when_one_is_stopped,
    random_interleavings_never_accept_an_old_epoch,
);

fn acquire_is_refused_while_another_owner_holds_it(backend: Backend) {
    let env = Env::on(backend);
    let store = writer(&env);
    let a = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(60)).unwrap();
    assert_eq!(a.epoch(), 1);
    let err = lease::acquire(&*store, &key(), "host-b", Duration::from_secs(60)).unwrap_err();
    match &err {
        DurabilityError::LeaseHeld {
            owner, expires_at, ..
        } => {
            assert_eq!(owner, "host-a");
            assert_eq!(*expires_at, a.expires_at());
        }
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
    assert!(err.to_string().contains("host-a"), "{err}");
    // Expired: taken over, epoch + 1.
    expire_all(&env);
    let b = lease::acquire(&*store, &key(), "host-b", Duration::from_secs(60)).unwrap();
    assert_eq!(b.epoch(), 2);
}

fn checkpoint_through_a_broken_or_expired_lease_is_fenced(backend: Backend) {
    let env = Env::on(backend);
    let store = writer(&env);
    let l = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(60)).unwrap();
    let mut cursor = ConsumerCursor::new("billing", "orders:3");
    cursor.checkpoint(&l.guard(&*store), 5).unwrap();
    cursor.checkpoint(&l.guard(&*store), 9).unwrap();
    assert_eq!(env.offset("billing", "orders:3"), Some(9));
    // Expired: fenced, nothing written.
    expire_all(&env);
    let before = env.dump();
    let err = cursor.checkpoint(&l.guard(&*store), 12).unwrap_err();
    assert!(err.is_fenced(), "{err}");
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(env.dump(), before, "a fenced checkpoint writes nothing");
    // Taken over: the old epoch is fenced even though a lease is live.
    let l2 = lease::acquire(&*store, &key(), "host-b", Duration::from_secs(60)).unwrap();
    let before = env.dump();
    let err = cursor.checkpoint(&l.guard(&*store), 12).unwrap_err();
    assert!(err.is_fenced(), "{err}");
    assert_eq!(env.dump(), before);
    let mut other = ConsumerCursor::new("billing", "orders:3");
    let _ = other.resync(&*store).unwrap();
    other.checkpoint(&l2.guard(&*store), 15).unwrap();
    assert_eq!(env.offset("billing", "orders:3"), Some(15));
}

fn operators_see_and_break_leases(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:3", "7", "--create"]);
    env.ok(&["set", "billing", "orders:4", "7", "--create"]);
    let store = writer(&env);
    let l = lease::acquire(&*store, &key(), "host-7:pid-4121", Duration::from_secs(600)).unwrap();
    for format in ["table", "json", "ndjson", "tsv"] {
        let out = env.ok(&["lease", "list", "-o", format]);
        assert!(out.contains("host-7:pid-4121"), "{format}: {out}");
        assert!(out.contains("live"), "{format}: {out}");
    }
    let listed = lines(&env.ok(&["lease", "list", "billing", "-o", "ndjson"]));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["key"], KEY);
    assert_eq!(listed[0]["epoch"], 1);
    assert_eq!(listed[0]["state"], "live");
    // get: owner and lease_expires_at; null without a live lease.
    let got = lines(&env.ok(&["get", "billing", "-o", "ndjson"]));
    assert_eq!(got[0]["owner"], "host-7:pid-4121");
    assert!(got[0]["lease_expires_at"].is_string());
    assert!(got[1]["owner"].is_null());
    assert!(got[1]["lease_expires_at"].is_null());
    let one: Value = serde_json::from_str(&env.ok(&["get", KEY, "-o", "json"])).unwrap();
    assert_eq!(one["owner"], "host-7:pid-4121");
    let described = lines(&env.ok(&["describe", "-o", "ndjson"]));
    assert_eq!(described[0]["live_leases"], 1);
    // Break: epoch + 1, recorded; the holder is fenced.
    let history_before = env.history_len();
    let out = env.run(&[
        "lease",
        "break",
        KEY,
        "--reason",
        "host-7 hung",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let broken: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(broken["epoch"], 2);
    assert_eq!(broken["state"], "expired");
    assert_eq!(env.history_len(), history_before + 1);
    let row = env.history().pop().unwrap();
    assert_eq!(row.command, "lease break");
    assert!(row.reason.unwrap().contains("host-7 hung"));
    let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 7);
    let before = env.dump();
    assert!(cursor
        .checkpoint(&l.guard(&*store), 8)
        .unwrap_err()
        .is_fenced());
    assert_eq!(env.dump(), before);
    // Nothing live to break: exit 5, store unchanged.
    env.fails(5, &["lease", "break", KEY, "--reason", "again"]);
    assert_eq!(env.dump(), before);
    // A reason is required.
    env.fails(2, &["lease", "break", KEY]);
    let got = lines(&env.ok(&["get", "billing", "-o", "ndjson"]));
    assert!(got[0]["owner"].is_null());
}

fn operator_writes_note_the_holder_and_fence(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:3", "7", "--create"]);
    let store = writer(&env);
    let l = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(600)).unwrap();
    let out = env.run(&["advance", "billing", "orders:3", "--by", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("leased by host-a"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(9));
    // The lease is still live: the holder's next checkpoint is stale, not fenced.
    let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 7);
    let err = cursor.checkpoint(&l.guard(&*store), 8).unwrap_err();
    assert!(err.is_stale(), "{err}");
    // --fence: the lease is broken in the same transaction.
    let out = env.run(&["set", "billing", "orders:3", "20", "--fence"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--fence breaks that lease"),
        "{}",
        stderr(&out)
    );
    let listed = lines(&env.ok(&["lease", "list", "-o", "ndjson"]));
    assert_eq!(listed[0]["epoch"], 2);
    assert_eq!(listed[0]["state"], "expired");
    let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 20);
    let before = env.dump();
    assert!(cursor
        .checkpoint(&l.guard(&*store), 21)
        .unwrap_err()
        .is_fenced());
    assert_eq!(env.dump(), before);
    // --fence on a read is refused.
    env.fails(2, &["get", "--fence"]);
}

fn status_counts_orphaned_cursors(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:3", "7", "--create"]);
    env.ok(&["set", "billing", "orders:4", "7", "--create"]);
    env.ok(&["set", "other", "orders:3", "7", "--create"]);
    env.ok(&["head", "set", "orders:3", "100"]);
    env.ok(&["head", "set", "orders:4", "100"]);
    let store = writer(&env);
    // Without leases nothing is orphaned.
    let out = env.run(&["status", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let _l = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(600)).unwrap();
    let out = env.run(&["status", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let statuses: Vec<(String, String)> = lines(&stdout(&out))
        .iter()
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("billing:orders:3".to_owned(), "behind".to_owned()),
            ("billing:orders:4".to_owned(), "orphaned".to_owned()),
            ("other:orders:3".to_owned(), "behind".to_owned()),
        ]
    );
}

fn renewal_keeps_the_lease_live(backend: Backend) {
    let env = Env::on(backend);
    let store = writer(&env);
    let mut l = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(60)).unwrap();
    let first = l.expires_at();
    std::thread::sleep(Duration::from_millis(5));
    l.renew(&*store).unwrap();
    assert!(l.expires_at() > first);
    expire_all(&env);
    let err = l.renew(&*store).unwrap_err();
    assert!(err.is_fenced(), "{err}");
    // Released: the next owner need not wait.
    let mut l = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(60)).unwrap();
    l.renew(&*store).unwrap();
    l.release(&*store).unwrap();
    let b = lease::acquire(&*store, &key(), "host-b", Duration::from_secs(60)).unwrap();
    assert_eq!(b.epoch(), 3);
}

fn driver_renews_the_lease_it_holds(backend: Backend) {
    let env = Env::on(backend);
    let store = writer(&env);
    let held = lease::acquire(&*store, &key(), "host-a", Duration::from_secs(2)).unwrap();
    let first = held.expires_at();
    let mut driver = cursorctl::CheckpointDriver::new(cursorctl::CheckpointPolicy::PerMessage);
    driver.hold_lease(held);
    let mut cursor = ConsumerCursor::new("billing", "orders:3");
    // Before half its time to live: checkpoints only.
    driver.record_processed(&mut cursor, &*store, 1).unwrap();
    assert_eq!(driver.lease().unwrap().expires_at(), first);
    assert_eq!(store.lease(&key()).unwrap().unwrap().expires_at, first);
    // Past half of it: the checkpoint, then the renewal.
    std::thread::sleep(Duration::from_millis(1100));
    driver.record_processed(&mut cursor, &*store, 2).unwrap();
    let renewed = driver.lease().unwrap().expires_at();
    assert!(renewed > first, "{renewed} <= {first}");
    assert_eq!(store.lease(&key()).unwrap().unwrap().expires_at, renewed);
    assert!(!driver.lease().unwrap().renew_due());
    assert_eq!(env.offset("billing", "orders:3"), Some(2));
    // Broken by an operator: the next checkpoint is fenced, the offset
    // stays pending, nothing is written.
    env.ok(&["lease", "break", KEY, "--reason", "test"]);
    let before = env.dump();
    let err = driver
        .record_processed(&mut cursor, &*store, 3)
        .unwrap_err();
    assert!(err.is_fenced(), "{err}");
    assert_eq!(env.dump(), before);
}

/// The example consumer, built beside the binary by `cargo test`.
pub(crate) fn consumer_example() -> std::path::PathBuf {
    let bin = std::path::Path::new(BIN);
    bin.parent().unwrap().join("examples").join("consumer")
}

pub(crate) fn spawn_consumer(
    env: &Env,
    owner: &str,
    count: u64,
) -> (Child, mpsc::Receiver<String>) {
    // A lease of 1.5 s renewed at half its time: long beside the pace of
    // 50 ms a message, so that a loaded machine does not let a running
    // holder's lease expire, and short enough for the hand-over to be quick.
    let mut child = Command::new(consumer_example())
        .arg(env.db_arg())
        .args(["billing", "orders:3", &count.to_string()])
        .args(["--lease", owner, "--ttl-ms", "1500", "--pace-ms", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the consumer example");
    let rx = read_lines(&mut child);
    (child, rx)
}

/// The lines of a child's stdout as they come.
pub(crate) fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub(crate) fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc_kill(pid, sig) }, 0);
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

const SIGCONT: i32 = 18;
pub(crate) const SIGKILL: i32 = 9;

/// Kills the processes it names when dropped (after a panic too).
pub(crate) struct Reap(pub(crate) Vec<u32>);

impl Drop for Reap {
    fn drop(&mut self) {
        for pid in &self.0 {
            if let Ok(pid) = i32::try_from(*pid) {
                // SAFETY: a plain kill(2) of our own child; one that has
                // already exited and been waited for makes it fail, harmlessly.
                unsafe {
                    libc_kill(pid, SIGKILL);
                }
            }
        }
    }
}
const SIGSTOP: i32 = 19;

pub(crate) fn wait_for(
    rx: &mpsc::Receiver<String>,
    log: &mut Vec<String>,
    want: impl Fn(&str) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out; log: {log:?}"));
        let hit = want(&line);
        log.push(line);
        if hit {
            return;
        }
    }
}

fn leased_consumers_hand_over_when_one_is_stopped(backend: Backend) {
    if !consumer_example().exists() {
        panic!(
            "{} is missing: cargo test builds the examples",
            consumer_example().display()
        );
    }
    let env = Env::on(backend);
    let total = 150;
    let (mut a, rx_a) = spawn_consumer(&env, "host-a", total);
    let mut log_a = Vec::new();
    wait_for(&rx_a, &mut log_a, |l| l == "checkpointed 20");
    let (mut b, rx_b) = spawn_consumer(&env, "host-b", total);
    // A failing assertion must not leave the consumers behind (a stopped
    // one would keep the test run waiting on their output).
    let _reap = Reap(vec![a.id(), b.id()]);
    let mut log_b: Vec<String> = Vec::new();
    // B waits while A holds the lease, naming it: it processes nothing.
    wait_for(&rx_b, &mut log_b, |l| l.starts_with("waiting "));
    assert!(log_b[0].starts_with("waiting host-a "), "{log_b:?}");
    assert!(
        rx_b.try_recv().is_err(),
        "B must wait while A holds the lease"
    );
    // Stop A just after a checkpoint, while it paces itself between
    // messages: stopped inside a write, it would hold SQLite's write lock
    // (or PostgreSQL's row lock) and nobody could take over until it went on.
    log_a.extend(rx_a.try_iter());
    wait_for(&rx_a, &mut log_a, |l| l.starts_with("checkpointed "));
    signal(&a, SIGSTOP);
    // Past A's expiry, B takes over from A's last checkpoint.
    wait_for(&rx_b, &mut log_b, |l| l.starts_with("acquired"));
    let stopped_at: u64 = log_b
        .last()
        .unwrap()
        .strip_prefix("acquired 2 ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{log_b:?}"));
    // B goes on from A's last checkpoint.
    std::thread::sleep(Duration::from_millis(100));
    log_a.extend(rx_a.try_iter());
    let last_a = log_a
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("checkpointed ")?.parse::<u64>().ok());
    // (A may have been stopped between a checkpoint and its line.)
    let last_a = last_a.unwrap_or(0);
    assert!(
        stopped_at == last_a || stopped_at == last_a + 1,
        "B resumed at {stopped_at}; {log_a:?}"
    );
    wait_for(&rx_b, &mut log_b, |l| {
        l == format!("checkpointed {}", stopped_at + 20)
    });
    signal(&a, SIGCONT);
    // A's next checkpoint is refused as fenced.
    wait_for(&rx_a, &mut log_a, |l| l.starts_with("fenced"));
    let fenced = log_a.last().unwrap().clone();
    assert!(fenced.contains("fenced"), "{fenced}");
    assert!(b.wait().unwrap().success());
    assert!(a.wait().unwrap().success());
    // Both exited: read their output to the end.
    log_a.extend(rx_a.iter());
    log_b.extend(rx_b.iter());
    assert_eq!(
        env.offset("billing", "orders:3"),
        Some(i64::try_from(total).unwrap())
    );
    // Every offset checkpointed exactly once across the hand-over.
    let mut checkpointed: Vec<u64> = log_a
        .iter()
        .chain(&log_b)
        .filter_map(|l| l.strip_prefix("checkpointed ")?.parse().ok())
        .collect();
    checkpointed.sort_unstable();
    assert_eq!(
        checkpointed,
        (1..=total).collect::<Vec<_>>(),
        "A: {log_a:?}\nB: {log_b:?}"
    );
    // After the fence, A processed nothing until it held the lease again.
    let after_fence: Vec<&String> = log_a
        .iter()
        .skip_while(|l| !l.starts_with("fenced"))
        .skip(1)
        .take_while(|l| !l.starts_with("acquired"))
        .collect();
    assert!(
        after_fence.iter().all(|l| !l.starts_with("processed")),
        "{log_a:?}"
    );
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Op {
    Acquire(usize),
    Renew(usize),
    Expire,
    Break,
    Checkpoint(usize),
    Release(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize).prop_map(Op::Acquire),
        (0..3usize).prop_map(Op::Renew),
        Just(Op::Expire),
        Just(Op::Break),
        (0..3usize).prop_map(Op::Checkpoint),
        (0..3usize).prop_map(Op::Checkpoint),
        (0..3usize).prop_map(Op::Release),
    ]
}

/// The expected state beside the real store.
#[derive(Default, Debug)]
struct Model {
    epoch: u64,
    owner: Option<usize>,
    live: bool,
    offset: u64,
}

fn run_interleaving(backend: Backend, ops: &[Op]) {
    let env = Env::on(backend);
    let store = writer(&env);
    let k = key();
    let mut model = Model::default();
    let mut held: [Option<Lease>; 3] = [None, None, None];
    for op in ops {
        match *op {
            Op::Acquire(i) => {
                let got =
                    lease::acquire(&*store, &k, &format!("owner-{i}"), Duration::from_secs(600));
                let may = !model.live || model.owner == Some(i);
                match got {
                    Ok(l) => {
                        assert!(may, "acquired over a live lease: {model:?}");
                        model.epoch += 1;
                        assert_eq!(l.epoch(), model.epoch);
                        model.owner = Some(i);
                        model.live = true;
                        held[i] = Some(l);
                    }
                    Err(e) => assert!(!may && e.is_lease_held(), "{e}: {model:?}"),
                }
            }
            Op::Renew(i) => {
                if let Some(l) = &mut held[i] {
                    let ok = model.live && l.epoch() == model.epoch;
                    match l.renew(&*store) {
                        Ok(()) => assert!(ok, "renewed a lost lease: {model:?}"),
                        Err(e) => assert!(!ok && e.is_fenced(), "{e}: {model:?}"),
                    }
                }
            }
            Op::Expire => {
                expire_all(&env);
                model.live = false;
            }
            Op::Break => {
                let broke = store
                    .begin_write()
                    .and_then(|txn| {
                        let was = lease::break_lease(&*txn, &k)?;
                        txn.commit()?;
                        Ok(was)
                    })
                    .unwrap();
                assert_eq!(broke.is_some(), model.live);
                if model.live {
                    model.epoch += 1;
                    model.live = false;
                }
            }
            Op::Release(i) => {
                if let Some(l) = held[i].take() {
                    let ok = model.live && l.epoch() == model.epoch;
                    match l.release(&*store) {
                        Ok(()) => {
                            assert!(ok, "released a lost lease: {model:?}");
                            model.live = false;
                        }
                        Err(e) => assert!(!ok && e.is_fenced(), "{e}: {model:?}"),
                    }
                }
            }
            Op::Checkpoint(i) => {
                if let Some(l) = &held[i] {
                    let ok = model.live && l.epoch() == model.epoch;
                    let mut cursor =
                        ConsumerCursor::from_persisted("billing", "orders:3", model.offset);
                    let before = env.dump();
                    match cursor.checkpoint(&l.guard(&*store), model.offset + 1) {
                        Ok(()) => {
                            assert!(
                                ok,
                                "accepted a checkpoint of epoch {} on {model:?}",
                                l.epoch()
                            );
                            model.offset += 1;
                        }
                        Err(e) => {
                            assert!(!ok && e.is_fenced(), "{e}: {model:?}");
                            assert_eq!(env.dump(), before, "a fenced checkpoint wrote");
                        }
                    }
                }
            }
        }
        let stored = env
            .offset("billing", "orders:3")
            .map_or(0, |o| u64::try_from(o).unwrap());
        assert_eq!(stored, model.offset);
    }
}

fn random_interleavings_never_accept_an_old_epoch(backend: Backend) {
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..30))| {
        run_interleaving(backend, &ops);
    });
}

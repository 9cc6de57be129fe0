//! Client clocks skewed by half an hour change nothing about leases: their
//! expiry is judged by the store's clock. Leased consumer processes (the
//! `consumer` example) run with their wall clock and monotonic clock moved
//! by libfaketime (`LD_PRELOAD`, `FAKETIME`), against a PostgreSQL store,
//! whose clock is the server's `clock_timestamp()`. Had the library taken
//! the client's clock for an acquisition's time or for judging a lease
//! live, the lease rows would carry times half an hour off the server's,
//! a consumer ahead would take over a live lease, and one behind would be
//! fenced by its own fresh lease.
//!
//! On SQLite the store's clock is the clock of the host the file is on,
//! which every process using it reads: there is no other clock to skew
//! against (docs/departures.md, "Leases").
//!
//! Also on PostgreSQL only: a leased checkpoint and a renewal after the
//! server ended the connection connect again, as plain checkpoints do.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cursorctl::lease;
use cursorctl::store::LeaseRow;
use cursorctl::{Access, ConsumerCursor, CursorKey, Store};

use crate::common::{pg_admin, require_tool, Backend, Env, PgSchema};
use crate::leases::{consumer_example, read_lines, signal, wait_for, Reap, SIGKILL};

const KEY: &str = "billing:orders:3";

/// libfaketime's library for programs with threads, where Debian puts it.
fn libfaketime() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(Result::ok)
        .map(|dir| dir.path().join("faketime/libfaketimeMT.so.1"))
        .chain([PathBuf::from("/usr/lib/faketime/libfaketimeMT.so.1")])
        .find(|path| path.exists())
}

/// A leased consumer whose clocks are moved by `offset` (`+30m`, `-30m`).
fn spawn_skewed(
    env: &Env,
    offset: &str,
    owner: &str,
    ttl_ms: u64,
    pace_ms: u64,
    end: u64,
) -> (Child, mpsc::Receiver<String>) {
    let library = libfaketime().expect("libfaketime is installed with faketime");
    let mut child = Command::new(consumer_example())
        .env("LD_PRELOAD", library)
        .env("FAKETIME", offset)
        .arg(env.db_arg())
        .args(["billing", "orders:3", &end.to_string()])
        .args(["--lease", owner])
        .args(["--ttl-ms", &ttl_ms.to_string()])
        .args(["--pace-ms", &pace_ms.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the consumer example");
    let rx = read_lines(&mut child);
    (child, rx)
}

fn lease_row(store: &dyn Store) -> LeaseRow {
    store
        .lease(&CursorKey::parse(KEY).unwrap())
        .unwrap()
        .expect("a lease row")
}

/// Run a skewed consumer to the end of its work and check it was never
/// fenced and that its lease was taken at a time of the store's clock.
fn run_to_end(env: &Env, store: &dyn Store, offset: &str, owner: &str, end: u64) -> LeaseRow {
    let before = store.clock_ms().unwrap();
    let (mut child, rx) = spawn_skewed(env, offset, owner, 2000, 0, end);
    let _reap = Reap(vec![child.id()]);
    let mut log = Vec::new();
    wait_for(&rx, &mut log, |l| l == "released");
    assert!(child.wait().unwrap().success(), "{log:?}");
    let after = store.clock_ms().unwrap();
    assert!(
        !log.iter().any(|l| l.starts_with("fenced")),
        "{owner} ({offset}) was fenced by its own lease: {log:?}"
    );
    assert!(log.contains(&format!("checkpointed {end}")), "{log:?}");
    let row = lease_row(store);
    assert_eq!(row.owner, owner);
    assert!(
        (before..=after).contains(&row.acquired_at),
        "{owner} ({offset}): acquired at {} on a clock other than the store's, whose time was {before}..{after}",
        row.acquired_at
    );
    row
}

#[test]
fn skewed_client_clocks_change_nothing() {
    if !Backend::Postgres.available() || !require_tool("faketime") {
        return;
    }
    assert!(
        consumer_example().exists(),
        "{} is missing: build the examples first",
        consumer_example().display()
    );
    let env = Env::on(Backend::Postgres);
    let store = cursorctl::store::open(&env.location(), Access::ReadWrite, Duration::from_secs(10))
        .unwrap();
    let key = CursorKey::parse(KEY).unwrap();

    // A lease of ten minutes, taken on the real clock. A consumer 30
    // minutes ahead would find it expired 20 minutes ago by its own clock:
    // by the store's it is live, and the consumer waits, naming its holder.
    let holder = lease::acquire(&*store, &key, "holder", Duration::from_secs(600)).unwrap();
    let (mut ahead, rx) = spawn_skewed(&env, "+30m", "ahead", 2000, 0, 20);
    let reap = Reap(vec![ahead.id()]);
    let mut log = Vec::new();
    wait_for(&rx, &mut log, |l| l.starts_with("waiting "));
    assert!(log[0].starts_with("waiting holder "), "{log:?}");
    let row = lease_row(&*store);
    assert_eq!((row.owner.as_str(), row.epoch), ("holder", 1));
    assert_eq!(store.read_value(KEY).unwrap(), None, "{log:?}");

    // Released: the consumer ahead takes it over and works to the end,
    // its lease taken and judged on the store's clock.
    let released_at = store.clock_ms().unwrap();
    holder.release(&*store).unwrap();
    wait_for(&rx, &mut log, |l| l == "released");
    assert!(ahead.wait().unwrap().success(), "{log:?}");
    drop(reap);
    assert!(!log.iter().any(|l| l.starts_with("fenced")), "{log:?}");
    let row = lease_row(&*store);
    assert_eq!((row.owner.as_str(), row.epoch), ("ahead", 2));
    assert!(
        row.acquired_at >= released_at && row.acquired_at <= store.clock_ms().unwrap(),
        "acquired at {} by the clock ahead, not the store's ({released_at} and later)",
        row.acquired_at
    );
    assert_eq!(store.read_value(KEY).unwrap(), Some(20));

    // A consumer 30 minutes behind with a lease of 2 s: by its clock the
    // lease would have expired before it was taken; it is not fenced.
    let row = run_to_end(&env, &*store, "-30m", "behind", 40);
    assert_eq!(row.epoch, 3);
    assert_eq!(store.read_value(KEY).unwrap(), Some(40));

    // A consumer ahead, killed while it holds its lease: the lease ends
    // its time to live after its last renewal on the store's clock, not
    // half an hour later.
    let (mut killed, rx) = spawn_skewed(&env, "+30m", "killed", 1500, 20, 1_000_000);
    let reap = Reap(vec![killed.id()]);
    let mut log = Vec::new();
    wait_for(&rx, &mut log, |l| l == "checkpointed 45");
    signal(&killed, SIGKILL);
    let _ = killed.wait();
    drop(reap);
    let row = lease_row(&*store);
    let now = store.clock_ms().unwrap();
    // (Fenced once on a loaded machine, it would have taken a later epoch.)
    assert_eq!(row.owner, "killed");
    assert!(row.epoch >= 4, "{row:?}");
    assert!(
        row.expires_at <= now + 1500,
        "the lease of the killed consumer expires at {}, more than its 1.5 s after the store's {now}",
        row.expires_at
    );
    // So a successor on the real clock takes over within that time.
    let successor = loop {
        match lease::acquire(&*store, &key, "successor", Duration::from_secs(60)) {
            Ok(l) => break l,
            Err(e) if e.is_lease_held() => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(successor.epoch(), row.epoch + 1);
    let mut cursor = ConsumerCursor::new("billing", "orders:3");
    let at = cursor.resync(&*store).unwrap().offset().unwrap();
    assert!(at >= 45, "{at}");
    cursor
        .checkpoint(&successor.guard(&*store), at + 1)
        .unwrap();
}

#[test]
fn leased_checkpoints_connect_again_after_a_lost_connection() {
    if !Backend::Postgres.available() {
        return;
    }
    let schema = PgSchema::new("lease_lost");
    let application = schema.name.clone();
    let location: cursorctl::StoreLocation =
        format!("{}&application_name={application}", schema.url)
            .parse()
            .unwrap();
    cursorctl::store::init(&location, Duration::from_secs(5)).unwrap();
    let store =
        cursorctl::store::open(&location, Access::ReadWrite, Duration::from_secs(10)).unwrap();
    let key = CursorKey::parse(KEY).unwrap();
    let mut held = lease::acquire(&*store, &key, "host-a", Duration::from_secs(60)).unwrap();
    let mut cursor = ConsumerCursor::new("billing", "orders:3");
    cursor.checkpoint(&held.guard(&*store), 1).unwrap();
    let kill = || {
        let ended: i64 = pg_admin()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = $1",
                &[&application],
            )
            .unwrap()
            .get(0);
        assert_eq!(ended, 1);
    };
    // The connection ended by the server: the first call may see it lost
    // (retryable, nothing written); the next connects again and writes.
    kill();
    let mut tries = 0;
    while let Err(e) = cursor.checkpoint(&held.guard(&*store), 2) {
        assert!(e.is_retryable(), "{e}");
        tries += 1;
        assert!(tries < 3, "still failing after connecting again: {e}");
    }
    assert_eq!(store.read_value(KEY).unwrap(), Some(2));
    kill();
    let mut tries = 0;
    while let Err(e) = held.renew(&*store) {
        assert!(e.is_retryable(), "{e}");
        tries += 1;
        assert!(tries < 3, "still failing after connecting again: {e}");
    }
    cursor.checkpoint(&held.guard(&*store), 3).unwrap();
    assert_eq!(store.read_value(KEY).unwrap(), Some(3));
}

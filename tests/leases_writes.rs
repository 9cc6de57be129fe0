//! Operator writes to leased cursors, every kind of them, on both
//! backends: `set --from-file`, `undo`, `copy`, `snapshot restore`,
//! `advance --to-head` and `delete` name the holder of each live lease they
//! write over, and with `--fence` break it in the same transaction (epoch +
//! 1, recorded in the history), so that the old holder's next library
//! checkpoint is fenced. A dry run shows the same and changes nothing; a
//! refused write changes nothing, leases included.

use std::time::Duration;

use cursorctl::lease::{self, Lease};
use cursorctl::{Access, ConsumerCursor, CursorKey, Store};
use serde_json::Value;

use crate::common::{backend_tests, stderr, Backend, Env};

fn writer(env: &Env) -> Box<dyn Store> {
    cursorctl::store::open(&env.location(), Access::ReadWrite, Duration::from_secs(10))
        .expect("open the store")
}

fn acquire(store: &dyn Store, key: &str, owner: &str) -> Lease {
    let key = CursorKey::parse(key).unwrap();
    lease::acquire(store, &key, owner, Duration::from_secs(600)).expect("acquire")
}

/// Each lease as `lease list` shows it: key -> (owner, epoch, state).
fn leases(env: &Env) -> Vec<(String, String, u64, String)> {
    env.ok(&["lease", "list", "-o", "ndjson"])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["key"].as_str().unwrap().to_owned(),
                v["owner"].as_str().unwrap().to_owned(),
                v["epoch"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A checkpoint through `held` (the cursor said to be at `at`) is refused
/// as fenced and writes nothing.
fn assert_fenced(env: &Env, store: &dyn Store, held: &Lease, at: u64) {
    let key = CursorKey::parse(held.key()).unwrap();
    let mut cursor = ConsumerCursor::from_persisted(
        key.consumer().as_str(),
        key.partition_key().to_string(),
        at,
    );
    let before = env.dump();
    let err = cursor.checkpoint(&held.guard(store), at + 1).unwrap_err();
    assert!(err.is_fenced(), "{}: {err}", held.key());
    assert_eq!(env.dump(), before, "a fenced checkpoint writes nothing");
}

fn note_naming(owner: &str, key: &str) -> String {
    format!("note: {key} is leased by {owner} (epoch")
}

backend_tests!(
    bulk_writes_note_each_holder_and_fence,
    bulk_write_refused_leaves_leases_unbroken,
    every_operator_write_notes_and_fences,
);

fn bulk_writes_note_each_holder_and_fence(backend: Backend) {
    let env = Env::on(backend);
    for p in ["orders:3", "orders:4", "orders:5"] {
        env.ok(&["set", "billing", p, "7", "--create"]);
    }
    let store = writer(&env);
    let a = acquire(&*store, "billing:orders:3", "host-a");
    let b = acquire(&*store, "billing:orders:4", "host-b");
    let input = |offset: u64| {
        ["orders:3", "orders:4", "orders:5"]
            .iter()
            .map(|p| format!("{{\"key\":\"billing:{p}\",\"offset\":{offset}}}\n"))
            .collect::<String>()
    };

    // Without --fence: the write goes through, one note per holder.
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "ndjson"], input(10));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&note_naming("host-a", "billing:orders:3")),
        "{err}"
    );
    assert!(
        err.contains(&note_naming("host-b", "billing:orders:4")),
        "{err}"
    );
    assert!(!err.contains("billing:orders:5 is leased"), "{err}");
    assert!(err.contains("the write goes through"), "{err}");
    assert_eq!(env.offset("billing", "orders:5"), Some(10));
    assert_eq!(
        leases(&env),
        [
            ("billing:orders:3".into(), "host-a".into(), 1, "live".into()),
            ("billing:orders:4".into(), "host-b".into(), 1, "live".into()),
        ]
    );

    // A dry run with --fence: the same notes, nothing changed.
    let before = env.dump();
    let out = env.run_stdin(
        &[
            "set",
            "--from-file",
            "-",
            "--fence",
            "--dry-run",
            "-o",
            "ndjson",
        ],
        input(20),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    for (owner, key) in [
        ("host-a", "billing:orders:3"),
        ("host-b", "billing:orders:4"),
    ] {
        assert!(err.contains(&note_naming(owner, key)), "{err}");
    }
    assert_eq!(err.matches("--fence breaks that lease").count(), 2, "{err}");
    assert_eq!(env.dump(), before, "a dry run changes nothing");

    // With --fence: both leases broken in the write's transaction,
    // recorded in the history; the old holders are fenced.
    let history_before = env.history_len();
    let out = env.run_stdin(&["set", "--from-file", "-", "--fence"], input(20));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("--fence breaks that lease").count(),
        2,
        "{}",
        stderr(&out)
    );
    assert_eq!(
        leases(&env),
        [
            (
                "billing:orders:3".into(),
                "host-a".into(),
                2,
                "expired".into()
            ),
            (
                "billing:orders:4".into(),
                "host-b".into(),
                2,
                "expired".into()
            ),
        ]
    );
    let history = env.history();
    let breaks: Vec<_> = history
        .iter()
        .skip(usize::try_from(history_before).unwrap())
        .filter(|row| row.command == "lease break")
        .collect();
    assert_eq!(breaks.len(), 2, "{history:?}");
    for row in &breaks {
        let reason = row.reason.as_deref().unwrap();
        assert!(reason.starts_with("--fence by set"), "{reason}");
    }
    assert_eq!(env.history_len(), history_before + 5);
    for p in ["orders:3", "orders:4", "orders:5"] {
        assert_eq!(env.offset("billing", p), Some(20));
    }
    assert_fenced(&env, &*store, &a, 20);
    assert_fenced(&env, &*store, &b, 20);
    // The next owner takes over at the next epoch and checkpoints.
    let c = acquire(&*store, "billing:orders:3", "host-c");
    assert_eq!(c.epoch(), 3);
    let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 20);
    cursor.checkpoint(&c.guard(&*store), 21).unwrap();
    assert_eq!(env.offset("billing", "orders:3"), Some(21));
}

fn bulk_write_refused_leaves_leases_unbroken(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:3", "7", "--create"]);
    env.ok(&["set", "billing", "orders:4", "7", "--create"]);
    let store = writer(&env);
    let a = acquire(&*store, "billing:orders:3", "host-a");
    let before = env.dump();
    // The second line is a regression: the whole write is refused (exit 4),
    // the lease of the first line's cursor is not broken.
    let input = "{\"key\":\"billing:orders:3\",\"offset\":30}\n\
                 {\"key\":\"billing:orders:4\",\"offset\":2}\n";
    let out = env.run_stdin(&["set", "--from-file", "-", "--fence"], input);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(env.dump(), before, "a refused write changes nothing");
    // The holder still checkpoints.
    let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 7);
    cursor.checkpoint(&a.guard(&*store), 8).unwrap();
    assert_eq!(env.offset("billing", "orders:3"), Some(8));
}

/// One operator write of `args` over the live lease of `owner` on
/// billing:orders:3 (at offset `at`): without --fence and with it, dry
/// runs first (notes, nothing changed), then with --fence for real (the
/// lease broken, recorded, its holder fenced).
fn fence_through(env: &Env, store: &dyn Store, owner: &str, at: u64, args: &[&str]) {
    const KEY: &str = "billing:orders:3";
    let held = acquire(store, KEY, owner);
    let run = |extra: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        let out = env.run(&all);
        assert_eq!(out.status.code(), Some(0), "{all:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&note_naming(owner, KEY)), "{all:?}: {err}");
        err
    };
    let before = env.dump();
    let err = run(&["--dry-run"]);
    assert!(err.contains("the write goes through"), "{args:?}: {err}");
    assert_eq!(env.dump(), before, "{args:?} --dry-run changed the store");
    let err = run(&["--dry-run", "--fence"]);
    assert!(err.contains("--fence breaks that lease"), "{args:?}: {err}");
    assert_eq!(
        env.dump(),
        before,
        "{args:?} --dry-run --fence changed the store"
    );
    let history_before = env.history_len();
    run(&["--fence"]);
    let listed = leases(env);
    let (_, listed_owner, epoch, state) = listed.iter().find(|l| l.0 == KEY).unwrap();
    assert_eq!(
        (listed_owner.as_str(), *epoch, state.as_str()),
        (owner, held.epoch() + 1, "expired"),
        "{args:?}"
    );
    let recorded = env.history();
    let row = recorded
        .iter()
        .skip(usize::try_from(history_before).unwrap())
        .find(|row| row.command == "lease break")
        .unwrap_or_else(|| panic!("{args:?}: no lease break recorded: {recorded:?}"));
    assert!(
        row.reason.as_deref().unwrap().starts_with("--fence by "),
        "{row:?}"
    );
    assert_fenced(env, store, &held, at);
}

fn every_operator_write_notes_and_fences(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "billing", "orders:3", "7", "--create"]);
    env.ok(&["set", "staging", "orders:3", "50", "--create"]);
    let store = writer(&env);

    // undo of the last change (7 -> 9), back to 7.
    env.ok(&["set", "billing", "orders:3", "9"]);
    let id = env.history().last().unwrap().id.to_string();
    fence_through(
        &env,
        &*store,
        "host-undo",
        9,
        &["undo", &id, "--reason", "r"],
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(7));

    // copy staging's offsets onto billing's: 7 -> 50.
    fence_through(
        &env,
        &*store,
        "host-copy",
        7,
        &["copy", "staging", "billing"],
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(50));

    // snapshot restore: back to the saved 50 from 60.
    env.ok(&["snapshot", "save", "before", "billing", "--reason", "r"]);
    env.ok(&["set", "billing", "orders:3", "60"]);
    fence_through(
        &env,
        &*store,
        "host-restore",
        60,
        &["snapshot", "restore", "before", "--reason", "r"],
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(50));

    // advance --to-head: 50 -> 100.
    env.ok(&["head", "set", "orders:3", "100"]);
    fence_through(
        &env,
        &*store,
        "host-head",
        50,
        &[
            "advance",
            "billing",
            "orders:3",
            "--to-head",
            "--reason",
            "r",
        ],
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(100));

    // delete.
    fence_through(
        &env,
        &*store,
        "host-delete",
        100,
        &["delete", "billing", "orders:3", "--reason", "r"],
    );
    assert_eq!(env.offset("billing", "orders:3"), None);
}

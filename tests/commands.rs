//! The operator commands of the second round through the built binary:
//! delete. Every refused write is checked against a dump of the store
//! taken before it.

use crate::common;

use common::{stderr, Env};

fn seeded() -> Env {
    let env = Env::new();
    env.seed(&[
        ("old", "orders:1", 5),
        ("old", "orders:2", 0),
        ("old", "audit:1", 7),
        ("keep", "orders:1", 9),
    ]);
    env
}

fn keys(env: &Env) -> Vec<String> {
    env.ok(&["get", "-o", "tsv"])
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect()
}

#[test]
fn delete_removes_one_cursor_as_a_batch_that_undo_puts_back() {
    let env = seeded();
    let out = env.ok(&[
        "delete", "old", "orders:1", "--reason", "retired", "-o", "json",
    ]);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["key"], "old:orders:1");
    assert_eq!(rows[0]["old_offset"], 5);
    assert_eq!(rows[0]["new_offset"], serde_json::Value::Null);
    assert_eq!(rows[0]["status"], "removed");
    assert_eq!(env.offset("old", "orders:1"), None);
    // A deleted cursor reads as 0 again.
    assert_eq!(env.ok(&["get", "old", "orders:1", "-o", "value"]), "0\n");
    let history = env.ok(&["history", "old", "orders:1", "-o", "ndjson"]);
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(last["command"], "delete");
    assert_eq!(last["reason"], "retired");
    let batch = last["batch"].as_i64().unwrap();
    env.ok(&["undo", "--batch", &batch.to_string()]);
    assert_eq!(env.offset("old", "orders:1"), Some(5));
}

#[test]
fn undo_of_a_deletion_is_refused_when_the_cursor_exists_again() {
    let env = seeded();
    env.ok(&["delete", "old:orders:1", "--reason", "retired", "-q"]);
    let id = env.history_len();
    env.ok(&["set", "old", "orders:1", "3", "--create", "-q"]);
    let before = env.dump();
    let err = env.fails(3, &["undo", &id.to_string()]);
    assert!(err.contains("exists again"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn delete_above_zero_needs_a_reason_and_changes_nothing_without_one() {
    let env = seeded();
    let before = env.dump();
    let err = env.fails(2, &["delete", "old", "orders:1"]);
    assert!(err.contains("needs --reason"), "{err}");
    assert_eq!(env.dump(), before);
    // At 0 it is no rewind.
    env.ok(&["delete", "old", "orders:2", "-q"]);
    assert_eq!(env.offset("old", "orders:2"), None);
}

#[test]
fn delete_refusals_leave_the_store_unchanged() {
    let env = seeded();
    let before = env.dump();
    env.fails(
        3,
        &[
            "delete", "old", "orders:1", "--expect", "4", "--reason", "x",
        ],
    );
    env.fails(5, &["delete", "old", "orders:9", "--reason", "x"]);
    env.fails(2, &["delete", "--reason", "x"]);
    env.fails(2, &["delete", "old", "--expect", "5", "--reason", "x"]);
    env.fails(
        2,
        &[
            "delete",
            "old:orders:1",
            "--channel",
            "orders",
            "--reason",
            "x",
        ],
    );
    env.fails(2, &["delete", "old", "orders:1", "--reason", " "]);
    assert_eq!(env.dump(), before);
    // --expect that matches removes it.
    env.ok(&[
        "delete", "old", "orders:1", "--expect", "5", "--reason", "x", "-q",
    ]);
    assert_eq!(env.offset("old", "orders:1"), None);
}

#[test]
fn delete_of_a_consumer_takes_every_matching_cursor_or_none() {
    let env = seeded();
    let before = env.dump();
    // One cursor above 0 without a reason refuses the whole batch.
    let err = env.fails(2, &["delete", "old"]);
    assert!(err.contains("2 of 3 cursors fail"), "{err}");
    assert_eq!(env.dump(), before);
    env.ok(&[
        "delete",
        "old",
        "--channel",
        "orders",
        "--reason",
        "stale group",
        "-q",
    ]);
    assert_eq!(keys(&env), ["keep:orders:1", "old:audit:1"]);
}

#[test]
fn delete_idle_for_takes_only_cursors_idle_that_long() {
    let env = seeded();
    // Make two cursors look idle for a day, as a stopped consumer's would.
    let day_ago = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
        - 86_400_000;
    env.conn()
        .execute(
            "UPDATE cursors SET updated_at = ?1 WHERE consumer = 'old' AND channel = 'orders'",
            [day_ago],
        )
        .unwrap();
    env.ok(&[
        "delete",
        "old",
        "--idle-for",
        "1h",
        "--reason",
        "stale",
        "-q",
    ]);
    assert_eq!(keys(&env), ["keep:orders:1", "old:audit:1"]);
    env.ok(&[
        "delete",
        "keep",
        "--idle-for",
        "1h",
        "--reason",
        "stale",
        "-q",
    ]);
    assert_eq!(keys(&env), ["keep:orders:1", "old:audit:1"]);
}

#[test]
fn delete_dry_run_shows_the_plan_and_writes_nothing() {
    let env = seeded();
    let before = env.dump();
    // Without --reason the dry run is refused as the real run is.
    let out = env.run(&["delete", "old", "--dry-run", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("needs --reason"), "{}", stderr(&out));
    assert_eq!(env.dump(), before);
    let out = env.run(&[
        "delete",
        "old",
        "--dry-run",
        "--reason",
        "gone",
        "-o",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let plan = String::from_utf8(out.stdout).unwrap();
    assert_eq!(plan.lines().count(), 3);
    for line in plan.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(row["status"], "removed");
        assert_eq!(row["dry_run"], true);
        assert_eq!(row["id"], serde_json::Value::Null);
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn describe_sums_up_each_consumer() {
    let env = seeded();
    let out = env.ok(&["describe", "-o", "ndjson", "--idle-for", "0s"]);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["consumer"], "keep");
    assert_eq!(rows[1]["consumer"], "old");
    assert_eq!(rows[1]["cursors"], 3);
    assert_eq!(rows[1]["channels"], 2);
    assert_eq!(rows[1]["lowest_offset"], 0);
    assert_eq!(rows[1]["highest_offset"], 7);
    assert_eq!(rows[1]["idle"], 3, "idle for 0s: every cursor");
    assert!(
        rows[1]["oldest_updated_at"].as_str().unwrap()
            <= rows[1]["newest_updated_at"].as_str().unwrap()
    );
    let out = env.ok(&["describe", "old", "-o", "ndjson"]);
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(row["idle"], 0, "nothing idle for the default hour");
    let err = env.fails(5, &["describe", "nobody", "--must-exist"]);
    assert!(err.contains("no consumer matches"), "{err}");
    env.fails(2, &["describe", "old:orders:1"]);
}

#[test]
fn copy_gives_one_consumer_the_offsets_of_another_as_one_batch() {
    let env = seeded();
    env.seed(&[("new", "orders:1", 2), ("new", "audit:1", 9)]);
    let before = env.dump();
    // new:orders:2 is missing (needs --create); new:audit:1 would go back
    // from 9 to 7 (needs --allow-rewind --reason).
    // Every failing partition is listed; the exit code is the first's
    // (in key order: the regression of new:audit:1).
    let err = env.fails(4, &["copy", "old", "new"]);
    assert!(
        err.contains("new:orders:2: cursor new:orders:2 does not exist"),
        "{err}"
    );
    assert!(err.contains("new:audit:1: cursor regression"), "{err}");
    assert_eq!(env.dump(), before);
    env.fails(4, &["copy", "old", "new", "--create"]);
    env.fails(2, &["copy", "old", "new", "--create", "--allow-rewind"]);
    env.fails(2, &["copy", "old", "old"]);
    env.fails(5, &["copy", "nobody", "new", "--create"]);
    assert_eq!(env.dump(), before);
    // The dry run fails exactly as the real run does: the same exit code,
    // the same list of failures, no records.
    let args = ["copy", "old", "new", "--create", "-o", "ndjson"];
    let real = env.run(&args);
    let dry = env.run(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.status.code(), Some(4));
    assert_eq!(dry.status.code(), real.status.code());
    assert_eq!(dry.stdout, real.stdout);
    assert!(dry.stdout.is_empty());
    assert_eq!(dry.stderr, real.stderr);
    assert_eq!(env.dump(), before);
    env.ok(&[
        "copy",
        "old",
        "new",
        "--create",
        "--allow-rewind",
        "--reason",
        "rename",
        "-q",
    ]);
    assert_eq!(env.offset("new", "orders:1"), Some(5));
    assert_eq!(env.offset("new", "orders:2"), Some(0));
    assert_eq!(env.offset("new", "audit:1"), Some(7));
    assert_eq!(
        env.offset("old", "orders:1"),
        Some(5),
        "FROM is left as it is"
    );
    let history = env.ok(&["history", "new", "-o", "ndjson"]);
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    let batch = last["batch"].as_i64().unwrap();
    env.ok(&[
        "undo",
        "--batch",
        &batch.to_string(),
        "--reason",
        "back",
        "-q",
    ]);
    assert_eq!(env.offset("new", "orders:1"), Some(2));
    assert_eq!(env.offset("new", "orders:2"), None);
    assert_eq!(env.offset("new", "audit:1"), Some(9));
}

#[test]
fn copy_of_one_channel_moves_only_its_partitions() {
    let env = seeded();
    let before = env.dump();
    // keep:orders:1 would go back from 9 to 5: the whole copy is refused.
    let err = env.fails(
        4,
        &["copy", "old", "keep", "--channel", "orders", "--create"],
    );
    assert!(err.contains("1 of 2 cursors fail"), "{err}");
    assert_eq!(env.dump(), before);
    env.ok(&[
        "copy",
        "old",
        "keep",
        "--channel",
        "orders",
        "--create",
        "--allow-rewind",
        "--reason",
        "replay",
        "-q",
    ]);
    assert_eq!(env.offset("keep", "orders:1"), Some(5));
    assert_eq!(env.offset("keep", "orders:2"), Some(0));
    assert_eq!(
        env.offset("keep", "audit:1"),
        None,
        "only the channel's partitions"
    );
}

/// An RFC 3339 time (with milliseconds) a moment from now, after the
/// changes made so far.
fn mark() -> String {
    std::thread::sleep(std::time::Duration::from_millis(20));
    let t = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    t
}

#[test]
fn undo_since_reverts_every_change_since_a_time_as_one_batch() {
    let env = seeded();
    let since = mark();
    env.ok(&["advance", "old", "orders:1", "--by", "10", "-q"]);
    env.ok(&["set", "keep", "orders:1", "20", "-q"]);
    env.ok(&["delete", "old", "audit:1", "--reason", "gone", "-q"]);
    env.ok(&["set", "new", "orders:1", "4", "--create", "-q"]);
    let before = env.dump();
    // Putting cursors back is a rewind: a reason is needed, by the dry run
    // as by the real run.
    env.fails(2, &["undo", "--since", &since, "--dry-run"]);
    env.fails(2, &["undo", "--since", &since]);
    assert_eq!(env.dump(), before);
    let args = [
        "undo",
        "--since",
        &since,
        "--reason",
        "bad deploy",
        "-o",
        "ndjson",
    ];
    let plan = env.ok(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(plan.lines().count(), 4, "{plan}");
    assert_eq!(env.dump(), before);
    let done = env.ok(&args);
    assert_eq!(
        plan.replace("\"dry_run\":true", "\"dry_run\":false")
            .lines()
            .count(),
        done.lines().count()
    );
    assert_eq!(env.offset("old", "orders:1"), Some(5));
    assert_eq!(env.offset("keep", "orders:1"), Some(9));
    assert_eq!(env.offset("old", "audit:1"), Some(7));
    assert_eq!(env.offset("new", "orders:1"), None);
    let last = env.ok(&["history", "--limit", "1", "-o", "ndjson"]);
    let last: serde_json::Value = serde_json::from_str(last.trim()).unwrap();
    assert_eq!(last["command"], "undo");
    // Nothing since a later time: nothing to do.
    let later = mark();
    let out = env.run(&["undo", "--since", &later, "--reason", "x"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no change"));
}

#[test]
fn skip_moved_leaves_the_cursors_someone_else_moved_and_lists_them() {
    let env = seeded();
    let since = mark();
    env.ok(&["advance", "old", "orders:1", "--by", "10", "-q"]);
    env.ok(&["advance", "keep", "orders:1", "--by", "10", "-q"]);
    // A consumer moves one of them on meanwhile.
    env.conn()
        .execute(
            "UPDATE cursors SET offset = 30 WHERE consumer = 'keep' AND channel = 'orders' AND partition = 1",
            [],
        )
        .unwrap();
    let before = env.dump();
    let err = env.fails(3, &["undo", "--since", &since, "--reason", "r"]);
    assert!(err.contains("keep:orders:1"), "{err}");
    assert_eq!(env.dump(), before);
    let out = env.run(&["undo", "--since", &since, "--reason", "r", "--skip-moved"]);
    assert_eq!(out.status.code(), Some(0));
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("--skip-moved left 1 change"), "{note}");
    assert!(note.contains("keep:orders:1"), "{note}");
    assert_eq!(env.offset("old", "orders:1"), Some(5));
    assert_eq!(env.offset("keep", "orders:1"), Some(30));
    // The same option for a batch.
    env.ok(&["copy", "old", "new", "--create", "-q"]);
    env.ok(&["advance", "new", "orders:1", "-q"]);
    let history = env.ok(&["history", "new", "-o", "ndjson"]);
    let first: serde_json::Value = serde_json::from_str(history.lines().next().unwrap()).unwrap();
    let batch = first["batch"].as_i64().unwrap().to_string();
    env.fails(3, &["undo", "--batch", &batch]);
    env.ok(&[
        "undo",
        "--batch",
        &batch,
        "--skip-moved",
        "--reason",
        "r",
        "-q",
    ]);
    assert_eq!(env.offset("new", "orders:1"), Some(6), "moved since: left");
    assert_eq!(env.offset("new", "audit:1"), None, "put back: removed");
    env.fails(2, &["undo", "3", "--skip-moved"]);
}

#[test]
fn get_watch_shows_each_cursors_change_and_rate_per_read() {
    let env = seeded();
    let watch = env
        .std_cmd()
        .args([
            "get",
            "old",
            "--watch=300ms",
            "--count",
            "3",
            "-o",
            "ndjson",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    env.ok(&["advance", "old", "orders:2", "--by", "30", "-q"]);
    let out = watch.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 9, "three cursors, three reads");
    let of = |tick: u64, key: &str| {
        rows.iter()
            .find(|r| r["tick"] == tick && r["key"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(of(1, "old:orders:2")["change"], serde_json::Value::Null);
    // The advance landed between the first read and the last.
    let moved: i64 = (2..=3)
        .map(|t| of(t, "old:orders:2")["change"].as_i64().unwrap())
        .sum();
    assert_eq!(moved, 30);
    assert_eq!(of(3, "old:orders:2")["offset"], 30);
    assert_eq!(of(3, "old:audit:1")["change"], 0);
}

#[test]
fn get_watch_ends_with_exit_0_on_ctrl_c() {
    let env = seeded();
    let watch = env
        .std_cmd()
        .args(["get", "--watch=100ms", "-o", "tsv"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    // SAFETY: sending a signal to a child process we own.
    unsafe {
        libc::kill(i32::try_from(watch.id()).unwrap(), libc::SIGINT);
    }
    let out = watch.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("old:orders:1"));
    env.fails(2, &["get", "--count", "2"]);
}

#[test]
fn history_prune_deletes_old_history_but_never_half_a_batch() {
    let env = seeded();
    // A bulk write whose batch straddles the prune time: one change is
    // made old, the other stays new.
    let out = env.run_stdin(
        &["set", "--from-file", "-", "--create", "-q"],
        "{\"key\":\"bulk:o:1\",\"offset\":1}\n{\"key\":\"bulk:o:2\",\"offset\":2}\n",
    );
    assert_eq!(out.status.code(), Some(0));
    let conn = env.conn();
    conn.execute(
        "UPDATE history SET at = 1000 WHERE consumer IN ('old', 'keep') OR (consumer = 'bulk' AND partition = 1)",
        [],
    )
    .unwrap();
    conn.execute("UPDATE batches SET at = 1000", []).unwrap();
    let before = env.dump();
    let plan = env.ok(&[
        "history",
        "prune",
        "--before",
        "2000-01-01",
        "--dry-run",
        "-o",
        "json",
    ]);
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan["changes"], 4, "the seeded changes, not the half batch");
    assert_eq!(plan["batches"], 0);
    assert_eq!(env.dump(), before, "a dry run deletes nothing");
    let done = env.ok(&["history", "prune", "--before", "2000-01-01", "-o", "json"]);
    let done: serde_json::Value = serde_json::from_str(&done).unwrap();
    assert_eq!(done["changes"], 4);
    let rows = env.ok(&["history", "-o", "ndjson"]);
    let keys: Vec<String> = rows
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(keys, ["bulk:o:1", "bulk:o:2"], "the batch is kept whole");
    // The prune is recorded as a batch of its own.
    let recorded: String = env
        .conn()
        .query_row(
            "SELECT command FROM batches ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(recorded.starts_with("history prune --before"), "{recorded}");
    // Cursors are untouched.
    assert_eq!(env.offset("old", "orders:1"), Some(5));
    env.fails(2, &["history", "prune"]);
}

#[test]
fn snapshot_save_a_consumer_moving_restore_and_undo_round_trip() {
    let env = seeded();
    let saved = env.ok(&[
        "snapshot", "save", "before", "old", "--reason", "deploy", "-o", "json",
    ]);
    let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["cursors"], 3);
    assert_eq!(saved["consumer"], "old");
    // The consumer moves on; one cursor is deleted, one created.
    env.ok(&["advance", "old", "orders:1", "--by", "10", "-q"]);
    env.ok(&["delete", "old", "audit:1", "--reason", "x", "-q"]);
    env.ok(&["set", "old", "orders:3", "4", "--create", "-q"]);
    let show = env.ok(&["snapshot", "show", "before", "-o", "ndjson"]);
    let statuses: Vec<String> = show
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(statuses, ["deleted", "moved", "same", "new"]);
    // Moving back needs a reason; the refusal writes nothing.
    let before = env.dump();
    env.fails(2, &["snapshot", "restore", "before"]);
    assert_eq!(env.dump(), before);
    env.fails(2, &["snapshot", "restore", "before", "--dry-run"]);
    assert_eq!(env.dump(), before);
    let plan = env.ok(&[
        "snapshot",
        "restore",
        "before",
        "--reason",
        "bad deploy",
        "--dry-run",
        "-o",
        "ndjson",
    ]);
    assert_eq!(env.dump(), before);
    assert!(plan.contains("\"dry_run\":true"), "{plan}");
    let out = env.run(&["snapshot", "restore", "before", "--reason", "bad deploy"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("old:orders:3 (at 4)"),
        "new cursors are listed"
    );
    assert_eq!(env.offset("old", "orders:1"), Some(5));
    assert_eq!(env.offset("old", "audit:1"), Some(7));
    assert_eq!(
        env.offset("old", "orders:3"),
        Some(4),
        "left without --delete-new"
    );
    assert_eq!(
        env.offset("keep", "orders:1"),
        Some(9),
        "outside the snapshot"
    );
    // The restore is one batch: undo puts the moved state back.
    let last = env.ok(&["history", "--limit", "1", "-o", "ndjson"]);
    let batch =
        serde_json::from_str::<serde_json::Value>(last.trim()).unwrap()["batch"].to_string();
    env.ok(&["undo", "--batch", &batch, "--reason", "redo", "-q"]);
    assert_eq!(env.offset("old", "orders:1"), Some(15));
    assert_eq!(env.offset("old", "audit:1"), None);
    env.ok(&[
        "snapshot",
        "restore",
        "before",
        "--reason",
        "again",
        "--delete-new",
        "-q",
    ]);
    assert_eq!(env.offset("old", "orders:3"), None);
    // Names: taken, missing.
    env.fails(2, &["snapshot", "save", "before"]);
    env.fails(5, &["snapshot", "show", "nothing"]);
    env.fails(5, &["snapshot", "save", "empty", "nobody"]);
    env.ok(&["snapshot", "drop", "before"]);
    env.fails(5, &["snapshot", "drop", "before"]);
    assert!(env.ok(&["snapshot", "list", "-o", "ndjson"]).is_empty());
}

#[test]
fn a_version_1_store_works_and_init_upgrades_it() {
    let env = seeded();
    // A store as the previous release made it: the version 1 schema.
    env.conn()
        .execute_batch(
            &format!("{}DROP TABLE snapshot_cursors; DROP TABLE snapshots; DROP TABLE heads; DROP TABLE head_history; PRAGMA user_version = 1;", crate::common::SQLITE_DOWN_FROM_V4),
        )
        .unwrap();
    let before = env.dump();
    assert_eq!(env.ok(&["get", "old", "orders:1", "-o", "value"]), "5\n");
    let err = env.fails(7, &["snapshot", "list"]);
    assert!(err.contains("run `cursorctl init` to upgrade"), "{err}");
    env.fails(7, &["snapshot", "save", "x"]);
    assert_eq!(
        env.dump(),
        before,
        "the new features refuse and change nothing"
    );
    env.ok(&["advance", "old", "orders:1", "-q"]);
    let out = env.ok(&["init", "-o", "json"]);
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["status"], "upgraded");
    assert_eq!(out["schema_version"], 4);
    env.ok(&["snapshot", "save", "after-upgrade"]);
    assert_eq!(
        env.offset("old", "orders:1"),
        Some(6),
        "the data came through"
    );
    let again = env.ok(&["init", "-o", "json"]);
    assert!(again.contains("already-initialised"), "{again}");
}

/// Candidates the shell would get for the words typed so far, through the
/// completion protocol of `COMPLETE=fish` (one candidate a line).
fn complete(env: &Env, words: &[&str]) -> Vec<String> {
    let out = env
        .std_cmd()
        .env("COMPLETE", "fish")
        .arg("--")
        .arg("cursorctl")
        .args(words)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect()
}

#[test]
fn shells_complete_consumers_and_partition_keys_from_the_store() {
    let env = seeded();
    assert_eq!(complete(&env, &["get", "o"]), ["old"]);
    // With nothing typed the options are offered too, after the consumers.
    assert_eq!(complete(&env, &["get", ""])[..2], ["keep", "old"]);
    assert_eq!(
        complete(&env, &["advance", "old", "orders:"]),
        ["orders:1", "orders:2"]
    );
    assert_eq!(complete(&env, &["delete", "old:a"]), ["old:audit:1"]);
    assert_eq!(complete(&env, &["copy", "keep", "o"]), ["old"]);
    // The store --db names, not CURSORCTL_DB's.
    let other = Env::new();
    other.seed(&[("billing", "orders:0", 1)]);
    let db = other.db.to_str().unwrap();
    assert_eq!(complete(&env, &["--db", db, "get", "b"]), ["billing"]);
    // A missing store offers nothing and fails nothing.
    assert!(complete(&env, &["--db", "/nonexistent/cursors.db", "get", "o"]).is_empty());
    // The registration scripts of the three shells.
    for shell in ["bash", "zsh", "fish"] {
        let out = env.std_cmd().env("COMPLETE", shell).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("cursorctl"),
            "{shell}"
        );
    }
}

/// A server that accepts the connection and never says a word: the
/// completer reaches it (the server reads its first message, the request
/// of a PostgreSQL client), waits for the answer (the connection is still
/// open, with nothing more sent, once the request is in), and then gives
/// up by itself: it closes the connection, offers nothing and exits 0.
#[test]
fn completion_never_waits_on_a_store_that_does_not_answer() {
    use std::io::Read;
    let env = seeded();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // A PostgreSQL client's first message: its length (8 for the
        // request for TLS), then a code.
        let mut first = [0_u8; 8];
        stream.read_exact(&mut first).unwrap();
        // Right after the request: the client has not closed the
        // connection, it waits for the answer.
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0_u8; 1];
        let waiting = matches!(
            stream.peek(&mut byte),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        );
        stream.set_nonblocking(false).unwrap();
        // Then the client gives up: the server reads to the end.
        let mut rest = Vec::new();
        let closed = stream.read_to_end(&mut rest).is_ok();
        let _ = tx.send((first, waiting, closed));
    });
    let url = format!("postgres://root@127.0.0.1:{port}/test");
    let mut child = env
        .std_cmd()
        .env("COMPLETE", "fish")
        .args(["--", "cursorctl", "--db", &url, "get", "o"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The shell is never held up: the completer gives up by itself.
    let mut ended = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            ended = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let Some(status) = ended else {
        let _ = child.kill();
        panic!("completion still waiting on a silent server after 10 s");
    };
    assert_eq!(status.code(), Some(0));
    let mut offered = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut offered)
        .unwrap();
    assert_eq!(offered, "", "nothing is offered");
    let (first, waiting, closed) = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the completer never reached the silent server");
    let length = u32::from_be_bytes(first[..4].try_into().unwrap());
    let code = u32::from_be_bytes(first[4..].try_into().unwrap());
    // 80877103: the request for TLS; 196608: protocol 3.0's start-up.
    assert!(
        (length == 8 && code == 80_877_103) || code == 196_608,
        "not a PostgreSQL client's first message: {first:?}"
    );
    assert!(
        waiting,
        "the completer closed the connection at once instead of waiting for the answer"
    );
    assert!(closed, "the connection was not closed by the completer");
}

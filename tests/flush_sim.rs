//! `cursorctl flush-sim`, driven through the real binary. Every expected
//! checkpoint sequence is worked out by hand in the test. flush-sim reads
//! the cursor from the store (and with `--commit` writes each checkpoint
//! and its history row there), so every case runs on SQLite and on
//! PostgreSQL (`backend_tests!` at the bottom).

use crate::common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use common::{backend_tests, stderr, stdout, Backend, Env};
use serde_json::Value;

/// Parse `-o ndjson` output: the events, then the summary (last line).
fn ndjson(text: &str) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert!(
        summary.get("policy").is_some(),
        "last line is the summary: {summary}"
    );
    (lines, summary)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The events of one kind, as (message, new_offset).
fn events(events: &[Value], kind: &str) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter(|e| e["event"] == kind)
        .map(|e| {
            (
                e["message"].as_u64().unwrap(),
                e["new_offset"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The (old, new) offsets and reasons of the history rows written by
/// flush-sim.
fn sim_history(env: &Env) -> Vec<(Option<u64>, Option<u64>, Option<String>)> {
    env.history()
        .into_iter()
        .filter(|r| r.command == "flush-sim")
        .map(|r| (r.old_offset, r.new_offset, r.reason))
        .collect()
}

/// The bytes of a SQLite store's files that hold data (the shared-memory
/// index is excluded: every reader touches it).
fn store_bytes(env: &Env) -> Vec<Vec<u8>> {
    let wal = env.db.with_extension("db-wal");
    vec![
        std::fs::read(&env.db).unwrap(),
        std::fs::read(wal).unwrap_or_default(),
    ]
}

fn per_batch_checkpoints_every_batch_and_the_final_flush_writes_the_rest(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-batch:3",
        "--messages",
        "10",
        "-o",
        "ndjson",
    ]);
    let (evs, summary) = ndjson(&out);
    // Messages 1..10 have next offsets 1..10: batches end at 3, 6 and 9;
    // the clean shutdown flushes offset 10.
    assert_eq!(events(&evs, "checkpoint"), vec![(3, 3), (6, 6), (9, 9)]);
    assert_eq!(events(&evs, "flush"), vec![(10, 10)]);
    assert_eq!(evs.len(), 4, "no event per message: {out}");
    let flush = &evs[3];
    assert_eq!(flush["final"], true);
    assert_eq!(flush["wrote"], true);
    assert_eq!(flush["old_offset"], 9);
    assert_eq!(summary["policy"], "per-batch:3");
    assert_eq!(summary["messages"], 10);
    assert_eq!(summary["start_offset"], 0);
    assert_eq!(summary["checkpoints"], 4);
    assert_eq!(summary["final_offset"], 10);
    assert_eq!(summary["pending_at_end"], 0);
    assert_eq!(summary["max_redelivery_window"], 3);
    assert_eq!(summary["redelivered_after_crash"], Value::Null);
    assert_eq!(summary["committed"], false);
}

fn per_message_checkpoints_each_message_from_the_stored_offset(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 40)]);
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-message",
        "--messages",
        "4",
        "-o",
        "ndjson",
    ]);
    let (evs, summary) = ndjson(&out);
    assert_eq!(
        events(&evs, "checkpoint"),
        vec![(1, 41), (2, 42), (3, 43), (4, 44)]
    );
    // Nothing is pending at the end: the final flush writes nothing.
    assert_eq!(events(&evs, "flush"), vec![(4, 44)]);
    assert_eq!(evs[4]["wrote"], false);
    assert_eq!(summary["start_offset"], 40);
    assert_eq!(summary["checkpoints"], 4);
    assert_eq!(summary["final_offset"], 44);
    assert_eq!(summary["max_redelivery_window"], 1);
}

fn explicit_flush_writes_only_when_flushed(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "explicit-flush",
        "--flush-every",
        "4",
        "--messages",
        "10",
        "-o",
        "ndjson",
    ]);
    let (evs, summary) = ndjson(&out);
    assert_eq!(events(&evs, "checkpoint"), vec![]);
    assert_eq!(events(&evs, "flush"), vec![(4, 4), (8, 8), (10, 10)]);
    let finals: Vec<&Value> = evs.iter().map(|e| &e["final"]).collect();
    assert_eq!(
        finals,
        vec![&Value::Bool(false), &Value::Bool(false), &Value::Bool(true)]
    );
    assert_eq!(summary["checkpoints"], 3);
    assert_eq!(summary["flushes"], 3);
    assert_eq!(summary["max_redelivery_window"], 4);
    assert_eq!(summary["flush_every"], 4);
}

fn invalid_policies_and_counts_are_usage_errors(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let before = env.dump();
    let err = env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-batch:0",
            "--messages",
            "5",
        ],
    );
    assert!(err.contains("per-batch:0"), "{err}");
    assert!(
        err.contains("per-message, per-batch:N (N >= 1) or explicit-flush"),
        "{err}"
    );
    for bad in ["per-batch:", "per-batch:-1", "batch", "per-message "] {
        let err = env.fails(
            2,
            &[
                "flush-sim",
                "billing",
                "orders:3",
                "--policy",
                bad,
                "--messages",
                "5",
            ],
        );
        assert!(err.contains("explicit-flush"), "{bad}: {err}");
    }
    let err = env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--messages",
            "5",
            "--flush-every",
            "0",
        ],
    );
    assert!(err.contains("--flush-every"), "{err}");
    let err = env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--messages",
            "5",
            "--crash-after",
            "6",
        ],
    );
    assert!(err.contains("--crash-after 6"), "{err}");
    env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
        ],
    );
    env.fails(2, &["flush-sim", "billing", "orders:3", "--messages", "5"]);
    env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--messages",
            "-1",
        ],
    );
    let err = env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--compare",
            "--commit",
            "--messages",
            "5",
        ],
    );
    assert!(err.contains("--commit"), "{err}");
    env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--messages",
            "5",
            "--create",
        ],
    );
    // -o json reports a usage error as one JSON object.
    let out = env.run(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-batch:0",
        "--messages",
        "5",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(stderr(&out).trim())["error"]["kind"], "usage");
    assert_eq!(env.dump(), before);
}

fn a_crash_skips_the_final_flush_and_reports_the_redelivery(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-batch:3",
        "--messages",
        "10",
        "--crash-after",
        "7",
        "-o",
        "ndjson",
    ]);
    let (evs, summary) = ndjson(&out);
    // Checkpoints at 3 and 6; message 7 is processed but not durable.
    assert_eq!(events(&evs, "checkpoint"), vec![(3, 3), (6, 6)]);
    assert_eq!(events(&evs, "flush"), vec![]);
    let crash = evs.last().unwrap();
    assert_eq!(crash["event"], "crash");
    assert_eq!(crash["message"], 7);
    assert_eq!(crash["resume_offset"], 6);
    assert_eq!(crash["redelivered"], 1);
    assert_eq!(summary["messages"], 7);
    assert_eq!(summary["crashed"], true);
    assert_eq!(summary["final_offset"], 6);
    assert_eq!(summary["pending_at_end"], 1);
    assert_eq!(summary["redelivered_after_crash"], 1);
    assert_eq!(summary["max_redelivery_window"], 3);

    // explicit-flush with a flush every 4: durable at 4, crash at 7.
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "explicit-flush",
        "--flush-every",
        "4",
        "--messages",
        "10",
        "--crash-after",
        "7",
        "-o",
        "json",
    ]);
    let summary = json(&out);
    assert_eq!(summary["final_offset"], 4);
    assert_eq!(summary["redelivered_after_crash"], 3);
    assert_eq!(summary["max_redelivery_window"], 4);
    assert_eq!(summary["checkpoints"], 1);

    // -o value: the offset a restarted consumer resumes from.
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "explicit-flush",
        "--messages",
        "10",
        "--crash-after",
        "7",
        "-o",
        "value",
    ]);
    assert_eq!(out, "0\n");
}

fn a_backwards_offset_is_reported_as_a_regression_and_the_run_goes_on(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let path = env.dir.path().join("offsets.txt");
    // CRLF line endings; 4 comes after 5.
    std::fs::write(&path, "1\r\n2\r\n5\r\n4\r\n6\r\n").unwrap();
    let path = path.to_str().unwrap();
    let out = env.run(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-message",
        "--offsets",
        path,
        "-o",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (evs, summary) = ndjson(&stdout(&out));
    assert_eq!(
        events(&evs, "checkpoint"),
        vec![(1, 1), (2, 2), (3, 5), (5, 6)]
    );
    let errors: Vec<&Value> = evs.iter().filter(|e| e["event"] == "error").collect();
    assert_eq!(errors.len(), 1, "{evs:?}");
    assert_eq!(errors[0]["message"], 4);
    assert_eq!(errors[0]["kind"], "regression");
    assert_eq!(errors[0]["during"], "message");
    assert_eq!(errors[0]["old_offset"], 5);
    assert_eq!(errors[0]["attempted"], 4);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["checkpoints"], 4);
    assert_eq!(summary["final_offset"], 6);
    assert_eq!(summary["max_redelivery_window"], 2);
    let err = stderr(&out);
    assert!(
        err.contains("message 4") && err.contains("regression"),
        "{err}"
    );

    // The same input on stdin gives the same result.
    let out = env.run_stdin(
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--offsets",
            "-",
            "-o",
            "json",
        ],
        "1\r\n2\r\n5\r\n4\r\n6\r\n",
    );
    assert_eq!(json(&stdout(&out))["checkpoints"], 4);
}

fn a_bad_offsets_line_is_a_usage_error_with_its_line_number(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let before = env.dump();
    for (input, line) in [
        ("1\n2\nthree\n4\n", "line 3"),
        ("1\n\n0150\n", "line 3"),
        ("1\n-2\n", "line 2"),
        ("9223372036854775808\n", "line 1"),
    ] {
        let out = env.run_stdin(
            &[
                "flush-sim",
                "billing",
                "orders:3",
                "--policy",
                "per-message",
                "--offsets",
                "-",
            ],
            input,
        );
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        let err = stderr(&out);
        assert!(err.contains(line), "{input:?}: {err}");
        // Even a commit writes nothing: the input is checked before the first checkpoint.
        let out = env.run_stdin(
            &[
                "flush-sim",
                "billing",
                "orders:3",
                "--policy",
                "per-message",
                "--offsets",
                "-",
                "--commit",
            ],
            input,
        );
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        assert!(stderr(&out).contains(line));
    }
    env.fails(
        2,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--offsets",
            "missing.txt",
        ],
    );
    assert_eq!(env.dump(), before);
}

fn commit_writes_each_checkpoint_with_a_history_row(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 100)]);
    let rows_before = env.history_len();
    let out = env.run(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-batch:3",
        "--messages",
        "10",
        "--commit",
        "--reason",
        "policy trial",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = json(&stdout(&out));
    assert_eq!(summary["committed"], true);
    assert_eq!(summary["checkpoints"], 4);
    assert_eq!(summary["final_offset"], 110);
    assert_eq!(env.offset("billing", "orders:3"), Some(110));
    assert_eq!(env.history_len(), rows_before + 4);
    let reason = Some("policy trial".to_owned());
    assert_eq!(
        sim_history(&env),
        vec![
            (Some(100), Some(103), reason.clone()),
            (Some(103), Some(106), reason.clone()),
            (Some(106), Some(109), reason.clone()),
            (Some(109), Some(110), reason),
        ]
    );
    assert!(
        stderr(&out).contains("committed 4 checkpoint(s)"),
        "{}",
        stderr(&out)
    );
}

fn commit_on_an_absent_cursor_needs_create(backend: Backend) {
    let env = Env::on(backend);
    let before = env.dump();
    let err = env.fails(
        5,
        &[
            "flush-sim",
            "newsvc",
            "orders:0",
            "--policy",
            "per-batch:2",
            "--messages",
            "5",
            "--commit",
        ],
    );
    assert!(err.contains("--create"), "{err}");
    assert_eq!(env.dump(), before);

    env.ok(&[
        "flush-sim",
        "newsvc",
        "orders:0",
        "--policy",
        "per-batch:2",
        "--messages",
        "5",
        "--commit",
        "--create",
    ]);
    assert_eq!(env.offset("newsvc", "orders:0"), Some(5));
    let history = sim_history(&env);
    assert_eq!(
        history.iter().map(|(o, n, _)| (*o, *n)).collect::<Vec<_>>(),
        vec![(None, Some(2)), (Some(2), Some(4)), (Some(4), Some(5))]
    );
}

fn a_dry_run_leaves_the_store_byte_for_byte_unchanged(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7), ("billing", "orders:4", 9)]);
    let dump = env.dump();
    // On SQLite the files' bytes too.
    let bytes = (backend == Backend::Sqlite).then(|| store_bytes(&env));
    let out = env.run(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-message",
        "--messages",
        "1000",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&stdout(&out))["final_offset"], 1007);
    assert!(stderr(&out).contains("dry run"), "{}", stderr(&out));
    env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--compare",
        "--messages",
        "1000",
    ]);
    // An absent cursor is simulated from 0 and not created.
    let out = env.run(&[
        "flush-sim",
        "ghost",
        "orders:3",
        "--policy",
        "per-message",
        "--messages",
        "3",
        "-o",
        "value",
    ]);
    assert_eq!(stdout(&out), "3\n");
    assert!(stderr(&out).contains("does not exist"));
    assert_eq!(env.dump(), dump);
    if let Some(bytes) = bytes {
        assert_eq!(store_bytes(&env), bytes);
    }
}

fn a_dry_run_does_not_need_the_write_lock(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 7)]);
    let writer = env.write_lock();
    let out = env.run(&[
        "--busy-timeout",
        "100ms",
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-batch:10",
        "--messages",
        "100",
        "-o",
        "value",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "107\n");
    // A commit does need it, and gives up as busy.
    let out = env.run(&[
        "--busy-timeout",
        "100ms",
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-batch:10",
        "--messages",
        "100",
        "--commit",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    writer.release();
}

/// A live consumer moves the cursor after flush-sim has read it and before
/// its first checkpoint: the test holds the write lock, waits for
/// flush-sim to say which offset it starts from, then writes and commits.
fn a_concurrent_writer_makes_a_commit_stop_as_stale(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let mut writer = env.write_lock();
    let mut child = env
        .std_cmd()
        .args([
            "--busy-timeout",
            "60s",
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-batch:3",
            "--messages",
            "10",
            "--commit",
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("from offset 0"), "{first}");
    // flush-sim has read offset 0 and now waits for the lock.
    writer.execute("UPDATE cursors SET \"offset\" = 500 WHERE consumer = 'billing'");
    writer.commit();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{rest}");
    let summary = json(&stdout(&out));
    assert_eq!(summary["stopped"], "stale");
    assert_eq!(summary["checkpoints"], 0);
    assert_eq!(summary["messages"], 3);
    assert!(rest.contains("stopped at message 3"), "{rest}");
    assert!(rest.contains("no checkpoint was committed"), "{rest}");
    assert!(rest.contains("500"), "{rest}");
    assert_eq!(env.offset("billing", "orders:3"), Some(500));
    assert!(sim_history(&env).is_empty());
}

fn compare_runs_every_policy_on_the_same_input(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 0)]);
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--compare",
        "--messages",
        "2000",
        "--flush-every",
        "300",
        "-o",
        "json",
    ]);
    let rows = json(&out);
    let rows = rows.as_array().unwrap();
    let table: Vec<(String, u64, u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["policy"].as_str().unwrap().to_owned(),
                r["checkpoints"].as_u64().unwrap(),
                r["max_redelivery_window"].as_u64().unwrap(),
                r["final_offset"].as_u64().unwrap(),
            )
        })
        .collect();
    // per-batch:10 and :100 divide 300, so the flushes find nothing
    // pending; per-batch:1000 never fills a batch between flushes at
    // 300, 600, ..., 1800, and the final flush writes 2000.
    assert_eq!(
        table,
        vec![
            ("per-message".to_owned(), 2000, 1, 2000),
            ("per-batch:10".to_owned(), 200, 10, 2000),
            ("per-batch:100".to_owned(), 20, 100, 2000),
            ("per-batch:1000".to_owned(), 7, 300, 2000),
            ("explicit-flush".to_owned(), 7, 300, 2000),
        ]
    );

    // The same offsets on stdin are replayed for each policy; --policy adds
    // its own row.
    let input: String = (1..=2000).map(|o| format!("{o}\n")).collect();
    let out = env.run_stdin(
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--compare",
            "--policy",
            "per-batch:7",
            "--offsets",
            "-",
            "--flush-every",
            "300",
            "-o",
            "ndjson",
        ],
        input,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out).lines().map(json).collect();
    assert_eq!(lines.len(), 6, "one summary per policy, no events");
    for (row, line) in rows.iter().zip(&lines) {
        assert_eq!(row["checkpoints"], line["checkpoints"]);
        assert_eq!(line["messages"], 2000);
    }
    // per-batch:7 with flushes every 300: each of the six 300-message
    // blocks has 42 batch checkpoints (7 ... 294) and a flush of the 6 left
    // over; the last 200 messages have 28 batches and the final flush of 4.
    assert_eq!(lines[5]["policy"], "per-batch:7");
    assert_eq!(lines[5]["checkpoints"], 6 * 43 + 28 + 1);

    // The table has one row per policy.
    let table = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--compare",
        "--messages",
        "100",
    ]);
    assert_eq!(table.lines().count(), 6, "{table}");
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .contains("MAX_REDELIVERY_WINDOW"),
        "{table}"
    );
}

// No store is read: help is the same whatever the backend.
#[test]
fn help_shows_examples() {
    let env = Env::new();
    let help = env.ok(&["flush-sim", "--help"]);
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("cursorctl flush-sim billing orders:3 --compare"),
        "{help}"
    );
    assert!(help.contains("--crash-after"), "{help}");
}

backend_tests!(
    per_batch_checkpoints_every_batch_and_the_final_flush_writes_the_rest,
    per_message_checkpoints_each_message_from_the_stored_offset,
    explicit_flush_writes_only_when_flushed,
    invalid_policies_and_counts_are_usage_errors,
    a_crash_skips_the_final_flush_and_reports_the_redelivery,
    a_backwards_offset_is_reported_as_a_regression_and_the_run_goes_on,
    a_bad_offsets_line_is_a_usage_error_with_its_line_number,
    commit_writes_each_checkpoint_with_a_history_row,
    commit_on_an_absent_cursor_needs_create,
    a_dry_run_leaves_the_store_byte_for_byte_unchanged,
    a_dry_run_does_not_need_the_write_lock,
    a_concurrent_writer_makes_a_commit_stop_as_stale,
    compare_runs_every_policy_on_the_same_input,
);

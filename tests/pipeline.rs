//! Bulk writes from NDJSON/CSV, the history and undo, through the real
//! binary. Every case runs on SQLite and on PostgreSQL (`backend_tests!` at
//! the bottom).

use crate::common;

use common::{backend_tests, stderr, stdout, Backend, Env};
use serde_json::Value;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Insert many cursors directly (the CLI would take one process each), in
/// one statement.
fn seed_many(env: &Env, consumer: &str, n: u32, offset: i64) {
    env.execute(&format!(
        "WITH RECURSIVE n(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM n WHERE p < {last}) \
         INSERT INTO cursors (consumer, channel, partition, \"offset\", updated_at) \
         SELECT '{consumer}', 'orders', p, {offset}, 0 FROM n",
        last = n - 1
    ));
}

fn history(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history", "-o", "ndjson"];
    all.extend_from_slice(args);
    json_lines(&env.ok(&all))
}

/// The newest change's batch and every change in it, in id order.
fn last_batch(env: &Env) -> (i64, Vec<Value>) {
    let rows = history(env, &["--limit", "1"]);
    let batch = rows[0]["batch"].as_i64().expect("a batch id");
    let mut recorded = history(env, &["--batch", &batch.to_string()]);
    recorded.sort_by_key(|r| r["id"].as_i64());
    (batch, recorded)
}

fn line(consumer: &str, pk: &str, offset: i64, expect: Option<i64>) -> String {
    match expect {
        Some(e) => format!(
            "{{\"consumer\":\"{consumer}\",\"partition_key\":\"{pk}\",\"offset\":{offset},\"expect\":{e}}}\n"
        ),
        None => format!("{{\"consumer\":\"{consumer}\",\"partition_key\":\"{pk}\",\"offset\":{offset}}}\n"),
    }
}

fn get_ndjson_piped_through_a_transformation_moves_every_cursor(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 5),
        ("billing", "orders:1", 7),
        ("billing", "refunds:0", 0),
        ("audit", "orders:0", 3),
    ]);
    let listing = env.ok(&["get", "billing", "-o", "ndjson"]);
    // What `jq -c '.expect = .offset | .offset += 1'` does.
    let mut input = String::new();
    for mut cursor in json_lines(&listing) {
        let offset = cursor["offset"].as_i64().unwrap();
        cursor["expect"] = offset.into();
        cursor["offset"] = (offset + 1).into();
        input.push_str(&cursor.to_string());
        input.push('\n');
    }
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "ndjson"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:0"), Some(6));
    assert_eq!(env.offset("billing", "orders:1"), Some(8));
    assert_eq!(env.offset("billing", "refunds:0"), Some(1));
    assert_eq!(
        env.offset("audit", "orders:0"),
        Some(3),
        "other consumers stay"
    );
    let records = json_lines(&stdout(&out));
    assert_eq!(records.len(), 3);
    assert!(records
        .iter()
        .all(|r| r["status"] == "advanced" && r["delta"] == 1));
    assert!(
        stderr(&out).contains("applied 3 change(s)"),
        "{}",
        stderr(&out)
    );
    let rows = history(&env, &["billing", "--limit", "3"]);
    let batch = rows[0]["batch"].as_i64().expect("a batch id");
    assert!(rows
        .iter()
        .all(|r| r["batch"] == batch && r["command"] == "set"));
    assert_eq!(history(&env, &["--batch", &batch.to_string()]).len(), 3);
}

fn one_stale_line_near_the_end_of_ten_thousand_changes_nothing(backend: Backend) {
    let env = Env::on(backend);
    seed_many(&env, "billing", 10_000, 100);
    let before = env.dump();
    let mut input = String::new();
    for p in 0..10_000 {
        let expect = if p == 9_989 { 99 } else { 100 };
        input.push_str(&line("billing", &format!("orders:{p}"), 101, Some(expect)));
    }
    let out = env.run_stdin(&["set", "--from-file", "-"], input);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("1 of 10000 lines fail"), "{err}");
    assert!(err.contains("line 9990: billing:orders:9989"), "{err}");
    assert_eq!(
        stdout(&out),
        "",
        "no change record for a write that did not happen"
    );
    assert_eq!(env.dump(), before, "nothing was written");
}

/// Lines with `expect` are written many at a time; lines of other kinds
/// between them (here one without `expect` and a creation) come in their
/// places, and the history keeps the order of the input.
fn moves_with_and_without_expect_are_recorded_in_the_order_of_the_input(backend: Backend) {
    let env = Env::on(backend);
    seed_many(&env, "billing", 40, 100);
    let order: Vec<i64> = (0..30).chain([40]).chain(30..40).collect();
    let mut input = String::new();
    for &p in &order {
        let expect = (p != 20 && p != 40).then_some(100);
        input.push_str(&line("billing", &format!("orders:{p}"), 101 + p, expect));
    }
    let out = env.run_stdin(&["set", "--from-file", "-", "--create", "-q"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for p in 0..=40 {
        assert_eq!(env.offset("billing", &format!("orders:{p}")), Some(101 + p));
    }
    let (batch, recorded) = last_batch(&env);
    let partitions: Vec<i64> = recorded
        .iter()
        .map(|r| r["new_offset"].as_i64().unwrap() - 101)
        .collect();
    assert_eq!(partitions, order, "ids follow the lines");
    for r in &recorded {
        let created = r["partition_key"] == "orders:40";
        assert_eq!(
            r["old_offset"],
            if created { Value::Null } else { 100.into() }
        );
        assert!(r["command"] == "set" && r["batch"] == batch);
    }
}

/// Lines out of key order (the repeated-key check then keeps the keys in
/// a table of its own) are written many at a time too, in input order.
fn moves_out_of_key_order_are_recorded_in_the_order_of_the_input(backend: Backend) {
    let env = Env::on(backend);
    seed_many(&env, "billing", 40, 100);
    let order: Vec<i64> = (0..40).map(|i| (i * 17) % 40).collect();
    let mut input = String::new();
    for &p in &order {
        input.push_str(&line("billing", &format!("orders:{p}"), 101 + p, Some(100)));
    }
    let out = env.run_stdin(&["set", "--from-file", "-", "-q"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (_, recorded) = last_batch(&env);
    let moved: Vec<i64> = recorded
        .iter()
        .map(|r| r["new_offset"].as_i64().unwrap() - 101)
        .collect();
    assert_eq!(moved, order, "ids follow the lines");
    for p in 0..40 {
        assert_eq!(env.offset("billing", &format!("orders:{p}")), Some(101 + p));
    }
}

/// Failures among lines with `expect` (written many at a time) are listed
/// in the order of the lines, each as a single `set` reports it, whatever
/// kind of line fails between them.
fn failures_among_moves_with_expect_keep_the_order_of_the_lines(backend: Backend) {
    let env = Env::on(backend);
    seed_many(&env, "billing", 40, 100);
    let before = env.dump();
    let mut input = String::new();
    for p in 0..40 {
        input.push_str(&match p {
            4 | 29 => line("billing", &format!("orders:{p}"), 101, Some(99)),
            11 => line("billing", "orders:999", 101, Some(100)),
            14 => "{\"consumer\":\"billing\",\"partition_key\":\"orders:14\",\"offset\":-1}\n"
                .to_owned(),
            _ => line("billing", &format!("orders:{p}"), 101, Some(100)),
        });
    }
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "json"], input);
    assert_eq!(out.status.code(), Some(3), "the stale line 5 comes first");
    let err: Value = serde_json::from_str(stderr(&out).trim()).expect("one JSON error");
    assert_eq!(err["error"]["failed"], 4);
    let failures = err["error"]["failures"].as_array().unwrap();
    let lines: Vec<_> = failures
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [5, 12, 15, 30]);
    let kinds: Vec<_> = failures
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["stale", "not-found", "usage", "stale"]);
    let reason = |i: usize| failures[i]["reason"].as_str().unwrap().to_owned();
    assert!(
        reason(0).contains("expected offset 99, but the store holds 100"),
        "{}",
        reason(0)
    );
    assert!(
        reason(1).contains("billing:orders:999 does not exist"),
        "{}",
        reason(1)
    );
    assert!(
        reason(3).contains("expected offset 99, but the store holds 100"),
        "{}",
        reason(3)
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(env.dump(), before, "nothing was written");
    // With --create, the absent cursor is stale (it holds nothing), as a
    // single `set --create --expect` reports it.
    let mut input = String::new();
    for p in 0..20 {
        input.push_str(&line("billing", &format!("orders:{p}"), 101, Some(100)));
    }
    input.push_str(&line("billing", "orders:999", 101, Some(100)));
    let out = env.run_stdin(&["set", "--from-file", "-", "--create"], input);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 21: billing:orders:999"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.dump(), before, "nothing was written");
}

fn every_failing_line_is_listed_and_the_first_decides_the_exit_code(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10), ("billing", "orders:1", 10)]);
    let before = env.dump();
    let input = [
        line("billing", "orders:0", 11, None),
        line("billing", "orders:1", 5, None),
        line("billing", "orders:2", 1, None),
        "{\"consumer\":\"billing\",\"partition_key\":\"orders:3\",\"offset\":-1}\n".to_owned(),
    ]
    .concat();
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "json"], input.clone());
    assert_eq!(
        out.status.code(),
        Some(4),
        "regression on line 2 comes first"
    );
    let err: Value = serde_json::from_str(stderr(&out).trim()).expect("one JSON error");
    assert_eq!(err["error"]["code"], 4);
    assert_eq!(err["error"]["failed"], 3);
    let failures = err["error"]["failures"].as_array().unwrap();
    let lines: Vec<_> = failures
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4]);
    assert_eq!(failures[0]["kind"], "regression");
    assert_eq!(failures[1]["kind"], "not-found");
    assert_eq!(failures[2]["kind"], "usage");
    assert!(failures[2]["reason"].as_str().unwrap().contains("negative"));
    assert_eq!(env.dump(), before);

    let text = env.run_stdin(&["set", "--from-file", "-"], input);
    let err = stderr(&text);
    for needle in [
        "line 2: billing:orders:1",
        "line 3: billing:orders:2",
        "line 4: billing:orders:3",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
}

fn a_key_twice_in_one_batch_names_the_first_line(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 1), ("billing", "orders:1", 1)]);
    let before = env.dump();
    let input = [
        line("billing", "orders:0", 2, None),
        line("billing", "orders:1", 2, None),
        "{\"key\":\"billing:orders:0\",\"offset\":3}\n".to_owned(),
    ]
    .concat();
    let out = env.run_stdin(&["set", "--from-file", "-"], input);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("line 3: billing:orders:0: cursor billing:orders:0 appears twice in the input: first on line 1"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.dump(), before);
}

/// Keys out of order, from a file (read again to check the lines before
/// the first key out of order), from standard input, and as CSV: every
/// repeat is refused with the line it first appeared on, wherever it is.
fn a_key_twice_in_keys_out_of_order_names_the_first_line(backend: Backend) {
    let env = Env::on(backend);
    let seed: Vec<(&str, String, i64)> = (0..5)
        .map(|i| ("billing", format!("orders:{i}"), 1))
        .collect();
    let seed: Vec<(&str, &str, i64)> = seed.iter().map(|(c, p, o)| (*c, p.as_str(), *o)).collect();
    env.seed(&seed);
    let before = env.dump();
    // Ascending up to line 3, then out of order; line 5 repeats line 2
    // (before the first key out of order), line 6 repeats line 4 (after it),
    // line 8 repeats line 7 (right after it).
    let partitions = [0, 2, 3, 1, 2, 1, 4, 4];
    let ndjson: String = partitions
        .iter()
        .map(|p| line("billing", &format!("orders:{p}"), 5, None))
        .collect();
    let csv: String = std::iter::once("consumer,partition_key,offset\n".to_owned())
        .chain(partitions.iter().map(|p| format!("billing,orders:{p},5\n")))
        .collect();
    let expected = |shift: u64| {
        [(5, 2), (6, 4), (8, 7)].map(|(at, first)| {
            let p = partitions[at - 1];
            format!(
                "line {}: billing:orders:{p}: cursor billing:orders:{p} appears twice in the input: first on line {}",
                at as u64 + shift,
                first + shift
            )
        })
    };
    let file = env.dir.path().join("moves.ndjson");
    std::fs::write(&file, &ndjson).unwrap();
    let csv_file = env.dir.path().join("moves.csv");
    std::fs::write(&csv_file, &csv).unwrap();
    let runs = [
        (env.run(&["set", "--from-file", file.to_str().unwrap()]), 0),
        (
            env.run_stdin(&["set", "--from-file", "-"], ndjson.clone()),
            0,
        ),
        (
            env.run(&["set", "--from-file", csv_file.to_str().unwrap()]),
            1,
        ),
        (
            env.run(&["set", "--from-file", file.to_str().unwrap(), "--dry-run"]),
            0,
        ),
    ];
    for (out, shift) in runs {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("3 of 8 lines fail"), "{err}");
        for needle in expected(shift) {
            assert!(err.contains(&needle), "{needle} in {err}");
        }
        assert_eq!(env.dump(), before);
    }
}

/// The same keys out of order without a repeat are all applied.
fn keys_out_of_order_without_a_repeat_are_applied(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 1),
        ("billing", "orders:1", 1),
        ("billing", "orders:2", 1),
    ]);
    let input = [2, 0, 1]
        .map(|p| line("billing", &format!("orders:{p}"), 7, Some(1)))
        .concat();
    let file = env.dir.path().join("moves.ndjson");
    std::fs::write(&file, input).unwrap();
    env.ok(&["set", "--from-file", file.to_str().unwrap(), "-q"]);
    for p in ["orders:0", "orders:1", "orders:2"] {
        assert_eq!(env.offset("billing", p), Some(7));
    }
}

fn a_stale_expect_is_exit_3_and_a_right_one_applies(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10)]);
    let before = env.dump();
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        line("billing", "orders:0", 12, Some(9)),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("expected offset 9, but the store holds 10"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.dump(), before);
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        line("billing", "orders:0", 12, Some(10)),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:0"), Some(12));
}

fn crlf_ndjson_and_csv_are_accepted(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 1), ("billing", "orders:1", 1)]);
    let ndjson = line("billing", "orders:0", 2, Some(1)).replace('\n', "\r\n") + "\r\n";
    let out = env.run_stdin(&["set", "--from-file", "-", "-q"], ndjson);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:0"), Some(2));

    let csv =
        "consumer,partition_key,offset,expect\r\nbilling,orders:0,3,2\r\nbilling,orders:1,4,\r\n";
    let path = env.dir.path().join("moves.csv");
    std::fs::write(&path, csv).unwrap();
    let out = env.ok(&["set", "--from-file", path.to_str().unwrap(), "-o", "tsv"]);
    assert_eq!(out.lines().count(), 3, "header and two records: {out}");
    assert_eq!(env.offset("billing", "orders:0"), Some(3));
    assert_eq!(env.offset("billing", "orders:1"), Some(4));
}

fn csv_is_validated_like_ndjson(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 1)]);
    let before = env.dump();
    let csv = "consumer,partition_key,offset\nbilling,orders:0,0x10\nbilling,orders:x,1\n";
    let out = env.run_stdin(&["set", "--from-file", "-", "--input-format", "csv"], csv);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("line 2: billing:orders:0: offset: invalid offset \"0x10\""),
        "{err}"
    );
    assert!(err.contains("line 3:"), "{err}");
    assert_eq!(env.dump(), before);

    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        "consumer,partiton,offset\nb,o:1,1\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown column \"partiton\""),
        "{}",
        stderr(&out)
    );
}

fn bad_json_offsets_are_refused_with_their_reason(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 1)]);
    let before = env.dump();
    for (offset, reason) in [
        ("-5", "negative"),
        ("1.5", "not a plain decimal integer"),
        ("9223372036854775808", "9223372036854775807"),
        ("\"7\"", "string"),
    ] {
        let input = format!(
            "{{\"consumer\":\"billing\",\"partition_key\":\"orders:0\",\"offset\":{offset}}}\n"
        );
        let out = env.run_stdin(&["set", "--from-file", "-"], input);
        assert_eq!(out.status.code(), Some(2), "{offset}");
        assert!(stderr(&out).contains(reason), "{offset}: {}", stderr(&out));
    }
    assert_eq!(env.dump(), before);
}

fn empty_input_is_a_clear_no_op(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 1)]);
    let before = env.dump();
    for input in ["", "\n\r\n  \n"] {
        let out = env.run_stdin(&["set", "--from-file", "-"], input);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), "");
        assert!(
            stderr(&out).contains("no cursor lines; nothing was written"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(env.dump(), before, "not even an empty batch");
}

fn unchanged_lines_are_reported_and_a_batch_of_only_those_records_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 4), ("billing", "orders:1", 4)]);
    let before = env.dump();
    let input = [
        line("billing", "orders:0", 4, None),
        line("billing", "orders:1", 4, None),
    ]
    .concat();
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "ndjson"], input);
    assert_eq!(out.status.code(), Some(0));
    let records = json_lines(&stdout(&out));
    assert!(records
        .iter()
        .all(|r| r["status"] == "unchanged" && r["id"].is_null()));
    assert!(stderr(&out).contains("nothing changed"), "{}", stderr(&out));
    assert_eq!(env.dump(), before);

    let input = [
        line("billing", "orders:0", 4, None),
        line("billing", "orders:1", 9, None),
    ]
    .concat();
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "ndjson"], input);
    let records = json_lines(&stdout(&out));
    let statuses: Vec<_> = records
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["unchanged", "advanced"], "in input order");
}

fn dry_run_prints_the_plan_and_leaves_the_store_identical(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10), ("billing", "orders:1", 10)]);
    let before = env.dump();
    let ok_input = [
        line("billing", "orders:0", 12, Some(10)),
        line("billing", "orders:1", 10, None),
        line("billing", "orders:2", 1, None),
    ]
    .concat();
    let args = ["set", "--from-file", "-", "--create", "-o", "ndjson"];
    let dry_args = [&args[..], &["--dry-run"]].concat();
    // A dry run is the write, rolled back: it waits for the write lock as
    // the write does.
    let blocker = env.write_lock();
    let out = env.run_stdin(
        &[&dry_args[..], &["--busy-timeout", "200ms"]].concat(),
        ok_input.clone(),
    );
    blocker.release();
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert_eq!(env.dump(), before);
    let out = env.run_stdin(&dry_args, ok_input.clone());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan = json_lines(&stdout(&out));
    let statuses: Vec<_> = plan.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["advanced", "unchanged", "created"]);
    assert_eq!(plan[0]["old_offset"], 10);
    assert_eq!(plan[0]["delta"], 2);
    assert!(plan
        .iter()
        .all(|r| r["dry_run"] == true && r["id"].is_null()));
    assert_eq!(env.dump(), before);

    let bad_input = [
        line("billing", "orders:0", 12, Some(9)),
        line("billing", "orders:1", 3, None),
    ]
    .concat();
    let out = env.run_stdin(&dry_args, bad_input.clone());
    assert_eq!(
        out.status.code(),
        Some(3),
        "the exit code the write would have"
    );
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(err.contains("line 1: billing:orders:0"), "{err}");
    assert!(err.contains("below the current offset 10"), "{err}");
    assert_eq!(env.dump(), before);
    // The same failures, word for word, as the write.
    let real = env.run_stdin(&args, bad_input);
    assert_eq!(real.status.code(), out.status.code());
    assert_eq!(stderr(&real), err);
    // The plan is the write's output, but for the ids and `dry_run`.
    let planned = stdout(&env.run_stdin(&dry_args, ok_input.clone()));
    let written = env.ok_stdin(&args, ok_input);
    let strip = |text: &str| -> Vec<serde_json::Value> {
        json_lines(text)
            .into_iter()
            .map(|mut r| {
                r["id"] = serde_json::Value::Null;
                r["dry_run"] = serde_json::Value::Null;
                r
            })
            .collect()
    };
    assert_eq!(strip(&planned), strip(&written));
}

fn from_file_and_positionals_do_not_mix(backend: Backend) {
    let env = Env::on(backend);
    env.fails(2, &["set", "billing", "orders:0", "1", "--from-file", "-"]);
    env.fails(2, &["set", "--from-file", "-", "--expect", "3"]);
    env.fails(2, &["set", "billing", "orders:0"]);
    let err = env.fails(2, &["set", "--from-file", "no-such-file.ndjson"]);
    assert!(err.contains("no-such-file.ndjson"), "{err}");
}

fn history_lists_changes_with_filters_in_every_format(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 1),
        ("billing", "orders:1", 1),
        ("audit", "orders:0", 1),
    ]);
    env.ok(&[
        "set",
        "billing",
        "orders:0",
        "0",
        "--allow-rewind",
        "--reason",
        "replay INC-1",
        "-q",
    ]);
    let all = history(&env, &[]);
    assert_eq!(all.len(), 4);
    let last = &all[3];
    for field in [
        "id",
        "at",
        "key",
        "consumer",
        "partition_key",
        "old_offset",
        "new_offset",
        "command",
        "reason",
        "user",
        "batch",
    ] {
        assert!(last.get(field).is_some(), "{field} in {last}");
    }
    assert_eq!(last["key"], "billing:orders:0");
    assert_eq!(last["partition_key"], "orders:0");
    assert_eq!(last["old_offset"], 1);
    assert_eq!(last["new_offset"], 0);
    assert_eq!(last["reason"], "replay INC-1");
    assert_eq!(last["user"], "tester");
    assert!(last["batch"].is_null());
    assert!(last["at"].as_str().unwrap().ends_with('Z'));
    assert!(
        all[0]["old_offset"].is_null(),
        "a creation has no old offset"
    );

    assert_eq!(history(&env, &["billing"]).len(), 3);
    assert_eq!(history(&env, &["billing", "orders:0"]).len(), 2);
    let limited = history(&env, &["--limit", "2"]);
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[1]["id"], last["id"], "the newest, oldest first");
    assert_eq!(history(&env, &["--since", "1h"]).len(), 4);
    assert_eq!(history(&env, &["--since", "2999-01-01T00:00:00Z"]).len(), 0);
    env.fails(2, &["history", "--since", "last tuesday"]);

    let json: Value = serde_json::from_str(&env.ok(&["history", "-o", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 4);
    let tsv = env.ok(&["history", "-o", "tsv"]);
    // The proven role on PostgreSQL; SQLite has no roles.
    let role = if backend == Backend::Postgres {
        "role\t"
    } else {
        ""
    };
    assert!(tsv.starts_with(&format!(
        "id\tat\tkey\tconsumer\tpartition_key\told_offset\tnew_offset\tcommand\treason\tuser\t{role}batch\n"
    )));
    let table = env.ok(&["history", "billing", "orders:0"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let mut header = vec![
        "ID",
        "AT",
        "KEY",
        "OLD_OFFSET",
        "NEW_OFFSET",
        "COMMAND",
        "REASON",
        "USER",
        "BATCH",
    ];
    if backend == Backend::Postgres {
        header.insert(8, "ROLE");
    }
    assert_eq!(rows[0], header);
    let third = table.lines().nth(2).unwrap().trim_end();
    assert!(
        if backend == Backend::Postgres {
            third.contains("replay INC-1  tester  ")
        } else {
            third.ends_with("replay INC-1  tester")
        },
        "{table}"
    );
}

/// Bulk-move cursors and return the batch id.
fn bulk(env: &Env, moves: &[(&str, i64)]) -> i64 {
    let input: String = moves
        .iter()
        .map(|(pk, o)| line("billing", pk, *o, None))
        .collect();
    let out = env.run_stdin(&["set", "--from-file", "-", "-q", "--create"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    history(env, &["--limit", "1"])[0]["batch"]
        .as_i64()
        .unwrap()
}

fn undo_of_one_change_puts_the_old_offset_back_and_a_rewind_needs_a_reason(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 5)]);
    env.ok(&["set", "billing", "orders:0", "9", "-q"]);
    let id = history(&env, &["--limit", "1"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let before = env.dump();
    let err = env.fails(2, &["undo", &id]);
    assert!(err.contains("a rewind needs --reason"), "{err}");
    assert_eq!(env.dump(), before);

    let out = env.ok(&["undo", &id, "--reason", "wrong consumer", "-o", "json"]);
    let record: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["status"], "rewound");
    assert_eq!(env.offset("billing", "orders:0"), Some(5));
    let last = &history(&env, &["--limit", "1"])[0];
    assert_eq!(last["command"], "undo");
    assert_eq!(last["reason"], "wrong consumer");
    assert_eq!(last["old_offset"], 9);
    assert_eq!(last["new_offset"], 5);

    // Undoing a rewind moves forward: no reason needed.
    let undo_id = last["id"].as_i64().unwrap().to_string();
    env.ok(&["undo", &undo_id, "-q"]);
    assert_eq!(env.offset("billing", "orders:0"), Some(9));
}

fn undo_is_refused_once_the_cursor_has_moved(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 5)]);
    env.ok(&["set", "billing", "orders:0", "9", "-q"]);
    let id = history(&env, &["--limit", "1"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    let before = env.dump();
    let err = env.fails(3, &["undo", &id, "--reason", "x"]);
    assert!(err.contains("no longer holds offset 9"), "{err}");
    assert_eq!(env.dump(), before);
    env.fails(3, &["undo", &id, "--reason", "x", "--dry-run"]);
}

fn undo_of_a_batch_restores_every_cursor_as_a_new_batch(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 1), ("billing", "orders:1", 1)]);
    let batch = bulk(&env, &[("orders:0", 5), ("orders:1", 6)]);
    let before = env.dump();
    let plan = json_lines(&env.ok(&[
        "undo",
        "--batch",
        &batch.to_string(),
        "--reason",
        "r",
        "--dry-run",
        "-o",
        "ndjson",
    ]));
    assert_eq!(plan.len(), 2);
    assert!(plan.iter().all(|p| p["status"] == "rewound"));
    assert_eq!(env.dump(), before, "a dry run writes nothing");

    env.fails(2, &["undo", "--batch", &batch.to_string()]);
    let out = env.ok(&[
        "undo",
        "--batch",
        &batch.to_string(),
        "--reason",
        "revert",
        "-o",
        "ndjson",
    ]);
    let records = json_lines(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(env.offset("billing", "orders:0"), Some(1));
    assert_eq!(env.offset("billing", "orders:1"), Some(1));
    let undo_rows = history(&env, &["--limit", "2"]);
    let undo_batch = undo_rows[0]["batch"].as_i64().unwrap();
    assert_ne!(undo_batch, batch);
    assert!(undo_rows
        .iter()
        .all(|r| r["command"] == "undo" && r["batch"] == undo_batch && r["reason"] == "revert"));
}

fn undo_of_a_batch_is_all_or_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 1),
        ("billing", "orders:1", 1),
        ("billing", "orders:2", 1),
    ]);
    let batch = bulk(&env, &[("orders:0", 5), ("orders:1", 6), ("orders:2", 7)]);
    env.ok(&["advance", "billing", "orders:1", "-q"]);
    let before = env.dump();
    let err = env.fails(3, &["undo", "--batch", &batch.to_string(), "--reason", "r"]);
    assert!(err.contains("1 of 3 changes fail"), "{err}");
    assert!(err.contains("billing:orders:1"), "{err}");
    assert_eq!(env.dump(), before, "no cursor of the batch was put back");
}

fn undo_of_a_creation_removes_the_cursor(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["set", "typo", "orders:0", "7", "--create", "-q"]);
    let id = history(&env, &["--limit", "1"])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    env.fails(2, &["undo", &id]);
    let out = env.ok(&["undo", &id, "--reason", "typo in consumer", "-o", "json"]);
    let record: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["status"], "removed");
    assert!(record["new_offset"].is_null());
    assert_eq!(env.offset("typo", "orders:0"), None);
    let last = &history(&env, &["--limit", "1"])[0];
    assert!(last["new_offset"].is_null());
    // And the removal can be undone: the cursor comes back.
    env.ok(&["undo", &last["id"].as_i64().unwrap().to_string(), "-q"]);
    assert_eq!(env.offset("typo", "orders:0"), Some(7));
}

fn undo_of_an_unknown_change_or_batch_is_not_found(backend: Backend) {
    let env = Env::on(backend);
    let err = env.fails(5, &["undo", "999"]);
    assert!(err.contains("no recorded change has id 999"), "{err}");
    env.fails(5, &["undo", "--batch", "999"]);
    env.fails(2, &["undo"]);
}

backend_tests!(
    get_ndjson_piped_through_a_transformation_moves_every_cursor,
    one_stale_line_near_the_end_of_ten_thousand_changes_nothing,
    moves_with_and_without_expect_are_recorded_in_the_order_of_the_input,
    moves_out_of_key_order_are_recorded_in_the_order_of_the_input,
    failures_among_moves_with_expect_keep_the_order_of_the_lines,
    every_failing_line_is_listed_and_the_first_decides_the_exit_code,
    a_key_twice_in_one_batch_names_the_first_line,
    a_key_twice_in_keys_out_of_order_names_the_first_line,
    keys_out_of_order_without_a_repeat_are_applied,
    a_stale_expect_is_exit_3_and_a_right_one_applies,
    crlf_ndjson_and_csv_are_accepted,
    csv_is_validated_like_ndjson,
    bad_json_offsets_are_refused_with_their_reason,
    empty_input_is_a_clear_no_op,
    unchanged_lines_are_reported_and_a_batch_of_only_those_records_nothing,
    dry_run_prints_the_plan_and_leaves_the_store_identical,
    from_file_and_positionals_do_not_mix,
    history_lists_changes_with_filters_in_every_format,
    undo_of_one_change_puts_the_old_offset_back_and_a_rewind_needs_a_reason,
    undo_is_refused_once_the_cursor_has_moved,
    undo_of_a_batch_restores_every_cursor_as_a_new_batch,
    undo_of_a_batch_is_all_or_nothing,
    undo_of_a_creation_removes_the_cursor,
    undo_of_an_unknown_change_or_batch_is_not_found,
);

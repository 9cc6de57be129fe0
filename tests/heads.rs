//! Heads, lag and status through the built binary, on both backends:
//! `head set/get/history`, head and lag in `get` and `describe`, `status`
//! and its exit code 8, `advance --to-head`, `-o prometheus`, and heads
//! written while cursors are written.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{backend_tests, stderr, stdout, Backend, Env};

/// 2020-01-01T00:00:00.000Z: a time long before any test runs.
const LONG_AGO: i64 = 1_577_836_800_000;
const LONG_AGO_TEXT: &str = "2020-01-01T00:00:00.000Z";

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Set a cursor's `updated_at` below the store boundary, as time passing
/// would (the store's triggers touch it only when the offset changes).
fn last_moved_at(env: &Env, consumer: &str, at: i64) {
    env.execute(&format!(
        "UPDATE cursors SET updated_at = {at} WHERE consumer = '{consumer}'"
    ));
}

/// The store's clock now, in ms.
fn store_now(env: &Env) -> i64 {
    env.store().clock_ms().unwrap()
}

/// `key offset head lag status` of every status record.
fn status_lines(env: &Env, args: &[&str]) -> (Vec<String>, Option<i32>) {
    let mut all = vec!["status", "-o", "ndjson"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let text = stdout(&out);
    let rows = lines(&text)
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r["key"].as_str().unwrap(),
                r["offset"],
                r["head"],
                r["lag"],
                r["status"].as_str().unwrap()
            )
        })
        .collect();
    (rows, out.status.code())
}

fn head_set_records_and_get_lists(backend: Backend) {
    let env = Env::on(backend);
    let out = env.ok(&["head", "set", "orders:3", "5000", "-o", "json"]);
    let change: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(change["partition_key"], "orders:3");
    assert_eq!(change["old_head"], Value::Null);
    assert_eq!(change["new_head"], 5000);
    assert_eq!(change["status"], "created");
    env.ok(&["head", "set", "orders:3", "5200", "-q"]);
    env.ok(&["head", "set", "payments:0", "7", "-q"]);
    // The same head again renews its time, with no history row.
    let again: Value =
        serde_json::from_str(&env.ok(&["head", "set", "orders:3", "5200", "-o", "json"])).unwrap();
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["id"], Value::Null);

    let heads = lines(&env.ok(&["head", "get", "-o", "ndjson"]));
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0]["partition_key"], "orders:3");
    assert_eq!(heads[0]["head"], 5200);
    assert!(heads[0]["recorded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(heads[1]["partition_key"], "payments:0");
    // Filtered by channel or partition, in every format.
    assert_eq!(env.ok(&["head", "get", "orders", "-o", "value"]), "5200\n");
    assert_eq!(env.ok(&["head", "get", "payments:0", "-o", "value"]), "7\n");
    let tsv = env.ok(&["head", "get", "orders", "-o", "tsv"]);
    assert!(
        tsv.starts_with("partition_key\tchannel\tpartition\thead\trecorded_at\n"),
        "{tsv}"
    );
    let json: Value = serde_json::from_str(&env.ok(&["head", "get", "-o", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    let table = env.ok(&["head", "get"]);
    assert!(
        table.contains("PARTITION_KEY") && table.contains("5200"),
        "{table}"
    );

    // Each change is in the head history; cursor history is untouched.
    let history = lines(&env.ok(&["head", "history", "orders:3", "-o", "ndjson"]));
    let moves: Vec<(Value, Value, Value)> = history
        .iter()
        .map(|h| {
            (
                h["old_head"].clone(),
                h["new_head"].clone(),
                h["command"].clone(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            (Value::Null, 5000.into(), "head set".into()),
            (5000.into(), 5200.into(), "head set".into())
        ]
    );
    assert_eq!(history[0]["user"], "tester");
    assert_eq!(env.history_len(), 0);
}

fn heads_move_forward_only(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["head", "set", "orders:3", "100", "-q"]);
    let before = env.dump();
    let err = env.fails(4, &["head", "set", "orders:3", "90"]);
    assert!(err.contains("head regression refused on orders:3"), "{err}");
    assert!(err.contains("--allow-rewind"), "{err}");
    let err = env.fails(2, &["head", "set", "orders:3", "90", "--allow-rewind"]);
    assert!(err.contains("--reason"), "{err}");
    for bad in ["-1", "1.5", "0x10", "", "9223372036854775808"] {
        env.fails(2, &["head", "set", "orders:3", bad]);
    }
    env.fails(2, &["head", "set", "orders", "5"]);
    env.fails(
        2,
        &[
            "head",
            "set",
            "orders:3",
            "120",
            "--dry-run",
            "--allow-rewind",
            "--reason",
            " ",
        ],
    );
    // A dry run shows the plan and writes nothing.
    let plan: Value = serde_json::from_str(&env.ok(&[
        "head",
        "set",
        "orders:3",
        "120",
        "--dry-run",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(plan["status"], "moved");
    assert_eq!(plan["delta"], 20);
    env.fails(4, &["head", "set", "orders:3", "90", "--dry-run"]);
    assert_eq!(env.dump(), before, "refused head writes change nothing");

    let out = env.ok(&[
        "head",
        "set",
        "orders:3",
        "90",
        "--allow-rewind",
        "--reason",
        "topic recreated",
        "-o",
        "json",
    ]);
    let rewound: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rewound["status"], "rewound");
    assert_eq!(rewound["delta"], -10);
    let history = lines(&env.ok(&["head", "history", "-o", "ndjson"]));
    assert_eq!(history.last().unwrap()["reason"], "topic recreated");
    assert_eq!(env.ok(&["head", "get", "-o", "value"]), "90\n");
}

fn head_set_from_file_is_all_or_nothing(backend: Backend) {
    let env = Env::on(backend);
    env.ok(&["head", "set", "orders:2", "50", "-q"]);
    let before = env.dump();
    let input = "{\"partition_key\":\"orders:0\",\"head\":10}\n\
                 {\"partition_key\":\"orders:1\",\"head\":-4}\n\
                 {\"partition_key\":\"orders:0\",\"head\":11}\n\
                 {\"partition_key\":\"orders:2\",\"head\":40}\n\
                 {\"partition_key\":\"orders:3\",\"haed\":1}\n";
    let out = env.run_stdin(&["head", "set", "--from-file", "-"], input);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("4 of 5 lines fail; nothing was written"),
        "{err}"
    );
    assert!(err.contains("line 2: orders:1: head:"), "{err}");
    assert!(
        err.contains(
            "line 3: orders:0: partition key orders:0 appears twice in the input: first on line 1"
        ),
        "{err}"
    );
    assert!(
        err.contains("line 4: orders:2: head regression refused"),
        "{err}"
    );
    assert!(err.contains("line 5: unknown field \"haed\""), "{err}");
    assert_eq!(env.dump(), before, "a refused input writes nothing");

    // The first failing line decides the exit code: a regression is 4.
    let out = env.run_stdin(
        &["head", "set", "--from-file", "-", "-o", "json"],
        "partition_key,head\r\norders:2,40\r\norders:9,x\r\n",
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let json_err: Value = serde_json::from_str(stderr(&out).lines().last().unwrap()).unwrap();
    assert_eq!(json_err["error"]["failed"], 2);
    assert_eq!(json_err["error"]["failures"][0]["line"], 2);
    assert_eq!(env.dump(), before);
    let err = env.fails(2, &["head", "set", "--from-file", "missing.ndjson"]);
    assert!(err.contains("missing.ndjson"), "{err}");

    // A dry run lists every line and writes nothing.
    let plan = env.run_stdin(
        &[
            "head",
            "set",
            "--from-file",
            "-",
            "--dry-run",
            "-o",
            "ndjson",
        ],
        "partition_key,head\norders:2,60\norders:4,1\n",
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let rows = lines(&stdout(&plan));
    assert_eq!(rows[0]["status"], "moved");
    assert_eq!(rows[1]["status"], "created");
    assert_eq!(env.dump(), before);

    // CSV and NDJSON (what `head get -o ndjson` prints) go through.
    env.run_stdin(
        &["head", "set", "--from-file", "-", "-q"],
        "partition_key,head\norders:2,60\norders:4,1\n",
    );
    let listed = env.ok(&["head", "get", "-o", "ndjson"]);
    let bumped = listed.replace("\"head\":60", "\"head\":61");
    let out = env.run_stdin(&["head", "set", "--from-file", "-", "-o", "ndjson"], bumped);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = lines(&stdout(&out));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["status"], "moved");
    assert_eq!(rows[1]["status"], "unchanged");
    assert_eq!(env.ok(&["head", "get", "orders:2", "-o", "value"]), "61\n");
}

fn get_records_carry_head_and_lag(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 40), ("billing", "orders:1", 90)]);
    let rows = lines(&env.ok(&["get", "-o", "ndjson"]));
    assert!(rows
        .iter()
        .all(|r| r["head"].is_null() && r["lag"].is_null()));
    let table = env.ok(&["get"]);
    assert!(!table.contains("HEAD") && !table.contains("LAG"), "{table}");

    env.ok(&["head", "set", "orders:0", "100", "-q"]);
    // A head recorded before the cursor moved past it: lag 0, never
    // negative.
    env.ok(&["head", "set", "orders:1", "80", "-q"]);
    let rows = lines(&env.ok(&["get", "-o", "ndjson"]));
    assert_eq!(
        (rows[0]["head"].clone(), rows[0]["lag"].clone()),
        (100.into(), 60.into())
    );
    assert_eq!(
        (rows[1]["head"].clone(), rows[1]["lag"].clone()),
        (80.into(), 0.into())
    );
    let one: Value =
        serde_json::from_str(&env.ok(&["get", "billing", "orders:0", "-o", "json"])).unwrap();
    assert_eq!(one["lag"], 60);
    let absent: Value =
        serde_json::from_str(&env.ok(&["get", "billing:orders:0", "-o", "json"])).unwrap();
    assert_eq!(absent["head"], 100);
    let missing: Value =
        serde_json::from_str(&env.ok(&["get", "other", "orders:0", "-o", "json"])).unwrap();
    assert_eq!(
        (missing["exists"].clone(), missing["lag"].clone()),
        (false.into(), 100.into())
    );
    let table = env.ok(&["get", "billing"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "CONSUMER",
            "PARTITION_KEY",
            "OFFSET",
            "HEAD",
            "LAG",
            "UPDATED_AT"
        ]
    );
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row[..5],
        ["billing", "orders:0", "40", "100", "60"],
        "{table}"
    );
    let tsv = env.ok(&["get", "-o", "tsv"]);
    assert!(
        tsv.lines()
            .next()
            .unwrap()
            .ends_with("\tupdated_at\thead\tlag\towner\tlease_expires_at"),
        "{tsv}"
    );

    // Every listing format stays valid `set --from-file` input.
    for format in ["tsv", "ndjson", "json"] {
        let listing = env.ok(&["get", "-o", format]);
        let out = env.run_stdin(&["set", "--from-file", "-", "-q"], listing);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
    }
}

fn status_rules_golden(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("ahead", "orders:0", 120),
        ("behind", "orders:0", 40),
        ("nohead", "other:0", 5),
        ("ok", "orders:0", 100),
        ("stalled", "orders:0", 40),
    ]);
    env.ok(&["head", "set", "orders:0", "100", "-q"]);
    for consumer in ["ahead", "nohead", "ok", "stalled"] {
        last_moved_at(&env, consumer, LONG_AGO);
    }
    let out = env.run(&["status", "-o", "tsv"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let text = stdout(&out);
    let masked: Vec<String> = text
        .lines()
        .map(|l| {
            let mut fields: Vec<&str> = l.split('\t').collect();
            if fields[0] == "behind:orders:0" {
                fields[7] = "<recent>";
            }
            fields.join("\t")
        })
        .collect();
    let t = LONG_AGO_TEXT;
    assert_eq!(
        masked.join("\n"),
        format!(
            "key\tconsumer\tpartition_key\toffset\thead\tlag\tstatus\tsince\n\
             ahead:orders:0\tahead\torders:0\t120\t100\t0\tahead\t{t}\n\
             behind:orders:0\tbehind\torders:0\t40\t100\t60\tbehind\t<recent>\n\
             nohead:other:0\tnohead\tother:0\t5\t\t\tno-head\t{t}\n\
             ok:orders:0\tok\torders:0\t100\t100\t0\tok\t{t}\n\
             stalled:orders:0\tstalled\torders:0\t40\t100\t60\tstalled\t{t}"
        )
    );
    let err = stderr(&out);
    assert!(
        err.contains("2 of 5 cursor(s) need attention: 1 ahead, 1 stalled"),
        "{err}"
    );

    // One rule at a time: only `stalled` and `ahead` need attention.
    for (consumer, status, code) in [
        ("nohead", "no-head", 0),
        ("ahead", "ahead", 8),
        ("ok", "ok", 0),
        ("behind", "behind", 0),
        ("stalled", "stalled", 8),
    ] {
        let out = env.run(&["status", consumer, "-o", "value"]);
        assert_eq!(stdout(&out), format!("{status}\n"), "{consumer}");
        assert_eq!(
            out.status.code(),
            Some(code),
            "{consumer}: {}",
            stderr(&out)
        );
    }
    let out = env.run(&["status", "stalled", "-o", "json"]);
    let json_err: Value = serde_json::from_str(stderr(&out).lines().last().unwrap()).unwrap();
    assert_eq!(json_err["error"]["code"], 8);
    assert_eq!(json_err["error"]["kind"], "attention");
    assert_eq!(json_err["error"]["stalled"], 1);
}

fn stall_after_is_judged_by_the_store_clock(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10)]);
    env.ok(&["head", "set", "orders:0", "20", "-q"]);
    last_moved_at(&env, "billing", store_now(&env) - 120_000);
    assert_eq!(
        status_lines(&env, &[]),
        (vec!["billing:orders:0 10 20 10 behind".to_owned()], Some(0))
    );
    assert_eq!(
        status_lines(&env, &["--stall-after", "1m"]),
        (
            vec!["billing:orders:0 10 20 10 stalled".to_owned()],
            Some(8)
        )
    );
    assert_eq!(
        status_lines(&env, &["--stall-after", "3m"]).1,
        Some(0),
        "moved two minutes ago: not stalled after three"
    );
    env.fails(2, &["status", "--stall-after", "soon"]);
    // Caught up: ok, however long ago it moved.
    env.ok(&["set", "billing", "orders:0", "20", "-q"]);
    last_moved_at(&env, "billing", LONG_AGO);
    assert_eq!(status_lines(&env, &[]).0, ["billing:orders:0 20 20 0 ok"]);
}

fn a_stopped_consumer_with_a_growing_head_is_stalled_not_missing(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 5), ("live", "orders:0", 5)]);
    last_moved_at(&env, "billing", store_now(&env) - 600_000);
    for head in [10, 20, 30] {
        env.ok(&["head", "set", "orders:0", &head.to_string(), "-q"]);
        env.ok(&[
            "advance",
            "live",
            "orders:0",
            "--to",
            &head.to_string(),
            "-q",
        ]);
        let lag = head - 5;
        assert_eq!(
            status_lines(&env, &[]),
            (
                vec![
                    format!("billing:orders:0 5 {head} {lag} stalled"),
                    format!("live:orders:0 {head} {head} 0 ok"),
                ],
                Some(8)
            )
        );
        let metrics = stdout(&env.run(&["status", "-o", "prometheus"]));
        assert!(
            metrics.contains(&format!(
                "cursorctl_cursor_lag{{consumer=\"billing\",channel=\"orders\",partition=\"0\"}} {lag}\n"
            )),
            "{metrics}"
        );
        assert!(metrics.contains(
            "cursorctl_cursor_status{consumer=\"billing\",channel=\"orders\",partition=\"0\",status=\"stalled\"} 1\n"
        ));
    }
    let summary = lines(&env.ok(&["describe", "billing", "-o", "ndjson"]));
    assert_eq!(summary[0]["total_lag"], 25);
    assert_eq!(summary[0]["stalled"], 1);
}

fn a_head_older_than_the_cursors_last_move(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10), ("fast", "orders:0", 10)]);
    env.ok(&["head", "set", "orders:0", "50", "-q"]);
    env.execute(&format!("UPDATE heads SET recorded_at = {LONG_AGO}"));
    // The consumer moved since the head was recorded, not past it.
    env.ok(&["advance", "billing", "orders:0", "--to", "30", "-q"]);
    // Another moved past the old head: lag 0, never negative.
    env.ok(&["advance", "fast", "orders:0", "--to", "70", "-q"]);
    assert_eq!(
        status_lines(&env, &[]),
        (
            vec![
                "billing:orders:0 30 50 20 behind".to_owned(),
                "fast:orders:0 70 50 0 ahead".to_owned(),
            ],
            Some(8)
        )
    );
    let rows = lines(&env.ok(&["get", "-o", "ndjson"]));
    assert_eq!(rows[1]["lag"], 0);
    let summary = lines(&env.ok(&["describe", "-o", "ndjson"]));
    assert_eq!(
        (
            summary[1]["total_lag"].clone(),
            summary[1]["highest_lag"].clone()
        ),
        (0.into(), 0.into())
    );
}

fn status_filters_and_formats(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 1),
        ("billing", "orders:1", 2),
        ("billing", "payments:0", 3),
        ("shipping", "orders:0", 4),
    ]);
    env.ok(&["head", "set", "orders:0", "4", "-q"]);
    let keys = |args: &[&str]| -> Vec<String> {
        status_lines(&env, args)
            .0
            .iter()
            .map(|l| l.split(' ').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        keys(&["billing"]),
        ["billing:orders:0", "billing:orders:1", "billing:payments:0"]
    );
    assert_eq!(
        keys(&["--channel", "orders"]),
        ["billing:orders:0", "billing:orders:1", "shipping:orders:0"]
    );
    assert_eq!(keys(&["billing", "orders:1"]), ["billing:orders:1"]);
    assert_eq!(keys(&["billing:orders:0"]), ["billing:orders:0"]);
    last_moved_at(&env, "shipping", LONG_AGO);
    assert_eq!(keys(&["--idle-for", "1d"]), ["shipping:orders:0"]);
    let out = env.run(&["status", "nobody", "--must-exist"]);
    assert_eq!(out.status.code(), Some(5));
    env.ok(&["status", "nobody"]);

    let json: Value = serde_json::from_str(&env.ok(&["status", "billing", "-o", "json"])).unwrap();
    let first = &json.as_array().unwrap()[0];
    let fields: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "key",
        "consumer",
        "partition_key",
        "offset",
        "head",
        "lag",
        "status",
        "since",
    ];
    expected.sort_unstable();
    let mut fields = fields;
    fields.sort_unstable();
    assert_eq!(fields, expected);
    let table = env.ok(&["status", "billing"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["KEY", "OFFSET", "HEAD", "LAG", "STATUS", "SINCE"]);
    assert_eq!(
        env.ok(&["status", "billing", "orders:0", "-o", "value"]),
        "behind\n"
    );
    // -o prometheus only where it makes sense.
    env.fails(2, &["history", "-o", "prometheus"]);
    env.fails(2, &["get", "billing", "orders:0", "-o", "prometheus"]);
}

fn prometheus_metrics(backend: Backend) {
    let env = Env::on(backend);
    // Quotes and backslashes are allowed in names: escaped in labels.
    env.seed(&[
        ("a\"b\\c", "orders:0", 3),
        ("billing", "orders:1", 7),
        ("billing", "orders:0", 1),
    ]);
    env.ok(&["head", "set", "orders:0", "10", "-q"]);
    env.ok(&["head", "set", "payments:0", "5", "-q"]);
    let text = env.ok(&["get", "-o", "prometheus"]);
    for family in [
        "cursorctl_cursor_offset",
        "cursorctl_cursor_lag",
        "cursorctl_cursor_last_move_timestamp_seconds",
        "cursorctl_cursor_status",
        "cursorctl_partition_head",
    ] {
        assert_eq!(
            text.matches(&format!("# HELP {family} ")).count(),
            1,
            "{family}\n{text}"
        );
        assert_eq!(
            text.matches(&format!("# TYPE {family} gauge\n")).count(),
            1,
            "{family}"
        );
    }
    // Each family's samples come together, under its own HELP and TYPE.
    let mut families: Vec<&str> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        if families.last() != Some(&name) {
            assert!(!families.contains(&name), "{name} is split\n{text}");
            families.push(name);
        }
    }
    assert!(text.contains(
        "cursorctl_cursor_offset{consumer=\"a\\\"b\\\\c\",channel=\"orders\",partition=\"0\"} 3\n"
    ), "{text}");
    assert!(text.contains(
        "cursorctl_cursor_lag{consumer=\"billing\",channel=\"orders\",partition=\"0\"} 9\n"
    ));
    assert!(
        !text.contains(
            "cursorctl_cursor_lag{consumer=\"billing\",channel=\"orders\",partition=\"1\"}"
        ),
        "no head, no lag series"
    );
    assert!(text.contains("cursorctl_cursor_status{consumer=\"billing\",channel=\"orders\",partition=\"1\",status=\"no-head\"} 1\n"));
    assert!(text.contains("cursorctl_partition_head{channel=\"payments\",partition=\"0\"} 5\n"));
    let stamp = text
        .lines()
        .find(|l| l.starts_with("cursorctl_cursor_last_move_timestamp_seconds{consumer=\"billing\",channel=\"orders\",partition=\"1\"}"))
        .unwrap();
    let seconds: f64 = stamp.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (seconds * 1000.0 - store_now(&env) as f64).abs() < 600_000.0,
        "{stamp}"
    );
    // A channel filter lists that channel's heads.
    let orders = env.ok(&["get", "--channel", "orders", "-o", "prometheus"]);
    assert!(!orders.contains("channel=\"payments\""), "{orders}");

    // A deleted cursor's series are absent from the next output.
    env.ok(&["delete", "billing", "orders:1", "--reason", "gone", "-q"]);
    let after = env.ok(&["status", "-o", "prometheus"]);
    assert!(!after.contains("partition=\"1\""), "{after}");

    if crate::common::require_tool("promtool") {
        for metrics in [text, after] {
            let mut check = std::process::Command::new("promtool")
                .args(["check", "metrics"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            check
                .stdin
                .take()
                .unwrap()
                .write_all(metrics.as_bytes())
                .unwrap();
            let out = check.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "promtool check metrics: {}{}\n{metrics}",
                stdout(&out),
                stderr(&out)
            );
        }
    }
}

fn describe_shows_lag(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 10),
        ("billing", "orders:1", 50),
        ("billing", "orders:2", 1),
        ("quiet", "payments:0", 1),
    ]);
    env.ok(&["head", "set", "orders:0", "30", "-q"]);
    env.ok(&["head", "set", "orders:1", "45", "-q"]);
    env.ok(&["head", "set", "orders:2", "101", "-q"]);
    env.execute("UPDATE cursors SET updated_at = 1577836800000 WHERE partition = 2");
    let rows = lines(&env.ok(&["describe", "-o", "ndjson"]));
    let billing = &rows[0];
    assert_eq!(billing["total_lag"], 120);
    assert_eq!(billing["highest_lag"], 100);
    assert_eq!(billing["behind"], 1);
    assert_eq!(billing["stalled"], 1);
    let quiet = &rows[1];
    assert!(
        quiet["total_lag"].is_null() && quiet["stalled"].is_null(),
        "{quiet}"
    );
    let table = env.ok(&["describe"]);
    assert!(
        table.contains("TOTAL_LAG") && table.contains("STALLED"),
        "{table}"
    );
    let table = env.ok(&["describe", "quiet"]);
    assert!(!table.contains("TOTAL_LAG"), "{table}");
    let rows = lines(&env.ok(&[
        "describe",
        "billing",
        "--stall-after",
        "10000days",
        "-o",
        "ndjson",
    ]));
    assert_eq!(
        (rows[0]["behind"].clone(), rows[0]["stalled"].clone()),
        (2.into(), 0.into())
    );
}

fn advance_to_head(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("billing", "orders:0", 10),
        ("billing", "orders:1", 20),
        ("billing", "payments:0", 5),
        ("other", "orders:0", 1),
    ]);
    env.ok(&["head", "set", "orders:0", "100", "-q"]);
    let before = env.dump();
    let err = env.fails(2, &["advance", "billing", "orders:0", "--to-head"]);
    assert!(err.contains("--reason"), "{err}");
    env.fails(
        2,
        &[
            "advance",
            "billing",
            "orders:0",
            "--to-head",
            "--to",
            "5",
            "--reason",
            "r",
        ],
    );
    // No head for orders:1: the whole batch is refused with exit 5.
    let err = env.fails(
        5,
        &[
            "advance",
            "billing",
            "--channel",
            "orders",
            "--to-head",
            "--reason",
            "r",
        ],
    );
    assert!(
        err.contains("no head is recorded for partition orders:1"),
        "{err}"
    );
    env.fails(
        5,
        &[
            "advance",
            "billing",
            "payments:0",
            "--to-head",
            "--reason",
            "r",
            "--dry-run",
        ],
    );
    env.fails(
        5,
        &[
            "advance",
            "nobody",
            "--channel",
            "orders",
            "--to-head",
            "--reason",
            "r",
        ],
    );
    let plan = env.ok(&[
        "advance",
        "billing",
        "orders:0",
        "--to-head",
        "--reason",
        "r",
        "--dry-run",
        "-o",
        "ndjson",
    ]);
    assert_eq!(lines(&plan)[0]["new_offset"], 100);
    assert_eq!(env.dump(), before, "refusals and dry runs change nothing");

    let out = env.ok(&[
        "advance",
        "billing:orders:0",
        "--to-head",
        "--reason",
        "INC-7",
        "-o",
        "ndjson",
    ]);
    let rows = lines(&out);
    assert_eq!(
        (rows[0]["old_offset"].clone(), rows[0]["new_offset"].clone()),
        (10.into(), 100.into())
    );
    assert_eq!(env.offset("billing", "orders:0"), Some(100));

    env.ok(&["head", "set", "orders:1", "200", "-q"]);
    env.ok(&["head", "set", "orders:0", "150", "-q"]);
    let out = env.run(&[
        "advance",
        "billing",
        "--channel",
        "orders",
        "--to-head",
        "--reason",
        "INC-8",
        "-o",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = lines(&stdout(&out));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["new_offset"], 200);
    assert_eq!(
        env.offset("billing", "payments:0"),
        Some(5),
        "other channels stay"
    );
    assert_eq!(
        env.offset("other", "orders:0"),
        Some(1),
        "other consumers stay"
    );
    let history = env.history();
    let batch = history.last().unwrap().batch.unwrap();
    assert_eq!(history.last().unwrap().reason.as_deref(), Some("INC-8"));
    env.ok(&[
        "undo",
        "--batch",
        &batch.to_string(),
        "--reason",
        "back",
        "-q",
    ]);
    assert_eq!(env.offset("billing", "orders:0"), Some(100));
    assert_eq!(env.offset("billing", "orders:1"), Some(20));
    // A cursor past its head is not moved back.
    env.ok(&["set", "billing", "orders:0", "500", "-q"]);
    env.fails(
        4,
        &[
            "advance",
            "billing",
            "orders:0",
            "--to-head",
            "--reason",
            "r",
        ],
    );
}

fn init_upgrades_a_version_2_store(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10)]);
    match backend {
        Backend::Sqlite => env.execute(&format!(
            "{}DROP TABLE heads; DROP TABLE head_history; PRAGMA user_version = 2;",
            crate::common::SQLITE_DOWN_FROM_V4
        )),
        Backend::Postgres => env.execute(&format!(
            "{}DROP TABLE heads; DROP TABLE head_history; UPDATE meta SET value = '2' WHERE key = 'schema_version'",
            crate::common::pg_down_from_v4(env.pg_schema().unwrap())
        )),
    }
    let before = env.dump();
    // Reads work on the old store, with no heads; head writes refuse.
    let row: Value =
        serde_json::from_str(&env.ok(&["get", "billing", "orders:0", "-o", "json"])).unwrap();
    assert!(row["head"].is_null());
    assert_eq!(
        status_lines(&env, &[]).0,
        ["billing:orders:0 10 null null no-head"]
    );
    let err = env.fails(7, &["head", "set", "orders:0", "5"]);
    assert!(err.contains("run `cursorctl init` to upgrade"), "{err}");
    env.fails(7, &["head", "get"]);
    env.fails(
        7,
        &[
            "advance",
            "billing",
            "orders:0",
            "--to-head",
            "--reason",
            "r",
        ],
    );
    env.ok(&["describe"]);
    assert_eq!(env.dump(), before);
    let out: Value = serde_json::from_str(&env.ok(&["init", "-o", "json"])).unwrap();
    assert_eq!(out["status"], "upgraded");
    assert_eq!(out["schema_version"], 4);
    env.ok(&["head", "set", "orders:0", "15", "-q"]);
    assert_eq!(
        status_lines(&env, &[]).0,
        ["billing:orders:0 10 15 5 behind"]
    );
}

fn the_library_records_heads_and_reads_lag(backend: Backend) {
    use cursorctl::heads::{read_lag, record_head, HeadAudit, HeadError};
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 10)]);
    let store = cursorctl::store::open(
        &env.location(),
        cursorctl::Access::ReadWrite,
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let pk: cursorctl::PartitionKey = "orders:0".parse().unwrap();
    let audit = HeadAudit {
        command: "bridge",
        reason: None,
        user: "producer",
    };
    let written = record_head(&*store, &pk, 25, audit).unwrap();
    assert_eq!((written.old, written.new), (None, 25));
    assert!(written.change_id.is_some());
    assert!(matches!(
        record_head(&*store, &pk, 20, audit),
        Err(HeadError::Regression {
            current: 25,
            attempted: 20,
            ..
        })
    ));
    let key: cursorctl::CursorKey = "billing:orders:0".parse().unwrap();
    let lag = read_lag(&*store, &key).unwrap();
    assert_eq!((lag.offset, lag.head, lag.lag), (10, Some(25), Some(15)));
    let history = lines(&env.ok(&["head", "history", "-o", "ndjson"]));
    assert_eq!(
        (history[0]["command"].clone(), history[0]["user"].clone()),
        ("bridge".into(), "producer".into())
    );
}

/// Heads and cursors written at once by 8 processes: every write lands.
fn head_writes_race_cursor_writes(backend: Backend) {
    const ROUNDS: u64 = 12;
    let env = Env::on(backend);
    for i in 0..4 {
        env.seed(&[("billing", &format!("orders:{i}"), 0)]);
    }
    let history_before = env.history_len();
    std::thread::scope(|s| {
        for i in 0..4 {
            let env = &env;
            s.spawn(move || {
                for round in 1..=ROUNDS {
                    let head = (round * 10).to_string();
                    let out = env.run(&[
                        "head",
                        "set",
                        &format!("orders:{i}"),
                        &head,
                        "-q",
                        "--busy-timeout",
                        "60s",
                    ]);
                    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
                }
            });
            s.spawn(move || {
                for _ in 1..=ROUNDS {
                    let out = env.run(&[
                        "advance",
                        "billing",
                        &format!("orders:{i}"),
                        "-q",
                        "--busy-timeout",
                        "60s",
                    ]);
                    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
                }
            });
        }
    });
    let statuses = status_lines(&env, &[]).0;
    let expected: Vec<String> = (0..4)
        .map(|i| {
            format!(
                "billing:orders:{i} {ROUNDS} {} {} behind",
                ROUNDS * 10,
                ROUNDS * 9
            )
        })
        .collect();
    assert_eq!(statuses, expected);
    assert_eq!(env.history_len() - history_before, 4 * ROUNDS as i64);
    let history = lines(&env.ok(&["head", "history", "-o", "ndjson"]));
    assert_eq!(history.len() as u64, 4 * ROUNDS);
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for h in &history {
        let pk = h["partition_key"].as_str().unwrap().to_owned();
        let new = h["new_head"].as_u64().unwrap();
        let old = h["old_head"].as_u64();
        assert_eq!(
            old,
            last.get(&pk).copied(),
            "each change follows the one before: {h}"
        );
        last.insert(pk, new);
    }
}

fn get_watch_shows_lag_and_the_time_to_catch_up(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 0), ("billing", "payments:0", 0)]);
    env.ok(&["head", "set", "orders:0", "1000", "-q"]);
    let watch = env
        .std_cmd()
        .args([
            "get",
            "billing",
            "--watch=400ms",
            "--count",
            "3",
            "-o",
            "ndjson",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    env.ok(&["advance", "billing", "orders:0", "--by", "100", "-q"]);
    let out = watch.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows = lines(&stdout(&out));
    assert_eq!(rows.len(), 6);
    let orders: Vec<&Value> = rows
        .iter()
        .filter(|r| r["key"] == "billing:orders:0")
        .collect();
    assert_eq!(
        (orders[0]["head"].clone(), orders[0]["lag"].clone()),
        (1000.into(), 1000.into())
    );
    assert!(
        orders[0]["catch_up_seconds"].is_null(),
        "no rate at the first read"
    );
    let moved = orders
        .iter()
        .find(|r| r["change"] == 100)
        .expect("the advance is seen");
    assert_eq!(moved["lag"], 900);
    let rate: f64 = moved["rate"].as_f64().unwrap();
    let expected = (900.0 / rate).ceil();
    let catch_up = moved["catch_up_seconds"].as_f64().unwrap();
    assert!((catch_up - expected).abs() <= 1.0, "{moved}");
    // Not moving: never caught up at this rate.
    let still = orders.iter().rev().find(|r| r["change"] == 0);
    if let Some(still) = still {
        assert!(still["catch_up_seconds"].is_null(), "{still}");
    }
    let payments: Vec<&Value> = rows
        .iter()
        .filter(|r| r["key"] == "billing:payments:0")
        .collect();
    assert!(payments
        .iter()
        .all(|r| r["head"].is_null() && r["catch_up_seconds"].is_null()));
}

backend_tests!(
    get_watch_shows_lag_and_the_time_to_catch_up,
    head_set_records_and_get_lists,
    heads_move_forward_only,
    head_set_from_file_is_all_or_nothing,
    get_records_carry_head_and_lag,
    status_rules_golden,
    stall_after_is_judged_by_the_store_clock,
    a_stopped_consumer_with_a_growing_head_is_stalled_not_missing,
    a_head_older_than_the_cursors_last_move,
    status_filters_and_formats,
    prometheus_metrics,
    describe_shows_lag,
    advance_to_head,
    init_upgrades_a_version_2_store,
    the_library_records_heads_and_reads_lag,
    head_writes_race_cursor_writes,
);

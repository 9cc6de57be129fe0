//! Defects and rough edges found by trying cursorctl as a new operator,
//! each driven through the real binary: bad values, output that cannot be
//! written, every listing format read back, the full key as one argument,
//! look-alike names.

use crate::common;

use std::fs;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Output, Stdio};
use std::thread;
use std::time::Duration;

use common::{stderr, stdout, Env};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

/// Run with stdout on a device that is always full.
fn to_dev_full(env: &Env, args: &[&str]) -> Output {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    env.std_cmd().args(args).stdout(full).output().unwrap()
}

/// Run with stdout on a pipe whose reading end is already closed.
fn to_closed_pipe(env: &Env, args: &[&str]) -> Output {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills two new descriptors, each owned exactly once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    env.std_cmd()
        .args(args)
        .stdout(Stdio::from(write))
        .output()
        .unwrap()
}

fn assert_no_parser_words(text: &str) {
    for leak in [
        "expected number at",
        "few variations",
        "invalid digit",
        "unexpected argument",
        "panicked",
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
}

// ---- defects ---------------------------------------------------------------

#[test]
fn a_busy_timeout_past_what_the_backend_takes_is_refused_naming_the_limit() {
    let env = Env::new();
    for value in ["25days", "4w", "2147483648ms"] {
        let err = env.fails(2, &["--busy-timeout", value, "get"]);
        assert!(err.contains("2147483647ms"), "{value}: {err}");
        assert!(err.contains("of a sqlite store"), "{value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Each backend's own limit, said before any connection is tried.
    let err = env.fails(
        2,
        &[
            "--db",
            "postgres://nowhere.invalid/db",
            "--busy-timeout",
            "25days",
            "get",
        ],
    );
    assert!(err.contains("2147483647ms"), "{err}");
    assert!(err.contains("of a postgres store"), "{err}");
    assert!(err.contains("lock_timeout"), "{err}");
    let err = env.fails(2, &["-o", "json", "--busy-timeout", "25days", "get"]);
    let body = json(&err);
    assert_eq!(body["error"]["kind"], "usage", "{err}");
    env.ok(&["--busy-timeout", "2147483647ms", "get"]);
    env.ok(&["--busy-timeout", "24d", "get"]);
    let help = env.ok(&["--help"]);
    assert!(help.contains("2147483647ms"), "{help}");
}

#[test]
fn a_committed_change_whose_record_cannot_be_printed_says_it_was_committed() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);

    let out = to_dev_full(&env, &["advance", "billing", "orders:3", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let body = json(&stderr(&out));
    let error = &body["error"];
    assert_eq!(error["kind"], "output-failed", "{body}");
    assert_eq!(error["committed"], true, "{body}");
    let id = error["change"].as_i64().expect("the change id");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&format!("change {id}")), "{message}");
    assert!(message.contains("was committed"), "{message}");
    assert!(message.contains("stdout"), "{message}");
    assert!(
        error["hint"].as_str().unwrap().contains("do not run"),
        "{body}"
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(6), "moved once");

    let out = to_dev_full(&env, &["set", "billing", "orders:3", "9"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("was committed") && err.contains("advanced from 6 to 9"),
        "{err}"
    );
    assert!(err.contains("do not run the command again"), "{err}");

    let out = env
        .std_cmd()
        .args(["set", "--from-file", "-", "-o", "json"])
        .stdout(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"{\"key\":\"billing:orders:3\",\"offset\":12}\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let body = json(&stderr(&out));
    assert_eq!(body["error"]["kind"], "output-failed", "{body}");
    let batch = body["error"]["batch"].as_i64().expect("the batch id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("batch {batch}")),
        "{body}"
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(12));

    let out = to_dev_full(
        &env,
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-message",
            "--messages",
            "3",
            "--commit",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("was committed") && err.contains("batch"),
        "{err}"
    );
    assert_eq!(env.offset("billing", "orders:3"), Some(15));

    let out = to_dev_full(&env, &["undo", &id.to_string()]);
    assert_eq!(out.status.code(), Some(3), "the cursor moved since");
    // A listing that cannot be written commits nothing, and says what failed.
    let out = to_dev_full(&env, &["get", "-o", "json"]);
    let body = json(&stderr(&out));
    assert_eq!(body["error"]["kind"], "output-failed", "{body}");
    assert!(body["error"].get("committed").is_none(), "{body}");
}

#[test]
fn a_reason_must_have_text() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 50)]);
    let before = env.dump();
    for reason in ["", "   ", "\t"] {
        let err = env.fails(
            2,
            &[
                "set",
                "billing",
                "orders:3",
                "10",
                "--allow-rewind",
                "--reason",
                reason,
            ],
        );
        assert!(err.contains("non-blank"), "{reason:?}: {err}");
        env.fails(2, &["undo", "1", "--reason", reason]);
        env.fails(2, &["advance", "billing", "orders:3", "--reason", reason]);
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn an_unreadable_input_path_is_a_usage_error_naming_it() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    let before = env.dump();
    let dir = env.dir.path().join("moves");
    fs::create_dir(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let missing = env.dir.path().join("missing.ndjson").display().to_string();
    for path in [&dir_text, &missing] {
        let err = env.fails(2, &["set", "--from-file", path]);
        assert!(
            err.contains(path.as_str()) && err.contains("--from-file"),
            "{err}"
        );
        let err = env.fails(2, &["set", "--from-file", path, "--dry-run"]);
        assert!(err.contains(path.as_str()), "{err}");
        let err = env.fails(
            2,
            &[
                "flush-sim",
                "billing",
                "orders:3",
                "--policy",
                "per-message",
                "--offsets",
                path,
            ],
        );
        assert!(
            err.contains(path.as_str()) && err.contains("--offsets"),
            "{err}"
        );
    }
    let err = env.fails(2, &["set", "--from-file", &dir_text, "-o", "json"]);
    assert_eq!(json(&err)["error"]["kind"], "usage");
    assert!(err.contains("directory"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn completions_into_a_closed_pipe_end_quietly_and_a_full_disk_is_an_error() {
    let env = Env::empty();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = to_closed_pipe(&env, &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{shell}: {}", stderr(&out));
        let out = to_dev_full(&env, &["completions", shell]);
        assert_eq!(out.status.code(), Some(1), "{shell}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("No space left") && !err.contains("panicked"),
            "{err}"
        );
    }
}

#[test]
fn flush_sim_offsets_skip_blank_lines_as_set_from_file_does() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 0)]);
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
        "1\n2\n\n  \r\n3\n\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = json(&stdout(&out));
    assert_eq!(summary["messages"], 3);
    assert_eq!(summary["final_offset"], 3);
    // A bad line is still named by its number, blank lines counted.
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
        "1\n\nx\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
}

// ---- bulk input: every listing format, parts that disagree ------------------

/// The listing of billing's cursors in `format`, every offset `from`
/// replaced by `to`, as an edit with jq or awk would.
fn listing_with_offsets(env: &Env, format: &str, from: u64, to: u64) -> String {
    let listing = env.ok(&["get", "billing", "-o", format]);
    if format != "tsv" {
        return listing.replace(&format!("\"offset\":{from},"), &format!("\"offset\":{to},"));
    }
    listing
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split('\t').map(str::to_owned).collect();
            if f[0] != "key" {
                assert_eq!(f[5], from.to_string());
                f[5] = to.to_string();
            }
            f.join("\t") + "\n"
        })
        .collect()
}

#[test]
fn every_listing_format_reads_back_into_set_from_file() {
    let env = Env::new();
    env.seed(&[
        ("billing", "orders:0", 5),
        ("billing", "orders:1", 5),
        ("billing", "orders:2", 5),
    ]);
    for (format, from, to) in [("json", 5, 6), ("tsv", 6, 7), ("ndjson", 7, 8)] {
        let input = listing_with_offsets(&env, format, from, to);
        let out = env.run_stdin(&["set", "--from-file", "-", "-o", "ndjson"], input);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert_eq!(json_lines(&stdout(&out)).len(), 3, "{format}");
        for p in 0..3 {
            let offset = env.offset("billing", &format!("orders:{p}"));
            assert_eq!(offset, Some(i64::try_from(to).unwrap()), "{format}");
        }
    }
    // A JSON array laid out as jq prints it, and on one line.
    let listing: Value = json(&env.ok(&["get", "billing", "-o", "json"]));
    let mut moved = listing.clone();
    for c in moved.as_array_mut().unwrap() {
        c["offset"] = Value::from(c["offset"].as_i64().unwrap() + 10);
    }
    let pretty = serde_json::to_string_pretty(&moved).unwrap();
    env.ok(&["set", "--from-file", "-", "-q"]); // empty stdin: a no-op
    let out = env.run_stdin(&["set", "--from-file", "-", "-q"], pretty);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:2"), Some(18));
    for c in moved.as_array_mut().unwrap() {
        c["offset"] = Value::from(c["offset"].as_i64().unwrap() + 1);
    }
    let compact = serde_json::to_string(&moved).unwrap();
    let out = env.run_stdin(&["set", "--from-file", "-", "-q"], compact);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:0"), Some(19));
    // Objects one after another, pretty-printed (`jq '.[]'`), and the one
    // object of `get CONSUMER PARTITION_KEY -o json` through jq.
    let stream: String = moved
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["offset"] = Value::from(c["offset"].as_i64().unwrap() + 1);
            serde_json::to_string_pretty(&c).unwrap() + "\n"
        })
        .collect();
    let out = env.run_stdin(&["set", "--from-file", "-", "-q"], stream);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:1"), Some(20));
    let mut one = json(&env.ok(&["get", "billing", "orders:1", "-o", "json"]));
    one["offset"] = Value::from(21);
    let out = env.run_stdin(
        &["set", "--from-file", "-", "-q"],
        serde_json::to_string_pretty(&one).unwrap(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:1"), Some(21));
}

#[test]
fn a_broken_json_array_is_refused_by_line_and_changes_nothing() {
    let env = Env::new();
    env.seed(&[("billing", "orders:0", 5), ("billing", "orders:1", 5)]);
    let before = env.dump();
    for (input, line, needle) in [
        (
            "[\n{\"key\":\"billing:orders:0\",\"offset\":6}\n{\"key\":\"billing:orders:1\",\"offset\":6}\n]\n",
            "line 3",
            "comma",
        ),
        (
            "[\n{\"key\":\"billing:orders:0\",\"offset\":6},\n{\"key\":\"billing:orders:1\",\"offset\":6}\n",
            "line 3",
            "not closed",
        ),
        (
            "[{\"key\":\"billing:orders:0\",\"offset\":6},]",
            "line 1",
            "comma",
        ),
        ("[1]", "line 1", "JSON object"),
    ] {
        let out = env.run_stdin(&["set", "--from-file", "-"], input);
        assert_eq!(out.status.code(), Some(2), "{input}");
        let err = stderr(&out);
        assert!(err.contains(line) && err.contains(needle), "{input}: {err}");
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn a_channel_or_partition_that_disagrees_with_the_key_is_refused() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    let before = env.dump();
    let line = env.ok(&["get", "billing", "orders:3", "-o", "ndjson"]);
    let mut edited = json(&line);
    edited["partition"] = Value::from(4);
    edited["offset"] = Value::from(9);
    let err = env
        .run_stdin(&["set", "--from-file", "-"], edited.to_string())
        .stderr;
    let err = String::from_utf8_lossy(&err);
    assert!(err.contains("partition 4 does not match"), "{err}");
    let mut edited = json(&line);
    edited["channel"] = Value::from("invoices");
    let out = env.run_stdin(&["set", "--from-file", "-"], edited.to_string());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("channel \"invoices\" does not match"),
        "{}",
        stderr(&out)
    );
    let tsv = env
        .ok(&["get", "billing", "-o", "tsv"])
        .replace("\torders\t3\t5\t", "\torders\t7\t9\t");
    let out = env.run_stdin(&["set", "--from-file", "-"], tsv);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("partition 7 does not match"),
        "{}",
        stderr(&out)
    );
    let csv = "key,channel,offset\nbilling:orders:3,invoices,9\n";
    let out = env.run_stdin(&["set", "--from-file", "-"], csv);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(env.dump(), before);
}

#[test]
fn stdin_of_set_from_file_is_read_to_its_end_before_the_write_lock() {
    let env = Env::new();
    env.seed(&[("billing", "orders:0", 5), ("billing", "orders:1", 5)]);
    let mut bulk = env
        .std_cmd()
        .args(["set", "--from-file", "-", "-q"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = bulk.stdin.take().unwrap();
    input
        .write_all(b"{\"key\":\"billing:orders:0\",\"offset\":9}\n")
        .unwrap();
    input.flush().unwrap();
    // While the rest of the input is still to come, another writer with no
    // patience at all gets the store.
    thread::sleep(Duration::from_millis(500));
    let out = env.run(&[
        "--busy-timeout",
        "0ms",
        "advance",
        "billing",
        "orders:1",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    input
        .write_all(b"{\"key\":\"billing:orders:1\",\"offset\":9}\n")
        .unwrap();
    drop(input);
    let out = bulk.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("billing", "orders:0"), Some(9));
    assert_eq!(env.offset("billing", "orders:1"), Some(9));
}

// ---- the full key, names ----------------------------------------------------

#[test]
fn the_full_key_works_wherever_consumer_and_partition_key_do() {
    let env = Env::new();
    env.ok(&["set", "billing:orders:3", "40", "--create", "-q"]);
    assert_eq!(env.offset("billing", "orders:3"), Some(40));
    let one = json(&env.ok(&["get", "billing:orders:3", "-o", "json"]));
    assert_eq!(one["offset"], 40);
    assert_eq!(one["key"], "billing:orders:3");
    env.ok(&["advance", "billing:orders:3", "--by", "2", "-q"]);
    assert_eq!(env.ok(&["get", "billing:orders:3", "-o", "value"]), "42\n");
    let sim = json(&env.ok(&[
        "flush-sim",
        "billing:orders:3",
        "--policy",
        "per-message",
        "--messages",
        "3",
        "-o",
        "json",
    ]));
    assert_eq!(sim["final_offset"], 45);
    let history = json_lines(&env.ok(&["history", "billing:orders:3", "-o", "ndjson"]));
    assert_eq!(history.len(), 2);
    assert_eq!(
        env.ok(&["history", "billing", "orders:3", "-o", "ndjson"]),
        env.ok(&["history", "billing:orders:3", "-o", "ndjson"])
    );
    let before = env.dump();
    for args in [
        &["get", "billing:orders:3", "orders:4"][..],
        &["advance", "billing:orders:3", "orders:3"],
        &["set", "billing:orders:3", "orders:3", "50"],
        &["set", "billing:orders:3"],
        &["advance", "billing"],
        &["set", "billing", "orders:3"],
    ] {
        let err = env.fails(2, args);
        assert!(
            err.contains("full key") || err.contains("missing"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn look_alike_names_are_refused_naming_the_character() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    let before = env.dump();
    for (consumer, pk, code) in [
        ("bill\u{200B}ing", "orders:3", "U+200B"),
        ("billing", "or\u{202E}ders:3", "U+202E"),
        ("\u{FEFF}billing", "orders:3", "U+FEFF"),
        ("billing", "orders\u{2066}:3", "U+2066"),
    ] {
        let err = env.fails(2, &["set", consumer, pk, "9", "--create"]);
        assert!(err.contains(code) && err.contains("invisible"), "{err}");
        let line =
            format!("{{\"consumer\":\"{consumer}\",\"partition_key\":\"{pk}\",\"offset\":9}}");
        let out = env.run_stdin(&["set", "--from-file", "-", "--create"], line);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(code), "{}", stderr(&out));
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn a_stored_name_cursorctl_refuses_is_listed_with_a_warning() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    env.conn()
        .execute(
            "INSERT INTO cursors (consumer, channel, partition, offset, updated_at) \
             VALUES ('bad:name', 'orders', 1, 7, 0)",
            [],
        )
        .unwrap();
    let out = env.run(&["get", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&stdout(&out)).len(), 2);
    let err = stderr(&out);
    assert!(
        err.contains("warning: cursor bad:name:orders:1") && err.contains("cannot write it back"),
        "{err}"
    );
    assert!(err.contains("must not contain ':'"), "{err}");
}

// ---- values: durations, times, numbers, leading zeros -----------------------

#[test]
fn since_takes_dates_and_minutes_and_refuses_ambiguous_units_and_zoneless_times() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    assert_eq!(
        json_lines(&env.ok(&["history", "--since", "5m", "-o", "ndjson"])).len(),
        1
    );
    assert_eq!(
        json_lines(&env.ok(&["history", "--since", "2000-01-01", "-o", "ndjson"])).len(),
        1
    );
    assert_eq!(
        json_lines(&env.ok(&["history", "--since", "9999-01-01", "-o", "ndjson"])).len(),
        0
    );
    env.ok(&["history", "--since", "2000-01-01T00:00:00Z"]);
    env.ok(&["history", "--since", "2000-01-01T02:00:00+02:00"]);
    let err = env.fails(2, &["history", "--since", "5M"]);
    assert!(
        err.contains("ambiguous") && err.contains("m (minutes)"),
        "{err}"
    );
    let err = env.fails(2, &["history", "--since", "2000-01-01T00:00:00"]);
    assert!(err.contains("no zone"), "{err}");
    let err = env.fails(2, &["get", "--idle-for", "1y"]);
    assert!(err.contains("days"), "{err}");
    assert_no_parser_words(&err);
}

#[test]
fn bad_values_name_the_option_the_value_and_the_rule_in_cursorctl_words() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    let before = env.dump();
    for (option, value, command) in [
        ("--limit", "-1", "history"),
        ("--limit", "x", "history"),
        ("--batch", "x", "history"),
        ("--batch", "-3", "undo"),
        ("--idle-for", "xyz", "get"),
        ("--busy-timeout", "soon", "get"),
        ("--since", "soon", "history"),
        ("--since", "2024-13-45", "history"),
        ("--by", "-2", "advance"),
    ] {
        let mut args = vec![command, option, value];
        if command == "advance" {
            args.extend(["billing", "orders:3"]);
        }
        let err = env.fails(2, &args);
        assert!(
            err.contains(option) && err.contains(value),
            "{args:?}: {err}"
        );
        assert_no_parser_words(&err);
    }
    let err = env.fails(2, &["undo", "abc"]);
    assert!(err.contains("CHANGE_ID") && err.contains("abc"), "{err}");
    assert_no_parser_words(&err);
    assert_eq!(env.dump(), before);
}

#[test]
fn leading_zeros_are_refused_in_offsets_as_in_partition_indexes() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 5)]);
    let before = env.dump();
    let err = env.fails(2, &["set", "billing", "orders:3", "0150"]);
    assert!(err.contains("leading zeros"), "{err}");
    let err = env.fails(2, &["set", "billing", "orders:03", "150"]);
    assert!(err.contains("leading zeros"), "{err}");
    env.fails(2, &["advance", "billing", "orders:3", "--by", "01"]);
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        "consumer,partition_key,offset\nbilling,orders:3,0150\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("leading zeros"), "{}", stderr(&out));
    assert_eq!(env.dump(), before);
    env.ok(&["set", "billing", "orders:0", "0", "--create", "-q"]);
}

// ---- messages and errors ----------------------------------------------------

#[test]
fn usage_lines_do_not_show_db_when_the_variable_is_set() {
    let env = Env::new();
    let err = env.fails(2, &["set"]);
    let usage = err
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap_or_default();
    assert!(usage.starts_with("Usage: cursorctl set"), "{err}");
    assert!(!usage.contains("--db"), "{err}");
    // --db still wins over the variable, before or after the command.
    for args in [
        &["--db", "other.db", "get"][..],
        &["get", "--db", "other.db"],
    ] {
        let err = env.fails(7, args);
        assert!(err.contains("other.db"), "{err}");
    }
}

#[test]
fn a_regression_names_its_cursor_and_json_errors_carry_the_hint() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 50)]);
    let err = env.fails(4, &["set", "billing", "orders:3", "10"]);
    assert!(err.contains("billing:orders:3"), "{err}");
    let err = env.fails(4, &["set", "billing", "orders:3", "10", "-o", "json"]);
    let body = json(&err);
    assert_eq!(body["error"]["key"], "billing:orders:3");
    assert!(
        body["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--allow-rewind"),
        "{body}"
    );
    // An undo of a cursor that no longer exists says so plainly.
    env.ok(&["set", "temp", "orders:1", "5", "--create", "-q"]);
    let created =
        json_lines(&env.ok(&["history", "--limit", "1", "-o", "ndjson"]))[0]["id"].to_string();
    env.ok(&["undo", &created, "--reason", "made by mistake", "-q"]);
    let err = env.fails(3, &["undo", &created, "--reason", "again"]);
    assert!(err.contains("(it no longer exists)"), "{err}");
    // A stale write against an absent cursor says so plainly.
    let err = env.fails(
        3,
        &["set", "ghost", "orders:1", "9", "--create", "--expect", "4"],
    );
    assert!(err.contains("the cursor does not exist"), "{err}");
    assert!(!err.contains("no cursor (absent)"), "{err}");
}

#[test]
fn init_in_a_missing_folder_says_what_is_wrong_once() {
    let env = Env::empty();
    let db = env.dir.path().join("no/such/folder/cursors.db");
    let out = env
        .cmd()
        .args(["--db"])
        .arg(&db)
        .arg("init")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let err = stderr(&out);
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.matches("unable to open").count() <= 1, "{err}");
    assert!(!db.exists());
}

#[test]
fn a_dry_run_undo_is_refused_without_a_reason_as_the_real_run_is() {
    let env = Env::new();
    env.seed(&[("billing", "orders:0", 5), ("billing", "orders:1", 5)]);
    env.run_stdin(
        &["set", "--from-file", "-", "-q"],
        "key,offset\nbilling:orders:0,9\nbilling:orders:1,9\n",
    );
    let last = json_lines(&env.ok(&["history", "--limit", "1", "-o", "ndjson"]));
    let batch = last[0]["batch"].as_i64().unwrap().to_string();
    let id = last[0]["id"].to_string();
    let before = env.dump();
    for args in [vec!["undo", "--batch", &batch], vec!["undo", &id]] {
        let real = env.run(&args);
        let dry = env.run(&[&args[..], &["--dry-run"]].concat());
        assert_eq!(real.status.code(), Some(2));
        assert_eq!(dry.status.code(), Some(2));
        assert_eq!(stderr(&dry), stderr(&real));
        assert!(stderr(&dry).contains("needs --reason"), "{}", stderr(&dry));
        assert_eq!(env.dump(), before);
    }
    let out = env.run(&[
        "undo",
        "--batch",
        &batch,
        "--reason",
        "r",
        "--dry-run",
        "-o",
        "ndjson",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = json_lines(&stdout(&out));
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["status"], "rewound", "{row}");
        assert_eq!(row["new_offset"], 5, "{row}");
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn flush_sim_commit_records_one_batch_that_undo_reverts() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 10)]);
    let out = env.run(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-message",
        "--messages",
        "4",
        "--commit",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = json_lines(&env.ok(&["history", "--limit", "4", "-o", "ndjson"]));
    let batch = rows[0]["batch"].as_i64().expect("a batch");
    assert!(rows
        .iter()
        .all(|r| r["batch"] == batch && r["command"] == "flush-sim"));
    assert!(
        stderr(&out).contains(&format!("undo --batch {batch}")),
        "{}",
        stderr(&out)
    );
    env.ok(&[
        "undo",
        "--batch",
        &batch.to_string(),
        "--reason",
        "load test over",
        "-q",
    ]);
    assert_eq!(env.offset("billing", "orders:3"), Some(10));
}

// ---- output -----------------------------------------------------------------

#[test]
fn compare_values_say_which_policy_they_belong_to() {
    let env = Env::new();
    let out = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--compare",
        "--messages",
        "25",
        "-o",
        "value",
        "-q",
    ]);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[0], "per-message\t25");
    assert_eq!(lines[1], "per-batch:10\t25");
    // Without --compare, -o value stays a bare offset.
    let one = env.ok(&[
        "flush-sim",
        "billing",
        "orders:3",
        "--policy",
        "per-message",
        "--messages",
        "3",
        "-o",
        "value",
    ]);
    assert_eq!(one, "3\n");
}

#[test]
fn an_empty_tsv_listing_still_prints_its_header() {
    let env = Env::new();
    let out = env.ok(&["get", "-o", "tsv"]);
    assert_eq!(
        out,
        "key\tconsumer\tpartition_key\tchannel\tpartition\toffset\texists\tupdated_at\thead\tlag\towner\tlease_expires_at\n"
    );
    let out = env.ok(&["history", "-o", "tsv"]);
    assert!(out.starts_with("id\tat\tkey\t"), "{out}");
    assert_eq!(out.lines().count(), 1);
    // And it reads back as input with nothing to do.
    let out = env.run_stdin(&["set", "--from-file", "-"], env.ok(&["get", "-o", "tsv"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_newline_in_a_reason_stays_in_its_row() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 50)]);
    env.ok(&[
        "set",
        "billing",
        "orders:3",
        "10",
        "--allow-rewind",
        "--reason",
        "replay\nINC-9",
        "-q",
    ]);
    let table = env.ok(&["history"]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("replay\\nINC-9"), "{table}");
    // JSON keeps the text as it is.
    let rows = json_lines(&env.ok(&["history", "-o", "ndjson"]));
    assert_eq!(rows[1]["reason"], "replay\nINC-9");
}

#[test]
fn bash_completion_offers_the_policies_for_policy() {
    let env = Env::empty();
    let script = env.ok(&["completions", "bash"]);
    let at = script.find("--policy)").expect("a --policy case");
    let case = &script[at..at + 200];
    assert!(case.contains("compgen -W \"per-message"), "{case}");
    assert!(!case.contains("compgen -f"), "{case}");
}

/// Run `args` on a terminal (through `script`), returning what it drew.
fn on_a_terminal(env: &Env, args: &str) -> Option<String> {
    let command = format!("{} {args}", common::BIN);
    let out = std::process::Command::new("script")
        .env_clear()
        .env("CURSORCTL_DB", &env.db)
        .env("TERM", "xterm")
        .current_dir(env.dir.path())
        .args(["-qec", &command, "/dev/null"])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).replace('\r', "\n"))
}

#[test]
fn the_progress_bars_of_bulk_writes_and_simulations_look_alike() {
    let env = Env::new();
    let moves = env.dir.path().join("moves.ndjson");
    let lines: String = (0..20_000)
        .map(|i| format!("{{\"key\":\"c:o:{i}\",\"offset\":1}}\n"))
        .collect();
    fs::write(&moves, lines).unwrap();
    let Some(bulk) = on_a_terminal(
        &env,
        "set --from-file moves.ndjson --create --dry-run -o value",
    ) else {
        common::skip("`script` could not be run: the progress bars are not checked");
        return;
    };
    let sim = on_a_terminal(
        &env,
        "flush-sim c o:0 --policy per-batch:100 --messages 3000000 -o value",
    )
    .unwrap();
    let frame = |drawn: &str, what: &str| -> String {
        drawn
            .lines()
            .find(|l| l.contains(what) && l.contains('['))
            .unwrap_or_else(|| panic!("no progress bar counting {what}: {drawn:?}"))
            .to_owned()
    };
    for (drawn, prefix, unit) in [
        (&bulk, "set --from-file [", " lines, "),
        (&sim, "per-batch:100 [", " messages, "),
    ] {
        let line = frame(drawn, unit);
        assert!(line.contains(prefix), "{line}");
        assert!(
            line.contains("%") && line.contains(" elapsed, ") && line.contains(" left"),
            "{line}"
        );
    }
}

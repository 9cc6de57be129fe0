//! Input and output that could mislead or hurt: unknown fields that would
//! drop a guard, a listing's own lines read back, control characters that
//! act on a terminal, echoes of huge inputs, stores at paths that are not
//! regular files, durations and reasons past their limits, and who is
//! recorded as the user. Through the real binary; the cases about stores
//! run on SQLite and on PostgreSQL (`backend_tests!` at the bottom), those
//! about SQLite's files are plain tests, each saying why.

use crate::common;

use std::path::Path;

use common::{backend_tests, stderr, stdout, Backend, Env};
use serde_json::Value;

/// The bytes a terminal acts on, or that reorder text: C0 controls but
/// newline and tab, DEL, and (in UTF-8) C1 and bidirectional controls.
fn unsafe_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            matches!(c,
                '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
                | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// The start of a long text, for a failure message.
fn head(text: &str) -> String {
    text.chars().take(400).collect()
}

fn assert_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let found = unsafe_chars(&text);
    assert!(found.is_empty(), "{what} holds {found:?}:\n{text}");
}

/// A line naming the one cursor `svc:orders:0`, with `extra` fields.
fn svc_line(offset: u64, extra: &str) -> String {
    format!("{{\"consumer\":\"svc\",\"partition_key\":\"orders:0\",\"offset\":{offset}{extra}}}\n")
}

fn a_misspelt_field_is_refused_not_ignored(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 100)]);
    let before = env.dump();
    for (name, input) in [
        ("expected", svc_line(150, ",\"expected\":999")),
        ("Expect", svc_line(150, ",\"Expect\":999")),
        (
            "Offset",
            "{\"consumer\":\"svc\",\"partition_key\":\"orders:0\",\"offset\":150,\"Offset\":1}\n"
                .to_owned(),
        ),
        (
            "expected",
            format!("[\n{}]\n", svc_line(150, ",\"expected\":999")),
        ),
    ] {
        for dry_run in [false, true] {
            let mut args = vec!["set", "--from-file", "-"];
            if dry_run {
                args.push("--dry-run");
            }
            let out = env.run_stdin(&args, input.clone());
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{input}: {err}");
            assert!(
                err.contains(&format!(
                    "line {}",
                    if input.starts_with('[') { 2 } else { 1 }
                )) && err.contains(&format!("unknown field \"{name}\"")),
                "{input}: {err}"
            );
            assert_eq!(env.dump(), before, "{input}");
        }
    }
    // The CSV and TSV headers likewise.
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        "consumer,partition_key,offset,Expect\nsvc,orders:0,150,999\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown column \"Expect\" (did you mean expect?)"));
    assert_eq!(env.dump(), before);
}

fn every_listing_of_get_reads_back(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 100), ("svc", "orders:1", 7)]);
    let before = env.dump();
    for format in ["ndjson", "json", "tsv"] {
        let listing = env.ok(&["get", "svc", "-o", format]);
        let out = env.run_stdin(&["set", "--from-file", "-"], listing.clone());
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert_eq!(env.dump(), before, "{format}");
    }
    // The fields a listing carries for heads, lag and leases read past.
    let listing = env.ok(&["get", "svc", "orders:0", "-o", "ndjson"]);
    let extended = listing.trim_end().trim_end_matches('}').to_owned()
        + ",\"head\":120,\"lag\":20,\"owner\":null,\"lease_expires_at\":null,\"status\":\"behind\",\"since\":null}\n";
    let out = env.run_stdin(&["set", "--from-file", "-"], extended.clone());
    assert_eq!(out.status.code(), Some(0), "{extended}: {}", stderr(&out));
    let tsv = "key\toffset\thead\tlag\towner\tlease_expires_at\tstatus\tsince\nsvc:orders:0\t100\t120\t20\t\t\tbehind\t\n";
    let out = env.run_stdin(&["set", "--from-file", "-"], tsv);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.dump(), before);
}

fn a_listed_absent_cursor_reads_back(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 100)]);
    let before = env.dump();
    for format in ["ndjson", "json", "tsv"] {
        let listing = env.ok(&["get", "newsvc", "orders:0", "-o", format]);
        for dry_run in [false, true] {
            let mut args = vec!["set", "--from-file", "-"];
            if dry_run {
                args.push("--dry-run");
            }
            let out = env.run_stdin(&args, listing.clone());
            assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        }
        assert_eq!(env.dump(), before, "{format}");
    }
    // Beside a cursor that exists, the absent one changes nothing.
    let both = format!(
        "{}{}",
        env.ok(&["get", "newsvc", "orders:0", "-o", "ndjson"]),
        svc_line(101, "")
    );
    let out = env.run_stdin(&["set", "--from-file", "-", "-o", "ndjson"], both);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert_eq!(env.offset("newsvc", "orders:0"), None);
    assert_eq!(env.offset("svc", "orders:0"), Some(101));
    // Edited to an offset, it is a cursor to create: --create says so.
    let listing = env.ok(&["get", "newsvc", "orders:0", "-o", "ndjson"]);
    let edited = listing.replace("\"offset\":0", "\"offset\":5");
    let before = env.dump();
    let err = stderr(&env.run_stdin(&["set", "--from-file", "-"], edited.clone()));
    assert!(err.contains("pass --create"), "{err}");
    assert_eq!(env.dump(), before);
    let out = env.run_stdin(&["set", "--from-file", "-", "--create"], edited);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("newsvc", "orders:0"), Some(5));
}

fn control_characters_are_shown_escaped(backend: Backend) {
    let env = Env::on(backend);
    let reason = "ok\u{1b}[31mRED\u{7}\u{7f}\u{9b}2J\u{202e}x";
    env.ok(&[
        "set", "c", "p:0", "10", "--create", "--reason", reason, "-q",
    ]);
    let tsv = env.run(&["history", "-o", "tsv"]);
    assert_safe("history -o tsv", &tsv.stdout);
    assert!(
        stdout(&tsv).contains(r"ok\e[31mRED\x07\x7f\u{9b}2J\u{202e}x"),
        "{}",
        stdout(&tsv)
    );
    let table = env.run(&["history"]);
    assert_safe("history", &table.stdout);
    assert!(
        stdout(&table).contains(r"ok\e[31mRED\x07"),
        "{}",
        stdout(&table)
    );
    for format in ["json", "ndjson"] {
        let out = env.run(&["history", "-o", format]);
        assert_safe(format, &out.stdout);
        let text = stdout(&out);
        assert!(
            text.contains(r"\u001b[31mRED\u0007\u007f\u009b2J\u202ex"),
            "{text}"
        );
        // Escaped as JSON escapes: the text reads back the same.
        let value: Value = if format == "json" {
            serde_json::from_str(&text).unwrap()
        } else {
            serde_json::from_str(text.lines().next().unwrap()).unwrap()
        };
        let row = if format == "json" { &value[0] } else { &value };
        assert_eq!(row["reason"], reason);
    }
    // Messages that echo input show it escaped too.
    let before = env.dump();
    for args in [
        vec!["get", "a\u{1b}[31m"],
        vec!["get", "--limit", "\u{1b}[2J"],
        vec!["history", "--since", "\u{9b}31m"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_safe(&format!("{args:?}"), &out.stderr);
        let json = env.run(&[&args[..], &["-o", "json"]].concat());
        assert_safe(&format!("{args:?} -o json"), &json.stderr);
    }
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        svc_line(1, ",\"\\u001b[31m\u{9b}\":1"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_safe("an unknown field", &out.stderr);
    assert!(
        stderr(&out).contains(r#"unknown field "\e[31m\u{9b}""#),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.dump(), before);
}

fn long_inputs_are_shown_cut(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 100)]);
    let before = env.dump();
    let big = "x".repeat(300_000);
    for input in [
        format!("{{\"consumer\":\"{big}\",\"partition_key\":\"orders:0\",\"offset\":1}}\n"),
        svc_line(1, &format!(",\"{big}\":1")),
        svc_line(1, &format!(",\"channel\":{}", "1".repeat(300_000))),
        svc_line(1, &format!(",\"partition\":\"{big}\"")),
        svc_line(1, &format!(",\"exists\":\"{big}\"")),
        format!("consumer,partition_key,offset,{big}\nsvc,orders:0,1,1\n"),
    ] {
        for dry_run in [false, true] {
            let mut args = vec!["set", "--from-file", "-"];
            if dry_run {
                args.push("--dry-run");
            }
            let out = env.run_stdin(&args, input.clone());
            assert_eq!(out.status.code(), Some(2), "{}", head(&stderr(&out)));
            let err = stderr(&out);
            assert!(err.len() < 2000, "{} bytes: {}", err.len(), head(&err));
            assert!(stdout(&out).len() < 2000, "{}", head(&stdout(&out)));
            assert!(err.contains(" bytes)"), "{err}");
        }
    }
    let long = "a".repeat(60_000);
    for args in [
        vec!["get", long.as_str()],
        vec!["get", "svc", long.as_str()],
        vec!["history", "--limit", long.as_str()],
        vec!["get", "--idle-for", long.as_str()],
        vec!["--db", long.as_str(), "get"],
        vec![long.as_str()],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "{}", head(&stderr(&out)));
        let err = stderr(&out);
        assert!(err.len() < 2000, "{} bytes: {}", err.len(), head(&err));
        assert!(err.contains("60000 bytes"), "{err}");
    }
    assert_eq!(env.dump(), before);
}

fn fractional_durations_are_taken(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 100)]);
    let out = env.ok(&["get", "svc", "--watch=0.5s", "--count", "2", "-o", "ndjson"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    env.ok(&["--busy-timeout", "1.5s", "advance", "svc", "orders:0", "-q"]);
    assert_eq!(env.offset("svc", "orders:0"), Some(101));
    let before = env.dump();
    for (args, needle) in [
        (vec!["get", "svc", "--watch=0s"], "zero"),
        (vec!["get", "svc", "--watch=0.0s"], "zero"),
        (
            vec!["--busy-timeout", "0.5ms", "advance", "svc", "orders:0"],
            "whole number of milliseconds",
        ),
        (vec!["get", "--idle-for", "1.5"], "has no unit"),
    ] {
        let err = env.fails(2, &args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(env.dump(), before);
}

fn the_os_names_the_user(backend: Backend) {
    let env = Env::on(backend);
    let id = |flag: &str| {
        let out = std::process::Command::new("id")
            .arg(flag)
            .output()
            .expect("id");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let name = id("-un");
    let expected = if name.is_empty() {
        format!("uid {}", id("-u"))
    } else {
        name
    };
    let out = env
        .cmd()
        .env_remove("USER")
        .env_remove("LOGNAME")
        .args(["set", "c", "p:0", "1", "--create", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.history()[0].user, expected);
    assert_ne!(expected, "unknown");
}

fn durations_and_reasons_are_bounded(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 100)]);
    let before = env.dump();
    for args in [
        vec![
            "history",
            "prune",
            "--before",
            "18446744073709551615ms",
            "--dry-run",
        ],
        vec!["history", "prune", "--before", "18446744073709551615ms"],
        vec!["history", "--since", "36501d"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains("36500d"), "{}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }
    // Within the limit, but before 1970.
    let err = env.fails(2, &["history", "prune", "--before", "36500d", "--dry-run"]);
    assert!(err.contains("before 1970-01-01"), "{err}");
    let long = "r".repeat(100_000);
    let err = env.fails(
        2,
        &[
            "set",
            "svc",
            "orders:0",
            "50",
            "--allow-rewind",
            "--reason",
            &long,
        ],
    );
    assert!(
        err.contains("100000 characters") && err.contains("1000"),
        "{err}"
    );
    assert!(err.len() < 2000);
    let err = env.fails(
        2,
        &[
            "set",
            "svc",
            "orders:0",
            "50",
            "--allow-rewind",
            "--reason",
            &"é".repeat(1001),
        ],
    );
    assert!(err.contains("1001 characters"), "{err}");
    assert_eq!(env.dump(), before);
    env.ok(&[
        "set",
        "svc",
        "orders:0",
        "50",
        "--allow-rewind",
        "--reason",
        &"é".repeat(1000),
        "-q",
    ]);
    assert_eq!(
        env.history().last().unwrap().reason.as_deref(),
        Some("é".repeat(1000).as_str())
    );
}

backend_tests!(
    a_misspelt_field_is_refused_not_ignored,
    every_listing_of_get_reads_back,
    a_listed_absent_cursor_reads_back,
    control_characters_are_shown_escaped,
    long_inputs_are_shown_cut,
    fractional_durations_are_taken,
    the_os_names_the_user,
    durations_and_reasons_are_bounded,
);

/// Whether this process may create files in `/dev` (as root may): only then
/// can a journal be left beside `/dev/null`.
fn dev_is_writable() -> bool {
    let out = std::process::Command::new("id").arg("-u").output();
    out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn journals(device: &str) -> Vec<String> {
    ["-journal", "-wal", "-shm"]
        .iter()
        .map(|s| format!("{device}{s}"))
        .filter(|p| Path::new(p).exists())
        .collect()
}

/// SQLite only: a device is a path SQLite would open as a file and put a
/// journal beside.
#[test]
fn init_refuses_a_device_and_leaves_no_journal() {
    let env = Env::empty();
    if !dev_is_writable() {
        common::skip("/dev is not writable here: whether a journal is left there is not checked");
    }
    for device in ["/dev/null", "/dev/full"] {
        let already = journals(device);
        assert!(already.is_empty(), "left over from before: {already:?}");
        for args in [
            vec!["--db", device, "init"],
            vec!["--db", device, "set", "c", "p:0", "1", "--create"],
        ] {
            let err = env.fails(7, &args);
            assert!(err.contains("character device"), "{err}");
            let left = journals(device);
            for path in &left {
                let _ = std::fs::remove_file(path);
            }
            assert!(left.is_empty(), "{args:?} left {left:?}");
        }
    }
}

/// SQLite only: a path is a file of the SQLite backend.
#[cfg(unix)]
#[test]
fn init_refuses_a_symbolic_link() {
    let env = Env::empty();
    let elsewhere = tempfile::tempdir().unwrap();
    let planted = elsewhere.path().join("planted.db");
    let link = env.dir.path().join("link.db");
    std::os::unix::fs::symlink(&planted, &link).unwrap();
    let err = env.fails(7, &["--db", "link.db", "init"]);
    assert!(
        err.contains("symbolic link") && err.contains("points at nothing"),
        "{err}"
    );
    assert!(
        !planted.exists(),
        "init created the file the link points at"
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // A link to a store: init refuses it, other commands open the store.
    env.ok(&["init", "-q"]);
    env.ok(&["set", "c", "p:0", "1", "--create", "-q"]);
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&env.db, &link).unwrap();
    let before = env.dump();
    let err = env.fails(7, &["--db", "link.db", "init"]);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(env.dump(), before);
    let got = env.ok(&["--db", "link.db", "get", "c", "p:0", "-o", "value"]);
    assert_eq!(got, "1\n");
    // A named pipe is refused at once, not opened (which would wait).
    let fifo = env.dir.path().join("pipe.db");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        for args in [
            vec!["--db", "pipe.db", "init"],
            vec!["--db", "pipe.db", "get"],
        ] {
            let err = env.fails(7, &args);
            assert!(err.contains("named pipe"), "{err}");
        }
    }
}

/// SQLite only: the path is a SQLite file's name.
#[test]
fn a_store_path_with_control_characters_is_shown_escaped() {
    let env = Env::empty();
    let name = "x\u{1b}[31m\u{7}.db";
    let out = env.run(&["--db", name, "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_safe("init stdout", &out.stdout);
    assert_safe("init stderr", &out.stderr);
    assert!(stdout(&out).contains(r"x\e[31m\x07.db"), "{}", stdout(&out));
    for format in ["value", "tsv"] {
        let out = env.run(&["--db", name, "init", "-o", format]);
        assert_safe(format, &out.stdout);
        assert_safe(format, &out.stderr);
    }
}

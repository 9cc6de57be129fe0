//! The rough edges a new operator meets: the help, its layout and
//! examples, hints that name a command that works, look-alike consumer
//! names, `get --watch` of absent and deleted cursors, consumers named like
//! subcommands, cursors under names cursorctl refuses, and `info`. Through
//! the real binary; the cases about stores run on both backends
//! (`backend_tests!` at the bottom).

use crate::common;

use std::process::Command;

use common::{backend_tests, stderr, stdout, Backend, Env, BIN};
use serde_json::Value;

/// The help of `args` at a terminal `columns` wide.
fn help(args: &[&str], columns: &str) -> String {
    let out = Command::new(BIN)
        .env_clear()
        .env("COLUMNS", columns)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The lines of the `Commands:` section of a help text that name a
/// command (not those that continue a wrapped description).
fn command_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("   "))
        .map(str::to_owned)
        .collect()
}

/// Every command and subcommand path, from the help itself.
fn command_paths() -> Vec<Vec<String>> {
    let mut paths = vec![Vec::new()];
    let mut i = 0;
    while i < paths.len() {
        let path: Vec<String> = paths[i].clone();
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        for line in command_lines(&help(&args, "100")) {
            let name = line.split_whitespace().next().unwrap().to_owned();
            if name != "help" {
                let mut sub = path.clone();
                sub.push(name);
                paths.push(sub);
            }
        }
        i += 1;
    }
    paths
}

#[test]
fn every_command_is_listed_with_a_description() {
    let paths = command_paths();
    assert!(paths.len() > 15, "{paths:?}");
    let mut with_commands = 0;
    for path in &paths {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let lines = command_lines(&help(&args, "100"));
            if !lines.is_empty() {
                with_commands += 1;
            }
            for line in lines {
                let mut words = line.split_whitespace();
                let name = words.next().unwrap();
                assert!(
                    words.next().is_some(),
                    "`cursorctl {}` lists {name} with no description:\n{line}",
                    args.join(" ")
                );
            }
        }
    }
    // Every command with subcommands (cursorctl, history, snapshot, ...),
    // each with --help and -h.
    let parents: std::collections::HashSet<&[String]> = paths
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| &p[..p.len() - 1])
        .collect();
    assert!(parents.len() >= 3, "{parents:?}");
    assert_eq!(with_commands, 2 * parents.len());
}

#[test]
fn the_completion_from_the_store_describes_the_commands() {
    let env = Env::new();
    let out = env
        .cmd()
        .env("COMPLETE", "fish")
        .args(["--", "cursorctl", ""])
        .output()
        .unwrap();
    let text = stdout(&out);
    for name in ["get", "set", "history", "snapshot", "describe"] {
        let line = text
            .lines()
            .find(|l| l.split('\t').next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"));
        assert!(
            line.split('\t')
                .nth(1)
                .is_some_and(|d| !d.trim().is_empty()),
            "{name} has no description: {line:?}"
        );
    }
}

/// The `Examples:` section of a help text, which must be its last.
fn examples(text: &str, what: &str) -> Vec<String> {
    let Some((_, section)) = text.split_once("\nExamples:\n") else {
        panic!("{what} has no examples:\n{text}");
    };
    let lines: Vec<String> = section.lines().map(str::to_owned).collect();
    let mut continued = false;
    for line in &lines {
        // A line indented further goes on with a command the line above
        // ends with a backslash, as a shell reads it.
        assert!(
            line.starts_with("  ") && (continued || !line.starts_with("   ")),
            "{what}: examples are not the last section, or a line is cut: {line:?}\n{text}"
        );
        continued = line.ends_with(" \\");
    }
    lines
}

#[test]
fn every_subcommand_ends_with_examples_never_cut_at_any_width() {
    for path in command_paths().iter().filter(|p| !p.is_empty()) {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let what = format!("cursorctl {}", args.join(" "));
            let narrow = examples(&help(&args, "40"), &what);
            let wide = examples(&help(&args, "200"), &what);
            assert_eq!(narrow, wide, "{what}: examples differ with the width");
            for line in narrow.iter().filter(|l| !l.starts_with("   ")) {
                assert!(line.contains("cursorctl"), "{what}: {line:?}");
            }
        }
    }
}

#[test]
fn own_options_come_before_the_global_ones() {
    // The long options a help lists, in order.
    let options = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| *l != "Options:")
            .take_while(|l| *l != "Examples:" && *l != "Exit codes:")
            .filter(|l| l.starts_with("  -") || l.starts_with("      --"))
            .filter_map(|l| {
                let l = l.trim_start();
                let l = match l.strip_prefix('-') {
                    Some(rest) if !rest.starts_with('-') => l.split_once(", ")?.1,
                    _ => l,
                };
                l.starts_with("--")
                    .then(|| l.split([' ', '[', '=']).next().map(str::to_owned))
                    .flatten()
            })
            .filter(|o| o != "--help" && o != "--version")
            .collect()
    };
    // The global options are those of cursorctl itself.
    let global = options(&help(&["--help"], "100"));
    assert!(global.len() >= 5, "{global:?}");
    for path in command_paths().iter().filter(|p| !p.is_empty()) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let listed = options(&help(&args, "100"));
        let first_global = listed.iter().position(|o| global.contains(o));
        let last_own = listed.iter().rposition(|o| !global.contains(o));
        if let (Some(global), Some(own)) = (first_global, last_own) {
            assert!(own < global, "{}: {listed:?}", args.join(" "));
        }
        assert!(first_global.is_some(), "{}: {listed:?}", args.join(" "));
    }
}

#[test]
fn the_man_pages_lay_out_exit_codes_as_a_table_and_examples_unfilled() {
    let man = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let top = std::fs::read_to_string(man.join("cursorctl.1")).unwrap();
    let codes = top
        .split(".SH \"EXIT CODES\"\n")
        .nth(1)
        .expect("an EXIT CODES section");
    assert!(codes.starts_with(".TS\n"), "{codes}");
    assert!(top.starts_with("'\\\" t\n"), "the page asks for tbl");
    for code in ["0@", "2@", "7@", "130, 143@"] {
        assert!(codes.contains(&format!("\n{code}T{{\n")), "{code}: {codes}");
    }
    for page in [
        "cursorctl-get.1",
        "cursorctl-snapshot-save.1",
        "cursorctl-history-prune.1",
    ] {
        let text = std::fs::read_to_string(man.join(page)).unwrap();
        let examples = text.split(".SH \"EXAMPLES\"\n").nth(1).expect(page);
        assert!(examples.starts_with(".PP\n.nf\n"), "{page}: {examples}");
    }
}

/// The hint line of a failure's stderr.
fn hint(err: &str) -> &str {
    err.lines()
        .find_map(|l| l.strip_prefix("cursorctl: hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{err}"))
}

fn hints_name_a_command_that_works(backend: Backend) {
    let env = Env::on(backend);
    let before = env.dump();
    // Nothing to save: a snapshot cannot create cursors.
    let err = env.fails(5, &["snapshot", "save", "x"]);
    assert!(!hint(&err).contains("pass --create"), "{err}");
    assert!(
        hint(&err).contains("cursorctl set CONSUMER PARTITION_KEY OFFSET --create"),
        "{err}"
    );
    // A read cannot create either.
    for args in [
        &["get", "nosuch", "--must-exist"][..],
        &["get", "nosuch", "orders:0", "--must-exist"],
    ] {
        let err = env.fails(5, args);
        assert!(!hint(&err).contains("--create"), "{args:?}: {err}");
        assert!(hint(&err).contains("cursorctl describe"), "{args:?}: {err}");
    }
    let err = env.fails(5, &["describe", "nosuch", "--must-exist"]);
    assert!(!hint(&err).contains("--create"), "{err}");
    assert!(hint(&err).contains("cursorctl describe"), "{err}");
    // A snapshot name is not a consumer.
    let err = env.fails(2, &["snapshot", "save", "bad name"]);
    assert!(err.contains("invalid snapshot name \"bad name\""), "{err}");
    assert!(!err.contains("consumer"), "{err}");
    assert_eq!(env.dump(), before);

    env.seed(&[("a", "orders:0", 5), ("b", "orders:0", 9)]);
    let err = env.fails(5, &["snapshot", "save", "x", "nosuch"]);
    assert!(hint(&err).contains("cursorctl describe"), "{err}");
    // The copy that would move b back: the hint names the copy, not `set`.
    let before = env.dump();
    let err = env.fails(4, &["copy", "a", "b", "--create"]);
    let said = hint(&err);
    assert!(!said.contains("set --allow-rewind"), "{err}");
    assert!(
        said.contains("cursorctl copy") && said.contains("--allow-rewind --reason"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
    // ... and the command it names works.
    env.ok(&[
        "copy",
        "a",
        "b",
        "--create",
        "--allow-rewind",
        "--reason",
        "replay",
    ]);
    assert_eq!(env.offset("b", "orders:0"), Some(5));
}

/// What the README and flush-sim's help say holds.
fn the_docs_say_what_the_commands_do(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:3", 1041)]);
    let record = env.ok(&[
        "advance", "billing", "orders:3", "--expect", "1041", "-o", "json",
    ]);
    let id = serde_json::from_str::<serde_json::Value>(&record).unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    // The README: undoing the advance is a rewind, and needs --reason.
    let before = env.dump();
    let err = env.fails(2, &["undo", &id]);
    assert!(err.contains("--reason"), "{err}");
    assert_eq!(env.dump(), before);
    env.ok(&["undo", &id, "--reason", "put it back", "-q"]);
    assert_eq!(env.offset("billing", "orders:3"), Some(1041));
    // flush-sim: a backwards offset is dropped, not kept pending.
    let help = env.ok(&["flush-sim", "--help"]);
    assert!(help.contains("the refused offset is dropped"), "{help}");
    assert!(!help.contains("stays pending"), "{help}");
    let out = env.run_stdin(
        &[
            "flush-sim",
            "billing",
            "orders:3",
            "--policy",
            "per-batch:2",
            "--offsets",
            "-",
            "-o",
            "ndjson",
        ],
        "1050\n1051\n1045\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the offset is dropped"),
        "{}",
        stderr(&out)
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["pending_offset"], serde_json::Value::Null);
    assert_eq!(summary["final_offset"], 1051);
}

/// The records of a `get --watch -o ndjson` run.
fn watch_records(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn watch_shows_absent_and_deleted_cursors_with_read_times(backend: Backend) {
    let env = Env::on(backend);
    // Absent: shown, at every read.
    let out = env.ok(&[
        "get",
        "nosuch",
        "orders:0",
        "--watch=0.1s",
        "--count",
        "2",
        "-o",
        "ndjson",
    ]);
    let records = watch_records(&out);
    assert_eq!(records.len(), 2, "{out}");
    for (n, r) in records.iter().enumerate() {
        assert_eq!(r["tick"], n as u64 + 1);
        assert_eq!(r["key"], "nosuch:orders:0");
        assert_eq!(r["exists"], false);
        assert_eq!(r["status"], "absent");
        assert_eq!(r["offset"], 0);
        assert!(
            r["read_at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{r}"
        );
    }
    assert!(records[0]["read_at"].as_str() <= records[1]["read_at"].as_str());

    // A rate is a JSON number.
    env.seed(&[("svc", "orders:0", 10), ("svc", "orders:1", 20)]);
    let out = env.ok(&["get", "svc", "--watch=0.1s", "--count", "2", "-o", "ndjson"]);
    let records = watch_records(&out);
    assert_eq!(records.len(), 4, "{out}");
    assert!(records[0]["rate"].is_null());
    assert!(records[2]["rate"].is_number(), "{}", records[2]);
    assert_eq!(records[2]["status"], "present");
    assert_eq!(records[2]["exists"], true);

    // Deleted between two reads: shown as deleted, not dropped.
    let mut watch = env
        .std_cmd()
        .args(["get", "svc", "--watch=1s", "--count", "2", "-o", "ndjson"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(watch.stdout.take().unwrap()));
    let first: Vec<String> = (0..2).map(|_| lines.next().unwrap().unwrap()).collect();
    env.ok(&["delete", "svc", "orders:1", "--reason", "gone", "-q"]);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(watch.wait().unwrap().success());
    let rest = watch_records(&rest.join("\n"));
    assert_eq!(first.len(), 2);
    assert_eq!(rest.len(), 2, "{rest:?}");
    let gone = rest
        .iter()
        .find(|r| r["key"] == "svc:orders:1")
        .expect("the deleted cursor");
    assert_eq!(gone["status"], "deleted");
    assert_eq!(gone["exists"], false);
    assert_eq!(gone["tick"], 2);
}

fn consumers_named_like_subcommands_have_their_history(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("prune", "orders:0", 1),
        ("help", "orders:0", 2),
        ("svc", "orders:0", 3),
    ]);
    env.ok(&["set", "prune", "orders:0", "10", "-q"]);
    env.ok(&["set", "help", "orders:0", "20", "-q"]);
    let keys = |out: &str| -> Vec<String> {
        watch_records(out)
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_owned())
            .collect()
    };
    for name in ["prune", "help"] {
        let out = env.ok(&["history", "--consumer", name, "-o", "ndjson"]);
        let listed = keys(&out);
        assert!(!listed.is_empty(), "{name}: {out}");
        assert!(
            listed.iter().all(|k| *k == format!("{name}:orders:0")),
            "{name}: {out}"
        );
        let key = format!("{name}:orders:0");
        let out = env.ok(&["history", &key, "-o", "ndjson"]);
        assert!(keys(&out).iter().all(|k| *k == key), "{out}");
        assert!(!keys(&out).is_empty());
    }
    // `history prune` stays the prune command: without --before it is
    // refused, says so, and says how to list the consumer; nothing pruned.
    let before = env.dump();
    let err = env.fails(2, &["history", "prune"]);
    assert!(err.contains("needs --before"), "{err}");
    assert!(
        hint(&err).contains("cursorctl history --consumer prune"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
    // `history help` is the help, not a listing.
    let help = env.ok(&["history", "help"]);
    assert!(help.contains("Usage: cursorctl history"), "{help}");
    assert!(help.contains("--consumer prune"), "{help}");
    // --consumer and the positional consumer are one or the other.
    env.fails(2, &["history", "svc", "--consumer", "prune"]);
}

fn info_says_where_the_store_is_and_what_it_holds(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[
        ("svc", "orders:0", 1),
        ("svc", "orders:1", 2),
        ("api", "orders:0", 3),
    ]);
    env.ok(&["advance", "svc", "orders:0", "-q"]);
    env.ok(&["snapshot", "save", "s1", "-q"]);
    env.ok(&["head", "set", "orders:0", "100", "-q"]);
    let before = env.dump();
    let out = env.ok(&["info", "-o", "json"]);
    let info: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["consumers"], 2, "{info}");
    assert_eq!(info["cursors"], 3, "{info}");
    assert_eq!(info["snapshots"], 1, "{info}");
    let history = env.history_len();
    assert_eq!(info["history"], history, "{info}");
    assert!(info["batches"].as_u64().is_some(), "{info}");
    assert!(
        info["schema_version"].as_i64().is_some_and(|v| v >= 2),
        "{info}"
    );
    assert!(
        info["server_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "{info}"
    );
    assert_eq!(info["heads"], 1, "{info}");
    // No consumer holds a lease here.
    assert_eq!(info["leases"], 0, "{info}");
    match backend {
        Backend::Sqlite => {
            assert_eq!(info["backend"], "sqlite");
            let path = std::fs::canonicalize(&env.db).unwrap();
            assert_eq!(info["location"], path.display().to_string());
            for field in ["host", "port", "database", "schema", "role"] {
                assert!(info[field].is_null(), "{field}: {info}");
            }
        }
        Backend::Postgres => {
            assert_eq!(info["backend"], "postgres");
            assert_eq!(info["schema"], env.pg_schema().unwrap(), "{info}");
            let url = common::pg_url();
            let database = url.rsplit('/').next().unwrap().split('?').next().unwrap();
            assert_eq!(info["database"], database, "{info}");
            assert!(
                info["role"].as_str().is_some_and(|r| !r.is_empty()),
                "{info}"
            );
            assert!(info["host"].as_str().is_some(), "{info}");
            assert!(info["port"].as_u64().is_some(), "{info}");
            let location = info["location"].as_str().unwrap();
            assert!(location.starts_with("postgres://"), "{info}");
            assert!(location.contains(env.pg_schema().unwrap()), "{info}");
        }
    }
    // The same in every format.
    let table = env.ok(&["info"]);
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .eq(["FIELD", "VALUE"]),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["cursors", "3"])),
        "{table}"
    );
    let ndjson: Value = serde_json::from_str(env.ok(&["info", "-o", "ndjson"]).trim()).unwrap();
    assert_eq!(ndjson, info);
    let tsv = env.ok(&["info", "-o", "tsv"]);
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let values: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(header.len(), values.len());
    let at = header.iter().position(|h| *h == "cursors").unwrap();
    assert_eq!(values[at], "3");
    assert_eq!(
        env.ok(&["info", "-o", "value"]).trim(),
        info["location"].as_str().unwrap()
    );
    // A password is never shown.
    if backend == Backend::Postgres {
        let url = env.db_arg().into_string().unwrap();
        let with_password = url.replacen("postgres://root@", "postgres://root:s3cret@", 1);
        assert_ne!(url, with_password, "{url}");
        let out = env
            .cmd()
            .env("CURSORCTL_DB", &with_password)
            .args(["info", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stdout(&out).contains("s3cret"), "{}", stdout(&out));
    }
    assert_eq!(env.dump(), before, "info writes nothing");
}

fn look_alike_consumers_are_refused_unless_allowed(backend: Backend) {
    const LOOK_ALIKE: &str = "sv\u{0441}"; // a Cyrillic с
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 5)]);
    let before = env.dump();
    for args in [
        &["set", LOOK_ALIKE, "orders:0", "1", "--create"][..],
        &["set", LOOK_ALIKE, "orders:0", "1", "--create", "--dry-run"],
        &["advance", LOOK_ALIKE, "orders:0", "--create"],
        &["copy", "svc", LOOK_ALIKE, "--create"],
        &["copy", "svc", LOOK_ALIKE, "--create", "--dry-run"],
    ] {
        let err = env.fails(2, args);
        assert!(
            err.contains("looks like the existing consumer \"svc\""),
            "{args:?}: {err}"
        );
        assert!(err.contains("U+0441"), "{args:?}: {err}");
        assert!(hint(&err).contains("--allow-confusable"), "{args:?}: {err}");
        assert_eq!(env.dump(), before, "{args:?}");
    }
    // In bulk: the line that names it; one new consumer repeated is
    // checked once and passes; two new look-alikes of each other are
    // refused too.
    let line = |consumer: &str, pk: &str| {
        format!("{{\"consumer\":\"{consumer}\",\"partition_key\":\"{pk}\",\"offset\":1}}\n")
    };
    let input = [
        line("fresh", "o:0"),
        line("fresh", "o:1"),
        line(LOOK_ALIKE, "o:0"),
    ]
    .concat();
    let out = env.run_stdin(&["set", "--from-file", "-", "--create"], input.clone());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: consumer \"svс\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.dump(), before);
    let input2 = [line("new", "o:0"), line("n\u{0435}w", "o:0")].concat();
    let out = env.run_stdin(&["set", "--from-file", "-", "--create"], input2);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("looks like the existing consumer \"new\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.dump(), before);
    // Not a new consumer, or a name like no other: no question.
    env.ok(&["set", "svc", "orders:1", "7", "--create", "-q"]);
    env.ok(&["set", "other", "orders:0", "7", "--create", "-q"]);
    // Allowed on purpose.
    env.ok(&[
        "set",
        LOOK_ALIKE,
        "orders:0",
        "1",
        "--create",
        "--allow-confusable",
        "-q",
    ]);
    assert_eq!(env.offset(LOOK_ALIKE, "orders:0"), Some(1));
    env.ok(&["copy", "svc", "5v\u{0441}", "--create", "-q"]);
    env.ok(&[
        "copy",
        "svc",
        "\u{0455}vc",
        "--create",
        "--allow-confusable",
        "-q",
    ]);
    assert_eq!(env.offset("\u{0455}vc", "orders:1"), Some(7));
    env.ok_stdin(
        &[
            "set",
            "--from-file",
            "-",
            "--create",
            "--allow-confusable",
            "-q",
        ],
        input,
    );
    assert_eq!(env.offset("fresh", "o:1"), Some(1));
    // The flag goes with --create only.
    env.fails(2, &["set", "svc", "orders:0", "9", "--allow-confusable"]);
}

fn cursors_under_refused_names_are_removed_by_their_raw_key(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("svc", "orders:0", 3)]);
    env.execute(
        "INSERT INTO cursors (consumer, channel, partition, \"offset\") VALUES \
         ('sp ace', 'orders', 0, 5), ('bad:name', 'orders', 1, 7), ('tab\tbed', 'orders', 2, 0)",
    );
    // Listed with a warning, and not deletable by name.
    let out = env.run(&["get"]);
    assert!(
        stderr(&out).contains("cannot write it back"),
        "{}",
        stderr(&out)
    );
    env.fails(2, &["delete", "sp ace", "orders:0", "--reason", "x"]);
    let before = env.dump();
    // A reason is needed; a wrong --expect is stale; an unknown key is
    // not found; nothing is written by any of these, nor by a dry run.
    env.fails(2, &["delete", "--raw-key", "sp ace:orders:0"]);
    env.fails(
        3,
        &[
            "delete",
            "--raw-key",
            "sp ace:orders:0",
            "--expect",
            "4",
            "--reason",
            "x",
        ],
    );
    let err = env.fails(
        5,
        &["delete", "--raw-key", "sp ace:orders:9", "--reason", "x"],
    );
    assert!(err.contains("no stored cursor has the key"), "{err}");
    env.fails(2, &["delete", "--raw-key", "no-index", "--reason", "x"]);
    env.fails(
        2,
        &[
            "delete",
            "svc",
            "--raw-key",
            "sp ace:orders:0",
            "--reason",
            "x",
        ],
    );
    let plan = env.ok(&[
        "delete",
        "--raw-key",
        "sp ace:orders:0",
        "--reason",
        "x",
        "--dry-run",
        "-o",
        "json",
    ]);
    assert!(plan.contains("\"sp ace:orders:0\""), "{plan}");
    assert_eq!(env.dump(), before);
    // Removed, compare-and-swap guarded, recorded with the reason.
    let history = env.history_len();
    env.ok(&[
        "delete",
        "--raw-key",
        "sp ace:orders:0",
        "--expect",
        "5",
        "--reason",
        "written by the old importer",
        "-q",
    ]);
    let out = env.run(&[
        "delete",
        "--raw-key",
        "bad:name:orders:1",
        "--reason",
        "written by the old importer",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // No `undo --batch` is offered: it could not write the name back.
    assert!(stderr(&out).contains("removed cursor"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("undo --batch"), "{}", stderr(&out));
    env.ok(&[
        "delete",
        "--raw-key",
        "tab\tbed:orders:2",
        "--reason",
        "written by the old importer",
        "-q",
    ]);
    assert_eq!(env.history_len(), history + 3);
    let rows = env.history();
    let last: Vec<_> = rows.iter().rev().take(3).collect();
    for row in &last {
        assert_eq!(row.command, "delete");
        assert_eq!(row.reason.as_deref(), Some("written by the old importer"));
        assert_eq!(row.new_offset, None);
    }
    assert!(
        last.iter()
            .any(|r| r.consumer == "sp ace" && r.old_offset == Some(5)),
        "{last:?}"
    );
    assert!(
        last.iter()
            .any(|r| r.consumer == "bad:name" && r.channel == "orders"),
        "{last:?}"
    );
    let listed = env.ok(&["get", "-o", "tsv"]);
    assert_eq!(listed.lines().count(), 2, "only svc is left: {listed}");
    assert_eq!(env.offset("svc", "orders:0"), Some(3));
}

/// A snapshot name has rules of its own, said as a snapshot name's: never
/// as a consumer's, whichever snapshot command refuses it.
fn snapshot_names_are_refused_as_snapshot_names(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("billing", "orders:0", 5)]);
    env.ok(&["snapshot", "save", "kept"]);
    let before = env.dump();
    for name in ["a:b", "two words", ""] {
        for command in ["save", "show", "restore", "drop"] {
            let err = env.fails(2, &["snapshot", command, name]);
            assert!(
                err.contains(&format!("invalid snapshot name {name:?}")),
                "{command} {name:?}: {err}"
            );
            assert!(!err.contains("consumer"), "{command} {name:?}: {err}");
        }
        let err = env.fails(2, &["-o", "json", "snapshot", "save", name]);
        let body: Value = serde_json::from_str(&err).expect(&err);
        assert_eq!(body["error"]["kind"], "usage", "{err}");
    }
    let err = env.fails(2, &["snapshot", "save", "a:b"]);
    assert!(err.contains("must not contain ':'"), "{err}");
    assert_eq!(env.dump(), before, "the store is unchanged");
}

backend_tests!(
    snapshot_names_are_refused_as_snapshot_names,
    hints_name_a_command_that_works,
    the_docs_say_what_the_commands_do,
    watch_shows_absent_and_deleted_cursors_with_read_times,
    consumers_named_like_subcommands_have_their_history,
    info_says_where_the_store_is_and_what_it_holds,
    look_alike_consumers_are_refused_unless_allowed,
    cursors_under_refused_names_are_removed_by_their_raw_key,
);

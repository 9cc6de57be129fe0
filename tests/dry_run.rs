//! A dry run is the write it previews: on random stores and random command
//! sequences, `--dry-run` prints the same records (but for ids, which a dry
//! run does not keep), the same errors and the same exit code as the write
//! on a twin store, and changes nothing. Both backends.

use crate::common;

use common::{backend_tests, Backend, Env};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

const CONSUMERS: [&str; 2] = ["a", "b"];

/// One command of a history, run on both twin stores alike.
#[derive(Clone, Debug)]
enum Step {
    Set {
        consumer: usize,
        partition: u8,
        offset: u8,
        rewind: bool,
    },
    Advance {
        consumer: usize,
        partition: u8,
        by: u8,
    },
    Delete {
        consumer: usize,
        partition: u8,
    },
    Bulk {
        lines: Vec<(usize, u8, u8, Option<u8>)>,
        rewind: bool,
    },
    Copy {
        from: usize,
        rewind: bool,
    },
    Save,
}

/// The command whose dry run is compared with its write.
#[derive(Clone, Debug)]
enum Probe {
    Step(Step),
    UndoChange {
        nth: u8,
        reason: bool,
    },
    UndoBatch {
        nth: u8,
        reason: bool,
        skip_moved: bool,
    },
    UndoSince {
        reason: bool,
        skip_moved: bool,
    },
    DeleteConsumer {
        consumer: usize,
        reason: bool,
    },
    Restore {
        reason: bool,
        delete_new: bool,
    },
    Prune,
}

fn step() -> impl Strategy<Value = Step> {
    let consumer = 0..CONSUMERS.len();
    let partition = 0u8..3;
    prop_oneof![
        (consumer.clone(), partition.clone(), 0u8..20, any::<bool>()).prop_map(
            |(consumer, partition, offset, rewind)| Step::Set {
                consumer,
                partition,
                offset,
                rewind
            }
        ),
        (consumer.clone(), partition.clone(), 0u8..4).prop_map(|(consumer, partition, by)| {
            Step::Advance {
                consumer,
                partition,
                by,
            }
        }),
        (consumer.clone(), partition.clone()).prop_map(|(consumer, partition)| Step::Delete {
            consumer,
            partition
        }),
        (
            proptest::collection::vec(
                (
                    consumer.clone(),
                    partition.clone(),
                    0u8..20,
                    proptest::option::of(0u8..20)
                ),
                1..5
            ),
            any::<bool>()
        )
            .prop_map(|(lines, rewind)| Step::Bulk { lines, rewind }),
        (consumer, any::<bool>()).prop_map(|(from, rewind)| Step::Copy { from, rewind }),
        Just(Step::Save),
    ]
}

fn probe() -> impl Strategy<Value = Probe> {
    prop_oneof![
        step()
            .prop_filter("a command with --dry-run", |s| !matches!(s, Step::Save))
            .prop_map(Probe::Step),
        (0u8..12, any::<bool>()).prop_map(|(nth, reason)| Probe::UndoChange { nth, reason }),
        (0u8..8, any::<bool>(), any::<bool>()).prop_map(|(nth, reason, skip_moved)| {
            Probe::UndoBatch {
                nth,
                reason,
                skip_moved,
            }
        }),
        (any::<bool>(), any::<bool>())
            .prop_map(|(reason, skip_moved)| Probe::UndoSince { reason, skip_moved }),
        (0..CONSUMERS.len(), any::<bool>())
            .prop_map(|(consumer, reason)| Probe::DeleteConsumer { consumer, reason }),
        (any::<bool>(), any::<bool>())
            .prop_map(|(reason, delete_new)| Probe::Restore { reason, delete_new }),
        Just(Probe::Prune),
    ]
}

/// The arguments and input of a step.
fn step_args(step: &Step) -> (Vec<String>, Option<String>) {
    let key = |c: usize, p: u8| format!("{}:orders:{p}", CONSUMERS[c]);
    let rewind = |args: &mut Vec<String>, on: bool| {
        if on {
            args.extend(["--allow-rewind", "--reason", "r"].map(String::from));
        }
    };
    match step {
        Step::Set {
            consumer,
            partition,
            offset,
            rewind: r,
        } => {
            let mut args: Vec<String> = vec![
                "set".into(),
                key(*consumer, *partition),
                offset.to_string(),
                "--create".into(),
            ];
            rewind(&mut args, *r);
            (args, None)
        }
        Step::Advance {
            consumer,
            partition,
            by,
        } => (
            vec![
                "advance".into(),
                key(*consumer, *partition),
                "--by".into(),
                by.to_string(),
            ],
            None,
        ),
        Step::Delete {
            consumer,
            partition,
        } => (
            vec![
                "delete".into(),
                key(*consumer, *partition),
                "--reason".into(),
                "r".into(),
            ],
            None,
        ),
        Step::Bulk { lines, rewind: r } => {
            let mut input = String::from("key,offset,expect\n");
            for (c, p, offset, expect) in lines {
                let expect = expect.map_or_else(String::new, |e| e.to_string());
                input.push_str(&format!("{},{offset},{expect}\n", key(*c, *p)));
            }
            let mut args: Vec<String> = ["set", "--from-file", "-", "--create"]
                .map(String::from)
                .to_vec();
            rewind(&mut args, *r);
            (args, Some(input))
        }
        Step::Copy { from, rewind: r } => {
            let to = CONSUMERS[(from + 1) % CONSUMERS.len()];
            let mut args: Vec<String> = vec![
                "copy".into(),
                CONSUMERS[*from].into(),
                to.into(),
                "--create".into(),
            ];
            rewind(&mut args, *r);
            (args, None)
        }
        // One name: a second save is refused alike on both twins.
        Step::Save => (["snapshot", "save", "s"].map(String::from).to_vec(), None),
    }
}

/// Ids of the twin's history (changes, batches), oldest first.
fn ids(env: &Env) -> (Vec<i64>, Vec<i64>) {
    let rows: Vec<Value> = env
        .ok(&["history", "-o", "ndjson"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let changes = rows.iter().filter_map(|r| r["id"].as_i64()).collect();
    let mut batches: Vec<i64> = rows.iter().filter_map(|r| r["batch"].as_i64()).collect();
    batches.dedup();
    (changes, batches)
}

fn probe_args(probe: &Probe, env: &Env, since: &str) -> (Vec<String>, Option<String>) {
    let with_reason = |mut args: Vec<String>, reason: bool| {
        if reason {
            args.extend(["--reason", "r"].map(String::from));
        }
        args
    };
    let (changes, batches) = ids(env);
    let pick = |list: &[i64], nth: u8| {
        list.get(usize::from(nth) % list.len().max(1))
            .copied()
            .unwrap_or(1)
            .to_string()
    };
    match probe {
        Probe::Step(step) => step_args(step),
        Probe::UndoChange { nth, reason } => (
            with_reason(vec!["undo".into(), pick(&changes, *nth)], *reason),
            None,
        ),
        Probe::UndoBatch {
            nth,
            reason,
            skip_moved,
        } => {
            let mut args = vec!["undo".into(), "--batch".into(), pick(&batches, *nth)];
            if *skip_moved {
                args.push("--skip-moved".into());
            }
            (with_reason(args, *reason), None)
        }
        Probe::UndoSince { reason, skip_moved } => {
            let mut args = vec!["undo".into(), "--since".into(), since.to_owned()];
            if *skip_moved {
                args.push("--skip-moved".into());
            }
            (with_reason(args, *reason), None)
        }
        Probe::DeleteConsumer { consumer, reason } => (
            with_reason(vec!["delete".into(), CONSUMERS[*consumer].into()], *reason),
            None,
        ),
        Probe::Restore { reason, delete_new } => {
            let mut args: Vec<String> = ["snapshot", "restore", "s"].map(String::from).to_vec();
            if *delete_new {
                args.push("--delete-new".into());
            }
            (with_reason(args, *reason), None)
        }
        Probe::Prune => (
            ["history", "prune", "--before", since]
                .map(String::from)
                .to_vec(),
            None,
        ),
    }
}

fn run(env: &Env, args: &[String], input: Option<&String>) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run_stdin(&args, input.cloned().unwrap_or_default())
}

/// What a run printed, but for what only the write keeps: ids, the batch
/// of a prune, and `dry_run`.
fn records(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut record: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            for field in ["id", "batch", "dry_run"] {
                if record.get(field).is_some() {
                    record[field] = Value::Null;
                }
            }
            record
        })
        .collect()
}

fn check_case(
    backend: Backend,
    before: &[Step],
    after: &[Step],
    probe: &Probe,
) -> Result<(), TestCaseError> {
    let twins = [Env::on(backend), Env::on(backend)];
    for env in &twins {
        for step in before {
            let (args, input) = step_args(step);
            run(env, &args, input.as_ref());
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(15));
    let since = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    std::thread::sleep(std::time::Duration::from_millis(15));
    for env in &twins {
        for step in after {
            let (args, input) = step_args(step);
            run(env, &args, input.as_ref());
        }
    }
    let [dry_env, real_env] = &twins;
    let offsets = |env: &Env| env.ok(&["get", "-o", "value"]);
    prop_assert_eq!(offsets(dry_env), offsets(real_env), "the twins differ");
    let (mut args, input) = probe_args(probe, dry_env, &since);
    args.extend(["-o", "ndjson"].map(String::from));
    let untouched = dry_env.dump();
    let mut dry_args = args.clone();
    dry_args.push("--dry-run".into());
    let dry = run(dry_env, &dry_args, input.as_ref());
    prop_assert!(dry_env.dump() == untouched, "the dry run changed the store");
    let real = run(real_env, &args, input.as_ref());
    let said = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    prop_assert_eq!(
        dry.status.code(),
        real.status.code(),
        "{:?}\ndry run: {}\nwrite: {}",
        args,
        said(&dry),
        said(&real)
    );
    prop_assert_eq!(records(&dry), records(&real), "{:?}", args);
    if real.status.code() != Some(0) {
        prop_assert_eq!(said(&dry), said(&real), "{:?}", args);
    }
    Ok(())
}

fn dry_runs_print_what_the_write_does(backend: Backend) {
    // More cases by hand: CURSORCTL_DRY_RUN_CASES=500 cargo test dry_run
    let cases = std::env::var("CURSORCTL_DRY_RUN_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(match backend {
            Backend::Sqlite => 48,
            Backend::Postgres => 16,
        });
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(step(), 1..8),
        proptest::collection::vec(step(), 0..6),
        probe(),
    );
    runner
        .run(&strategy, |(before, after, probe)| {
            check_case(backend, &before, &after, &probe)
        })
        .unwrap();
}

/// The case of the report: one cursor touched three times since a time,
/// then `undo --since` (and `--skip-moved`): the dry run undoes all three,
/// as the write does.
fn undo_since_of_a_cursor_touched_three_times(backend: Backend) {
    let steps = [
        Step::Set {
            consumer: 0,
            partition: 0,
            offset: 10,
            rewind: false,
        },
        Step::Advance {
            consumer: 0,
            partition: 0,
            by: 1,
        },
        Step::Advance {
            consumer: 0,
            partition: 0,
            by: 1,
        },
    ];
    for skip_moved in [false, true] {
        let probe = Probe::UndoSince {
            reason: true,
            skip_moved,
        };
        check_case(backend, &[], &steps, &probe).unwrap();
    }
    let env = Env::on(backend);
    env.ok(&["set", "a:orders:0", "10", "--create", "-q"]);
    let since = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    std::thread::sleep(std::time::Duration::from_millis(15));
    env.ok(&["advance", "a:orders:0", "-q"]);
    env.ok(&["advance", "a:orders:0", "-q"]);
    let plan = env.ok(&[
        "undo",
        "--since",
        &since,
        "--reason",
        "x",
        "--dry-run",
        "-o",
        "ndjson",
    ]);
    let statuses: Vec<String> = plan
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["status"].to_string())
        .collect();
    assert_eq!(statuses, ["\"rewound\"", "\"rewound\""], "{plan}");
}

/// Under `--expect`, a cursor that holds something else is stale (exit 3,
/// naming what it holds), whatever the direction of the move; an absent
/// cursor under `--create --expect N` too.
fn an_expect_mismatch_is_stale_never_a_regression(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("a", "orders:0", 6)]);
    let before = env.dump();
    let err = env.fails(3, &["set", "a", "orders:0", "8", "--expect", "10"]);
    assert!(err.contains("holds 6"), "{err}");
    let err = env.fails(3, &["set", "a", "orders:0", "2", "--expect", "10"]);
    assert!(err.contains("holds 6"), "{err}");
    let err = env.fails(
        3,
        &["set", "a", "orders:1", "3", "--create", "--expect", "5"],
    );
    assert!(
        err.contains("does not exist") || err.contains("absent"),
        "{err}"
    );
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        "key,offset,expect\na:orders:0,8,10\n",
    );
    assert_eq!(out.status.code(), Some(3), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("holds 6"));
    assert_eq!(env.dump(), before);
    // The expected offset held: the guard passes, and a move below it is
    // then a regression.
    env.fails(4, &["set", "a", "orders:0", "5", "--expect", "6"]);
    env.ok(&["set", "a", "orders:0", "8", "--expect", "6", "-q"]);
    assert_eq!(env.offset("a", "orders:0"), Some(8));
}

fn batch_count(env: &Env) -> usize {
    let mut batches: Vec<i64> = env
        .ok(&["history", "-o", "ndjson"])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).unwrap()["batch"].as_i64())
        .collect();
    batches.dedup();
    batches.len()
}

/// A `copy` or `snapshot restore` that changes nothing records no batch
/// and suggests no undo.
fn a_batch_that_changes_nothing_is_not_recorded(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("a", "orders:0", 6), ("b", "orders:0", 6)]);
    env.ok(&["snapshot", "save", "now", "-q"]);
    let before = env.dump();
    for args in [
        &["copy", "a", "b"][..],
        &["copy", "a", "b", "--dry-run"],
        &["snapshot", "restore", "now"],
        &["snapshot", "restore", "now", "--dry-run"],
    ] {
        let out = env.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            common::stderr(&out)
        );
        let said = common::stderr(&out);
        assert!(!said.contains("undo"), "{args:?}: {said}");
        assert!(said.contains("nothing changed"), "{args:?}: {said}");
        assert_eq!(env.dump(), before, "{args:?}");
    }
    assert_eq!(batch_count(&env), 0);
}

/// `snapshot restore --dry-run` shows the delta of the restore: back from
/// 100 to 50 is -50, as the restore itself prints.
fn a_restore_plan_shows_the_delta_of_the_restore(backend: Backend) {
    let env = Env::on(backend);
    env.seed(&[("a", "orders:0", 50)]);
    env.ok(&["snapshot", "save", "s", "-q"]);
    env.ok(&["advance", "a", "orders:0", "--by", "50", "-q"]);
    let args = ["snapshot", "restore", "s", "--reason", "r", "-o", "ndjson"];
    let plan = env.ok(&[&args[..], &["--dry-run"]].concat());
    let plan: Value = serde_json::from_str(plan.trim()).unwrap();
    assert_eq!(plan["delta"], -50, "{plan}");
    let done = env.ok(&args);
    let done: Value = serde_json::from_str(done.trim()).unwrap();
    assert_eq!(done["delta"], -50, "{done}");
}

backend_tests!(
    dry_runs_print_what_the_write_does,
    undo_since_of_a_cursor_touched_three_times,
    an_expect_mismatch_is_stale_never_a_regression,
    a_batch_that_changes_nothing_is_not_recorded,
    a_restore_plan_shows_the_delta_of_the_restore,
);

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
    // cursorctl, history and snapshot, each with --help and -h.
    assert_eq!(with_commands, 6);
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

//! Every command in docs/operator-guide.md runs as written, and prints what
//! the guide shows.
//!
//! Lines of the guide's ```console blocks that start with `$ ` are commands;
//! they run in order, in one bash script, in a fresh directory where
//! `cursorctl` is on PATH and `CURSORCTL_DB` names the store. A command must
//! exit 0 unless its block shows an error for it: a line `# exit N` right
//! after the command. The lines after a command (up to the next command or
//! the end of the block) are its output, stdout and stderr as they
//! interleave, and are compared with the real output line by line; times
//! (RFC 3339, as every record prints them) are the only thing that may
//! differ, since they are the clock's.
//!
//! To write the real output into the guide: `CURSORCTL_REGENERATE=1 cargo
//! test --test integration guide::`.
//!
//! The guide's pipelines use `jq`, as operators do. Where jq is not
//! installed the test says it skipped and runs nothing; under CI (`CI` set)
//! a missing jq fails the test instead.

use crate::common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use common::BIN;

struct Step {
    line: usize,
    command: String,
    exit: i32,
    /// The guide's lines of its output: indexes into the guide's lines.
    output: Vec<usize>,
}

fn steps(guide: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    let mut lines = guide.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_console = !in_console && trimmed.trim_start_matches('`') == "console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            let mut command = cmd.to_owned();
            // Continuation lines.
            while command.ends_with('\\') {
                let (_, next) = lines.next().expect("continued line");
                command.push('\n');
                command.push_str(next);
            }
            steps.push(Step {
                line: i + 1,
                command,
                exit: 0,
                output: Vec::new(),
            });
        } else if let Some(code) = line.strip_prefix("# exit ") {
            let step = steps.last_mut().expect("an exit note follows a command");
            assert!(
                step.output.is_empty(),
                "guide line {}: `# exit` goes right after the command",
                i + 1
            );
            step.exit = code.trim().parse().expect("exit code");
        } else {
            steps
                .last_mut()
                .unwrap_or_else(|| panic!("guide line {}: output before any command", i + 1))
                .output
                .push(i);
        }
    }
    steps
}

/// Whether `text` at `at` starts an RFC 3339 UTC time with milliseconds
/// (`2026-11-26T18:52:13.029Z`), as records print times.
fn time_at(text: &[u8], at: usize) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() >= at + SHAPE.len()
        && SHAPE.iter().zip(&text[at..]).all(|(s, c)| match s {
            b'd' => c.is_ascii_digit(),
            _ => s == c,
        })
}

/// A line with every time replaced by `TIME`, and no trailing blanks.
fn normalised(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if time_at(bytes, i) {
            out.push_str("TIME");
            i += 24;
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out.trim_end().to_owned()
}

#[test]
fn normalising_replaces_times_only() {
    assert_eq!(
        normalised(" a  2026-11-26T18:52:13.029Z  1  "),
        " a  TIME  1"
    );
    assert_eq!(
        normalised("{\"at\":\"2026-11-26T18:52:13.029Z\"}"),
        "{\"at\":\"TIME\"}"
    );
    assert_eq!(normalised("2026-11-26T18:52:13Z"), "2026-11-26T18:52:13Z");
    assert_ne!(normalised("offset 1040"), normalised("offset 1041"));
}

#[test]
fn every_guide_example_runs_as_written_and_prints_what_it_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide_path = root.join("docs/operator-guide.md");
    let guide = std::fs::read_to_string(&guide_path).unwrap();
    let steps = steps(&guide);
    assert!(steps.len() >= 20, "only {} commands found", steps.len());
    assert!(
        steps.iter().filter(|s| !s.output.is_empty()).count() >= 20,
        "the guide shows too few outputs"
    );
    if !common::require_tool("jq") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("set -u -o pipefail\n");
    for (n, step) in steps.iter().enumerate() {
        writeln!(
            script,
            "{{\n{}\n}} >out.{n} 2>&1\nrc=$?\nif [ $rc -ne {} ]; then echo \"guide line {}: exit $rc, expected {}\" >&2; cat out.{n} >&2; exit 1; fi",
            step.command, step.exit, step.line, step.exit
        )
        .unwrap();
    }
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir.path())
        .env("USER", "oncall")
        .env("NO_COLOR", "1")
        .env("CURSORCTL_DB", "cursors.db")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n--- stdout\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = guide.lines().collect();
    let mut regenerated: Vec<String> = Vec::new();
    let mut next = 0;
    let mut differ = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let real = std::fs::read_to_string(dir.path().join(format!("out.{n}"))).unwrap();
        let real: Vec<&str> = real.lines().collect();
        let shown: Vec<&str> = step.output.iter().map(|&i| lines[i]).collect();
        let same = real.len() == shown.len()
            && real
                .iter()
                .zip(&shown)
                .all(|(r, s)| normalised(r) == normalised(s));
        if !same {
            differ.push(format!(
                "guide line {}: `{}`\n--- the guide shows\n{}\n--- it prints\n{}",
                step.line,
                step.command,
                shown.join("\n"),
                real.join("\n")
            ));
        }
        // The guide with this step's output replaced by the real one.
        let after_command =
            step.line + step.command.matches('\n').count() + usize::from(step.exit != 0);
        regenerated.extend(lines[next..after_command].iter().map(|l| (*l).to_owned()));
        regenerated.extend(real.iter().map(|l| l.trim_end().to_owned()));
        next = after_command + step.output.len();
    }
    regenerated.extend(lines[next..].iter().map(|l| (*l).to_owned()));
    if std::env::var_os("CURSORCTL_REGENERATE").is_some() {
        std::fs::write(&guide_path, regenerated.join("\n") + "\n").unwrap();
        return;
    }
    assert!(
        differ.is_empty(),
        "{} output(s) of docs/operator-guide.md differ from the real ones (times aside); \
         refresh them with `CURSORCTL_REGENERATE=1 cargo test --test integration guide::`:\n\n{}",
        differ.len(),
        differ.join("\n\n")
    );
    eprintln!("{} guide commands ran", steps.len());
}

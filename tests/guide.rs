//! Every command in docs/operator-guide.md runs as written.
//!
//! Lines of the guide's ```console blocks that start with `$ ` are commands;
//! they run in order, in one bash script, in a fresh directory where
//! `cursorctl` is on PATH and `CURSORCTL_DB` names the store. A command must
//! exit 0 unless its block shows an error for it: a line `# exit N` right
//! after the command. Output lines are illustrations and are not compared.
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
        if let Some(cmd) = trimmed.strip_prefix("$ ") {
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
            });
        } else if let Some(code) = trimmed.strip_prefix("# exit ") {
            steps
                .last_mut()
                .expect("an exit note follows a command")
                .exit = code.trim().parse().expect("exit code");
        }
    }
    steps
}

#[test]
fn every_guide_example_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("docs/operator-guide.md")).unwrap();
    let steps = steps(&guide);
    assert!(steps.len() >= 20, "only {} commands found", steps.len());
    if !common::require_tool("jq", "every_guide_example_runs_as_written") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("set -u -o pipefail\n");
    for step in &steps {
        writeln!(
            script,
            "{}\nrc=$?\nif [ $rc -ne {} ]; then echo \"guide line {}: exit $rc, expected {}\" >&2; exit 1; fi",
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
    eprintln!("{} guide commands ran", steps.len());
}

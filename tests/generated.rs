//! The committed completion scripts and man pages are generated from the
//! command-line definition; this test fails when they drift from it.
//!
//! To refresh them: `CURSORCTL_REGENERATE=1 cargo test --test integration generated`.

use crate::common;

/// The command-line definition, compiled into this test so that the man
/// pages are generated from it without a command in the binary.
#[path = "../src/cli/mod.rs"]
#[allow(dead_code, unused_imports)]
mod cli;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::BIN;

const SHELLS: &[(&str, &str)] = &[
    ("bash", "cursorctl.bash"),
    ("zsh", "_cursorctl"),
    ("fish", "cursorctl.fish"),
    ("powershell", "_cursorctl.ps1"),
    ("elvish", "cursorctl.elv"),
];

const REFRESH: &str = "CURSORCTL_REGENERATE=1 cargo test --test integration generated";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn regenerate() -> bool {
    std::env::var_os("CURSORCTL_REGENERATE").is_some()
}

fn check(path: &Path, fresh: &[u8], stale: &mut Vec<String>) {
    if regenerate() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, fresh).unwrap();
        return;
    }
    match fs::read(path) {
        Ok(committed) if committed == fresh => {}
        _ => stale.push(path.strip_prefix(root()).unwrap().display().to_string()),
    }
}

#[test]
fn completion_scripts_are_fresh() {
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let out = Command::new(BIN)
            .env_clear()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(!out.stdout.is_empty());
        check(
            &root().join("completions").join(file),
            &out.stdout,
            &mut stale,
        );
    }
    assert!(
        stale.is_empty(),
        "completion scripts differ from the binary: {stale:?}; refresh them with `{REFRESH}`"
    );
}

/// Write the man pages of cursorctl and every command into `dir`.
fn generate_man_pages(dir: &Path) {
    use clap::CommandFactory;
    clap_mangen::generate_to(cli::Cli::command(), dir).unwrap();
}

#[test]
fn man_pages_are_fresh() {
    let dir = tempfile::tempdir().unwrap();
    generate_man_pages(dir.path());
    let mut fresh: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    fresh.sort();
    assert!(fresh.contains(&"cursorctl.1".to_owned()));
    assert!(fresh.contains(&"cursorctl-get.1".to_owned()));
    let man_dir = root().join("docs/man");
    let mut stale = Vec::new();
    for name in &fresh {
        let text = fs::read(dir.path().join(name)).unwrap();
        check(&man_dir.join(name), &text, &mut stale);
    }
    // A committed page for a command that no longer exists is stale too.
    if let Ok(entries) = fs::read_dir(&man_dir) {
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".1") && !fresh.contains(&name) {
                if regenerate() {
                    fs::remove_file(man_dir.join(&name)).unwrap();
                } else {
                    stale.push(format!("docs/man/{name} (no such command)"));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "man pages differ from the binary: {stale:?}; refresh them with `{REFRESH}`"
    );
}

#[test]
fn man_pages_are_not_a_command() {
    let out = Command::new(BIN)
        .env_clear()
        .args(["man", "--out-dir", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let help = Command::new(BIN)
        .env_clear()
        .arg("--help")
        .output()
        .unwrap();
    let completions = Command::new(BIN)
        .env_clear()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    for text in [&help.stdout, &completions.stdout] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.contains("out-dir"), "{text}");
    }
}

#[test]
fn the_bash_script_registers_the_completion() {
    let script = root().join("completions/cursorctl.bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p cursorctl",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("cursorctl"));
}

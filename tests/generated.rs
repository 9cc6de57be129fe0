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
    let mut command = cli::Cli::command().disable_help_subcommand(true);
    command.build();
    write_man_pages(&command, dir);
}

/// The page of `command` and those of its subcommands. The text after the
/// options (examples, exit codes) is laid out here, not by clap_mangen,
/// which would fill it as prose: examples are kept line by line (no fill),
/// the exit codes are a table.
fn write_man_pages(command: &clap::Command, dir: &Path) {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_man_pages(sub, dir);
    }
    let after = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
        .map(ToString::to_string);
    let bare = command
        .clone()
        .after_help(None::<&'static str>)
        .after_long_help(None::<&'static str>);
    let man = clap_mangen::Man::new(bare);
    let mut page = Vec::new();
    man.render(&mut page).unwrap();
    let mut page = String::from_utf8(page).unwrap();
    if let Some(after) = after {
        let sections = roff_sections(&after);
        match page.find(".SH VERSION") {
            Some(at) => page.insert_str(at, &sections),
            None => page.push_str(&sections),
        }
        if sections.contains(".TS") {
            // Tells man to run the page through tbl.
            page.insert_str(0, "'\\\" t\n");
        }
    }
    fs::write(dir.join(man.get_filename()), page).unwrap();
}

/// Text for roff: its escapes, and a control character at the start of a
/// line made plain.
fn roff_text(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\(aq");
    if escaped.starts_with('.') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The sections of a help's closing text (`Examples:`, `Exit codes:`), in
/// roff.
fn roff_sections(after: &str) -> String {
    let mut out = String::new();
    let mut lines = after.lines().peekable();
    while let Some(heading) = lines.next() {
        let mut body = Vec::new();
        while let Some(line) = lines.next_if(|l| l.is_empty() || l.starts_with(' ')) {
            if !line.is_empty() {
                body.push(line);
            }
        }
        let title = heading.trim_end_matches(':').to_uppercase();
        out.push_str(&format!(".SH \"{title}\"\n"));
        if title == "EXIT CODES" {
            // One row per code; a line indented further goes on with the
            // text of the code above it.
            let mut rows: Vec<(String, String)> = Vec::new();
            for line in body {
                let indent = line.len() - line.trim_start().len();
                match rows.last_mut() {
                    Some((_, text)) if indent > 2 => {
                        text.push(' ');
                        text.push_str(line.trim());
                    }
                    _ => {
                        let (code, text) = line.trim().split_once("  ").unwrap();
                        rows.push((code.to_owned(), text.trim().to_owned()));
                    }
                }
            }
            out.push_str(".TS\ntab(@);\nl lx.\n");
            for (code, text) in rows {
                out.push_str(&format!(
                    "{}@T{{\n{}\nT}}\n",
                    roff_text(&code),
                    roff_text(&text)
                ));
            }
            out.push_str(".TE\n");
        } else {
            out.push_str(".PP\n.nf\n");
            for line in body {
                out.push_str(&roff_text(line));
                out.push('\n');
            }
            out.push_str(".fi\n");
        }
    }
    out
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

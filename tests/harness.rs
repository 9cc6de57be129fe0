//! The suite's own rules: a test that cannot check something here says so
//! and fails under CI (`common::skip`), and the PostgreSQL cases fail when
//! no server is reachable unless `CURSORCTL_TEST_PG=skip` opts out. Checked
//! by running one PostgreSQL case of this very test binary in a process of
//! its own, with the environment each rule is about.

use std::process::Command;

use crate::common::{self, pg_available};

#[test]
fn a_skip_says_so_and_fails_under_ci() {
    assert!(!common::skip_where(
        false,
        "nothing to check (testing the skip)"
    ));
    let under_ci = std::panic::catch_unwind(|| common::skip_where(true, "nothing to check"));
    assert!(under_ci.is_err(), "a skip under CI must fail the test");
}

/// One PostgreSQL case of this test binary, run with `env` (and neither
/// `CI` nor `CURSORCTL_TEST_PG` inherited): its exit status and output.
fn one_postgres_case(env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "core::postgres::exit_0_success", "--nocapture"])
        .env_remove("CI")
        .env_remove("CURSORCTL_TEST_PG");
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("1 passed") || text.contains("1 failed"),
        "the case did not run: {text}"
    );
    (out.status.success(), text)
}

#[test]
fn postgresql_cases_fail_without_a_server_unless_opted_out() {
    // Nothing listens on port 1.
    let nowhere = "postgres://root@127.0.0.1:1/test?connect_timeout=5";
    let (passed, text) = one_postgres_case(&[("CURSORCTL_TEST_PG", nowhere)]);
    assert!(!passed, "a PostgreSQL case passed with no server: {text}");
    assert!(text.contains("bash .ci/postgres.sh"), "{text}");
    assert!(text.contains("CURSORCTL_TEST_PG=skip"), "{text}");

    let (passed, text) = one_postgres_case(&[("CURSORCTL_TEST_PG", "skip")]);
    assert!(passed, "{text}");
    assert!(
        text.contains("SKIPPED core::postgres::exit_0_success: CURSORCTL_TEST_PG=skip"),
        "the skip is not said: {text}"
    );

    let (passed, text) = one_postgres_case(&[("CURSORCTL_TEST_PG", "skip"), ("CI", "1")]);
    assert!(!passed, "under CI the opt-out must fail: {text}");

    // With the server (this run's, when it has one), the case runs.
    if pg_available() {
        let url = common::pg_url();
        let (passed, text) = one_postgres_case(&[("CURSORCTL_TEST_PG", &url)]);
        assert!(passed && !text.contains("SKIPPED"), "{text}");
    }
}

/// Every test docs/reliability.md names (`module::test`, `module::*::test`
/// for both backends, a bare name in the table of its module, a name cut
/// short with `...` or `*`) is a test function: the document cannot go on
/// claiming what a renamed or deleted test proved.
#[test]
fn every_test_named_in_reliability_md_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    let mut sources = String::new();
    for dir in ["tests", "src"] {
        read_sources(&root.join(dir), &mut sources);
    }
    let mut named = 0;
    let mut missing = Vec::new();
    for (i, span) in doc.split('`').enumerate() {
        // Inside backticks: the odd pieces.
        let looks_like_a_test = i % 2 == 1
            && span.contains('_')
            && span
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:*.".contains(c))
            && (span.contains("::") || span.matches('_').count() >= 3);
        if !looks_like_a_test {
            continue;
        }
        let last = span.rsplit("::").next().unwrap();
        let (name, prefix) = match last.strip_suffix("...").or_else(|| last.strip_suffix('*')) {
            Some(start) => (start, true),
            None => (last, false),
        };
        if name.is_empty() {
            continue;
        }
        named += 1;
        let module = span.split("::").next().unwrap();
        let haystack = if span.contains("::") && root.join(format!("tests/{module}.rs")).exists() {
            std::fs::read_to_string(root.join(format!("tests/{module}.rs"))).unwrap()
        } else {
            sources.clone()
        };
        let found = haystack
            .match_indices(&format!("fn {name}"))
            .any(|(at, m)| {
                prefix
                    || !haystack[at + m.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            });
        if !found {
            missing.push(span.to_owned());
        }
    }
    assert!(
        named > 50,
        "only {named} test names found in docs/reliability.md"
    );
    assert!(
        missing.is_empty(),
        "docs/reliability.md names tests that do not exist: {missing:?}"
    );
}

fn read_sources(dir: &std::path::Path, into: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

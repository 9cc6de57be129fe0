//! Reliability: bad input of every kind, broken files and faults, pipes, and
//! a concurrent compare-and-swap history checked for lost updates.

use crate::common;

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use common::{stderr, stdout, Env, BIN};

// ---- the bad-input matrix: arguments ---------------------------------------

struct Case {
    args: Vec<OsString>,
    code: i32,
    says: &'static str,
}

fn case(args: &[&str], code: i32, says: &'static str) -> Case {
    Case {
        args: args.iter().map(OsString::from).collect(),
        code,
        says,
    }
}

fn argument_cases() -> Vec<Case> {
    // Linux caps one argument at 128 KiB; the 1 MB key is in the input-line matrix.
    let long = "x".repeat(100_000);
    let long_key: &'static str = Box::leak(long.into_boxed_str());
    let long_pk: &'static str = Box::leak(format!("{long_key}:1").into_boxed_str());
    let mut cases = vec![
        // offsets
        case(
            &["set", "c", "o:1", "9223372036854775808"],
            2,
            "9223372036854775807",
        ),
        case(
            &["set", "c", "o:1", "18446744073709551616"],
            2,
            "9223372036854775807",
        ),
        case(&["set", "c", "o:1", "-1"], 2, "negative"),
        case(&["set", "c", "o:1", "-9223372036854775808"], 2, "negative"),
        case(&["set", "c", "o:1", "+1"], 2, "sign"),
        case(&["set", "c", "o:1", "0x1f"], 2, "decimal"),
        case(&["set", "c", "o:1", "1.0"], 2, "decimal"),
        case(&["set", "c", "o:1", "1e3"], 2, "decimal"),
        case(&["set", "c", "o:1", ""], 2, "empty"),
        case(&["set", "c", "o:1", " 7"], 2, "decimal"),
        case(&["set", "c", "o:1", "7\n"], 2, "decimal"),
        case(&["set", "c", "o:1", "٣"], 2, "decimal"),
        case(&["set", "c", "o:1", "8", "--expect", "-1"], 2, "negative"),
        case(&["set", "c", "o:1", "8", "--expect", "x"], 2, "decimal"),
        case(&["advance", "c", "o:1", "--by", "-1"], 2, "negative"),
        case(&["advance", "c", "o:1", "--by", "1.5"], 2, "decimal"),
        case(
            &["advance", "c", "o:1", "--to", "99999999999999999999"],
            2,
            "9223372036854775807",
        ),
        case(
            &["advance", "c", "o:1", "--by", "9223372036854775807"],
            2,
            "largest offset",
        ),
        // keys
        case(&["set", "", "o:1", "8"], 2, "empty"),
        case(&["set", "c:d", "o:1", "8"], 2, "':'"),
        case(&["set", "c d", "o:1", "8"], 2, "whitespace"),
        case(&["set", "c\td", "o:1", "8"], 2, "whitespace"),
        case(&["set", "c\u{1}d", "o:1", "8"], 2, "control"),
        case(&["set", "c\u{7f}", "o:1", "8"], 2, "control"),
        case(&["set", long_key, "o:1", "8"], 2, "255"),
        case(&["set", "c", long_pk, "8"], 2, "255"),
        case(&["set", "c", "o", "8"], 2, "CHANNEL:INDEX"),
        case(&["set", "c", "o:", "8"], 2, "missing"),
        case(&["set", "c", ":1", "8"], 2, "empty"),
        case(&["set", "c", "o:-1", "8"], 2, "decimal"),
        case(&["set", "c", "o:01", "8"], 2, "leading zeros"),
        case(&["set", "c", "o:4294967296", "8"], 2, "4294967295"),
        case(&["set", "c", "a:b:1", "8"], 2, "':'"),
        case(&["set", "c", "o p:1", "8"], 2, "whitespace"),
        case(&["get", "c d"], 2, "whitespace"),
        case(&["get", "--channel", "a:b"], 2, "':'"),
        case(&["advance", "c", "o:x"], 2, "decimal"),
        // durations
        case(&["--busy-timeout", "5", "get"], 2, "unit"),
        case(&["--busy-timeout", "-5s", "get"], 2, "duration"),
        case(&["--busy-timeout", "", "get"], 2, "duration"),
        case(&["get", "--idle-for", "yesterday"], 2, "duration"),
        case(&["get", "--idle-for", "1x"], 2, "duration"),
        // conflicting or missing flags
        case(&["set", "c", "o:1", "1", "--allow-rewind"], 2, "--reason"),
        case(
            &["advance", "c", "o:1", "--by", "1", "--to", "2"],
            2,
            "cannot be used with",
        ),
        case(
            &["get", "c", "o:1", "--channel", "o"],
            2,
            "cannot be used with",
        ),
        case(
            &["get", "c", "o:1", "--idle-for", "1m"],
            2,
            "cannot be used with",
        ),
        case(&["set", "c", "o:1"], 2, "OFFSET is missing"),
        case(&["set"], 2, "required"),
        case(&["advance", "c"], 2, "PARTITION_KEY is missing"),
        case(&["-o", "yaml", "get"], 2, "invalid value"),
        case(&["--color", "sometimes", "get"], 2, "invalid value"),
        case(&["completions", "tcsh"], 2, "invalid value"),
        case(&["undo-everything"], 2, "unrecognized subcommand"),
        case(&["get", "--frobnicate"], 2, "unexpected argument"),
    ];
    // Invalid UTF-8 in a consumer id.
    cases.push(Case {
        args: vec![
            "set".into(),
            OsString::from_vec(b"c\xff".to_vec()),
            "o:1".into(),
            "8".into(),
        ],
        code: 2,
        says: "UTF-8",
    });
    cases
}

#[test]
fn bad_arguments_are_refused_with_a_message_and_change_nothing() {
    let env = Env::new();
    env.seed(&[("c", "o:1", 7)]);
    let before = env.dump();
    let cases = argument_cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for case in &cases {
        let out = env.cmd().args(&case.args).output().unwrap();
        let err = stderr(&out);
        let shown: Vec<_> = case
            .args
            .iter()
            .map(|a| a.to_string_lossy().chars().take(30).collect::<String>())
            .collect();
        assert_eq!(out.status.code(), Some(case.code), "{shown:?}: {err}");
        assert!(
            err.contains(case.says),
            "{shown:?}: message should say {:?}: {err}",
            case.says
        );
        assert!(!err.contains("panicked"), "{shown:?}: {err}");
        assert!(stdout(&out).is_empty(), "{shown:?} printed data");
    }
    assert_eq!(env.dump(), before);
    eprintln!("argument cases: {}", cases.len());
}

// ---- values in the store written by something else --------------------------

#[test]
fn foreign_values_in_the_store_are_reported_never_overwritten() {
    for (label, sql_value) in [
        ("text", "'12abc'"),
        ("real", "1.5"),
        ("NULL", "NULL"),
        ("negative", "-4"),
        ("blob", "x'00ff'"),
    ] {
        let env = Env::new();
        env.seed(&[("c", "o:1", 7)]);
        env.conn()
            .execute_batch(&format!(
                "PRAGMA ignore_check_constraints = ON; UPDATE cursors SET offset = {sql_value};"
            ))
            .unwrap();
        let before = env.dump();
        for args in [
            vec!["get", "c", "o:1"],
            vec!["get"],
            vec!["set", "c", "o:1", "9"],
            vec!["set", "c", "o:1", "9", "--expect", "7"],
            vec!["set", "c", "o:1", "0", "--allow-rewind", "--reason", "r"],
            vec!["advance", "c", "o:1"],
        ] {
            let err = env.fails(7, &args);
            assert!(err.contains("invalid offset"), "{label} {args:?}: {err}");
            assert!(err.contains("c:o:1"), "{label} {args:?}: {err}");
        }
        assert_eq!(env.dump(), before, "{label}");
    }
}

// ---- files and faults ---------------------------------------------------------

fn file_bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap()
}

#[test]
fn broken_files_are_refused_and_left_unchanged() {
    let env = Env::empty();
    let dir = env.dir.path();
    let mut random = vec![0u8; 64 * 1024];
    let mut x: u32 = 2_463_534_242;
    for b in &mut random {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.db", Vec::new(), "empty database"),
        (
            "text.db",
            b"offset=7\n".repeat(100),
            "not a SQLite database",
        ),
        ("random.db", random, "not a SQLite database"),
    ];
    for (name, bytes, says) in &files {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        for args in [
            vec!["get"],
            vec!["get", "c", "o:1"],
            vec!["set", "c", "o:1", "1", "--create"],
            vec!["advance", "c", "o:1", "--create"],
        ] {
            let mut full = vec!["--db", path.to_str().unwrap()];
            full.extend(args);
            let err = env.fails(7, &full);
            assert!(err.contains(says), "{name}: {err}");
        }
        assert_eq!(&file_bytes(&path), bytes, "{name} changed");
    }
    // A 0-byte file is an empty database: `init` may make it a store.
    let empty = dir.join("empty.db");
    env.ok(&["--db", empty.to_str().unwrap(), "init"]);
    env.ok(&["--db", empty.to_str().unwrap(), "get"]);
    // A directory.
    let sub = dir.join("sub");
    fs::create_dir(&sub).unwrap();
    for args in [vec!["init"], vec!["get"]] {
        let mut full = vec!["--db", sub.to_str().unwrap()];
        full.extend(args);
        assert!(env.fails(7, &full).contains("directory"));
    }
    // A missing path in a missing directory.
    let missing = dir.join("no/such/dir/c.db");
    env.fails(7, &["--db", missing.to_str().unwrap(), "get"]);
    env.fails(7, &["--db", missing.to_str().unwrap(), "init"]);
    assert!(!dir.join("no").exists());
}

#[test]
fn a_corrupted_page_is_refused_and_left_unchanged() {
    let env = Env::new();
    {
        // Enough cursors to span several pages.
        env.conn()
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)
                 INSERT INTO cursors (consumer, channel, partition, offset) SELECT 'c', 'o', i, i FROM n;
                 PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .unwrap();
    }
    let mut bytes = file_bytes(&env.db);
    let page = 4096;
    assert!(bytes.len() > 8 * page);
    // Scribble over the middle of every page past the first two.
    for p in 2..bytes.len() / page {
        for b in &mut bytes[p * page + 100..p * page + 400] {
            *b = 0xA5;
        }
    }
    fs::write(&env.db, &bytes).unwrap();
    let out = env.run(&["get", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("malformed") || err.contains("corrupt"),
        "{err}"
    );
    env.fails(7, &["set", "c", "o:4000", "9999"]);
    assert_eq!(file_bytes(&env.db), bytes);
}

#[test]
fn a_store_locked_past_the_busy_timeout_is_exit_6_and_retry_works() {
    let env = Env::new();
    env.seed(&[("c", "o:1", 7)]);
    let before = env.dump();
    let locker = env.conn();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let err = env.fails(6, &["--busy-timeout", "300ms", "set", "c", "o:1", "9"]);
    assert!(
        started.elapsed().as_millis() >= 250,
        "it waited for the lock"
    );
    assert!(err.contains("busy"), "{err}");
    env.fails(6, &["--busy-timeout", "100ms", "advance", "c", "o:1"]);
    // Readers are not blocked by the writer.
    assert_eq!(env.ok(&["get", "c", "o:1", "-o", "value"]), "7\n");
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);
    assert_eq!(env.dump(), before);
    env.ok(&["set", "c", "o:1", "9"]);
    assert_eq!(env.offset("c", "o:1"), Some(9));
}

#[test]
fn a_full_disk_is_exit_7_writes_nothing_and_retry_works() {
    let env = Env::new();
    env.seed(&[("c", "o:1", 7)]);
    // Keep a WAL of more than 64 KiB in place: a connection that stays open
    // (so nobody checkpoints the WAL away) writes some other cursors. The
    // next write must append to the WAL past that size.
    let holder = env.conn();
    holder
        .execute_batch(
            "PRAGMA wal_autocheckpoint = 0;
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
             INSERT INTO cursors (consumer, channel, partition, offset) SELECT 'other', 'o', i, i FROM n;",
        )
        .unwrap();
    let wal = fs::metadata(format!("{}-wal", env.db.display()))
        .unwrap()
        .len();
    assert!(wal > 64 * 1024, "the WAL holds {wal} bytes");
    let before = env.dump();
    // A file-size limit of 48 KiB: SQLite can still map its 32 KiB -shm
    // index and read, but not append to the WAL. SIGXFSZ is ignored so the
    // write fails with EFBIG instead of killing the process.
    let limited = |args: &str| {
        Command::new("bash")
            .arg("-c")
            .arg(format!("trap '' XFSZ; ulimit -f 48; exec '{BIN}' {args}"))
            .env_clear()
            .env("CURSORCTL_DB", &env.db)
            .current_dir(env.dir.path())
            .output()
            .unwrap()
    };
    // The control: under the same limit a read works, so what fails below
    // is the write itself.
    let out = limited("get c o:1 -o value");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "7\n");
    let out = limited("set c o:1 9 --reason full");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    // It failed at the write, not at opening or reading the store.
    assert!(err.contains("committing"), "{err}");
    assert!(err.contains("I/O error") || err.contains("full"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert_eq!(env.dump(), before);
    drop(holder);
    env.ok(&["set", "c", "o:1", "9"]);
    assert_eq!(env.offset("c", "o:1"), Some(9));
    eprintln!("full disk: {}", err.trim());
}

/// Runs the binary as a user that file modes apply to. Root ignores them,
/// so when the tests run as root the test's files are given to `nobody`
/// and the binary runs as `nobody` (with `setpriv`); otherwise it runs as
/// the current user, who owns the files. Either way the process owns the
/// store and its folder, and a mode without `w` is what stops it.
struct Unprivileged {
    as_nobody: bool,
    /// A copy of the binary that `nobody` can run.
    bin_dir: tempfile::TempDir,
}

impl Unprivileged {
    fn new() -> Self {
        let as_nobody = fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap();
        let bin_dir = tempfile::tempdir().unwrap();
        set_mode(bin_dir.path(), 0o755);
        let bin = bin_dir.path().join("cursorctl");
        fs::copy(BIN, &bin).unwrap();
        set_mode(&bin, 0o755);
        Self { as_nobody, bin_dir }
    }

    /// Give a file or folder to the user the binary runs as.
    fn own(&self, path: &Path) {
        if self.as_nobody {
            std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
        }
    }

    fn run(&self, env: &Env, args: &[&str]) -> std::process::Output {
        let bin = self.bin_dir.path().join("cursorctl");
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        cmd.env_clear()
            .env("CURSORCTL_DB", &env.db)
            .current_dir("/")
            .args(args)
            .output()
            .unwrap()
    }
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A store holding c:o:1 at 7, with no -wal or -shm file beside it, owned
/// (with its folder) by the user the binary runs as.
fn owned_store(user: &Unprivileged) -> Env {
    let env = Env::new();
    env.seed(&[("c", "o:1", 7)]);
    assert_eq!(listing(env.dir.path()), ["cursors.db"]);
    set_mode(env.dir.path(), 0o755);
    user.own(env.dir.path());
    user.own(&env.db);
    env
}

/// Run `args` as the unprivileged user and require a refusal: exit 7, a
/// message that says read-only, nothing on stdout.
fn refused_read_only(user: &Unprivileged, env: &Env, args: &[&str]) {
    let out = user.run(env, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{args:?}: {err}");
    assert!(err.contains("readonly"), "{args:?}: {err}");
    assert!(stdout(&out).is_empty(), "{args:?}");
}

#[test]
fn a_read_only_store_file_refuses_writes_and_still_reads() {
    let user = Unprivileged::new();
    let env = owned_store(&user);
    set_mode(&env.db, 0o444);
    // No -wal exists, so the file's bytes are the whole store (a dump would
    // leave -wal and -shm files behind).
    let before = file_bytes(&env.db);
    // The folder is writable: SQLite makes the -shm index a reader needs.
    let out = user.run(&env, &["get", "c", "o:1", "-o", "value"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "7\n");
    refused_read_only(&user, &env, &["set", "c", "o:1", "9"]);
    refused_read_only(&user, &env, &["advance", "c", "o:1"]);
    refused_read_only(&user, &env, &["set", "d", "o:1", "1", "--create"]);
    assert_eq!(file_bytes(&env.db), before);
    // Once the fault is gone, the write works. (The reader made the -wal
    // and -shm files with the store's mode: they are part of the fault.)
    for file in listing(env.dir.path()) {
        set_mode(&env.dir.path().join(file), 0o644);
    }
    let out = user.run(&env, &["set", "c", "o:1", "9"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("c", "o:1"), Some(9));
}

#[test]
fn a_read_only_folder_refuses_writes_and_reads_while_the_store_is_open() {
    let user = Unprivileged::new();
    let env = owned_store(&user);
    let dir = env.dir.path();
    // No -wal exists, so the file's bytes are the whole store (a dump would
    // leave -wal and -shm files behind).
    let before = file_bytes(&env.db);
    // A read-only folder, the store itself writable, and no process has the
    // store open: SQLite can create neither the -wal a write needs nor the
    // -shm index every WAL reader needs. Both are refused; nothing is
    // created.
    set_mode(dir, 0o555);
    refused_read_only(&user, &env, &["set", "c", "o:1", "9"]);
    refused_read_only(&user, &env, &["advance", "c", "o:1"]);
    refused_read_only(&user, &env, &["get", "c", "o:1"]);
    assert_eq!(listing(dir), ["cursors.db"]);
    // The same folder while another process (this test) has the store open,
    // as a consumer would: its -wal and -shm exist, and the process can read
    // them but not write them. Reads work; writes are refused.
    set_mode(dir, 0o755);
    let holder = env.conn();
    holder
        .query_row("SELECT count(*) FROM cursors", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(
        listing(dir),
        ["cursors.db", "cursors.db-shm", "cursors.db-wal"]
    );
    for file in ["cursors.db-shm", "cursors.db-wal"] {
        set_mode(&dir.join(file), 0o444);
    }
    set_mode(dir, 0o555);
    let out = user.run(&env, &["get", "c", "o:1", "-o", "value"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "7\n");
    refused_read_only(&user, &env, &["set", "c", "o:1", "9"]);
    refused_read_only(&user, &env, &["advance", "c", "o:1"]);
    set_mode(dir, 0o755);
    drop(holder);
    assert_eq!(file_bytes(&env.db), before);
    // Once the fault is gone, the write works.
    let out = user.run(&env, &["set", "c", "o:1", "9"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("c", "o:1"), Some(9));
}

// ---- pipes --------------------------------------------------------------------

#[test]
fn closed_pipes_and_full_devices_end_cleanly() {
    let env = Env::new();
    env.conn()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
             INSERT INTO cursors (consumer, channel, partition, offset) SELECT 'c', 'o', i, i FROM n;",
        )
        .unwrap();
    let before = env.dump();
    for format in ["ndjson", "json", "tsv", "value", "table"] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -o pipefail; '{BIN}' get -o {format} | head -1"
            ))
            .env_clear()
            .env("CURSORCTL_DB", &env.db)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{format}: {}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 1);
    }
    assert_eq!(env.dump(), before, "listings leave the store untouched");
    let out = to_dev_full(&env, &["get", "-o", "ndjson"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("No space left"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(env.dump(), before);
    // A write whose change record cannot be printed is still committed and
    // says so.
    let out = to_dev_full(&env, &["advance", "c", "o:5"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(env.offset("c", "o:5"), Some(6));
}

/// Run with stdout on a device that is always full.
fn to_dev_full(env: &Env, args: &[&str]) -> std::process::Output {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    env.std_cmd().args(args).stdout(full).output().unwrap()
}

// ---- concurrent compare-and-swap history -----------------------------------------

#[derive(Debug, Clone)]
struct Op {
    start: u128,
    end: u128,
    expected: u64,
    code: i32,
}

#[test]
fn concurrent_read_then_set_expect_loses_no_update() {
    const WORKERS: usize = 8;
    const OPS: usize = 300;
    let env = Env::new();
    env.seed(&[("c", "o:0", 0)]);
    let db = Arc::new(env.db.clone());
    let t0 = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let db = Arc::clone(&db);
            thread::spawn(move || {
                let run = |args: &[&str]| {
                    Command::new(BIN)
                        .env_clear()
                        .env("CURSORCTL_DB", db.as_path())
                        .args(args)
                        .stdin(Stdio::null())
                        .output()
                        .unwrap()
                };
                let mut ops = Vec::with_capacity(OPS);
                for _ in 0..OPS {
                    let read = run(&["get", "c", "o:0", "-o", "value"]);
                    assert_eq!(read.status.code(), Some(0));
                    let expected: u64 = String::from_utf8_lossy(&read.stdout)
                        .trim()
                        .parse()
                        .unwrap();
                    let next = (expected + 1).to_string();
                    let exp = expected.to_string();
                    let start = t0.elapsed().as_micros();
                    let out = run(&[
                        "--busy-timeout",
                        "50ms",
                        "-q",
                        "set",
                        "c",
                        "o:0",
                        &next,
                        "--expect",
                        &exp,
                    ]);
                    let end = t0.elapsed().as_micros();
                    ops.push(Op {
                        start,
                        end,
                        expected,
                        code: out.status.code().unwrap_or(-1),
                    });
                }
                ops
            })
        })
        .collect();
    let ops: Vec<Op> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let ok: Vec<&Op> = ops.iter().filter(|o| o.code == 0).collect();
    let stale = ops.iter().filter(|o| o.code == 3).count();
    let busy = ops.iter().filter(|o| o.code == 6).count();
    // Every failure is stale or busy.
    for op in &ops {
        assert!(matches!(op.code, 0 | 3 | 6), "unexpected exit {}", op.code);
    }
    // Contention happened: many writes found the cursor moved between their
    // read and their write. Without it this test would prove nothing.
    assert!(
        stale >= ops.len() / 10,
        "only {stale} of {} operations were stale: the workers did not contend",
        ops.len()
    );
    // The successful expected values are all distinct, and are exactly
    // 0, 1, ..., n-1: each success moved the cursor by one from what it saw.
    let mut seen: Vec<u64> = ok.iter().map(|o| o.expected).collect();
    seen.sort_unstable();
    let n = ok.len() as u64;
    assert_eq!(
        seen,
        (0..n).collect::<Vec<_>>(),
        "a lost or duplicated update"
    );
    assert_eq!(env.offset("c", "o:0"), Some(n as i64));
    // Failures wrote nothing: one history row per success plus the creation.
    assert_eq!(env.history_len(), n as i64 + 1);
    // Real-time order: an operation that ended before another began has a
    // smaller expected value.
    let mut by_start = ok.clone();
    by_start.sort_by_key(|o| o.start);
    for (i, a) in by_start.iter().enumerate() {
        for b in &by_start[i + 1..] {
            if a.end < b.start {
                assert!(a.expected < b.expected, "{a:?} finished before {b:?} began");
            }
        }
    }
    eprintln!(
        "cas history: {} operations, {n} succeeded, {stale} stale, {busy} busy",
        ops.len(),
    );
}

// ---- the bad-input matrix: input lines of `set --from-file` ----------------------

const GOOD: &str = r#"{"consumer":"billing","partition_key":"orders:0","offset":2000}"#;

/// (second input line, exit code, what the message says). The first line is
/// always valid, so every message must name line 2.
fn line_cases() -> Vec<(Vec<u8>, i32, &'static str)> {
    let obj = |rest: &str| format!(r#"{{"consumer":"billing","partition_key":"orders:1",{rest}}}"#);
    let mut cases: Vec<(Vec<u8>, i32, &'static str)> = vec![
        (obj(r#""offset":"1050""#).into(), 2, "JSON number"),
        (obj(r#""offset":1050.5"#).into(), 2, "decimal"),
        (obj(r#""offset":-1"#).into(), 2, "negative"),
        (obj(r#""offset":1e3"#).into(), 2, "decimal"),
        (obj(r#""offset":9223372036854775808"#).into(), 2, "9223372036854775807"),
        (obj(r#""offset":null"#).into(), 2, "null"),
        (obj(r#""offset":true"#).into(), 2, "offset"),
        (obj(r#""offset":{"n":1}"#).into(), 2, "offset"),
        (obj(r#""offset":1050,"expect":"x""#).into(), 2, "JSON number"),
        (obj(r#""offset":1050,"expect":-3"#).into(), 2, "negative"),
        (obj(r#""nooffset":1"#).into(), 2, "unknown field \"nooffset\" (did you mean offset?)"),
        (obj(r#""expect":1"#).into(), 2, "offset is missing"),
        (r#"{"consumer":"billing","offset":1050}"#.into(), 2, "partition_key is missing"),
        (r#"{"partition_key":"orders:1","offset":1050}"#.into(), 2, "consumer"),
        (r#"{"consumer":5,"partition_key":"orders:1","offset":1050}"#.into(), 2, "consumer"),
        (r#"{"consumer":"bil ling","partition_key":"orders:1","offset":1050}"#.into(), 2, "whitespace"),
        (r#"{"consumer":"bil:ling","partition_key":"orders:1","offset":1050}"#.into(), 2, "':'"),
        (r#"{"consumer":"","partition_key":"orders:1","offset":1050}"#.into(), 2, "empty"),
        (r#"{"consumer":"billing","partition_key":"orders","offset":1050}"#.into(), 2, "CHANNEL:INDEX"),
        (r#"{"consumer":"billing","partition_key":"orders:01","offset":1050}"#.into(), 2, "leading zeros"),
        (r#"{"consumer":"billing","partition_key":"orders:4294967296","offset":1050}"#.into(), 2, "4294967295"),
        (r#"{"key":"billing:orders:9","consumer":"billing","partition_key":"orders:1","offset":1050}"#.into(), 2, "does not match"),
        (r#"{"consumer":"billing","partition_key":"orders:1","offset":1050"#.into(), 2, "EOF"),
        (r#"{"consumer":"billing","partition_key":"orders:1","offset":1050}}"#.into(), 2, "trailing"),
        (b"{\"consumer\":\"bil\x01ling\",\"partition_key\":\"orders:1\",\"offset\":1050}".to_vec(), 2, "control character"),
        (b"{\"consumer\":\"billing\",\"partition_key\":\"orders:1\",\"offset\":1050}\x00".to_vec(), 2, "trailing"),
        (b"{\"consumer\":\"bil\xffling\",\"partition_key\":\"orders:1\",\"offset\":1050}".to_vec(), 2, "not valid UTF-8 (at byte 17)"),
        ("[1, 2]".into(), 2, "line 2"),
        ("not json at all".into(), 2, "JSON"),
        (GOOD.into(), 2, "appears twice"),
        (obj(r#""offset":1000"#).into(), 4, "regression"),
        (obj(r#""offset":1050,"expect":7"#).into(), 3, "stale"),
        (r#"{"consumer":"ghost","partition_key":"orders:1","offset":1050}"#.into(), 5, "does not exist"),
    ];
    // A 1 MB consumer name.
    let huge = format!(
        r#"{{"consumer":"{}","partition_key":"orders:1","offset":1050}}"#,
        "x".repeat(1 << 20)
    );
    cases.push((huge.into(), 2, "255"));
    cases
}

/// (CSV input, the line the message names, exit code, what it says).
fn csv_cases() -> Vec<(&'static str, usize, i32, &'static str)> {
    let head = "consumer,partition_key,offset\n";
    let good = "billing,orders:0,2000\n";
    let with = |line: &str| -> &'static str {
        Box::leak(format!("{head}{good}{line}\n").into_boxed_str())
    };
    vec![
        (with("billing,orders:1"), 3, 2, "expected 3 fields"),
        (with("billing,orders:1,x"), 3, 2, "decimal"),
        (with("billing,orders:1,-1"), 3, 2, "negative"),
        (with("billing,orders:1,9223372036854775808"), 3, 2, "9223372036854775807"),
        (with("billing,orders:1,1,2"), 3, 2, "fields"),
        (with("bil:ling,orders:1,1050"), 3, 2, "':'"),
        (with("billing,orders:01,1050"), 3, 2, "leading zeros"),
        (with("billing,orders:1,1000"), 3, 4, "regression"),
        (with("\"billing,orders:1,1050"), 3, 2, "line 3"),
        ("consumer,partiton,offset\nbilling,orders:1,5\n", 1, 2, "unknown column"),
        (
            "consumer,partition,offset\nbilling,1,5\n",
            1,
            2,
            "partition_key columns (or key) are missing",
        ),
        ("consumer,partition_key\nbilling,orders:1\n", 1, 2, "offset"),
        (
            "consumer,partition_key,offset,expect\nbilling,orders:0,2000,1040\nbilling,orders:1,1050,abc\n",
            3,
            2,
            "decimal",
        ),
        (
            "consumer,partition_key,offset,expect\nbilling,orders:0,2000,1040\nbilling,orders:1,1050,7\n",
            3,
            3,
            "stale",
        ),
    ]
}

#[test]
fn bad_input_lines_are_refused_by_line_and_change_nothing() {
    let env = Env::new();
    env.seed(&[("billing", "orders:0", 1040), ("billing", "orders:1", 1042)]);
    let before = env.dump();
    let mut count = 0;
    for (line, code, says) in line_cases() {
        let mut input = format!("{GOOD}\n").into_bytes();
        input.extend_from_slice(&line);
        input.push(b'\n');
        for format in ["ndjson", "auto"] {
            let mut args = vec!["set", "--from-file", "-"];
            if format == "ndjson" {
                args.extend(["--input-format", "ndjson"]);
            }
            let out = env.run_stdin(&args, input.clone());
            let err = stderr(&out);
            let shown = String::from_utf8_lossy(&line)
                .chars()
                .take(80)
                .collect::<String>();
            assert_eq!(out.status.code(), Some(code), "{shown}: {err}");
            assert!(err.contains("line 2"), "{shown}: names the line: {err}");
            assert!(err.contains(says), "{shown}: should say {says:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(stdout(&out).is_empty(), "{shown}: printed data");
        }
        count += 1;
    }
    for (input, line, code, says) in csv_cases() {
        for format in ["csv", "auto"] {
            let mut args = vec!["set", "--from-file", "-"];
            if format == "csv" {
                args.extend(["--input-format", "csv"]);
            }
            let out = env.run_stdin(&args, input);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(code), "{input:?}: {err}");
            assert!(
                err.contains(&format!("line {line}")),
                "{input:?}: names line {line}: {err}"
            );
            assert!(err.contains(says), "{input:?}: should say {says:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(stdout(&out).is_empty(), "{input:?}: printed data");
        }
        count += 1;
    }
    assert_eq!(env.dump(), before);
    // CRLF line endings are fine, and a blank line is skipped.
    let crlf = format!(
        "{GOOD}\r\n\r\n{}\r\n",
        r#"{"consumer":"billing","partition_key":"orders:1","offset":1043}"#
    );
    env.run_stdin(&["set", "--from-file", "-", "-q"], crlf);
    assert_eq!(env.offset("billing", "orders:1"), Some(1043));
    assert_eq!(env.offset("billing", "orders:0"), Some(2000));
    eprintln!("input-line cases: {count}");
}

// ---- offsets across the whole range, end to end ------------------------------

/// Offsets where a 32-bit integer or a double would lose the value, and the
/// limit, written through every input and read back exactly, as stored and
/// as printed.
#[test]
fn offsets_across_the_whole_range_are_stored_and_printed_exactly() {
    const EDGES: [i64; 5] = [
        (1 << 31) + 1,
        (1 << 32) + 1,
        (1 << 53) + 1,
        i64::MAX - 1,
        i64::MAX,
    ];
    let env = Env::new();
    env.seed(&[
        ("c", "args:0", 0),
        ("c", "ndjson:0", 0),
        ("c", "csv:0", 0),
        ("c", "adv:0", 0),
    ]);
    for v in EDGES {
        let text = v.to_string();
        env.ok(&["set", "c", "args:0", &text, "-q"]);
        env.run_stdin(
            &["set", "--from-file", "-", "-q"],
            format!("{{\"consumer\":\"c\",\"partition_key\":\"ndjson:0\",\"offset\":{v}}}\n"),
        );
        env.run_stdin(
            &["set", "--from-file", "-", "-q", "--input-format", "csv"],
            format!("consumer,partition_key,offset\nc,csv:0,{v}\n"),
        );
        env.ok(&["advance", "c", "adv:0", "--to", &text, "-q"]);
        for pk in ["args:0", "ndjson:0", "csv:0", "adv:0"] {
            assert_eq!(env.offset("c", pk), Some(v), "{pk}");
            assert_eq!(
                env.ok(&["get", "c", pk, "-o", "value"]),
                format!("{v}\n"),
                "{pk}"
            );
            let json = env.ok(&["get", "c", pk, "-o", "ndjson"]);
            assert!(json.contains(&format!("\"offset\":{v},")), "{pk}: {json}");
        }
    }
    // One past the limit is refused by every input, and nothing changes.
    let before = env.dump();
    let over = "9223372036854775808";
    env.fails(2, &["set", "c", "args:0", over]);
    env.fails(2, &["advance", "c", "adv:0", "--to", over]);
    env.fails(2, &["advance", "c", "adv:0", "--by", "1"]);
    let out = env.run_stdin(
        &["set", "--from-file", "-"],
        format!("{{\"consumer\":\"c\",\"partition_key\":\"ndjson:0\",\"offset\":{over}}}\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = env.run_stdin(
        &["set", "--from-file", "-", "--input-format", "csv"],
        format!("consumer,partition_key,offset\nc,csv:0,{over}\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(env.dump(), before);
}

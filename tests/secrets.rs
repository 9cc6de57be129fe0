//! Locations and secrets: how a location is read (a libpq string, a URL, a
//! path), what is refused and with which exit code, that no password ever
//! shows, the password file, several hosts, a server that is not
//! PostgreSQL, and the server's own timeouts and cancels. Most cases need
//! no PostgreSQL server (they talk to a port where nothing listens, or to
//! a small fake server in the test); those that use the test server skip
//! where it is not reachable.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::common::{pg_admin, pg_available, pg_url, Backend, Env, BIN};

/// The binary in `dir` with a clean environment (`HOME` is `dir`, so no
/// password file of this machine is read) and `env` added.
fn run_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(BIN)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .env("HOME", dir)
        .envs(env.iter().copied())
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cursorctl")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A port on 127.0.0.1 where nothing listens.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The names of what `dir` holds.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Read what a client sends until it pauses.
fn drain(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

/// A server that is not PostgreSQL: it reads the request, answers
/// `HTTP/1.0 400 Bad Request` and closes, as a web server does.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            drain(&mut stream);
            let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    port
}

fn read_u32(stream: &mut TcpStream) -> Option<u32> {
    let mut buf = [0; 4];
    stream.read_exact(&mut buf).ok()?;
    Some(u32::from_be_bytes(buf))
}

/// A fake PostgreSQL server that asks every client for a password in
/// clear text, reports each password it is sent, and then refuses the
/// login (`28P01`). A client that has no password to send closes the
/// connection, and nothing is reported.
fn password_server() -> (u16, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let sender = sender.clone();
            let mut serve = || -> Option<()> {
                // The start-up packet, after an SSLRequest answered "no".
                let mut len = read_u32(&mut stream)?;
                let code = read_u32(&mut stream)?;
                if code == 80_877_103 {
                    stream.write_all(b"N").ok()?;
                    len = read_u32(&mut stream)?;
                    read_u32(&mut stream)?;
                }
                let mut rest = vec![0; len as usize - 8];
                stream.read_exact(&mut rest).ok()?;
                // AuthenticationCleartextPassword.
                stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).ok()?;
                let mut kind = [0; 1];
                stream.read_exact(&mut kind).ok()?;
                let len = read_u32(&mut stream)?;
                let mut body = vec![0; len as usize - 4];
                stream.read_exact(&mut body).ok()?;
                let password = String::from_utf8_lossy(&body)
                    .trim_end_matches('\0')
                    .to_owned();
                let _ = sender.send(password);
                let mut fields = Vec::new();
                for (tag, text) in [
                    (b'S', "FATAL"),
                    (b'V', "FATAL"),
                    (b'C', "28P01"),
                    (b'M', "password authentication failed for user \"u\""),
                ] {
                    fields.push(tag);
                    fields.extend_from_slice(text.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                let mut message = vec![b'E'];
                message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
                message.extend_from_slice(&fields);
                stream.write_all(&message).ok()
            };
            let _ = serve();
        }
    });
    (port, receiver)
}

/// The password the fake server was sent, if one came within a while.
fn sent(passwords: &Receiver<String>) -> Option<String> {
    passwords.recv_timeout(Duration::from_secs(5)).ok()
}

/// A malformed libpq connection string (an unterminated quote, a keyword
/// in upper case, a word with no `=`) is an invalid PostgreSQL location,
/// exit 2, from `--db` and from `CURSORCTL_DB`: no file is created, nothing
/// is connected to, and no password shows, whatever its keyword's case.
#[test]
fn malformed_connection_strings_are_usage_errors_that_create_nothing() {
    for location in [
        "host=127.0.0.1 password='Hunter2 dbname=x",
        "Host=127.0.0.1 password=Hunter2 dbname=x",
        "host=127.0.0.1 PASSWORD=Hunter2 dbname=x",
        "PASSWORD=Hunter2 host=127.0.0.1",
        "host=127.0.0.1 PassWord = 'Hunter2 x' Dbname=x",
        "host=127.0.0.1 password=Hunter2 Hunter2 dbname=x",
        "host=127.0.0.1 sslpassword=Hunter2 dbname=x",
    ] {
        for args in [
            &["init"][..],
            &["get"],
            &["advance", "c", "p:0", "--create"],
        ] {
            for by_variable in [false, true] {
                let dir = tempfile::tempdir().unwrap();
                let out = if by_variable {
                    run_in(dir.path(), &[("CURSORCTL_DB", location)], args)
                } else {
                    let mut all = vec!["--db", location];
                    all.extend_from_slice(args);
                    run_in(dir.path(), &[], &all)
                };
                let err = stderr(&out);
                assert_eq!(out.status.code(), Some(2), "{location} {args:?}: {err}");
                assert!(err.contains("invalid store location"), "{location}: {err}");
                assert!(!err.contains("Hunter2"), "{location}: {err}");
                assert!(out.stdout.is_empty());
                assert_eq!(entries(dir.path()), Vec::<String>::new(), "{location}");
            }
        }
    }
    // With JSON errors too.
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[],
        &["--db", "host=x PASSWORD='Hunter2", "get", "-o", "json"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("\"kind\":\"usage\""), "{err}");
    assert!(!err.contains("Hunter2"), "{err}");
}

/// An unencoded `@` in a URL's password is part of the password (the last
/// `@` before the host separates the user information): the host
/// connected to is the real one, the server is sent the whole password,
/// and no part of it shows.
#[test]
fn an_unencoded_at_in_a_password_stays_in_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = dead_port();
    let out = run_in(
        dir.path(),
        &[],
        &[
            "--db",
            &format!("postgres://u:Hunter2@SECRET@127.0.0.1:{port}/db?connect_timeout=5"),
            "get",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}/db")), "{err}");
    assert!(!err.contains("Hunter2") && !err.contains("SECRET"), "{err}");
    let (port, passwords) = password_server();
    let out = run_in(
        dir.path(),
        &[],
        &[
            "--db",
            &format!("postgres://u:Hunter2@SECRET@127.0.0.1:{port}/db?sslmode=disable"),
            "get",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert_eq!(sent(&passwords).as_deref(), Some("Hunter2@SECRET"));
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("Hunter2") && !err.contains("SECRET"), "{err}");
}

/// The password file, as libpq reads it: `~/.pgpass`, or `PGPASSFILE`, or
/// `passfile=` in the location; the first line matching host, port,
/// database and user (`*` matching anything, `\:` a colon) gives the
/// password; a password in the location or `PGPASSWORD` comes first; a
/// file its group or others may read is ignored, and the error says so.
#[test]
fn the_password_file_gives_the_password_as_libpq_reads_it() {
    let (port, passwords) = password_server();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let write = |path: &Path, text: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    write(
        &home.join(".pgpass"),
        &format!(
            "# host:port:database:user:password\n\
             127.0.0.1:{port}:other:u:wrong-database\n\
             127.0.0.1:{port}:db:someone:wrong-user\n\
             127.0.0.1:{port}:db:u:from\\:home\n\
             *:*:*:*:too-late\n"
        ),
        0o600,
    );
    let url = format!("postgres://u@127.0.0.1:{port}/db?sslmode=disable");
    let get = |env: &[(&str, &str)], url: &str| {
        let out = run_in(home, env, &["--db", url, "get"]);
        assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
        out
    };
    get(&[], &url);
    assert_eq!(sent(&passwords).as_deref(), Some("from:home"));
    let elsewhere = home.join("elsewhere");
    write(&elsewhere, "*:*:db:u:from-variable\n", 0o600);
    let elsewhere = elsewhere.to_str().unwrap();
    get(&[("PGPASSFILE", elsewhere)], &url);
    assert_eq!(sent(&passwords).as_deref(), Some("from-variable"));
    let named = home.join("named");
    write(
        &named,
        &format!("127.0.0.1:{port}:*:u:from-location\n"),
        0o600,
    );
    get(
        &[("PGPASSFILE", elsewhere)],
        &format!("{url}&passfile={}", named.display()),
    );
    assert_eq!(sent(&passwords).as_deref(), Some("from-location"));
    get(&[("PGPASSWORD", "from-pgpassword")], &url);
    assert_eq!(sent(&passwords).as_deref(), Some("from-pgpassword"));
    get(
        &[("PGPASSWORD", "from-pgpassword")],
        &format!("postgres://u:in-url@127.0.0.1:{port}/db?sslmode=disable"),
    );
    assert_eq!(sent(&passwords).as_deref(), Some("in-url"));
    // The same in a key=value string, the host matched as named.
    get(
        &[],
        &format!("host=127.0.0.1 port={port} user=u dbname=db sslmode=disable"),
    );
    assert_eq!(sent(&passwords).as_deref(), Some("from:home"));
    // Readable by others: ignored, and the error says why no password was
    // sent, never what the file holds.
    write(
        &home.join(".pgpass"),
        &format!("127.0.0.1:{port}:db:u:from\\:home\n"),
        0o644,
    );
    let out = get(&[], &url);
    // The server reports a password before it answers the login, and the
    // command has ended: nothing more can come.
    assert_eq!(
        passwords.try_recv().ok(),
        None,
        "a group-readable file was read"
    );
    let err = stderr(&out);
    assert!(err.contains("asks for a password"), "{err}");
    assert!(err.contains("group or world access"), "{err}");
    assert!(err.contains(".pgpass"), "{err}");
    assert!(
        !err.contains("from:home") && !err.contains("from\\:home"),
        "{err}"
    );
}

/// Bad arguments inside a location are usage errors (exit 2), before
/// anything is connected to or created: an invalid schema name, a schema
/// given twice, an empty location, SQLite's `:memory:`, a name of only
/// white space.
#[test]
fn bad_arguments_in_a_location_are_usage_errors() {
    let port = dead_port();
    let base = format!("postgres://u:Hunter2@127.0.0.1:{port}/db");
    for (location, expected) in [
        (format!("{base}?schema=Bad-Name"), "invalid schema name"),
        (format!("{base}?schema="), "invalid schema name"),
        (
            format!("{base}?schema=a&schema=b"),
            "\"schema\" is given twice",
        ),
        (
            format!("host=127.0.0.1 port={port} password=Hunter2 schema=a schema=b"),
            "\"schema\" is given twice",
        ),
        (
            format!("{base}?sslmode=verify"),
            "invalid sslmode \"verify\"",
        ),
        (format!("{base}?colour=red"), "invalid connection option"),
        (format!("{base}?schema"), "has no \"=\""),
        ("service=prod".to_owned(), "service files"),
        (String::new(), "the store's name is empty"),
        ("   ".to_owned(), "only white space"),
        (
            ":memory:".to_owned(),
            ":memory: is SQLite's in-memory database",
        ),
    ] {
        for command in ["init", "get"] {
            let dir = tempfile::tempdir().unwrap();
            let out = run_in(dir.path(), &[], &["--db", &location, command]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{location:?} {command}: {err}");
            assert!(err.contains(expected), "{location:?}: {err}");
            assert!(!err.contains("Hunter2"), "{err}");
            assert_eq!(entries(dir.path()), Vec::<String>::new(), "{location:?}");
        }
    }
    // From the variable too (an empty one is no location: the default).
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &[("CURSORCTL_DB", "  ")], &["init"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

/// A server that is not PostgreSQL (a web server on the port) is named so,
/// exit 7, whether TLS is asked for first or not.
#[test]
fn a_server_that_is_not_postgres_is_named_so() {
    let port = http_server();
    let dir = tempfile::tempdir().unwrap();
    for mode in ["disable", "prefer"] {
        let out = run_in(
            dir.path(),
            &[],
            &[
                "--db",
                &format!("postgres://u:Hunter2@127.0.0.1:{port}/db?sslmode={mode}"),
                "get",
            ],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{mode}: {err}");
        assert!(err.contains("not a PostgreSQL server"), "{mode}: {err}");
        assert!(err.contains(&format!("127.0.0.1:{port}/db")), "{err}");
        assert!(!err.contains("Hunter2"), "{err}");
    }
}

/// With several hosts, each one tried is named with why it failed, in
/// URLs and in `key=value` strings.
#[test]
fn with_several_hosts_each_failure_is_named() {
    let dead = dead_port();
    let http = http_server();
    let dir = tempfile::tempdir().unwrap();
    for location in [
        format!("postgres://u:Hunter2@127.0.0.1:{dead},127.0.0.1:{http}/db?sslmode=disable"),
        format!(
            "host=127.0.0.1,127.0.0.1 port={dead},{http} user=u password=Hunter2 dbname=db sslmode=disable"
        ),
    ] {
        let out = run_in(dir.path(), &[], &["--db", &location, "get"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{err}");
        assert!(err.contains("2 tried"), "{err}");
        let dead_at = err.find(&format!("127.0.0.1:{dead}: ")).expect(&err);
        let http_at = err.find(&format!("127.0.0.1:{http}: ")).expect(&err);
        assert!(dead_at < http_at, "{err}");
        assert!(err[dead_at..http_at].contains("refused"), "{err}");
        assert!(err[http_at..].contains("not a PostgreSQL server"), "{err}");
        assert!(!err.contains("Hunter2"), "{err}");
    }
}

/// An IPv6 address is shown in brackets, as a URL has it.
#[test]
fn ipv6_hosts_are_shown_in_brackets() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[("PGCONNECT_TIMEOUT", "2")],
        &["--db", "postgres://u:Hunter2@[::1]:1/db", "get"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("[::1]:1/db"), "{err}");
    assert!(!err.contains("Hunter2"), "{err}");
}

/// The test server's host, port, user and database.
fn server_parts() -> (String, u16, String, String) {
    let config: ::postgres::Config = pg_url().parse().unwrap();
    let host = match &config.get_hosts()[0] {
        ::postgres::config::Host::Tcp(h) => h.clone(),
        ::postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    (
        host,
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_user().unwrap_or("postgres").to_owned(),
        config.get_dbname().unwrap_or("test").to_owned(),
    )
}

/// A location of only `postgres://` takes host, port, user and database
/// from the `PG*` variables; messages and `init`'s record show those, as a
/// URL with the schema, not `postgres://`.
#[test]
fn pg_variables_show_as_the_server_and_database_used() {
    if !pg_available() {
        return;
    }
    let env = Env::empty_on(Backend::Postgres);
    let schema = env.pg_schema().unwrap().to_owned();
    let (host, port, user, dbname) = server_parts();
    let port = port.to_string();
    let vars = [
        ("CURSORCTL_DB", "postgres://"),
        ("PGHOST", host.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", user.as_str()),
        ("PGDATABASE", dbname.as_str()),
        ("CURSORCTL_PG_SCHEMA", schema.as_str()),
    ];
    let shown = format!("postgres://{user}@{host}:{port}/{dbname}?schema={schema}");
    let out = run_in(env.dir.path(), &vars, &["get"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains(&format!("no cursor store at {shown}")),
        "{err}"
    );
    let out = run_in(env.dir.path(), &vars, &["init", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["path"], shown.as_str(), "{record}");
}

/// With several hosts, the first that accepts is used: a dead first host
/// does not stop the command.
#[test]
fn a_later_host_serves_when_the_first_is_down() {
    if !pg_available() {
        return;
    }
    let env = Env::on(Backend::Postgres);
    let schema = env.pg_schema().unwrap();
    let (host, port, user, dbname) = server_parts();
    let dead = dead_port();
    let location =
        format!("postgres://{user}@127.0.0.1:{dead},{host}:{port}/{dbname}?schema={schema}");
    let dir = env.dir.path();
    let out = run_in(
        dir,
        &[],
        &["--db", &location, "set", "c", "p:0", "7", "--create", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.offset("c", "p:0"), Some(7));
}

/// Hold a row lock on cursor `c p:0` of `env`'s store in another session
/// until the returned client's transaction ends (it is dropped).
fn hold_row_lock(env: &Env) -> ::postgres::Client {
    let mut holder = pg_admin();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT * FROM {}.cursors WHERE consumer = 'c' FOR UPDATE",
            env.pg_schema().unwrap()
        ))
        .unwrap();
    holder
}

/// A lock wait ended by the server's `statement_timeout` (set for the
/// role, the database or, here, in the location's `options`) is busy,
/// exit 6, as one ended by `--busy-timeout`, and writes nothing.
#[test]
fn a_lock_wait_ended_by_the_statement_timeout_is_busy() {
    if !pg_available() {
        return;
    }
    let env = Env::on(Backend::Postgres);
    env.ok(&["set", "c", "p:0", "5", "--create", "-q"]);
    let before = env.dump();
    let holder = hold_row_lock(&env);
    let location = format!(
        "{}&options=-c%20statement_timeout%3D300",
        env.db_arg().to_str().unwrap()
    );
    let started = Instant::now();
    let out = run_in(
        env.dir.path(),
        &[],
        &[
            "--db",
            &location,
            "--busy-timeout",
            "60s",
            "advance",
            "c",
            "p:0",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("busy"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(holder);
    assert_eq!(env.dump(), before);
}

/// A statement cancelled on the server (an administrator's
/// `pg_cancel_backend`) is exit 7 saying it was cancelled, and writes
/// nothing.
#[test]
fn a_statement_cancelled_by_an_administrator_says_so() {
    if !pg_available() {
        return;
    }
    let env = Env::on(Backend::Postgres);
    env.ok(&["set", "c", "p:0", "5", "--create", "-q"]);
    let before = env.dump();
    let holder = hold_row_lock(&env);
    let app = format!("cancelled_{}", env.pg_schema().unwrap());
    let location = format!("{}&application_name={app}", env.db_arg().to_str().unwrap());
    let child = Command::new(BIN)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .current_dir(env.dir.path())
        .args([
            "--db",
            &location,
            "--busy-timeout",
            "60s",
            "advance",
            "c",
            "p:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut admin = pg_admin();
    let started = Instant::now();
    loop {
        let cancelled: Option<bool> = admin
            .query_opt(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock'",
                &[&app],
            )
            .unwrap()
            .map(|row| row.get(0));
        if cancelled == Some(true) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the write never waited for the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("cancelled"), "{err}");
    assert!(err.contains("pg_cancel_backend"), "{err}");
    drop(holder);
    assert_eq!(env.dump(), before);
}

/// A role without `USAGE` on the store's schema is told "permission
/// denied" (exit 7), not that the schema belongs to another application.
#[test]
fn a_role_without_usage_on_the_schema_is_permission_denied() {
    if !pg_available() {
        return;
    }
    let env = Env::on(Backend::Postgres);
    env.ok(&["set", "c", "p:0", "5", "--create", "-q"]);
    let before = env.dump();
    let schema = env.pg_schema().unwrap();
    let role = format!("{schema}_nousage");
    let mut admin = pg_admin();
    admin
        .batch_execute(&format!("CREATE ROLE {role} LOGIN"))
        .unwrap();
    struct DropRole(String);
    impl Drop for DropRole {
        fn drop(&mut self) {
            let _ = pg_admin().batch_execute(&format!("DROP ROLE IF EXISTS {}", self.0));
        }
    }
    let _role = DropRole(role.clone());
    let (host, port, _, dbname) = server_parts();
    let location = format!("postgres://{role}@{host}:{port}/{dbname}?schema={schema}");
    for args in [&["get"][..], &["advance", "c", "p:0"], &["init"]] {
        let mut all = vec!["--db", location.as_str()];
        all.extend_from_slice(args);
        let out = run_in(env.dir.path(), &[], &all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{args:?}: {err}");
        assert!(err.contains("permission denied"), "{args:?}: {err}");
        assert!(err.contains("no USAGE"), "{err}");
        assert!(!err.contains("another application"), "{err}");
    }
    assert_eq!(env.dump(), before);
}

//! Connecting: the location read as libpq reads it (`conninfo.rs`), the
//! standard `PG*` variables as fallbacks, the password file, one attempt
//! per host named, per-session settings, and what a failure says.

use std::fmt::Write as _;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, NoTls, Row};
use tokio_postgres::Config;

use crate::error::{StoreError, StoreErrorKind};

use super::tls::{self, SslMode};

pub(super) use super::target::{target, HostTarget, SessionAttrs, Target};
pub use super::target::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_SCHEMA};

/// Put `items` in a random order (`load_balance_hosts=random`).
pub(super) fn shuffle<T>(items: &mut [T]) {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    for i in (1..items.len()).rev() {
        let mut hasher = state.build_hasher();
        hasher.write_usize(i);
        let j = usize::try_from(hasher.finish() % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
}

/// Connect to the first host that accepts, trying each in turn, or say why
/// not: for each host tried, which one and why it failed, never a
/// password. With `sslmode=disable` nothing of TLS is set up.
pub(super) fn connect(target: &Target) -> Result<Client, StoreError> {
    connect_as(target, target.attrs, target.check_attrs)
}

/// [`connect`] to a server of `attrs`, checked on each server when `check`.
pub(super) fn connect_as(
    target: &Target,
    attrs: SessionAttrs,
    check: bool,
) -> Result<Client, StoreError> {
    let context = || format!("connecting to PostgreSQL at {}", target.describe);
    let failed = |kind: StoreErrorKind, source: String| StoreError::Database {
        context: context(),
        kind,
        source: source.into(),
    };
    let connector = if target.tls.mode == SslMode::Disable {
        None
    } else {
        Some(
            target
                .tls
                .connector()
                .map_err(|e| failed(StoreErrorKind::Connection, e))?,
        )
    };
    let mut failures: Vec<(String, StoreError)> = Vec::new();
    // prefer-standby: a standby first, then any server.
    let passes: &[SessionAttrs] = match attrs {
        SessionAttrs::PreferStandby if check => &[SessionAttrs::Standby, SessionAttrs::Any],
        _ => &[attrs],
    };
    for (pass, wanted) in passes.iter().enumerate() {
        for host in &target.hosts {
            let mut client = match connect_host(host, connector.clone(), &target.tls) {
                Ok(client) => client,
                Err(e) => {
                    if pass == 0 {
                        failures.push((host.name.clone(), e));
                    }
                    continue;
                }
            };
            if !check || *wanted == SessionAttrs::Any {
                return Ok(client);
            }
            match session_mismatch(&mut client, *wanted, target.read_only_session) {
                Ok(None) => return Ok(client),
                Ok(Some(why)) => failures.push((
                    host.name.clone(),
                    StoreError::Database {
                        context: String::new(),
                        kind: if *wanted == SessionAttrs::ReadWrite {
                            StoreErrorKind::ReadOnly
                        } else {
                            StoreErrorKind::Connection
                        },
                        source: why.into(),
                    },
                )),
                Err(e) => failures.push((host.name.clone(), pg_error("", e))),
            }
        }
    }
    let detail = |e: &StoreError| match e {
        StoreError::Database { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    match failures.as_slice() {
        [] => Err(failed(
            StoreErrorKind::Connection,
            "no host to connect to".to_owned(),
        )),
        [(_, only)] => Err(failed(only.kind(), detail(only))),
        [.., (_, last)] => {
            let each: Vec<String> = failures
                .iter()
                .map(|(host, e)| format!("{host}: {}", detail(e)))
                .collect();
            Err(failed(
                last.kind(),
                format!(
                    "no host accepted the connection ({} tried): {}",
                    failures.len(),
                    each.join("; ")
                ),
            ))
        }
    }
}

/// Why a connected server does not have the session attributes
/// `wanted`, or `None` when it has them. Asked in one round trip: whether
/// the server is in recovery (a standby) and whether its sessions are
/// read-only.
fn session_mismatch(
    client: &mut Client,
    wanted: SessionAttrs,
    read_only_session: bool,
) -> Result<Option<String>, postgres::Error> {
    let rows = client.simple_query(
        "SELECT pg_is_in_recovery()::text, current_setting('transaction_read_only')",
    )?;
    let Some(row) = rows.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(r) => Some(r),
        _ => None,
    }) else {
        return Ok(Some(
            "the server did not say whether it is a standby".to_owned(),
        ));
    };
    let in_recovery = row.get(0) == Some("true");
    // cursorctl's read-only sessions are read-only everywhere: there, only
    // recovery tells a server that does not accept writes.
    let read_only = in_recovery || (!read_only_session && row.get(1) == Some("on"));
    let attrs = wanted.name();
    Ok(match wanted {
        SessionAttrs::ReadWrite if read_only => Some(format!(
            "the server is read-only ({}), and target_session_attrs={attrs} asks for one that accepts writes",
            if in_recovery { "a standby, in recovery" } else { "its sessions are read-only: default_transaction_read_only is on" }
        )),
        SessionAttrs::ReadOnly if !read_only => Some(format!(
            "the server accepts writes, and target_session_attrs={attrs} asks for a read-only one"
        )),
        SessionAttrs::Primary if in_recovery => Some(format!(
            "the server is a standby (in recovery), and target_session_attrs={attrs} asks for a primary"
        )),
        SessionAttrs::Standby if !in_recovery => Some(format!(
            "the server is not a standby (not in recovery), and target_session_attrs={attrs} asks for one"
        )),
        _ => None,
    })
}

/// One host: connect, or say why not (the error's source is the reason,
/// its context unused).
fn connect_host(
    host: &HostTarget,
    connector: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    tls: &tls::Settings,
) -> Result<Client, StoreError> {
    let failed = |kind: StoreErrorKind, source: String| StoreError::Database {
        context: String::new(),
        kind,
        source: source.into(),
    };
    // The crate bounds the TCP connect by the connect timeout, not the
    // start-up and login after it: a server or a proxy that accepts and
    // never answers would hold them forever. So the attempt runs on a
    // thread of its own, waited for up to the connect timeout. One given
    // up on ends when the server answers (its connection is then closed)
    // or the connection fails, or with the process.
    let limit = connect_limit(&host.config);
    let config = host.config.clone();
    let (sender, receiver) = mpsc::sync_channel(1);
    let attempt = std::thread::Builder::new()
        .name("cursorctl-connect".to_owned())
        .spawn(move || {
            let config = postgres::Config::from(config);
            let result = match connector {
                None => config.connect(NoTls),
                Some(connector) => config.connect(connector),
            };
            let _ = sender.send(result);
        })
        .map_err(|e| {
            failed(
                StoreErrorKind::Connection,
                format!("cannot start the connection attempt: {e}"),
            )
        })?;
    match receiver.recv_timeout(limit) {
        Ok(result) => {
            let _ = attempt.join();
            result.map_err(|e| {
                if let Some(problem) = tls.certificate_problem(&e) {
                    return failed(StoreErrorKind::Connection, problem);
                }
                if let Some(why) = not_postgres(&e) {
                    return failed(StoreErrorKind::Connection, why);
                }
                if e.as_db_error().is_none() && e.to_string().contains("invalid configuration")
                    && std::error::Error::source(&e)
                        .is_some_and(|c| c.to_string().contains("password missing"))
                {
                    let mut why = "the server asks for a password, and none was given (in the location, PGPASSWORD or a password file)".to_owned();
                    if let Some(ignored) = &host.passfile_ignored {
                        let _ = write!(why, "; the {ignored}");
                    }
                    return failed(StoreErrorKind::Connection, why);
                }
                match pg_error("", e) {
                    StoreError::Database { kind, source, .. } => {
                        let mut why = source.to_string();
                        if let Some(ignored) = &host.passfile_ignored {
                            let _ = write!(why, " (the {ignored})");
                        }
                        failed(kind, why)
                    }
                    other => other,
                }
            })
        }
        Err(RecvTimeoutError::Timeout) => Err(failed(
            StoreErrorKind::Connection,
            format!(
                "no answer from the server within the connect timeout ({})",
                humantime::format_duration(limit)
            ),
        )),
        Err(RecvTimeoutError::Disconnected) => Err(failed(
            StoreErrorKind::Connection,
            "the connection attempt failed".to_owned(),
        )),
    }
}

/// Whether this thread runs inside a tokio runtime (a worker, a
/// `block_on`, a `spawn_blocking` thread): the `postgres` crate's client
/// runs its own runtime, which cannot be started there.
pub(super) fn inside_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// The connection of a [`PostgresStore`](super::PostgresStore): the
/// `postgres` crate's client, whose calls run on a thread of their own
/// when made inside a tokio runtime (where the client's own runtime could
/// not start), and which is closed on such a thread when dropped there.
/// Outside a runtime every call runs on the caller's thread.
pub(super) struct Conn(Option<Client>);

type PgResult<T> = Result<T, postgres::Error>;

impl Conn {
    pub(super) const fn new(client: Client) -> Self {
        Self(Some(client))
    }

    /// Run `f` with the client, off any tokio runtime.
    pub(super) fn run<T: Send>(&mut self, f: impl FnOnce(&mut Client) -> T + Send) -> T {
        let Some(client) = self.0.as_mut() else {
            unreachable!("a connection holds its client until dropped")
        };
        if !inside_runtime() {
            return f(client);
        }
        std::thread::scope(|scope| {
            match std::thread::Builder::new()
                .name("cursorctl-postgres".to_owned())
                .spawn_scoped(scope, move || f(client))
            {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(e) => panic!("cannot start a thread for a PostgreSQL call: {e}"),
            }
        })
    }

    /// Put a new client in place of the old one (a reconnection).
    pub(super) fn replace(&mut self, client: Client) {
        if let Some(old) = self.0.replace(client) {
            close(old);
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.0.as_ref().is_none_or(Client::is_closed)
    }

    pub(super) fn batch_execute(&mut self, query: &str) -> PgResult<()> {
        self.run(|c| c.batch_execute(query))
    }

    pub(super) fn prepare_typed(
        &mut self,
        query: &str,
        types: &[postgres::types::Type],
    ) -> PgResult<postgres::Statement> {
        self.run(|c| c.prepare_typed(query, types))
    }

    pub(super) fn execute<T>(&mut self, query: &T, params: &Params<'_>) -> PgResult<u64>
    where
        T: ?Sized + postgres::ToStatement + Sync,
    {
        self.run(|c| c.execute(query, params))
    }

    pub(super) fn query<T>(&mut self, query: &T, params: &Params<'_>) -> PgResult<Vec<Row>>
    where
        T: ?Sized + postgres::ToStatement + Sync,
    {
        self.run(|c| c.query(query, params))
    }

    pub(super) fn query_one<T>(&mut self, query: &T, params: &Params<'_>) -> PgResult<Row>
    where
        T: ?Sized + postgres::ToStatement + Sync,
    {
        self.run(|c| c.query_one(query, params))
    }

    pub(super) fn query_opt<T>(&mut self, query: &T, params: &Params<'_>) -> PgResult<Option<Row>>
    where
        T: ?Sized + postgres::ToStatement + Sync,
    {
        self.run(|c| c.query_opt(query, params))
    }

    pub(super) fn execute_typed(&mut self, query: &str, params: &TypedParams<'_>) -> PgResult<u64> {
        self.run(|c| c.execute_typed(query, params))
    }

    pub(super) fn query_typed(
        &mut self,
        query: &str,
        params: &TypedParams<'_>,
    ) -> PgResult<Vec<Row>> {
        self.run(|c| c.query_typed(query, params))
    }

    pub(super) fn query_typed_one(
        &mut self,
        query: &str,
        params: &TypedParams<'_>,
    ) -> PgResult<Row> {
        self.run(|c| c.query_typed_one(query, params))
    }

    pub(super) fn query_typed_opt(
        &mut self,
        query: &str,
        params: &TypedParams<'_>,
    ) -> PgResult<Option<Row>> {
        self.run(|c| c.query_typed_opt(query, params))
    }
}

type Params<'p> = [&'p (dyn postgres::types::ToSql + Sync)];
type TypedParams<'p> = [(
    &'p (dyn postgres::types::ToSql + Sync),
    postgres::types::Type,
)];

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            close(client);
        }
    }
}

/// Close a client: here, or on a thread of its own inside a tokio runtime
/// (closing runs the client's own runtime). Should no thread start, the
/// client is left unclosed (the server ends its session when the socket
/// is closed with the process) rather than closed where it would panic.
fn close(client: Client) {
    if !inside_runtime() {
        drop(client);
        return;
    }
    let (sender, receiver) = mpsc::sync_channel::<Client>(1);
    let started = std::thread::Builder::new()
        .name("cursorctl-close".to_owned())
        .spawn(move || drop(receiver.recv()));
    if started.is_ok() {
        if let Err(mpsc::SendError(client)) = sender.send(client) {
            std::mem::forget(client);
        }
    } else {
        std::mem::forget(client);
    }
}

/// What to say when the server did not answer the start-up as PostgreSQL
/// does (an HTTP server, a proxy of something else on the port), as psql
/// says it; `None` for any other failure. Called only for failures of a
/// connection attempt, so an I/O error here happened once the TCP
/// connection was made, during the start-up.
fn not_postgres(e: &postgres::Error) -> Option<String> {
    if e.as_db_error().is_some() {
        return None;
    }
    let text = e.to_string();
    let io = std::error::Error::source(e).and_then(|c| c.downcast_ref::<std::io::Error>());
    let cause = std::error::Error::source(e).map_or_else(|| text.clone(), ToString::to_string);
    let garbled = text == "unexpected message from server"
        || text == "error parsing response from server"
        || cause == "bytes remaining on stream";
    if garbled {
        return Some(format!(
            "the server is not a PostgreSQL server: it answered the start-up with something PostgreSQL never sends ({cause})"
        ));
    }
    let ended = e.is_closed()
        || (text == "error communicating with the server"
            && io.is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::ConnectionAborted
                )
            }));
    ended.then(|| {
        format!(
            "the server ended the connection during the start-up, before any PostgreSQL answer ({cause}): it is not a PostgreSQL server, or it failed"
        )
    })
}

/// The longest a connection to one host may take: its connect timeout.
pub(super) fn connect_limit(config: &Config) -> Duration {
    config
        .get_connect_timeout()
        .copied()
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
}

pub(super) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// Whether an error is a serialization failure or a deadlock: the whole
/// transaction may be retried.
pub(super) fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// Whether the server cancelled a statement because it ran past its
/// `statement_timeout` (SQLSTATE 57014 with that message; the same code
/// with "due to user request" is a cancel someone asked for).
fn is_statement_timeout(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::QUERY_CANCELED && db.message().contains("statement timeout")
    })
}

/// Wrap a PostgreSQL error: a lock wait past the busy timeout or ended by
/// the server's `lock_timeout` or `statement_timeout` (and a serialization
/// failure that was not retried) is [`StoreError::Busy`]; a statement
/// cancelled on request (`pg_cancel_backend`) says so; anything else is
/// classified by its SQLSTATE.
pub(super) fn pg_error(context: &str, e: postgres::Error) -> StoreError {
    let kind = match e.code() {
        Some(c)
            if *c == SqlState::LOCK_NOT_AVAILABLE
                || is_retryable(&e)
                || is_statement_timeout(&e) =>
        {
            return StoreError::Busy
        }
        Some(c) if *c == SqlState::QUERY_CANCELED => {
            let message = e.as_db_error().map_or("", |db| db.message());
            return StoreError::Database {
                context: context.to_owned(),
                kind: StoreErrorKind::Other,
                source: format!(
                    "the server cancelled the statement ({message}): someone asked for it, an administrator with pg_cancel_backend or a client's cancel request; its transaction was rolled back"
                )
                .into(),
            };
        }
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => StoreErrorKind::ReadOnly,
        // The database named does not exist.
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => StoreErrorKind::Missing,
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => StoreErrorKind::PermissionDenied,
        Some(c) if *c == SqlState::DISK_FULL || *c == SqlState::OUT_OF_MEMORY => {
            StoreErrorKind::Full
        }
        Some(c) if *c == SqlState::DATA_CORRUPTED || *c == SqlState::INDEX_CORRUPTED => {
            StoreErrorKind::Corrupt
        }
        Some(c) if c.code().starts_with("08") || c.code().starts_with("28") => {
            StoreErrorKind::Connection
        }
        Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN => {
            StoreErrorKind::Connection
        }
        Some(_) => StoreErrorKind::Other,
        None => StoreErrorKind::Connection,
    };
    let detail = match e.as_db_error() {
        // A standby, or sessions read-only by the server's settings.
        Some(db) if kind == StoreErrorKind::ReadOnly => format!(
            "the server is read-only ({}): writes need the primary",
            db.message()
        ),
        Some(db) => db.message().to_owned(),
        None => {
            // The crate's own words repeat themselves; the cause says more.
            let mut deepest = None;
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                deepest = Some(c.to_string());
                cause = c.source();
            }
            let text = first_line(&e.to_string()).to_owned();
            match deepest {
                Some(d) if !text.contains(&d) => format!("{text}: {d}"),
                _ => text,
            }
        }
    };
    StoreError::Database {
        context: context.to_owned(),
        kind,
        source: detail.into(),
    }
}

//! Connecting: the URL or `key=value` string, the standard `PG*`
//! variables as fallbacks, per-session settings, and what a failure says.

use std::str::FromStr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use crate::error::{StoreError, StoreErrorKind};
use crate::store::{Access, StoreLocation};

use super::tls::{self, SslMode};

/// The PostgreSQL schema that holds a store unless the location names
/// another with `schema=NAME`.
pub const DEFAULT_SCHEMA: &str = "cursorctl";

/// How long a connection attempt may take unless the location or
/// `PGCONNECT_TIMEOUT` says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an open connection may go without an answer from the network
/// before it is given up, unless the location sets `tcp_user_timeout` or
/// `keepalives_*`: data sent and not acknowledged for this long
/// (`tcp_user_timeout`), or an idle connection (a statement running, a
/// lock wait) whose keepalive probes go unanswered, probed after
/// [`KEEPALIVES_IDLE`] and every [`KEEPALIVES_INTERVAL`]. Without them a
/// link cut under a connection leaves a command waiting for the operating
/// system's defaults: a quarter of an hour with data unacknowledged, two
/// hours and more when idle.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

/// Idle time before the first keepalive probe.
pub const KEEPALIVES_IDLE: Duration = Duration::from_secs(10);

/// Time between keepalive probes.
pub const KEEPALIVES_INTERVAL: Duration = Duration::from_secs(5);

/// What a location says about where and how to connect.
pub(super) struct Target {
    pub config: Config,
    pub schema: String,
    /// `host/database`, for messages (never a password).
    pub describe: String,
    /// `sslmode` and `sslrootcert`.
    pub tls: tls::Settings,
}

fn bad_location(location: &StoreLocation, detail: impl Into<String>) -> StoreError {
    StoreError::Unsupported {
        location: location.clone(),
        detail: detail.into(),
    }
}

/// A schema name cursorctl accepts: a plain lower-case SQL identifier, so
/// that it never needs quoting.
fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// The parameters of a URL that cursorctl reads itself: `schema` is its
/// own, and the `postgres` crate knows `sslmode` only as `disable`,
/// `prefer` or `require` and `sslrootcert` not at all.
#[derive(Debug, Default, PartialEq, Eq)]
struct OwnParams {
    schema: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

impl OwnParams {
    /// Keep `value` when `key` is one of cursorctl's own parameters (the
    /// last given counts); `false` leaves the pair for the `postgres` crate.
    fn take(&mut self, key: &str, value: impl FnOnce() -> String) -> bool {
        let slot = match key {
            "schema" => &mut self.schema,
            "sslmode" => &mut self.sslmode,
            "sslrootcert" => &mut self.sslrootcert,
            _ => return false,
        };
        *slot = Some(value());
        true
    }
}

/// Take cursorctl's own parameters out of a URL's query or a `key=value`
/// string (the last of each counts); the rest is left for the `postgres`
/// crate.
fn split_params(url: &str) -> (String, OwnParams) {
    let mut own = OwnParams::default();
    if !url.contains("://") {
        if let Some(pairs) = crate::store::location::keyword_pairs(url) {
            let rest: Vec<&(String, String)> = pairs
                .iter()
                .filter(|(key, value)| !own.take(key, || value.clone()))
                .collect();
            return (crate::store::location::keyword_string(rest), own);
        }
    }
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), own);
    };
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((key, value)) => !own.take(key, || percent_decoded(value)),
            None => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), own)
    } else {
        (format!("{base}?{}", rest.join("&")), own)
    }
}

/// A URL query value with its `%XX` escapes decoded.
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| char::from(b).to_digit(16);
    while i < bytes.len() {
        if let [b'%', hi, lo, ..] = bytes[i..] {
            if let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read a location into a connection configuration, with the `PG*`
/// variables filling what it leaves out.
pub(super) fn target(
    location: &StoreLocation,
    access: Access,
    busy_timeout: Duration,
) -> Result<Target, StoreError> {
    let StoreLocation::Postgres(url) = location else {
        return Err(bad_location(location, "not a PostgreSQL location"));
    };
    let (url, own) = split_params(url);
    let schema = own
        .schema
        .or_else(|| std::env::var("CURSORCTL_PG_SCHEMA").ok())
        .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
    if !valid_schema(&schema) {
        return Err(bad_location(
            location,
            format!(
                "invalid schema name {schema:?}: use lower-case letters, digits and _ (at most 63, not starting with a digit)"
            ),
        ));
    }
    let mut config = Config::from_str(&url).map_err(|e| {
        // The crate's own words ("invalid connection string") say less than
        // their cause ("unknown option `sslcert`").
        let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        bad_location(
            location,
            format!("invalid PostgreSQL connection string: {}", first_line(&why)),
        )
    })?;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let tls = tls::Settings::resolve(own.sslmode, own.sslrootcert, env)
        .map_err(|detail| bad_location(location, detail))?;
    config.ssl_mode(tls.mode.crate_mode());
    if config.get_hosts().is_empty() {
        config.host(&env("PGHOST").unwrap_or_else(|| "localhost".to_owned()));
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".to_owned());
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_dbname().is_none() {
        let dbname = env("PGDATABASE").or_else(|| config.get_user().map(str::to_owned));
        if let Some(dbname) = dbname {
            config.dbname(&dbname);
        }
    }
    if config.get_connect_timeout().is_none() {
        let timeout = env("PGCONNECT_TIMEOUT")
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs);
        config.connect_timeout(timeout);
    }
    // A lost network ends a connection in bounded time (see
    // DEFAULT_NETWORK_TIMEOUT); what the location says wins.
    if !url.contains("tcp_user_timeout") {
        config.tcp_user_timeout(DEFAULT_NETWORK_TIMEOUT);
    }
    if !url.contains("keepalives_idle") {
        config.keepalives_idle(KEEPALIVES_IDLE);
    }
    if !url.contains("keepalives_interval") {
        config.keepalives_interval(KEEPALIVES_INTERVAL);
    }
    if !url.contains("keepalives_retries") {
        // Never the limit: with tcp_user_timeout set, the kernel gives up
        // once probes have gone unanswered that long.
        config.keepalives_retries(2);
    }
    if config.get_application_name().is_none() {
        config.application_name("cursorctl");
    }
    // Per-session settings travel in the start-up packet: no round trip.
    let lock_ms = busy_timeout.as_millis().clamp(1, i32::MAX as u128);
    let mut options = config.get_options().unwrap_or_default().to_owned();
    options.push_str(&format!(
        " -c search_path={schema} -c lock_timeout={lock_ms} -c standard_conforming_strings=on"
    ));
    if access == Access::ReadOnly {
        options.push_str(" -c default_transaction_read_only=on");
    }
    config.options(options.trim_start());
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let describe = format!("{host}:{port}/{}", config.get_dbname().unwrap_or_default());
    Ok(Target {
        config,
        schema,
        describe,
        tls,
    })
}

/// Connect, or say why not: which server, which database, never a password.
/// With `sslmode=disable` nothing of TLS is set up.
pub(super) fn connect(target: &Target) -> Result<Client, StoreError> {
    let context = || format!("connecting to PostgreSQL at {}", target.describe);
    let lost = |source: String| StoreError::Database {
        context: context(),
        kind: StoreErrorKind::Connection,
        source: source.into(),
    };
    let connector = if target.tls.mode == SslMode::Disable {
        None
    } else {
        Some(target.tls.connector().map_err(lost)?)
    };
    // The crate bounds the TCP connect by the connect timeout, not the
    // start-up and login after it: a server or a proxy that accepts and
    // never answers would hold them forever. So the attempt runs on a
    // thread of its own, waited for up to the connect timeout (per host
    // named). One given up on ends when the server answers (its connection
    // is then closed) or the connection fails, or with the process.
    let limit = connect_limit(&target.config);
    let config = target.config.clone();
    let (sender, receiver) = mpsc::sync_channel(1);
    let attempt = std::thread::Builder::new()
        .name("cursorctl-connect".to_owned())
        .spawn(move || {
            let result = match connector {
                None => config.connect(NoTls),
                Some(connector) => config.connect(connector),
            };
            let _ = sender.send(result);
        })
        .map_err(|e| lost(format!("cannot start the connection attempt: {e}")))?;
    match receiver.recv_timeout(limit) {
        Ok(result) => {
            let _ = attempt.join();
            result.map_err(|e| match target.tls.certificate_problem(&e) {
                Some(problem) => lost(problem),
                None => pg_error(&context(), e),
            })
        }
        Err(RecvTimeoutError::Timeout) => Err(lost(format!(
            "no answer from the server within the connect timeout ({})",
            humantime::format_duration(limit)
        ))),
        Err(RecvTimeoutError::Disconnected) => Err(lost("the connection attempt failed".into())),
    }
}

/// The longest a whole connection may take: the connect timeout for each
/// host the location names.
fn connect_limit(config: &Config) -> Duration {
    let per_host = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let hosts = u32::try_from(config.get_hosts().len().max(1)).unwrap_or(u32::MAX);
    per_host.saturating_mul(hosts)
}

fn first_line(text: &str) -> &str {
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

/// Wrap a PostgreSQL error: a lock wait past the busy timeout (and a
/// serialization failure that was not retried) is [`StoreError::Busy`];
/// anything else is classified by its SQLSTATE.
pub(super) fn pg_error(context: &str, e: postgres::Error) -> StoreError {
    let kind = match e.code() {
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE || is_retryable(&e) => {
            return StoreError::Busy
        }
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => StoreErrorKind::ReadOnly,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_parameters_are_taken_out_of_the_url() {
        let (url, own) = split_params("postgres://h/db?schema=s1&sslmode=disable");
        assert_eq!(url, "postgres://h/db");
        assert_eq!(own.schema.as_deref(), Some("s1"));
        assert_eq!(own.sslmode.as_deref(), Some("disable"));
        let (url, own) = split_params(
            "postgres://h/db?application_name=x&sslmode=verify-full&sslrootcert=/etc/my%20ca.pem&connect_timeout=3",
        );
        assert_eq!(url, "postgres://h/db?application_name=x&connect_timeout=3");
        assert_eq!(own.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(own.sslrootcert.as_deref(), Some("/etc/my ca.pem"));
        assert_eq!(own.schema, None);
        assert_eq!(
            split_params("postgres://h/db"),
            ("postgres://h/db".to_owned(), OwnParams::default())
        );
        let (string, own) = split_params("host=h schema=s2 dbname='my db' sslmode=require");
        assert_eq!(string, "host='h' dbname='my db'");
        assert_eq!(own.schema.as_deref(), Some("s2"));
        assert_eq!(own.sslmode.as_deref(), Some("require"));
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decoded("a%2Fb%20c"), "a/b c");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
    }

    fn config_of(url: &str) -> Config {
        let location = StoreLocation::Postgres(url.to_owned());
        target(&location, Access::ReadWrite, Duration::from_secs(5))
            .unwrap()
            .config
    }

    #[test]
    fn a_lost_network_is_noticed_unless_the_location_says_otherwise() {
        let config = config_of("postgres://u@h/db");
        assert!(config.get_keepalives());
        assert_eq!(
            config.get_tcp_user_timeout(),
            Some(&DEFAULT_NETWORK_TIMEOUT)
        );
        assert_eq!(config.get_keepalives_idle(), KEEPALIVES_IDLE);
        assert_eq!(config.get_keepalives_interval(), Some(KEEPALIVES_INTERVAL));
        let config = config_of(
            "postgres://u@h/db?tcp_user_timeout=60&keepalives_idle=30&keepalives_interval=7&keepalives_retries=9",
        );
        assert_eq!(
            config.get_tcp_user_timeout(),
            Some(&Duration::from_secs(60))
        );
        assert_eq!(config.get_keepalives_idle(), Duration::from_secs(30));
        assert_eq!(
            config.get_keepalives_interval(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(config.get_keepalives_retries(), Some(9));
        // 0 is the operating system's default, as in libpq.
        assert_eq!(
            config_of("postgres://u@h/db?tcp_user_timeout=0").get_tcp_user_timeout(),
            None
        );
        assert!(!config_of("postgres://u@h/db?keepalives=0").get_keepalives());
    }

    #[test]
    fn the_connect_timeout_bounds_each_host_named() {
        let limit = |url: &str| connect_limit(&config_of(url));
        assert_eq!(
            limit("postgres://u@h/db?connect_timeout=3"),
            Duration::from_secs(3)
        );
        assert_eq!(
            limit("postgres://u@h1,h2/db?connect_timeout=3"),
            Duration::from_secs(6)
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("cursorctl"));
        assert!(valid_schema("_team_2"));
        assert!(!valid_schema("Cursors"));
        assert!(!valid_schema("2x"));
        assert!(!valid_schema("a;drop"));
        assert!(!valid_schema(""));
    }
}

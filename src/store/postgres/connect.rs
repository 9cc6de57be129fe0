//! Connecting: the URL or `key=value` string, the standard `PG*`
//! variables as fallbacks, per-session settings, and what a failure says.

use std::str::FromStr;
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

/// Take cursorctl's own parameters out of a URL's query or a `key=value`
/// string (the last of each counts); the rest is left for the `postgres`
/// crate.
fn split_params(url: &str) -> (String, OwnParams) {
    let mut own = OwnParams::default();
    if !url.contains("://") {
        if let Some(pairs) = crate::store::location::keyword_pairs(url) {
            let rest: Vec<&(String, String)> = pairs
                .iter()
                .filter(|(key, value)| {
                    let slot = match key.as_str() {
                        "schema" => &mut own.schema,
                        "sslmode" => &mut own.sslmode,
                        "sslrootcert" => &mut own.sslrootcert,
                        _ => return true,
                    };
                    *slot = Some(value.clone());
                    false
                })
                .collect();
            return (crate::store::location::keyword_string(rest), own);
        }
    }
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), own);
    };
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let Some((key, value)) = pair.split_once('=') else {
                return true;
            };
            let slot = match key {
                "schema" => &mut own.schema,
                "sslmode" => &mut own.sslmode,
                "sslrootcert" => &mut own.sslrootcert,
                _ => return true,
            };
            *slot = Some(percent_decoded(value));
            false
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
    let context = format!("connecting to PostgreSQL at {}", target.describe);
    let connected = if target.tls.mode == SslMode::Disable {
        target.config.connect(NoTls)
    } else {
        let connector = target
            .tls
            .connector()
            .map_err(|detail| StoreError::Database {
                context: context.clone(),
                kind: StoreErrorKind::Connection,
                source: detail.into(),
            })?;
        target.config.connect(connector)
    };
    connected.map_err(|e| match target.tls.certificate_problem(&e) {
        Some(problem) => StoreError::Database {
            context,
            kind: StoreErrorKind::Connection,
            source: problem.into(),
        },
        None => pg_error(&context, e),
    })
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

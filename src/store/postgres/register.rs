//! The PostgreSQL backend's registration: built with or without the
//! backend (see `store::backend`), so that a PostgreSQL location is never
//! taken for a file. Which strings are PostgreSQL locations, and how they
//! are shown with every password redacted, malformed or not, is decided
//! here; reading one as libpq reads it is `conninfo.rs`.

use std::time::Duration;

use crate::store::backend::{Backend, Capabilities, Registration};

/// The schema version this build writes. Version 1 to 3 stores are read
/// and written too; `init` upgrades them.
pub const SCHEMA_VERSION: i64 = 4;

/// The longest busy timeout: PostgreSQL takes its `lock_timeout` in
/// milliseconds as an `int` (2147483647 ms, about 24.8 days).
pub const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// What PostgreSQL can do: a chunk's cursors are read in one query and its
/// changes written in one statement; the history records the database
/// role of each change.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    reads_ahead: true,
    writes_changes_as_set: true,
    records_roles: true,
};

/// The PostgreSQL backend: a `postgres://` or `postgresql://` URL, or a
/// libpq `key=value` connection string (its first keyword one of libpq's,
/// in any case: `host=db dbname=platform`; or any `password=` in it),
/// valid or not (the backend refuses a malformed one: it never becomes a
/// file).
pub(crate) const REGISTRATION: Registration = Registration {
    name: "postgres",
    schema_version: SCHEMA_VERSION,
    max_busy_timeout: MAX_BUSY_TIMEOUT,
    max_busy_timeout_why: "PostgreSQL takes its lock_timeout in milliseconds as an int",
    capabilities: CAPABILITIES,
    recognises: |text| is_postgres_url(text) || is_keyword_string(text),
    is_path: false,
    check: |_| Ok(()),
    redact: |location| {
        let text = location.to_string_lossy();
        if is_postgres_url(&text) {
            redact_url(&text)
        } else {
            redact_keyword_string(&text)
        }
    },
    #[cfg(feature = "postgres")]
    built: Some(crate::store::backend::Built {
        open: |location, access, busy_timeout| {
            Ok(Box::new(super::postgres::PostgresStore::open(
                location,
                access,
                busy_timeout,
            )?))
        },
        init: |location, busy_timeout| {
            let (store, outcome) = super::postgres::PostgresStore::init(location, busy_timeout)?;
            Ok((Box::new(store), outcome))
        },
        prepare_one_shot_process: || {},
    }),
    #[cfg(not(feature = "postgres"))]
    built: None,
};

impl Backend {
    /// PostgreSQL: a database shared by many hosts.
    pub const POSTGRES: Self = Self::of(&REGISTRATION);
}

/// The keywords of libpq connection strings (libpq's own, the `postgres`
/// crate's `keepalives_retries`, and cursorctl's `schema`). A location
/// whose first keyword is one of them, in any case, is a PostgreSQL
/// location; whether it is a valid one is for the PostgreSQL backend to
/// say (libpq's keywords are lower case: `Host=` is refused there, never
/// taken for a file name).
pub(crate) const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "keepalives_retries",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
    "schema",
];

/// Whether a keyword names a secret (`password`, `sslpassword`, in any
/// case): its value is never shown.
pub(crate) fn is_secret_keyword(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

/// Whether `s` is meant as a libpq `key=value` connection string: its
/// first word is a libpq keyword (in any case) followed by `=`, or some
/// word of it is a password keyword followed by `=` (a file is never named
/// so; taking it for one would create a file named after a password).
/// Whether it is a valid one is not decided here.
fn is_keyword_string(s: &str) -> bool {
    let mut first = true;
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return false;
        }
        let key_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (key, after) = rest.split_at(key_end);
        let pair = !key.is_empty() && after.trim_start().starts_with('=');
        if pair
            && (is_secret_keyword(key)
                || (first && KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(key))))
        {
            return true;
        }
        first = false;
        // On to the next word.
        match rest.find(char::is_whitespace) {
            Some(end) => rest = &rest[end..],
            None => return false,
        }
    }
}

/// A `key=value` connection string as users may see it: every password
/// (any keyword holding `password`, in any case) replaced by `***`, the
/// other values as given. Read leniently, so that a malformed string (an
/// unterminated quote, a word with no `=`) shows no secret either: an
/// unterminated quoted value runs to the end, as libpq reads it, and a word
/// with no `=` is shown as `***` too.
fn redact_keyword_string(s: &str) -> String {
    let mut shown = Vec::new();
    let mut chars = s.chars().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_spaces(&mut chars);
        if chars.peek().is_none() {
            return shown.join(" ");
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_spaces(&mut chars);
        if chars.next_if_eq(&'=').is_none() {
            // A word with no `=` may be the rest of a password typed
            // without quotes (`password=two words`): never shown.
            shown.push("***".to_owned());
            continue;
        }
        skip_spaces(&mut chars);
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        shown.push(if is_secret_keyword(&key) {
            format!("{key}=***")
        } else if value.is_empty()
            || value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\')
        {
            let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
            format!("{key}='{quoted}'")
        } else {
            format!("{key}={value}")
        });
    }
}

pub(crate) fn is_postgres_url(s: &str) -> bool {
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        s.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    })
}

/// `scheme://user:secret@host/db?password=secret` with both secrets
/// replaced by `***`. The user information runs to the last `@` before the
/// host part (the first `/` or `?`), so an unencoded `@` in a password
/// leaves none of it shown: `postgres://u:***@host/db`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if is_secret_keyword(k) => format!("{k}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreLocation;
    use std::ffi::OsStr;

    #[test]
    fn urls_and_connection_strings_select_postgres_and_anything_else_is_a_path() {
        let loc = |s: &str| StoreLocation::parse(OsStr::new(s));
        assert_eq!(loc("cursors.db").backend(), Backend::SQLITE);
        assert_eq!(loc("/var/lib/x/postgres.db").backend(), Backend::SQLITE);
        assert_eq!(loc("postgres://h/db").backend(), Backend::POSTGRES);
        assert_eq!(loc("PostgreSQL://h/db").backend(), Backend::POSTGRES);
        assert_eq!(loc("postgres:/h").backend(), Backend::SQLITE);
        assert_eq!(loc("host=db dbname=c").backend(), Backend::POSTGRES);
        assert_eq!(loc(" dbname = c ").backend(), Backend::POSTGRES);
        assert_eq!(loc("host=db password='a b'").backend(), Backend::POSTGRES);
        assert_eq!(loc("./host=db").backend(), Backend::SQLITE);
        assert_eq!(loc("mode=x.db").backend(), Backend::SQLITE);
        assert_eq!(loc("host").backend(), Backend::SQLITE);
        // Malformed, but meant as connection strings: never files.
        assert_eq!(loc("host=db dbname").backend(), Backend::POSTGRES);
        assert_eq!(loc("host='db").backend(), Backend::POSTGRES);
        assert_eq!(loc("Host=db").backend(), Backend::POSTGRES);
        assert_eq!(loc("PASSWORD=x").backend(), Backend::POSTGRES);
        assert_eq!(loc("x=1 PassWord=x").backend(), Backend::POSTGRES);
        assert_eq!(loc("./password=x").backend(), Backend::SQLITE);
    }

    #[test]
    fn passwords_never_show() {
        let shown = |s: &str| StoreLocation::parse(OsStr::new(s)).to_string();
        assert_eq!(
            shown("postgres://ops:s3cret@db.example:5432/cursors?sslmode=require"),
            "postgres://ops:***@db.example:5432/cursors?sslmode=require"
        );
        assert_eq!(
            shown("postgresql://ops@db/c?password=s3cret&sslmode=disable"),
            "postgresql://ops@db/c?password=***&sslmode=disable"
        );
        assert_eq!(shown("postgres://db/c"), "postgres://db/c");
        assert_eq!(shown("postgres://a:b:c@db"), "postgres://a:***@db");
        assert_eq!(
            shown("postgres://u:Hunter2@SECRET@host/db"),
            "postgres://u:***@host/db"
        );
        assert_eq!(
            shown("postgres://u@h/db?PassWord=x&sslpassword=y"),
            "postgres://u@h/db?PassWord=***&sslpassword=***"
        );
        let debug = format!(
            "{:?}",
            StoreLocation::parse(OsStr::new("postgres://u:pw@h/d"))
        );
        assert!(!debug.contains("pw"), "{debug}");
        assert_eq!(
            shown("host=db user=ops password=s3cret dbname='my db'"),
            "host=db user=ops password=*** dbname='my db'"
        );
        assert_eq!(shown("host=db password='a b c'"), "host=db password=***");
        // Malformed strings show no password either.
        assert_eq!(
            shown("host=127.0.0.1 password='Hunter2 dbname=x"),
            "host=127.0.0.1 password=***"
        );
        assert_eq!(
            shown("Host=h PASSWORD = Hunter2 dbname"),
            "Host=h PASSWORD=*** ***"
        );
        assert_eq!(shown("host=h password="), "host=h password=***");
        assert_eq!(
            shown("host=h password=two words dbname=d"),
            "host=h password=*** *** dbname=d"
        );
    }
}

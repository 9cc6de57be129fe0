//! Reading a PostgreSQL location as libpq reads it: a `postgres://` URL or
//! a `key=value` connection string, into its keyword/value pairs.
//!
//! Whether a location is meant for PostgreSQL at all is decided in
//! `register.rs`; here it is read, and refused when malformed. What is
//! refused is said without any value of the location (a value may be a
//! password, or part of one).

use crate::store::postgres_backend::{is_postgres_url, KEYWORDS};

/// The pairs of a location, in the order given. Each keyword appears once.
pub(super) type Pairs = Vec<(String, String)>;

/// Read a URL or a `key=value` string into its pairs: libpq's keywords
/// (lower case, as libpq has them) and cursorctl's `schema`. A keyword
/// given twice is refused (libpq would take the last: a location that
/// says two things is a mistake worth hearing about).
pub(super) fn parse(location: &str) -> Result<Pairs, String> {
    let pairs = if is_postgres_url(location) {
        url_pairs(location)?
    } else {
        keyword_pairs(location)?
    };
    for (i, (key, _)) in pairs.iter().enumerate() {
        if !KEYWORDS.contains(&key.as_str()) {
            let lower = key.to_ascii_lowercase();
            return Err(if KEYWORDS.contains(&lower.as_str()) {
                format!("invalid connection option \"{key}\": keywords are lower case ({lower})")
            } else {
                format!("invalid connection option \"{key}\"")
            });
        }
        if pairs[..i].iter().any(|(k, _)| k == key) {
            return Err(format!(
                "\"{key}\" is given twice: give it once (which one is meant?)"
            ));
        }
    }
    Ok(pairs)
}

/// The pairs of a libpq `key=value` connection string: keywords and values
/// separated by `=` (spaces around it allowed), pairs by spaces; a value in
/// single quotes may hold spaces, and `\` escapes the next character.
fn keyword_pairs(s: &str) -> Result<Pairs, String> {
    let mut pairs = Vec::new();
    let mut chars = s.chars().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_spaces(&mut chars);
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_spaces(&mut chars);
        if chars.next_if_eq(&'=').is_none() {
            // Never the word itself: it may be a password typed without
            // its keyword.
            return Err(match pairs.last() {
                Some((last, _)) => {
                    format!("missing \"=\" after the value of \"{last}\" in the connection string")
                }
                None => "missing \"=\" after the first word of the connection string".to_owned(),
            });
        }
        if key.is_empty() {
            return Err("a \"=\" with no keyword before it in the connection string".to_owned());
        }
        skip_spaces(&mut chars);
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err(unterminated(&key)),
                    },
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(unterminated(&key)),
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
        pairs.push((key, value));
    }
}

fn unterminated(key: &str) -> String {
    format!("unterminated quoted string in the connection string (the value of \"{key}\")")
}

/// A `key=value` connection string of `pairs`, each value quoted.
pub(super) fn keyword_string<'p>(pairs: impl IntoIterator<Item = &'p (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(key, value)| {
            let value = value.replace('\\', "\\\\").replace('\'', "\\'");
            format!("{key}='{value}'")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pairs of `postgres://[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`.
/// The user information runs to the last `@` before the host part (the
/// first `/` or `?`), so an unencoded `@` in a password stays in the
/// password. (libpq 15 ends it at the first `@`, and then looks up a host
/// named after the rest of the password.) Hosts are separated by `,`; an
/// IPv6 address is in brackets (`[::1]:5432`). Every part is
/// percent-decoded. `ssl=true` is `sslmode=require`, as in libpq.
fn url_pairs(url: &str) -> Result<Pairs, String> {
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut pairs = Vec::new();
    let hostspec = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                pairs.push(("user".to_owned(), percent_decoded(user)));
            }
            if let Some(password) = password {
                pairs.push(("password".to_owned(), percent_decoded(password)));
            }
            &authority[at + 1..]
        }
        None => authority,
    };
    if !hostspec.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for chunk in hostspec.split(',') {
            let (host, port) = if let Some(bracketed) = chunk.strip_prefix('[') {
                let Some((host, after)) = bracketed.split_once(']') else {
                    return Err("an IPv6 address in the URL has no closing \"]\"".to_owned());
                };
                let port = match after {
                    "" => "",
                    _ => after.strip_prefix(':').ok_or_else(|| {
                        "an IPv6 address in the URL is followed by something else than \":PORT\""
                            .to_owned()
                    })?,
                };
                (host, port)
            } else {
                chunk.split_once(':').unwrap_or((chunk, ""))
            };
            hosts.push(percent_decoded(host));
            ports.push(percent_decoded(port));
        }
        pairs.push(("host".to_owned(), hosts.join(",")));
        if ports.iter().any(|p| !p.is_empty()) {
            pairs.push(("port".to_owned(), ports.join(",")));
        }
    }
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let dbname = path.strip_prefix('/').unwrap_or(path);
    if !dbname.is_empty() {
        pairs.push(("dbname".to_owned(), percent_decoded(dbname)));
    }
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        if pair.is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!(
                "the URL parameter \"{}\" has no \"=\"",
                percent_decoded(pair)
            ));
        };
        let (key, value) = (percent_decoded(key), percent_decoded(value));
        match (key.as_str(), value.as_str()) {
            ("ssl", "true") => pairs.push(("sslmode".to_owned(), "require".to_owned())),
            ("ssl", _) => return Err("the URL parameter \"ssl\" takes only true".to_owned()),
            _ => pairs.push((key, value)),
        }
    }
    Ok(pairs)
}

/// A URL part with its `%XX` escapes decoded.
pub(super) fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| char::from(b).to_digit(16);
    while i < bytes.len() {
        if let [b'%', hi, lo, ..] = bytes[i..] {
            if let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(expected: &[(&str, &str)]) -> Pairs {
        expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn keyword_strings_are_read_as_libpq_reads_them() {
        let read = parse(r"host = db  password='it\'s a \\ secret' port=5433").unwrap();
        assert_eq!(
            read,
            pairs(&[
                ("host", "db"),
                ("password", r"it's a \ secret"),
                ("port", "5433")
            ])
        );
        assert_eq!(parse(&keyword_string(&read)).unwrap(), read);
    }

    #[test]
    fn malformed_keyword_strings_are_refused_without_their_values() {
        for (location, expected) in [
            (
                "host=127.0.0.1 password='Hunter2 dbname=x",
                "unterminated quoted string",
            ),
            (
                "Host=127.0.0.1",
                "invalid connection option \"Host\": keywords are lower case (host)",
            ),
            (
                "host=h PASSWORD=Hunter2",
                "invalid connection option \"PASSWORD\"",
            ),
            (
                "host=h Hunter2",
                "missing \"=\" after the value of \"host\"",
            ),
            ("host=h colour=red", "invalid connection option \"colour\""),
            ("schema=a schema=b", "\"schema\" is given twice"),
            ("=x", "no keyword"),
        ] {
            let err = parse(location).unwrap_err();
            assert!(err.contains(expected), "{location}: {err}");
            assert!(!err.contains("Hunter2"), "{location}: {err}");
        }
    }

    #[test]
    fn urls_are_read_into_pairs() {
        assert_eq!(
            parse("postgres://u:Hunter2@SECRET@db.example:5433/my%20db?sslmode=require&schema=s")
                .unwrap(),
            pairs(&[
                ("user", "u"),
                ("password", "Hunter2@SECRET"),
                ("host", "db.example"),
                ("port", "5433"),
                ("dbname", "my db"),
                ("sslmode", "require"),
                ("schema", "s"),
            ])
        );
        assert_eq!(
            parse("postgresql://[::1]:5433,h2/db").unwrap(),
            pairs(&[("host", "::1,h2"), ("port", "5433,"), ("dbname", "db")])
        );
        assert_eq!(parse("postgres://").unwrap(), pairs(&[]));
        assert_eq!(
            parse("postgres:///db?ssl=true").unwrap(),
            pairs(&[("dbname", "db"), ("sslmode", "require")])
        );
        assert_eq!(
            parse("postgres://u@h/d?application_name=a%40b").unwrap(),
            pairs(&[
                ("user", "u"),
                ("host", "h"),
                ("dbname", "d"),
                ("application_name", "a@b")
            ])
        );
        for (url, expected) in [
            (
                "postgres://h/db?schema=a&schema=b",
                "\"schema\" is given twice",
            ),
            (
                "postgres://h/db?colour=red",
                "invalid connection option \"colour\"",
            ),
            ("postgres://h/db?schema", "has no \"=\""),
            ("postgres://[::1/db", "no closing"),
        ] {
            let err = parse(url).unwrap_err();
            assert!(err.contains(expected), "{url}: {err}");
        }
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decoded("a%2Fb%20c"), "a/b c");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
    }
}

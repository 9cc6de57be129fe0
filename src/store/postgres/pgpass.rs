//! The password file, as libpq reads it: `passfile=` in the location, or
//! `PGPASSFILE`, or `~/.pgpass`; lines `host:port:database:user:password`,
//! each of the first four a value or `*`, `\:` and `\\` for a `:` and a
//! `\` in a value, `#` starting a comment line. The first line that
//! matches gives the password. On Unix a file that is not a plain file, or
//! that its group or others may read, write or run, is ignored with a
//! warning on stderr, as libpq ignores it.

use std::path::{Path, PathBuf};

/// Where the password file is: `passfile` (from the location), else
/// `PGPASSFILE`, else `.pgpass` in the home folder.
pub(super) fn path(
    passfile: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    if let Some(path) = passfile.filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if let Some(path) = env("PGPASSFILE") {
        return Some(PathBuf::from(path));
    }
    env("HOME").map(|home| Path::new(&home).join(".pgpass"))
}

/// What a connection is matched against: the host as named (a Unix
/// socket folder matches as `localhost`, as in libpq), the port, the
/// database and the user.
pub(super) struct Wanted<'a> {
    pub host: &'a str,
    pub port: u16,
    pub dbname: &'a str,
    pub user: &'a str,
}

/// The password of the first line of the file at `path` that matches
/// `wanted`. `None` when there is no file, no line matches, or the file is
/// ignored (then `warn` is told why).
pub(super) fn lookup(
    path: &Path,
    wanted: &Wanted<'_>,
    warn: &mut dyn FnMut(String),
) -> Option<String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return None;
    };
    if !meta.is_file() {
        warn(format!(
            "password file \"{}\" is not a plain file: it is ignored",
            path.display()
        ));
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            warn(format!(
                "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less: it is ignored",
                path.display()
            ));
            return None;
        }
    }
    let text = std::fs::read(path).ok()?;
    find(&String::from_utf8_lossy(&text), wanted)
}

/// The password of the first line of `text` that matches.
fn find(text: &str, wanted: &Wanted<'_>) -> Option<String> {
    let host = if wanted.host.is_empty() || wanted.host.starts_with('/') {
        "localhost"
    } else {
        wanted.host
    };
    let port = wanted.port.to_string();
    let wanted = [host, port.as_str(), wanted.dbname, wanted.user];
    text.lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .find_map(|line| {
            let fields = fields(line);
            if fields.len() < 5 {
                return None;
            }
            let matches = wanted
                .iter()
                .zip(&fields)
                .all(|(want, field)| field == "*" || field == want);
            // The password ends at the next unescaped `:`, as in libpq.
            matches.then(|| fields[4].clone())
        })
}

/// The `:`-separated fields of a line, with `\:` and `\\` unescaped.
fn fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    if let Some(f) = fields.last_mut() {
                        f.push(next);
                    }
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted<'a>(host: &'a str, port: u16, dbname: &'a str, user: &'a str) -> Wanted<'a> {
        Wanted {
            host,
            port,
            dbname,
            user,
        }
    }

    #[test]
    fn the_first_matching_line_gives_the_password() {
        let text = "# comment\n\
                    db1:5432:platform:ops:first\n\
                    *:5433:*:ops:any\\:host\n\
                    db\\:odd:*:*:*:odd\n\
                    localhost:5432:*:*:local:with:colons\n\
                    db1:*:*:*:fallback\n";
        let find = |w: Wanted<'_>| find(text, &w);
        assert_eq!(
            find(wanted("db1", 5432, "platform", "ops")).as_deref(),
            Some("first")
        );
        assert_eq!(
            find(wanted("db1", 5432, "other", "ops")).as_deref(),
            Some("fallback")
        );
        assert_eq!(
            find(wanted("db9", 5433, "x", "ops")).as_deref(),
            Some("any:host")
        );
        assert_eq!(find(wanted("db:odd", 1, "x", "y")).as_deref(), Some("odd"));
        assert_eq!(
            find(wanted("/var/run/postgresql", 5432, "x", "y")).as_deref(),
            Some("local")
        );
        assert_eq!(find(wanted("db9", 5432, "x", "ops")), None);
    }

    #[test]
    fn the_file_comes_from_the_location_then_the_environment_then_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let all = env(&[("PGPASSFILE", "/e/pass"), ("HOME", "/home/u")]);
        assert_eq!(path(Some("/l/pass"), all), Some(PathBuf::from("/l/pass")));
        assert_eq!(path(None, all), Some(PathBuf::from("/e/pass")));
        assert_eq!(
            path(None, env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.pgpass"))
        );
        assert_eq!(path(None, env(&[])), None);
    }
}

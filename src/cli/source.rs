//! Input read from a path or from stdin (`-`): the one opener of
//! `set --from-file` and `flush-sim --offsets`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use super::error::Failure;

/// An opened input.
pub struct Source {
    pub reader: Box<dyn BufRead>,
    /// Its size in bytes, when known before reading.
    pub size: Option<u64>,
    /// How messages name it: `--from-file moves.csv`, `--offsets stdin`.
    pub name: String,
}

const BUFFER: usize = 1 << 20;

/// Open `path` (`-`: stdin) given to `option`. With `spool`, stdin is read
/// to its end into an unnamed temporary file first, so that input that
/// trickles in is all there before the caller takes a lock.
///
/// # Errors
///
/// A path that cannot be read (missing, a directory, no permission) is a
/// usage error (exit 2) naming it.
pub fn open(path: &Path, option: &str, spool: bool) -> anyhow::Result<Source> {
    if path.as_os_str() == "-" {
        let name = format!("{option} stdin");
        if !spool {
            return Ok(Source {
                reader: Box::new(BufReader::with_capacity(BUFFER, io::stdin().lock())),
                size: None,
                name,
            });
        }
        let mut file = tempfile::tempfile()
            .map_err(|e| anyhow::Error::new(e).context("creating a temporary file for stdin"))?;
        let size = io::copy(&mut io::stdin().lock(), &mut file)
            .and_then(|n| file.seek(SeekFrom::Start(0)).map(|_| n))
            .map_err(|e| read_failed(&name, &e))?;
        return Ok(Source {
            reader: Box::new(BufReader::with_capacity(BUFFER, file)),
            size: Some(size),
            name,
        });
    }
    let name = format!("{option} {}", path.display());
    let file = File::open(path).map_err(|e| read_failed(&name, &e))?;
    let meta = file.metadata().map_err(|e| read_failed(&name, &e))?;
    if meta.is_dir() {
        return Err(Failure::usage(format!("cannot read {name}: it is a directory")).into());
    }
    Ok(Source {
        reader: Box::new(BufReader::with_capacity(BUFFER, file)),
        size: meta.is_file().then_some(meta.len()),
        name,
    })
}

/// A failed read of an input: exit 2, naming it.
pub fn read_failed(name: &str, e: &io::Error) -> anyhow::Error {
    // The standard message without the "(os error N)" tail.
    let text = e.to_string();
    let text = text
        .split_once(" (os error")
        .map_or(text.as_str(), |(head, _)| head);
    Failure::usage(format!("cannot read {name}: {text}")).into()
}

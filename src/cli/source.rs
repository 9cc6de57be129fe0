//! Input read from a path or from stdin (`-`): the one opener of
//! `set --from-file` and `flush-sim --offsets`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use cursorctl::ops::{ErrorKind, OpError, OpResult, Refusal};

/// An opened input.
pub struct Source {
    pub reader: Box<dyn BufRead>,
    /// Its size in bytes, when known before reading.
    pub size: Option<u64>,
    /// How messages name it: `--from-file moves.csv`, `--offsets stdin`.
    pub name: String,
    /// The file under the reader, when it can be read again from the start
    /// (a regular file, or stdin spooled to a temporary file).
    pub again: Option<File>,
}

impl Source {
    /// A new reader from the start of the input, when it can be read again.
    ///
    /// # Errors
    ///
    /// A failed read of the input (exit 2).
    pub fn reread(&self) -> OpResult<Option<Box<dyn BufRead>>> {
        let Some(file) = &self.again else {
            return Ok(None);
        };
        let mut file = file.try_clone().map_err(|e| read_failed(&self.name, &e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| read_failed(&self.name, &e))?;
        Ok(Some(Box::new(BufReader::with_capacity(BUFFER, file))))
    }
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
pub fn open(path: &Path, option: &str, spool: bool) -> OpResult<Source> {
    if path.as_os_str() == "-" {
        let name = format!("{option} stdin");
        if !spool {
            return Ok(Source {
                reader: Box::new(BufReader::with_capacity(BUFFER, io::stdin().lock())),
                size: None,
                name,
                again: None,
            });
        }
        let mut file = tempfile::tempfile().map_err(|e| {
            Refusal::new(
                ErrorKind::Internal,
                format!("creating a temporary file for stdin: {e}"),
            )
        })?;
        let size = io::copy(&mut io::stdin().lock(), &mut file)
            .and_then(|n| file.seek(SeekFrom::Start(0)).map(|_| n))
            .map_err(|e| read_failed(&name, &e))?;
        let again = file.try_clone().ok();
        return Ok(Source {
            reader: Box::new(BufReader::with_capacity(BUFFER, file)),
            size: Some(size),
            name,
            again,
        });
    }
    let name = format!("{option} {}", path.display());
    let file = File::open(path).map_err(|e| read_failed(&name, &e))?;
    let meta = file.metadata().map_err(|e| read_failed(&name, &e))?;
    if meta.is_dir() {
        return Err(Refusal::usage(format!("cannot read {name}: it is a directory")).into());
    }
    let again = if meta.is_file() {
        file.try_clone().ok()
    } else {
        None
    };
    Ok(Source {
        reader: Box::new(BufReader::with_capacity(BUFFER, file)),
        size: meta.is_file().then_some(meta.len()),
        name,
        again,
    })
}

/// A failed read of an input: exit 2, naming it.
pub fn read_failed(name: &str, e: &io::Error) -> OpError {
    // The standard message without the "(os error N)" tail.
    let text = e.to_string();
    let text = text
        .split_once(" (os error")
        .map_or(text.as_str(), |(head, _)| head);
    Refusal::usage(format!("cannot read {name}: {text}")).into()
}

/// The lines of an input, numbered from 1, with the bytes read so far: the
/// one line reader under every input format (`set --from-file`'s entries,
/// `flush-sim --offsets`).
pub struct Lines<R> {
    reader: R,
    /// The current line, with its line end.
    pub buf: Vec<u8>,
    /// The number of the current line (0 before the first).
    pub number: u64,
    /// Bytes read so far.
    pub bytes: u64,
    /// How read errors name the input.
    pub name: String,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, name: String) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(256),
            number: 0,
            bytes: 0,
            name,
        }
    }

    /// Read the next line into `buf`; `false` at the end of the input.
    ///
    /// # Errors
    ///
    /// A failed read, naming the input (exit 2).
    pub fn advance(&mut self) -> OpResult<bool> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| read_failed(&self.name, &e))?;
        if n == 0 {
            return Ok(false);
        }
        self.bytes += n as u64;
        self.number += 1;
        Ok(true)
    }

    /// The current line without its line end (`\n` or `\r\n`) and, on
    /// the first line, without a byte order mark.
    pub fn text(&self) -> &[u8] {
        let mut line = self.buf.as_slice();
        if self.number == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line.strip_suffix(b"\r").unwrap_or(line)
    }
}

//! Where the next offsets of a run come from.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use cursorctl::parse_offset;
use cursorctl::sim::message_offsets;

use super::super::error::{CliError, CliResult, Failure};
use super::super::source::{self, Lines, Source};
use super::args::Args;

/// Where the next offsets come from.
pub(super) enum Input {
    /// `--messages N`.
    Messages(u64),
    /// `--offsets`, parsed as it is simulated (read once).
    Stream {
        name: String,
        reader: Box<dyn BufRead>,
    },
    /// `--offsets`, validated up front and kept in an unnamed temporary
    /// file, 8 bytes an offset, to be replayed.
    Kept { file: File, count: u64 },
}

impl Input {
    pub(super) fn open(args: &Args, keep: bool) -> CliResult<Self> {
        let Some(path) = &args.offsets else {
            return Ok(Self::Messages(args.messages.unwrap_or(0)));
        };
        let Source { reader, name, .. } = source::open(path, "--offsets", false)?;
        if !keep {
            return Ok(Self::Stream { name, reader });
        }
        let file = tempfile::tempfile()
            .map_err(|e| CliError::local("creating a temporary file for the offsets", e))?;
        let mut out = BufWriter::with_capacity(1 << 16, &file);
        let mut count = 0u64;
        for offset in LineOffsets::new(name, reader) {
            out.write_all(&offset?.to_le_bytes())
                .map_err(|e| CliError::local("keeping the offsets in a temporary file", e))?;
            count += 1;
        }
        out.flush()
            .map_err(|e| CliError::local("keeping the offsets in a temporary file", e))?;
        drop(out);
        Ok(Self::Kept { file, count })
    }

    /// How many messages, when known before the run.
    pub(super) const fn len(&self) -> Option<u64> {
        match self {
            Self::Messages(n) | Self::Kept { count: n, .. } => Some(*n),
            Self::Stream { .. } => None,
        }
    }

    /// The next offsets, from the start: `start` is the cursor's offset.
    pub(super) fn offsets(
        &mut self,
        start: u64,
    ) -> CliResult<Box<dyn Iterator<Item = CliResult<u64>> + '_>> {
        Ok(match self {
            Self::Messages(n) => {
                let offsets = message_offsets(start, *n).map_err(|_| {
                    Failure::usage(format!(
                        "--messages {n} from offset {start} would pass the largest offset 9223372036854775807"
                    ))
                })?;
                Box::new(offsets.map(Ok))
            }
            Self::Stream { name, reader } => Box::new(LineOffsets::new(name.clone(), reader)),
            Self::Kept { file, count } => {
                let mut file: &File = file;
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| CliError::local("rewinding the kept offsets", e))?;
                Box::new(KeptOffsets {
                    reader: BufReader::with_capacity(1 << 16, file),
                    remaining: *count,
                })
            }
        })
    }
}

/// Offsets parsed from lines, with line numbers in errors; one line buffer
/// is reused, so reading allocates nothing per line.
pub(super) struct LineOffsets<R> {
    lines: Lines<R>,
    done: bool,
}

impl<R: BufRead> LineOffsets<R> {
    pub(super) fn new(name: String, reader: R) -> Self {
        Self {
            lines: Lines::new(reader, name),
            done: false,
        }
    }

    pub(super) fn bad(&mut self, message: String) -> CliError {
        self.done = true;
        let line = self.lines.number;
        Failure::usage(format!("{} line {line}: {message}", self.lines.name))
            .with("line", line)
            .into()
    }
}

impl<R: BufRead> Iterator for LineOffsets<R> {
    type Item = CliResult<u64>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Blank lines (a trailing newline, an empty line between blocks) are
        // skipped, as in `set --from-file`.
        loop {
            match self.lines.advance() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            }
            if !self.lines.text().iter().all(u8::is_ascii_whitespace) {
                break;
            }
        }
        let parsed = match std::str::from_utf8(self.lines.text()) {
            Ok(text) => parse_offset(text).map_err(|e| e.to_string()),
            Err(_) => Err("it is not UTF-8 text".to_owned()),
        };
        Some(parsed.map_err(|message| self.bad(message)))
    }
}

/// Offsets replayed from the temporary file.
pub(super) struct KeptOffsets<R> {
    reader: R,
    remaining: u64,
}

impl<R: Read> Iterator for KeptOffsets<R> {
    type Item = CliResult<u64>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let mut bytes = [0; 8];
        Some(match self.reader.read_exact(&mut bytes) {
            Ok(()) => Ok(u64::from_le_bytes(bytes)),
            Err(e) => {
                self.remaining = 0;
                Err(CliError::local("reading the kept offsets", e))
            }
        })
    }
}

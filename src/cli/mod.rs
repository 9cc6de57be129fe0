//! The command line: argument definitions, the run loop and exit codes.

mod advance;
mod args;
mod batch;
mod bulk;
mod change;
mod complete;
mod completions;
mod copy;
mod copy_store;
mod delete;
mod describe;
mod error;
mod flush_sim;
mod get;
mod head;
mod head_input;
mod hints;
mod history;
mod info;
mod init;
mod input;
mod interrupt;
mod json_records;
mod key_arg;
mod lease;
mod lookalike;
mod output;
mod progress;
mod prometheus;
mod raw_args;
mod raw_key;
mod records;
mod set;
mod snapshot;
mod source;
mod status;
mod undo;
mod watch;

pub use args::{id_arg, limit_arg, offset_arg, reason_arg};

use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use cursorctl::parse_duration;
use cursorctl::store::{self, Access, Backend, Store, StoreLocation};

use error::{report, CliResult, ExitKind};
use output::{ColorChoice, Format, Printer, Record, Shape};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (a no-op included)
  1  internal error (a bug), or stdout could not be written (kind output-failed): a change
     already committed stays committed, and the message gives its id: do not run it again
  2  usage: bad arguments or invalid input values; nothing written
  3  stale: the stored offset differs from the expected one; nothing written; re-read and retry
  4  regression refused: the new offset is below the stored one; nothing written
  5  not found: the cursor is absent where it must exist
  6  busy: the store stayed locked past --busy-timeout; nothing written; retry
  7  store unusable: missing, not a cursor store, corrupt, newer schema, read-only, disk full, I/O error
  8  status only: a listed cursor needs attention (stalled or ahead); the records are printed
  130, 143  interrupted by SIGINT or SIGTERM during a long write; rolled back";

/// Inspect and repair the durable read positions (cursors) of the consumers
/// of a partitioned message system.
///
/// A cursor is one consumer's offset on one partition, keyed
/// CONSUMER:CHANNEL:INDEX (for example billing:orders:3). Every write is a
/// compare-and-swap checked checkpoint, recorded in the store's history in
/// the same transaction; it is safe to run while consumers are live.
#[derive(Debug, Parser)]
#[command(name = "cursorctl", version, after_long_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before the subcommand or after it.
///
/// They are defined on the top-level command, and on the subcommand that
/// runs by [`WithGlobals`], not with clap's `global`, which copies each of
/// them into every subcommand of the tree at every start and then copies
/// the matched values between the levels: about a sixth of the
/// instructions of a one-cursor `get`. [`parse`] takes the value given
/// last in the chain of subcommands, as `global` does.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]
    // The variable is read by hand, not with clap's `env`: clap would show
    // `--db <PATH>` in every usage line as if it had to be given.
    #[arg(
        long,
        default_value = "cursors.db",
        value_name = "PATH",
        value_hint = clap::ValueHint::AnyPath,
        value_parser = clap::builder::OsStringValueParser::new().map(StoreLocation::from)
    )]
    pub db: StoreLocation,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub output: Format,

    /// How long to wait for a store locked by another writer (at most what
    /// the store's backend takes: 2147483647ms, about 24d20h, for SQLite
    /// and PostgreSQL)
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub busy_timeout: Duration,

    /// Print no change records or notes (errors are still printed)
    #[arg(short, long)]
    pub quiet: bool,

    /// Writes: also break the live lease of each cursor written, in the
    /// same transaction (its holder's next checkpoint is fenced)
    #[arg(long)]
    pub fence: bool,

    /// When to use colour
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

impl GlobalArgs {
    /// Take the options given on the command line at this level of the
    /// matches (those of a subcommand, over those given before it).
    fn take_given(&mut self, matches: &clap::ArgMatches) {
        fn take<T: Clone + Send + Sync + 'static>(m: &clap::ArgMatches, id: &str, field: &mut T) {
            if is_given(m, id) {
                if let Some(value) = m.get_one::<T>(id) {
                    field.clone_from(value);
                }
            }
        }
        let GlobalArgs {
            db,
            output,
            busy_timeout,
            quiet,
            fence,
            color,
        } = self;
        take(matches, "db", db);
        take(matches, "output", output);
        take(matches, "busy_timeout", busy_timeout);
        take(matches, "quiet", quiet);
        take(matches, "fence", fence);
        take(matches, "color", color);
    }
}

/// Whether the argument `id` was given on the command line at this level.
fn is_given(matches: &clap::ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
}

/// A subcommand's arguments, with the global options defined beside them
/// when the subcommand is built (only the one that runs is: `defer`). On a
/// subcommand that has subcommands of its own (`history`, `snapshot`) they
/// are marked global there, so that clap takes them after those too, and
/// where the arguments conflict with the subcommands they do not.
#[derive(Debug)]
pub struct WithGlobals<A>(A);

impl<A> std::ops::Deref for WithGlobals<A> {
    type Target = A;

    fn deref(&self) -> &A {
        &self.0
    }
}

/// Where the global options start in a subcommand's list of options: after
/// the subcommand's own.
const GLOBAL_DISPLAY_ORDER: usize = 1000;

/// Define the global options on a subcommand, then its own arguments by
/// `augment`: listed and completed where clap's `global` puts them.
fn with_global_args(
    command: clap::Command,
    augment: impl FnOnce(clap::Command) -> clap::Command,
) -> clap::Command {
    use clap::Args as _;
    let defined = GlobalArgs::augment_args(clap::Command::new("cursorctl"));
    let globals = defined.get_arguments().enumerate();
    // The command's own options are listed first, the global ones after.
    let command = command.args(globals.map(|(order, arg)| {
        arg.clone()
            .display_order(GLOBAL_DISPLAY_ORDER.saturating_add(order))
    }));
    let mut command = augment(command.next_display_order(0));
    if command.has_subcommands() {
        let is_global =
            |arg: &clap::Arg| defined.get_arguments().any(|g| g.get_id() == arg.get_id());
        command = command.mut_args(|arg| {
            if is_global(&arg) {
                arg.global(true)
            } else {
                arg
            }
        });
    }
    command
}

impl<A: clap::Args> clap::Args for WithGlobals<A> {
    fn group_id() -> Option<clap::Id> {
        A::group_id()
    }

    fn augment_args(command: clap::Command) -> clap::Command {
        with_global_args(command, A::augment_args)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        with_global_args(command, A::augment_args_for_update)
    }
}

impl<A: FromArgMatches> FromArgMatches for WithGlobals<A> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        A::from_arg_matches(matches).map(Self)
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        A::from_arg_matches_mut(matches).map(Self)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

/// The subcommands. Each one's arguments are defined only when it is the
/// one run (`defer`): building every subcommand's arguments costs more than
/// a one-cursor `get` does. So each one's `about`, the line the command
/// list shows, is given here, outside what is deferred; it is the first
/// line of its `Args` documentation (a test checks they agree).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    #[command(about = "Create the cursor store at --db")]
    Init(WithGlobals<init::Args>),
    #[command(about = "Show one cursor, or list cursors")]
    Get(WithGlobals<get::Args>),
    #[command(about = "Checkpoint a cursor to OFFSET, or many cursors from a file")]
    Set(WithGlobals<set::Args>),
    #[command(about = "Move a cursor forward by N (default 1) or to an offset; never backwards")]
    Advance(WithGlobals<advance::Args>),
    #[command(
        about = "Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash"
    )]
    FlushSim(WithGlobals<flush_sim::Args>),
    #[command(about = "Show the recorded changes, oldest first")]
    History(WithGlobals<history::Args>),
    #[command(about = "Undo a recorded change, or every change of a batch")]
    Undo(WithGlobals<undo::Args>),
    #[command(about = "Remove one cursor, or every cursor of a consumer that matches")]
    Delete(WithGlobals<delete::Args>),
    #[command(about = "Give consumer TO the offsets of consumer FROM on every partition")]
    Copy(WithGlobals<copy::Args>),
    #[command(
        about = "Keep the offsets of cursors in the store, compare them with now, put them back"
    )]
    Snapshot(WithGlobals<snapshot::Args>),
    #[command(about = "Show which store --db names and what it holds: check it before a write")]
    Info(WithGlobals<info::Args>),
    #[command(about = "Sum up each consumer's cursors: one row per consumer")]
    Describe(WithGlobals<describe::Args>),
    #[command(about = "Record and list the heads of partitions (where each partition ends)")]
    Head(WithGlobals<head::Args>),
    #[command(about = "Show and break the leases consumers hold on cursors")]
    Lease(WithGlobals<lease::Args>),
    #[command(about = "Show each cursor's lag and status; exit 8 when one needs attention")]
    Status(WithGlobals<status::Args>),
    #[command(about = "Copy every cursor, batch, history row and snapshot into an empty store")]
    CopyStore(WithGlobals<copy_store::Args>),
    #[command(about = "Print the completion script for a shell")]
    Completions(WithGlobals<completions::Args>),
}

/// What every command needs: the global options and ways to open, print
/// and speak.
pub struct Context {
    pub global: GlobalArgs,
}

impl Context {
    /// Open the store for reading. The connection is not closed when the
    /// command ends: the process exits right after, which releases its
    /// locks, and a read-only connection has nothing to write back (closing
    /// it costs about as much as a one-cursor `get` reads).
    pub fn open_read(&self) -> CliResult<ManuallyDrop<Box<dyn Store>>> {
        Ok(ManuallyDrop::new(store::open(
            &self.global.db,
            Access::ReadOnly,
            self.global.busy_timeout,
        )?))
    }

    pub fn open_write(&self) -> CliResult<Box<dyn Store>> {
        Ok(store::open(
            &self.global.db,
            Access::ReadWrite,
            self.global.busy_timeout,
        )?)
    }

    pub fn printer(&self, shape: Shape) -> Printer {
        Printer::new(self.global.output, shape, self.global.color.stdout())
    }

    /// Print one record unless `-q`.
    pub fn print_one(&self, record: &dyn Record) -> CliResult<()> {
        if self.global.quiet {
            return Ok(());
        }
        let mut printer = self.printer(Shape::One);
        printer.record(record)?;
        printer.finish()?;
        Ok(())
    }

    /// A message for people, on stderr, unless `-q`.
    pub fn note(&self, message: &str) {
        if !self.global.quiet {
            let message = output::escape_text(message, false, &['\n', '\t']);
            let _ = writeln!(io::stderr(), "cursorctl: {message}");
        }
    }

    /// A note that lists items, one a line under `header`; nothing when
    /// there are none.
    pub fn note_list(&self, header: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let mut text = header.to_owned();
        for item in items {
            text.push_str("\n  ");
            text.push_str(item);
        }
        self.note(&text);
    }

    /// Who is making the change, for the history: `CURSORCTL_USER`, else
    /// `USER`, `LOGNAME` or `USERNAME`, else the name the operating system
    /// has for the process's user (its uid when it has no name), and
    /// `unknown` only when none of these can be found.
    pub fn user() -> String {
        ["CURSORCTL_USER", "USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .or_else(os_user)
            .unwrap_or_else(|| "unknown".to_owned())
    }
}

/// The name of the process's real user, from the user database
/// (`getpwuid_r`); its uid (`uid 1234`) when the database has no entry.
#[cfg(unix)]
fn os_user() -> Option<String> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: an all-zero passwd (null pointers, zero ids) is a valid
        // value for getpwuid_r to fill.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `pwd`, `buf` (with its true length) and `found` are valid
        // for writes for the duration of the call; the strings it points
        // `pwd` at live in `buf`, read before `buf` changes.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
            return Some(format!("uid {uid}"));
        }
        // SAFETY: on success pw_name points at a NUL-terminated string in
        // `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        let name = name.to_string_lossy().into_owned();
        return Some(if name.is_empty() {
            format!("uid {uid}")
        } else {
            name
        });
    }
}

#[cfg(not(unix))]
fn os_user() -> Option<String> {
    None
}

/// A clap error with every value it echoes of the command line shown as
/// messages show input: control characters escaped, and long values cut
/// to their first bytes with their length (see [`output::quote`]).
fn bounded_clap_error(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let show = |v: &str| {
        if v.len() <= output::SHOWN_BYTES && !v.chars().any(output::is_unsafe) {
            return v.to_owned();
        }
        let quoted = output::quote(v);
        // clap quotes the value itself: drop our quotes unless cut.
        match quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
            Some(inner) => inner.to_owned(),
            None => quoted,
        }
    };
    let changed: Vec<(ContextKind, ContextValue)> = e
        .context()
        .filter_map(|(kind, value)| match value {
            ContextValue::String(v) if show(v) != *v => Some((kind, ContextValue::String(show(v)))),
            ContextValue::Strings(vs) if vs.iter().any(|v| show(v) != *v) => Some((
                kind,
                ContextValue::Strings(vs.iter().map(|v| show(v)).collect()),
            )),
            _ => None,
        })
        .collect();
    for (kind, value) in changed {
        e.insert(kind, value);
    }
    e
}

/// The longest store location `--db` (or `CURSORCTL_DB`) takes, in bytes:
/// the longest path Linux opens.
const MAX_LOCATION_BYTES: usize = 4096;

/// Whether the raw arguments ask for JSON output (for errors found while
/// parsing them).
fn wants_json(args: &[std::ffi::OsString]) -> bool {
    raw_args::option_values(args, "output", Some('o'))
        .any(|v| matches!(v.to_str(), Some("json" | "ndjson")))
}

/// Parse the arguments. The command definition and the matches are not
/// dropped: the process ends soon after, and freeing every argument of
/// every subcommand costs about as much as parsing them.
fn parse(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    let mut command = std::mem::ManuallyDrop::new(Cli::command());
    let mut matches = std::mem::ManuallyDrop::new(command.try_get_matches_from_mut(args)?);
    let mut db_given = is_given(&matches, "db");
    let mut global = GlobalArgs::from_arg_matches_mut(&mut matches)?;
    // The global options given after the subcommand (and after its own
    // subcommand) override those given before it.
    let mut level = matches.subcommand();
    while let Some((_, sub)) = level {
        db_given |= is_given(sub, "db");
        global.take_given(sub);
        level = sub.subcommand();
    }
    let mut cli = Cli {
        global,
        command: Command::from_arg_matches_mut(&mut matches)?,
    };
    if !db_given {
        if let Some(db) = std::env::var_os("CURSORCTL_DB").filter(|v| !v.is_empty()) {
            cli.global.db = StoreLocation::from(db);
        }
    }
    Ok(cli)
}

/// The help clap rendered, with the text after the options (examples,
/// exit codes) as it is written: clap fills that text to the terminal's
/// width like prose, which would cut a command line in two and break it for
/// copy and paste. The command is the one the usage line names.
fn help_text(e: &clap::Error) -> Option<String> {
    let styled = e.render();
    let plain = styled.to_string();
    let usage = plain.split("Usage: ").nth(1)?;
    let mut words = usage.split_whitespace();
    if words.next()? != "cursorctl" {
        return None;
    }
    let mut command = Cli::command();
    for word in words {
        let Some(sub) = command.find_subcommand(word) else {
            break;
        };
        let mut sub = sub.clone();
        sub.build();
        command = sub;
    }
    let mut text = if ColorChoice::Auto.stdout() {
        styled.ansi().to_string()
    } else {
        plain.clone()
    };
    // After `--help`, clap shows the long text if there is one; after
    // `-h`, the short one: whichever of them the rendered help holds.
    let written = [command.get_after_long_help(), command.get_after_help()]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .find_map(|after| {
            let heading = format!("\n{}\n", after.lines().next()?);
            let at = text.rfind(&heading)?;
            plain.contains(&heading).then_some((at, after))
        });
    if let Some((at, after)) = written {
        text.truncate(at + 1);
        text.push_str(after.trim_end());
    }
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    Some(text)
}

/// Run the command line `args` (the program name first); returns the exit
/// code.
pub fn main(args: Vec<std::ffi::OsString>) -> u8 {
    // SAFETY: setting a signal disposition before any thread is started.
    // A closed pipe then fails the write (`EPIPE`, handled as success)
    // instead of killing the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    // A panic is a bug: exit 1, as documented, with what panicked (the
    // release build aborts on panic, which would otherwise be 134). A
    // write in progress is rolled back by the store when the process ends.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("cursorctl: error: internal error (a bug): {info}");
        std::process::exit(i32::from(error::ExitKind::Internal.code()));
    }));
    // `COMPLETE=bash cursorctl` prints the shell's registration, and the
    // shell then asks for candidates the same way; nothing else runs.
    if std::env::var_os("COMPLETE").is_some_and(|v| !v.is_empty() && v != "0") {
        clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    }
    let cli = match parse(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let e = bounded_clap_error(e);
            let code = e.exit_code();
            if code != 0 && wants_json(&args) {
                let rendered = e.render().to_string();
                let message = rendered
                    .split("\n\n")
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .trim()
                    .to_owned();
                let body =
                    serde_json::json!({"error": {"code": 2, "kind": "usage", "message": message}});
                let mut stderr = io::stderr().lock();
                let _ = output::write_json(&mut stderr, &body).and_then(|()| writeln!(stderr));
                return ExitKind::Usage.code();
            }
            if e.kind() == clap::error::ErrorKind::DisplayHelp {
                if let Some(text) = help_text(&e) {
                    let mut stdout = io::stdout().lock();
                    let _ = stdout
                        .write_all(text.as_bytes())
                        .and_then(|()| stdout.flush());
                    return 0;
                }
            }
            let _ = e.print();
            return u8::try_from(code).unwrap_or(2);
        }
    };
    let style = error::ReportStyle {
        json: cli.global.output.is_json(),
        color: cli.global.color.stderr(),
        postgres: cli.global.db.backend() == Backend::POSTGRES,
    };
    if cli.global.db.as_os_str().len() > MAX_LOCATION_BYTES {
        // Shown as messages show it: redacted, then cut.
        let e = error::Failure::usage(format!(
            "the store location {} is longer than {MAX_LOCATION_BYTES} bytes, the longest --db (or CURSORCTL_DB) takes",
            output::quote(&cli.global.db.to_string())
        ));
        return report(&e.into(), style).code();
    }
    let backend = cli.global.db.backend();
    if let Err(message) = backend.check_busy_timeout(cli.global.busy_timeout) {
        return report(&error::Failure::usage(message).into(), style).code();
    }
    let ctx = Context { global: cli.global };
    if ctx.global.output == Format::Prometheus
        && !matches!(cli.command, Command::Get(_) | Command::Status(_))
    {
        let failure = error::Failure::usage("-o prometheus is for `get` listings and `status`");
        return report(&failure.into(), style).code();
    }
    if ctx.global.fence
        && !matches!(
            cli.command,
            Command::Set(_)
                | Command::Advance(_)
                | Command::Undo(_)
                | Command::Delete(_)
                | Command::Copy(_)
                | Command::Snapshot(_)
        )
    {
        let failure = error::Failure::usage(
            "--fence is for writes to cursors (set, advance, undo, delete, copy, snapshot restore)",
        );
        return report(&failure.into(), style).code();
    }
    lease::configure(ctx.global.fence, ctx.global.quiet);
    let result = match cli.command {
        Command::Init(args) => init::run(&ctx, &args),
        Command::Get(args) => get::run(&ctx, &args),
        Command::Set(args) => set::run(&ctx, &args),
        Command::Advance(args) => advance::run(&ctx, &args),
        Command::FlushSim(args) => flush_sim::run(&ctx, &args),
        Command::History(args) => history::run(&ctx, &args),
        Command::Undo(args) => undo::run(&ctx, &args),
        Command::Delete(args) => delete::run(&ctx, &args),
        Command::Copy(args) => copy::run(&ctx, &args),
        Command::Snapshot(args) => snapshot::run(&ctx, &args),
        Command::Info(args) => info::run(&ctx, &args),
        Command::Describe(args) => describe::run(&ctx, &args),
        Command::Head(args) => head::run(&ctx, &args),
        Command::Lease(args) => lease::run(&ctx, &args),
        Command::Status(args) => status::run(&ctx, &args),
        Command::CopyStore(args) => copy_store::run(&ctx, &args),
        Command::Completions(args) => completions::run(&args, &mut Cli::command()),
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => report(&e, style).code(),
    }
}

#[cfg(test)]
mod tests;

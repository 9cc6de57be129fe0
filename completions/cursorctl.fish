# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cursorctl_global_optspecs
    string join \n db= o/output= busy-timeout= q/quiet fence color= h/help V/version
end

function __fish_cursorctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cursorctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cursorctl_using_subcommand
    set -l cmd (__fish_cursorctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cursorctl -n "__fish_cursorctl_needs_command" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_needs_command" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s V -l version -d 'Print version'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "init" -d 'Create the cursor store at --db'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "get" -d 'Show one cursor, or list cursors'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "set" -d 'Checkpoint a cursor to OFFSET, or many cursors from a file'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "advance" -d 'Move a cursor forward by N (default 1) or to an offset; never backwards'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "flush-sim" -d 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "history" -d 'Show the recorded changes, oldest first'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "undo" -d 'Undo a recorded change, or every change of a batch'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "delete" -d 'Remove one cursor, or every cursor of a consumer that matches'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "copy" -d 'Give consumer TO the offsets of consumer FROM on every partition'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "snapshot" -d 'Keep the offsets of cursors in the store, compare them with now, put them back'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "info" -d 'Show which store --db names and what it holds: check it before a write'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "describe" -d 'Sum up each consumer\'s cursors: one row per consumer'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "head" -d 'Record and list the heads of partitions (where each partition ends)'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "lease" -d 'Show and break the leases consumers hold on cursors'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "status" -d 'Show each cursor\'s lag and status; exit 8 when one needs attention'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "copy-store" -d 'Copy every cursor, batch, history row and snapshot into an empty store'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l channel -d 'List only cursors on this channel' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l idle-for -d 'List only cursors not written for at least this long (for example 15m)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l watch -d 'Re-read every INTERVAL (--watch alone: 2s) and show each cursor\'s offset, its change since the last read, the rate (offsets/s) and how long it has been idle, and where its partition has a head (`head set`) its lag and the seconds it needs to catch up at the rates measured; each read is stamped with its time (read_at), and a cursor that is not there is shown with status absent (watched by its key) or deleted (gone since the last read). On a terminal the table is redrawn in place, elsewhere one record set is written per read. Ctrl-C stops (exit 0)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l count -d 'With --watch: stop after N reads' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l must-exist -d 'Fail with exit 5 when the cursor is absent (or, for a listing, when nothing matches)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l from-file -d 'Read many cursors from PATH (- for stdin): NDJSON, JSON, TSV or CSV, all or nothing' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l input-format -d 'The format of --from-file (default: detected: `{` starts NDJSON, a `{` alone or `[` JSON, a header with a tab TSV, anything else CSV)' -r -f -a "ndjson\t'One JSON object a line (the shape `get -o ndjson` prints)'
json\t'A JSON array of objects (the shape `get -o json` prints), or objects one after another in any layout (as `jq` pretty-prints them)'
csv\t'Comma-separated values with a header line'
tsv\t'Tab-separated values with a header line (the shape `get -o tsv` prints)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l expect -d 'Compare-and-swap against this offset instead of the one just read' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l reason -d 'Why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l create -d 'Create the cursor if it does not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l allow-confusable -d 'With --create: create a consumer even when its name looks like an existing one\'s (svc and svс, with a Cyrillic с), which is refused otherwise'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l dry-run -d 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l allow-rewind -d 'Allow moving the cursor backwards (needs --reason)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l by -d 'Move forward by this many offsets' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l to -d 'Move to this offset (not below the current one)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l channel -d 'With --to-head and no PARTITION_KEY: every cursor of CONSUMER on this channel' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l expect -d 'Compare-and-swap against this offset instead of the one just read' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l reason -d 'Why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l to-head -d 'Move to the partition\'s head (needs --reason)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l create -d 'Create the cursor if it does not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l allow-confusable -d 'With --create: create a consumer even when its name looks like an existing one\'s (svc and svс, with a Cyrillic с), which is refused otherwise'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l dry-run -d 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l policy -d 'Checkpoint policy: per-message, per-batch:N (N >= 1) or explicit-flush' -r -f -a "per-message\t''
per-batch:10\t''
per-batch:100\t''
per-batch:1000\t''
explicit-flush\t''"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l messages -d 'Simulate N processed messages after the cursor\'s offset' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l offsets -d 'Read the next offset of each processed message from PATH, one a line (- for stdin)' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l flush-every -d 'Also flush every M messages, whatever the policy' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l crash-after -d 'Crash after K messages: no final flush; report what a restarted consumer processes again' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l reason -d 'With --commit: why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l compare -d 'Run the same input under per-message, per-batch:10, per-batch:100, per-batch:1000 and explicit-flush (and --policy, if another), one row each'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l commit -d 'Write the checkpoints to the store, each in its own transaction, recorded in the history'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l create -d 'With --commit: create the cursor if it does not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l consumer -d 'Only this consumer, whatever its name: a consumer named like a subcommand (prune, verify, help) is listed this way' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l limit -d 'Only the newest N changes (still printed oldest first)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l since -d 'Only changes at or after TIME: a duration meaning that long ago (1h, 30m, 2d), a date (2024-05-01, midnight UTC), or a time with its zone (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00); a time without a zone is refused' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l batch -d 'Only the changes of this batch' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l user -d 'Only the changes recorded with this user (the name the writer gave)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l role -d 'Only the changes written by this database role, proven by the server (PostgreSQL; on SQLite, which has no roles, a usage error)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l command -d 'Only the changes of this command (`set`, `advance`, `delete`, ...: the first word of the recorded command)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -a "prune" -d 'Delete the history older than a time, never half a batch'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -a "verify" -d 'Check that no recorded change was altered behind the tool\'s back'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and not __fish_seen_subcommand_from prune verify help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l before -d 'Delete the changes made before TIME: a duration meaning that long ago (90d), a date (2024-05-01, midnight UTC) or a time with its zone (required)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l reason -d 'Why (recorded with the prune)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l dry-run -d 'Say how much would be deleted; delete nothing'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -l head -d 'The head hash an earlier `history verify` printed (hexadecimal): also check that the chain still holds that head\'s change as it was, i.e. that the chain was extended, not rewritten, since (only while that change is the newest: otherwise check it is in the chain)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Delete the history older than a time, never half a batch'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check that no recorded change was altered behind the tool\'s back'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l batch -d 'Undo every change of this batch, all or nothing' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l since -d 'Undo every change made since TIME, newest first, as one batch: a date (2024-05-01, midnight UTC), a time with its zone (2024-05-01T12:00:00Z), or a duration meaning that long ago (1h)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l reason -d 'Why (recorded in the history; needed when the undo moves a cursor back)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l skip-moved -d 'With --batch or --since: leave the cursors that moved since (by someone else) as they are and list them, instead of refusing the whole undo (exit 3)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l dry-run -d 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l raw-key -d 'Remove the one cursor stored under this key, as `get` lists it, even when its names are ones cursorctl refuses (written by another program: `sp ace:orders:0`); needs --reason' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l expect -d 'Remove the cursor only if it holds this offset (exit 3 otherwise)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l channel -d 'Only cursors on this channel' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l idle-for -d 'Only cursors not written for at least this long (for example 30days)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l reason -d 'Why (recorded in the history; needed to remove a cursor above 0)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -l dry-run -d 'Show what would be removed; write nothing'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l channel -d 'Only the partitions of this channel' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l reason -d 'Why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l create -d 'Create TO\'s cursors that do not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l allow-confusable -d 'With --create: create TO even when its name looks like an existing consumer\'s (svc and svс, with a Cyrillic с), which is refused otherwise'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l allow-rewind -d 'Allow moving TO\'s cursors backwards (needs --reason)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -l dry-run -d 'Show the plan; write nothing'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -f -a "save" -d 'Keep the offsets of every cursor (of CONSUMER) under NAME'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -f -a "list" -d 'List the snapshots'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -f -a "show" -d 'Compare a snapshot with now: saved, current and delta per cursor'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -f -a "restore" -d 'Put a snapshot\'s offsets back, as one batch'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -f -a "drop" -d 'Delete a snapshot'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and not __fish_seen_subcommand_from save list show restore drop help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -l reason -d 'Why (kept with the snapshot)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from save" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l reason -d 'Why (needed when a cursor moves back)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l delete-new -d 'Also remove the cursors created since the snapshot'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l dry-run -d 'Show the plan; write nothing'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "save" -d 'Keep the offsets of every cursor (of CONSUMER) under NAME'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the snapshots'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "show" -d 'Compare a snapshot with now: saved, current and delta per cursor'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Put a snapshot\'s offsets back, as one batch'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "drop" -d 'Delete a snapshot'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand snapshot; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l idle-for -d 'Count a cursor as idle when it was not written for this long' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l stall-after -d 'Count a cursor with lag as stalled when it was not written for this long' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -l must-exist -d 'Fail with exit 5 when no consumer matches'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand describe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -f -a "set" -d 'Record the head of a partition, or many heads from a file'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -f -a "get" -d 'List heads: partition_key, head, recorded_at'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -f -a "history" -d 'List recorded head changes, oldest first'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and not __fish_seen_subcommand_from set get history help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l from-file -d 'Read many heads from FILE (`-`: stdin)' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l reason -d 'Why (recorded in the head history; needed with --allow-rewind)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l allow-rewind -d 'Allow a head to move back (a log truncated or recreated); needs --reason'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l dry-run -d 'Show what would be recorded; write nothing'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from help" -f -a "set" -d 'Record the head of a partition, or many heads from a file'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from help" -f -a "get" -d 'List heads: partition_key, head, recorded_at'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from help" -f -a "history" -d 'List recorded head changes, oldest first'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand head; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -f -a "list" -d 'List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -f -a "break" -d 'End a cursor\'s live lease: its epoch grows by one, and its holder\'s next checkpoint is refused as fenced. Recorded in the history'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and not __fish_seen_subcommand_from list break help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -l reason -d 'Why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -l dry-run -d 'Show what would be broken; write nothing'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from break" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "list" -d 'List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "break" -d 'End a cursor\'s live lease: its epoch grows by one, and its holder\'s next checkpoint is refused as fenced. Recorded in the history'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l channel -d 'Only cursors on this channel' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l idle-for -d 'Only cursors not written for at least this long (for example 15m)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l stall-after -d 'A cursor with lag that has not moved for this long is stalled' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -l must-exist -d 'Fail with exit 5 when no cursor matches'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -l to -d 'The store to copy into: a path or a postgres:// URL' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand copy-store" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l db -d 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'
prometheus\t'Prometheus text format (`get` listings and `status` only)'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l busy-timeout -d 'How long to wait for a store locked by another writer (at most what the store\'s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l fence -d 'Writes: also break the live lease of each cursor written, in the same transaction (its holder\'s next checkpoint is fenced)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "init" -d 'Create the cursor store at --db'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "get" -d 'Show one cursor, or list cursors'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "set" -d 'Checkpoint a cursor to OFFSET, or many cursors from a file'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "advance" -d 'Move a cursor forward by N (default 1) or to an offset; never backwards'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "flush-sim" -d 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "history" -d 'Show the recorded changes, oldest first'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "undo" -d 'Undo a recorded change, or every change of a batch'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "delete" -d 'Remove one cursor, or every cursor of a consumer that matches'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "copy" -d 'Give consumer TO the offsets of consumer FROM on every partition'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "snapshot" -d 'Keep the offsets of cursors in the store, compare them with now, put them back'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "info" -d 'Show which store --db names and what it holds: check it before a write'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "describe" -d 'Sum up each consumer\'s cursors: one row per consumer'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "head" -d 'Record and list the heads of partitions (where each partition ends)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "lease" -d 'Show and break the leases consumers hold on cursors'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "status" -d 'Show each cursor\'s lag and status; exit 8 when one needs attention'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "copy-store" -d 'Copy every cursor, batch, history row and snapshot into an empty store'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo delete copy snapshot info describe head lease status copy-store completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

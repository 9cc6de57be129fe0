# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cursorctl_global_optspecs
    string join \n db= o/output= busy-timeout= q/quiet color= h/help V/version
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

complete -c cursorctl -n "__fish_cursorctl_needs_command" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_needs_command" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -s V -l version -d 'Print version'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "init" -d 'Create the cursor store at --db'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "get" -d 'Show one cursor, or list cursors'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "set" -d 'Checkpoint a cursor to OFFSET, or many cursors from a file'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "advance" -d 'Move a cursor forward by N (default 1) or to an offset; never backwards'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "flush-sim" -d 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "history" -d 'Show the recorded changes, oldest first'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "undo" -d 'Undo a recorded change, or every change of a batch'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "man" -d 'Write man pages for cursorctl and every command into a folder'
complete -c cursorctl -n "__fish_cursorctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l channel -d 'List only cursors on this channel' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l idle-for -d 'List only cursors not written for at least this long (for example 15m)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -l must-exist -d 'Fail with exit 5 when the cursor is absent (or, for a listing, when nothing matches)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l from-file -d 'Read many cursors from PATH (- for stdin): NDJSON or CSV, all or nothing' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l input-format -d 'The format of --from-file (default: detected, `{` starts NDJSON)' -r -f -a "ndjson\t'One JSON object a line (the shape `get -o ndjson` prints)'
csv\t'Comma-separated values with a header line'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l expect -d 'Compare-and-swap against this offset instead of the one just read' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l reason -d 'Why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l create -d 'Create the cursor if it does not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l dry-run -d 'Show what would happen; write nothing and take no write lock'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -l allow-rewind -d 'Allow moving the cursor backwards (needs --reason)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l by -d 'Move forward by this many offsets' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l to -d 'Move to this offset (not below the current one)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l expect -d 'Compare-and-swap against this offset instead of the one just read' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l reason -d 'Why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l create -d 'Create the cursor if it does not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -l dry-run -d 'Show what would happen; write nothing and take no write lock'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand advance" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l policy -d 'Checkpoint policy: per-message, per-batch:N (N >= 1) or explicit-flush' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l messages -d 'Simulate N processed messages after the cursor\'s offset' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l offsets -d 'Read the next offset of each processed message from PATH, one a line (- for stdin)' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l flush-every -d 'Also flush every M messages, whatever the policy' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l crash-after -d 'Crash after K messages: no final flush; report what a restarted consumer processes again' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l reason -d 'With --commit: why (recorded in the history)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l compare -d 'Run the same input under per-message, per-batch:10, per-batch:100, per-batch:1000 and explicit-flush (and --policy, if another), one row each'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l commit -d 'Write the checkpoints to the store, each in its own transaction, recorded in the history'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -l create -d 'With --commit: create the cursor if it does not exist'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand flush-sim" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -l limit -d 'Only the newest N changes (still printed oldest first)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -l since -d 'Only changes at or after TIME: RFC 3339 (2024-05-01T12:00:00Z), or a duration meaning that long ago (1h, 2days)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -l batch -d 'Only the changes of this batch' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l batch -d 'Undo every change of this batch, all or nothing' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l reason -d 'Why (recorded in the history; needed when the undo moves a cursor back)' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -l dry-run -d 'Show what would happen; write nothing and take no write lock'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand undo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -l db -d 'Path of the cursor store' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -s o -l output -d 'Output format' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON document: an object, or an array for listings'
ndjson\t'One JSON object a line'
tsv\t'Tab-separated values with a header line'
value\t'Bare values (offsets), one a line, for `$(...)`'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -l busy-timeout -d 'How long to wait for a store locked by another writer' -r
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -l color -d 'When to use colour' -r -f -a "auto\t'When the stream is a terminal and `NO_COLOR` is not set'
always\t'Always'
never\t'Never'"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -l out-dir -d 'The folder to write cursorctl.1 and cursorctl-COMMAND.1 into' -r -F
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -s q -l quiet -d 'Print no change records or notes (errors are still printed)'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "init"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "get"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "set"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "advance"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "flush-sim"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "history"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "undo"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "completions"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "man"
complete -c cursorctl -n "__fish_cursorctl_using_subcommand help; and not __fish_seen_subcommand_from init get set advance flush-sim history undo completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

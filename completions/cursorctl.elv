
use builtin;
use str;

set edit:completion:arg-completer[cursorctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'cursorctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'cursorctl'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create the cursor store at --db'
            cand get 'Show one cursor, or list cursors'
            cand set 'Checkpoint a cursor to OFFSET, or many cursors from a file'
            cand advance 'Move a cursor forward by N (default 1) or to an offset; never backwards'
            cand flush-sim 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash'
            cand history 'Show the recorded changes, oldest first'
            cand undo 'Undo a recorded change, or every change of a batch'
            cand delete 'Remove one cursor, or every cursor of a consumer that matches'
            cand copy 'Give consumer TO the offsets of consumer FROM on every partition'
            cand snapshot 'Keep the offsets of cursors in the store, compare them with now, put them back'
            cand info 'Show which store --db names and what it holds: check it before a write'
            cand describe 'Sum up each consumer''s cursors: one row per consumer'
            cand head 'Record and list the heads of partitions (where each partition ends)'
            cand lease 'Show and break the leases consumers hold on cursors'
            cand status 'Show each cursor''s lag and status; exit 8 when one needs attention'
            cand copy-store 'Copy every cursor, batch, history row and snapshot into an empty store'
            cand completions 'Print the completion script for a shell'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;init'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;get'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --channel 'List only cursors on this channel'
            cand --idle-for 'List only cursors not written for at least this long (for example 15m)'
            cand --watch 'Re-read every INTERVAL (--watch alone: 2s) and show each cursor''s offset, its change since the last read, the rate (offsets/s) and how long it has been idle, and where its partition has a head (`head set`) its lag and the seconds it needs to catch up at the rates measured; each read is stamped with its time (read_at), and a cursor that is not there is shown with status absent (watched by its key) or deleted (gone since the last read). On a terminal the table is redrawn in place, elsewhere one record set is written per read. Ctrl-C stops (exit 0)'
            cand --count 'With --watch: stop after N reads'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --must-exist 'Fail with exit 5 when the cursor is absent (or, for a listing, when nothing matches)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;set'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --from-file 'Read many cursors from PATH (- for stdin): NDJSON, JSON, TSV or CSV, all or nothing'
            cand --input-format 'The format of --from-file (default: detected: `{` starts NDJSON, a `{` alone or `[` JSON, a header with a tab TSV, anything else CSV)'
            cand --expect 'Compare-and-swap against this offset instead of the one just read'
            cand --reason 'Why (recorded in the history)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --create 'Create the cursor if it does not exist'
            cand --allow-confusable 'With --create: create a consumer even when its name looks like an existing one''s (svc and svс, with a Cyrillic с), which is refused otherwise'
            cand --dry-run 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept'
            cand --allow-rewind 'Allow moving the cursor backwards (needs --reason)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;advance'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --by 'Move forward by this many offsets'
            cand --to 'Move to this offset (not below the current one)'
            cand --channel 'With --to-head and no PARTITION_KEY: every cursor of CONSUMER on this channel'
            cand --expect 'Compare-and-swap against this offset instead of the one just read'
            cand --reason 'Why (recorded in the history)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --to-head 'Move to the partition''s head (needs --reason)'
            cand --create 'Create the cursor if it does not exist'
            cand --allow-confusable 'With --create: create a consumer even when its name looks like an existing one''s (svc and svс, with a Cyrillic с), which is refused otherwise'
            cand --dry-run 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;flush-sim'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --policy 'Checkpoint policy: per-message, per-batch:N (N >= 1) or explicit-flush'
            cand --messages 'Simulate N processed messages after the cursor''s offset'
            cand --offsets 'Read the next offset of each processed message from PATH, one a line (- for stdin)'
            cand --flush-every 'Also flush every M messages, whatever the policy'
            cand --crash-after 'Crash after K messages: no final flush; report what a restarted consumer processes again'
            cand --reason 'With --commit: why (recorded in the history)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --compare 'Run the same input under per-message, per-batch:10, per-batch:100, per-batch:1000 and explicit-flush (and --policy, if another), one row each'
            cand --commit 'Write the checkpoints to the store, each in its own transaction, recorded in the history'
            cand --create 'With --commit: create the cursor if it does not exist'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;history'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --consumer 'Only this consumer, whatever its name: a consumer named like a subcommand (prune, verify, help) is listed this way'
            cand --limit 'Only the newest N changes (still printed oldest first)'
            cand --since 'Only changes at or after TIME: a duration meaning that long ago (1h, 30m, 2d), a date (2024-05-01, midnight UTC), or a time with its zone (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00); a time without a zone is refused'
            cand --batch 'Only the changes of this batch'
            cand --user 'Only the changes recorded with this user (the name the writer gave)'
            cand --role 'Only the changes written by this database role, proven by the server (PostgreSQL; on SQLite, which has no roles, a usage error)'
            cand --command 'Only the changes of this command (`set`, `advance`, `delete`, ...: the first word of the recorded command)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand prune 'Delete the history older than a time, never half a batch'
            cand verify 'Check that no recorded change was altered behind the tool''s back'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;history;prune'= {
            cand --before 'Delete the changes made before TIME: a duration meaning that long ago (90d), a date (2024-05-01, midnight UTC) or a time with its zone (required)'
            cand --reason 'Why (recorded with the prune)'
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --dry-run 'Say how much would be deleted; delete nothing'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;history;verify'= {
            cand --head 'The head hash an earlier `history verify` printed (hexadecimal): also check that the chain still holds that head''s change as it was, i.e. that the chain was extended, not rewritten, since (only while that change is the newest: otherwise check it is in the chain)'
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;history;help'= {
            cand prune 'Delete the history older than a time, never half a batch'
            cand verify 'Check that no recorded change was altered behind the tool''s back'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;history;help;prune'= {
        }
        &'cursorctl;history;help;verify'= {
        }
        &'cursorctl;history;help;help'= {
        }
        &'cursorctl;undo'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --batch 'Undo every change of this batch, all or nothing'
            cand --since 'Undo every change made since TIME, newest first, as one batch: a date (2024-05-01, midnight UTC), a time with its zone (2024-05-01T12:00:00Z), or a duration meaning that long ago (1h)'
            cand --reason 'Why (recorded in the history; needed when the undo moves a cursor back)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --skip-moved 'With --batch or --since: leave the cursors that moved since (by someone else) as they are and list them, instead of refusing the whole undo (exit 3)'
            cand --dry-run 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;delete'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --raw-key 'Remove the one cursor stored under this key, as `get` lists it, even when its names are ones cursorctl refuses (written by another program: `sp ace:orders:0`); needs --reason'
            cand --expect 'Remove the cursor only if it holds this offset (exit 3 otherwise)'
            cand --channel 'Only cursors on this channel'
            cand --idle-for 'Only cursors not written for at least this long (for example 30days)'
            cand --reason 'Why (recorded in the history; needed to remove a cursor above 0)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --dry-run 'Show what would be removed; write nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;copy'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --channel 'Only the partitions of this channel'
            cand --reason 'Why (recorded in the history)'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --create 'Create TO''s cursors that do not exist'
            cand --allow-confusable 'With --create: create TO even when its name looks like an existing consumer''s (svc and svс, with a Cyrillic с), which is refused otherwise'
            cand --allow-rewind 'Allow moving TO''s cursors backwards (needs --reason)'
            cand --dry-run 'Show the plan; write nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;snapshot'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand save 'Keep the offsets of every cursor (of CONSUMER) under NAME'
            cand list 'List the snapshots'
            cand show 'Compare a snapshot with now: saved, current and delta per cursor'
            cand restore 'Put a snapshot''s offsets back, as one batch'
            cand drop 'Delete a snapshot'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;snapshot;save'= {
            cand --reason 'Why (kept with the snapshot)'
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;snapshot;list'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;snapshot;show'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;snapshot;restore'= {
            cand --reason 'Why (needed when a cursor moves back)'
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --delete-new 'Also remove the cursors created since the snapshot'
            cand --dry-run 'Show the plan; write nothing'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;snapshot;drop'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;snapshot;help'= {
            cand save 'Keep the offsets of every cursor (of CONSUMER) under NAME'
            cand list 'List the snapshots'
            cand show 'Compare a snapshot with now: saved, current and delta per cursor'
            cand restore 'Put a snapshot''s offsets back, as one batch'
            cand drop 'Delete a snapshot'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;snapshot;help;save'= {
        }
        &'cursorctl;snapshot;help;list'= {
        }
        &'cursorctl;snapshot;help;show'= {
        }
        &'cursorctl;snapshot;help;restore'= {
        }
        &'cursorctl;snapshot;help;drop'= {
        }
        &'cursorctl;snapshot;help;help'= {
        }
        &'cursorctl;info'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;describe'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --idle-for 'Count a cursor as idle when it was not written for this long'
            cand --stall-after 'Count a cursor with lag as stalled when it was not written for this long'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --must-exist 'Fail with exit 5 when no consumer matches'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;head'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand set 'Record the head of a partition, or many heads from a file'
            cand get 'List heads: partition_key, head, recorded_at'
            cand history 'List recorded head changes, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;head;set'= {
            cand --from-file 'Read many heads from FILE (`-`: stdin)'
            cand --reason 'Why (recorded in the head history; needed with --allow-rewind)'
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --allow-rewind 'Allow a head to move back (a log truncated or recreated); needs --reason'
            cand --dry-run 'Show what would be recorded; write nothing'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;head;get'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;head;history'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;head;help'= {
            cand set 'Record the head of a partition, or many heads from a file'
            cand get 'List heads: partition_key, head, recorded_at'
            cand history 'List recorded head changes, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;head;help;set'= {
        }
        &'cursorctl;head;help;get'= {
        }
        &'cursorctl;head;help;history'= {
        }
        &'cursorctl;head;help;help'= {
        }
        &'cursorctl;lease'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)'
            cand break 'End a cursor''s live lease: its epoch grows by one, and its holder''s next checkpoint is refused as fenced. Recorded in the history'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;lease;list'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;lease;break'= {
            cand --reason 'Why (recorded in the history)'
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --dry-run 'Show what would be broken; write nothing'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;lease;help'= {
            cand list 'List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)'
            cand break 'End a cursor''s live lease: its epoch grows by one, and its holder''s next checkpoint is refused as fenced. Recorded in the history'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;lease;help;list'= {
        }
        &'cursorctl;lease;help;break'= {
        }
        &'cursorctl;lease;help;help'= {
        }
        &'cursorctl;status'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --channel 'Only cursors on this channel'
            cand --idle-for 'Only cursors not written for at least this long (for example 15m)'
            cand --stall-after 'A cursor with lag that has not moved for this long is stalled'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand --must-exist 'Fail with exit 5 when no cursor matches'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;copy-store'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand --to 'The store to copy into: a path or a postgres:// URL'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;completions'= {
            cand --db 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --busy-timeout 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)'
            cand --color 'When to use colour'
            cand -q 'Print no change records or notes (errors are still printed)'
            cand --quiet 'Print no change records or notes (errors are still printed)'
            cand --fence 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'cursorctl;help'= {
            cand init 'Create the cursor store at --db'
            cand get 'Show one cursor, or list cursors'
            cand set 'Checkpoint a cursor to OFFSET, or many cursors from a file'
            cand advance 'Move a cursor forward by N (default 1) or to an offset; never backwards'
            cand flush-sim 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash'
            cand history 'Show the recorded changes, oldest first'
            cand undo 'Undo a recorded change, or every change of a batch'
            cand delete 'Remove one cursor, or every cursor of a consumer that matches'
            cand copy 'Give consumer TO the offsets of consumer FROM on every partition'
            cand snapshot 'Keep the offsets of cursors in the store, compare them with now, put them back'
            cand info 'Show which store --db names and what it holds: check it before a write'
            cand describe 'Sum up each consumer''s cursors: one row per consumer'
            cand head 'Record and list the heads of partitions (where each partition ends)'
            cand lease 'Show and break the leases consumers hold on cursors'
            cand status 'Show each cursor''s lag and status; exit 8 when one needs attention'
            cand copy-store 'Copy every cursor, batch, history row and snapshot into an empty store'
            cand completions 'Print the completion script for a shell'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cursorctl;help;init'= {
        }
        &'cursorctl;help;get'= {
        }
        &'cursorctl;help;set'= {
        }
        &'cursorctl;help;advance'= {
        }
        &'cursorctl;help;flush-sim'= {
        }
        &'cursorctl;help;history'= {
        }
        &'cursorctl;help;undo'= {
        }
        &'cursorctl;help;delete'= {
        }
        &'cursorctl;help;copy'= {
        }
        &'cursorctl;help;snapshot'= {
        }
        &'cursorctl;help;info'= {
        }
        &'cursorctl;help;describe'= {
        }
        &'cursorctl;help;head'= {
        }
        &'cursorctl;help;lease'= {
        }
        &'cursorctl;help;status'= {
        }
        &'cursorctl;help;copy-store'= {
        }
        &'cursorctl;help;completions'= {
        }
        &'cursorctl;help;help'= {
        }
    ]
    $completions[$command]
}


using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'cursorctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'cursorctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'cursorctl' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the cursor store at --db')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show one cursor, or list cursors')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Checkpoint a cursor to OFFSET, or many cursors from a file')
            [CompletionResult]::new('advance', 'advance', [CompletionResultType]::ParameterValue, 'Move a cursor forward by N (default 1) or to an offset; never backwards')
            [CompletionResult]::new('flush-sim', 'flush-sim', [CompletionResultType]::ParameterValue, 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the recorded changes, oldest first')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Undo a recorded change, or every change of a batch')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove one cursor, or every cursor of a consumer that matches')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Give consumer TO the offsets of consumer FROM on every partition')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Keep the offsets of cursors in the store, compare them with now, put them back')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show which store --db names and what it holds: check it before a write')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Sum up each consumer''s cursors: one row per consumer')
            [CompletionResult]::new('head', 'head', [CompletionResultType]::ParameterValue, 'Record and list the heads of partitions (where each partition ends)')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Show and break the leases consumers hold on cursors')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each cursor''s lag and status; exit 8 when one needs attention')
            [CompletionResult]::new('copy-store', 'copy-store', [CompletionResultType]::ParameterValue, 'Copy every cursor, batch, history row and snapshot into an empty store')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;init' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;get' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'List only cursors on this channel')
            [CompletionResult]::new('--idle-for', '--idle-for', [CompletionResultType]::ParameterName, 'List only cursors not written for at least this long (for example 15m)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Re-read every INTERVAL (--watch alone: 2s) and show each cursor''s offset, its change since the last read, the rate (offsets/s) and how long it has been idle, and where its partition has a head (`head set`) its lag and the seconds it needs to catch up at the rates measured; each read is stamped with its time (read_at), and a cursor that is not there is shown with status absent (watched by its key) or deleted (gone since the last read). On a terminal the table is redrawn in place, elsewhere one record set is written per read. Ctrl-C stops (exit 0)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'With --watch: stop after N reads')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--must-exist', '--must-exist', [CompletionResultType]::ParameterName, 'Fail with exit 5 when the cursor is absent (or, for a listing, when nothing matches)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;set' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read many cursors from PATH (- for stdin): NDJSON, JSON, TSV or CSV, all or nothing')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'The format of --from-file (default: detected: `{` starts NDJSON, a `{` alone or `[` JSON, a header with a tab TSV, anything else CSV)')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Compare-and-swap against this offset instead of the one just read')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the history)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create the cursor if it does not exist')
            [CompletionResult]::new('--allow-confusable', '--allow-confusable', [CompletionResultType]::ParameterName, 'With --create: create a consumer even when its name looks like an existing one''s (svc and svс, with a Cyrillic с), which is refused otherwise')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept')
            [CompletionResult]::new('--allow-rewind', '--allow-rewind', [CompletionResultType]::ParameterName, 'Allow moving the cursor backwards (needs --reason)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;advance' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Move forward by this many offsets')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Move to this offset (not below the current one)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'With --to-head and no PARTITION_KEY: every cursor of CONSUMER on this channel')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Compare-and-swap against this offset instead of the one just read')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the history)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--to-head', '--to-head', [CompletionResultType]::ParameterName, 'Move to the partition''s head (needs --reason)')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create the cursor if it does not exist')
            [CompletionResult]::new('--allow-confusable', '--allow-confusable', [CompletionResultType]::ParameterName, 'With --create: create a consumer even when its name looks like an existing one''s (svc and svс, with a Cyrillic с), which is refused otherwise')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;flush-sim' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Checkpoint policy: per-message, per-batch:N (N >= 1) or explicit-flush')
            [CompletionResult]::new('--messages', '--messages', [CompletionResultType]::ParameterName, 'Simulate N processed messages after the cursor''s offset')
            [CompletionResult]::new('--offsets', '--offsets', [CompletionResultType]::ParameterName, 'Read the next offset of each processed message from PATH, one a line (- for stdin)')
            [CompletionResult]::new('--flush-every', '--flush-every', [CompletionResultType]::ParameterName, 'Also flush every M messages, whatever the policy')
            [CompletionResult]::new('--crash-after', '--crash-after', [CompletionResultType]::ParameterName, 'Crash after K messages: no final flush; report what a restarted consumer processes again')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'With --commit: why (recorded in the history)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Run the same input under per-message, per-batch:10, per-batch:100, per-batch:1000 and explicit-flush (and --policy, if another), one row each')
            [CompletionResult]::new('--commit', '--commit', [CompletionResultType]::ParameterName, 'Write the checkpoints to the store, each in its own transaction, recorded in the history')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'With --commit: create the cursor if it does not exist')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;history' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--consumer', '--consumer', [CompletionResultType]::ParameterName, 'Only this consumer, whatever its name: a consumer named like a subcommand (prune, verify, help) is listed this way')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Only the newest N changes (still printed oldest first)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only changes at or after TIME: a duration meaning that long ago (1h, 30m, 2d), a date (2024-05-01, midnight UTC), or a time with its zone (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00); a time without a zone is refused')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Only the changes of this batch')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only the changes recorded with this user (the name the writer gave)')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'Only the changes written by this database role, proven by the server (PostgreSQL; on SQLite, which has no roles, a usage error)')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'Only the changes of this command (`set`, `advance`, `delete`, ...: the first word of the recorded command)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete the history older than a time, never half a batch')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that no recorded change was altered behind the tool''s back')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;history;prune' {
            [CompletionResult]::new('--before', '--before', [CompletionResultType]::ParameterName, 'Delete the changes made before TIME: a duration meaning that long ago (90d), a date (2024-05-01, midnight UTC) or a time with its zone (required)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the prune)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say how much would be deleted; delete nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;history;verify' {
            [CompletionResult]::new('--head', '--head', [CompletionResultType]::ParameterName, 'The head hash an earlier `history verify` printed (hexadecimal): also check that the chain still holds that head''s change as it was, i.e. that the chain was extended, not rewritten, since (only while that change is the newest: otherwise check it is in the chain)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;history;help' {
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Delete the history older than a time, never half a batch')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that no recorded change was altered behind the tool''s back')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;history;help;prune' {
            break
        }
        'cursorctl;history;help;verify' {
            break
        }
        'cursorctl;history;help;help' {
            break
        }
        'cursorctl;undo' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Undo every change of this batch, all or nothing')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Undo every change made since TIME, newest first, as one batch: a date (2024-05-01, midnight UTC), a time with its zone (2024-05-01T12:00:00Z), or a duration meaning that long ago (1h)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the history; needed when the undo moves a cursor back)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--skip-moved', '--skip-moved', [CompletionResultType]::ParameterName, 'With --batch or --since: leave the cursors that moved since (by someone else) as they are and list them, instead of refusing the whole undo (exit 3)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what the write would do: the same records and exit code; the write runs and is rolled back, so nothing is kept')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;delete' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--raw-key', '--raw-key', [CompletionResultType]::ParameterName, 'Remove the one cursor stored under this key, as `get` lists it, even when its names are ones cursorctl refuses (written by another program: `sp ace:orders:0`); needs --reason')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Remove the cursor only if it holds this offset (exit 3 otherwise)')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Only cursors on this channel')
            [CompletionResult]::new('--idle-for', '--idle-for', [CompletionResultType]::ParameterName, 'Only cursors not written for at least this long (for example 30days)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the history; needed to remove a cursor above 0)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be removed; write nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;copy' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Only the partitions of this channel')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the history)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create TO''s cursors that do not exist')
            [CompletionResult]::new('--allow-confusable', '--allow-confusable', [CompletionResultType]::ParameterName, 'With --create: create TO even when its name looks like an existing consumer''s (svc and svс, with a Cyrillic с), which is refused otherwise')
            [CompletionResult]::new('--allow-rewind', '--allow-rewind', [CompletionResultType]::ParameterName, 'Allow moving TO''s cursors backwards (needs --reason)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan; write nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;snapshot' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('save', 'save', [CompletionResultType]::ParameterValue, 'Keep the offsets of every cursor (of CONSUMER) under NAME')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the snapshots')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Compare a snapshot with now: saved, current and delta per cursor')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Put a snapshot''s offsets back, as one batch')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Delete a snapshot')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;snapshot;save' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (kept with the snapshot)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;snapshot;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;snapshot;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;snapshot;restore' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (needed when a cursor moves back)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--delete-new', '--delete-new', [CompletionResultType]::ParameterName, 'Also remove the cursors created since the snapshot')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan; write nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;snapshot;drop' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;snapshot;help' {
            [CompletionResult]::new('save', 'save', [CompletionResultType]::ParameterValue, 'Keep the offsets of every cursor (of CONSUMER) under NAME')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the snapshots')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Compare a snapshot with now: saved, current and delta per cursor')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Put a snapshot''s offsets back, as one batch')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Delete a snapshot')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;snapshot;help;save' {
            break
        }
        'cursorctl;snapshot;help;list' {
            break
        }
        'cursorctl;snapshot;help;show' {
            break
        }
        'cursorctl;snapshot;help;restore' {
            break
        }
        'cursorctl;snapshot;help;drop' {
            break
        }
        'cursorctl;snapshot;help;help' {
            break
        }
        'cursorctl;info' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;describe' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--idle-for', '--idle-for', [CompletionResultType]::ParameterName, 'Count a cursor as idle when it was not written for this long')
            [CompletionResult]::new('--stall-after', '--stall-after', [CompletionResultType]::ParameterName, 'Count a cursor with lag as stalled when it was not written for this long')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--must-exist', '--must-exist', [CompletionResultType]::ParameterName, 'Fail with exit 5 when no consumer matches')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;head' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Record the head of a partition, or many heads from a file')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'List heads: partition_key, head, recorded_at')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List recorded head changes, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;head;set' {
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read many heads from FILE (`-`: stdin)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the head history; needed with --allow-rewind)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--allow-rewind', '--allow-rewind', [CompletionResultType]::ParameterName, 'Allow a head to move back (a log truncated or recreated); needs --reason')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be recorded; write nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;head;get' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;head;history' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;head;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Record the head of a partition, or many heads from a file')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'List heads: partition_key, head, recorded_at')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List recorded head changes, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;head;help;set' {
            break
        }
        'cursorctl;head;help;get' {
            break
        }
        'cursorctl;head;help;history' {
            break
        }
        'cursorctl;head;help;help' {
            break
        }
        'cursorctl;lease' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)')
            [CompletionResult]::new('break', 'break', [CompletionResultType]::ParameterValue, 'End a cursor''s live lease: its epoch grows by one, and its holder''s next checkpoint is refused as fenced. Recorded in the history')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;lease;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;lease;break' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded in the history)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be broken; write nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;lease;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)')
            [CompletionResult]::new('break', 'break', [CompletionResultType]::ParameterValue, 'End a cursor''s live lease: its epoch grows by one, and its holder''s next checkpoint is refused as fenced. Recorded in the history')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;lease;help;list' {
            break
        }
        'cursorctl;lease;help;break' {
            break
        }
        'cursorctl;lease;help;help' {
            break
        }
        'cursorctl;status' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--channel', '--channel', [CompletionResultType]::ParameterName, 'Only cursors on this channel')
            [CompletionResult]::new('--idle-for', '--idle-for', [CompletionResultType]::ParameterName, 'Only cursors not written for at least this long (for example 15m)')
            [CompletionResult]::new('--stall-after', '--stall-after', [CompletionResultType]::ParameterName, 'A cursor with lag that has not moved for this long is stalled')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('--must-exist', '--must-exist', [CompletionResultType]::ParameterName, 'Fail with exit 5 when no cursor matches')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;copy-store' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The store to copy into: a path or a postgres:// URL')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;completions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Path of the cursor store, or a postgres:// URL or libpq key=value string [env: CURSORCTL_DB]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a store locked by another writer (at most what the store''s backend takes: 2147483647ms, about 24d20h, for SQLite and PostgreSQL)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no change records or notes (errors are still printed)')
            [CompletionResult]::new('--fence', '--fence', [CompletionResultType]::ParameterName, 'Writes: also break the live lease of each cursor written, in the same transaction (its holder''s next checkpoint is fenced)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'cursorctl;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create the cursor store at --db')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show one cursor, or list cursors')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Checkpoint a cursor to OFFSET, or many cursors from a file')
            [CompletionResult]::new('advance', 'advance', [CompletionResultType]::ParameterValue, 'Move a cursor forward by N (default 1) or to an offset; never backwards')
            [CompletionResult]::new('flush-sim', 'flush-sim', [CompletionResultType]::ParameterValue, 'Simulate a checkpoint policy against a cursor: store writes, durable offset, messages processed again after a crash')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the recorded changes, oldest first')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Undo a recorded change, or every change of a batch')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove one cursor, or every cursor of a consumer that matches')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Give consumer TO the offsets of consumer FROM on every partition')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Keep the offsets of cursors in the store, compare them with now, put them back')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'Show which store --db names and what it holds: check it before a write')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Sum up each consumer''s cursors: one row per consumer')
            [CompletionResult]::new('head', 'head', [CompletionResultType]::ParameterValue, 'Record and list the heads of partitions (where each partition ends)')
            [CompletionResult]::new('lease', 'lease', [CompletionResultType]::ParameterValue, 'Show and break the leases consumers hold on cursors')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each cursor''s lag and status; exit 8 when one needs attention')
            [CompletionResult]::new('copy-store', 'copy-store', [CompletionResultType]::ParameterValue, 'Copy every cursor, batch, history row and snapshot into an empty store')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cursorctl;help;init' {
            break
        }
        'cursorctl;help;get' {
            break
        }
        'cursorctl;help;set' {
            break
        }
        'cursorctl;help;advance' {
            break
        }
        'cursorctl;help;flush-sim' {
            break
        }
        'cursorctl;help;history' {
            break
        }
        'cursorctl;help;undo' {
            break
        }
        'cursorctl;help;delete' {
            break
        }
        'cursorctl;help;copy' {
            break
        }
        'cursorctl;help;snapshot' {
            break
        }
        'cursorctl;help;info' {
            break
        }
        'cursorctl;help;describe' {
            break
        }
        'cursorctl;help;head' {
            break
        }
        'cursorctl;help;lease' {
            break
        }
        'cursorctl;help;status' {
            break
        }
        'cursorctl;help;copy-store' {
            break
        }
        'cursorctl;help;completions' {
            break
        }
        'cursorctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}

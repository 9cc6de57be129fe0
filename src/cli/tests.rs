//! Tests of the command line's definition and argument parsing.
use super::*;

fn parsed(args: &str) -> GlobalArgs {
    let args: Vec<std::ffi::OsString> = args.split(' ').map(Into::into).collect();
    parse(&args).unwrap_or_else(|e| panic!("{e}")).global
}

#[test]
fn global_options_are_taken_before_and_after_the_subcommand() {
    let db = |s: &str| StoreLocation::from(std::ffi::OsString::from(s));
    let options = "--db a.db -q -o json --busy-timeout 2s --color never";
    for args in [
        format!("cursorctl {options} get c"),
        format!("cursorctl get c {options}"),
    ] {
        let global = parsed(&args);
        assert_eq!(global.db, db("a.db"), "{args}");
        assert!(global.quiet, "{args}");
        assert_eq!(global.output, Format::Json, "{args}");
        assert_eq!(global.busy_timeout, Duration::from_secs(2), "{args}");
        assert_eq!(global.color, ColorChoice::Never, "{args}");
    }
    // Given on both sides, the one after the subcommand is taken; one
    // given only before is kept.
    let both = parsed("cursorctl --db a.db -q -o json get c --db b.db -o tsv");
    assert_eq!(both.db, db("b.db"));
    assert_eq!(both.output, Format::Tsv);
    assert!(both.quiet);
    let neither = parsed("cursorctl get c");
    assert!(!neither.quiet);
    assert_eq!(neither.output, Format::Table);
    assert_eq!(neither.busy_timeout, Duration::from_secs(5));
}

#[test]
fn global_options_are_taken_after_a_subcommand_of_a_subcommand() {
    assert_eq!(
        parsed("cursorctl snapshot list -o json").output,
        Format::Json
    );
    assert_eq!(
        parsed("cursorctl snapshot -o json list").output,
        Format::Json
    );
    assert_eq!(
        parsed("cursorctl -o tsv snapshot list -o json").output,
        Format::Json
    );
    assert_eq!(
        parsed("cursorctl -o json snapshot list").output,
        Format::Json
    );
    let prune = parsed("cursorctl history prune --before 1d --dry-run --db h.db -q");
    assert!(prune.quiet);
    assert_eq!(
        prune.db,
        StoreLocation::from(std::ffi::OsString::from("h.db"))
    );
    let history = parsed("cursorctl history c --limit 3 -o ndjson");
    assert_eq!(history.output, Format::Ndjson);
}

#[test]
fn each_command_is_listed_with_the_first_line_of_its_help() {
    let listed = Cli::command();
    for sub in listed.get_subcommands() {
        let shown = sub.get_about().map(ToString::to_string).unwrap_or_default();
        assert!(!shown.is_empty(), "{} has no description", sub.get_name());
        let mut built = sub.clone();
        built.build();
        let own = built
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(
            shown,
            own,
            "{}: the listed line is not its own",
            sub.get_name()
        );
    }
}

#[test]
fn cli_definition_is_valid() {
    Cli::command().debug_assert();
}

#[test]
fn json_output_is_recognised_in_raw_arguments() {
    let v = |s: &[&str]| {
        s.iter()
            .map(Into::into)
            .collect::<Vec<std::ffi::OsString>>()
    };
    assert!(wants_json(&v(&["cursorctl", "-o", "json", "get"])));
    assert!(wants_json(&v(&["cursorctl", "--output=ndjson"])));
    assert!(wants_json(&v(&["cursorctl", "-ojson"])));
    assert!(!wants_json(&v(&["cursorctl", "-o", "table"])));
}

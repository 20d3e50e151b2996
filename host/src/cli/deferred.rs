//! A subcommand's arguments, defined only when that subcommand is the one given.
//!
//! clap's derive defines every subcommand's arguments before parsing, so each command paid for
//! building the whole tree of a dozen-odd subcommands (about 8% of `heads`' instructions at a
//! thousand revisions, and pages of fresh memory; BENCHMARKS.md, session 20). `Command::defer`
//! puts a subcommand's own arguments off until clap builds that subcommand: when it is the one
//! parsed, or for help and completions, which build the whole tree.

use clap::{ArgMatches, Args, Command, FromArgMatches};

/// `T`'s arguments, added to its subcommand only when clap builds that subcommand.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }

    fn augment_args(command: Command) -> Command {
        command.defer(|command| keeping_about(command, T::augment_args))
    }

    fn augment_args_for_update(command: Command) -> Command {
        command.defer(|command| keeping_about(command, T::augment_args_for_update))
    }
}

/// `augment` run on `command`, whose own description stays as it was: derived eagerly, the
/// variant's doc comment was set after the arguments' (a flattened struct's doc comment among
/// them), and won.
fn keeping_about(command: Command, augment: fn(Command) -> Command) -> Command {
    let about = command.get_about().cloned();
    let long_about = command.get_long_about().cloned();
    let command = augment(command);
    // None too: the derive resets `long_about` after a one-line doc comment.
    let command = match about {
        Some(about) => command.about(about),
        None => command.about(None::<&'static str>),
    };
    match long_about {
        Some(long_about) => command.long_about(long_about),
        None => command.long_about(None::<&'static str>),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn subcommands_get_their_arguments_when_built_and_keep_their_descriptions() {
        let unbuilt = super::super::Args::command();
        let mut built = super::super::Args::command();
        built.build();
        let upgrade = unbuilt.find_subcommand("upgrade").unwrap();
        // Put off: nothing of upgrade's own before it is built.
        assert!(upgrade.get_arguments().all(|arg| arg.get_id() != "sql"));
        assert!(built
            .find_subcommand("upgrade")
            .unwrap()
            .get_arguments()
            .any(|arg| arg.get_id() == "sql"));
        for before in unbuilt.get_subcommands() {
            // Each variant's doc comment describes it: `keeping_about` restores that, not
            // the argument struct's.
            assert!(before.get_about().is_some(), "{}", before.get_name());
            let after = built.find_subcommand(before.get_name()).unwrap();
            assert_eq!(
                after.get_about().map(ToString::to_string),
                before.get_about().map(ToString::to_string),
                "{}",
                before.get_name()
            );
            assert_eq!(
                after.get_long_about().map(ToString::to_string),
                before.get_long_about().map(ToString::to_string),
                "{}",
                before.get_name()
            );
        }
        assert_eq!(
            built
                .find_subcommand("upgrade")
                .unwrap()
                .get_about()
                .unwrap()
                .to_string(),
            "Apply revisions up to a target (default: head)"
        );
    }
}

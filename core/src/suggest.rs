//! "Did you mean …?" for a name the schema model does not have: the closest known name, when one
//! is close enough to be the likely intent.

/// ` (did you mean "users"?)`, or nothing when no candidate is close.
pub fn did_you_mean<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let wanted_lower = wanted.to_lowercase();
    let best = candidates
        .into_iter()
        .map(|candidate| {
            let score = if candidate.to_lowercase() == wanted_lower {
                1.0
            } else {
                strsim::jaro_winkler(&wanted_lower, &candidate.to_lowercase())
            };
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, name)) => format!(" (did you mean {name:?}?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_the_closest_name_only_when_close() {
        let names = ["user", "role", "roles_users"];
        assert_eq!(did_you_mean("usr", names), " (did you mean \"user\"?)");
        assert_eq!(did_you_mean("USER", names), " (did you mean \"user\"?)");
        assert_eq!(
            did_you_mean("roles_user", names),
            " (did you mean \"roles_users\"?)"
        );
        assert_eq!(did_you_mean("invoice", names), "");
        assert_eq!(did_you_mean("x", []), "");
    }
}

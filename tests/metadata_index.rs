//! The metadata index in the cache (issue 18): `heads` and `history` read every
//! `revision.toml` from one parsed file, and an edited `revision.toml` is seen at once all the
//! same.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::common::{self, TestProject};

/// Dates a file an hour back, as a revision written long ago: only such entries are trusted
/// from the index (one written within the file system clock's tick could look unchanged).
fn age(file: &Path) {
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

#[test]
fn an_edited_revision_toml_is_seen_though_the_index_holds_the_old_one() {
    let p = TestProject::init();
    p.add_revision("mi_a", "first", &common::guest(""));
    p.add_revision("mi_b", "second", &common::guest(""));
    let metadata = |id: &str| p.revision_dir(id).join("revision.toml");
    age(&metadata("mi_a"));
    age(&metadata("mi_b"));
    let heads = || common::stdout(&p.migrate().arg("heads").output().unwrap());
    assert!(heads().contains("mi_b (head), second"), "{}", heads());
    let index = p.migrations().join(".cache/revisions.index");
    let cached = std::fs::read(&index).expect("heads wrote the metadata index");
    // A binary file whose strings are stored as they are.
    let holds = |text: &str| cached.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(holds("second"), "{}", String::from_utf8_lossy(&cached));
    // Read from the index now: the same answer.
    assert!(heads().contains("mi_b (head), second"));

    // mi_b becomes a second base revision by hand (as a rebase might leave it), renamed.
    let text = std::fs::read_to_string(metadata("mi_b")).unwrap();
    let edited = text
        .replace("down_revisions = [\"mi_a\"]", "down_revisions = []")
        .replace("\"second\"", "\"second, edited\"");
    assert_ne!(text, edited, "the fixture's revision.toml: {text}");
    std::fs::write(metadata("mi_b"), edited).unwrap();
    let now = heads();
    assert!(now.contains("mi_a (head), first"), "{now}");
    assert!(now.contains("mi_b (head), second, edited"), "{now}");
    let history = common::stdout(&p.migrate().arg("history").output().unwrap());
    assert!(history.contains("second, edited"), "{history}");
    assert!(history.contains("base -> mi_b (head)"), "{history}");
    assert!(!history.contains("mi_a -> mi_b"), "{history}");
}

/// A folder under `versions/` whose name is not UTF-8 is refused by its path, not read with
/// its bytes replaced (the index and the error messages key revisions by that name).
#[cfg(unix)]
#[test]
fn a_revision_folder_whose_name_is_not_utf8_is_refused_by_name() {
    use std::os::unix::ffi::OsStrExt;
    let p = TestProject::init();
    p.add_revision("mi_a", "first", &common::guest(""));
    let versions = p.migrations().join("versions");
    std::fs::create_dir(versions.join(std::ffi::OsStr::from_bytes(b"bad_\xff"))).unwrap();
    let out = p.migrate().arg("heads").output().unwrap();
    let err = common::stderr(&out);
    assert!(!out.status.success(), "{}", common::stdout(&out));
    assert!(
        err.contains("a revision folder's name must be UTF-8"),
        "{err}"
    );
    assert!(err.contains("versions/bad_"), "{err}");
}

/// Once every revision file and folder is older than the index by its margin, `current` and
/// `heads` take the graph's heads from it and look up only the revisions they show
/// (`heads_summary`): every output, text, --verbose and --json, is the one the files give when
/// there is no index. Two heads, the database at one of them.
#[test]
fn current_and_heads_from_the_index_say_what_the_files_say() {
    let p = TestProject::init();
    p.add_revision("mi_a", "first", &common::guest(""));
    p.add_revision("mi_b", "second", &common::guest(""));
    p.add_revision_with(
        "mi_c",
        "third",
        &["--head", "mi_a", "--branch-label", "side"],
        &common::guest(""),
    );
    p.migrate().args(["stamp", "mi_b"]).assert().success();
    // Older than the index by its margin (two seconds): the next run indexes them for good.
    std::thread::sleep(Duration::from_millis(2100));
    p.migrate().arg("heads").assert().success();
    let run = |args: &[&str]| {
        let out = p.migrate().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", common::stderr(&out));
        common::stdout(&out)
    };
    let from_index: Vec<String> = common::HEADS_OUTPUTS.iter().map(|verb| run(verb)).collect();
    let from_files = common::outputs_without_metadata_index(&p, &common::HEADS_OUTPUTS, run);
    assert_eq!(from_index, from_files);
    assert_eq!(from_index[0], "mi_b (head), second\n");
    assert_eq!(from_index[2], "mi_b (head), second\nmi_c (head), third\n");
    let folder = p.revision_dir("mi_c");
    let folder = folder.file_name().unwrap().to_string_lossy();
    assert!(
        from_index[3].contains(&format!("source: migrations/versions/{folder}\n")),
        "{}",
        from_index[3]
    );
    assert!(from_index[3].contains("branch: side"), "{}", from_index[3]);
}

//! `migrate`: a thin main that parses the command line, runs the command, and maps an error to
//! a message and a non-zero exit code.

mod allocator;
mod branches;
mod build_inputs;
mod cli;
mod codegen;
mod db;
mod fleet;
mod guests;
mod heads_summary;
mod index_codec;
mod manifest;
mod manifest_index;
mod metadata_index;
mod output;
mod parallel;
mod project;
mod reading_step;
mod recovery;
mod runner;
mod sandbox;
mod settings;
mod sources;
mod wasm;

use clap::Parser;

fn main() {
    // The run's start, as revisions that ask for the time see it.
    wasm::clock::run_started();
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            exit_without_teardown(std::process::ExitCode::FAILURE);
        }
    };
    let code = match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e:#}", output::error_label());
            std::process::ExitCode::FAILURE
        }
    };
    drop(runtime); // its worker threads are joined here
    exit_without_teardown(code)
}

/// Ends the process without the C library's exit handlers. The allocator's (mimalloc's
/// `mi_process_done`) walks and returns every heap page at exit, for memory the kernel takes
/// back with the process anyway: 65 `madvise` calls and 0.1-0.4 ms of `migrate heads` at a
/// thousand revisions (BENCHMARKS.md, session 14). Everything the program wrote is flushed first;
/// nothing else of ours waits for exit (no destructor of a static runs in Rust either way). A
/// coverage build's profile, written by an exit handler, is the one thing this leaves out.
fn exit_without_teardown(code: std::process::ExitCode) -> ! {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let status = exit_status(code);
    unsafe extern "C" {
        /// POSIX `_exit`: ends the process at once, without `atexit` handlers.
        fn _exit(status: std::ffi::c_int) -> !;
    }
    // SAFETY: `_exit` takes any status and does not return; everything buffered is flushed.
    unsafe { _exit(status.into()) }
}

/// The number an `ExitCode` stands for (it has no accessor of its own); every one is made from
/// a `u8`.
fn exit_status(code: std::process::ExitCode) -> u8 {
    (0..=u8::MAX)
        .find(|&status| std::process::ExitCode::from(status) == code)
        .unwrap_or(1)
}

/// `migrate upgrade --sql | head` closing the pipe early is not an error worth a message.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use std::process::ExitCode;

    /// The status the process ends with is the command's: success, failure, and the codes
    /// `check` and fleets use.
    #[test]
    fn exit_status_is_the_commands() {
        assert_eq!(super::exit_status(ExitCode::SUCCESS), 0);
        assert_eq!(super::exit_status(ExitCode::FAILURE), 1);
        for status in [2, 3, 255] {
            assert_eq!(super::exit_status(ExitCode::from(status)), status);
        }
    }
}

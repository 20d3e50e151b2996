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
mod manifest;
mod metadata_index;
mod output;
mod parallel;
mod project;
mod reading_step;
mod recovery;
mod runner;
mod sandbox;
mod settings;
mod wasm;

use clap::Parser;

fn main() -> std::process::ExitCode {
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
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e:#}", output::error_label());
            std::process::ExitCode::FAILURE
        }
    }
}

/// `migrate upgrade --sql | head` closing the pipe early is not an error worth a message.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

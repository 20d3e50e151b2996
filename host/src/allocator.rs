//! The process's allocator, and how soon it gives freed memory back to the system.
//!
//! mimalloc rather than glibc's malloc: two threads compiling components allocate and free at a
//! rate where glibc's arena locks showed up as thousands of futex waits; cold `upgrade` of 1000
//! revisions was about a sixth faster (BENCHMARKS.md, session 4). Its `no_thp` feature keeps
//! transparent huge pages off, which otherwise took peak memory from 27 to 50-66 MiB.
//!
//! mimalloc 3 keeps freed pages for a second before returning them (`purge_delay`, 1000 ms, and
//! ten times that for whole arenas), longer than most commands run. A fresh deployment's
//! `upgrade head` of 1000 revisions held 17.1-17.4 MiB at its peak, about 3 MiB of it pages
//! freed and kept; returning them at once, 13.8-14.4 MiB, no slower (BENCHMARKS.md, session 13).
//! So `upgrade` and `downgrade` return freed memory at once until the wasm engine starts; from
//! then on, compiling components on every core allocates and frees fast enough that returning
//! at once costs a tenth more time in system calls, so it waits 10 ms, mimalloc 2's default (a
//! cold run's peak 29.5 → 23.5 MiB, no slower). The short commands (`heads`, `history`,
//! `current`) keep mimalloc's default: returning at once made `heads` fault in 72 more pages
//! (of 980) for memory it would have reused. A `MIMALLOC_PURGE_DELAY` in the environment is
//! left to rule.
//!
//! mimalloc reserves address space an arena at a time, 1 GiB by default, and sets up the arena's
//! bitmaps, a page fault per 4 KiB of them, at the first allocation: 40-45 of the ~600 page
//! faults of `current` at a thousand revisions. Arenas of 32 MiB (mimalloc's least; it doubles
//! them every eight) took 0.05-0.2 ms off `current` there (BENCHMARKS.md, session 19); the
//! commands that allocate more get more arenas. Set before `main`, since the Rust runtime
//! allocates before it; a `MIMALLOC_ARENA_RESERVE` in the environment is left to rule.

use libmimalloc_sys::{mi_option_set, mi_option_t};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `include/mimalloc.h` (the sixteenth option, in mimalloc 2 and 3
/// alike); `libmimalloc-sys` names only some of the options.
const PURGE_DELAY: mi_option_t = 15;

/// `mi_option_arena_reserve` in `include/mimalloc.h` (the twenty-fourth option, in KiB).
const ARENA_RESERVE: mi_option_t = 23;
/// mimalloc's least arena (`MI_ARENA_MIN_SIZE`), in KiB.
const SMALL_ARENA_KIB: std::os::raw::c_long = 32 * 1024;

/// Run by the C library before `main`, with the other initialisers of the program (the order
/// among them does not matter: mimalloc reads the option when it first reserves an arena). An
/// ELF section: elsewhere mimalloc keeps its default.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static RESERVE_SMALL_ARENAS: extern "C" fn() = reserve_small_arenas;

#[cfg(target_os = "linux")]
extern "C" fn reserve_small_arenas() {
    if std::env::var_os("MIMALLOC_ARENA_RESERVE").is_none() {
        // SAFETY: sets one of mimalloc's global options, on the only thread there is yet.
        unsafe { mi_option_set(ARENA_RESERVE, SMALL_ARENA_KIB) }
    }
}

/// For commands that apply steps (a run as long as its revisions): freed memory goes back at once.
pub fn return_freed_memory_at_once() {
    set_purge_delay_ms(0);
}

/// For once components are compiled: freed memory goes back after 10 ms.
pub fn return_freed_memory_soon() {
    set_purge_delay_ms(10);
}

fn set_purge_delay_ms(delay: std::os::raw::c_long) {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's global options, which it reads whenever it purges.
    unsafe { mi_option_set(PURGE_DELAY, delay) }
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::*;

    /// mimalloc reads `MIMALLOC_PURGE_DELAY` into the option it purges by: a child test process
    /// given one finds it under `PURGE_DELAY`, so the number is the right option.
    #[test]
    fn the_purge_delay_constant_names_mimallocs_purge_delay() {
        const CHILD: &str = "MIGRATE_TEST_ALLOCATOR_CHILD";
        let name = "allocator::tests::the_purge_delay_constant_names_mimallocs_purge_delay";
        if std::env::var_os(CHILD).is_some() {
            // SAFETY: reads one of mimalloc's global options.
            assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 4321);
            return;
        }
        passes_in_a_child(
            name,
            &[(CHILD, Some("1")), ("MIMALLOC_PURGE_DELAY", Some("4321"))],
        );
    }

    /// The option set before `main` is mimalloc's arena reserve: a child test process given
    /// `MIMALLOC_ARENA_RESERVE` finds it (in KiB) under `ARENA_RESERVE`, and one without finds
    /// the small arenas set.
    #[cfg(target_os = "linux")]
    #[test]
    fn arenas_are_small_unless_the_environment_says_otherwise() {
        const CHILD: &str = "MIGRATE_TEST_ARENA_CHILD";
        let name = "allocator::tests::arenas_are_small_unless_the_environment_says_otherwise";
        if let Some(expected) = std::env::var_os(CHILD) {
            // SAFETY: reads one of mimalloc's global options.
            let found = unsafe { mi_option_get(ARENA_RESERVE) };
            assert_eq!(found.to_string(), expected.to_str().unwrap());
            return;
        }
        for (environment, expected) in [(Some("64MiB"), 64 * 1024), (None, SMALL_ARENA_KIB)] {
            let expected = expected.to_string();
            passes_in_a_child(
                name,
                &[
                    (CHILD, Some(&expected)),
                    ("MIMALLOC_ARENA_RESERVE", environment),
                ],
            );
        }
    }

    /// Runs the test `name` alone in a child process, with `environment` set (a variable
    /// without a value removed): mimalloc reads its options once, as the process starts.
    fn passes_in_a_child(name: &str, environment: &[(&str, Option<&str>)]) {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child.args([name, "--exact", "--test-threads=1"]);
        for (variable, value) in environment {
            match value {
                Some(value) => child.env(variable, value),
                None => child.env_remove(variable),
            };
        }
        let child = child.output().unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success() && out.contains("1 passed"), "{out}");
    }

    #[test]
    fn a_purge_delay_in_the_environment_is_left_alone_else_set() {
        // SAFETY: reads one of mimalloc's global options.
        let before = unsafe { mi_option_get(PURGE_DELAY) };
        return_freed_memory_soon();
        // SAFETY: reads one of mimalloc's global options.
        let after = unsafe { mi_option_get(PURGE_DELAY) };
        match std::env::var_os("MIMALLOC_PURGE_DELAY") {
            Some(_) => assert_eq!(after, before),
            None => assert_eq!(after, 10),
        }
    }
}

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
//!
//! SQLite, C code, allocates through the C library's `malloc` unless told otherwise; it is told
//! to use mimalloc too, before `main`. Reading a thousand-table schema is thousands of small
//! allocations: in the static (musl) build, whose `malloc` is the slowest part of that libc, they
//! were 2.5% of `migrate current`'s samples at a thousand revisions (BENCHMARKS.md, session 23).

use std::ffi::{c_int, c_void};

use libmimalloc_sys::{
    mi_free, mi_good_size, mi_malloc, mi_option_set, mi_option_t, mi_realloc, mi_usable_size,
};
use rusqlite::ffi;

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
    sqlite_allocates_through_mimalloc();
}

/// Points SQLite's memory allocator at mimalloc. SQLite accepts this only before it first
/// initialises (any connection opened does that), so it runs before `main`, on the only thread
/// there is yet; returns whether SQLite took it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn sqlite_allocates_through_mimalloc() -> bool {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(sqlite_malloc),
        xFree: Some(sqlite_free),
        xRealloc: Some(sqlite_realloc),
        xSize: Some(sqlite_size),
        xRoundup: Some(sqlite_roundup),
        xInit: Some(sqlite_init),
        xShutdown: Some(sqlite_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: SQLite copies the methods; it refuses (SQLITE_MISUSE) once initialised, leaving
    // its own allocator in place, and nothing else calls into SQLite before `main`.
    unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods) == ffi::SQLITE_OK }
}

// SQLite's memory methods (`sqlite3_mem_methods`): sizes are C `int`s, never negative from SQLite;
// mimalloc's blocks are aligned to 16 bytes, more than the 8 SQLite needs.

unsafe extern "C" fn sqlite_malloc(size: c_int) -> *mut c_void {
    match usize::try_from(size) {
        // SAFETY: a plain allocation.
        Ok(size) => unsafe { mi_malloc(size) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn sqlite_free(block: *mut c_void) {
    // SAFETY: `block` came from `sqlite_malloc` or `sqlite_realloc` (SQLite frees only its own).
    unsafe { mi_free(block) }
}

unsafe extern "C" fn sqlite_realloc(block: *mut c_void, size: c_int) -> *mut c_void {
    match usize::try_from(size) {
        // SAFETY: as `sqlite_free`.
        Ok(size) => unsafe { mi_realloc(block, size) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn sqlite_size(block: *mut c_void) -> c_int {
    // SAFETY: as `sqlite_free`.
    let usable = unsafe { mi_usable_size(block) };
    c_int::try_from(usable).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn sqlite_roundup(size: c_int) -> c_int {
    let good = usize::try_from(size).map_or(0, |size| {
        // SAFETY: a pure function of the number.
        unsafe { mi_good_size(size) }
    });
    c_int::try_from(good).unwrap_or(size)
}

unsafe extern "C" fn sqlite_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn sqlite_shutdown(_: *mut c_void) {}

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

    /// SQLite was pointed at mimalloc before `main` (before the test harness opened anything):
    /// a block SQLite allocates lies in mimalloc's heap, and SQLite sizes it as mimalloc does.
    #[cfg(target_os = "linux")]
    #[test]
    fn sqlite_allocates_from_mimalloc() {
        use libmimalloc_sys::mi_is_in_heap_region;
        // SAFETY: a block allocated, measured and freed by SQLite.
        unsafe {
            let block = ffi::sqlite3_malloc(100);
            assert!(!block.is_null());
            assert!(mi_is_in_heap_region(block), "SQLite allocates elsewhere");
            assert_eq!(ffi::sqlite3_msize(block) as usize, mi_usable_size(block));
            ffi::sqlite3_free(block);
        }
        // Once SQLite has started it keeps its allocator: the call says it was refused.
        assert!(!sqlite_allocates_through_mimalloc());
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

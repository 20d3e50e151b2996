//! Without std, the SDK is the guest's panic handler: it hands the panic's place and message to
//! the host, which shows them with the revision's id, then traps.
//!
//! Messages without arguments (`panic!("text")`, `unwrap()` on `None`, ...) are copied as they
//! are; the others (`expect("text")`, `panic!("{x}")`) go through `core::fmt` (the default
//! `formatted-panics` feature). That links `core::fmt::write` into every guest: about 1.2 KB and
//! 0.3 ms of host compile per revision on a cold cache (BENCHMARKS.md, "panic messages"); a
//! message a user wrote is worth it. The place (file:line:column) is always there.

use core::panic::PanicInfo;
#[cfg(feature = "formatted-panics")]
use core::sync::atomic::{AtomicBool, Ordering};

/// Set while a panic's message is being formatted.
#[cfg(feature = "formatted-panics")]
static FORMATTING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn on_panic(info: &PanicInfo) -> ! {
    let mut report = Report::new();
    report.push("panicked");
    if let Some(place) = info.location() {
        report.push(" at ");
        report.push(place.file());
        report.push(":");
        report.push_number(place.line());
        report.push(":");
        report.push_number(place.column());
    }
    report.push(":\n");
    match info.message().as_str() {
        Some(message) => report.push(message),
        // `expect("…")`, `panic!("{x}")`: formatted through `core::fmt`. A panic inside a
        // `Display` impl lands here again; then only the place is reported.
        #[cfg(feature = "formatted-panics")]
        None if !FORMATTING.swap(true, Ordering::Relaxed) => {
            let _ = core::fmt::Write::write_fmt(&mut report, format_args!("{}", info.message()));
        }
        #[cfg(feature = "formatted-panics")]
        None => report.push("(a second panic while formatting the first one's message)"),
        #[cfg(not(feature = "formatted-panics"))]
        None => report
            .push("(a formatted message, shown with the SDK's default `formatted-panics` feature)"),
    }
    crate::wit::migrate::schema::diagnostics::report_panic(report.text());
    core::arch::wasm32::unreachable()
}

/// A fixed buffer rather than a `String`: the panic may be a failed allocation. Written without
/// indexing, so that nothing here can panic again.
struct Report {
    bytes: [u8; 2048],
    len: usize,
}

#[cfg(feature = "formatted-panics")]
impl core::fmt::Write for Report {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.push(text);
        Ok(())
    }
}

impl Report {
    fn new() -> Report {
        Report {
            bytes: [0; 2048],
            len: 0,
        }
    }

    fn push(&mut self, text: &str) {
        for &byte in text.as_bytes() {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = byte;
                self.len += 1;
            }
        }
    }

    fn push_number(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut count = 0;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let first = digits.len() - count;
        if let Some(text) = digits
            .get(first..)
            .and_then(|d| core::str::from_utf8(d).ok())
        {
            self.push(text);
        }
    }

    /// The text, cut at the last whole character if the buffer filled up mid-character.
    fn text(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or_default();
        match core::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(cut) => core::str::from_utf8(bytes.get(..cut.valid_up_to()).unwrap_or_default())
                .unwrap_or_default(),
        }
    }
}

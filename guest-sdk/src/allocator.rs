//! A bump allocator. A guest runs one direction and is then thrown away, so memory never needs
//! reusing; std's dlmalloc was half of every guest's code, and the host's compile time of a guest
//! grows with its code. What a guest may allocate in all is bounded by the host's memory limit.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 65536;

/// `next` is the first free byte, `end` the end of linear memory; both start at the memory's
/// initial end (everything below belongs to the stack and static data).
struct Bump {
    next: Cell<usize>,
    end: Cell<usize>,
}

// Guests are single-threaded.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump = Bump {
    next: Cell::new(0),
    end: Cell::new(0),
};

impl Bump {
    /// Makes sure memory reaches `stop`, growing it by whole pages; false when the host says no.
    fn reach(&self, stop: usize) -> bool {
        if self.end.get() == 0 {
            let top = wasm32::memory_size(0) * PAGE;
            self.next.set(top);
            self.end.set(top);
        }
        if stop <= self.end.get() {
            return true;
        }
        let pages = (stop - self.end.get()).div_ceil(PAGE);
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end.set(self.end.get() + pages * PAGE);
        true
    }

    fn is_last(&self, ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == self.next.get()
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.reach(0) {
            return core::ptr::null_mut();
        }
        let start = (self.next.get() + layout.align() - 1) & !(layout.align() - 1);
        match start.checked_add(layout.size()) {
            Some(stop) if self.reach(stop) => {
                self.next.set(stop);
                start as *mut u8
            }
            _ => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the latest allocation can be handed back (a temporary freed at once, say).
        if self.is_last(ptr, layout.size()) {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The latest allocation grows (or shrinks) in place: a Vec being pushed to, typically.
        if self.is_last(ptr, layout.size()) {
            if let Some(stop) = (ptr as usize).checked_add(new_size) {
                if self.reach(stop) {
                    self.next.set(stop);
                    return ptr;
                }
            }
            return core::ptr::null_mut();
        }
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
        }
        new
    }
}

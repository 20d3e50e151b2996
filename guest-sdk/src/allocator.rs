//! A small allocator for guests: power-of-two size classes with a free list each, on top of a
//! bump pointer. std's dlmalloc was half of every guest's code, and the host's compile time of a
//! guest grows with its code; a pure bump allocator (this SDK's first) never reused memory, so a
//! data migration reading a large table batch by batch grew until the memory limit stopped it.
//! Here a freed block goes back to its class's list and the next allocation of that class takes
//! it: a loop that frees each batch before reading the next runs in the memory of one batch.
//! Rounding up to a power of two costs at most half of each block. Blocks over 16 MiB are bumped
//! and never reused. What a guest may allocate in all is bounded by the host's memory limit.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE: usize = 65536;
/// Classes 16 B (2^4) to 16 MiB (2^24).
const MIN_SHIFT: u32 = 4;
const CLASSES: usize = 21;

/// `next` is the first never-used byte, `end` the end of linear memory; both start at the
/// memory's initial end (everything below belongs to the stack and static data). `free[c]` is
/// the first freed block of class `c` (0 for none); each freed block holds the next one's address.
struct Heap {
    next: Cell<usize>,
    end: Cell<usize>,
    free: [Cell<usize>; CLASSES],
}

// Guests are single-threaded.
unsafe impl Sync for Heap {}

#[global_allocator]
static ALLOCATOR: Heap = Heap {
    next: Cell::new(0),
    end: Cell::new(0),
    free: [const { Cell::new(0) }; CLASSES],
};

/// The block size a layout gets, and its class (`None` past the largest).
fn class_of(layout: Layout) -> (usize, Option<usize>) {
    let size = layout
        .size()
        .max(layout.align())
        .max(1 << MIN_SHIFT)
        .next_power_of_two();
    let class = (size.trailing_zeros() - MIN_SHIFT) as usize;
    (size, (class < CLASSES).then_some(class))
}

impl Heap {
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

    /// `size` fresh bytes aligned to `align`.
    fn bump(&self, size: usize, align: usize) -> *mut u8 {
        if !self.reach(0) {
            return core::ptr::null_mut();
        }
        let start = (self.next.get() + align - 1) & !(align - 1);
        match start.checked_add(size) {
            Some(stop) if self.reach(stop) => {
                self.next.set(stop);
                start as *mut u8
            }
            _ => core::ptr::null_mut(),
        }
    }
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            (size, Some(class)) => {
                let head = self.free[class].get();
                if head != 0 {
                    // SAFETY: a freed block of this class, its first word the next one's address.
                    self.free[class].set(unsafe { *(head as *const usize) });
                    return head as *mut u8;
                }
                // Aligned to its own size (up to a page): any later layout of this class,
                // whose alignment is at most its size, fits a reused block.
                self.bump(size, size.min(PAGE).max(layout.align()))
            }
            (_, None) => self.bump(layout.size(), layout.align()),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let (_, Some(class)) = class_of(layout) {
            // SAFETY: the block is at least 16 bytes, aligned, and no longer used.
            unsafe { *(ptr as *mut usize) = self.free[class].get() };
            self.free[class].set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (old_block, old_class) = class_of(layout);
        if old_class.is_some() && class_of(new_layout) == (old_block, old_class) {
            return ptr;
        }
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

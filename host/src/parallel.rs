//! One way to use every core on a list: workers take the next item until none are left, and
//! the results come back in the items' order, all at once (`map`) or each as soon as it and
//! every earlier one are done (`in_order`). Used for reading revision metadata, reading and
//! hashing components, and compiling them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One worker per core, and no more than there are items.
fn workers_for(items: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items)
}

/// `f` applied to every item, on up to one thread per core; results in the items' order.
/// Small lists stay on the calling thread: a thread costs more than a few items.
pub fn map<T: Sync, R: Send>(items: &[T], min_items: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    // Checked before the cores are counted: counting them reads the cgroup's files, six
    // system calls that `heads` made for an empty list.
    if items.len() < min_items.max(2) {
        return items.iter().map(f).collect();
    }
    let workers = workers_for(items.len());
    if workers < 2 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = vec![];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// How many finished results may queue for `in_order`'s caller before the workers wait: the
/// results (a revision's ops, say) are not all held at once when the caller is the slower side.
const QUEUED_RESULTS: usize = 64;

/// `f` applied to every item on up to one thread per core, each result handed to `deliver` on
/// the calling thread, in the items' order, as soon as it and every earlier one are ready: no
/// batch waits for its slowest item. `deliver` returning false stops the workers after the
/// items they are on.
pub fn in_order<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    mut deliver: impl FnMut(&T, R) -> bool,
) {
    let workers = workers_for(items.len());
    if workers < 2 {
        for item in items {
            if !deliver(item, f(item)) {
                return;
            }
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (done, finished) = std::sync::mpsc::sync_channel::<(usize, R)>(QUEUED_RESULTS);
        for _ in 0..workers {
            let done = done.clone();
            let (next, stop, f) = (&next, &stop, &f);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if done.send((i, f(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        for (i, result) in finished {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&expected) {
                if !deliver(&items[expected], result) {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                expected += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_delivers_every_result_in_order() {
        let items: Vec<u64> = (0..500).collect();
        let mut seen = vec![];
        // Uneven work, so that workers finish out of order.
        in_order(
            &items,
            |&i| {
                std::thread::sleep(std::time::Duration::from_micros((i * 7919) % 300));
                i * 2
            },
            |&item, doubled| {
                seen.push((item, doubled));
                true
            },
        );
        assert_eq!(seen, items.iter().map(|&i| (i, i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn in_order_stops_when_delivery_refuses() {
        let items: Vec<u64> = (0..10_000).collect();
        let computed = AtomicUsize::new(0);
        let mut delivered = 0;
        in_order(
            &items,
            |_| {
                std::thread::sleep(std::time::Duration::from_micros(200));
                computed.fetch_add(1, Ordering::Relaxed)
            },
            |_, _| {
                delivered += 1;
                delivered < 5
            },
        );
        assert_eq!(delivered, 5);
        // The workers stop soon after: far fewer than all items were computed.
        assert!(computed.load(Ordering::Relaxed) < items.len() / 2);
    }
}

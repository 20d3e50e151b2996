//! What one direction of a revision may record: `max_ops` operations weighing `ops_mib` MiB
//! together (their canonical JSON size). Counted as a guest calls, and again over ops that
//! arrive recorded (`build/ops.json`), which must pass the same limits a guest's would.

use migrate_core::ops::Op;

use super::Limits;

pub struct OpBudget {
    count: usize,
    bytes: usize,
    max_ops: usize,
    max_bytes: usize,
}

impl OpBudget {
    pub fn new(limits: &Limits) -> OpBudget {
        OpBudget {
            count: 0,
            bytes: 0,
            max_ops: limits.max_ops,
            max_bytes: limits.ops_mib.saturating_mul(1024 * 1024),
        }
    }

    /// Counts `op`, or says which limit it goes over.
    pub fn admit(&mut self, op: &Op) -> Result<(), String> {
        if self.count >= self.max_ops {
            return Err(format!(
                "the revision asked for more than {} operations (the `max_ops` limit)",
                self.max_ops
            ));
        }
        self.bytes = self
            .bytes
            .saturating_add(migrate_core::ops::encoded_len(op));
        if self.bytes > self.max_bytes {
            return Err(format!(
                "the revision's operations weigh more than {} MiB (the `ops_mib` limit in [limits]; \
                 {} operations recorded so far)",
                self.max_bytes / (1024 * 1024),
                self.count
            ));
        }
        self.count += 1;
        Ok(())
    }

    /// Starts again from nothing (a data migration's ops handed over to run).
    pub fn reset(&mut self) {
        self.count = 0;
        self.bytes = 0;
    }
}

//! PostgreSQL's eight table-level lock modes, named exactly as `pg_locks.mode` shows them.

use std::fmt;

/// A table-level lock mode, ordered from weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockMode {
    /// Every mode, weakest first.
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShare,
        LockMode::RowShare,
        LockMode::RowExclusive,
        LockMode::ShareUpdateExclusive,
        LockMode::Share,
        LockMode::ShareRowExclusive,
        LockMode::Exclusive,
        LockMode::AccessExclusive,
    ];

    /// The name as it appears in `pg_locks.mode`.
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// The SQL spelling used by `LOCK TABLE ... IN <mode> MODE` and in messages.
    pub fn sql_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Whether this lock blocks plain reads (`SELECT`).
    pub fn blocks_reads(self) -> bool {
        self == LockMode::AccessExclusive
    }

    /// Whether this lock blocks writes (`INSERT` / `UPDATE` / `DELETE`).
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }

    /// Whether this lock and `other` cannot be held at once on one table (PostgreSQL's
    /// conflict table, `LockConflicts` in lock.c).
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let conflicts: &[LockMode] = match self {
            AccessShare => &[AccessExclusive],
            RowShare => &[Exclusive, AccessExclusive],
            RowExclusive => &[Share, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareUpdateExclusive => &[ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive],
            Share => &[RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareRowExclusive => {
                &[RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            Exclusive => {
                &[RowShare, RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            AccessExclusive => &LockMode::ALL,
        };
        conflicts.contains(&other)
    }

    /// The mode `pg_locks.mode` names.
    pub fn from_pg_name(name: &str) -> Option<LockMode> {
        LockMode::ALL.into_iter().find(|m| m.pg_name() == name)
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.pg_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_follows_strength() {
        assert!(LockMode::AccessExclusive > LockMode::ShareRowExclusive);
        assert!(LockMode::Share > LockMode::ShareUpdateExclusive);
        assert_eq!(LockMode::ShareRowExclusive.pg_name(), "ShareRowExclusiveLock");
    }

    #[test]
    fn the_conflict_table_is_symmetric() {
        use LockMode::*;
        for a in LockMode::ALL {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} / {b}");
            }
            assert_eq!(LockMode::from_pg_name(a.pg_name()), Some(a));
        }
        assert!(Share.conflicts_with(RowExclusive) && !Share.conflicts_with(AccessShare));
        assert!(!RowExclusive.conflicts_with(RowExclusive));
    }

    #[test]
    fn blocking_classes() {
        assert!(LockMode::Share.blocks_writes());
        assert!(!LockMode::Share.blocks_reads());
        assert!(!LockMode::ShareUpdateExclusive.blocks_writes());
        assert!(LockMode::AccessExclusive.blocks_reads());
    }
}

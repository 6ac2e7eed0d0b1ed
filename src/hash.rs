//! The hash maps and sets of the engine's own data: foldhash instead of SipHash, which was a
//! fifth of the time of a preview rebuild at 10,000 pages (paths and keywords are hashed
//! several times per page). Still seeded at random per process, so file names an editor picks
//! cannot be crafted to collide.

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

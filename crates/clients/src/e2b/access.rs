//! What it takes to reach each sandbox's code interpreter: its domain and access tokens, as
//! the control plane reported them when the sandbox was created (or looked up).
//!
//! Entries are dropped when a sandbox is stopped or found gone, and swept once they are past
//! the sandbox's lifetime (it may have been extended elsewhere: then the next execution looks
//! the sandbox up again), so the map does not grow with sandboxes that ended long ago.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How often expired entries are swept, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// How long a looked-up entry is trusted when the sandbox's end is not known.
pub(crate) const LOOKUP_TTL: Duration = Duration::from_secs(300);

/// A sandbox's domain and tokens. `Debug` never shows a token.
#[derive(Clone, Default)]
pub(crate) struct SandboxAccess {
    /// The domain the sandbox runs under, if it reported one.
    pub(crate) domain: Option<String>,
    /// `envdAccessToken`, sent in `X-Access-Token`.
    pub(crate) envd_access_token: Option<String>,
    /// `trafficAccessToken`, sent in `E2B-Traffic-Access-Token`.
    pub(crate) traffic_access_token: Option<String>,
}

impl fmt::Debug for SandboxAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxAccess")
            .field("domain", &self.domain)
            .field("envd_access_token", &self.envd_access_token.is_some())
            .field("traffic_access_token", &self.traffic_access_token.is_some())
            .finish()
    }
}

struct Entry {
    access: SandboxAccess,
    until: Instant,
}

struct Inner {
    entries: HashMap<String, Entry>,
    last_sweep: Instant,
}

/// Sandbox id -> [`SandboxAccess`].
pub(crate) struct AccessMap {
    inner: Mutex<Inner>,
}

impl AccessMap {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// The access of a sandbox known and not past its lifetime.
    pub(crate) fn get(&self, sandbox_id: &str) -> Option<SandboxAccess> {
        let inner = self.inner.lock();
        inner
            .entries
            .get(sandbox_id)
            .filter(|e| e.until > Instant::now())
            .map(|e| e.access.clone())
    }

    /// Records a sandbox that lives `lifetime` from now.
    pub(crate) fn insert(&self, sandbox_id: &str, access: SandboxAccess, lifetime: Duration) {
        let now = Instant::now();
        let until = now.checked_add(lifetime).unwrap_or(now + LOOKUP_TTL);
        let mut inner = self.inner.lock();
        if now.duration_since(inner.last_sweep) >= SWEEP_EVERY {
            inner.entries.retain(|_, e| e.until > now);
            inner.last_sweep = now;
        }
        inner
            .entries
            .insert(sandbox_id.to_string(), Entry { access, until });
    }

    /// Moves a known sandbox's end to `lifetime` from now.
    pub(crate) fn extend(&self, sandbox_id: &str, lifetime: Duration) {
        let now = Instant::now();
        if let Some(entry) = self.inner.lock().entries.get_mut(sandbox_id) {
            entry.until = now.checked_add(lifetime).unwrap_or(now + LOOKUP_TTL);
        }
    }

    /// Forgets a sandbox (stopped, or found gone).
    pub(crate) fn remove(&self, sandbox_id: &str) {
        self.inner.lock().entries.remove(sandbox_id);
    }

    /// How many sandboxes are known (expired ones included until swept).
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_are_forgotten() {
        let map = AccessMap::new();
        let access = SandboxAccess {
            envd_access_token: Some("tok-1".into()),
            ..SandboxAccess::default()
        };
        map.insert("a", access.clone(), Duration::from_secs(60));
        map.insert("b", access, Duration::ZERO);
        assert!(map.get("a").is_some());
        assert!(map.get("b").is_none(), "past its lifetime");
        map.extend("b", Duration::from_secs(60));
        assert!(map.get("b").is_some());
        map.remove("a");
        assert!(map.get("a").is_none());
        assert_eq!(map.len(), 1);
        assert!(!format!("{:?}", map.get("b").unwrap()).contains("tok-1"));
    }
}

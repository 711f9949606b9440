//! API tokens: generation, hashing and the rule for what each role may do.
//!
//! A token is `lc_` followed by 32 random bytes from the operating system (hex). Only its
//! SHA-256 hash is stored ([`crate::store::plans::PlanStore::create_token`]); the token itself
//! is shown once, when created. Requests carry it as `Authorization: Bearer <token>`.

use sha2::{Digest, Sha256};

use crate::domain::Role;

/// Who may read: anyone (the default, for a bureau's intranet map) or holders of a viewer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadAccess {
    /// Anyone may read without a token (the default).
    #[default]
    Public,
    /// Reading needs a viewer token (or a stronger one).
    Viewer,
}

impl std::str::FromStr for ReadAccess {
    type Err = String;
    fn from_str(s: &str) -> Result<ReadAccess, String> {
        match s {
            "public" => Ok(ReadAccess::Public),
            "viewer" => Ok(ReadAccess::Viewer),
            other => Err(format!("'{other}': public or viewer")),
        }
    }
}

/// A new random token (shown once; store only [`token_hash`]).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("lc_{}", hex(&bytes)))
}

/// The stored form of a token: its SHA-256 in lower-case hex.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The role a request needs: writes to plans need editor, deleting plans and reading the audit
/// log need admin, everything else is a read.
pub fn required_role(method: &str, path: &str, read: ReadAccess) -> Option<Role> {
    let is_plan = path == "/plans" || path.starts_with("/plans/");
    match method {
        "DELETE" if is_plan => Some(Role::Admin),
        "POST" | "PATCH" | "PUT" | "DELETE" if is_plan => Some(Role::Editor),
        _ if path == "/audit" => Some(Role::Admin),
        // What a monitor and a browser need before any token: liveness, and the web map's
        // page, scripts and config (they hold no data; the map then asks for a token).
        "GET" | "HEAD"
            if path == "/health"
                || path == "/map"
                || path.starts_with("/map/")
                || path == "/auth/whoami" =>
        {
            None
        }
        _ => match read {
            ReadAccess::Public => None,
            ReadAccess::Viewer => Some(Role::Viewer),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_to_sha256_hex() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("lc_") && a.len() == 67, "{a}");
        // FIPS 180-2 test vector.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn roles_needed_per_request() {
        use ReadAccess::*;
        assert_eq!(required_role("GET", "/collections", Public), None);
        assert_eq!(required_role("GET", "/plans/1", Viewer), Some(Role::Viewer));
        assert_eq!(required_role("POST", "/analysis/locate", Public), None);
        assert_eq!(
            required_role("POST", "/analysis/locate", Viewer),
            Some(Role::Viewer)
        );
        assert_eq!(required_role("POST", "/plans", Public), Some(Role::Editor));
        assert_eq!(
            required_role("PATCH", "/plans/1", Public),
            Some(Role::Editor)
        );
        assert_eq!(
            required_role("DELETE", "/plans/1", Public),
            Some(Role::Admin)
        );
        assert_eq!(required_role("GET", "/audit", Public), Some(Role::Admin));
    }
}

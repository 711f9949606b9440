//! Roles of API tokens: what a holder may do.

use std::fmt;
use std::str::FromStr;

/// A token's role; each includes the ones before it (viewer < editor < admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads layers, plans and analyses.
    Viewer,
    /// Also creates and edits plans.
    Editor,
    /// Also deletes plans and reads the audit log.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    /// The role's lower-case name (`viewer`, `editor`, `admin`), as stored and typed.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// The role's Chinese label (查看, 编辑, 管理), for messages.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Viewer => "查看",
            Role::Editor => "编辑",
            Role::Admin => "管理",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown role '{s}': viewer, editor or admin"))
    }
}

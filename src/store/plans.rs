//! Plans, their versions, API tokens and the audit log, behind the [`PlanStore`] trait: the
//! records and the contract every backend keeps. A write lands whole or not at all (the version,
//! the head move and the audit row together), and a commit on a stale head is
//! [`StoreError::Conflict`] and changes nothing. The GeoPackage backend is `store::gpkg::plans`.

use super::StoreError;
use crate::domain::Role;

/// A plan as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    pub id: i64,
    pub name: String,
    /// The current version number (1 for a new plan).
    pub head: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// One version of a plan; `content` is only filled when a single version is read.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub plan_id: i64,
    pub version: i64,
    pub author: String,
    pub at: String,
    pub message: String,
    pub summary: String,
    /// JSON: what changed from the previous version.
    pub diff: String,
    /// JSON: the whole plan at this version.
    pub content: Option<String>,
}

/// What a write records as a new version.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    pub name: &'a str,
    pub author: &'a str,
    pub message: &'a str,
    pub summary: &'a str,
    pub diff: &'a str,
    pub content: &'a str,
}

/// Who did what, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// A token's name, or `cli:<user>` for the command line.
    pub actor: String,
    pub role: String,
    /// e.g. `plan.create`, `plan.edit`, `token.create`, `denied`.
    pub action: String,
    /// e.g. `plans/3`.
    pub target: String,
    /// `ok`, or why it was refused.
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub entry: AuditEntry,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Plans, versions, tokens and the audit log of a workspace.
pub trait PlanStore {
    /// Creates a plan with its first version.
    fn create_plan(
        &mut self,
        version: &NewVersion,
        audit: &AuditEntry,
    ) -> Result<PlanRecord, StoreError>;
    /// Plans not deleted, by id.
    fn plans(&self) -> Result<Vec<PlanRecord>, StoreError>;
    fn plan(&self, id: i64) -> Result<Option<PlanRecord>, StoreError>;
    /// One version with its content.
    fn version(&self, plan: i64, version: i64) -> Result<Option<VersionRecord>, StoreError>;
    /// Every version of a plan, newest first, without content.
    fn versions(&self, plan: i64) -> Result<Vec<VersionRecord>, StoreError>;
    /// Adds version `expected_head + 1` and moves the head there, if the head is still
    /// `expected_head`; otherwise [`StoreError::Conflict`] and nothing changes.
    fn commit_version(
        &mut self,
        plan: i64,
        expected_head: i64,
        version: &NewVersion,
        audit: &AuditEntry,
    ) -> Result<PlanRecord, StoreError>;
    /// Hides a plan from lists (its versions stay for the record).
    fn delete_plan(
        &mut self,
        plan: i64,
        expected_head: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
    fn record_audit(&mut self, audit: &AuditEntry) -> Result<(), StoreError>;
    /// The newest `limit` audit entries, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;
    fn create_token(
        &mut self,
        name: &str,
        role: Role,
        sha256_hex: &str,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError>;
    /// The live (not revoked) token with this hash.
    fn token_by_hash(&self, sha256_hex: &str) -> Result<Option<TokenRecord>, StoreError>;
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token; `false` when there is no live token with that id.
    fn revoke_token(&mut self, id: i64, audit: &AuditEntry) -> Result<bool, StoreError>;
}

//! Plans, their versions, API tokens and the audit log, behind the [`PlanStore`] trait: the
//! records and the contract every backend keeps. A write lands whole or not at all (the version,
//! the head move and the audit row together), and a commit on a stale head is
//! [`StoreError::Conflict`] and changes nothing. The GeoPackage backend is `store::gpkg::plans`.

use super::StoreError;
use crate::domain::Role;

/// A plan as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    /// The plan's id (assigned by the store, never reused).
    pub id: i64,
    /// The plan's name, as of its head version.
    pub name: String,
    /// The current version number (1 for a new plan).
    pub head: i64,
    /// When the plan was created, UTC (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub created_at: String,
    /// Who created the plan (a token's name or `cli:<user>`).
    pub created_by: String,
    /// When the head last moved, UTC (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub updated_at: String,
    /// Who committed the head version.
    pub updated_by: String,
}

/// One version of a plan; `content` is only filled when a single version is read.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// The plan this version belongs to.
    pub plan_id: i64,
    /// The version number (1, 2, … in commit order).
    pub version: i64,
    /// Who committed the version (a token's name or `cli:<user>`).
    pub author: String,
    /// When it was committed, UTC (`YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub at: String,
    /// The author's commit message (may be empty).
    pub message: String,
    /// A one-line summary of the change (e.g. villages moved, zones added), Chinese and English.
    pub summary: String,
    /// JSON: what changed from the previous version.
    pub diff: String,
    /// JSON: the whole plan at this version.
    pub content: Option<String>,
}

/// What a write records as a new version.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// The plan's name at this version.
    pub name: &'a str,
    /// Who commits it (a token's name or `cli:<user>`).
    pub author: &'a str,
    /// The author's commit message.
    pub message: &'a str,
    /// A one-line summary of the change, shown in the history and the audit log.
    pub summary: &'a str,
    /// JSON: what changed from the previous version.
    pub diff: &'a str,
    /// JSON: the whole plan at this version.
    pub content: &'a str,
}

/// Who did what, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// A token's name, or `cli:<user>` for the command line.
    pub actor: String,
    /// The actor's role (`viewer`, `editor`, `admin`), empty when there is none.
    pub role: String,
    /// e.g. `plan.create`, `plan.edit`, `token.create`, `denied`.
    pub action: String,
    /// e.g. `plans/3`.
    pub target: String,
    /// `ok`, or why it was refused.
    pub outcome: String,
    /// More about what was done, e.g. the change summary.
    pub detail: String,
}

/// One row of the audit log.
/// A stored [`AuditEntry`] with its id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// The row's id (ascending with time).
    pub id: i64,
    /// When it was recorded, UTC.
    pub at: String,
    /// Who did what, to what, with what outcome.
    pub entry: AuditEntry,
}

/// An API token as stored: its name and role (only the token's SHA-256 hash is kept, never the
/// token).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// The token's id (used to revoke it).
    pub id: i64,
    /// The token's name, recorded as the actor of what it does.
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// When the token was created, UTC.
    pub created_at: String,
    /// When the token was revoked, UTC; `None` while it is live.
    pub revoked_at: Option<String>,
}

/// Everything a plan store holds, as stored (ids, times, deleted plans, token hashes), for a
/// lossless copy between backends ([`PlanStore::archive`], [`PlanStore::restore_archive`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanArchive {
    /// Every plan, deleted ones too, with when it was deleted.
    pub plans: Vec<(PlanRecord, Option<String>)>,
    /// Every version of every plan, with its content.
    pub versions: Vec<VersionRecord>,
    /// Every token, revoked ones too, with the SHA-256 hash (hex) of its secret.
    pub tokens: Vec<(TokenRecord, String)>,
    /// The whole audit log, oldest first.
    pub audit: Vec<AuditRecord>,
}

impl PlanArchive {
    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty() && self.tokens.is_empty() && self.audit.is_empty()
    }
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
    /// One plan by id, `None` when it does not exist or was deleted.
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
    /// Appends an entry to the audit log (e.g. a refused write).
    fn record_audit(&mut self, audit: &AuditEntry) -> Result<(), StoreError>;
    /// The newest `limit` audit entries, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;
    /// Creates a token with this name, role and SHA-256 hash (hex) of its secret, and audits it.
    fn create_token(
        &mut self,
        name: &str,
        role: Role,
        sha256_hex: &str,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError>;
    /// The live (not revoked) token with this hash.
    fn token_by_hash(&self, sha256_hex: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Every token, live and revoked, by id.
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token; `false` when there is no live token with that id.
    fn revoke_token(&mut self, id: i64, audit: &AuditEntry) -> Result<bool, StoreError>;
    /// Everything stored, as stored (see [`PlanArchive`]).
    fn archive(&self) -> Result<PlanArchive, StoreError>;
    /// Writes `archive` into this store, keeping ids and times, in one transaction; refused
    /// (nothing written) unless the store holds no plan, token or audit entry.
    fn restore_archive(&mut self, archive: &PlanArchive) -> Result<(), StoreError>;
}

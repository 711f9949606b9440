//! The GeoPackage backend of [`PlanStore`]: plans, their versions, API tokens and the audit
//! log as attribute tables (registered in `gpkg_contents`, so QGIS lists them):
//! `liancun_plans` (one row per plan with its head version), `liancun_plan_versions` (every
//! version's full content as JSON, its diff from the parent, author, time, message),
//! `liancun_tokens` (SHA-256 hashes only, never the token) and `liancun_audit`. Their schema
//! (`PLAN_SCHEMA`) is created with the workspace's other tables by [`GpkgStore`].
//!
//! Every write is one SQLite transaction (`BEGIN IMMEDIATE` … `COMMIT`): the version row, the
//! head move and the audit row land together or not at all, so a process killed mid-write
//! leaves the previous head intact. Commits check the head the caller read (optimistic
//! locking): a stale one is [`StoreError::Conflict`] and changes nothing.

use rusqlite::{OptionalExtension, params};

use super::GpkgStore;
use crate::domain::Role;
use crate::store::StoreError;
use crate::store::plans::{
    AuditEntry, AuditRecord, NewVersion, PlanArchive, PlanRecord, PlanStore, TokenRecord,
    VersionRecord,
};

pub(super) const PLAN_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS liancun_plans (
      id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, head INTEGER NOT NULL,
      created_at TEXT NOT NULL, created_by TEXT NOT NULL,
      updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, deleted_at TEXT);
    CREATE TABLE IF NOT EXISTS liancun_plan_versions (
      plan_id INTEGER NOT NULL REFERENCES liancun_plans(id), version INTEGER NOT NULL,
      author TEXT NOT NULL, at TEXT NOT NULL, message TEXT NOT NULL, summary TEXT NOT NULL,
      diff TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (plan_id, version));
    CREATE TABLE IF NOT EXISTS liancun_tokens (
      id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, role TEXT NOT NULL,
      sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT);
    CREATE TABLE IF NOT EXISTS liancun_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
      role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL,
      detail TEXT NOT NULL);
    INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES
      ('liancun_plans', 'attributes', 'liancun_plans', 'liancun: 规划方案 plans'),
      ('liancun_plan_versions', 'attributes', 'liancun_plan_versions', 'liancun: 方案版本 plan versions'),
      ('liancun_tokens', 'attributes', 'liancun_tokens', 'liancun: 访问令牌（仅存哈希）API tokens (hashes only)'),
      ('liancun_audit', 'attributes', 'liancun_audit', 'liancun: 操作日志 audit log of writes');";

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

impl GpkgStore {
    /// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`; any error rolls back.
    fn write_transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.connection();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(conn) {
            Ok(v) => {
                if let Err(e) = conn.execute_batch("COMMIT") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

fn insert_audit(conn: &rusqlite::Connection, a: &AuditEntry) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO liancun_audit (at, actor, role, action, target, outcome, detail)
             VALUES ({NOW}, ?1, ?2, ?3, ?4, ?5, ?6)"
        ),
        params![a.actor, a.role, a.action, a.target, a.outcome, a.detail],
    )?;
    Ok(())
}

fn insert_version(
    conn: &rusqlite::Connection,
    plan: i64,
    number: i64,
    v: &NewVersion,
) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO liancun_plan_versions (plan_id, version, author, at, message, summary, diff, content)
             VALUES (?1, ?2, ?3, {NOW}, ?4, ?5, ?6, ?7)"
        ),
        params![plan, number, v.author, v.message, v.summary, v.diff, v.content],
    )?;
    Ok(())
}

const PLAN_COLUMNS: &str = "id, name, head, created_at, created_by, updated_at, updated_by";

fn plan_row(r: &rusqlite::Row) -> rusqlite::Result<PlanRecord> {
    Ok(PlanRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        head: r.get(2)?,
        created_at: r.get(3)?,
        created_by: r.get(4)?,
        updated_at: r.get(5)?,
        updated_by: r.get(6)?,
    })
}

fn read_plan(conn: &rusqlite::Connection, id: i64) -> Result<Option<PlanRecord>, StoreError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {PLAN_COLUMNS} FROM liancun_plans WHERE id = ?1 AND deleted_at IS NULL"
            ),
            [id],
            plan_row,
        )
        .optional()?)
}

/// A version row: plan_id, version, author, at, message, summary, diff[, content].
fn version_row(r: &rusqlite::Row, with_content: bool) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        plan_id: r.get(0)?,
        version: r.get(1)?,
        author: r.get(2)?,
        at: r.get(3)?,
        message: r.get(4)?,
        summary: r.get(5)?,
        diff: r.get(6)?,
        content: if with_content { Some(r.get(7)?) } else { None },
    })
}

fn token_row(r: &rusqlite::Row) -> rusqlite::Result<TokenRecord> {
    let role: String = r.get(2)?;
    Ok(TokenRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        // Only this module writes the column, always from a Role.
        role: role.parse().unwrap_or(Role::Viewer),
        created_at: r.get(3)?,
        revoked_at: r.get(4)?,
    })
}

/// The plan, if its head is still `expected_head`; otherwise [`StoreError::Conflict`].
fn head_at(
    conn: &rusqlite::Connection,
    plan: i64,
    expected_head: i64,
) -> Result<PlanRecord, StoreError> {
    let current = read_plan(conn, plan)?.ok_or(StoreError::NoPlan(plan))?;
    if current.head != expected_head {
        return Err(StoreError::Conflict {
            plan,
            expected: expected_head,
            head: current.head,
        });
    }
    Ok(current)
}

impl PlanStore for GpkgStore {
    fn create_plan(
        &mut self,
        version: &NewVersion,
        audit: &AuditEntry,
    ) -> Result<PlanRecord, StoreError> {
        self.write_transaction(|conn| {
            conn.execute(
                &format!(
                    "INSERT INTO liancun_plans (name, head, created_at, created_by, updated_at, updated_by)
                     VALUES (?1, 1, {NOW}, ?2, {NOW}, ?2)"
                ),
                params![version.name, version.author],
            )?;
            let id = conn.last_insert_rowid();
            insert_version(conn, id, 1, version)?;
            let mut audit = audit.clone();
            audit.target = format!("plans/{id}");
            insert_audit(conn, &audit)?;
            read_plan(conn, id)?.ok_or(StoreError::NoPlan(id))
        })
    }

    fn plans(&self) -> Result<Vec<PlanRecord>, StoreError> {
        let mut stmt = self.connection().prepare(&format!(
            "SELECT {PLAN_COLUMNS} FROM liancun_plans WHERE deleted_at IS NULL ORDER BY id"
        ))?;
        let rows = stmt.query_map([], plan_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn plan(&self, id: i64) -> Result<Option<PlanRecord>, StoreError> {
        read_plan(self.connection(), id)
    }

    fn version(&self, plan: i64, version: i64) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self
            .connection()
            .query_row(
                "SELECT v.plan_id, v.version, v.author, v.at, v.message, v.summary, v.diff, v.content
                 FROM liancun_plan_versions v JOIN liancun_plans p ON p.id = v.plan_id
                 WHERE v.plan_id = ?1 AND v.version = ?2 AND p.deleted_at IS NULL",
                [plan, version],
                |r| version_row(r, true),
            )
            .optional()?)
    }

    fn versions(&self, plan: i64) -> Result<Vec<VersionRecord>, StoreError> {
        let mut stmt = self.connection().prepare(
            "SELECT plan_id, version, author, at, message, summary, diff
             FROM liancun_plan_versions WHERE plan_id = ?1 ORDER BY version DESC",
        )?;
        let rows = stmt.query_map([plan], |r| version_row(r, false))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn commit_version(
        &mut self,
        plan: i64,
        expected_head: i64,
        version: &NewVersion,
        audit: &AuditEntry,
    ) -> Result<PlanRecord, StoreError> {
        self.write_transaction(|conn| {
            let current = head_at(conn, plan, expected_head)?;
            let next = current.head + 1;
            insert_version(conn, plan, next, version)?;
            conn.execute(
                &format!(
                    "UPDATE liancun_plans SET head = ?1, name = ?2, updated_at = {NOW}, updated_by = ?3
                     WHERE id = ?4"
                ),
                params![next, version.name, version.author, plan],
            )?;
            insert_audit(conn, audit)?;
            read_plan(conn, plan)?.ok_or(StoreError::NoPlan(plan))
        })
    }

    fn delete_plan(
        &mut self,
        plan: i64,
        expected_head: i64,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            head_at(conn, plan, expected_head)?;
            conn.execute(
                &format!("UPDATE liancun_plans SET deleted_at = {NOW} WHERE id = ?1"),
                [plan],
            )?;
            insert_audit(conn, audit)
        })
    }

    fn record_audit(&mut self, audit: &AuditEntry) -> Result<(), StoreError> {
        insert_audit(self.connection(), audit)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.connection().prepare(
            "SELECT id, at, actor, role, action, target, outcome, detail
             FROM liancun_audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                entry: AuditEntry {
                    actor: r.get(2)?,
                    role: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    outcome: r.get(6)?,
                    detail: r.get(7)?,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn create_token(
        &mut self,
        name: &str,
        role: Role,
        sha256_hex: &str,
        audit: &AuditEntry,
    ) -> Result<TokenRecord, StoreError> {
        self.write_transaction(|conn| {
            conn.execute(
                &format!(
                    "INSERT INTO liancun_tokens (name, role, sha256, created_at) VALUES (?1, ?2, ?3, {NOW})"
                ),
                params![name, role.name(), sha256_hex],
            )?;
            let id = conn.last_insert_rowid();
            let mut audit = audit.clone();
            audit.target = format!("tokens/{id}");
            insert_audit(conn, &audit)?;
            Ok(conn.query_row(
                "SELECT id, name, role, created_at, revoked_at FROM liancun_tokens WHERE id = ?1",
                [id],
                token_row,
            )?)
        })
    }

    fn token_by_hash(&self, sha256_hex: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .connection()
            .query_row(
                "SELECT id, name, role, created_at, revoked_at FROM liancun_tokens
                 WHERE sha256 = ?1 AND revoked_at IS NULL",
                [sha256_hex],
                token_row,
            )
            .optional()?)
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut stmt = self.connection().prepare(
            "SELECT id, name, role, created_at, revoked_at FROM liancun_tokens ORDER BY id",
        )?;
        let rows = stmt.query_map([], token_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_token(&mut self, id: i64, audit: &AuditEntry) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let n = conn.execute(
                &format!(
                    "UPDATE liancun_tokens SET revoked_at = {NOW} WHERE id = ?1 AND revoked_at IS NULL"
                ),
                [id],
            )?;
            if n > 0 {
                insert_audit(conn, audit)?;
            }
            Ok(n > 0)
        })
    }

    fn archive(&self) -> Result<PlanArchive, StoreError> {
        let conn = self.connection();
        let mut archive = PlanArchive::default();
        let mut stmt = conn.prepare(&format!(
            "SELECT {PLAN_COLUMNS}, deleted_at FROM liancun_plans ORDER BY id"
        ))?;
        for row in stmt.query_map([], |r| Ok((plan_row(r)?, r.get(7)?)))? {
            archive.plans.push(row?);
        }
        let mut stmt = conn.prepare(
            "SELECT plan_id, version, author, at, message, summary, diff, content
             FROM liancun_plan_versions ORDER BY plan_id, version",
        )?;
        for row in stmt.query_map([], |r| version_row(r, true))? {
            archive.versions.push(row?);
        }
        let mut stmt = conn.prepare(
            "SELECT id, name, role, created_at, revoked_at, sha256 FROM liancun_tokens ORDER BY id",
        )?;
        for row in stmt.query_map([], |r| Ok((token_row(r)?, r.get(5)?)))? {
            archive.tokens.push(row?);
        }
        archive.audit = self.audit_log(usize::MAX >> 1)?;
        archive.audit.reverse();
        Ok(archive)
    }

    fn restore_archive(&mut self, archive: &PlanArchive) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            let held: i64 = conn.query_row(
                "SELECT (SELECT count(*) FROM liancun_plans) + (SELECT count(*) FROM liancun_tokens)
                        + (SELECT count(*) FROM liancun_audit)",
                [],
                |r| r.get(0),
            )?;
            if held > 0 {
                return Err(StoreError::NotEmpty(format!(
                    "{held} plan, token or audit rows"
                )));
            }
            for (p, deleted_at) in &archive.plans {
                conn.execute(
                    "INSERT INTO liancun_plans (id, name, head, created_at, created_by, updated_at, updated_by, deleted_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![p.id, p.name, p.head, p.created_at, p.created_by, p.updated_at, p.updated_by, deleted_at],
                )?;
            }
            for v in &archive.versions {
                conn.execute(
                    "INSERT INTO liancun_plan_versions (plan_id, version, author, at, message, summary, diff, content)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![v.plan_id, v.version, v.author, v.at, v.message, v.summary, v.diff, v.content.as_deref().unwrap_or("")],
                )?;
            }
            for (t, sha256) in &archive.tokens {
                conn.execute(
                    "INSERT INTO liancun_tokens (id, name, role, sha256, created_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![t.id, t.name, t.role.name(), sha256, t.created_at, t.revoked_at],
                )?;
            }
            for a in &archive.audit {
                let e = &a.entry;
                conn.execute(
                    "INSERT INTO liancun_audit (id, at, actor, role, action, target, outcome, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![a.id, a.at, e.actor, e.role, e.action, e.target, e.outcome, e.detail],
                )?;
            }
            Ok(())
        })
    }
}

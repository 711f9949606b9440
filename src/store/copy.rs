//! Copying a whole workspace between backends (GeoPackage ⇄ PostGIS): every layer with its
//! columns, values, fids and provenance, the settings, and the plans with every version, the
//! tokens (hashes) and the audit log with their ids and times.
//!
//! The target must be empty: nothing in it is overwritten. Each layer lands whole or not at all
//! (the stores' replace transaction), and the plans, tokens and audit log in one transaction
//! after the layers; a copy that fails part-way leaves a target that `copy` refuses again, to
//! be dropped (a new file, or the schema) and copied anew.

use super::{FeatureStore, LayerProvenance, StoreError, WorkspaceStore};
use crate::domain::{LayerKind, Value};

/// What a copy wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyReport {
    /// Each layer copied and its feature count, in [`LayerKind::ALL`] order.
    pub layers: Vec<(LayerKind, u64)>,
    /// Settings copied.
    pub settings: usize,
    /// Plans copied (deleted ones too).
    pub plans: usize,
    /// Plan versions copied.
    pub versions: usize,
    /// Tokens copied (revoked ones too).
    pub tokens: usize,
    /// Audit log entries copied.
    pub audit: usize,
}

/// Copies everything in `from` into `to`, which must hold no layer, plan, token or audit entry
/// ([`StoreError::NotEmpty`] otherwise, before anything is written).
pub fn copy_workspace(
    from: &dyn WorkspaceStore,
    to: &mut dyn WorkspaceStore,
) -> Result<CopyReport, StoreError> {
    let held: Vec<&str> = to.layers()?.iter().map(|l| l.kind.name()).collect();
    if !held.is_empty() {
        return Err(StoreError::NotEmpty(format!("layers {}", held.join(", "))));
    }
    if !to.archive()?.is_empty() {
        return Err(StoreError::NotEmpty(
            "plans, tokens or audit entries".into(),
        ));
    }
    let archive = from.archive()?;
    let mut report = CopyReport::default();
    for info in from.layers()? {
        let mut writer = to.begin_replace(info.kind, info.kind.geometry_family())?;
        let mut slots = Vec::with_capacity(info.columns.len());
        for c in &info.columns {
            slots.push(writer.ensure_column(&c.name, c.ty)?);
        }
        let mut values: Vec<(usize, Value)> = Vec::with_capacity(slots.len());
        // Both stores number a new layer 1, 2, … in insertion order, so a layer liancun wrote
        // keeps its fids; one with gaps (rows deleted by another tool) is renumbered.
        from.scan(info.kind, &mut |f| {
            values.clear();
            values.extend(slots.iter().copied().zip(f.values));
            writer.insert(&f.geometry, &values)?;
            Ok(())
        })?;
        let written = writer.commit(&LayerProvenance {
            source: info.source.clone(),
        })?;
        report.layers.push((info.kind, written.feature_count));
    }
    for (key, value) in from.settings()? {
        to.set_setting(&key, &value)?;
        report.settings += 1;
    }
    to.restore_archive(&archive)?;
    report.plans = archive.plans.len();
    report.versions = archive.versions.len();
    report.tokens = archive.tokens.len();
    report.audit = archive.audit.len();
    Ok(report)
}

/// Whether two stores hold the same layers (kinds, columns, features with geometry and values,
/// provenance), settings and plan archive: what a lossless copy must give.
pub fn same_contents(a: &dyn WorkspaceStore, b: &dyn WorkspaceStore) -> Result<bool, StoreError> {
    let (la, lb) = (a.layers()?, b.layers()?);
    let shape =
        |l: &super::LayerInfo| (l.kind, l.columns.clone(), l.feature_count, l.source.clone());
    if la.iter().map(shape).ne(lb.iter().map(shape)) {
        return Ok(false);
    }
    for info in &la {
        if features(a, info.kind)? != features(b, info.kind)? {
            return Ok(false);
        }
    }
    Ok(a.settings()? == b.settings()? && a.archive()? == b.archive()?)
}

fn features(
    store: &dyn FeatureStore,
    kind: LayerKind,
) -> Result<Vec<super::StoredFeature>, StoreError> {
    let mut out = Vec::new();
    store.scan(kind, &mut |f| {
        out.push(f);
        Ok(())
    })?;
    Ok(out)
}

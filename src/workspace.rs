//! A workspace: its store (a GeoPackage file or a PostGIS schema) plus what is derived from it — the metric CRS, the loaded
//! spatial engine (an R-tree per layer over metric geometries) and per-village statistics.
//!
//! This is the seam between storage and the pure engine: it reads features from the
//! [`crate::store::FeatureStore`], projects them to the metric CRS and hands them to engine modules.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use geo::{Geometry, InteriorPoint, MultiPolygon};
use thiserror::Error;

use crate::domain::village_code_of;
use crate::domain::{LayerKind, Value, Village, VillageColumns};
use crate::engine::crs::{CrsError, GaussKrugerAreaScale, Reprojector, metric_epsg_for_lon};
use crate::engine::geometry::to_multipolygon;
use crate::engine::index::LayerIndex;
use crate::engine::stats::{VillageInput, VillageStatsBuilder, VillageStatsReport};
use crate::store::{LayerInfo, StoreError, StoreLocation, StoredFeature, WorkspaceStore};

/// Why a workspace operation failed.
#[derive(Debug, Error)]
pub enum WorkspaceError {
    /// The store failed to read or write (see [`StoreError`]).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A geometry could not be reprojected, or a CRS is not supported.
    #[error("{0}")]
    Crs(#[from] CrsError),
    /// An output file could not be written.
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    /// The workspace lacks what the operation needs (an empty workspace, no villages layer, a
    /// village that is not a polygon); the message says which.
    #[error("{0}")]
    Missing(String),
}

/// A parcel as the statistics' reading thread prepares it.
enum ParcelItem {
    /// Attributed by ZLDWDM to a known village: only its metric area is needed.
    Area {
        dlbm: String,
        owner: String,
        area_m2: f64,
    },
    /// To be placed by geometry: its metric polygon.
    Geometry {
        dlbm: String,
        owner: Option<String>,
        geometry: MultiPolygon<f64>,
    },
    Skip,
}

/// An open workspace.
pub struct Workspace {
    store: Box<dyn WorkspaceStore>,
    location: StoreLocation,
    village_cache: Option<VillageCache>,
}

/// The villages of one workspace as last read, shared by the workspaces a server opens on the
/// same file so that zoning, location and statistics read and project the layer once per data
/// version (a re-import, or another metric CRS, loads them again).
#[derive(Clone, Default)]
pub struct VillageCache {
    slot: Arc<Mutex<Option<CachedVillages>>>,
    loads: Arc<AtomicUsize>,
}

struct CachedVillages {
    info: LayerInfo,
    metric_epsg: u32,
    villages: Vec<Village>,
}

impl VillageCache {
    /// How many times the villages were read from the store through this cache.
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
    }
}

/// The location a command-line workspace argument names (a path, or a `postgres://` URL).
pub fn location_of(arg: &Path) -> Result<StoreLocation, StoreError> {
    match arg.to_str() {
        Some(text) => StoreLocation::parse(text),
        None => Ok(StoreLocation::GeoPackage(arg.to_path_buf())),
    }
}

/// One layer loaded into memory: its description, spatial index (metric) and attribute rows.
pub struct LoadedLayer {
    /// The layer's description (kind, columns, feature count, extent, data version).
    pub info: LayerInfo,
    /// The R-tree over the layer's geometries in the workspace's metric CRS.
    pub index: LayerIndex,
    /// Attribute rows by slot, aligned with `info.columns`.
    pub values: Vec<Vec<Value>>,
}

/// The in-memory spatial engine of a workspace.
pub struct Engine {
    /// The metric CRS the geometries are in: a CGCS2000 3° Gauss–Krüger EPSG code (4534–4554).
    pub metric_epsg: u32,
    /// Every imported layer, loaded, by kind.
    pub layers: BTreeMap<LayerKind, LoadedLayer>,
}

impl Workspace {
    /// Opens (or creates) the workspace at `path`: a GeoPackage file, or a PostGIS schema when
    /// the argument is a `postgres://` URL (see [`StoreLocation::parse`]).
    pub fn open(path: &Path) -> Result<Workspace, WorkspaceError> {
        Workspace::open_at(&location_of(path)?)
    }

    /// Opens an existing workspace for reading only: nothing changes (no schema upgrade), so
    /// readers never contend with writers for a write lock.
    pub fn open_read_only(path: &Path) -> Result<Workspace, WorkspaceError> {
        Workspace::open_read_only_at(&location_of(path)?)
    }

    /// Opens (or creates) the workspace at `location`.
    pub fn open_at(location: &StoreLocation) -> Result<Workspace, WorkspaceError> {
        Ok(Workspace {
            store: location.open()?,
            location: location.clone(),
            village_cache: None,
        })
    }

    /// Opens the workspace at `location` for reading only.
    pub fn open_read_only_at(location: &StoreLocation) -> Result<Workspace, WorkspaceError> {
        Ok(Workspace {
            store: location.open_read_only()?,
            location: location.clone(),
            village_cache: None,
        })
    }

    /// This workspace reading its villages through `cache` (see [`VillageCache`]).
    pub fn with_village_cache(mut self, cache: VillageCache) -> Workspace {
        self.village_cache = Some(cache);
        self
    }

    /// Where the workspace lives (a GeoPackage file or a PostGIS schema).
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The store, for reading.
    pub fn store(&self) -> &dyn WorkspaceStore {
        &*self.store
    }

    /// The store, for writing (imports, plans, tokens).
    pub fn store_mut(&mut self) -> &mut dyn WorkspaceStore {
        &mut *self.store
    }

    /// The metric CRS (CGCS2000 3° Gauss–Krüger, no zone prefix) used for areas and distances:
    /// the one recorded at import, else the zone of the layers' centre.
    pub fn metric_epsg(&self) -> Result<u32, WorkspaceError> {
        if let Some(code) = self
            .store
            .setting("metric_epsg")?
            .and_then(|s| s.parse().ok())
        {
            return Ok(code);
        }
        let layers = self.store.layers()?;
        let bbox = layers.iter().find_map(|l| l.bbox).ok_or_else(|| {
            WorkspaceError::Missing(
                "the workspace is empty: import a layer first (liancun import …)".into(),
            )
        })?;
        Ok(metric_epsg_for_lon((bbox[0] + bbox[2]) / 2.0))
    }

    /// Streams a layer's features with geometries projected to the metric CRS, in fid order.
    pub fn scan_metric(
        &self,
        kind: LayerKind,
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), WorkspaceError>,
    ) -> Result<(), WorkspaceError> {
        self.scan_prepared(
            kind,
            &|mut f: StoredFeature, to_metric: &Reprojector| {
                to_metric.transform_geometry(&mut f.geometry)?;
                Ok(f)
            },
            visit,
        )
    }

    /// Streams a layer's features through `prepare`, which runs on a reading thread (with its own
    /// read-only store handle and a lon/lat → metric reprojector), and hands the results to
    /// `visit` on the calling thread, in fid order. Decoding and reprojection — PROJ's
    /// transverse Mercator is the costly part — thus overlap with the caller's work.
    pub fn scan_prepared<T: Send>(
        &self,
        kind: LayerKind,
        prepare: &(dyn Fn(StoredFeature, &Reprojector) -> Result<T, WorkspaceError> + Sync),
        visit: &mut dyn FnMut(T) -> Result<(), WorkspaceError>,
    ) -> Result<(), WorkspaceError> {
        const BATCH: usize = 1024;
        let metric_epsg = self.metric_epsg()?;
        let reader_store = self.store.reader()?;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(8);
            let reader = std::thread::Builder::new()
                .name("scan-reader".into())
                .spawn_scoped(scope, move || -> Result<(), WorkspaceError> {
                    let to_metric = Reprojector::to_metric(metric_epsg)?;
                    let mut failure: Option<WorkspaceError> = None;
                    let mut batch = Vec::with_capacity(BATCH);
                    let scanned = reader_store.scan(kind, &mut |f| {
                        match prepare(f, &to_metric) {
                            Ok(item) => batch.push(item),
                            Err(e) => {
                                failure = Some(e);
                                return Err(StoreError::Encode("preparation failed".into()));
                            }
                        }
                        if batch.len() == BATCH {
                            // A closed channel means the visitor stopped: stop quietly.
                            tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                                .map_err(|_| StoreError::Encode("stopped".into()))?;
                        }
                        Ok(())
                    });
                    if let Some(e) = failure {
                        return Err(e);
                    }
                    match scanned {
                        Err(StoreError::Encode(m)) if m == "stopped" => return Ok(()),
                        other => other?,
                    }
                    if !batch.is_empty() {
                        let _ = tx.send(batch);
                    }
                    Ok(())
                })?;
            let mut visited: Result<(), WorkspaceError> = Ok(());
            'batches: for batch in rx {
                for item in batch {
                    if let Err(e) = visit(item) {
                        visited = Err(e);
                        break 'batches;
                    }
                }
            }
            let read = reader.join().unwrap_or_else(|_| {
                Err(WorkspaceError::Missing(
                    "the reading thread panicked".into(),
                ))
            });
            visited?;
            read
        })
    }

    /// Loads every layer into the in-memory engine, building an R-tree per layer.
    pub fn load_engine(&self) -> Result<Engine, WorkspaceError> {
        let metric_epsg = self.metric_epsg()?;
        let mut layers = BTreeMap::new();
        for info in self.store.layers()? {
            let mut features = Vec::with_capacity(info.feature_count as usize);
            let mut values = Vec::with_capacity(info.feature_count as usize);
            self.scan_metric(info.kind, &mut |f| {
                features.push((f.fid, f.geometry));
                values.push(f.values);
                Ok(())
            })?;
            let index = LayerIndex::build(features);
            layers.insert(
                info.kind,
                LoadedLayer {
                    info,
                    index,
                    values,
                },
            );
        }
        Ok(Engine {
            metric_epsg,
            layers,
        })
    }

    /// Every village of the villages layer with its canonical fields and both boundaries, read
    /// one way for every analysis, and the layer's description. A village that is not a
    /// polygon is an error naming it.
    pub fn villages(&self) -> Result<(LayerInfo, Vec<Village>), WorkspaceError> {
        let info = self.store.layer(LayerKind::Villages)?.ok_or_else(|| {
            WorkspaceError::Missing(
                "工作区没有村界图层 / no villages layer: liancun import --layer villages FILE"
                    .into(),
            )
        })?;
        let Some(cache) = &self.village_cache else {
            return self.read_villages(info);
        };
        let metric_epsg = self.metric_epsg()?;
        // Held while loading: a second analysis waits for the first load instead of repeating it.
        let mut slot = cache.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = slot
            .as_ref()
            .filter(|c| c.info == info && c.metric_epsg == metric_epsg)
        {
            return Ok((hit.info.clone(), hit.villages.clone()));
        }
        let (info, villages) = self.read_villages(info)?;
        cache.loads.fetch_add(1, Ordering::Relaxed);
        *slot = Some(CachedVillages {
            info: info.clone(),
            metric_epsg,
            villages: villages.clone(),
        });
        Ok((info, villages))
    }

    fn read_villages(&self, info: LayerInfo) -> Result<(LayerInfo, Vec<Village>), WorkspaceError> {
        let columns = VillageColumns::new(|name| info.column_index(name));
        let prepare = |f: StoredFeature, to_metric: &Reprojector| {
            let Some(lonlat) = to_multipolygon(f.geometry.clone()) else {
                let code = columns
                    .code
                    .and_then(|c| f.values[c].as_text())
                    .unwrap_or_default();
                return Err(WorkspaceError::Missing(format!(
                    "村 {code} (fid {}) 不是面 / village {code} is not a polygon",
                    f.fid
                )));
            };
            let mut metric = Geometry::MultiPolygon(lonlat.clone());
            to_metric.transform_geometry(&mut metric)?;
            let metric = to_multipolygon(metric).expect("still a multipolygon");
            Ok(Village::from_row(&columns, f.fid, f.values, lonlat, metric))
        };
        let mut villages = Vec::with_capacity(info.feature_count as usize);
        self.scan_prepared(LayerKind::Villages, &prepare, &mut |v| {
            villages.push(v);
            Ok(())
        })?;
        Ok((info, villages))
    }

    /// Per-village statistics (see [`crate::engine::stats`]). Needs the villages layer; parcels,
    /// greenhouses and facilities are used when present.
    pub fn village_stats(&self) -> Result<VillageStatsReport, WorkspaceError> {
        let inputs = self
            .villages()?
            .1
            .into_iter()
            .map(|v| VillageInput {
                population: v.whole_population(),
                code: v.code,
                name: v.name,
                town: v.town,
                geometry: v.metric,
            })
            .collect();
        let col = |info: &LayerInfo, name: &str| info.column_index(name);
        let text = |values: &[Value], i: Option<usize>| {
            i.and_then(|i| values[i].as_text()).unwrap_or_default()
        };
        let mut builder = VillageStatsBuilder::new(inputs);

        if let Some(parcels) = self.store.layer(LayerKind::Parcels)? {
            let (dlbm, zldwdm) = (col(&parcels, "dlbm"), col(&parcels, "zldwdm"));
            // A parcel whose ZLDWDM names a village only needs its area: measured from lon/lat
            // with the Gauss–Krüger area scale (no vertex is projected). Others are projected
            // for the exact intersection with the villages.
            let scale = GaussKrugerAreaScale::new(self.metric_epsg()?);
            let known = builder.village_codes();
            let prepare =
                |f: StoredFeature, to_metric: &Reprojector| -> Result<ParcelItem, WorkspaceError> {
                    let code = text(&f.values, dlbm);
                    let owner = zldwdm.and_then(|i| f.values[i].as_text());
                    let by_code = owner
                        .as_deref()
                        .and_then(village_code_of)
                        .is_some_and(|c| known.contains(c));
                    let Some(mut mp) = to_multipolygon(f.geometry) else {
                        return Ok(ParcelItem::Skip);
                    };
                    match (&scale, by_code) {
                        (Some(scale), true) => Ok(ParcelItem::Area {
                            dlbm: code,
                            owner: owner.unwrap_or_default(),
                            area_m2: scale.area(&mp),
                        }),
                        _ => {
                            let mut g = Geometry::MultiPolygon(mp);
                            to_metric.transform_geometry(&mut g)?;
                            mp = to_multipolygon(g).unwrap_or_else(|| MultiPolygon(vec![]));
                            Ok(ParcelItem::Geometry {
                                dlbm: code,
                                owner,
                                geometry: mp,
                            })
                        }
                    }
                };
            self.scan_prepared(LayerKind::Parcels, &prepare, &mut |item| {
                match item {
                    ParcelItem::Area {
                        dlbm,
                        owner,
                        area_m2,
                    } => builder.add_parcel_area(&dlbm, &owner, area_m2),
                    ParcelItem::Geometry {
                        dlbm,
                        owner,
                        geometry,
                    } => builder.add_parcel(&dlbm, owner.as_deref(), &geometry),
                    ParcelItem::Skip => {}
                }
                Ok(())
            })?;
        }
        if let Some(greenhouses) = self.store.layer(LayerKind::Greenhouses)? {
            let vc = col(&greenhouses, "village_code");
            self.scan_metric(LayerKind::Greenhouses, &mut |f| {
                let owner = vc.and_then(|i| f.values[i].as_text());
                if let Some(mp) = to_multipolygon(f.geometry) {
                    builder.add_greenhouse(owner.as_deref(), &mp);
                }
                Ok(())
            })?;
        }
        if let Some(facilities) = self.store.layer(LayerKind::Facilities)? {
            let (kind, vc) = (col(&facilities, "kind"), col(&facilities, "village_code"));
            self.scan_metric(LayerKind::Facilities, &mut |f| {
                let owner = vc.and_then(|i| f.values[i].as_text());
                let at = match &f.geometry {
                    Geometry::Point(p) => Some(p.0),
                    g => g.interior_point().map(|p| p.0),
                };
                if let Some(at) = at {
                    builder.add_facility(&text(&f.values, kind), owner.as_deref(), at);
                }
                Ok(())
            })?;
        }
        Ok(builder.finish())
    }

    /// Writes a layer as an RFC 7946 GeoJSON FeatureCollection (lon/lat, CGCS2000 ≈ CRS84),
    /// streaming. Null attributes are left out. Returns the number of features written.
    pub fn export_geojson(
        &self,
        kind: LayerKind,
        out: &mut dyn Write,
    ) -> Result<u64, WorkspaceError> {
        let info = self.store.layer(kind)?.ok_or_else(|| {
            WorkspaceError::Missing(format!("layer '{kind}' is not in the workspace"))
        })?;
        out.write_all(b"{\"type\":\"FeatureCollection\",\"name\":")?;
        serde_json::to_writer(&mut *out, kind.name()).map_err(std::io::Error::from)?;
        out.write_all(b",\"features\":[\n")?;
        let mut n = 0u64;
        let mut io_error: Option<std::io::Error> = None;
        self.store
            .scan(kind, &mut |f| {
                let mut props = serde_json::Map::new();
                for (col, v) in info.columns.iter().zip(f.values) {
                    let json = match v {
                        Value::Null => continue,
                        Value::Bool(b) => serde_json::Value::Bool(b),
                        Value::Int(i) => serde_json::Value::from(i),
                        Value::Real(r) => serde_json::Value::from(r),
                        Value::Text(s) => serde_json::Value::String(s),
                    };
                    props.insert(col.name.clone(), json);
                }
                let feature = geojson::Feature {
                    bbox: None,
                    geometry: Some(geojson::Geometry::from(&f.geometry)),
                    id: Some(geojson::feature::Id::Number(f.fid.into())),
                    properties: Some(props),
                    foreign_members: None,
                };
                let write = (|| -> std::io::Result<()> {
                    if n > 0 {
                        out.write_all(b",\n")?;
                    }
                    serde_json::to_writer(&mut *out, &feature).map_err(std::io::Error::from)
                })();
                if let Err(e) = write {
                    io_error = Some(e);
                    return Err(StoreError::Encode("write failed".into()));
                }
                n += 1;
                Ok(())
            })
            .map_err(|e| match io_error.take() {
                Some(io) => WorkspaceError::Io(io),
                None => e.into(),
            })?;
        out.write_all(b"\n]}\n")?;
        Ok(n)
    }
}

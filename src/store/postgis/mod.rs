//! The PostgreSQL + PostGIS workspace: the same layers, plans, tokens and audit log as the
//! GeoPackage, in one schema of a database that several `liancun serve` processes share.
//!
//! Layout (schema `liancun` unless the URL says `?schema=…`): one table per layer
//! (`fid bigint` primary key, `geom geometry(Geometry, 4490)` with a GiST index, then the
//! canonical and kept source columns as `text`, `bigint`, `double precision`, `boolean`);
//! `liancun_layers` (provenance, data version, feature count, extent) and `liancun_settings`;
//! plans, tokens and the audit log in the tables of [`plans`].
//!
//! A replacement streams the features with `COPY … FROM STDIN` into a staging table inside one
//! transaction, builds the indexes, then drops the old table and renames the staging one in the
//! same transaction: readers see the old layer until the commit, and a killed import leaves it
//! as it was. The commit also sends `NOTIFY liancun_data` so that other processes can reload.
//!
//! The driver is the synchronous `postgres` crate: every call blocks, so the server makes them
//! from blocking threads, as it does for the GeoPackage.

pub mod plans;

use std::cell::{RefCell, RefMut};
use std::fmt::Write as _;
use std::io::Write as _;

use geo::{BoundingRect, Geometry};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use super::{
    Column, FeatureStore, LayerInfo, LayerProvenance, LayerWriter, StoreError, StoredFeature,
};
use crate::domain::{FieldType, GeometryFamily, LayerKind, Value};

/// CGCS2000 lon/lat, the SRID of every stored geometry.
const SRID: u32 = 4490;
/// The schema used when the URL names none.
pub const DEFAULT_SCHEMA: &str = "liancun";
/// Buffered COPY rows are sent when they reach this size.
const COPY_CHUNK_BYTES: usize = 8 << 20;
/// The channel a committed re-import is announced on (payload: `schema.layer`).
pub const DATA_CHANNEL: &str = "liancun_data";

/// Quotes an SQL identifier, doubling embedded quotes.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where a PostGIS workspace lives: a connection URL and the schema holding the workspace.
#[derive(Clone, PartialEq, Eq)]
pub struct PgLocation {
    /// The connection URL without liancun's own `schema` parameter (libpq style,
    /// `postgres://user:password@host:port/database?…`).
    url: String,
    /// The schema holding the workspace's tables.
    schema: String,
}

impl PgLocation {
    /// Reads `postgres://…` or `postgresql://…`; a `schema=NAME` query parameter picks the schema
    /// (letters, digits and `_`; default [`DEFAULT_SCHEMA`]). The rest of the URL is checked
    /// when connecting.
    pub fn parse(url: &str) -> Result<PgLocation, StoreError> {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut schema = DEFAULT_SCHEMA.to_string();
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("schema", name)) => schema = name.to_string(),
                _ => kept.push(pair),
            }
        }
        let valid = schema
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && schema.len() <= 63;
        if !valid {
            return Err(StoreError::Open {
                path: redact(url),
                reason: format!(
                    "schema '{schema}' is not a plain name (letters, digits and _, at most 63)"
                ),
            });
        }
        let url = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(PgLocation { url, schema })
    }

    /// The schema holding the workspace.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Connects, with the workspace's schema first on the search path.
    fn connect(&self, read_only: bool) -> Result<Client, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: self.to_string(),
            reason,
        };
        let config: postgres::Config = self
            .url
            .parse()
            .map_err(|e: postgres::Error| open_error(format!("not a PostgreSQL URL: {e}")))?;
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("liancun");
        }
        let mut client = config
            .connect(NoTls)
            .map_err(|e| open_error(describe(&e)))?;
        let mut setup = format!(
            "SET search_path TO {}, public; SET TIME ZONE 'UTC';",
            quote_ident(&self.schema)
        );
        if read_only {
            setup.push_str("SET default_transaction_read_only = on;");
        }
        client
            .batch_execute(&setup)
            .map_err(|e| open_error(describe(&e)))?;
        Ok(client)
    }
}

impl std::fmt::Display for PgLocation {
    /// The URL with its password hidden, and the schema.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (schema {})", redact(&self.url), self.schema)
    }
}

impl std::fmt::Debug for PgLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// The URL with the password between `user:` and `@` replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The server's own message (with its detail and hint) when there is one, else the driver's.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {} ({})", db.severity(), db.message(), db.code().code());
        if let Some(d) = db.detail() {
            let _ = write!(s, "; {d}");
        }
        if let Some(h) = db.hint() {
            let _ = write!(s, "; hint: {h}");
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(s, ": {cause}");
        source = cause.source();
    }
    s
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        StoreError::Postgres(describe(&e))
    }
}

const LIANCUN_TABLES: &str = "
    CREATE TABLE IF NOT EXISTS liancun_layers (
      name text PRIMARY KEY, family text NOT NULL, source text NOT NULL,
      imported_at text NOT NULL, data_version bigint NOT NULL, feature_count bigint NOT NULL,
      min_x double precision, min_y double precision, max_x double precision,
      max_y double precision);
    CREATE TABLE IF NOT EXISTS liancun_settings (key text PRIMARY KEY, value text NOT NULL);";

/// The driver's connection. The synchronous `postgres` client owns a small tokio runtime, which
/// tokio refuses to drop on a thread that drives async tasks (the server's state is dropped
/// there at shutdown): there it is dropped on a thread of its own.
struct DriverClient(Option<Client>);

impl DriverClient {
    fn get(&mut self) -> &mut Client {
        self.0
            .as_mut()
            .expect("the client is only taken when dropped")
    }
}

impl Drop for DriverClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::Builder::new()
                    .name("liancun-pg-close".into())
                    .spawn(move || drop(client));
            } else {
                drop(client);
            }
        }
    }
}

/// A PostGIS schema holding the workspace layers.
pub struct PgStore {
    client: RefCell<DriverClient>,
    location: PgLocation,
    read_only: bool,
}

impl PgStore {
    /// Connects and creates the schema and liancun's tables when missing (PostGIS must be
    /// installed in the database, or creatable by this user).
    pub fn open(location: &PgLocation) -> Result<PgStore, StoreError> {
        let mut client = location.connect(false)?;
        let s = quote_ident(&location.schema);
        // One process creates the schema at a time (replicas may start together).
        let mut tx = client.transaction()?;
        tx.batch_execute("SELECT pg_advisory_xact_lock(8675309)")?;
        let has_postgis: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')",
                &[],
            )?
            .get(0);
        if !has_postgis {
            tx.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")
                .map_err(|e| StoreError::Open {
                    path: location.to_string(),
                    reason: format!(
                        "PostGIS is not installed in this database and cannot be created by this user ({}); ask its administrator to run CREATE EXTENSION postgis",
                        describe(&e)
                    ),
                })?;
        }
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {s}; {LIANCUN_TABLES} {}",
            plans::PLAN_SCHEMA
        ))?;
        tx.commit()?;
        Ok(PgStore {
            client: RefCell::new(DriverClient(Some(client))),
            location: location.clone(),
            read_only: false,
        })
    }

    /// Connects for reading only: nothing is created, every transaction is read-only.
    pub fn open_read_only(location: &PgLocation) -> Result<PgStore, StoreError> {
        Ok(PgStore {
            client: RefCell::new(DriverClient(Some(location.connect(true)?))),
            location: location.clone(),
            read_only: true,
        })
    }

    /// Where this store lives.
    pub fn location(&self) -> &PgLocation {
        &self.location
    }

    /// The connection, reconnected first if the server closed it (a restart, a dropped link).
    fn client(&self) -> Result<RefMut<'_, Client>, StoreError> {
        let mut client = self.client.try_borrow_mut().map_err(|_| {
            StoreError::Postgres("the connection is busy (a scan's visitor used the store)".into())
        })?;
        if client.get().is_closed() {
            *client.get() = self.location.connect(self.read_only)?;
        }
        Ok(RefMut::map(client, DriverClient::get))
    }

    /// Runs `read` on the connection; when the server had closed it meanwhile (a restart, a
    /// terminated backend, an idle timeout), connects again and runs it once more: a read is
    /// safe to repeat.
    fn read<T>(
        &self,
        read: impl Fn(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client()?;
        match read(&mut client) {
            Err(StoreError::Postgres(_)) if client.is_closed() => {
                *client = self.location.connect(self.read_only)?;
                read(&mut client)
            }
            other => other,
        }
    }

    /// The connection for a write, checked alive first (one empty round trip) and connected
    /// again if the server closed it while it was idle, so that a write never fails for that.
    fn live_client(&self) -> Result<RefMut<'_, Client>, StoreError> {
        let mut client = self.client()?;
        if client.simple_query("").is_err() {
            *client = self.location.connect(self.read_only)?;
        }
        Ok(client)
    }

    /// Runs `sql` and returns its rows (once more on a fresh connection if the server had
    /// closed this one).
    pub fn query(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        self.read(|c| Ok(c.query(sql, params)?))
    }

    /// Drops the workspace's schema and everything in it (for tests and `workspace copy`
    /// targets that must start empty).
    pub fn drop_schema(location: &PgLocation) -> Result<(), StoreError> {
        let mut client = location.connect(false)?;
        client.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&location.schema)
        ))?;
        Ok(())
    }

    /// Whether the workspace's schema exists (without creating it).
    pub fn exists(location: &PgLocation) -> Result<bool, StoreError> {
        let mut client = location.connect(true)?;
        Ok(client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&location.schema],
            )?
            .get(0))
    }
}

/// Blocks, calling `on_change` with the layer's name each time a re-import of this workspace is
/// committed (by any process: the writer's `NOTIFY` on [`DATA_CHANNEL`]), until `on_change`
/// returns `false`. Returns the error that ended the connection; the caller reconnects.
pub fn follow_changes(
    location: &PgLocation,
    mut on_change: impl FnMut(&str) -> bool,
) -> Result<(), StoreError> {
    let mut client = location.connect(false)?;
    client.batch_execute(&format!("LISTEN {DATA_CHANNEL}"))?;
    let mut notifications = client.notifications();
    let mut changes = notifications.blocking_iter();
    while let Some(n) = changes.next()? {
        // One channel serves every schema of the database: only this workspace's count.
        let (schema, layer) = n.payload().split_once('.').unwrap_or(("", n.payload()));
        if schema == location.schema && !on_change(layer) {
            return Ok(());
        }
    }
    Ok(())
}

fn read_layer_info(
    client: &mut Client,
    schema: &str,
    kind: LayerKind,
) -> Result<Option<LayerInfo>, StoreError> {
    let Some(row) = client.query_opt(
        "SELECT source, imported_at, data_version, feature_count, min_x, min_y, max_x, max_y
         FROM liancun_layers WHERE name = $1",
        &[&kind.name()],
    )?
    else {
        return Ok(None);
    };
    let bbox = match [row.get(4), row.get(5), row.get(6), row.get(7)] {
        [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
        _ => None,
    };
    let count: i64 = row.get(3);
    Ok(Some(LayerInfo {
        kind,
        columns: columns_of(client, schema, kind.name())?,
        feature_count: count as u64,
        bbox,
        data_version: row.get(2),
        source: row.get(0),
        imported_at: row.get(1),
    }))
}

/// The attribute columns of `schema.table`, in table order.
fn columns_of(client: &mut Client, schema: &str, table: &str) -> Result<Vec<Column>, StoreError> {
    let rows = client.query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod)
         FROM pg_attribute a
         WHERE a.attrelid = to_regclass(quote_ident($2) || '.' || quote_ident($1))
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
        &[&table, &schema],
    )?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let name: String = r.get(0);
            let ty: String = r.get(1);
            (name != "fid" && name != "geom").then(|| Column {
                name,
                ty: field_type_of_pg(&ty),
            })
        })
        .collect())
}

/// How a PostgreSQL column type is read (anything unknown is read as text).
fn field_type_of_pg(ty: &str) -> FieldType {
    match ty {
        "boolean" => FieldType::Boolean,
        "bigint" | "integer" | "smallint" => FieldType::Integer,
        "double precision" | "real" => FieldType::Real,
        t if t.starts_with("numeric") => FieldType::Real,
        _ => FieldType::Text,
    }
}

fn pg_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Text => "text",
        FieldType::Integer => "bigint",
        FieldType::Real => "double precision",
        FieldType::Boolean => "boolean",
    }
}

/// The column as the type it is read as.
fn cast(column: &Column) -> String {
    let cast = match column.ty {
        FieldType::Text => "text",
        FieldType::Integer => "bigint",
        FieldType::Real => "float8",
        FieldType::Boolean => "boolean",
    };
    format!("{}::{cast}", quote_ident(&column.name))
}

fn value_of(row: &postgres::Row, at: usize, ty: FieldType) -> Result<Value, StoreError> {
    let value = match ty {
        FieldType::Text => row.try_get::<_, Option<String>>(at)?.map(Value::Text),
        FieldType::Integer => row.try_get::<_, Option<i64>>(at)?.map(Value::Int),
        FieldType::Real => row.try_get::<_, Option<f64>>(at)?.map(Value::Real),
        FieldType::Boolean => row.try_get::<_, Option<bool>>(at)?.map(Value::Bool),
    };
    Ok(value.unwrap_or(Value::Null))
}

impl PgStore {
    /// Visits a layer's features in fid order, only those whose box meets `bbox` when given
    /// (answered from the GiST index).
    fn scan_filtered(
        &self,
        kind: LayerKind,
        bbox: Option<[f64; 4]>,
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let table = kind.name();
        let info = read_layer_info(&mut client, &self.location.schema, kind)?
            .ok_or_else(|| StoreError::MissingLayer(table.to_string()))?;
        let mut select = "SELECT fid, ST_AsBinary(geom, 'NDR')".to_string();
        for c in &info.columns {
            select.push_str(", ");
            select.push_str(&cast(c));
        }
        let _ = write!(select, " FROM {}", quote_ident(table));
        let params: Vec<f64> = match bbox {
            None => Vec::new(),
            Some(b) => {
                let _ = write!(
                    select,
                    " WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, {SRID})"
                );
                b.to_vec()
            }
        };
        select.push_str(" ORDER BY fid");
        // A read-only transaction holds one snapshot for the whole scan; rows stream in batches.
        let mut tx = client.build_transaction().read_only(true).start()?;
        let mut rows = tx.query_raw(&select, params.iter())?;
        while let Some(row) = rows.next()? {
            let fid: i64 = row.try_get(0)?;
            let wkb: Option<&[u8]> = row.try_get(1)?;
            let geometry = wkb
                .ok_or_else(|| "no geometry".to_string())
                .and_then(super::gpkg::decode_wkb)
                .map_err(|reason| StoreError::BadGeometry {
                    layer: table.to_string(),
                    fid,
                    reason,
                })?;
            let mut values = Vec::with_capacity(info.columns.len());
            for (i, c) in info.columns.iter().enumerate() {
                values.push(value_of(&row, i + 2, c.ty)?);
            }
            visit(StoredFeature {
                fid,
                geometry,
                values,
            })?;
        }
        drop(rows);
        tx.commit()?;
        Ok(())
    }
}

impl FeatureStore for PgStore {
    fn layer(&self, kind: LayerKind) -> Result<Option<LayerInfo>, StoreError> {
        self.read(|c| read_layer_info(c, &self.location.schema, kind))
    }

    fn begin_replace(
        &mut self,
        kind: LayerKind,
        family: GeometryFamily,
    ) -> Result<Box<dyn LayerWriter + '_>, StoreError> {
        let client = self.client.get_mut().get();
        if client.is_closed() {
            *client = self.location.connect(self.read_only)?;
        }
        // A name of its own, so two processes importing at once do not meet before commit.
        let staging = format!(
            "{}__staging_{}_{}",
            kind.name(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        client.batch_execute(&format!(
            "BEGIN; CREATE TABLE {} (fid bigint NOT NULL, geom geometry(Geometry, {SRID}))",
            quote_ident(&staging)
        ))?;
        Ok(Box::new(PgLayerWriter {
            client,
            schema: self.location.schema.clone(),
            kind,
            family,
            staging,
            columns: Vec::new(),
            buffer: Vec::new(),
            wkb: Vec::new(),
            next_fid: 1,
            bbox: None,
            finished: false,
        }))
    }

    fn scan(
        &self,
        kind: LayerKind,
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan_filtered(kind, None, visit)
    }

    fn scan_bbox(
        &self,
        kind: LayerKind,
        bbox: [f64; 4],
        visit: &mut dyn FnMut(StoredFeature) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // The index compares float4 boxes; the geometry's own box decides, as for the GeoPackage.
        self.scan_filtered(kind, Some(bbox), &mut |f| {
            if super::meets(&f.geometry, bbox) {
                visit(f)
            } else {
                Ok(())
            }
        })
    }

    fn reader(&self) -> Result<Box<dyn FeatureStore + Send>, StoreError> {
        Ok(Box::new(PgStore::open_read_only(&self.location)?))
    }

    fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query("SELECT value FROM liancun_settings WHERE key = $1", &[&key])?
            .first()
            .map(|r| r.get(0)))
    }

    fn settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .query("SELECT key, value FROM liancun_settings ORDER BY key", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.live_client()?.execute(
            "INSERT INTO liancun_settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }
}

/// Writes a layer's new contents: rows are buffered as COPY text and sent in chunks.
struct PgLayerWriter<'a> {
    client: &'a mut Client,
    schema: String,
    kind: LayerKind,
    family: GeometryFamily,
    staging: String,
    columns: Vec<Column>,
    /// COPY text rows not sent yet (each has a field for every column in `columns`).
    buffer: Vec<u8>,
    wkb: Vec<u8>,
    next_fid: i64,
    bbox: Option<[f64; 4]>,
    finished: bool,
}

impl PgLayerWriter<'_> {
    /// Sends the buffered rows (one COPY statement).
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut names = vec!["fid".to_string(), "geom".to_string()];
        names.extend(self.columns.iter().map(|c| quote_ident(&c.name)));
        let mut copy = self.client.copy_in(&format!(
            "COPY {} ({}) FROM STDIN",
            quote_ident(&self.staging),
            names.join(", ")
        ))?;
        copy.write_all(&self.buffer)
            .map_err(|e| StoreError::Postgres(format!("COPY: {e}")))?;
        copy.finish()?;
        self.buffer.clear();
        Ok(())
    }

    fn publish(&mut self, provenance: &LayerProvenance) -> Result<(), StoreError> {
        self.flush()?;
        let table = self.kind.name();
        let (t, s) = (quote_ident(table), quote_ident(&self.staging));
        let previous: i64 = self
            .client
            .query_opt(
                "SELECT data_version FROM liancun_layers WHERE name = $1 FOR UPDATE",
                &[&table],
            )?
            .map(|r| r.get(0))
            .unwrap_or(0);
        self.client.batch_execute(&format!(
            "ALTER TABLE {s} ADD PRIMARY KEY (fid);
             CREATE INDEX ON {s} USING gist (geom);
             DROP TABLE IF EXISTS {t};
             ALTER TABLE {s} RENAME TO {t};
             ANALYZE {t};"
        ))?;
        // The indexes keep the staging table's names; give them the layer's.
        for (old, new) in [
            (format!("{}_pkey", self.staging), format!("{table}_pkey")),
            (
                format!("{}_geom_idx", self.staging),
                format!("{table}_geom_idx"),
            ),
        ] {
            self.client.batch_execute(&format!(
                "ALTER INDEX IF EXISTS {} RENAME TO {}",
                quote_ident(&old),
                quote_ident(&new)
            ))?;
        }
        let count = self.next_fid - 1;
        let [min_x, min_y, max_x, max_y] = match self.bbox {
            Some(b) => b.map(Some),
            None => [None; 4],
        };
        self.client.execute(
            "INSERT INTO liancun_layers (name, family, source, imported_at, data_version,
               feature_count, min_x, min_y, max_x, max_y)
             VALUES ($1, $2, $3, to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), $4, $5, $6, $7, $8, $9)
             ON CONFLICT (name) DO UPDATE SET family = excluded.family, source = excluded.source,
               imported_at = excluded.imported_at, data_version = excluded.data_version,
               feature_count = excluded.feature_count, min_x = excluded.min_x,
               min_y = excluded.min_y, max_x = excluded.max_x, max_y = excluded.max_y",
            &[
                &table,
                &self.family.gpkg_type(),
                &provenance.source,
                &(previous + 1),
                &count,
                &min_x,
                &min_y,
                &max_x,
                &max_y,
            ],
        )?;
        self.client.execute(
            "SELECT pg_notify($1, $2)",
            &[&DATA_CHANNEL, &format!("{}.{table}", self.schema)],
        )?;
        Ok(())
    }
}

impl LayerWriter for PgLayerWriter<'_> {
    fn ensure_column(&mut self, name: &str, ty: FieldType) -> Result<usize, StoreError> {
        if let Some(i) = self.columns.iter().position(|c| c.name == name) {
            return Ok(i);
        }
        // Buffered rows have no field for the new column: send them first.
        self.flush()?;
        self.client.batch_execute(&format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            quote_ident(&self.staging),
            quote_ident(name),
            pg_type(ty)
        ))?;
        self.columns.push(Column {
            name: name.to_string(),
            ty,
        });
        Ok(self.columns.len() - 1)
    }

    fn insert(
        &mut self,
        geometry: &Geometry<f64>,
        values: &[(usize, Value)],
    ) -> Result<i64, StoreError> {
        let fid = self.next_fid;
        let _ = write!(self.buffer, "{fid}\t");
        self.wkb.clear();
        let options = wkb::writer::WriteOptions {
            endianness: wkb::Endianness::LittleEndian,
        };
        wkb::writer::write_geometry(&mut self.wkb, geometry, &options)
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        push_ewkb_hex(&mut self.buffer, &self.wkb, SRID);
        let mut row: Vec<Option<&Value>> = vec![None; self.columns.len()];
        for (i, v) in values {
            if let Some(slot) = row.get_mut(*i) {
                *slot = Some(v);
            }
        }
        for v in row {
            self.buffer.push(b'\t');
            push_copy_value(&mut self.buffer, v.unwrap_or(&Value::Null));
        }
        self.buffer.push(b'\n');
        if let Some(r) = geometry.bounding_rect() {
            let [a, b, c, d] = [r.min().x, r.min().y, r.max().x, r.max().y];
            self.bbox = Some(match self.bbox {
                None => [a, b, c, d],
                Some([x0, y0, x1, y1]) => [x0.min(a), y0.min(b), x1.max(c), y1.max(d)],
            });
        }
        self.next_fid += 1;
        if self.buffer.len() >= COPY_CHUNK_BYTES {
            self.flush()?;
        }
        Ok(fid)
    }

    fn commit(mut self: Box<Self>, provenance: &LayerProvenance) -> Result<LayerInfo, StoreError> {
        let published = self
            .publish(provenance)
            .and_then(|_| Ok(self.client.batch_execute("COMMIT")?));
        self.finished = true;
        if let Err(e) = published {
            let _ = self.client.batch_execute("ROLLBACK");
            return Err(e);
        }
        read_layer_info(self.client, &self.schema, self.kind)?
            .ok_or_else(|| StoreError::MissingLayer(self.kind.name().into()))
    }
}

impl Drop for PgLayerWriter<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Not committed: an error or a panic happened. Nothing becomes visible.
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

/// Appends `wkb` (little-endian ISO WKB of a 2-D geometry) as hex EWKB carrying `srid`, which
/// PostGIS reads as a geometry literal in COPY text.
fn push_ewkb_hex(out: &mut Vec<u8>, wkb: &[u8], srid: u32) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut put = |bytes: &[u8]| {
        for b in bytes {
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        }
    };
    let ty = u32::from_le_bytes([wkb[1], wkb[2], wkb[3], wkb[4]]) | 0x2000_0000;
    put(&wkb[..1]);
    put(&ty.to_le_bytes());
    put(&srid.to_le_bytes());
    put(&wkb[5..]);
}

/// Appends one value as a COPY text field (`\N` for null, escapes for tab, newline, backslash).
fn push_copy_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Real(r) if r.is_nan() => out.extend_from_slice(b"NaN"),
        Value::Real(r) if r.is_infinite() => {
            out.extend_from_slice(if *r > 0.0 { b"Infinity" } else { b"-Infinity" })
        }
        Value::Real(r) => {
            let _ = write!(out, "{r:?}");
        }
        Value::Text(s) => {
            for c in s.bytes() {
                match c {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    // PostgreSQL text cannot hold NUL; it carries no meaning in attribute text.
                    0 => {}
                    c => out.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_keep_the_schema_apart_and_hide_the_password() {
        let l =
            PgLocation::parse("postgres://u:secret@db:5432/gis?schema=county_1&sslmode=disable")
                .unwrap();
        assert_eq!(l.schema(), "county_1");
        assert_eq!(l.url, "postgres://u:secret@db:5432/gis?sslmode=disable");
        assert_eq!(
            l.to_string(),
            "postgres://u:***@db:5432/gis?sslmode=disable (schema county_1)"
        );
        let d = PgLocation::parse("postgresql:///gis").unwrap();
        assert_eq!(d.schema(), DEFAULT_SCHEMA);
        for bad in ["x;drop", "1abc", ""] {
            let e = PgLocation::parse(&format!("postgres://h/db?schema={bad}")).unwrap_err();
            assert!(e.to_string().contains("not a plain name"), "{e}");
        }
    }

    #[test]
    fn copy_text_escapes_what_copy_would_split_on() {
        let mut out = Vec::new();
        push_copy_value(&mut out, &Value::Text("a\tb\nc\\d\0e".into()));
        assert_eq!(out, b"a\\tb\\nc\\\\de");
        for (v, want) in [
            (Value::Null, "\\N"),
            (Value::Bool(false), "f"),
            (Value::Int(-3), "-3"),
            (Value::Real(0.1), "0.1"),
            (Value::Real(1e300), "1e300"),
            (Value::Real(f64::NEG_INFINITY), "-Infinity"),
        ] {
            let mut out = Vec::new();
            push_copy_value(&mut out, &v);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{v:?}");
        }
    }

    #[test]
    fn ewkb_carries_the_srid_flag_and_code() {
        // POINT(1 2), little-endian ISO WKB.
        let mut wkb = vec![1u8, 1, 0, 0, 0];
        wkb.extend_from_slice(&1f64.to_le_bytes());
        wkb.extend_from_slice(&2f64.to_le_bytes());
        let mut out = Vec::new();
        push_ewkb_hex(&mut out, &wkb, 4490);
        let hex = String::from_utf8(out).unwrap();
        // byte order, type 1 | 0x20000000, SRID 4490 (0x118A), then the coordinates.
        assert!(hex.starts_with("0101000020"), "{hex}");
        assert_eq!(&hex[10..18], "8A110000");
        assert_eq!(hex.len(), 2 * (wkb.len() + 4));
    }
}

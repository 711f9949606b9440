-- Per-village statistics in PostGIS, as `liancun stats` computes them: parcels whose ZLDWDM names a
-- village (first 12 digits) go to it whole, the others are cut by the village polygons; areas in
-- CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548), the demo county's metric CRS;
-- greenhouses and facilities by village_code when it names a village, else by a point on them.
-- Run with search_path set to the schema holding villages, parcels, greenhouses, facilities.
WITH v AS (SELECT code, name, geom FROM villages),
attributed AS (
  SELECT left(p.zldwdm, 12) AS code, p.dlbm, ST_Area(ST_Transform(p.geom, 4548)) AS a
  FROM parcels p JOIN v ON v.code = left(p.zldwdm, 12)),
cut AS (
  SELECT v.code, p.dlbm, ST_Area(ST_Transform(ST_Intersection(p.geom, v.geom), 4548)) AS a
  FROM parcels p JOIN v ON ST_Intersects(p.geom, v.geom)
  WHERE p.zldwdm IS NULL OR NOT EXISTS (SELECT 1 FROM v w WHERE w.code = left(p.zldwdm, 12))),
pieces AS (SELECT * FROM attributed UNION ALL SELECT * FROM cut),
parcel_stats AS (
  SELECT code, sum(a) AS parcel_area_m2, coalesce(sum(a) FILTER (WHERE dlbm LIKE '01%'), 0) AS cultivated_m2
  FROM pieces GROUP BY code),
gh AS (
  SELECT coalesce(w.code, v.code) AS code, count(*) AS n, sum(ST_Area(ST_Transform(g.geom, 4548))) AS area
  FROM greenhouses g
  LEFT JOIN v w ON w.code = g.village_code
  LEFT JOIN v ON w.code IS NULL AND ST_Within(ST_PointOnSurface(g.geom), v.geom)
  GROUP BY 1),
fa AS (
  SELECT coalesce(w.code, v.code) AS code, count(*) AS n
  FROM facilities f
  LEFT JOIN v w ON w.code = f.village_code
  LEFT JOIN v ON w.code IS NULL AND ST_Within(ST_PointOnSurface(f.geom), v.geom)
  GROUP BY 1)
SELECT count(*) AS villages, round(sum(ps.parcel_area_m2)) AS parcel_area_m2,
       round(sum(ps.cultivated_m2)) AS cultivated_m2, sum(gh.n) AS greenhouses,
       round(sum(gh.area)) AS greenhouse_area_m2, sum(fa.n) AS facilities
FROM v LEFT JOIN parcel_stats ps USING (code) LEFT JOIN gh USING (code) LEFT JOIN fa USING (code);

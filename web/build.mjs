// build.mjs - build the browser COP into static files: node build.mjs OUTDIR
//
// OUTDIR receives, flat (the server serves one directory, no subfolders):
//   index.html                the page (no inline script or style), favicon.svg
//   app.js                    the page's code and its libraries, one ES module (esbuild)
//   app.css                   the page's style with MapLibre's, one file (esbuild)
//   maplibre-gl-worker.mjs    MapLibre's worker, loaded from the same origin
//   basemap.json              the offline basemap style: sources are the files below
//   land.json, borders.json, graticule.json   GeoJSON made here from world-atlas
//   *.gz                      each of the above gzipped, for clients that accept gzip
// Nothing refers to another origin: no tile server, no glyphs, no fonts from outside.
// Node runs here only; the server needs none.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import * as topojson from 'topojson-client';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, 'dist'));
const mod = (p) => path.join(here, 'node_modules', p);

// Coordinates to 4 decimals (about 10 m): the basemap is a backdrop, not a chart.
function round(geom) {
    const r = (c) => (typeof c[0] === 'number' ? [Math.round(c[0] * 1e4) / 1e4, Math.round(c[1] * 1e4) / 1e4]
        : c.map(r));
    return { ...geom, coordinates: r(geom.coordinates) };
}

function featureCollection(geoms) {
    return { type: 'FeatureCollection', features: geoms.map((g) => ({ type: 'Feature', properties: {}, geometry: round(g) })) };
}

// Lines of longitude every `step` degrees (to +-80) and of latitude, points every degree.
export function graticule(step = 10) {
    const lines = [];
    for (let lon = -180; lon <= 180; lon += step) {
        const c = [];
        for (let lat = -80; lat <= 80; lat += 1) c.push([lon, lat]);
        lines.push({ type: 'LineString', coordinates: c });
    }
    for (let lat = -80; lat <= 80; lat += step) {
        const c = [];
        for (let lon = -180; lon <= 180; lon += 1) c.push([lon, lat]);
        lines.push({ type: 'LineString', coordinates: c });
    }
    return featureCollection(lines);
}

function basemapData() {
    const land = JSON.parse(fs.readFileSync(mod('world-atlas/land-50m.json'), 'utf8'));
    const countries = JSON.parse(fs.readFileSync(mod('world-atlas/countries-50m.json'), 'utf8'));
    const landGeo = topojson.feature(land, land.objects.land);
    const borders = topojson.mesh(countries, countries.objects.countries, (a, b) => a !== b);
    return {
        'land.json': featureCollection(landGeo.features ? landGeo.features.map((f) => f.geometry) : [landGeo.geometry]),
        'borders.json': featureCollection([borders]),
        'graticule.json': graticule(5),
    };
}

// The style: a dark sea, land, its coastline, borders, the graticule.  Source URLs are
// relative; the page makes them absolute before handing the style to MapLibre.
function basemapStyle() {
    const src = (file) => ({ type: 'geojson', data: file });
    return {
        version: 8,
        name: 'kizuna offline',
        sources: { land: src('land.json'), borders: src('borders.json'), graticule: src('graticule.json') },
        layers: [
            { id: 'sea', type: 'background', paint: { 'background-color': '#0b1620' } },
            { id: 'graticule', type: 'line', source: 'graticule', paint: { 'line-color': '#23405a', 'line-width': 0.7 } },
            { id: 'land', type: 'fill', source: 'land', paint: { 'fill-color': '#1b2326' } },
            { id: 'coast', type: 'line', source: 'land', paint: { 'line-color': '#4f6b73', 'line-width': 1 } },
            { id: 'borders', type: 'line', source: 'borders',
              paint: { 'line-color': '#7d6f55', 'line-width': 1, 'line-dasharray': [3, 2] } },
        ],
    };
}

async function bundle() {
    await esbuild.build({
        entryPoints: [path.join(here, 'src/main.js')], bundle: true, format: 'esm', minify: true,
        target: 'es2022', outfile: path.join(out, 'app.js'), logLevel: 'warning', legalComments: 'none',
    });
    await esbuild.build({
        entryPoints: [path.join(here, 'src/app.css')], bundle: true, minify: true,
        outfile: path.join(out, 'app.css'), logLevel: 'warning',
    });
}

function writeGz(file) {
    const data = fs.readFileSync(file);
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
}

async function main() {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    await bundle();
    fs.copyFileSync(mod('maplibre-gl/dist/maplibre-gl-worker.mjs'), path.join(out, 'maplibre-gl-worker.mjs'));
    for (const [name, fc] of Object.entries(basemapData())) fs.writeFileSync(path.join(out, name), JSON.stringify(fc));
    fs.writeFileSync(path.join(out, 'basemap.json'), JSON.stringify(basemapStyle()));
    fs.copyFileSync(path.join(here, 'src/favicon.svg'), path.join(out, 'favicon.svg'));
    fs.copyFileSync(path.join(here, 'src/index.html'), path.join(out, 'index.html'));
    for (const f of fs.readdirSync(out)) writeGz(path.join(out, f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    main().catch((e) => {
        console.error(`web: build failed: ${e.stack || e}`);
        process.exit(1);
    });
}

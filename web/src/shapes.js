// shapes.js - drawings and routes from their CoT (the shapes ATAK and WinTAK send) as
// GeoJSON for the map: u-d-f (free lines; closed, a polygon), u-d-r (rectangles),
// u-d-c-c and u-d-c-e (circles and ellipses around the event's point, from
// <shape><ellipse major minor angle>), b-m-r (routes through their <link point>s).
// Colours from <strokeColor value> and <fillColor value> (signed ARGB integers), the line
// width from <strokeWeight value>.  Pure: unit-tested under node (test/shapes.test.mjs).

function attr(tag, name) {
    const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`));
    return m ? (m[2] ?? m[3]) : undefined;
}

function tags(detail, name) {
    return (detail || '').match(new RegExp(`<${name}\\b[^>]*>`, 'g')) || [];
}

// The <link point="lat,lon[,hae]"> vertices in order, as [lon, lat].
export function linkPoints(detail) {
    const out = [];
    for (const t of tags(detail, 'link')) {
        const p = attr(t, 'point');
        if (!p) continue;
        const [lat, lon] = p.split(',').map(Number);
        if (Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) out.push([lon, lat]);
    }
    return out;
}

// A signed 32-bit ARGB integer (as ATAK writes colours) as CSS rgba(), or `fallback`.
export function argb(value, fallback) {
    const v = Number(value);
    if (value === undefined || !Number.isInteger(v)) return fallback;
    const u = v >>> 0;
    const a = ((u >>> 24) & 255) / 255, r = (u >>> 16) & 255, g = (u >>> 8) & 255, b = u & 255;
    return `rgba(${r}, ${g}, ${b}, ${Number(a.toFixed(3))})`;
}

// An ellipse of semi-axes `major` and `minor` metres, turned `angle` degrees from north, as a ring.
export function ellipse([lon, lat], major, minor, angle = 0, steps = 64) {
    const ring = [];
    const mPerDegLat = 111320, mPerDegLon = 111320 * Math.cos(lat * Math.PI / 180);
    const rot = angle * Math.PI / 180;
    for (let i = 0; i <= steps; i++) {
        const t = (i / steps) * 2 * Math.PI;
        const x = minor * Math.sin(t), y = major * Math.cos(t);        // east, north before turning
        const e = x * Math.cos(rot) + y * Math.sin(rot), n = -x * Math.sin(rot) + y * Math.cos(rot);
        ring.push([lon + e / mPerDegLon, lat + n / mPerDegLat]);
    }
    return ring;
}

const closed = (pts) => pts.length > 3 && pts[0][0] === pts[pts.length - 1][0] && pts[0][1] === pts[pts.length - 1][1];

function geometryOf(feature) {
    const p = feature.properties || {};
    const pts = linkPoints(p.detail);
    switch (p.type) {
    case 'u-d-r':
        return pts.length >= 4 ? { type: 'Polygon', coordinates: [[...pts.slice(0, 4), pts[0]]] } : null;
    case 'u-d-f':
        if (closed(pts)) return { type: 'Polygon', coordinates: [pts] };
        return pts.length >= 2 ? { type: 'LineString', coordinates: pts } : null;
    case 'b-m-r':
        return pts.length >= 2 ? { type: 'LineString', coordinates: pts } : null;
    case 'u-d-c-c':
    case 'u-d-c-e': {
        const el = tags(p.detail, 'ellipse')[0];
        const major = Number(el && attr(el, 'major')), minor = Number(el && attr(el, 'minor'));
        if (!(major > 0) || !(minor > 0) || feature.geometry?.type !== 'Point') return null;
        return { type: 'Polygon', coordinates: [ellipse(feature.geometry.coordinates, major, minor, Number(attr(el, 'angle')) || 0)] };
    }
    default:
        return null;
    }
}

// A drawing's GeoJSON Feature {geometry, properties: {uid, stroke, fill, width, access}}, or
// null when the event is not a drawing or route this reads.
export function cotShape(feature) {
    const geometry = geometryOf(feature);
    if (!geometry) return null;
    const p = feature.properties;
    const stroke = tags(p.detail, 'strokeColor')[0], fill = tags(p.detail, 'fillColor')[0];
    const weight = Number(attr(tags(p.detail, 'strokeWeight')[0] || '', 'value'));
    return {
        type: 'Feature', id: p.uid, geometry,
        properties: {
            uid: p.uid, access: p.access ?? 'UNCLASSIFIED', callsign: p.callsign ?? '',
            stroke: argb(stroke && attr(stroke, 'value'), p.type === 'b-m-r' ? 'rgba(88, 166, 255, 1)' : 'rgba(255, 255, 255, 1)'),
            fill: geometry.type === 'Polygon' ? argb(fill && attr(fill, 'value'), 'rgba(255, 255, 255, 0.1)') : 'rgba(0, 0, 0, 0)',
            width: Number.isFinite(weight) && weight > 0 ? Math.min(weight, 10) : 2,
        },
    };
}

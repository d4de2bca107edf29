// shapes.test.mjs - drawings and routes from CoT (src/shapes.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { argb, cotShape, ellipse, linkPoints } from '../src/shapes.js';

const f = (type, detail, coordinates = [139.7, 35.6]) => ({ type: 'Feature', geometry: { type: 'Point', coordinates },
    properties: { uid: `${type}-1`, type, detail, access: 'UNCLASSIFIED' } });
const links = (pts) => pts.map(([lat, lon]) => `<link point="${lat},${lon},0"/>`).join('');

test('link points in order, as [lon, lat]; bad ones skipped', () => {
    assert.deepEqual(linkPoints('<link point="35,139"/><link uid="x"/><link point="36.5,140.25,12"/><link point="99,1"/>'),
        [[139, 35], [140.25, 36.5]]);
});

test('ATAK colours: signed ARGB', () => {
    assert.equal(argb('-1', 'x'), 'rgba(255, 255, 255, 1)');
    assert.equal(argb('-16776961', 'x'), 'rgba(0, 0, 255, 1)');
    assert.equal(argb(String(0x80ff0000 | 0), 'x'), 'rgba(255, 0, 0, 0.502)');
    assert.equal(argb(undefined, 'x'), 'x');
    assert.equal(argb('blue', 'x'), 'x');
});

test('free lines, closed free shapes, rectangles, routes', () => {
    const line = cotShape(f('u-d-f', links([[35, 139], [35.5, 139.5]]) + '<strokeColor value="-65536"/><strokeWeight value="4"/>'));
    assert.equal(line.geometry.type, 'LineString');
    assert.equal(line.properties.stroke, 'rgba(255, 0, 0, 1)');
    assert.equal(line.properties.width, 4);
    const poly = cotShape(f('u-d-f', links([[35, 139], [35.5, 139.5], [35, 140], [35, 139]])));
    assert.equal(poly.geometry.type, 'Polygon');
    const rect = cotShape(f('u-d-r', links([[35, 139], [35, 140], [34, 140], [34, 139]]) + '<fillColor value="1610612991"/>'));
    assert.deepEqual(rect.geometry.coordinates[0], [[139, 35], [140, 35], [140, 34], [139, 34], [139, 35]]);
    assert.equal(rect.properties.fill, 'rgba(0, 0, 255, 0.376)');
    const route = cotShape(f('b-m-r', links([[35, 139], [35.2, 139.2], [35.4, 139.1]])));
    assert.equal(route.geometry.type, 'LineString');
    assert.equal(route.geometry.coordinates.length, 3);
    assert.equal(cotShape(f('u-d-f', links([[35, 139]]))), null, 'one point is no line');
});

test('circles and ellipses around the event point', () => {
    const c = cotShape(f('u-d-c-c', '<shape><ellipse major="1000" minor="1000" angle="0"/></shape>', [139, 35]));
    assert.equal(c.geometry.type, 'Polygon');
    const ring = c.geometry.coordinates[0];
    assert.deepEqual(ring[0], ring[ring.length - 1]);
    const north = ring[0];
    assert.ok(Math.abs((north[1] - 35) * 111320 - 1000) < 1, 'major axis north, 1000 m');
    assert.equal(cotShape(f('u-d-c-c', '<shape/>')), null);
    const e = ellipse([0, 0], 2000, 1000, 90, 4);
    assert.ok(Math.abs(e[0][0] * 111320 - 2000) < 1, 'turned 90 degrees: major axis east');
});

test('everything else is not a drawing', () => {
    for (const t of ['a-f-G', 't-x-d-d', 'b-m-p-s-p-i', 'u-d-p']) assert.equal(cotShape(f(t, links([[35, 139], [36, 140]]))), null, t);
});

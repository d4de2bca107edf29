// zip.mjs - a minimal ZIP writer for the tests (mission packages): each
// entry deflated (method 8) with zlib, CRC-32 and sizes in the local and
// central headers, no ZIP64.  Entries are [name, string | Buffer].

import zlib from 'node:zlib';

const TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++)
        c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});

export function crc32(buf) {
    let c = 0xffffffff;
    for (const b of buf)
        c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}

function header(sig, fields) {
    const b = Buffer.alloc(fields.reduce((n, [, size]) => n + size, 4));
    b.writeUInt32LE(sig, 0);
    let o = 4;
    for (const [v, size] of fields) {
        if (size === 2) b.writeUInt16LE(v, o);
        else b.writeUInt32LE(v, o);
        o += size;
    }
    return b;
}

export function zipOf(entries) {
    const locals = [];
    const centrals = [];
    let offset = 0;
    for (const [name, content] of entries) {
        const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
        const packed = zlib.deflateRawSync(data);
        const nameBuf = Buffer.from(name);
        const common = [[20, 2], [0, 2], [8, 2], [0, 2], [0x21, 2], [crc32(data), 4],
            [packed.length, 4], [data.length, 4], [nameBuf.length, 2], [0, 2]];
        const local = Buffer.concat([header(0x04034b50, common), nameBuf, packed]);
        centrals.push(Buffer.concat([header(0x02014b50, [[20, 2], ...common, [0, 2], [0, 2], [0, 2], [0, 4],
            [offset, 4]]), nameBuf]));
        locals.push(local);
        offset += local.length;
    }
    const central = Buffer.concat(centrals);
    const end = header(0x06054b50, [[0, 2], [0, 2], [entries.length, 2], [entries.length, 2],
        [central.length, 4], [offset, 4], [0, 2]]);
    return Buffer.concat([...locals, central, end]);
}

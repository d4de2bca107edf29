// netns.mjs - network namespaces joined by veth pairs, for tests that cut a
// link for real.  A NetLab owns the namespaces it creates (named
// PREFIX-TAG, PREFIX = kzf-<pid> by default): each node's namespace has an
// uplink veth pair to the root namespace (root side 10.232.X.4i+1/30, node
// side .4i+2; X is picked free on this host), so the test process reaches
// the node's inputs, and namespaces are joined to each other by their own
// veth pairs (10.231.J.1/30 <-> .2), which a test can take down and up.
// destroy() deletes every namespace (the veths go with them); it also runs
// when the process exits, so a failed test leaves nothing behind.

import { spawnSync } from 'node:child_process';

// Run `ip ARGS`; throws with ip's stderr when it fails.
export function ip(...args) {
    const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10000 });
    if (r.status !== 0)
        throw new Error(`ip ${args.join(' ')}: ${r.error?.message ?? ''}${r.stderr ?? ''}`.trim());
    return r.stdout;
}

function namespaces() {
    return ip('netns', 'list').split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

// Why namespaces cannot be used here (not root, or `ip netns` fails), or null.
export function netnsUnavailable(prefix = `kzf-${process.pid}`) {
    if (typeof process.getuid === 'function' && process.getuid() !== 0)
        return 'needs root for ip netns (CI runs as root)';
    const probe = `${prefix}-probe`;
    try {
        if (namespaces().includes(probe)) ip('netns', 'del', probe);
        ip('netns', 'add', probe);
        ip('netns', 'del', probe);
        return null;
    } catch (e) {
        return `ip netns does not work here: ${e.message}`;
    }
}

// A third octet for 10.232.X.0/24 that no address of the root namespace uses.
function freeUplinkOctet() {
    const used = new Set([...ip('-4', '-o', 'addr').matchAll(/inet 10\.232\.(\d+)\./g)].map((m) => Number(m[1])));
    for (let i = 0; i < 250; i++) {
        const x = (process.pid + i) % 250;
        if (!used.has(x)) return x;
    }
    throw new Error('no free 10.232.X.0/24 for the uplinks');
}

export class NetLab {
    constructor(prefix = `kzf-${process.pid}`) {
        this.prefix = prefix;
        this.owned = [];
        this.uplinks = 0;
        this.joins = 0;
        this.clearStale();
        this.octet = freeUplinkOctet();
        this.onExit = () => this.destroy();
        process.on('exit', this.onExit);
    }

    // Namespaces (and root-side uplinks) an earlier run with this prefix left behind.
    clearStale() {
        for (const ns of namespaces())
            if (ns.startsWith(`${this.prefix}-`)) ip('netns', 'del', ns);
        for (const m of ip('-o', 'link').matchAll(/^\d+: ([^:@\s]+)/gm))
            if (m[1].startsWith(this.rootDevPrefix())) ip('link', 'del', m[1]);
    }

    // Root-side device names (at most 15 characters): the prefix without dashes.
    rootDevPrefix() {
        return `${this.prefix.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}u`;
    }

    // A fresh namespace PREFIX-TAG with its loopback up; the command prefix
    // that runs a program in it (`ip netns exec` execs the program).
    namespace(tag) {
        const name = `${this.prefix}-${tag}`;
        ip('netns', 'add', name);
        this.owned.push(name);
        ip('-n', name, 'link', 'set', 'lo', 'up');
        return { name, exec: ['ip', 'netns', 'exec', name] };
    }

    // A veth pair from the root namespace into `ns`: the node-side address,
    // which the test process reaches directly.
    uplink(ns) {
        const i = this.uplinks++;
        const rootDev = `${this.rootDevPrefix()}${i}`;
        const base = `10.232.${this.octet}`;
        ip('link', 'add', rootDev, 'type', 'veth', 'peer', 'name', 'up0', 'netns', ns.name);
        ip('addr', 'add', `${base}.${4 * i + 1}/30`, 'dev', rootDev);
        ip('link', 'set', rootDev, 'up');
        ip('-n', ns.name, 'addr', 'add', `${base}.${4 * i + 2}/30`, 'dev', 'up0');
        ip('-n', ns.name, 'link', 'set', 'up0', 'up');
        return `${base}.${4 * i + 2}`;
    }

    // A veth pair between namespaces a and b (device `fedJ` on both sides):
    // {a: {ns, dev, addr}, b: {...}}.
    join(a, b) {
        const j = this.joins++;
        const dev = `fed${j}`;
        ip('-n', a.name, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', dev, 'netns', b.name);
        const ends = { a: { ns: a.name, dev, addr: `10.231.${j}.1` }, b: { ns: b.name, dev, addr: `10.231.${j}.2` } };
        for (const end of Object.values(ends)) {
            ip('-n', end.ns, 'addr', 'add', `${end.addr}/30`, 'dev', dev);
            ip('-n', end.ns, 'link', 'set', dev, 'up');
        }
        return ends;
    }

    // Take one end of a veth pair down or up: the link between the two
    // namespaces is cut (routes through it vanish) or back.
    setLink(end, up) {
        ip('-n', end.ns, 'link', 'set', end.dev, up ? 'up' : 'down');
    }

    // Delete every namespace this lab made; a veth dies with its namespace.
    destroy() {
        const left = [];
        for (const ns of this.owned.splice(0)) {
            try {
                ip('netns', 'del', ns);
            } catch (e) {
                left.push(e.message);
            }
        }
        process.removeListener('exit', this.onExit);
        if (left.length) throw new Error(`namespaces not removed:\n${left.join('\n')}`);
    }
}

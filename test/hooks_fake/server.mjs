#!/usr/bin/env node
// A stand-in for the extension's outgoing HTTP enrichment calls, for tests only: (a) a
// LinkedIn-profile provider (GET /linkedin/profile?url=…) and (b) user-registered HTTP step
// endpoints (POST /hooks/<name>). See README.md beside this file. Node 20, node: modules only.
//
//   node test/hooks_fake/server.mjs --port 0 [--key K] [--secret S] [--parent-pid PID] [--quiet]
//
// Listening (127.0.0.1 only), stopping, the common options and the control API's plumbing are
// ../lib/fake_server.mjs, shared by the stand-ins; this file is what is particular to its API.

import crypto from 'node:crypto';
import {
    makeUsage, parseOptions, makeLog, readBody, json, controlBody, commonControl, scriptFromBody,
    withLatency, waitLatency, hangOrReset, rawAnswer, serve,
} from '../lib/fake_server.mjs';

// ---- Options --------------------------------------------------------------------------------

const usage = makeUsage('hooks_fake', 'usage: node server.mjs --port PORT [--key K] [--secret S] [--no-generate] [--linkedin-limit N] [--linkedin-window-s S]\n'
    + '       [--latency MS] [--parent-pid PID] [--stdin] [--quiet]\n');
const opts = parseOptions(process.argv.slice(2), {
    key: process.env.HOOKS_FAKE_KEY ?? null, secret: process.env.HOOKS_FAKE_SECRET ?? null,
    generate: true, linkedinLimit: 0, linkedinWindowS: 60, latency: 0,
}, (a, val, o) => {
    switch (a) {
        case '--key': o.key = val(); break;
        case '--secret': o.secret = val(); break;
        case '--no-generate': o.generate = false; break;
        case '--linkedin-limit': o.linkedinLimit = Number(val()); break;
        case '--linkedin-window-s': o.linkedinWindowS = Number(val()); break;
        case '--latency': o.latency = Number(val()); break;
        default: return false;
    }
    return true;
}, usage);
const initial = {
    key: opts.key, secret: opts.secret, generate: opts.generate, linkedin_limit: opts.linkedinLimit,
    linkedin_window_s: opts.linkedinWindowS, latency_ms: opts.latency,
};
const config = { ...initial };
const log = makeLog('hooks_fake', opts);

// ---- Deterministic randomness ---------------------------------------------------------------

function fnv1a(s) {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(String(s), 'utf8')) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
    return h >>> 0;
}
function prng(seed) {   // mulberry32
    let a = fnv1a(seed);
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
        next,
        int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
        pick: (list) => list[Math.floor(next() * list.length)],
        sample: (list, n) => {
            const copy = list.slice();
            const out = [];
            while (out.length < n && copy.length) out.push(copy.splice(Math.floor(next() * copy.length), 1)[0]);
            return out;
        },
    };
}

const FIRST = ['Alex', 'Maria', 'Wei', 'Fatima', 'João', 'Priya', 'Lukas', 'Chloé', 'Kenji', 'Amara', 'Sofia', 'Omar', 'Ingrid', 'Diego', 'Hana'];
const LAST = ['Johnson', 'García', 'Chen', 'Okafor', 'Silva', 'Sharma', 'Müller', 'Dubois', 'Tanaka', 'Nwosu', 'Rossi', 'Haddad', 'Larsen', 'López', 'Kim'];
const PLACES = [['San Francisco', 'US', 'United States'], ['Berlin', 'DE', 'Germany'], ['London', 'GB', 'United Kingdom'],
    ['Paris', 'FR', 'France'], ['Bengaluru', 'IN', 'India'], ['Toronto', 'CA', 'Canada'], ['São Paulo', 'BR', 'Brazil'],
    ['Amsterdam', 'NL', 'Netherlands'], ['Tokyo', 'JP', 'Japan'], ['Lagos', 'NG', 'Nigeria']];
const COMPANIES = ['Acme Corp', 'Globex', 'Initech', 'Umbrella Analytics', 'Hooli', 'Stark Industries', 'Wayne Enterprises',
    'Soylent Data', 'Cyberdyne Systems', 'Vandelay Industries', 'Pied Piper'];
const TITLES = ['Software Engineer', 'Senior Software Engineer', 'Data Scientist', 'Product Manager', 'Backend Developer',
    'Frontend Developer', 'DevOps Engineer', 'Machine Learning Engineer', 'Engineering Manager', 'QA Engineer'];
const SCHOOLS = [['Technical University of Munich', 'MSc', 'Computer Science'], ['University of Toronto', 'BSc', 'Mathematics'],
    ['Stanford University', 'MS', 'Electrical Engineering'], ['IIT Bombay', 'B.Tech', 'Computer Science and Engineering'],
    ['University of Lagos', 'BSc', 'Physics'], ['Sorbonne Université', 'Licence', 'Informatique'], ['University of Tokyo', 'BEng', 'Information Science']];
const SKILLS = ['Python', 'JavaScript', 'TypeScript', 'Go', 'Rust', 'Java', 'C++', 'SQL', 'PostgreSQL', 'Kubernetes', 'Docker',
    'AWS', 'React', 'Node.js', 'Machine Learning', 'Data Analysis', 'Leadership', 'Agile Methodologies', 'Git', 'Linux'];

// ---- LinkedIn profiles ----------------------------------------------------------------------

// A profile URL: [http(s)://][www.|xx.]linkedin.com/in/<identifier>[/][?…][#…]. Returns the
// identifier in lower case (as LinkedIn's are), or null when the URL is not a profile URL.
function profileId(url) {
    if (typeof url !== 'string') return null;
    const m = /^(?:https?:\/\/)?(?:(?:www|[a-z]{2,3})\.)?linkedin\.com\/in\/([^/?#\s]+)\/?(?:[?#].*)?$/i.exec(url.trim());
    if (!m) return null;
    let id;
    try { id = decodeURIComponent(m[1]); } catch { return null; }
    if (!/^[\p{L}\p{N}_-]{3,100}$/u.test(id)) return null;
    return id.toLowerCase();
}

let profiles = new Map();   // identifier -> profile object, or {not_found: true}

const ym = (year, month) => ({ year, month });
function generatedProfile(id) {
    const r = prng(`linkedin:${id}`);
    const words = id.split(/[-_]+/).filter((w) => /^\p{L}+$/u.test(w));
    const cap = (w) => w[0].toUpperCase() + w.slice(1);
    const [first, last] = words.length >= 2 ? [cap(words[0]), cap(words[1])] : [r.pick(FIRST), r.pick(LAST)];
    const [city, country, countryName] = r.pick(PLACES);
    let year = 2025;
    let month = r.int(1, 12);
    const experiences = [];
    const jobs = r.int(1, 4);
    for (let i = 0; i < jobs; i++) {
        const months = r.int(8, 60);
        const start = (year * 12 + month - 1) - months;
        const startY = Math.floor(start / 12);
        const startM = (start % 12) + 1;
        const company = r.pick(COMPANIES);
        const title = r.pick(TITLES);
        experiences.push({
            company, title, description: `${title} at ${company}: built and ran ${r.pick(['data pipelines', 'web services', 'internal tools', 'mobile apps', 'ML models'])}.`,
            location: `${city}, ${countryName}`, starts_at: ym(startY, startM), ends_at: i === 0 ? null : ym(year, month),
        });
        year = startY;
        month = startM;
        const gap = start - r.int(0, 6);
        year = Math.floor(gap / 12);
        month = (gap % 12) + 1;
    }
    const [school, degree, field] = r.pick(SCHOOLS);
    const gradYear = year - r.int(0, 2);
    const skills = r.sample(SKILLS, r.int(4, 10));
    return {
        public_identifier: id,
        profile_url: `https://www.linkedin.com/in/${id}/`,
        first_name: first,
        last_name: last,
        full_name: `${first} ${last}`,
        headline: `${experiences[0].title} at ${experiences[0].company}`,
        summary: `${experiences[0].title} with ${Math.max(1, 2025 - gradYear)} years of experience in ${skills.slice(0, 3).join(', ')}.`,
        occupation: `${experiences[0].title} at ${experiences[0].company}`,
        city,
        state: null,
        country,
        country_full_name: countryName,
        experiences,
        education: [{ school, degree_name: degree, field_of_study: field, starts_at: ym(gradYear - 4, 9), ends_at: ym(gradYear, 6) }],
        skills,
        languages: r.sample(['English', 'Spanish', 'German', 'French', 'Hindi', 'Portuguese', 'Japanese'], r.int(1, 3)),
        certifications: [],
        connections: r.int(30, 500),
        follower_count: r.int(30, 3000),
    };
}

function seededProfile(spec) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('a profile is a JSON object');
    const id = profileId(spec.url);
    if (!id) throw new Error(`not a LinkedIn profile URL: ${JSON.stringify(spec.url)}`);
    if (spec.not_found === true || spec.status === 404) return [id, { not_found: true }];
    const { url, ...fields } = spec;
    const first = fields.first_name ?? null;
    const last = fields.last_name ?? null;
    return [id, {
        public_identifier: id,
        profile_url: `https://www.linkedin.com/in/${id}/`,
        first_name: first,
        last_name: last,
        full_name: fields.full_name ?? ([first, last].filter(Boolean).join(' ') || null),
        headline: null, summary: null, occupation: null, city: null, state: null, country: null, country_full_name: null,
        experiences: [], education: [], skills: [], languages: [], certifications: [], connections: 0, follower_count: 0,
        ...fields,
    }];
}

// ---- State ----------------------------------------------------------------------------------

let scripts = new Map();     // 'hook:NAME' | 'provider:linkedin' -> [outcome]
let down = new Map();        // hook name -> '503' | 'refuse'
let requests = [];
let seq = 0;
let linkedinWindow = { start: Date.now(), count: 0 };

const BEHAVIOURS = new Set(['ok', '400', '401', '403', '404', '429', '500', '502', '503', 'hang', 'reset', 'down', 'malformed']);
const ALIASES = { refuse: 'down', disconnect: 'reset', latency: 'ok', rate_limit: '429' };

// "500", "500*3", "down:2" (= down*2), "hang:1000", "429:2" (retry-after seconds), "latency:200",
// or {behaviour, status, body, headers, content_type, latency_ms, retry_after_s, times}.
function normalizeOutcome(o) {
    if (typeof o === 'number') o = String(o);
    if (typeof o === 'string') {
        const m = /^([^:*]+)(?::([^*]*))?(?:\*(\d+))?$/.exec(o.trim());
        if (!m) throw new Error(`bad outcome ${JSON.stringify(o)}`);
        const b = ALIASES[m[1]] ?? m[1];
        const out = { behaviour: b };
        if (m[1] === 'latency') out.latency_ms = Number(m[2]);
        else if (m[2] !== undefined && m[2] !== '') {
            if (b === 'hang') out.latency_ms = Number(m[2]);
            else if (b === '429') out.retry_after_s = Number(m[2]);
            else if (b === 'down') out.times = Number(m[2]);
            else throw new Error(`${b} takes no argument`);
        }
        if (m[3] !== undefined) out.times = Number(m[3]);
        o = out;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('an outcome is a string or an object');
    const out = { ...o };
    const b = o.behaviour ?? o.behavior;
    out.behaviour = String(ALIASES[b] ?? b ?? (o.status !== undefined ? 'raw' : 'ok'));
    delete out.behavior;
    if (out.count !== undefined && out.times === undefined) out.times = out.count;
    delete out.count;
    if (out.behaviour !== 'raw' && !BEHAVIOURS.has(out.behaviour)) throw new Error(`unknown behaviour ${JSON.stringify(out.behaviour)}`);
    if (out.behaviour === 'raw' && !(Number.isInteger(out.status) && out.status >= 100 && out.status <= 599)) throw new Error('a raw outcome needs a status 100..599');
    for (const k of ['latency_ms', 'retry_after_s']) {
        if (out[k] !== undefined && !(Number.isFinite(out[k]) && out[k] >= 0)) throw new Error(`${k} must be a number >= 0`);
    }
    if (out.times !== undefined && !(Number.isInteger(out.times) && out.times >= 1)) throw new Error('times (count) must be an integer >= 1');
    return out;
}
function peekOutcome(key) {
    const q = scripts.get(key);
    return q && q.length ? q[0] : null;
}
function takeOutcome(key) {
    const q = scripts.get(key);
    if (!q || q.length === 0) return null;
    const o = q[0];
    if (o.times !== undefined && o.times > 1) q[0] = { ...o, times: o.times - 1 };
    else q.shift();
    return o;
}

// ---- Answers --------------------------------------------------------------------------------

function send(res, ctx, status, body, headers = {}, contentType = 'application/json') {
    if (res.destroyed || res.writableEnded) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const all = { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-request-id': ctx.requestId, ...headers };
    for (const [k, v] of Object.entries(all)) if (v === null || v === undefined) delete all[k];
    res.writeHead(status, all);
    res.end(text);
    if (ctx.record) { ctx.record.status = status; ctx.record.response_ms = Date.now() - ctx.started; }
}

// Outcomes shared by both kinds of endpoint. Returns true when the request has been dealt with.
function scripted(req, res, ctx, outcome, kind) {
    const extra = outcome.headers ?? {};
    const err = (status, message, headers = {}) => send(res, ctx, status, kind === 'hook' ? { ok: false, error: message } : { error: message }, { ...headers, ...extra });
    switch (outcome.behaviour) {
        case 'raw': rawAnswer(send, res, ctx, outcome); return true;
        case 'hang': case 'reset': return hangOrReset(req, ctx, outcome);
        case 'down':
            ctx.record.status = 'refused';
            req.socket.destroy();
            return true;
        case 'malformed':
            send(res, ctx, 200, kind === 'hook' ? '{"ok": true, "result": {"echo_id": ' : '{"public_identifier": "', extra);
            return true;
        case '400': err(400, 'Bad Request'); return true;
        case '401': err(401, kind === 'hook' ? 'unauthorized' : 'Invalid API key'); return true;
        case '403': err(403, 'Forbidden'); return true;
        case '404': err(404, kind === 'hook' ? 'Not Found' : 'Profile not found'); return true;
        case '429': {
            const s = outcome.retry_after_s ?? 1;
            err(429, kind === 'hook' ? 'Too Many Requests' : 'Rate limited. Please retry after the time given in the retry-after header.',
                { 'retry-after': String(Math.max(0, Math.ceil(s))) });
            return true;
        }
        case '500': err(500, 'Internal Server Error'); return true;
        case '502':
            send(res, ctx, 502, '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n', extra, 'text/html');
            return true;
        case '503': err(503, 'Service Unavailable'); return true;
        default: return false;
    }
}

function bearer(req) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m ? m[1] : null;
}

async function linkedin(req, res, ctx, url) {
    const key = bearer(req);
    if (!key || (config.key && key !== config.key)) return send(res, ctx, 401, { error: 'Invalid API key' });
    if (config.linkedin_limit > 0) {
        const now = Date.now();
        const windowMs = config.linkedin_window_s * 1000;
        if (now - linkedinWindow.start >= windowMs) linkedinWindow = { start: now, count: 0 };
        if (linkedinWindow.count >= config.linkedin_limit) {
            const s = Math.max(1, Math.ceil((linkedinWindow.start + windowMs - now) / 1000));
            ctx.record.outcome = '429';
            return send(res, ctx, 429, { error: 'Rate limited. Please retry after the time given in the retry-after header.' }, { 'retry-after': String(s) });
        }
        linkedinWindow.count += 1;
    }
    let outcome = takeOutcome('provider:linkedin') ?? { behaviour: 'ok' };
    outcome = withLatency(outcome, config.latency_ms);
    ctx.record.outcome = outcome.behaviour;
    if (await waitLatency(ctx, outcome, true)) return;
    if (scripted(req, res, ctx, outcome, 'provider')) return;
    const raw = url.searchParams.get('url') ?? url.searchParams.get('linkedin_profile_url');
    if (!raw) return send(res, ctx, 400, { error: 'Missing required parameter: url' });
    const id = profileId(raw);
    if (!id) return send(res, ctx, 400, { error: `Invalid LinkedIn profile URL: ${raw}` });
    let profile = profiles.get(id);
    if (!profile && config.generate && !/^(unknown|missing|notfound|not-found|404)(?:[-_]|$)/.test(id)) profile = generatedProfile(id);
    if (!profile || profile.not_found) return send(res, ctx, 404, { error: 'Profile not found' }, outcome.headers ?? {});
    return send(res, ctx, 200, profile, outcome.headers ?? {});
}

async function hook(req, res, ctx, name, raw) {
    if (config.secret && bearer(req) !== config.secret) return send(res, ctx, 401, { ok: false, error: 'unauthorized' });
    if (down.has(name)) {
        ctx.record.outcome = 'down';
        if (down.get(name) === 'refuse') { ctx.record.status = 'refused'; req.socket.destroy(); return; }
        return send(res, ctx, 503, { ok: false, error: 'Service Unavailable' });
    }
    let outcome = takeOutcome(`hook:${name}`) ?? { behaviour: 'ok' };
    outcome = withLatency(outcome, config.latency_ms);
    ctx.record.outcome = outcome.behaviour;
    if (await waitLatency(ctx, outcome, true)) return;
    if (scripted(req, res, ctx, outcome, 'hook')) return;
    if (ctx.record.json === null) {
        return send(res, ctx, 400, { ok: false, error: raw.trim() === '' ? 'empty body: send the applicant as JSON' : 'body is not JSON' });
    }
    const body = ctx.record.json;
    const obj = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
    return send(res, ctx, 200, {
        ok: true,
        result: {
            echo_id: obj.id ?? null,
            name_length: typeof obj.name === 'string' ? [...obj.name].length : null,
            received_at: new Date().toISOString(),
        },
    }, outcome.headers ?? {});
}

// ---- Control API ----------------------------------------------------------------------------

function control(req, res, path, raw, url) {
    const parsedBody = controlBody(res, raw);
    if (!parsedBody) return;
    const { body } = parsedBody;
    const route = `${req.method} ${path}`;
    const q = url.searchParams;
    const target = () => {
        if (q.get('hook')) return `hook:${q.get('hook')}`;
        if (q.get('provider')) return q.get('provider') === 'linkedin' ? 'provider:linkedin' : null;
        return undefined;
    };
    const keep = (r) => (!q.get('path') || r.path === q.get('path')) && (!q.get('hook') || r.hook === q.get('hook'));
    if (commonControl(req, res, path, { requests, keep })) return;
    if (route === 'GET /_control/script') {
        const t = target();
        if (t === null) return json(res, 400, { error: 'the only provider is linkedin' });
        if (t === undefined) return json(res, 200, Object.fromEntries(scripts));
        return json(res, 200, { remaining: (scripts.get(t) ?? []).length, script: scripts.get(t) ?? [] });
    }
    if (route === 'POST /_control/script') {
        const t = target();
        if (!t) return json(res, 400, { error: 'say whose script: ?hook=NAME or ?provider=linkedin' });
        const parsed = scriptFromBody(res, body, normalizeOutcome);
        if (!parsed) return;
        scripts.set(t, q.get('append') ? [...(scripts.get(t) ?? []), ...parsed] : parsed);
        return json(res, 200, { remaining: scripts.get(t).length });
    }
    if (route === 'POST /_control/down') {
        if (body === null || typeof body !== 'object' || typeof body.hook !== 'string' || body.hook === '') {
            return json(res, 400, { error: 'send {"hook": NAME, "down": true|false, "mode": "503"|"refuse"}' });
        }
        if (body.down === false) down.delete(body.hook);
        else {
            const mode = body.mode ?? '503';
            if (!['503', 'refuse'].includes(String(mode))) return json(res, 400, { error: 'mode is "503" or "refuse"' });
            down.set(body.hook, String(mode));
        }
        return json(res, 200, { hook: body.hook, down: down.has(body.hook), mode: down.get(body.hook) ?? null });
    }
    if (route === 'POST /_control/profiles') {
        const list = Array.isArray(body) ? body : body !== null ? [body] : null;
        if (!list) return json(res, 400, { error: 'send a profile object or a list of them, each with a url' });
        let made;
        try { made = list.map(seededProfile); } catch (e) { return json(res, 400, { error: e.message }); }
        if (q.get('replace')) profiles = new Map();
        for (const [id, p] of made) profiles.set(id, p);
        return json(res, 200, { count: made.length, identifiers: made.map(([id]) => id) });
    }
    if (route === 'POST /_control/reset') {
        scripts = new Map();
        down = new Map();
        requests = [];
        if (!q.get('keep_profiles')) profiles = new Map();
        linkedinWindow = { start: Date.now(), count: 0 };
        Object.assign(config, initial);
        return json(res, 200, { ok: true });
    }
    if (route === 'POST /_control/config') {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) return json(res, 400, { error: 'send a JSON object' });
        for (const k of Object.keys(initial)) if (k in body) config[k] = body[k];
        if ('linkedin_limit' in body || 'linkedin_window_s' in body) linkedinWindow = { start: Date.now(), count: 0 };
        return json(res, 200, { ...config });
    }
    return json(res, 404, { error: `no control endpoint ${req.method} ${path}` });
}

// ---- Request handling -----------------------------------------------------------------------

async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    const ctx = { requestId: crypto.randomUUID(), started: Date.now(), record: null, closed: false };
    let hookName = null;
    if (path.startsWith('/hooks/')) {
        try { hookName = decodeURIComponent(path.slice('/hooks/'.length)); } catch { hookName = path.slice('/hooks/'.length); }
        // "down" outcomes refuse the request as soon as it arrives, before its body is read.
        if (hookName !== '' && req.method === 'POST' && peekOutcome(`hook:${hookName}`)?.behaviour === 'down') {
            takeOutcome(`hook:${hookName}`);
            requests.push({
                seq: ++seq, time: new Date().toISOString(), method: req.method, path, query: Object.fromEntries(url.searchParams),
                hook: hookName, headers: req.headers, body: null, json: null, status: 'refused', outcome: 'down', response_ms: 0,
            });
            req.socket.destroy();
            return;
        }
    }
    const raw = (await readBody(req)).toString('utf8');
    if (path.startsWith('/_control/')) return control(req, res, path, raw, url);

    res.on('close', () => { ctx.closed = true; });
    let parsed = null;
    try { parsed = raw.trim() === '' ? null : JSON.parse(raw); } catch { parsed = null; }
    ctx.record = {
        seq: ++seq, time: new Date().toISOString(), method: req.method, path, query: Object.fromEntries(url.searchParams),
        hook: hookName, headers: req.headers, body: raw, json: parsed, status: null, outcome: null, response_ms: null,
    };
    requests.push(ctx.record);

    if (path === '/linkedin/profile') {
        if (req.method !== 'GET') return send(res, ctx, 405, { error: 'Method Not Allowed' }, { allow: 'GET' });
        return linkedin(req, res, ctx, url);
    }
    if (hookName !== null && hookName !== '') {
        if (req.method !== 'POST') return send(res, ctx, 405, { ok: false, error: 'Method Not Allowed' }, { allow: 'POST' });
        return hook(req, res, ctx, hookName, raw);
    }
    return send(res, ctx, 404, { error: `Not Found: ${req.method} ${path}` });
}

// ---- Server and lifetime --------------------------------------------------------------------

serve({
    name: 'hooks_fake', opts, log, handle,
    internalError: (e) => ({ error: `hooks_fake internal error: ${e.message}` }),
});

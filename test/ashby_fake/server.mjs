#!/usr/bin/env node
// A stand-in for Ashby's ATS API (candidates, résumé files, notes, custom fields), for tests
// only. See README.md beside this file. Node 20, node: modules only.
//
//   node test/ashby_fake/server.mjs --port 0 [--key K]... [--parent-pid PID] [--quiet]
//
// Listening (127.0.0.1 only), stopping, the common options and the control API's plumbing are
// ../lib/fake_server.mjs, shared by the stand-ins; this file is what is particular to Ashby.

import crypto from 'node:crypto';
import {
    makeUsage, parseOptions, makeLog, readBody, json, controlBody, commonControl, scriptFromBody,
    withLatency, waitLatency, hangOrReset, rawAnswer, serve,
} from '../lib/fake_server.mjs';

// ---- Options --------------------------------------------------------------------------------

const usage = makeUsage('ashby_fake', 'usage: node server.mjs --port PORT [--key K]... [--latency MS] [--url-ttl-ms MS]\n'
    + '       [--parent-pid PID] [--stdin] [--quiet]\n');
const opts = parseOptions(process.argv.slice(2), { keys: [], latency: 0, urlTtlMs: 60000 }, (a, val, o) => {
    switch (a) {
        case '--key': o.keys.push(val()); break;
        case '--latency': o.latency = Number(val()); break;
        case '--url-ttl-ms': o.urlTtlMs = Number(val()); break;
        default: return false;
    }
    return true;
}, usage);
const initialConfig = () => ({
    keys: [...opts.keys],              // keys with every permission
    no_permission_keys: [],            // keys Ashby knows that lack every endpoint permission
    denied_endpoints: [],              // endpoints every key lacks ("customField.setValues")
    latency_ms: opts.latency,
    url_ttl_ms: opts.urlTtlMs,         // lifetime of file.info's presigned URLs
    file_url_base: null,               // origin of those URLs (default: this server)
    max_limit: 100,
});
let config = initialConfig();
const log = makeLog('ashby_fake', opts);
let baseUrl = null;
const signing = crypto.randomBytes(16);

// ---- Data -----------------------------------------------------------------------------------

let candidates = new Map();   // id -> candidate (insertion order is the listing order)
let files = new Map();        // handle -> {name, content: Buffer, content_type}
let tokens = new Map();       // syncToken -> {seq, expired}
let changeSeq = 0;            // every change to a candidate takes the next number
let notes = [];
let customFields = [];
let script = [];
let requests = [];
let requestSeq = 0;

const uuid = () => crypto.randomUUID();
const nowIso = () => new Date().toISOString();

// A one-page PDF whose text layer holds the lines (Helvetica, WinAnsi: ASCII only here).
function pdfOf(lines) {
    const esc = (s) => String(s).replace(/[^\x20-\x7e]/g, '?').replace(/([\\()])/g, '\\$1');
    let y = 760;
    const ops = lines.map((l, i) => {
        const size = i === 0 ? 16 : 11;
        const op = `BT /F1 ${size} Tf 60 ${y} Td (${esc(l)}) Tj ET`;
        y -= i === 0 ? 26 : 16;
        return op;
    }).join('\n');
    const objs = [
        '<< /Type /Catalog /Pages 2 0 R >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
        `<< /Length ${Buffer.byteLength(ops)} >>\nstream\n${ops}\nendstream`,
        '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    ];
    let out = '%PDF-1.4\n';
    const offsets = [];
    objs.forEach((o, i) => { offsets.push(Buffer.byteLength(out)); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
    const xref = Buffer.byteLength(out);
    out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
    for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
    out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return Buffer.from(out, 'latin1');
}

function resumeLines(c) {
    return [c.name, `${c._email ?? ''}`, '', 'Experience',
        `Software Engineer, Example Corp, 2018 - present`, 'Built services in Go and PostgreSQL.', '',
        'Skills', 'Go, PostgreSQL, Kubernetes, Python', '', 'Education', 'BSc Computer Science, 2014 - 2018'];
}

// Stores a résumé file; returns the candidate's resumeFileHandle.
function addFile(name, content, contentType) {
    const id = uuid();
    const handle = `fh_${crypto.randomBytes(12).toString('hex')}`;
    files.set(handle, { id, name, content, content_type: contentType });
    return { id, name, handle };
}

function resumeOf(c, spec) {
    if (spec === false || spec === null) return undefined;
    if (spec === undefined || spec === true) return addFile(`${c.name.replace(/[^A-Za-z0-9]+/g, '_')}_resume.pdf`, pdfOf(resumeLines(c)), 'application/pdf');
    if (typeof spec !== 'object') throw new Error('resume is true, false or {name, base64 | text | lines, content_type}');
    const content = spec.base64 !== undefined ? Buffer.from(spec.base64, 'base64')
        : spec.text !== undefined ? Buffer.from(String(spec.text), 'utf8')
            : pdfOf(spec.lines ?? resumeLines(c));
    return addFile(spec.name ?? 'resume.pdf', content, spec.content_type ?? 'application/pdf');
}

// Seeds or updates one candidate ({id?, name, email, resume, application_ids, ...extra}); every
// call counts as a change (the next incremental sync returns it).
function upsertCandidate(spec) {
    if (spec === null || typeof spec !== 'object') throw new Error('a candidate is an object');
    const id = spec.id ?? uuid();
    if (typeof id !== 'string' || id === '') throw new Error('id must be a non-empty string');
    const old = candidates.get(id);
    const name = spec.name ?? old?.name;
    if (typeof name !== 'string') throw new Error('a new candidate needs a name');
    const email = spec.email !== undefined ? spec.email : old?._email ?? `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@example.com`;
    const c = {
        ...(old ?? {}),
        id, name,
        emailAddresses: email ? [{ value: email, type: 'Personal', isPrimary: true }] : [],
        primaryEmailAddress: email ? { value: email, type: 'Personal', isPrimary: true } : null,
        phoneNumbers: [], socialLinks: [], tags: [],
        applicationIds: spec.application_ids ?? old?.applicationIds ?? [uuid()],
        fileHandles: old?.fileHandles ?? [],
        createdAt: old?.createdAt ?? nowIso(),
        updatedAt: nowIso(),
        _email: email,
    };
    for (const [k, v] of Object.entries(spec)) {
        if (!['id', 'name', 'email', 'resume', 'application_ids'].includes(k)) c[k] = v;
    }
    if (!old || spec.resume !== undefined) {
        const r = resumeOf(c, spec.resume);
        if (r) { c.resumeFileHandle = r; c.fileHandles = [...c.fileHandles, r]; } else if (spec.resume === false || spec.resume === null) delete c.resumeFileHandle;
    }
    c._seq = ++changeSeq;
    candidates.set(id, c);   // an update keeps the candidate's place in the listing
    return c;
}

const publicCandidate = (c) => Object.fromEntries(Object.entries(c).filter(([k]) => !k.startsWith('_')));

// ---- Outcomes -------------------------------------------------------------------------------

const BEHAVIOURS = new Set(['ok', '401', '403', '429', '500', '502', '503', 'hang', 'reset', 'sync_token_expired',
    'incremental_sync_too_large', 'error', 'malformed', 'huge']);

// "500", "500*3", "429:2" (Retry-After 2), "error:candidate_not_found", "hang:1000", or an object
// {behaviour, status, body, headers, retry_after_s, code, message, bytes, latency_ms, times, path}.
function normalizeOutcome(o) {
    if (typeof o === 'number') o = String(o);
    if (typeof o === 'string') {
        const m = /^([^:*]+)(?::([^*]*))?(?:\*(\d+))?$/.exec(o.trim());
        if (!m) throw new Error(`bad outcome ${JSON.stringify(o)}`);
        const out = { behaviour: m[1] };
        if (m[2] !== undefined && m[2] !== '') {
            if (m[1] === '429') out.retry_after_s = Number(m[2]);
            else if (m[1] === 'hang' || m[1] === 'latency') out.latency_ms = Number(m[2]);
            else if (m[1] === 'error') out.code = m[2];
            else if (m[1] === 'huge') out.bytes = Number(m[2]);
            else throw new Error(`${m[1]} takes no argument`);
        }
        if (m[1] === 'latency') out.behaviour = 'ok';
        if (m[3] !== undefined) out.times = Number(m[3]);
        o = out;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('an outcome is a string or an object');
    const out = { ...o };
    out.behaviour = String(o.behaviour ?? (o.status !== undefined ? 'raw' : 'ok'));
    if (out.behaviour !== 'raw' && !BEHAVIOURS.has(out.behaviour)) throw new Error(`unknown behaviour ${JSON.stringify(out.behaviour)}`);
    if (out.behaviour === 'raw' && !(Number.isInteger(out.status) && out.status >= 100 && out.status <= 599)) throw new Error('a raw outcome needs a status 100..599');
    if (out.times !== undefined && !(Number.isInteger(out.times) && out.times >= 1)) throw new Error('times must be an integer >= 1');
    if (out.path !== undefined && typeof out.path !== 'string') throw new Error('path must be a string');
    return out;
}

function takeOutcome(path) {
    const i = script.findIndex((o) => o.path === undefined || o.path === path
        || (o.path.endsWith('*') && path.startsWith(o.path.slice(0, -1))));
    if (i < 0) return null;
    const o = script[i];
    if (o.times !== undefined && o.times > 1) script[i] = { ...o, times: o.times - 1 };
    else script.splice(i, 1);
    return o;
}

// ---- Answers --------------------------------------------------------------------------------

function send(res, ctx, status, body, headers = {}, contentType = 'application/json; charset=utf-8') {
    if (res.destroyed || res.writableEnded) return;
    const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    res.writeHead(status, { 'content-type': contentType, 'content-length': data.length, 'x-request-id': ctx.requestId, ...headers });
    res.end(data);
    if (ctx.record) { ctx.record.status = status; ctx.record.response_ms = Date.now() - ctx.started; }
}
const ok = (res, ctx, results, extra = {}) => send(res, ctx, 200, { success: true, results, ...extra });
// A business error: HTTP 200 (or the given status) with success false.
const fail = (res, ctx, code, message, status = 200, headers = {}) => send(res, ctx, status, {
    success: false, errors: [code], errorInfo: { code, message, requestId: ctx.requestId },
}, headers);

// ---- Endpoints ------------------------------------------------------------------------------

function cursorOf(state) { return Buffer.from(JSON.stringify(state)).toString('base64url'); }
function readCursor(s) {
    try { const c = JSON.parse(Buffer.from(String(s), 'base64url').toString()); return Number.isInteger(c.offset) ? c : null; } catch { return null; }
}

function candidateList(res, ctx, body) {
    let limit = body.limit ?? config.max_limit;
    if (!Number.isInteger(limit) || limit < 1) return fail(res, ctx, 'invalid_input', 'limit must be a positive integer');
    limit = Math.min(limit, config.max_limit);
    let since = 0;
    if (body.syncToken !== undefined && body.syncToken !== null) {
        const t = tokens.get(String(body.syncToken));
        if (!t) return fail(res, ctx, 'invalid_sync_token', 'The sync token is not valid');
        if (t.expired) return fail(res, ctx, 'sync_token_expired', 'The sync token has expired; run a full sync');
        since = t.seq;
    }
    let state;
    if (body.cursor !== undefined && body.cursor !== null) {
        state = readCursor(body.cursor);
        if (!state || state.since !== since) return fail(res, ctx, 'invalid_cursor', 'The cursor is not valid for this request');
    } else {
        state = { offset: 0, snap: changeSeq, since };
    }
    const all = [...candidates.values()].filter((c) => c._seq > state.since && c._seq <= state.snap);
    const page = all.slice(state.offset, state.offset + limit);
    const more = state.offset + limit < all.length;
    const extra = { moreDataAvailable: more };
    if (more) extra.nextCursor = cursorOf({ ...state, offset: state.offset + limit });
    else {
        const token = `st_${crypto.randomBytes(10).toString('hex')}`;
        tokens.set(token, { seq: state.snap, expired: false });
        extra.syncToken = token;
    }
    ctx.record.returned = page.length;
    return ok(res, ctx, page.map(publicCandidate), extra);
}

function sign(handle, expires) {
    return crypto.createHmac('sha256', signing).update(`${handle}:${expires}`).digest('hex').slice(0, 32);
}

function fileInfo(res, ctx, body) {
    const handle = body.fileHandle;
    if (typeof handle !== 'string') return fail(res, ctx, 'invalid_input', 'fileHandle is required');
    if (!files.has(handle)) return fail(res, ctx, 'file_not_found', 'No file with that handle');
    const expires = Date.now() + config.url_ttl_ms;
    const origin = config.file_url_base ?? baseUrl;
    return ok(res, ctx, { url: `${origin}/_files/${encodeURIComponent(handle)}?expires=${expires}&sig=${sign(handle, expires)}` });
}

function download(res, ctx, url) {
    const handle = decodeURIComponent(url.pathname.slice('/_files/'.length));
    const expires = Number(url.searchParams.get('expires'));
    const f = files.get(handle);
    const xml = (code, msg) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${msg}</Message></Error>`;
    if (!f || url.searchParams.get('sig') !== sign(handle, expires)) return send(res, ctx, 403, xml('SignatureDoesNotMatch', 'The request signature does not match'), {}, 'application/xml');
    if (Date.now() > expires) return send(res, ctx, 403, xml('AccessDenied', 'Request has expired'), {}, 'application/xml');
    return send(res, ctx, 200, f.content, { 'content-disposition': `attachment; filename="${encodeURIComponent(f.name)}"` }, f.content_type);
}

function createNote(res, ctx, body) {
    const c = candidates.get(body.candidateId);
    if (typeof body.candidateId !== 'string' || !c) return fail(res, ctx, 'candidate_not_found', 'No candidate with that id');
    const note = typeof body.note === 'string' ? body.note : body.note?.value;
    if (typeof note !== 'string' || note === '') return fail(res, ctx, 'invalid_input', 'note is required');
    const n = { id: uuid(), candidateId: c.id, content: note, createdAt: nowIso(), author: { id: uuid(), firstName: 'API', lastName: 'Key' } };
    notes.push(n);
    return ok(res, ctx, n);
}

function setValues(res, ctx, body) {
    if (body.objectType !== 'Candidate') return fail(res, ctx, 'invalid_input', 'objectType must be Candidate');
    if (!candidates.has(body.objectId)) return fail(res, ctx, 'candidate_not_found', 'No candidate with that id');
    if (!Array.isArray(body.values) || body.values.some((v) => typeof v?.fieldId !== 'string' || !('fieldValue' in v))) {
        return fail(res, ctx, 'invalid_input', 'values must be a list of {fieldId, fieldValue}');
    }
    customFields.push({ objectId: body.objectId, objectType: body.objectType, values: body.values, at: nowIso() });
    return ok(res, ctx, { objectId: body.objectId, values: body.values });
}

const ENDPOINTS = {
    'candidate.list': candidateList,
    'candidate.info': (res, ctx, body) => {
        const c = candidates.get(body.id);
        return c ? ok(res, ctx, publicCandidate(c)) : fail(res, ctx, 'candidate_not_found', 'No candidate with that id');
    },
    'file.info': fileInfo,
    'candidate.createNote': createNote,
    'customField.setValues': setValues,
};

// ---- Requests -------------------------------------------------------------------------------

async function control(req, res, url) {
    const path = url.pathname;
    const raw = (await readBody(req)).toString('utf8');
    if (commonControl(req, res, path, {
        health: { base_url: baseUrl },
        requests,
        keep: (r) => !url.searchParams.get('path') || r.path === url.searchParams.get('path'),
    })) return;
    const parsed = controlBody(res, raw);
    if (!parsed) return;
    const body = parsed.body;
    if (req.method === 'POST' && path === '/_control/candidates') {
        try {
            const made = [];
            const list = Array.isArray(body) ? body : [body];
            for (const spec of list) {
                if (spec && Number.isInteger(spec.generate)) {
                    for (let i = 1; i <= spec.generate; i++) {
                        made.push(upsertCandidate({ name: `${spec.prefix ?? 'Candidate'} ${String(i).padStart(4, '0')}`, resume: spec.resume }));
                    }
                } else made.push(upsertCandidate(spec));
            }
            return json(res, 200, { count: made.length, candidates: made.map((c) => ({ id: c.id, name: c.name, resumeFileHandle: c.resumeFileHandle ?? null })) });
        } catch (e) { return json(res, 400, { error: e.message }); }
    }
    if (req.method === 'GET' && path === '/_control/candidates') return json(res, 200, { count: candidates.size, candidates: [...candidates.values()].map(publicCandidate) });
    if (req.method === 'POST' && path === '/_control/script') {
        const list = scriptFromBody(res, body, normalizeOutcome);
        if (!list) return;
        script = url.searchParams.get('append') ? [...script, ...list] : list;
        return json(res, 200, { queued: script.length });
    }
    if (req.method === 'GET' && path === '/_control/script') return json(res, 200, { outcomes: script });
    if (req.method === 'POST' && path === '/_control/config') {
        for (const [k, v] of Object.entries(body ?? {})) {
            if (!(k in config)) return json(res, 400, { error: `unknown setting ${k}` });
            config[k] = v;
        }
        return json(res, 200, config);
    }
    if (req.method === 'POST' && path === '/_control/expire_tokens') {
        for (const t of tokens.values()) t.expired = true;
        return json(res, 200, { expired: tokens.size });
    }
    if (req.method === 'GET' && path === '/_control/notes') return json(res, 200, { count: notes.length, notes });
    if (req.method === 'GET' && path === '/_control/custom_fields') return json(res, 200, { count: customFields.length, custom_fields: customFields });
    if (req.method === 'POST' && path === '/_control/reset') {
        script = []; requests = []; notes = []; customFields = [];
        if (!url.searchParams.get('keep_data')) { candidates = new Map(); files = new Map(); tokens = new Map(); }
        config = initialConfig();
        return json(res, 200, { ok: true });
    }
    return json(res, 404, { error: `no control endpoint ${req.method} ${path}` });
}

// Basic auth with the key as the user name: 401 without one, 403 for an unknown key or one
// without the endpoint's permission. Returns the key, or null once it has answered.
function authenticate(req, res, ctx, endpoint) {
    const h = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(h);
    if (!m) { ctx.record.authenticated = false; fail(res, ctx, 'unauthenticated', 'Missing or malformed Authorization header (HTTP Basic, the API key as the user name)', 401); return null; }
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const key = decoded.includes(':') ? decoded.slice(0, decoded.lastIndexOf(':')) : decoded;
    ctx.record.key = key;
    if (config.keys.includes(key) && !config.denied_endpoints.includes(endpoint)) { ctx.record.authenticated = true; return key; }
    ctx.record.authenticated = false;
    if (config.no_permission_keys.includes(key) || config.keys.includes(key)) {
        fail(res, ctx, 'missing_endpoint_permission', `The API key is missing the permission this endpoint (${endpoint}) needs`, 403);
    } else {
        fail(res, ctx, 'invalid_api_key', 'The API key is not valid', 403);
    }
    return null;
}

async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname.startsWith('/_control/')) return control(req, res, url);
    const raw = await readBody(req);
    const ctx = { requestId: uuid(), started: Date.now(), record: null, closed: false };
    res.on('close', () => { ctx.closed = true; });
    let body = null;
    try { body = raw.length ? JSON.parse(raw.toString('utf8')) : null; } catch { body = undefined; }
    ctx.record = {
        seq: ++requestSeq, time: nowIso(), method: req.method, path: url.pathname, query: url.search,
        headers: req.headers, body: body === undefined ? raw.toString('utf8').slice(0, 2000) : body, status: null,
    };
    requests.push(ctx.record);

    if (url.pathname.startsWith('/_files/')) {
        if (req.method !== 'GET') return send(res, ctx, 405, 'method not allowed', {}, 'text/plain');
        return download(res, ctx, url);
    }
    const endpoint = url.pathname.slice(1);
    if (req.method !== 'POST') return fail(res, ctx, 'method_not_allowed', 'Every endpoint takes POST', 405);
    if (!authenticate(req, res, ctx, endpoint)) return;
    const outcome = withLatency(takeOutcome(url.pathname) ?? { behaviour: 'ok' }, config.latency_ms);
    ctx.record.outcome = outcome.behaviour;
    if (await waitLatency(ctx, outcome, true)) return;
    switch (outcome.behaviour) {
        case 'raw': return rawAnswer(send, res, ctx, outcome);
        case 'hang': case 'reset': hangOrReset(req, ctx, outcome); return;
        case '401': return fail(res, ctx, 'unauthenticated', 'Missing credentials', 401);
        case '403': return fail(res, ctx, 'missing_endpoint_permission', 'The API key is missing a permission', 403);
        case '429': return fail(res, ctx, 'rate_limit_exceeded', 'Rate limit exceeded', 429,
            outcome.retry_after_s !== undefined ? { 'retry-after': String(outcome.retry_after_s) } : {});
        case '500': return send(res, ctx, 500, { success: false, errorInfo: { code: 'internal_error', message: 'Internal server error' } });
        case '502': return send(res, ctx, 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', {}, 'text/html');
        case '503': return send(res, ctx, 503, 'Service Unavailable', {}, 'text/plain');
        case 'sync_token_expired': case 'incremental_sync_too_large':
            return fail(res, ctx, outcome.behaviour, outcome.message ?? `Scripted ${outcome.behaviour}`);
        case 'error': return fail(res, ctx, outcome.code ?? 'invalid_input', outcome.message ?? 'Scripted business error');
        case 'malformed': return send(res, ctx, 200, '{"success": true, "results": [{"id": ', {});
        case 'huge': {
            const n = outcome.bytes ?? 20 * 1024 * 1024;
            return send(res, ctx, 200, Buffer.concat([Buffer.from('{"success":true,"results":[],"padding":"'), Buffer.alloc(n, 'x'), Buffer.from('"}')]));
        }
        default: break;
    }
    if (body === undefined || (body !== null && typeof body !== 'object')) return fail(res, ctx, 'invalid_input', 'The body is not a JSON object', 400);
    const fn = ENDPOINTS[endpoint];
    if (!fn) return fail(res, ctx, 'unknown_endpoint', `No endpoint ${endpoint}`, 404);
    return fn(res, ctx, body ?? {});
}

serve({
    name: 'ashby_fake', opts, log, handle,
    internalError: (e) => ({ success: false, errorInfo: { code: 'internal_error', message: `ashby_fake internal error: ${e.message}` } }),
    onListening: (port) => { baseUrl = `http://127.0.0.1:${port}`; },
});

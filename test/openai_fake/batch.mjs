// The Files and Batch APIs of the OpenAI stand-in (see README.md, "Batch API"). Node 20, node:
// modules only. server.mjs owns the HTTP server, the key check, the request log and the live
// endpoints; this module keeps the uploaded files and the batches and runs each batch line through
// the live code path that server.mjs hands it (deps.executeLine).

import crypto from 'node:crypto';
import { contentTypeOf, parseMultipart, MultipartError } from './multipart.mjs';

export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'];
// Endpoints the real Batch API accepts that this stand-in does not serve.
const REAL_ONLY_ENDPOINTS = ['/v1/responses', '/v1/completions', '/v1/moderations'];
export const BATCH_MAX_LINES = 50000;
export const BATCH_MAX_BYTES = 200 * 1024 * 1024;
export const FILE_MAX_BYTES = 512 * 1024 * 1024;
const BATCH_MAX_EMBEDDING_INPUTS = 50000;
const MAX_REPORTED_ERRORS = 1000;
const FILE_TTL_S = 30 * 24 * 3600;     // purpose=batch files expire after 30 days
const WINDOW_S = 24 * 3600;             // completion_window "24h"
const CHUNK = 250;                      // lines run per tick, so a big batch does not block the server
// Whole-batch outcomes (only in the "batches" script queue).
export const BATCH_FATES = new Set(['failed', 'expired', 'cancelled', 'slow']);

const EXPIRED_LINE = { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' };
const CANCELLED_LINE = { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' };
const RESET_LINE = { code: 'server_error', message: 'The server had an error while processing your request. Sorry about that!' };

const now = () => Math.floor(Date.now() / 1000);
const hex = (n) => crypto.randomBytes(n).toString('hex');
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const base62 = (n) => Array.from(crypto.randomBytes(n), (b) => BASE62[b % 62]).join('');
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const typeName = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

// Deterministic "shuffle": output lines are ordered by a hash of their custom_id, so the order is
// not the input order (clients must join on custom_id) but is the same on every run.
function fnv(s) {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(s, 'utf8')) { h ^= b; h = Math.imul(h, 0x01000193); }
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
    return h >>> 0;
}

// Checks the lines of a batch input file as the real API does while a batch is "validating".
// Returns {lines: [{line, custom_id, url, body}], errors: [{code, message, param, line}], model}.
export function validateBatchLines(text, endpoint) {
    const errors = [];
    const lines = [];
    const seen = new Set();
    let model = null;
    let embeddingInputs = 0;
    const err = (code, message, param, line) => { if (errors.length < MAX_REPORTED_ERRORS) errors.push({ code, message, param, line }); };
    const raw = text.split('\n');
    if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();   // the final newline
    let count = 0;
    for (let i = 0; i < raw.length; i++) {
        const src = raw[i].replace(/\r$/, '');
        if (src.trim() === '') continue;   // blank lines are skipped (unverified: what the real API does)
        count++;
        const n = i + 1;
        let v;
        try { v = JSON.parse(src); } catch { v = undefined; }
        if (!isObject(v)) { err('invalid_json_line', 'This line is not parseable as valid JSON.', null, n); continue; }
        let bad = false;
        for (const [key, type] of [['custom_id', 'string'], ['method', 'string'], ['url', 'string'], ['body', 'object']]) {
            if (v[key] === undefined) { err('missing_required_parameter', `Missing required parameter: '${key}'.`, key, n); bad = true; break; }
            if (type === 'object' ? !isObject(v[key]) : typeof v[key] !== type) {
                err('invalid_type', `Invalid type for '${key}': expected ${type === 'object' ? 'an object' : `a ${type}`}, but got ${typeName(v[key])} instead.`, key, n);
                bad = true;
                break;
            }
        }
        if (bad) continue;
        if (v.custom_id === '') { err('empty_string', "Invalid 'custom_id': empty string. Expected a string with minimum length 1, but got an empty string instead.", 'custom_id', n); continue; }
        if (v.method !== 'POST') { err('invalid_value', `Invalid value: '${v.method}'. Supported values are: 'POST'.`, 'method', n); continue; }
        if (!BATCH_ENDPOINTS.includes(v.url)) {
            err('invalid_value', `Invalid value: '${v.url}'. Supported values are: ${BATCH_ENDPOINTS.map((u) => `'${u}'`).join(' and ')}.`, 'url', n);
            continue;
        }
        if (v.url !== endpoint) {
            err('url_mismatch', `The provided URL '${v.url}' does not match the batch endpoint '${endpoint}'.`, 'url', n);
            continue;
        }
        if (seen.has(v.custom_id)) {
            err('duplicate_custom_id', 'The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each individual request in a batch.', 'custom_id', n);
            continue;
        }
        seen.add(v.custom_id);
        if (typeof v.body.model === 'string') {
            if (model === null) model = v.body.model;
            else if (v.body.model !== model) {
                err('model_mismatch', `The provided model '${v.body.model}' does not match the model of the other requests in this batch ('${model}'). Each batch may only use one model.`, 'body.model', n);
                continue;
            }
        }
        if (v.url === '/v1/embeddings') embeddingInputs += Array.isArray(v.body.input) && !v.body.input.every(Number.isInteger) ? v.body.input.length : 1;
        lines.push({ line: n, custom_id: v.custom_id, url: v.url, body: v.body });
    }
    if (count === 0) err('empty_file', 'The batch input file is empty.', null, null);
    if (count > BATCH_MAX_LINES) {
        err('too_many_tasks', `The batch input file has ${count} requests; a batch may have at most ${BATCH_MAX_LINES}.`, null, null);
    }
    if (embeddingInputs > BATCH_MAX_EMBEDDING_INPUTS) {
        err('too_many_tasks', `The batch has ${embeddingInputs} embedding inputs; a batch may have at most ${BATCH_MAX_EMBEDDING_INPUTS} across all its requests.`, null, null);
    }
    return { lines, errors, model };
}

// deps: {config (batch_ms), send, sendBytes, apiError, executeLine(url, body), takeScripted(queue),
//        scriptedAnswer(req, res, ctx, outcome, kind) -> Promise<bool>, log}
export function createBatchApi(deps) {
    let files = new Map();     // id -> {meta (the File object), content (Buffer)}
    let batches = new Map();   // id -> internal batch (see createBatch)

    function fileObject(f) { return { ...f.meta }; }
    function storeFile(filename, purpose, content, expires = null) {
        const created = now();
        const meta = {
            id: `file-${base62(22)}`, object: 'file', bytes: content.length, created_at: created, filename, purpose,
            status: 'processed', status_details: null, expires_at: expires,
        };
        files.set(meta.id, { meta, content });
        return meta;
    }

    const notFoundFile = (res, ctx, id, param = 'id') =>
        deps.apiError(res, ctx, 404, `No such File object: ${id}`, 'invalid_request_error', param, null);
    const notFoundBatch = (res, ctx, id) =>
        deps.apiError(res, ctx, 404, `No batch found with id '${id}'.`, 'invalid_request_error', null, 'batch_not_found');
    const bad = (res, ctx, message, param = null, code = null) => deps.apiError(res, ctx, 400, message, 'invalid_request_error', param, code);

    // A scripted outcome from QUEUE for a request that passed its checks. Returns true when it
    // answered (a failure, a hang, a reset) or the client went away; the caller answers otherwise.
    async function scripted(req, res, ctx, queue, kind) {
        const outcome = deps.takeScripted(queue);
        if (!outcome) return { answered: false, outcome: null };
        if (ctx.record) ctx.record.outcome = outcome.behaviour;
        const answered = await deps.scriptedAnswer(req, res, ctx, outcome, kind);
        return { answered, outcome };
    }

    // ---- Files ----------------------------------------------------------------------------

    async function upload(req, res, ctx, bodyBuf) {
        const ctHeader = req.headers['content-type'] ?? '';
        const ct = contentTypeOf(ctHeader);
        if (ct.type !== 'multipart/form-data') {
            return bad(res, ctx, `Invalid Content-Type header (${ctHeader || 'none'}), expected multipart/form-data. (HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')`);
        }
        let parts;
        try {
            if (!ct.boundary) throw new MultipartError('the Content-Type has no boundary parameter');
            parts = parseMultipart(bodyBuf, ct.boundary);
        } catch (e) {
            if (!(e instanceof MultipartError)) throw e;
            return bad(res, ctx, `Could not parse the multipart/form-data body: ${e.message}.`);
        }
        const field = (name) => parts.find((p) => p.name === name);
        const purposePart = field('purpose');
        const filePart = field('file');
        if (ctx.record) {
            ctx.record.json = {
                purpose: purposePart ? purposePart.data.toString('utf8') : null,
                file: filePart ? { filename: filePart.filename, content_type: filePart.contentType, bytes: filePart.data.length } : null,
                fields: parts.map((p) => p.name),
            };
        }
        if (!purposePart) return bad(res, ctx, "Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
        const purpose = purposePart.data.toString('utf8');
        if (!FILE_PURPOSES.includes(purpose)) {
            return bad(res, ctx, `'${purpose}' is not one of [${FILE_PURPOSES.map((p) => `'${p}'`).join(', ')}] - 'purpose'`, 'purpose', 'invalid_value');
        }
        if (!filePart) return bad(res, ctx, "Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
        const filename = filePart.filename ?? 'upload';
        if (purpose === 'batch' && !filename.toLowerCase().endsWith('.jsonl')) {
            return bad(res, ctx, 'Invalid file format for Batch API. Must be .jsonl');
        }
        if (purpose === 'batch' && filePart.data.length > BATCH_MAX_BYTES) {
            return bad(res, ctx, `File is too large: ${filePart.data.length} bytes. Batch input files may be at most ${BATCH_MAX_BYTES} bytes (200 MB).`, 'file');
        }
        if (filePart.data.length > FILE_MAX_BYTES) {
            return bad(res, ctx, `File is too large: ${filePart.data.length} bytes. Files may be at most ${FILE_MAX_BYTES} bytes (512 MB).`, 'file');
        }
        if ((await scripted(req, res, ctx, 'files', 'files')).answered) return;
        // A copy: the parts are views into the request's buffer.
        const meta = storeFile(filename, purpose, Buffer.from(filePart.data), purpose === 'batch' ? now() + FILE_TTL_S : null);
        return deps.send(res, ctx, 200, meta);
    }

    async function listFiles(req, res, ctx, params) {
        const purpose = params.get('purpose');
        const order = params.get('order') ?? 'desc';
        if (!['asc', 'desc'].includes(order)) return bad(res, ctx, `Invalid value: '${order}'. Supported values are: 'asc' and 'desc'.`, 'order', 'invalid_value');
        const limit = params.has('limit') ? Number(params.get('limit')) : 10000;
        if (!Number.isInteger(limit) || limit < 1 || limit > 10000) {
            return bad(res, ctx, `Invalid 'limit': expected an integer between 1 and 10000, but got ${params.get('limit')} instead.`, 'limit', 'invalid_value');
        }
        if ((await scripted(req, res, ctx, 'files', 'files')).answered) return;
        let list = [...files.values()].map(fileObject).filter((f) => !purpose || f.purpose === purpose);
        if (order === 'desc') list.reverse();
        const after = params.get('after');
        if (after) { const i = list.findIndex((f) => f.id === after); list = i < 0 ? [] : list.slice(i + 1); }
        const page = list.slice(0, limit);
        return deps.send(res, ctx, 200, { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: list.length > limit });
    }

    async function retrieveFile(req, res, ctx, id) {
        const f = files.get(id);
        if (!f) return notFoundFile(res, ctx, id);
        if ((await scripted(req, res, ctx, 'files', 'files')).answered) return;
        return deps.send(res, ctx, 200, fileObject(f));
    }

    async function fileContent(req, res, ctx, id) {
        const f = files.get(id);
        if (!f) return notFoundFile(res, ctx, id);
        if (f.meta.purpose === 'assistants') return bad(res, ctx, 'Not allowed to download files of purpose: assistants.');
        if ((await scripted(req, res, ctx, 'files', 'files')).answered) return;
        return deps.sendBytes(res, ctx, 200, f.content, {}, 'application/octet-stream');
    }

    async function deleteFile(req, res, ctx, id) {
        if (!files.has(id)) return notFoundFile(res, ctx, id);
        if ((await scripted(req, res, ctx, 'files', 'files')).answered) return;
        files.delete(id);
        return deps.send(res, ctx, 200, { id, object: 'file', deleted: true });
    }

    // ---- Batches --------------------------------------------------------------------------

    const CREATE_PARAMS = new Set(['input_file_id', 'endpoint', 'completion_window', 'metadata', 'output_expires_after']);

    function checkMetadata(m) {
        if (m === undefined || m === null) return null;
        if (!isObject(m)) return [`Invalid type for 'metadata': expected an object, but got ${typeName(m)} instead.`, 'metadata', 'invalid_type'];
        const keys = Object.keys(m);
        if (keys.length > 16) return [`Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with ${keys.length} properties instead.`, 'metadata', 'object_above_max_properties'];
        for (const k of keys) {
            if (k.length > 64) return [`Invalid 'metadata': string too long. Expected a key with maximum length 64, but got a key with length ${k.length} instead.`, 'metadata', 'invalid_value'];
            if (typeof m[k] !== 'string') return [`Invalid type for 'metadata.${k}': expected a string, but got ${typeName(m[k])} instead.`, `metadata.${k}`, 'invalid_type'];
            if (m[k].length > 512) return [`Invalid 'metadata.${k}': string too long. Expected a string with maximum length 512, but got a string with length ${m[k].length} instead.`, `metadata.${k}`, 'string_above_max_length'];
        }
        return null;
    }

    async function createBatchRequest(req, res, ctx, body) {
        if (!isObject(body)) {
            return bad(res, ctx, `Invalid type for request body: expected an object, but got ${body === undefined ? 'nothing' : typeName(body)} instead.`, null, 'invalid_type');
        }
        for (const k of Object.keys(body)) if (!CREATE_PARAMS.has(k)) return bad(res, ctx, `Unrecognized request argument supplied: ${k}`);
        for (const k of ['input_file_id', 'endpoint', 'completion_window']) {
            if (body[k] === undefined || body[k] === null) return bad(res, ctx, `Missing required parameter: '${k}'.`, k, 'missing_required_parameter');
            if (typeof body[k] !== 'string') return bad(res, ctx, `Invalid type for '${k}': expected a string, but got ${typeName(body[k])} instead.`, k, 'invalid_type');
        }
        if (!BATCH_ENDPOINTS.includes(body.endpoint)) {
            const supported = [...BATCH_ENDPOINTS, ...REAL_ONLY_ENDPOINTS];
            const why = REAL_ONLY_ENDPOINTS.includes(body.endpoint) ? ' (openai_fake serves only /v1/chat/completions and /v1/embeddings)' : '';
            return bad(res, ctx, `Invalid value: '${body.endpoint}'. Supported values are: ${supported.map((u) => `'${u}'`).join(', ')}.${why}`, 'endpoint', 'invalid_value');
        }
        if (body.completion_window !== '24h') {
            return bad(res, ctx, `Invalid value: '${body.completion_window}'. Supported values are: '24h'.`, 'completion_window', 'invalid_value');
        }
        const metaErr = checkMetadata(body.metadata);
        if (metaErr) return bad(res, ctx, ...metaErr);
        const f = files.get(body.input_file_id);
        if (!f) return notFoundFile(res, ctx, body.input_file_id, 'input_file_id');
        if (f.meta.purpose !== 'batch') {
            return bad(res, ctx, `The input file ${f.meta.id} has purpose '${f.meta.purpose}'; a batch's input file must have purpose 'batch'.`, 'input_file_id');
        }
        const { answered, outcome } = await scripted(req, res, ctx, 'batches', 'batches');
        if (answered) return;
        const fate = outcome && (BATCH_FATES.has(outcome.behaviour) || outcome.batch_ms !== undefined) ? outcome : null;
        const b = createBatch(f, body, fate);
        return deps.send(res, ctx, 200, b.obj);
    }

    // Internal batch: {obj (the public Batch object), text (the input file's content when the
    // batch was created), fate, total (ms), lines, results (one per line run), next, target,
    // phaseStart, timer, dead}.
    function createBatch(file, body, fate) {
        const created = now();
        const obj = {
            id: `batch_${hex(16)}`, object: 'batch', endpoint: body.endpoint, model: null, errors: null,
            input_file_id: file.meta.id, completion_window: '24h', status: 'validating',
            output_file_id: null, error_file_id: null,
            created_at: created, in_progress_at: null, expires_at: created + WINDOW_S, finalizing_at: null,
            completed_at: null, failed_at: null, expired_at: null, cancelling_at: null, cancelled_at: null,
            request_counts: { total: 0, completed: 0, failed: 0 },
            usage: { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 },
            metadata: body.metadata ?? null,
        };
        const total = Math.max(0, Number(fate?.batch_ms ?? deps.config.batch_ms ?? 300));
        const b = { obj, text: file.content.toString('utf8'), fate, total, lines: null, results: [], next: 0, target: 0, phaseStart: 0, timer: null, dead: false, running: false };
        batches.set(obj.id, b);
        later(b, total * 0.2, () => validate(b));
        return b;
    }

    function later(b, ms, fn) {
        if (b.dead) return;
        clearTimeout(b.timer);
        b.timer = setTimeout(() => { b.timer = null; if (!b.dead) fn(); }, Math.max(0, ms));
    }

    function validate(b) {
        if (b.obj.status !== 'validating') return;
        const { lines, errors, model } = validateBatchLines(b.text, b.obj.endpoint);
        b.obj.model = model;
        let errs = errors;
        if (errs.length === 0 && b.fate?.behaviour === 'failed') {
            errs = Array.isArray(b.fate.errors) ? b.fate.errors.map((e) => ({ code: null, message: '', param: null, line: null, ...e })) : [{
                code: 'token_limit_exceeded',
                message: `Enqueued token limit reached for ${model ?? 'the model'} in organization org-openai-fake. Limit: 90,000 enqueued tokens. Please try again once some in_progress batches have been completed.`,
                param: null, line: null,
            }];
        }
        if (errs.length > 0) {
            b.obj.status = 'failed';
            b.obj.failed_at = now();
            b.obj.errors = { object: 'list', data: errs };
            b.text = null;
            return;
        }
        b.lines = lines;
        b.text = null;
        b.obj.status = 'in_progress';
        b.obj.in_progress_at = now();
        b.obj.request_counts.total = lines.length;
        const partial = b.fate && ['expired', 'cancelled'].includes(b.fate.behaviour);
        b.target = partial ? Math.min(lines.length, b.fate.completed ?? Math.floor(lines.length / 2)) : lines.length;
        b.phaseStart = Date.now();
        tick(b);
    }

    // Runs the lines due by now (a share of the in_progress time), CHUNK at a time.
    async function tick(b) {
        if (b.dead || b.running || b.obj.status !== 'in_progress') return;
        b.running = true;
        try {
            const span = b.total * 0.6;
            const frac = span <= 0 ? 1 : Math.min(1, (Date.now() - b.phaseStart) / span);
            const due = Math.min(b.target, Math.ceil(b.target * frac), b.next + CHUNK);
            while (b.next < due && !b.dead && b.obj.status === 'in_progress') await runLine(b, b.lines[b.next++]);
        } finally { b.running = false; }
        if (b.dead || b.obj.status !== 'in_progress') return;
        const elapsed = Date.now() - b.phaseStart;
        const span = b.total * 0.6;
        if (b.next >= b.target && elapsed >= span) {
            if (b.fate?.behaviour === 'expired') return finish(b, 'expired');
            if (b.fate?.behaviour === 'cancelled') { beginCancel(b); return; }
            b.obj.status = 'finalizing';
            b.obj.finalizing_at = now();
            return later(b, b.total * 0.2, () => finish(b, 'completed'));
        }
        const behind = b.next < Math.min(b.target, Math.ceil(b.target * Math.min(1, span <= 0 ? 1 : elapsed / span)));
        later(b, behind ? 0 : Math.max(5, Math.min(50, span / 20, span - elapsed)), () => tick(b));
    }

    async function runLine(b, line) {
        const r = await deps.executeLine(line.url, line.body);
        const out = { id: `batch_req_${hex(16)}`, custom_id: line.custom_id, response: null, error: null };
        if (r.hung) out.error = { ...EXPIRED_LINE };
        else if (r.reset || r.status === null) out.error = { ...RESET_LINE };
        else {
            let body;
            try { body = JSON.parse(r.text); } catch { body = r.text; }
            out.response = { status_code: r.status, request_id: r.requestId, body };
        }
        const ok = out.response !== null && out.response.status_code >= 200 && out.response.status_code < 300;
        if (ok) {
            b.obj.request_counts.completed += 1;
            const u = isObject(out.response.body) ? out.response.body.usage : null;
            if (isObject(u)) {
                const input = Number(u.prompt_tokens ?? 0);
                const output = Number(u.completion_tokens ?? 0);
                b.obj.usage.input_tokens += input;
                b.obj.usage.output_tokens += output;
                b.obj.usage.total_tokens += input + output;
            }
        } else b.obj.request_counts.failed += 1;
        b.results.push({ ok, out });
    }

    function beginCancel(b) {
        b.obj.status = 'cancelling';
        b.obj.cancelling_at = now();
        later(b, Math.max(10, b.total * 0.2), () => finish(b, 'cancelled'));
    }

    // Writes the output and error files and ends the batch in STATUS (completed, expired, cancelled).
    function finish(b, status) {
        if (b.dead) return;
        const order = (a, c) => (fnv(a.out.custom_id) - fnv(c.out.custom_id)) || (a.i - c.i);
        const results = b.results.map((r, i) => ({ ...r, i }));
        // Lines never run: in the error file when the batch ran at all (expired or cancelled).
        if (b.lines) {
            for (let k = b.next; k < b.lines.length; k++) {
                results.push({ ok: false, i: k, out: { id: `batch_req_${hex(16)}`, custom_id: b.lines[k].custom_id, response: null, error: { ...(status === 'expired' ? EXPIRED_LINE : CANCELLED_LINE) } } });
            }
        }
        const jsonl = (list) => Buffer.from(list.sort(order).map((r) => `${JSON.stringify(r.out)}\n`).join(''), 'utf8');
        const good = results.filter((r) => r.ok);
        const badOnes = results.filter((r) => !r.ok);
        if (good.length > 0) b.obj.output_file_id = storeFile(`${b.obj.id}_output.jsonl`, 'batch_output', jsonl(good)).id;
        if (badOnes.length > 0) b.obj.error_file_id = storeFile(`${b.obj.id}_error.jsonl`, 'batch_output', jsonl(badOnes)).id;
        b.obj.status = status;
        b.obj[{ completed: 'completed_at', expired: 'expired_at', cancelled: 'cancelled_at' }[status]] = now();
        b.lines = null;
        b.results = [];
    }

    async function retrieveBatch(req, res, ctx, id) {
        const b = batches.get(id);
        if (!b) return notFoundBatch(res, ctx, id);
        if ((await scripted(req, res, ctx, 'batch_polls', 'batches')).answered) return;
        return deps.send(res, ctx, 200, b.obj);
    }

    async function cancelBatch(req, res, ctx, id) {
        const b = batches.get(id);
        if (!b) return notFoundBatch(res, ctx, id);
        const st = b.obj.status;
        if (['completed', 'failed', 'expired'].includes(st)) {
            return deps.apiError(res, ctx, 409, `Cannot cancel a batch with status '${st}'.`, 'invalid_request_error', null, null);
        }
        if ((await scripted(req, res, ctx, 'batch_polls', 'batches')).answered) return;
        if (['validating', 'in_progress', 'finalizing'].includes(b.obj.status)) {
            if (b.obj.status === 'validating') b.text = null;
            beginCancel(b);
        }
        return deps.send(res, ctx, 200, b.obj);
    }

    async function listBatches(req, res, ctx, params) {
        const limit = params.has('limit') ? Number(params.get('limit')) : 20;
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
            return bad(res, ctx, `Invalid 'limit': expected an integer between 1 and 100, but got ${params.get('limit')} instead.`, 'limit', 'invalid_value');
        }
        if ((await scripted(req, res, ctx, 'batch_polls', 'batches')).answered) return;
        let list = [...batches.values()].map((b) => b.obj).reverse();   // newest first
        const after = params.get('after');
        if (after) { const i = list.findIndex((o) => o.id === after); list = i < 0 ? [] : list.slice(i + 1); }
        const page = list.slice(0, limit);
        return deps.send(res, ctx, 200, { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: list.length > limit });
    }

    // ---- Routing --------------------------------------------------------------------------

    // The route of METHOD PATH, or null when it is not a Files/Batch API path ({name: 'invalid'}
    // for a method that path does not have).
    function match(method, path) {
        const decodeURIComponent = (x) => { try { return globalThis.decodeURIComponent(x); } catch { return x; } };
        let m;
        if (path === '/v1/files') return method === 'POST' ? { name: 'upload' } : method === 'GET' ? { name: 'listFiles' } : { name: 'invalid' };
        if ((m = /^\/v1\/files\/([^/]+)\/content$/.exec(path))) return method === 'GET' ? { name: 'fileContent', id: decodeURIComponent(m[1]) } : { name: 'invalid' };
        if ((m = /^\/v1\/files\/([^/]+)$/.exec(path))) {
            const id = decodeURIComponent(m[1]);
            return method === 'GET' ? { name: 'retrieveFile', id } : method === 'DELETE' ? { name: 'deleteFile', id } : { name: 'invalid' };
        }
        if (path === '/v1/batches') return method === 'POST' ? { name: 'createBatch' } : method === 'GET' ? { name: 'listBatches' } : { name: 'invalid' };
        if ((m = /^\/v1\/batches\/([^/]+)\/cancel$/.exec(path))) return method === 'POST' ? { name: 'cancelBatch', id: decodeURIComponent(m[1]) } : { name: 'invalid' };
        if ((m = /^\/v1\/batches\/([^/]+)$/.exec(path))) return method === 'GET' ? { name: 'retrieveBatch', id: decodeURIComponent(m[1]) } : { name: 'invalid' };
        return null;
    }

    // Serves ROUTE (from match) once the key has been checked. json: {value, error} of the body.
    function serve(route, req, res, ctx, params, bodyBuf, json) {
        const parseFailed = () => bad(res, ctx,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)");
        switch (route.name) {
            case 'upload': return upload(req, res, ctx, bodyBuf);
            case 'listFiles': return listFiles(req, res, ctx, params);
            case 'retrieveFile': return retrieveFile(req, res, ctx, route.id);
            case 'fileContent': return fileContent(req, res, ctx, route.id);
            case 'deleteFile': return deleteFile(req, res, ctx, route.id);
            case 'createBatch': return json.error ? parseFailed() : createBatchRequest(req, res, ctx, json.value);
            case 'listBatches': return listBatches(req, res, ctx, params);
            case 'retrieveBatch': return retrieveBatch(req, res, ctx, route.id);
            case 'cancelBatch': return cancelBatch(req, res, ctx, route.id);
            default: return null;
        }
    }

    function reset() {
        for (const b of batches.values()) { b.dead = true; clearTimeout(b.timer); }
        files = new Map();
        batches = new Map();
    }

    return { match, serve, reset };
}

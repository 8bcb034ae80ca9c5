#!/usr/bin/env node
// A stand-in for the OpenAI Chat Completions API (structured outputs), the Embeddings API and
// the Files and Batch APIs (batch.mjs), for tests only.
// See README.md beside this file. Node 20, node: modules only.
//
//   node test/openai_fake/server.mjs --port PORT [--key KEY] [--models a,b] [--parent-pid PID] [--batch-ms MS]
//
// Listening (127.0.0.1 only), stopping, the common options and the control API's plumbing are
// ../lib/fake_server.mjs, shared by the stand-ins; this file is what is particular to its API.

import crypto from 'node:crypto';
import {
    makeUsage, parseOptions, makeLog, readBody, json, controlBody, commonControl, scriptFromBody,
    withLatency, waitLatency, hangOrReset, rawAnswer, serve,
} from '../lib/fake_server.mjs';
import { strictSchemaError, generate, validate } from './schema.mjs';
import { createBatchApi, BATCH_FATES } from './batch.mjs';

// ---- Options --------------------------------------------------------------------------------

const usage = makeUsage('openai_fake', 'usage: node server.mjs --port PORT [--key KEY] [--models m1,m2] [--parent-pid PID] [--stdin] [--rpm N] [--tpm N] [--latency MS] [--batch-ms MS]\n');
const opts = parseOptions(process.argv.slice(2), {
    key: process.env.OPENAI_FAKE_KEY ?? null, models: null, rpm: 500, tpm: 200000, latency: 0, batchMs: 300,
}, (a, val, o) => {
    switch (a) {
        case '--key': o.key = val(); break;
        case '--models': o.models = val().split(',').map((m) => m.trim()).filter(Boolean); break;
        case '--rpm': o.rpm = Number(val()); break;
        case '--tpm': o.tpm = Number(val()); break;
        case '--latency': o.latency = Number(val()); break;
        case '--batch-ms': o.batchMs = Number(val()); break;
        default: return false;
    }
    return true;
}, usage);
if (!(Number.isFinite(opts.batchMs) && opts.batchMs >= 0)) usage('bad --batch-ms');
const initial = { key: opts.key, models: opts.models, rpm: opts.rpm, tpm: opts.tpm, latency_ms: opts.latency, batch_ms: opts.batchMs };
const config = { ...initial };
const log = makeLog('openai_fake', opts);

// ---- State ----------------------------------------------------------------------------------

let script = [];              // scripted outcomes, consumed one per request that passes validation
// Outcomes for one endpoint only: chat and embeddings take them before `script`; files, batches
// (batch creation) and batch_polls (retrieve, list, cancel) take only theirs.
const SCRIPT_ENDPOINTS = ['chat', 'embeddings', 'files', 'batches', 'batch_polls'];
const emptyEndpointScripts = () => Object.fromEntries(SCRIPT_ENDPOINTS.map((e) => [e, []]));
let endpointScripts = emptyEndpointScripts();
let requests = [];            // every request to /v1/*, in order
let markerUses = new Map();   // "marker|text hash" -> times used (for BEHAVIOUR*N markers)
let window = { start: Date.now(), requests: 0, tokens: 0 };
let seq = 0;

// ---- Helpers --------------------------------------------------------------------------------

const requestId = () => `req_${crypto.randomBytes(16).toString('hex')}`;
const completionId = () => `chatcmpl-${crypto.randomBytes(15).toString('base64url')}`;
const tokens = (s) => Math.ceil(String(s ?? '').length / 4);

// Go-style durations as the real API sends in x-ratelimit-reset-*: 120ms, 1s, 17.5s, 6m0s.
function goDuration(ms) {
    ms = Math.max(0, Math.round(ms));
    if (ms < 1000) return `${ms}ms`;
    const fmt = (x) => String(Number(x.toFixed(3)));
    if (ms < 60000) return `${fmt(ms / 1000)}s`;
    const h = Math.floor(ms / 3600000);
    const m = Math.floor((ms % 3600000) / 60000);
    const s = (ms % 60000) / 1000;
    return `${h > 0 ? `${h}h` : ''}${m}m${fmt(s)}s`;
}

function rollWindow() {
    if (Date.now() - window.start >= 60000) window = { start: Date.now(), requests: 0, tokens: 0 };
}
function rateLimitHeaders(exhausted = false) {
    rollWindow();
    const left = Math.max(0, 60000 - (Date.now() - window.start));
    const remainingReq = exhausted ? 0 : Math.max(0, config.rpm - window.requests);
    const remainingTok = exhausted ? 0 : Math.max(0, config.tpm - window.tokens);
    return {
        'x-ratelimit-limit-requests': String(config.rpm),
        'x-ratelimit-limit-tokens': String(config.tpm),
        'x-ratelimit-remaining-requests': String(remainingReq),
        'x-ratelimit-remaining-tokens': String(remainingTok),
        // Time until the used part has been replenished at the steady rate.
        'x-ratelimit-reset-requests': goDuration(exhausted ? left : Math.min(left, (config.rpm - remainingReq) * 60000 / config.rpm)),
        'x-ratelimit-reset-tokens': goDuration(exhausted ? left : Math.min(left, (config.tpm - remainingTok) * 60000 / config.tpm)),
    };
}

function baseHeaders(ctx) {
    return {
        'x-request-id': ctx.requestId,
        'openai-version': '2020-10-01',
        'openai-organization': 'org-openai-fake',
        'openai-processing-ms': String(Math.max(1, Date.now() - ctx.started)),
    };
}

function send(res, ctx, status, body, headers = {}, contentType = 'application/json') {
    if (res.destroyed || res.writableEnded) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
    const all = { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...baseHeaders(ctx), ...headers };
    for (const [k, v] of Object.entries(all)) if (v === null || v === undefined) delete all[k];
    res.writeHead(status, all);
    res.end(text);
    if (ctx.record) { ctx.record.status = status; ctx.record.response_ms = Date.now() - ctx.started; }
}

function apiError(res, ctx, status, message, type, param = null, code = null, headers = {}) {
    if (ctx.record) ctx.record.error = { type, code };
    send(res, ctx, status, { error: { message, type, param, code } }, headers);
}

// ---- Résumé text and facts ------------------------------------------------------------------

const MARKER = /\[\[openai-fake:([^\]]+)\]\]/g;

function messageText(m) {
    if (typeof m?.content === 'string') return m.content;
    if (Array.isArray(m?.content)) return m.content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('\n');
    return '';
}

// The résumé: the user messages' text; when they wrap it (<resume>…</resume>, <document>…,
// a ``` fence, or a line "Résumé:"/"Resume:"/"CV:"), only the wrapped part.
function resumeText(messages) {
    const user = messages.filter((m) => m?.role === 'user').map(messageText).join('\n');
    let m = /<(resume|résumé|cv|document)>([\s\S]*?)<\/\1>/i.exec(user);
    if (m) return m[2];
    m = /```[^\n]*\n([\s\S]*?)```/.exec(user);
    if (m) return m[1];
    m = /^\s*(?:résumé|resume|cv)(?: text)?\s*:\s*$/im.exec(user);
    if (m) return user.slice(m.index + m[0].length);
    return user;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const URL_RE = /\b(?:https?:\/\/[^\s<>"'()\[\]]+|www\.[^\s<>"'()\[\]]+|(?:linkedin\.com|github\.com|gitlab\.com|twitter\.com|x\.com|stackoverflow\.com)\/[^\s<>"'()\[\]]+)/gi;
const PHONE = /\+?\(?\d[\d\s().\-]{5,}\d/g;

function phones(text) {
    const out = [];
    for (const m of text.matchAll(PHONE)) {
        const run = m[0].trim();
        const digits = run.replace(/\D/g, '');
        if (digits.length < 7 || digits.length > 15) continue;
        if (/^(19|20)\d\d\s*[-–.]?\s*((19|20)\d\d)?$/.test(run)) continue;               // years
        if (/^(19|20)\d\d\s*[-–]\s*(19|20)\d\d$/.test(run)) continue;                   // year ranges
        if (/^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/.test(run)) continue;                     // dates
        // the text before must not be part of an e-mail or a URL
        const before = text.slice(Math.max(0, m.index - 1), m.index);
        if (/[A-Za-z@/=]/.test(before)) continue;
        out.push(run);
    }
    return out;
}

function extractFacts(raw) {
    const text = raw.replace(MARKER, '').replace(/\r\n?/g, '\n');
    const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
    const emails = [...new Set(text.match(EMAIL) ?? [])];
    const urls = [...new Set((text.match(URL_RE) ?? []).map((u) => u.replace(/[.,;:]+$/, '')))]
        .filter((u) => !emails.some((e) => e.endsWith(u)));
    const phoneList = [...new Set(phones(text.replace(EMAIL, ' ').replace(URL_RE, ' ')))];
    let name = null;
    let nameIdx = -1;
    for (let i = 0; i < lines.length; i++) {
        const first = lines[i].split(/\s+[|•·]\s+|\s+[-–—]\s+|\t/)[0].trim();
        if (first && /\p{L}/u.test(first)) { name = first.slice(0, 120); nameIdx = i; break; }
    }
    let label = null;
    for (const l of lines.slice(nameIdx + 1, nameIdx + 6)) {
        if (l.length > 80 || /@|https?:|www\./.test(l) || (l.match(/\d/g) ?? []).length >= 3 || !/\p{L}/u.test(l)) continue;
        if (/^(summary|profile|about|skills|experience|education|contact)\b/i.test(l)) continue;
        label = l.split(/\s+[|•·]\s+/)[0];
        break;
    }
    const heading = (re) => {
        const i = lines.findIndex((l) => re.test(l));
        if (i < 0) return null;
        const inline = lines[i].replace(re, '').replace(/^[\s:–—-]+/, '').trim();
        if (inline) return inline;
        const body = [];
        for (const l of lines.slice(i + 1)) {
            if (/^[A-ZÀ-Þ][A-ZÀ-Þ &/]{2,}:?$/.test(l) || /^(experience|education|skills|projects|languages|work)\b:?$/i.test(l)) break;
            body.push(l);
            if (body.length >= 3) break;
        }
        return body.length ? body.join(' ') : null;
    };
    let summary = heading(/^(summary|profile|about me|about|objective)\b:?/i);
    if (summary) summary = summary.slice(0, 400);
    const skillsLine = heading(/^(skills|technical skills|technologies|tech stack|core skills)\b:?/i);
    const skills = skillsLine
        ? [...new Set(skillsLine.split(/\s*[,;|•·/]\s*|\s{2,}/).map((s) => s.trim()).filter((s) => s && s.length <= 40))].slice(0, 20)
        : [];
    let city = null;
    let region = null;
    const loc = /\b([A-Z][\p{L}.'-]+(?: [A-Z][\p{L}.'-]+)*),\s*([A-Z]{2}\b|[A-Z][\p{L}]+(?: [A-Z][\p{L}]+)*)/u.exec(
        lines.slice(0, 8).filter((l) => !/@|https?:/.test(l)).join('\n'));
    if (loc) { city = loc[1]; region = loc[2]; }
    const ym = /(\d{1,2})\+?\s*(?:years|yrs)\b/i.exec(text);
    return {
        text, name, email: emails[0] ?? null, emails, phone: phoneList[0] ?? null, phones: phoneList, urls,
        label, summary, skills, city, region, years: ym ? Number(ym[1]) : null,
    };
}

// ---- Outcomes -------------------------------------------------------------------------------

const BEHAVIOURS = new Set(['ok', '429', 'insufficient_quota', '500', '502', '503', '400', '401', '403', '404', 'hang',
    'reset', 'malformed', 'truncated', 'refusal', 'content_filter', 'invalid_json_content', 'schema_violation', 'latency']);
const ALIASES = { quota: 'insufficient_quota', '429_quota': 'insufficient_quota', 'rate_limit': '429', disconnect: 'reset' };

// "429", "429:250" (retry-after-ms), "latency:200", or an object
// {behaviour, latency_ms, retry_after_ms, retry_after, headers, status, body}.
// With FATES (the "batches" queue), also the whole-batch outcomes "failed", "expired[:N]",
// "cancelled[:N]" (N lines done first) and "slow:MS" (the batch takes MS), and batch_ms, completed
// and errors in an object.
function normalizeOutcome(o, fates = false) {
    if (typeof o === 'number') o = String(o);
    if (typeof o === 'string') {
        const [b, arg] = o.split(/:(.*)/s);
        const out = { behaviour: ALIASES[b] ?? b };
        if (out.behaviour === 'latency') { out.behaviour = 'ok'; out.latency_ms = Number(arg); }
        else if (arg !== undefined && arg !== '') {
            if (out.behaviour === '429') out.retry_after_ms = Number(arg);
            else if (out.behaviour === 'hang') out.latency_ms = Number(arg);
            else if (out.behaviour === 'slow') out.batch_ms = Number(arg);
            else if (out.behaviour === 'expired' || out.behaviour === 'cancelled') out.completed = Number(arg);
        }
        o = out;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('an outcome is a string or an object');
    const out = { ...o };
    out.behaviour = ALIASES[o.behaviour ?? o.behavior] ?? o.behaviour ?? o.behavior ?? (o.status !== undefined ? 'raw' : 'ok');
    delete out.behavior;
    if (BATCH_FATES.has(out.behaviour)) {
        if (!fates) throw new Error(`behaviour ${out.behaviour} is a whole-batch outcome: script it with ?endpoint=batches`);
        if (out.behaviour === 'slow' && out.batch_ms === undefined) throw new Error('slow needs a time: "slow:MS"');
        if (out.completed !== undefined && !(Number.isInteger(out.completed) && out.completed >= 0)) throw new Error('completed must be an integer >= 0');
        if (out.errors !== undefined && !(Array.isArray(out.errors) && out.errors.length > 0 && out.errors.every((e) => e && typeof e === 'object'))) {
            throw new Error('errors must be a non-empty list of {code, message, param, line}');
        }
    } else if (out.behaviour !== 'raw' && !BEHAVIOURS.has(out.behaviour)) throw new Error(`unknown behaviour ${JSON.stringify(out.behaviour)}`);
    if (out.behaviour === 'latency') out.behaviour = 'ok';
    for (const k of ['latency_ms', 'retry_after_ms', 'batch_ms']) {
        if (out[k] !== undefined && !(Number.isFinite(out[k]) && out[k] >= 0)) throw new Error(`${k} must be a number >= 0`);
    }
    return out;
}

// Markers in the user text: [[openai-fake:BEHAVIOUR[:ARG][*N]]], e.g. [[openai-fake:latency:200]],
// [[openai-fake:503*2]] (the first two requests with this text get 503, later ones succeed).
function markerOutcome(messages) {
    return markerOutcomeIn(messages.filter((m) => m?.role === 'user').map(messageText).join('\n'));
}
function markerOutcomeIn(all) {
    const found = [...all.matchAll(MARKER)].map((m) => m[1].trim());
    if (found.length === 0) return null;
    const textHash = crypto.createHash('sha1').update(all).digest('hex');
    let outcome = { behaviour: 'ok' };
    let latency;
    for (const marker of found) {
        const m = /^(.*?)(?:\*(\d+))?$/.exec(marker);
        const times = m[2] === undefined ? Infinity : Number(m[2]);
        const key = `${marker}|${textHash}`;
        const used = markerUses.get(key) ?? 0;
        if (used >= times) continue;
        markerUses.set(key, used + 1);
        let o;
        try { o = normalizeOutcome(m[1]); } catch { continue; }
        if (o.latency_ms !== undefined && o.behaviour === 'ok') latency = o.latency_ms;
        else outcome = o;
    }
    if (latency !== undefined && outcome.latency_ms === undefined) outcome = { ...outcome, latency_ms: latency };
    return outcome;
}

// ---- Request validation (what the real API checks) -------------------------------------------

// A schema is checked once, as the real API compiles it once: clients send the same one with
// every request, and checking it each time would make the stand-in, not the client, the
// bottleneck of a benchmark. Keyed by the schema's exact text; at most 100 kept.
const strictChecks = new Map();
function cachedStrictSchemaError(schema) {
    const key = JSON.stringify(schema);
    if (strictChecks.has(key)) return strictChecks.get(key);
    const err = strictSchemaError(schema);
    if (strictChecks.size >= 100) strictChecks.clear();
    strictChecks.set(key, err);
    return err;
}

const KNOWN_PARAMS = new Set(['model', 'messages', 'audio', 'frequency_penalty', 'function_call', 'functions', 'logit_bias',
    'logprobs', 'max_completion_tokens', 'max_tokens', 'metadata', 'modalities', 'n', 'parallel_tool_calls', 'prediction',
    'presence_penalty', 'prompt_cache_key', 'prompt_cache_retention', 'reasoning_effort', 'response_format', 'safety_identifier',
    'seed', 'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools', 'top_logprobs',
    'top_p', 'user', 'verbosity', 'web_search_options']);
const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

// Returns null or [status, message, type, param, code].
function checkRequest(body) {
    const bad = (message, param = null, code = null) => [400, message, 'invalid_request_error', param, code];
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return bad(`Invalid type for request body: expected an object, but got ${Array.isArray(body) ? 'an array' : typeof body} instead.`, null, 'invalid_type');
    }
    for (const k of Object.keys(body)) if (!KNOWN_PARAMS.has(k)) return bad(`Unrecognized request argument supplied: ${k}`);
    if (typeof body.model !== 'string' || body.model === '') return bad('you must provide a model parameter');
    if (body.messages === undefined) return bad("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
    if (!Array.isArray(body.messages)) {
        return bad(`Invalid type for 'messages': expected an array of objects, but got ${typeof body.messages} instead.`, 'messages', 'invalid_type');
    }
    if (body.messages.length === 0) {
        return bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
    }
    for (let i = 0; i < body.messages.length; i++) {
        const m = body.messages[i];
        const p = `messages[${i}]`;
        if (m === null || typeof m !== 'object' || Array.isArray(m)) return bad(`Invalid type for '${p}': expected an object, but got ${typeof m} instead.`, p, 'invalid_type');
        if (m.role === undefined) return bad(`Missing required parameter: '${p}.role'.`, `${p}.role`, 'missing_required_parameter');
        if (!ROLES.includes(m.role)) {
            return bad(`Invalid value: '${m.role}'. Supported values are: ${ROLES.slice(0, -1).map((r) => `'${r}'`).join(', ')}, and 'developer'.`, `${p}.role`, 'invalid_value');
        }
        if (['system', 'user', 'developer', 'tool'].includes(m.role) && m.content === undefined) {
            return bad(`Missing required parameter: '${p}.content'.`, `${p}.content`, 'missing_required_parameter');
        }
        if (m.content !== undefined && m.content !== null && typeof m.content !== 'string' && !Array.isArray(m.content)) {
            return bad(`Invalid type for '${p}.content': expected one of a string or array of objects, but got ${typeof m.content} instead.`, `${p}.content`, 'invalid_type');
        }
    }
    for (const k of ['max_completion_tokens', 'max_tokens', 'n']) {
        if (body[k] !== undefined && body[k] !== null && !(Number.isInteger(body[k]) && body[k] >= 1)) {
            return bad(`Invalid '${k}': expected an integer of at least 1, but got ${JSON.stringify(body[k])} instead.`, k, 'invalid_value');
        }
    }
    if (body.max_tokens != null && body.max_completion_tokens != null) {
        return bad("max_tokens and max_completion_tokens cannot both be set.", 'max_tokens', 'invalid_request_error');
    }
    if (body.stream === true) return bad('This stand-in does not implement streaming (stream: true).', 'stream', 'unsupported_value');
    const rf = body.response_format;
    if (rf !== undefined && rf !== null) {
        if (typeof rf !== 'object' || Array.isArray(rf)) return bad(`Invalid type for 'response_format': expected an object, but got ${typeof rf} instead.`, 'response_format', 'invalid_type');
        if (rf.type === undefined) return bad("Missing required parameter: 'response_format.type'.", 'response_format.type', 'missing_required_parameter');
        if (!['text', 'json_object', 'json_schema'].includes(rf.type)) {
            return bad(`Invalid value: '${rf.type}'. Supported values are: 'text', 'json_object', and 'json_schema'.`, 'response_format.type', 'invalid_value');
        }
        if (rf.type === 'json_object') {
            const all = body.messages.map(messageText).join('\n');
            if (!/json/i.test(all)) {
                return bad("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages', null);
            }
        }
        if (rf.type === 'json_schema') {
            const js = rf.json_schema;
            if (js === undefined) return bad("Missing required parameter: 'response_format.json_schema'.", 'response_format.json_schema', 'missing_required_parameter');
            if (js === null || typeof js !== 'object' || Array.isArray(js)) {
                return bad(`Invalid type for 'response_format.json_schema': expected an object, but got ${typeof js} instead.`, 'response_format.json_schema', 'invalid_type');
            }
            if (js.name === undefined) return bad("Missing required parameter: 'response_format.json_schema.name'.", 'response_format.json_schema.name', 'missing_required_parameter');
            if (typeof js.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(js.name)) {
                return bad("Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", 'response_format.json_schema.name', 'invalid_value');
            }
            if (js.name.length > 64) {
                return bad(`Invalid 'response_format.json_schema.name': string too long. Expected a string with maximum length 64, but got a string with length ${js.name.length} instead.`, 'response_format.json_schema.name', 'string_above_max_length');
            }
            if (js.strict !== undefined && js.strict !== null && typeof js.strict !== 'boolean') {
                return bad(`Invalid type for 'response_format.json_schema.strict': expected a boolean, but got ${typeof js.strict} instead.`, 'response_format.json_schema.strict', 'invalid_type');
            }
            if (js.schema !== undefined && (js.schema === null || typeof js.schema !== 'object' || Array.isArray(js.schema))) {
                return bad(`Invalid type for 'response_format.json_schema.schema': expected an object, but got ${typeof js.schema} instead.`, 'response_format.json_schema.schema', 'invalid_type');
            }
            if (js.strict === true) {
                const err = cachedStrictSchemaError(js.schema ?? {});
                if (err) return bad(`Invalid schema for response_format '${js.name}': ${err}`, 'response_format', null);
            }
        }
    }
    return null;
}

// ---- Answers --------------------------------------------------------------------------------

function answerContent(body, facts) {
    const rf = body.response_format;
    if (rf?.type === 'json_schema') {
        const schema = rf.json_schema.schema ?? { type: 'object', properties: {}, required: [], additionalProperties: false };
        const value = generate(schema, facts);
        return { value, schema, content: JSON.stringify(value) };
    }
    const plain = { name: facts.name, email: facts.email, phone: facts.phone, label: facts.label, urls: facts.urls,
        skills: facts.skills, summary: facts.summary };
    if (rf?.type === 'json_object') return { value: plain, schema: null, content: JSON.stringify(plain) };
    const lines = Object.entries(plain).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    return { value: null, schema: null, content: lines.join('\n') || 'No résumé text found.' };
}

// Breaks a valid answer so that it is JSON but not valid against the schema.
function violate(value, schema) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const out = { ...value };
        const keys = Object.keys(out);
        if (keys.length > 0) delete out[keys[0]];
        out.unexpected_field_from_openai_fake = true;
        return out;
    }
    return { unexpected_field_from_openai_fake: true, schema_type: schema?.type ?? null };
}

function completionBody(body, content, finishReason, refusal, promptTokens, completionTokens) {
    const n = body.n ?? 1;
    return {
        id: completionId(),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: Array.from({ length: n }, (_, index) => ({
            index,
            message: { role: 'assistant', content, refusal, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
        })),
        usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens * n,
            total_tokens: promptTokens + completionTokens * n,
            prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
            completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
        service_tier: 'default',
        system_fingerprint: 'fp_openai_fake',
    };
}

// The answers that are not a completion (errors, hang, reset, raw, malformed), for both endpoints.
// Returns true when the outcome was one of them.
const FAILURES = new Set(['raw', '429', 'insufficient_quota', '500', '502', '503', '400', '401', '403', '404', 'hang', 'reset', 'malformed']);
function respondFailure(req, res, ctx, model, promptTokens, outcome, kind) {
    if (!FAILURES.has(outcome.behaviour)) return false;
    const extra = outcome.headers ?? {};
    const rl = () => rateLimitHeaders();
    failureAnswer(req, res, ctx, model, promptTokens, outcome, kind, extra, rl);
    return true;
}
function failureAnswer(req, res, ctx, model, promptTokens, outcome, kind, extra, rl) {
    const api = kind === 'files' || kind === 'batches';   // the Files and Batch APIs (no model)
    switch (outcome.behaviour) {
        case 'raw': return rawAnswer(send, res, ctx, outcome);
        case '429': {
            const ms = outcome.retry_after_ms ?? 100;
            const retryAfter = outcome.retry_after ?? String(Math.max(1, Math.ceil(ms / 1000)));
            return apiError(res, ctx, 429,
                `Rate limit reached for ${api ? `/v1/${kind}` : model} in organization org-openai-fake on requests per min (RPM): Limit ${config.rpm}, Used ${config.rpm}, Requested 1. Please try again in ${ms}ms. Visit https://platform.openai.com/account/rate-limits to learn more.`,
                'requests', null, 'rate_limit_exceeded',
                { ...rateLimitHeaders(true), 'retry-after-ms': String(ms), 'retry-after': retryAfter, ...extra });
        }
        case 'insufficient_quota':
            return apiError(res, ctx, 429,
                'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
                'insufficient_quota', null, 'insufficient_quota', extra);
        case '500':
            return apiError(res, ctx, 500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null, null, extra);
        case '502':
            return send(res, ctx, 502, '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n',
                { 'x-request-id': null, 'openai-version': null, 'openai-organization': null, 'openai-processing-ms': null, ...extra }, 'text/html');
        case '503':
            return apiError(res, ctx, 503, 'The engine is currently overloaded, please try again later.', 'server_error', null, null, extra);
        case '400':
            if (api) {
                return apiError(res, ctx, 400, `The request to /v1/${kind} could not be processed (a scripted 400).`, 'invalid_request_error', null, null, extra);
            }
            if (kind === 'embeddings') {
                return apiError(res, ctx, 400,
                    `This model's maximum context length is ${EMBEDDING_MAX_TOKENS} tokens, however you requested ${EMBEDDING_MAX_TOKENS + promptTokens} tokens (${EMBEDDING_MAX_TOKENS + promptTokens} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
                    'invalid_request_error', null, 'context_length_exceeded', extra);
            }
            return apiError(res, ctx, 400,
                `This model's maximum context length is 128000 tokens. However, your messages resulted in ${128000 + promptTokens} tokens. Please reduce the length of the messages.`,
                'invalid_request_error', 'messages', 'context_length_exceeded', extra);
        case '401':
            return apiError(res, ctx, 401, 'Incorrect API key provided: sk-****fake. You can find your API key at https://platform.openai.com/account/api-keys.',
                'invalid_request_error', null, 'invalid_api_key', extra);
        case '403':
            return apiError(res, ctx, 403, 'Country, region, or territory not supported', 'request_forbidden', null, 'unsupported_country_region_territory', extra);
        case '404':
            if (kind === 'files') return apiError(res, ctx, 404, `No such File object: ${ctx.resourceId ?? 'file-unknown'}`, 'invalid_request_error', 'id', null, extra);
            if (kind === 'batches') return apiError(res, ctx, 404, `No batch found with id '${ctx.resourceId ?? 'batch_unknown'}'.`, 'invalid_request_error', null, 'batch_not_found', extra);
            return apiError(res, ctx, 404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found', extra);
        case 'hang': case 'reset': hangOrReset(req, ctx, outcome); return;
        case 'malformed': {
            const text = kind === 'embeddings'
                ? `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0123,-0.04`
                : kind === 'files' ? `{"object":"file","id":"file-${crypto.randomBytes(8).toString('hex')}","purpose":"ba`
                : kind === 'batches' ? `{"id":"batch_${crypto.randomBytes(16).toString('hex')}","object":"batch","endpoint":"/v1/chat/comp`
                : `{"id":"${completionId()}","object":"chat.completion","created":${Math.floor(Date.now() / 1000)},"model":"${model}","choices":[{"index":0,"message":{"role":"assistant","content":"{\\"na`;
            return send(res, ctx, 200, text, { ...(api ? {} : rl()), ...extra });
        }
        default: break;
    }
}

async function respond(req, res, ctx, body, outcome) {
    const model = body.model;
    const promptTokens = body.messages.reduce((acc, m) => acc + 4 + tokens(messageText(m)), 3);
    if (ctx.record) ctx.record.outcome = outcome.behaviour;
    if (await waitLatency(ctx, outcome)) return;
    const extra = outcome.headers ?? {};
    const rl = () => rateLimitHeaders();
    if (respondFailure(req, res, ctx, model, promptTokens, outcome, 'chat')) return;
    // Successful-looking answers.
    const facts = extractFacts(resumeText(body.messages));
    const { value, schema, content } = answerContent(body, facts);
    let finish = 'stop';
    let out = content;
    let refusal = null;
    const limit = body.max_completion_tokens ?? body.max_tokens;
    switch (outcome.behaviour) {
        case 'truncated':
            finish = 'length';
            out = content.slice(0, Math.max(1, Math.floor(content.length / 2)));
            break;
        case 'content_filter':
            finish = 'content_filter';
            out = content.slice(0, Math.max(1, Math.floor(content.length / 3)));
            break;
        case 'refusal':
            out = null;
            refusal = "I'm sorry, but I can't assist with that request.";
            break;
        case 'invalid_json_content':
            out = `Sure! Here is the extracted profile:\n\nName: ${facts.name ?? 'unknown'}\nEmail: ${facts.email ?? 'unknown'}`;
            break;
        case 'schema_violation':
            out = JSON.stringify(violate(value, schema));
            break;
        default:
            if (schema) {
                const errors = validate(value, schema);
                if (errors.length) log(`warning: generated content does not validate: ${errors.join('; ')}`);
            }
            if (limit != null && tokens(content) > limit) {
                finish = 'length';
                out = content.slice(0, limit * 4);
            }
    }
    const completionTokens = Math.max(1, tokens(out ?? refusal));
    if (!ctx.batch) window.tokens += promptTokens + completionTokens;   // batch lines use a separate pool
    return send(res, ctx, 200, completionBody(body, out, finish, refusal, promptTokens, completionTokens), { ...rl(), ...extra });
}

// ---- Embeddings -----------------------------------------------------------------------------

// Behaviours about a completion's content: an embeddings request that meets one gets the normal
// answer (they cannot be scripted with ?endpoint=embeddings).
const CHAT_ONLY = new Set(['truncated', 'refusal', 'content_filter', 'invalid_json_content', 'schema_violation']);
const EMBEDDING_KNOWN_PARAMS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);
const EMBEDDING_MAX_DIMENSIONS = { 'text-embedding-3-small': 1536, 'text-embedding-3-large': 3072 };
const EMBEDDING_DEFAULT_DIMENSIONS = 256;
const EMBEDDING_MAX_INPUTS = 2048;
const EMBEDDING_MAX_TOKENS = 8192;            // per input
const EMBEDDING_MAX_REQUEST_TOKENS = 300000;  // all inputs of one request
const HASHES_PER_TOKEN = 3;

const STOP_WORDS = new Set(`a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each etc few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves per via using use used within across including include includes well new`.split(/\s+/));

// Crude suffix stripping so that "engineer"/"engineering", "database"/"databases" meet.
function stemWord(w) {
    if (w.length > 5 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
    if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
    if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
    if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) return w.slice(0, -1);
    return w;
}

// Lower-cased word tokens (letters and digits, keeping a trailing + or #: c++, c#), accents
// folded, one-letter words and stop-words dropped, suffixes stripped.
function embeddingWords(text) {
    const words = String(text).toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '').match(/[\p{L}\p{N}]+[+#]*/gu) ?? [];
    return words.filter((w) => (w.length > 1 || /[+#]/.test(w)) && !STOP_WORDS.has(w)).map(stemWord);
}

function hash32(s) {
    let h = 0x811c9dc5;   // FNV-1a, then murmur3's finaliser
    for (const b of Buffer.from(s, 'utf8')) { h ^= b; h = Math.imul(h, 0x01000193); }
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
    return h >>> 0;
}

// Hashed bag of words: each distinct token adds (1 + ln tf) to HASHES_PER_TOKEN dimensions chosen by
// hashing it, each with a hashed sign; the vector is L2-normalised and rounded to float32. Texts
// sharing words point the same way; unrelated texts are close to orthogonal.
function embedWords(words, dims) {
    const v = new Float64Array(dims);
    const tf = new Map();
    for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
    if (tf.size === 0) tf.set('\u0000', 1);   // no words: a fixed vector, as the real API answers one
    for (const [w, n] of tf) {
        const weight = (1 + Math.log(n)) / Math.sqrt(HASHES_PER_TOKEN);
        for (let k = 0; k < HASHES_PER_TOKEN; k++) {
            const h = hash32(`${k}\u0001${w}`);
            v[h % dims] += (h & 0x80000000 ? -1 : 1) * weight;
        }
    }
    let norm = Math.hypot(...v);
    if (norm === 0) { v[hash32('\u0000') % dims] = 1; norm = 1; }
    return Array.from(v, (x) => Math.fround(x / norm));
}
function embeddingBase64(vector) {
    const buf = Buffer.alloc(vector.length * 4);
    vector.forEach((x, i) => buf.writeFloatLE(x, i * 4));
    return buf.toString('base64');
}

// The inputs as a list of {text, tokens}: strings, or token arrays (each token id becomes a word).
// Returns null when `input` is not one of the accepted shapes.
function embeddingInputs(input) {
    const isTokens = (a) => Array.isArray(a) && a.length > 0 && a.every((t) => Number.isInteger(t) && t >= 0);
    if (typeof input === 'string') return input === '' ? null : [{ text: input }];
    if (isTokens(input)) return [{ ids: input }];
    if (!Array.isArray(input) || input.length === 0 || input.length > EMBEDDING_MAX_INPUTS) return null;
    if (input.every((x) => typeof x === 'string' && x !== '')) return input.map((text) => ({ text }));
    if (input.every(isTokens)) return input.map((ids) => ({ ids }));
    return null;
}

// Returns null or [status, message, type, param, code].
function checkEmbeddingsRequest(body) {
    const bad = (message, param = null, code = null) => [400, message, 'invalid_request_error', param, code];
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return bad(`Invalid type for request body: expected an object, but got ${Array.isArray(body) ? 'an array' : typeof body} instead.`, null, 'invalid_type');
    }
    for (const k of Object.keys(body)) if (!EMBEDDING_KNOWN_PARAMS.has(k)) return bad(`Unrecognized request argument supplied: ${k}`);
    if (typeof body.model !== 'string' || body.model === '') return bad('you must provide a model parameter');
    if (body.input === undefined) return bad("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    const inputs = embeddingInputs(body.input);
    if (!inputs) return bad("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    if (body.encoding_format !== undefined && body.encoding_format !== null && !['float', 'base64'].includes(body.encoding_format)) {
        return bad(`Invalid value: '${body.encoding_format}'. Supported values are: 'float' and 'base64'.`, 'encoding_format', 'invalid_value');
    }
    if (body.dimensions !== undefined && body.dimensions !== null) {
        if (/ada/.test(body.model)) return bad('This model does not support specifying dimensions.');
        if (!Number.isInteger(body.dimensions)) {
            return bad(`Invalid type for 'dimensions': expected an integer, but got ${typeof body.dimensions} instead.`, 'dimensions', 'invalid_type');
        }
        if (body.dimensions < 1) {
            return bad(`Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got ${body.dimensions} instead.`, 'dimensions', 'integer_below_min_value');
        }
        const max = EMBEDDING_MAX_DIMENSIONS[body.model] ?? 3072;
        if (body.dimensions > max) {
            return bad(`Invalid 'dimensions': integer above maximum value. Expected a value <= ${max}, but got ${body.dimensions} instead.`, 'dimensions', 'integer_above_max_value');
        }
    }
    let total = 0;
    for (const inp of inputs) {
        const n = inp.ids ? inp.ids.length : tokens(inp.text);
        if (n > EMBEDDING_MAX_TOKENS) {
            return bad(`This model's maximum context length is ${EMBEDDING_MAX_TOKENS} tokens, however you requested ${n} tokens (${n} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`);
        }
        total += n;
    }
    if (total > EMBEDDING_MAX_REQUEST_TOKENS) {
        return bad(`Requested ${total} tokens, max ${EMBEDDING_MAX_REQUEST_TOKENS} tokens per request`, null, 'max_tokens_per_request');
    }
    return null;
}

async function embeddings(req, res, ctx, body) {
    const invalid = checkEmbeddingsRequest(body);
    if (invalid) return apiError(res, ctx, ...invalid);
    if (config.models && !config.models.includes(body.model)) {
        return apiError(res, ctx, 404, `The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
    }
    const inputs = embeddingInputs(body.input);
    const texts = inputs.filter((i) => i.text !== undefined).map((i) => i.text).join('\n');
    const outcome = takeOutcome(ctx, 'embeddings', () => markerOutcomeIn(texts));
    if (ctx.record) ctx.record.outcome = outcome.behaviour;
    if (await waitLatency(ctx, outcome)) return;
    const promptTokens = inputs.reduce((acc, i) => acc + (i.ids ? i.ids.length : tokens(i.text.replace(MARKER, ''))), 0);
    const extra = outcome.headers ?? {};
    if (!CHAT_ONLY.has(outcome.behaviour) && outcome.behaviour !== 'ok') {
        return respondFailure(req, res, ctx, body.model, promptTokens, outcome, 'embeddings');
    }
    const dims = body.dimensions ?? EMBEDDING_DEFAULT_DIMENSIONS;
    const base64 = body.encoding_format === 'base64';
    const data = inputs.map((inp, index) => {
        const words = inp.ids ? inp.ids.map((t) => `#${t}`) : embeddingWords(inp.text.replace(MARKER, ' '));
        const vector = embedWords(words, dims);
        return { object: 'embedding', index, embedding: base64 ? embeddingBase64(vector) : vector };
    });
    if (!ctx.batch) window.tokens += promptTokens;   // batch lines use a separate pool
    return send(res, ctx, 200, JSON.stringify({
        object: 'list', data, model: body.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    }), { ...rateLimitHeaders(), 'openai-model': body.model, ...extra });
}

// ---- Routing --------------------------------------------------------------------------------

// At most this much of a multipart body (a file upload) is kept in the request log.
const LOGGED_UPLOAD_BYTES = 64 * 1024;

async function control(req, res, path, raw) {
    const parsedBody = controlBody(res, raw);
    if (!parsedBody) return;
    const { body } = parsedBody;
    const url = new URL(req.url, 'http://127.0.0.1');
    const path_ = url.searchParams.get('path');
    if (commonControl(req, res, path, { requests, keep: (r) => !path_ || r.path === path_ })) return;
    const endpoint = url.searchParams.get('endpoint');
    if (path === '/_control/script' && endpoint !== null && !SCRIPT_ENDPOINTS.includes(endpoint)) {
        return json(res, 400, { error: `endpoint is one of ${SCRIPT_ENDPOINTS.map((e) => `"${e}"`).join(', ')}` });
    }
    if (req.method === 'GET' && path === '/_control/script' && endpoint) {
        return json(res, 200, { remaining: endpointScripts[endpoint].length, script: endpointScripts[endpoint] });
    }
    if (req.method === 'POST' && path === '/_control/script' && endpoint) {
        const parsed = scriptFromBody(res, body, (o) => normalizeOutcome(o, endpoint === 'batches'));
        if (!parsed) return;
        const bad = endpoint !== 'chat' && parsed.find((o) => CHAT_ONLY.has(o.behaviour));
        if (bad) return json(res, 400, { error: `behaviour ${bad.behaviour} does not apply to ${endpoint}` });
        endpointScripts[endpoint] = url.searchParams.get('append') ? [...endpointScripts[endpoint], ...parsed] : parsed;
        return json(res, 200, { remaining: endpointScripts[endpoint].length });
    }
    if (req.method === 'GET' && path === '/_control/script') return json(res, 200, { remaining: script.length, script });
    if (req.method === 'POST' && path === '/_control/script') {
        const parsed = scriptFromBody(res, body, normalizeOutcome);
        if (!parsed) return;
        script = url.searchParams.get('append') ? [...script, ...parsed] : parsed;
        return json(res, 200, { remaining: script.length });
    }
    if (req.method === 'POST' && path === '/_control/reset') {
        script = [];
        endpointScripts = emptyEndpointScripts();
        batchApi.reset();
        requests = [];
        markerUses = new Map();
        window = { start: Date.now(), requests: 0, tokens: 0 };
        Object.assign(config, initial);
        return json(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/_control/config') {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) return json(res, 400, { error: 'send a JSON object' });
        if ('key' in body) config.key = body.key;
        if ('models' in body) config.models = body.models;
        if ('rpm' in body) config.rpm = Number(body.rpm);
        if ('tpm' in body) config.tpm = Number(body.tpm);
        if ('latency_ms' in body) config.latency_ms = Number(body.latency_ms);
        if ('batch_ms' in body) {
            if (!(Number.isFinite(body.batch_ms) && body.batch_ms >= 0)) return json(res, 400, { error: 'batch_ms is a number >= 0' });
            config.batch_ms = body.batch_ms;
        }
        return json(res, 200, { key: config.key, models: config.models, rpm: config.rpm, tpm: config.tpm, latency_ms: config.latency_ms, batch_ms: config.batch_ms });
    }
    return json(res, 404, { error: `no control endpoint ${req.method} ${path}` });
}

function checkAuth(req) {
    const h = req.headers.authorization;
    if (!h) {
        return [401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            'invalid_request_error', null, null];
    }
    const m = /^Bearer (.*)$/i.exec(h);
    const key = m ? m[1].trim() : '';
    if (!m || key === '' || (config.key !== null && config.key !== undefined && key !== config.key)) {
        const shown = key.length > 8 ? `${key.slice(0, 3)}${'*'.repeat(Math.min(40, key.length - 7))}${key.slice(-4)}` : key;
        return [401, `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            'invalid_request_error', null, 'invalid_api_key'];
    }
    return null;
}

async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    const bodyBuf = await readBody(req);
    if (path.startsWith('/_control/')) return control(req, res, path, bodyBuf.toString('utf8'));

    const ctx = { requestId: requestId(), started: Date.now(), record: null, closed: false };
    res.on('close', () => { ctx.closed = true; });
    // A multipart body to /v1/files (an upload) is not JSON, and may be large: the log keeps its
    // start; the upload handler records its fields in `json`.
    const multipart = path.startsWith('/v1/files') && /^\s*multipart\//i.test(req.headers['content-type'] ?? '');
    const raw = multipart ? bodyBuf.subarray(0, LOGGED_UPLOAD_BYTES).toString('utf8') : bodyBuf.toString('utf8');
    let parsed;
    let parseError = false;
    if (!multipart) { try { parsed = raw === '' ? undefined : JSON.parse(raw); } catch { parseError = true; } }
    ctx.record = {
        seq: ++seq, time: new Date().toISOString(), method: req.method, path: url.pathname + url.search,
        headers: req.headers, body: raw, json: parseError ? null : (parsed ?? null),
        request_id: ctx.requestId, status: null, outcome: null,
    };
    if (multipart && bodyBuf.length > LOGGED_UPLOAD_BYTES) ctx.record.body_truncated_from = bodyBuf.length;
    requests.push(ctx.record);

    const route = `${req.method} ${path}`;
    const isChat = route === 'POST /v1/chat/completions';
    const isEmbeddings = route === 'POST /v1/embeddings';
    const isModels = req.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'));
    const batchRoute = batchApi.match(req.method, path);
    if (!isChat && !isEmbeddings && !isModels && (!batchRoute || batchRoute.name === 'invalid')) {
        return apiError(res, ctx, 404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error', null, null);
    }
    const authErr = checkAuth(req);
    if (authErr) return apiError(res, ctx, ...authErr);
    // The Files and Batch APIs: not counted in the live rate-limit window (a separate pool).
    if (batchRoute) {
        ctx.resourceId = batchRoute.id;
        return batchApi.serve(batchRoute, req, res, ctx, url.searchParams, bodyBuf, { value: parsed, error: parseError });
    }

    if (isModels) {
        const ids = config.models ?? ['gpt-4o', 'gpt-4o-mini', 'gpt-4o-2024-08-06', 'gpt-4.1', 'gpt-4.1-mini'];
        const model = (id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' });
        if (path === '/v1/models') return send(res, ctx, 200, { object: 'list', data: ids.map(model) });
        const id = decodeURIComponent(path.slice('/v1/models/'.length));
        if (config.models && !config.models.includes(id)) {
            return apiError(res, ctx, 404, `The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found');
        }
        return send(res, ctx, 200, model(id));
    }

    rollWindow();
    window.requests += 1;   // failed requests count against the limit too
    if (parseError) {
        return apiError(res, ctx, 400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
            'invalid_request_error', null, null);
    }
    if (parsed === undefined) return apiError(res, ctx, 400, 'you must provide a model parameter', 'invalid_request_error', null, null);
    if (isEmbeddings) return embeddings(req, res, ctx, parsed);
    return chatCompletions(req, res, ctx, parsed);
}

// POST /v1/chat/completions once the key and the JSON body are checked; also each line of a
// chat batch (ctx.batch), so that a batch line gets exactly what a live request would.
function chatCompletions(req, res, ctx, parsed) {
    const invalid = checkRequest(parsed);
    if (invalid) return apiError(res, ctx, ...invalid);
    if (config.models && !config.models.includes(parsed.model)) {
        return apiError(res, ctx, 404, `The model \`${parsed.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
    }
    return respond(req, res, ctx, parsed, takeOutcome(ctx, 'chat', () => markerOutcome(parsed.messages)));
}

// The outcome of a live request that passed the checks: its endpoint's queue, then the shared
// queue, then markers in its text. Every live answer takes at least --latency (or
// /_control/config latency_ms), as a real model does. A batch line (ctx.batch) takes no scripted
// outcome and no latency: only its markers (a latency marker is ignored there).
function takeOutcome(ctx, endpoint, markers) {
    if (ctx.batch) {
        const o = { ...(markers() ?? { behaviour: 'ok' }) };
        delete o.latency_ms;
        return o;
    }
    let outcome = endpointScripts[endpoint].length > 0 ? endpointScripts[endpoint].shift()
        : script.length > 0 ? script.shift() : (markers() ?? { behaviour: 'ok' });
    return withLatency(outcome, config.latency_ms);
}

// ---- Files and batches ----------------------------------------------------------------------

// Runs one batch line through the live code path (chatCompletions or embeddings) and captures
// the answer instead of sending it. Returns {status, text, requestId, hung, reset}.
async function executeBatchLine(url, body) {
    const cap = { status: null, text: null, reset: false };
    const res = {
        get destroyed() { return cap.reset; },
        get writableEnded() { return cap.text !== null; },
        writeHead(status) { cap.status = status; },
        end(text) { cap.text = String(text ?? ''); },
    };
    const req = { socket: { destroy() { cap.reset = true; } }, headers: {} };
    const ctx = { requestId: crypto.randomBytes(16).toString('hex'), started: Date.now(), record: null, closed: false, batch: true };
    if (url === '/v1/embeddings') await embeddings(req, res, ctx, body);
    else await chatCompletions(req, res, ctx, body);
    return { status: cap.status, text: cap.text, requestId: ctx.requestId, reset: cap.reset, hung: cap.status === null && !cap.reset };
}

// A scripted outcome taken by a Files/Batch API request: waits its latency, then answers it when
// it is a failure (scripted status, hang, reset, malformed). Returns true when the request is
// done with (answered, or the client went away).
async function scriptedAnswer(req, res, ctx, outcome, kind) {
    if (await waitLatency(ctx, outcome)) return true;
    return respondFailure(req, res, ctx, null, 0, outcome, kind);
}

function sendBytes(res, ctx, status, buf, headers = {}, contentType = 'application/octet-stream') {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'content-type': contentType, 'content-length': buf.length, ...baseHeaders(ctx), ...headers });
    res.end(buf);
    if (ctx.record) { ctx.record.status = status; ctx.record.response_ms = Date.now() - ctx.started; }
}

const batchApi = createBatchApi({
    config, send, sendBytes, apiError, executeLine: executeBatchLine, scriptedAnswer,
    takeScripted: (queue) => endpointScripts[queue].shift() ?? null,
});

// ---- Server and lifetime --------------------------------------------------------------------

serve({
    name: 'openai_fake', opts, log, handle,
    internalError: (e) => ({ error: { message: `openai_fake internal error: ${e.message}`, type: 'server_error', param: null, code: null } }),
});

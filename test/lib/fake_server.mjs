// What the test stand-in servers (test/openai_fake, test/github_fake, test/hooks_fake) have in
// common: the common command-line options, the server's lifetime (the "listening" line, stopping
// on signals and when the parent goes away), the control API's plumbing and the scripted outcomes
// every one of them knows (raw answers, hang, reset, latency). Kept in one place so that the three
// behave alike and a fix reaches all of them. Node 20, node: modules only.

import http from 'node:http';

// ---- Options --------------------------------------------------------------------------------

// The usage function of a server: its own text, exit 2 after an error, 0 for --help.
export function makeUsage(name, text) {
    return (err) => {
        if (err) process.stderr.write(`${name}: ${err}\n`);
        process.stderr.write(text);
        process.exit(err ? 2 : 0);
    };
}

// Parses argv into {port, parentPid, stdin, quiet, ...defaults}. `option(a, val, opts)` handles a
// server's own options and returns false for one it does not know; val() takes the option's value.
export function parseOptions(argv, defaults, option, usage) {
    const opts = { port: Number(process.env.PORT ?? 0), parentPid: null, stdin: false, quiet: false, ...defaults };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
        switch (a) {
            case '--port': opts.port = Number(val()); break;
            case '--parent-pid': opts.parentPid = Number(val()); break;
            case '--stdin': opts.stdin = true; break;
            case '--quiet': opts.quiet = true; break;
            case '-h': case '--help': usage(null); break;
            default: if (!option(a, val, opts)) usage(`unknown option ${a}`);
        }
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
    return opts;
}

export const makeLog = (name, opts) => (msg) => { if (!opts.quiet) process.stderr.write(`${name}: ${msg}\n`); };

// ---- Control API ----------------------------------------------------------------------------

// The request body, whole, as a Buffer (uploads are binary; callers decode JSON as UTF-8).
export function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

// Control answers are pretty-printed JSON without the API's own headers.
export function json(res, status, value) {
    const text = JSON.stringify(value, null, 2);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
}

// A control request's JSON body: {body} (null when empty), or null once it has answered 400.
export function controlBody(res, raw) {
    if (raw.trim() === '') return { body: null };
    try { return { body: JSON.parse(raw) }; } catch { json(res, 400, { error: 'body is not JSON' }); return null; }
}

// GET /_control/health and GET /_control/requests (the log filtered by `keep`). Returns true
// when it answered.
export function commonControl(req, res, path, { health = {}, requests, keep = () => true }) {
    if (req.method === 'GET' && path === '/_control/health') { json(res, 200, { ok: true, pid: process.pid, ...health }); return true; }
    if (req.method === 'GET' && path === '/_control/requests') {
        const list = requests.filter(keep);
        json(res, 200, { count: list.length, requests: list });
        return true;
    }
    return false;
}

// The outcomes of a POST /_control/script body (a list, or {"outcomes": [...]}), each through
// `normalize`; null once it has answered 400.
export function scriptFromBody(res, body, normalize) {
    const list = Array.isArray(body) ? body : body?.outcomes;
    if (!Array.isArray(list)) { json(res, 400, { error: 'send a JSON list of outcomes (or {"outcomes": [...]})' }); return null; }
    try { return list.map((o) => normalize(o)); } catch (e) { json(res, 400, { error: e.message }); return null; }
}

// ---- Scripted outcomes ----------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The configured latency for an outcome that names none.
export function withLatency(outcome, latencyMs) {
    return latencyMs > 0 && outcome.latency_ms === undefined ? { ...outcome, latency_ms: latencyMs } : outcome;
}

// Waits an outcome's latency_ms. Returns true when the client went away meanwhile: the request is
// then done with (logged as "client closed"). With hangTooLate, a hang still goes on to hang.
export async function waitLatency(ctx, outcome, hangTooLate = false) {
    if (!outcome.latency_ms) return false;
    await sleep(outcome.latency_ms);
    if (ctx.closed && !(hangTooLate && outcome.behaviour === 'hang')) {
        if (ctx.record) ctx.record.status = 'client closed';
        return true;
    }
    return false;
}

// "hang" (never answer; with latency_ms, close the connection after it) and "reset" (close the
// connection at once). Returns true when the outcome was one of them.
export function hangOrReset(req, ctx, outcome) {
    if (outcome.behaviour === 'hang') {
        if (ctx.record) ctx.record.status = 'hung';
        if (outcome.latency_ms) req.socket.destroy();
        return true;
    }
    if (outcome.behaviour === 'reset') {
        if (ctx.record) ctx.record.status = 'reset';
        req.socket.destroy();
        return true;
    }
    return false;
}

// A raw {status, body, headers, content_type} outcome through the server's send(); a body that is
// not a string goes as JSON with jsonType.
export function rawAnswer(send, res, ctx, outcome, jsonType = 'application/json') {
    const b = outcome.body ?? '';
    return send(res, ctx, outcome.status, typeof b === 'string' ? b : JSON.stringify(b), outcome.headers ?? {},
        outcome.content_type ?? (typeof b === 'string' ? 'text/plain' : jsonType));
}

// ---- Server and lifetime --------------------------------------------------------------------

// Listens on 127.0.0.1:opts.port and prints "listening 127.0.0.1:PORT" as the first stdout line
// (tests wait for it). Stops on SIGTERM/SIGINT/SIGHUP, within 0.2 s when the parent process (or
// --parent-pid) goes away, and with --stdin when stdin ends, so a killed test leaves nothing
// behind. internalError(e) is the body of the 500 answering a handler that threw.
export function serve({ name, opts, log, handle, internalError, onListening = () => {} }) {
    const sockets = new Set();
    const server = http.createServer((req, res) => {
        handle(req, res).catch((e) => {
            log(`internal error: ${e.stack ?? e}`);
            if (!res.headersSent) json(res, 500, internalError(e));
        });
    });
    server.keepAliveTimeout = 5000;
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

    let stopping = false;
    function stop(why) {
        if (stopping) return;
        stopping = true;
        log(`stopping (${why})`);
        server.close();
        for (const s of sockets) s.destroy();
        setTimeout(() => process.exit(0), 50).unref();
    }
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => stop(sig));

    const startPpid = process.ppid;
    setInterval(() => {
        if (process.ppid !== startPpid) return stop('parent exited');
        if (opts.parentPid) {
            try { process.kill(opts.parentPid, 0); } catch (e) { if (e.code === 'ESRCH') stop(`process ${opts.parentPid} exited`); }
        }
    }, 200).unref();
    if (opts.stdin) {
        process.stdin.on('end', () => stop('stdin closed'));
        process.stdin.on('error', () => stop('stdin error'));
        process.stdin.resume();
    }

    server.on('error', (e) => { process.stderr.write(`${name}: ${e.message}\n`); process.exit(1); });
    server.listen(opts.port, '127.0.0.1', () => {
        const { port } = server.address();
        onListening(port);
        process.stdout.write(`listening 127.0.0.1:${port}\n`);
    });
    return server;
}

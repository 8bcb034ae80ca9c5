#!/usr/bin/env node
// A stand-in for the GitHub REST API (users and their repositories), for tests only.
// See README.md beside this file. Node 20, node: modules only.
//
//   node test/github_fake/server.mjs --port 0 [--token T] [--limit N] [--window-s S] [--parent-pid PID]
//
// Listening (127.0.0.1 only), stopping, the common options and the control API's plumbing are
// ../lib/fake_server.mjs, shared by the stand-ins; this file is what is particular to its API.

import crypto from 'node:crypto';
import fs from 'node:fs';
import {
    makeUsage, parseOptions, makeLog, readBody, json, controlBody, commonControl, scriptFromBody,
    withLatency, waitLatency, hangOrReset, rawAnswer, serve,
} from '../lib/fake_server.mjs';

// ---- Options --------------------------------------------------------------------------------

const usage = makeUsage('github_fake', 'usage: node server.mjs --port PORT [--token T] [--anonymous] [--limit N] [--anon-limit N] [--window-s S]\n'
    + '       [--rate-limit-status 403|429] [--users FILE.json] [--latency MS] [--base-url URL] [--parent-pid PID] [--stdin] [--quiet]\n');
const opts = parseOptions(process.argv.slice(2), {
    token: process.env.GITHUB_FAKE_TOKEN ?? null, anonymous: false,
    limit: 5000, anonLimit: null, windowS: 3600, rateLimitStatus: 403, users: null, latency: 0, baseUrl: null,
}, (a, val, o) => {
    switch (a) {
        case '--token': o.token = val(); break;
        case '--anonymous': o.anonymous = true; break;
        case '--limit': o.limit = Number(val()); break;
        case '--anon-limit': o.anonLimit = Number(val()); break;
        case '--window-s': o.windowS = Number(val()); break;
        case '--rate-limit-status': o.rateLimitStatus = Number(val()); break;
        case '--users': o.users = val(); break;
        case '--latency': o.latency = Number(val()); break;
        case '--base-url': o.baseUrl = val().replace(/\/+$/, ''); break;
        default: return false;
    }
    return true;
}, usage);
if (!(opts.limit >= 0) || !(opts.windowS > 0)) usage('bad --limit or --window-s');
if (![403, 429].includes(opts.rateLimitStatus)) usage('--rate-limit-status is 403 or 429');
const initial = {
    token: opts.token, anonymous: opts.anonymous, limit: opts.limit, anon_limit: opts.anonLimit,
    window_s: opts.windowS, rate_limit_status: opts.rateLimitStatus, latency_ms: opts.latency,
};
const config = { ...initial };
const log = makeLog('github_fake', opts);

const SUPPORTED_VERSIONS = ['2026-03-10', '2022-11-28'];
const DOCS = {
    root: 'https://docs.github.com/rest',
    user: 'https://docs.github.com/rest/users/users#get-a-user',
    userById: 'https://docs.github.com/rest/users/users#get-a-user-using-their-id',
    repos: 'https://docs.github.com/rest/repos/repos#list-repositories-for-a-user',
    primary: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
    secondary: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
    versions: 'https://docs.github.com/rest/about-the-rest-api/api-versions',
};

// ---- Deterministic randomness ---------------------------------------------------------------

function fnv1a(s) {
    let h = 0x811c9dc5;
    for (const b of Buffer.from(String(s), 'utf8')) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
    return h >>> 0;
}
function prng(seed) {   // mulberry32
    let a = (typeof seed === 'number' ? seed : fnv1a(seed)) >>> 0;
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
        chance: (p) => next() < p,
        weighted: (pairs) => {
            const total = pairs.reduce((s, [, w]) => s + w, 0);
            let r = next() * total;
            for (const [v, w] of pairs) { r -= w; if (r < 0) return v; }
            return pairs[pairs.length - 1][0];
        },
    };
}

// Generated timestamps lie between these, whatever the clock says, so data is the same every run.
const EPOCH_START = Date.parse('2008-04-01T00:00:00Z');
const EPOCH_END = Date.parse('2025-06-01T00:00:00Z');
const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const between = (r, lo, hi) => lo + Math.floor(r.next() * Math.max(1, hi - lo));

const LANGUAGES = [['JavaScript', 16], ['Python', 16], ['TypeScript', 12], ['Go', 8], ['Java', 7], ['Rust', 6], ['C', 5],
    ['C++', 5], ['Ruby', 4], ['Shell', 4], ['HTML', 3], ['CSS', 2], ['Jupyter Notebook', 3], ['PHP', 3], ['Kotlin', 2],
    ['Swift', 2], ['Haskell', 1], ['Elixir', 1], ['Scala', 1], ['PLpgSQL', 1], [null, 8]];
const WORDS_A = ['tiny', 'fast', 'simple', 'awesome', 'async', 'micro', 'open', 'smart', 'lazy', 'secure', 'cloud', 'data',
    'deep', 'quick', 'little', 'super', 'hyper', 'minimal', 'modern', 'rusty', 'green', 'blue', 'static', 'live'];
const WORDS_B = ['parser', 'server', 'cli', 'toolkit', 'notes', 'dotfiles', 'api', 'bot', 'engine', 'scraper', 'cache',
    'queue', 'editor', 'compiler', 'dashboard', 'tracker', 'blog', 'game', 'lib', 'sdk', 'utils', 'proxy', 'router',
    'scheduler', 'search', 'pipeline', 'website', 'resume', 'sandbox', 'benchmarks', 'playground', 'plugin'];
const TOPICS = ['cli', 'api', 'web', 'machine-learning', 'database', 'devops', 'testing', 'hacktoberfest', 'docker',
    'kubernetes', 'postgresql', 'react', 'rust', 'python', 'golang', 'security', 'data-science', 'nlp', 'parser'];
const CITIES = ['San Francisco, CA', 'Berlin, Germany', 'London, UK', 'Paris, France', 'Bangalore, India', 'Toronto, Canada',
    'New York, NY', 'Amsterdam, Netherlands', 'Tokyo, Japan', 'São Paulo, Brazil', 'Seattle, WA', 'Remote'];
const COMPANIES = ['@github', 'Acme Corp', '@mozilla', 'Initech', 'Globex', '@microsoft', 'Freelance', 'Hooli', '@google'];

// ---- Data -----------------------------------------------------------------------------------

let users = new Map();        // lower-case login -> user record (with .repos)
let usersById = new Map();    // id -> user record
const repoIds = new Set();

function titleCase(login) {
    const parts = login.split(/[-_.]+/).filter((p) => /[a-z]/i.test(p));
    if (parts.length === 0) return login;
    return parts.map((p) => p[0].toUpperCase() + p.slice(1).toLowerCase()).join(' ');
}
function nodeId(kind, id) {
    const prefix = { User: '04:User', Organization: '012:Organization', Repository: '010:Repository' }[kind];
    return Buffer.from(`${prefix}${id}`).toString('base64');
}
function freshId(base, taken) {
    let id = base;
    while (taken.has(id)) id += 1;
    return id;
}

const LOGIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const pickField = (spec, key, fallback) => (has(spec, key) ? spec[key] : fallback);

function makeUser(spec) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new Error('a user is a JSON object');
    if (typeof spec.login !== 'string' || !LOGIN_RE.test(spec.login)) {
        throw new Error(`bad login ${JSON.stringify(spec.login)} (letters, digits and single hyphens, at most 39)`);
    }
    const login = spec.login;
    const key = login.toLowerCase();
    const old = users.get(key);
    if (old) { usersById.delete(old.id); for (const r of old.repos) repoIds.delete(r.id); }
    const r = prng(`user:${key}:${spec.seed ?? ''}`);
    const type = spec.type === 'Organization' ? 'Organization' : 'User';
    const id = has(spec, 'id') ? Number(spec.id) : freshId(100000 + (fnv1a(key) % 90000000), usersById);
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`bad id for ${login}`);
    if (usersById.has(id)) throw new Error(`id ${id} is taken by ${usersById.get(id).login}`);
    const created = between(r, EPOCH_START, Date.parse('2021-01-01T00:00:00Z'));
    const user = {
        login, id, type,
        name: pickField(spec, 'name', titleCase(login)),
        company: pickField(spec, 'company', r.chance(0.5) ? r.pick(COMPANIES) : null),
        blog: pickField(spec, 'blog', r.chance(0.4) ? `https://${key}.example.dev` : ''),
        location: pickField(spec, 'location', r.chance(0.7) ? r.pick(CITIES) : null),
        email: pickField(spec, 'email', null),
        hireable: pickField(spec, 'hireable', null),
        bio: pickField(spec, 'bio', r.chance(0.5) ? `${r.pick(['Software engineer', 'Developer', 'Maintainer', 'Hacker', 'Data scientist'])} who likes ${r.pick(WORDS_B)}s.` : null),
        twitter_username: pickField(spec, 'twitter_username', null),
        public_gists: pickField(spec, 'public_gists', r.int(0, 30)),
        followers: pickField(spec, 'followers', Math.floor(Math.exp(r.next() * r.next() * 9)) - 1),
        following: pickField(spec, 'following', r.int(0, 80)),
        created_at: pickField(spec, 'created_at', iso(created)),
        updated_at: pickField(spec, 'updated_at', iso(between(r, created, EPOCH_END))),
        site_admin: false,
        repos: [],
    };
    const names = new Set();
    const repoSpecs = Array.isArray(spec.repos) ? spec.repos : [];
    for (const rs of repoSpecs) {
        const repo = makeRepo(user, rs);
        if (names.has(repo.name.toLowerCase())) throw new Error(`${login} has two repositories named ${repo.name}`);
        names.add(repo.name.toLowerCase());
        user.repos.push(repo);
    }
    const n = Number(spec.generate_repos ?? 0);
    if (!Number.isInteger(n) || n < 0 || n > 20000) throw new Error('generate_repos is an integer 0..20000');
    const g = prng(`repos:${key}:${spec.seed ?? ''}`);
    for (let i = 0; i < n; i++) {
        let name = `${g.pick(WORDS_A)}-${g.pick(WORDS_B)}`;
        if (g.chance(0.2)) name += `-${g.pick(['js', 'rs', 'py', 'go', 'old', 'v2', 'demo'])}`;
        for (let k = 2; names.has(name.toLowerCase()); k++) name = `${name.replace(/-\d+$/, '')}-${k}`;
        names.add(name.toLowerCase());
        user.repos.push(makeRepo(user, { name }, g));
    }
    user.public_repos = pickField(spec, 'public_repos', user.repos.length);
    users.set(key, user);
    usersById.set(id, user);
    return user;
}

function makeRepo(user, spec, gen = null) {
    if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(spec.name)) {
        throw new Error(`a repository needs a name of letters, digits, . _ - (got ${JSON.stringify(spec?.name)})`);
    }
    const fullName = `${user.login}/${spec.name}`;
    const r = gen ?? prng(`repo:${fullName.toLowerCase()}`);
    const id = has(spec, 'id') ? Number(spec.id) : freshId(200000000 + (fnv1a(fullName.toLowerCase()) % 700000000), repoIds);
    repoIds.add(id);
    const userCreated = Date.parse(user.created_at) || EPOCH_START;
    const created = between(r, userCreated, EPOCH_END - 86400000);
    const fork = pickField(spec, 'fork', r.chance(0.15));
    const stars = pickField(spec, 'stargazers_count', fork ? r.int(0, 2) : Math.floor(Math.exp(r.next() * r.next() * r.next() * 11)) - 1);
    const empty = r.chance(0.03);
    const pushed = has(spec, 'pushed_at') ? spec.pushed_at : (empty ? null : iso(between(r, created, EPOCH_END)));
    const language = pickField(spec, 'language', empty ? null : r.weighted(LANGUAGES));
    const topics = pickField(spec, 'topics', r.chance(0.4) ? [...new Set([r.pick(TOPICS), r.pick(TOPICS)])] : []);
    const openIssues = pickField(spec, 'open_issues_count', Math.min(500, Math.floor(stars * r.next() * 0.05)));
    return {
        id,
        name: spec.name,
        full_name: fullName,
        private: false,
        fork,
        archived: pickField(spec, 'archived', r.chance(0.08)),
        disabled: false,
        description: pickField(spec, 'description', r.chance(0.75) ? `A ${r.pick(WORDS_A)} ${r.pick(WORDS_B)}${language ? ` in ${language}` : ''}.` : null),
        homepage: pickField(spec, 'homepage', r.chance(0.2) ? `https://${user.login.toLowerCase()}.example.dev/${spec.name}` : null),
        language,
        stargazers_count: stars,
        watchers_count: pickField(spec, 'watchers_count', stars),
        forks_count: pickField(spec, 'forks_count', Math.floor(stars * r.next() * 0.3)),
        open_issues_count: openIssues,
        size: pickField(spec, 'size', empty ? 0 : r.int(1, 60000)),
        topics,
        default_branch: pickField(spec, 'default_branch', created < Date.parse('2020-10-01T00:00:00Z') ? 'master' : 'main'),
        license: pickField(spec, 'license', r.chance(0.5) ? r.pick([
            { key: 'mit', name: 'MIT License', spdx_id: 'MIT', url: 'https://api.github.com/licenses/mit', node_id: 'MDc6TGljZW5zZTEz' },
            { key: 'apache-2.0', name: 'Apache License 2.0', spdx_id: 'Apache-2.0', url: 'https://api.github.com/licenses/apache-2.0', node_id: 'MDc6TGljZW5zZTI=' },
            { key: 'gpl-3.0', name: 'GNU General Public License v3.0', spdx_id: 'GPL-3.0', url: 'https://api.github.com/licenses/gpl-3.0', node_id: 'MDc6TGljZW5zZTk=' }]) : null),
        created_at: pickField(spec, 'created_at', iso(created)),
        updated_at: pickField(spec, 'updated_at', pushed ?? iso(created)),
        pushed_at: pushed,
    };
}

function loadUsers(list) {
    const arr = Array.isArray(list) ? list : [list];
    return arr.map(makeUser);
}
if (opts.users) {
    try { loadUsers(JSON.parse(fs.readFileSync(opts.users, 'utf8'))); } catch (e) { usage(`--users ${opts.users}: ${e.message}`); }
}
const initialUsersFile = opts.users;

// ---- Wire shapes ----------------------------------------------------------------------------

let baseUrl = opts.baseUrl;   // set once listening
const api = () => baseUrl;

function simpleUser(u) {
    const b = `${api()}/users/${u.login}`;
    return {
        login: u.login, id: u.id, node_id: nodeId(u.type, u.id),
        avatar_url: `https://avatars.githubusercontent.com/u/${u.id}?v=4`, gravatar_id: '',
        url: b, html_url: `https://github.com/${u.login}`,
        followers_url: `${b}/followers`, following_url: `${b}/following{/other_user}`, gists_url: `${b}/gists{/gist_id}`,
        starred_url: `${b}/starred{/owner}{/repo}`, subscriptions_url: `${b}/subscriptions`, organizations_url: `${b}/orgs`,
        repos_url: `${b}/repos`, events_url: `${b}/events{/privacy}`, received_events_url: `${b}/received_events`,
        type: u.type, user_view_type: 'public', site_admin: u.site_admin,
    };
}
function fullUser(u) {
    return {
        ...simpleUser(u),
        name: u.name, company: u.company, blog: u.blog, location: u.location, email: u.email, hireable: u.hireable,
        bio: u.bio, twitter_username: u.twitter_username, public_repos: u.public_repos, public_gists: u.public_gists,
        followers: u.followers, following: u.following, created_at: u.created_at, updated_at: u.updated_at,
    };
}
function repoJson(u, r) {
    const b = `${api()}/repos/${r.full_name}`;
    return {
        id: r.id, node_id: nodeId('Repository', r.id), name: r.name, full_name: r.full_name, private: false,
        owner: simpleUser(u), html_url: `https://github.com/${r.full_name}`, description: r.description, fork: r.fork,
        url: b, forks_url: `${b}/forks`, keys_url: `${b}/keys{/key_id}`, collaborators_url: `${b}/collaborators{/collaborator}`,
        teams_url: `${b}/teams`, hooks_url: `${b}/hooks`, issue_events_url: `${b}/issues/events{/number}`, events_url: `${b}/events`,
        assignees_url: `${b}/assignees{/user}`, branches_url: `${b}/branches{/branch}`, tags_url: `${b}/tags`,
        blobs_url: `${b}/git/blobs{/sha}`, git_tags_url: `${b}/git/tags{/sha}`, git_refs_url: `${b}/git/refs{/sha}`,
        trees_url: `${b}/git/trees{/sha}`, statuses_url: `${b}/statuses/{sha}`, languages_url: `${b}/languages`,
        stargazers_url: `${b}/stargazers`, contributors_url: `${b}/contributors`, subscribers_url: `${b}/subscribers`,
        subscription_url: `${b}/subscription`, commits_url: `${b}/commits{/sha}`, git_commits_url: `${b}/git/commits{/sha}`,
        comments_url: `${b}/comments{/number}`, issue_comment_url: `${b}/issues/comments{/number}`,
        contents_url: `${b}/contents/{+path}`, compare_url: `${b}/compare/{base}...{head}`, merges_url: `${b}/merges`,
        archive_url: `${b}/{archive_format}{/ref}`, downloads_url: `${b}/downloads`, issues_url: `${b}/issues{/number}`,
        pulls_url: `${b}/pulls{/number}`, milestones_url: `${b}/milestones{/number}`,
        notifications_url: `${b}/notifications{?since,all,participating}`, labels_url: `${b}/labels{/name}`,
        releases_url: `${b}/releases{/id}`, deployments_url: `${b}/deployments`,
        created_at: r.created_at, updated_at: r.updated_at, pushed_at: r.pushed_at,
        git_url: `git://github.com/${r.full_name}.git`, ssh_url: `git@github.com:${r.full_name}.git`,
        clone_url: `https://github.com/${r.full_name}.git`, svn_url: `https://github.com/${r.full_name}`,
        homepage: r.homepage, size: r.size, stargazers_count: r.stargazers_count, watchers_count: r.watchers_count,
        language: r.language, has_issues: true, has_projects: true, has_downloads: true, has_wiki: true, has_pages: false,
        has_discussions: false, forks_count: r.forks_count, mirror_url: null, archived: r.archived, disabled: r.disabled,
        open_issues_count: r.open_issues_count, license: r.license, allow_forking: true, is_template: false,
        web_commit_signoff_required: false, topics: r.topics, visibility: 'public', forks: r.forks_count,
        open_issues: r.open_issues_count, watchers: r.watchers_count, default_branch: r.default_branch,
    };
}

// ---- State: script, log, rate limits --------------------------------------------------------

let script = [];
let requests = [];
let seq = 0;
let pools = new Map();        // 'token' | 'anon' -> {used, resetAt, blockedUntil, blockedStatus, secondaryUntil, secondaryStatus}

const requestId = () => {
    const h = (n) => crypto.randomBytes(n).toString('hex').toUpperCase();
    return `${h(2)}:${h(2)}:${h(3)}:${h(4)}:${h(4)}`;
};

function poolLimit(name) {
    return name === 'anon' ? (config.anon_limit ?? config.limit) : config.limit;
}
function pool(name) {
    const now = Date.now();
    let p = pools.get(name);
    if (!p) { p = { used: 0, resetAt: now + config.window_s * 1000, blockedUntil: 0, blockedStatus: 403, secondaryUntil: 0, secondaryStatus: 403 }; pools.set(name, p); }
    if (p.blockedUntil && now >= p.blockedUntil) { p.blockedUntil = 0; p.used = 0; p.resetAt = now + config.window_s * 1000; }
    if (now >= p.resetAt) { p.used = 0; p.resetAt = now + config.window_s * 1000; }
    if (p.secondaryUntil && now >= p.secondaryUntil) p.secondaryUntil = 0;
    return p;
}
function rateHeaders(name) {
    const p = pool(name);
    const limit = poolLimit(name);
    const blocked = p.blockedUntil > 0;
    return {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(blocked ? 0 : Math.max(0, limit - p.used)),
        'x-ratelimit-used': String(blocked ? Math.max(limit, p.used) : p.used),
        'x-ratelimit-reset': String(Math.ceil((blocked ? p.blockedUntil : p.resetAt) / 1000)),
        'x-ratelimit-resource': 'core',
    };
}

// ---- Outcomes -------------------------------------------------------------------------------

const BEHAVIOURS = new Set(['ok', '401', '403', '404', '422', '500', '502', '503', 'hang', 'reset', 'rate_limit', 'secondary']);
const ALIASES = { primary: 'rate_limit', ratelimit: 'rate_limit', secondary_rate_limit: 'secondary', disconnect: 'reset', latency: 'ok' };

// "500", "500*3", "latency:200", "hang:1000", "rate_limit:2", "secondary:5", or an object
// {behaviour, status, reset_in_s, retry_after_s, latency_ms, headers, body, times, path}.
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
            else if (b === 'rate_limit') out.reset_in_s = Number(m[2]);
            else if (b === 'secondary') out.retry_after_s = Number(m[2]);
            else throw new Error(`${b} takes no argument`);
        }
        if (m[3] !== undefined) out.times = Number(m[3]);
        o = out;
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('an outcome is a string or an object');
    const out = { ...o };
    const b = o.behaviour ?? o.behavior;
    out.behaviour = ALIASES[b] ?? b ?? (o.status !== undefined ? 'raw' : 'ok');
    delete out.behavior;
    if (out.behaviour !== 'raw' && !BEHAVIOURS.has(String(out.behaviour))) throw new Error(`unknown behaviour ${JSON.stringify(out.behaviour)}`);
    out.behaviour = String(out.behaviour);
    if (out.behaviour === 'raw' && !(Number.isInteger(out.status) && out.status >= 100 && out.status <= 599)) throw new Error('a raw outcome needs a status 100..599');
    if (['rate_limit', 'secondary'].includes(out.behaviour) && out.status !== undefined && ![403, 429].includes(out.status)) {
        throw new Error('a rate-limit outcome has status 403 or 429');
    }
    for (const k of ['latency_ms', 'reset_in_s', 'retry_after_s']) {
        if (out[k] !== undefined && !(Number.isFinite(out[k]) && out[k] >= 0)) throw new Error(`${k} must be a number >= 0`);
    }
    if (out.times !== undefined && !(Number.isInteger(out.times) && out.times >= 1)) throw new Error('times must be an integer >= 1');
    if (out.path !== undefined && typeof out.path !== 'string') throw new Error('path must be a string');
    return out;
}

function pathMatches(pattern, path) {
    if (pattern === undefined) return true;
    const p = pattern.toLowerCase();
    const q = path.toLowerCase();
    return p.endsWith('*') ? q.startsWith(p.slice(0, -1)) : q === p;
}
function takeOutcome(path) {
    const i = script.findIndex((o) => pathMatches(o.path, path));
    if (i < 0) return null;
    const o = script[i];
    if (o.times !== undefined && o.times > 1) script[i] = { ...o, times: o.times - 1 };
    else script.splice(i, 1);
    return o;
}

// ---- Answers --------------------------------------------------------------------------------

function send(res, ctx, status, body, headers = {}, contentType = 'application/json; charset=utf-8') {
    if (res.destroyed || res.writableEnded) return;
    const text = body === null ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
    const all = {
        'content-type': contentType,
        'content-length': Buffer.byteLength(text),
        'x-github-request-id': ctx.requestId,
        'x-github-media-type': 'github.v3; format=json',
        'x-github-api-version-selected': ctx.version,
        'access-control-expose-headers': 'ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset',
        'access-control-allow-origin': '*',
        vary: 'Accept, Authorization, Cookie, X-GitHub-OTP,Accept-Encoding, Accept, X-Requested-With',
        ...(ctx.pool ? rateHeaders(ctx.pool) : {}),
        ...headers,
    };
    for (const [k, v] of Object.entries(all)) if (v === null || v === undefined) delete all[k];
    if (status === 304) delete all['content-length'];
    res.writeHead(status, all);
    res.end(status === 304 ? undefined : text);
    if (ctx.record) { ctx.record.status = status; ctx.record.response_ms = Date.now() - ctx.started; }
}
function apiError(res, ctx, status, message, doc = DOCS.root, headers = {}) {
    send(res, ctx, status, { message, documentation_url: doc, status: String(status) }, headers);
}
function rateLimited(res, ctx, status) {
    const who = ctx.pool === 'anon'
        ? `${ctx.ip}. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)`
        : `user ID ${ctx.userId}.`;
    apiError(res, ctx, status, `API rate limit exceeded for ${who}`, DOCS.primary);
}
function secondaryLimited(res, ctx, status, seconds) {
    apiError(res, ctx, status,
        `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${ctx.requestId}.`,
        DOCS.secondary, { 'retry-after': String(Math.max(1, Math.ceil(seconds))) });
}

function intParam(v, dflt) {
    if (v === null || v === '' || !/^\d+$/.test(v)) return dflt;
    return Number(v);
}

// GET /users/{login}/repos and /user/{id}/repos: sorted, paged, with a Link header whose URLs use
// the /user/{id}/repos form (not the request's) so that clients must follow them verbatim.
function listRepos(res, ctx, user, url) {
    const q = url.searchParams;
    const type = q.get('type') ?? 'owner';
    const sort = ['created', 'updated', 'pushed', 'full_name'].includes(q.get('sort')) ? q.get('sort') : 'full_name';
    const direction = ['asc', 'desc'].includes(q.get('direction')) ? q.get('direction') : (sort === 'full_name' ? 'asc' : 'desc');
    let perPage = intParam(q.get('per_page'), 30);
    if (perPage < 1) perPage = 30;
    perPage = Math.min(perPage, 100);
    let page = intParam(q.get('page'), 1);
    if (page < 1) page = 1;
    let list = type === 'member' ? [] : user.repos.slice();
    const key = { created: 'created_at', updated: 'updated_at', pushed: 'pushed_at' }[sort];
    list.sort((a, b) => {
        let c;
        if (sort === 'full_name') c = a.full_name.toLowerCase() < b.full_name.toLowerCase() ? -1 : a.full_name.toLowerCase() > b.full_name.toLowerCase() ? 1 : 0;
        else c = (a[key] ?? '').localeCompare(b[key] ?? '') || a.id - b.id;
        return direction === 'asc' ? c : -c;
    });
    const total = list.length;
    const last = Math.max(1, Math.ceil(total / perPage));
    const slice = list.slice((page - 1) * perPage, page * perPage);
    const headers = {};
    if (last > 1 || page > 1) {
        const extra = [];
        for (const k of ['type', 'sort', 'direction']) if (q.get(k) !== null) extra.push(`${k}=${encodeURIComponent(q.get(k))}`);
        const link = (p) => `${api()}/user/${user.id}/repos?${[...extra, `per_page=${perPage}`, `page=${p}`].join('&')}`;
        const parts = [];
        if (page > 1) parts.push(`<${link(Math.min(page - 1, last))}>; rel="prev"`);
        if (page < last) parts.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
        if (page > 1) parts.push(`<${link(1)}>; rel="first"`);
        headers.link = parts.join(', ');
    }
    return answerJson(res, ctx, slice.map((r) => repoJson(user, r)), headers);
}

// 200 with an ETag; 304 (not counted against the limit) when If-None-Match matches.
function answerJson(res, ctx, value, headers = {}) {
    const text = JSON.stringify(value);
    const etag = `W/"${crypto.createHash('sha256').update(text).digest('hex').slice(0, 64)}"`;
    const inm = ctx.req.headers['if-none-match'];
    if (inm && inm.split(',').map((s) => s.trim()).includes(etag)) {
        if (ctx.counted) { pool(ctx.pool).used -= 1; ctx.counted = false; }
        return send(res, ctx, 304, null, { etag, ...headers });
    }
    return send(res, ctx, 200, text, { etag, 'cache-control': 'public, max-age=60, s-maxage=60', ...headers });
}

// ---- Control API ----------------------------------------------------------------------------

function resetState(keepUsers) {
    script = [];
    requests = [];
    pools = new Map();
    Object.assign(config, initial);
    if (!keepUsers) {
        users = new Map();
        usersById = new Map();
        repoIds.clear();
        if (initialUsersFile) loadUsers(JSON.parse(fs.readFileSync(initialUsersFile, 'utf8')));
    }
}

function control(req, res, path, raw, url) {
    const parsedBody = controlBody(res, raw);
    if (!parsedBody) return;
    const { body } = parsedBody;
    const route = `${req.method} ${path}`;
    const p = url.searchParams.get('path');
    if (commonControl(req, res, path, { health: { base_url: api() }, requests, keep: (r) => !p || pathMatches(p, r.path) })) return;
    if (route === 'GET /_control/script') return json(res, 200, { remaining: script.length, script });
    if (route === 'POST /_control/script') {
        const parsed = scriptFromBody(res, body, normalizeOutcome);
        if (!parsed) return;
        script = url.searchParams.get('append') ? [...script, ...parsed] : parsed;
        return json(res, 200, { remaining: script.length });
    }
    if (route === 'POST /_control/reset') {
        try { resetState(Boolean(url.searchParams.get('keep_users'))); } catch (e) { return json(res, 500, { error: e.message }); }
        return json(res, 200, { ok: true, users: users.size });
    }
    if (route === 'POST /_control/users') {
        if (body === null) return json(res, 400, { error: 'send a user object or a list of them' });
        if (url.searchParams.get('replace')) { users = new Map(); usersById = new Map(); repoIds.clear(); }
        let made;
        try { made = loadUsers(body); } catch (e) { return json(res, 400, { error: e.message }); }
        return json(res, 200, { count: made.length, users: made.map((u) => ({ login: u.login, id: u.id, type: u.type, public_repos: u.public_repos, repos: u.repos.length })) });
    }
    if (route === 'GET /_control/users') {
        return json(res, 200, { count: users.size, users: [...users.values()].map((u) => ({ login: u.login, id: u.id, type: u.type, public_repos: u.public_repos, repos: u.repos.length })) });
    }
    if (route === 'POST /_control/config') {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) return json(res, 400, { error: 'send a JSON object' });
        for (const k of ['token', 'anonymous', 'limit', 'anon_limit', 'window_s', 'rate_limit_status', 'latency_ms']) {
            if (k in body) config[k] = body[k];
        }
        if ('limit' in body || 'anon_limit' in body || 'window_s' in body) pools = new Map();
        return json(res, 200, { ...config });
    }
    return json(res, 404, { error: `no control endpoint ${req.method} ${path}` });
}

// ---- Request handling -----------------------------------------------------------------------

async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;
    const raw = (await readBody(req)).toString('utf8');
    if (path.startsWith('/_control/')) return control(req, res, path, raw, url);

    const ctx = {
        req, requestId: requestId(), started: Date.now(), record: null, closed: false, pool: null, counted: false,
        version: '2022-11-28', ip: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', userId: null,
    };
    res.on('close', () => { ctx.closed = true; });
    ctx.record = {
        seq: ++seq, time: new Date().toISOString(), method: req.method, path, query: Object.fromEntries(url.searchParams),
        url: req.url, headers: req.headers, request_id: ctx.requestId, authenticated: null, status: null, outcome: null,
    };
    requests.push(ctx.record);

    // The edge refuses requests without a User-Agent before anything else (a text/html page).
    const ua = req.headers['user-agent'];
    if (ua === undefined || ua.trim() === '') {
        ctx.pool = req.headers.authorization ? 'token' : 'anon';
        return send(res, ctx, 403,
            '\r\nRequest forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\r\n',
            { 'x-github-media-type': null, 'x-github-api-version-selected': null }, 'text/html');
    }
    const version = req.headers['x-github-api-version'];
    if (version !== undefined) {
        if (!SUPPORTED_VERSIONS.includes(version.trim())) {
            ctx.version = null;
            return apiError(res, ctx, 400,
                `The version you specified in the "X-GitHub-Api-Version" request header, "${version}", is not a supported version. The following versions are currently supported: ${SUPPORTED_VERSIONS.map((v, i) => `"${v}"${i === 0 ? ' (most recent)' : ''}`).join(', ')}.`,
                DOCS.versions);
        }
        ctx.version = version.trim();
    }

    // Credentials: "Bearer T" or "token T". With a configured token only it is accepted, and
    // anonymous requests need --anonymous; without one every token and anonymous requests pass.
    const auth = req.headers.authorization;
    if (auth !== undefined) {
        const m = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(auth);
        ctx.pool = 'token';
        if (!m || (config.token && m[1] !== config.token)) {
            ctx.record.authenticated = false;
            ctx.pool = 'anon';
            return apiError(res, ctx, 401, 'Bad credentials', DOCS.root);
        }
        ctx.record.authenticated = true;
        ctx.userId = 1000 + (fnv1a(m[1]) % 1000000);
    } else {
        ctx.pool = 'anon';
        ctx.record.authenticated = false;
        if (config.token && !config.anonymous) return apiError(res, ctx, 401, 'Requires authentication', DOCS.root);
    }

    // Routes.
    const seg = path.split('/').slice(1);
    const get = req.method === 'GET' || req.method === 'HEAD';
    let route = null;
    if (get && seg.length === 1 && seg[0] === 'rate_limit') route = 'rate_limit';
    else if (get && seg[0] === 'users' && seg.length === 2 && seg[1] !== '') route = 'user';
    else if (get && seg[0] === 'users' && seg.length === 3 && seg[2] === 'repos') route = 'repos';
    else if (get && seg[0] === 'user' && seg.length === 2 && /^\d+$/.test(seg[1])) route = 'user';
    else if (get && seg[0] === 'user' && seg.length === 3 && /^\d+$/.test(seg[1]) && seg[2] === 'repos') route = 'repos';

    if (route === 'rate_limit') {   // does not count against the limit
        const core = rateHeaders(ctx.pool);
        const r = {
            limit: Number(core['x-ratelimit-limit']), remaining: Number(core['x-ratelimit-remaining']),
            reset: Number(core['x-ratelimit-reset']), used: Number(core['x-ratelimit-used']), resource: 'core',
        };
        return send(res, ctx, 200, { resources: { core: r }, rate: r });
    }

    const p = pool(ctx.pool);
    const now = Date.now();
    if (p.blockedUntil > now) { ctx.record.outcome = 'rate_limit'; return rateLimited(res, ctx, p.blockedStatus); }
    if (p.secondaryUntil > now) { ctx.record.outcome = 'secondary'; return secondaryLimited(res, ctx, p.secondaryStatus, (p.secondaryUntil - now) / 1000); }
    if (p.used >= poolLimit(ctx.pool)) {
        // Exhausted by use: stays so until the window's reset.
        p.blockedUntil = p.resetAt;
        p.blockedStatus = config.rate_limit_status;
        ctx.record.outcome = 'rate_limit';
        return rateLimited(res, ctx, p.blockedStatus);
    }

    let outcome = (route ? takeOutcome(path) : null) ?? { behaviour: 'ok' };
    outcome = withLatency(outcome, config.latency_ms);
    ctx.record.outcome = outcome.behaviour;
    if (outcome.behaviour === 'rate_limit') {
        p.blockedUntil = Date.now() + (outcome.reset_in_s ?? 60) * 1000;
        p.blockedStatus = outcome.status ?? config.rate_limit_status;
        return rateLimited(res, ctx, p.blockedStatus);
    }
    if (outcome.behaviour === 'secondary') {
        const s = outcome.retry_after_s ?? 60;
        if (outcome.sticky !== false) { p.secondaryUntil = Date.now() + s * 1000; p.secondaryStatus = outcome.status ?? 403; }
        return secondaryLimited(res, ctx, outcome.status ?? 403, s);
    }
    p.used += 1;
    ctx.counted = true;

    if (await waitLatency(ctx, outcome, true)) return;
    const extra = outcome.headers ?? {};
    switch (outcome.behaviour) {
        case 'raw': return rawAnswer(send, res, ctx, outcome, 'application/json; charset=utf-8');
        case 'hang': case 'reset': hangOrReset(req, ctx, outcome); return;
        case '401': return apiError(res, ctx, 401, 'Bad credentials', DOCS.root, extra);
        case '403': return apiError(res, ctx, 403, 'Resource not accessible by personal access token', DOCS.user, extra);
        case '404': return apiError(res, ctx, 404, 'Not Found', route === 'repos' ? DOCS.repos : route ? DOCS.user : DOCS.root, extra);
        case '422': return send(res, ctx, 422, { message: 'Validation Failed', errors: [{ resource: 'Search', field: 'q', code: 'invalid' }], documentation_url: DOCS.root, status: '422' }, extra);
        case '500': return apiError(res, ctx, 500, 'Server Error', DOCS.root, extra);
        case '502':
            return send(res, ctx, 502, '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n',
                { 'x-github-media-type': null, ...extra }, 'text/html');
        case '503': return apiError(res, ctx, 503, 'Service Unavailable', DOCS.root, extra);
        default: break;
    }

    if (!route) return apiError(res, ctx, 404, 'Not Found', DOCS.root);
    const byId = seg[0] === 'user';
    let login = seg[1];
    try { login = decodeURIComponent(login); } catch { /* not a login then */ }
    const user = byId ? usersById.get(Number(seg[1])) : users.get(login.toLowerCase());
    if (!user) return apiError(res, ctx, 404, 'Not Found', route === 'repos' ? DOCS.repos : byId ? DOCS.userById : DOCS.user);
    if (route === 'user') return answerJson(res, ctx, fullUser(user), extra);
    return listRepos(res, ctx, user, url);
}

// ---- Server and lifetime --------------------------------------------------------------------

serve({
    name: 'github_fake', opts, log, handle,
    internalError: (e) => ({ message: `github_fake internal error: ${e.message}` }),
    onListening: (port) => { if (!baseUrl) baseUrl = `http://127.0.0.1:${port}`; },
});

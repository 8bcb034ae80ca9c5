#!/usr/bin/env node
// Writes a ground-truth set for the built-in parser: JSON Resume documents drawn from a seeded
// random source, each rendered to PDF through an npm JSON Resume theme or one of our own layouts
// with headless Chromium, or written as LaTeX for a CV class of Debian's TeX Live and compiled
// with LuaLaTeX (latex.js), and "scans" of some of those PDFs (rasterised, rotated, noisy: an
// image-only PDF, a PNG or a JPEG; scan.cpp). The truth is exact by construction: it is the
// document that was rendered. Usage:
//   node generate.js --out DIR [--count N] [--latex N] [--scans N] [--seed S] [--jobs J]
// --count is the number of HTML cases (case i is the same document, renderer and half whatever
// the other counts); --latex defaults to count/5 and --scans to count/10 (0 turns either off).
// Writes DIR/tuning/ and DIR/heldout/ (cases alternate between them, every renderer in both; a
// scan is in its source's half), each case as <id>.pdf (or .png/.jpg), <id>.resume.json and
// <id>.truth.json (the corpus truth format: name, email, phone, urls, employers, schools; plus
// renderer, medium (html, latex, scan) and country; a scan also names its source and format).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile, execFileSync } = require('child_process');
const P = require('./people');
const layouts = require('./layouts');
const latex = require('./latex');

function args() {
  const a = { out: null, count: 200, latex: null, scans: null, seed: 20240610, jobs: 2 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
  if (!a.out) throw new Error('usage: generate.js --out DIR [--count N] [--latex N] [--scans N] [--seed S] [--jobs J]');
  a.count = Number(a.count); a.seed = Number(a.seed); a.jobs = Number(a.jobs);
  a.latex = a.latex === null ? Math.round(a.count / 5) : Number(a.latex);
  a.scans = a.scans === null ? Math.round(a.count / 10) : Number(a.scans);
  return a;
}

// mulberry32: small, fast, and the same sequence on every machine.
function random(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const digitsOf = (fmt, rnd) => fmt.replace(/d/g, () => String(rnd.int(0, 9)));
const pad = (n) => String(n).padStart(2, '0');

// A date at one of three precisions (themes print what they are given).
function isoDate(y, m, precision) {
  if (precision === 0) return `${y}`;
  if (precision === 1) return `${y}-${pad(m)}`;
  return `${y}-${pad(m)}-01`;
}

function personName(culture, rnd) {
  const c = P.cultures[culture];
  const given = rnd.pick(c.given), family = rnd.pick(c.family);
  if (c.order === 'family-first-nospace') return family + given;
  if (c.order === 'family-first') return `${family} ${given}`;
  if (rnd.chance(0.12) && culture !== 'ar') return `${given} ${rnd.pick(c.given).charAt(0)}. ${family}`;
  return `${given} ${family}`;
}

function asciiStem(name, rnd) {
  const folded = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[łŁ]/g, 'l').replace(/[øØ]/g, 'o')
    .replace(/[æÆ]/g, 'ae').replace(/ß/g, 'ss').replace(/[þÞ]/g, 'th').replace(/ı/g, 'i').replace(/đ/g, 'd').toLowerCase();
  const words = folded.split(/[^a-z]+/).filter(Boolean);
  if (words.length < 2) return `${rnd.pick(P.emailStems)}.${rnd.pick(P.emailStems)}${rnd.int(1, 99)}`;
  const first = words[0], last = words[words.length - 1];
  return rnd.pick([`${first}.${last}`, `${first[0]}${last}`, `${first}_${last}${rnd.int(1, 9)}`, `${last}.${first}`, `${first}${last}`]);
}

function employer(culture, rnd) {
  if (P.localOrgs[culture] && rnd.chance(0.35)) return rnd.pick(P.localOrgs[culture]);
  const first = rnd.pick(P.brandFirst);
  switch (rnd.int(0, 5)) {
    case 0: return first;                                             // "Quorra"
    case 1: return `${first} ${rnd.pick(P.brandSecond)}`;             // "Kestrel Analytics"
    case 2: return `${first} ${rnd.pick(P.legalForms)}`;              // "Helix GmbH"
    case 3: return `${first} ${rnd.pick(P.brandSecond)} ${rnd.pick(P.legalForms)}`;
    case 4: return `${first} & ${rnd.pick(P.brandFirst)}`;            // "Ardent & Lumen"
    default: return `${first}${rnd.pick(['ly', 'io', 'Labs', 'Hub', 'Soft'])}`;
  }
}

function makeResume(rnd) {
  const country = rnd.pick(P.countries);
  const culture = rnd.chance(0.85) ? rnd.pick(country.cultures) : rnd.pick(Object.keys(P.cultures));
  const name = personName(culture, rnd);
  const stem = asciiStem(name, rnd);
  const domain = rnd.pick(['gmail.com', 'outlook.com', 'proton.me', 'example.org', 'mail.de', 'yandex.ru', 'web.de',
                           'posteo.net', 'icloud.com', 'fastmail.fm']);
  const placeRow = rnd.pick(country.places);
  const street = rnd.pick(P.streets[country.code] || P.streets.default);
  const location = country.address(placeRow, street);
  location.countryCode = country.code;
  const handle = stem.replace(/[._]/g, '-');
  const profiles = [];
  if (rnd.chance(0.7)) profiles.push({ network: 'GitHub', username: handle, url: `https://github.com/${handle}` });
  if (rnd.chance(0.6)) profiles.push({ network: 'LinkedIn', username: handle, url: `https://www.linkedin.com/in/${handle}` });
  const basics = {
    name,
    label: rnd.pick(P.titles),
    email: `${stem}@${domain}`,
    phone: digitsOf(rnd.pick(country.phones), rnd),
    url: rnd.chance(0.4) ? `https://${handle}.${rnd.pick(['dev', 'io', 'me', 'com'])}` : undefined,
    summary: rnd.chance(0.6) ? `${rnd.pick(P.titles)} with ${rnd.int(2, 20)} years of experience in ${rnd.pick(P.areas).toLowerCase()}.` : undefined,
    location,
    profiles,
  };
  // Jobs back from the present, newest first (themes list them as given).
  const precision = rnd.int(0, 2);
  const jobs = [];
  let year = 2024 - rnd.int(0, 2), month = rnd.int(1, 12);
  const njobs = rnd.int(1, 8);
  const used = new Set();
  for (let j = 0; j < njobs; ++j) {
    let org = employer(culture, rnd);
    while (used.has(org)) org = employer(culture, rnd);
    used.add(org);
    const endY = year, endM = month;
    const len = rnd.int(4, 50);
    const startTotal = endY * 12 + endM - 1 - len;
    const startY = Math.floor(startTotal / 12), startM = (startTotal % 12) + 1;
    const job = {
      name: org,
      position: rnd.pick(P.titles),
      location: rnd.chance(0.5) ? rnd.pick(country.places)[0] : undefined,
      startDate: isoDate(startY, startM, precision),
      endDate: j === 0 && rnd.chance(0.6) ? undefined : isoDate(endY, endM, precision),
      summary: rnd.chance(0.5) ? `${rnd.pick(P.verbs)} ${rnd.pick(P.objects)}.` : undefined,
      highlights: Array.from({ length: rnd.int(0, 3) }, () => `${rnd.pick(P.verbs)} ${rnd.pick(P.objects)}.`),
    };
    job.company = org;  // the older schema's key, which some themes still print
    jobs.push(job);
    year = startY - rnd.int(0, 1);
    month = startM;
  }
  const nschools = rnd.int(1, 3);
  const education = [];
  const pool = (P.schools[culture] || []).concat(P.schools.en, P.schools.latinized);
  const own = P.schools[culture] || P.schools.latinized;
  let ey = year;
  for (let k = 0; k < nschools; ++k) {
    let inst = rnd.chance(0.7) ? rnd.pick(own) : rnd.pick(pool);
    while (education.some((e) => e.institution === inst)) inst = rnd.pick(pool);
    const sy = ey - rnd.int(2, 5);
    education.push({ institution: inst, area: rnd.pick(P.areas), studyType: rnd.pick(P.studyTypes),
                     startDate: isoDate(sy, 9, precision), endDate: isoDate(ey, 6, precision) });
    ey = sy - rnd.int(0, 1);
  }
  const skills = [];
  for (const [g, kw] of P.skillGroups) if (rnd.chance(0.5)) skills.push({ name: g, keywords: kw.filter(() => rnd.chance(0.6)) });
  return { resume: { basics, work: jobs, education, skills, languages: [{ language: 'English', fluency: 'Fluent' }] }, country };
}

function truthOf(resume) {
  const b = resume.basics;
  return {
    name: b.name,
    email: b.email,
    phone: b.phone,
    urls: [b.url, ...(b.profiles || []).map((p) => p.url)].filter(Boolean),
    employers: resume.work.map((w) => w.name),
    schools: resume.education.map((e) => e.institution),
  };
}

// Renderers: npm themes (render(resume) → HTML) and our own layouts (render(resume, rnd)).
async function loadRenderers() {
  const out = [];
  for (const t of ['elegant', 'flat', 'kendall', 'macchiato', 'stackoverflow']) {
    const m = require(`jsonresume-theme-${t}`);
    out.push({ name: t, render: (r) => m.render(r) });
  }
  const even = await import('jsonresume-theme-even');
  out.push({ name: 'even', render: (r) => (even.render || even.default.render)(r) });
  for (const [name, f] of Object.entries(layouts)) out.push({ name: `own-${name}`, render: f, own: true });
  return out;
}

// Stylesheets the themes link from CDNs, served from npm packages (the network is closed);
// every other remote request (web fonts, avatars, scripts) is refused, so renders are the same
// offline and on every run.
function localAsset(url) {
  const nm = path.join(__dirname, 'node_modules');
  if (/bootstrap(\.min)?\.css/.test(url)) return [path.join(nm, 'bootstrap/dist/css/bootstrap.min.css'), 'text/css'];
  if (/font-awesome[^/]*\/(4\.|css\/font-awesome)/.test(url) && /\.css/.test(url))
    return [path.join(nm, 'font-awesome/css/font-awesome.min.css'), 'text/css'];
  const m = url.match(/fontawesome-webfont\.(woff2|woff|ttf)/);
  if (m) return [path.join(nm, `font-awesome/fonts/fontawesome-webfont.${m[1]}`), `font/${m[1]}`];
  return null;
}

// The plan of a set: every case with its id, half, renderer and random stream. HTML case i is
// what it was before the LaTeX and scan cases existed: stream seed·1000003 + i, renderer i mod 10,
// blocks of ten alternating between the halves. LaTeX case j has a stream of its own (the same
// numbers xor a constant), renderer j mod 5, blocks of five alternating. Scan k takes, in half
// k mod 2, a case of renderer ⌊k/2⌋ mod 15 (HTML then LaTeX), the ⌊k/30⌋-th of that renderer there.
function plan(a, html, tex) {
  const halfOf = (i, n) => (Math.floor(i / n) % 2 === 0 ? 'tuning' : 'heldout');
  const cases = [];
  for (let i = 0; i < a.count; ++i) {
    const r = html[i % html.length];
    cases.push({ medium: 'html', i, renderer: r, half: halfOf(i, html.length), seed: a.seed * 1000003 + i,
                 id: `gt${String(i).padStart(5, '0')}_${r.name}` });
  }
  for (let j = 0; j < a.latex; ++j) {
    const r = tex[j % tex.length];
    cases.push({ medium: 'latex', i: j, renderer: r, half: halfOf(j, tex.length), seed: (a.seed * 1000003 + j) ^ 0x2c1b3c6d,
                 id: `lx${String(j).padStart(5, '0')}_${r.name}` });
  }
  const scans = [];
  const all = html.length + tex.length;
  for (let k = 0; k < a.scans; ++k) {
    const r = Math.floor(k / 2) % all, h = k % 2, m = Math.floor(k / (2 * all));
    const src = r < html.length
      ? cases.find((c) => c.medium === 'html' && c.i === html.length * (2 * m + h) + r)
      : cases.find((c) => c.medium === 'latex' && c.i === tex.length * (2 * m + h) + (r - html.length));
    if (!src) continue;  // a small set: no such case to scan
    const format = ['pdf', 'pdf', 'pdf', 'png', 'jpeg'][k % 5];
    scans.push({ medium: 'scan', i: k, source: src, half: src.half, format, seed: (a.seed * 1000003 + k) ^ 0x5ca7a11d,
                 id: `sc${String(k).padStart(5, '0')}_scan-${src.renderer.name}` });
  }
  return { cases, scans };
}

// Runs `work(item, worker)` over `items`, `jobs` at a time; worker is 0 … jobs-1.
async function pool(items, jobs, work) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, async (_, w) => {
    while (next < items.length) await work(items[next++], w);
  }));
}

const run = (cmd, argv, opts = {}) => new Promise((resolve, reject) => {
  execFile(cmd, argv, { timeout: 120000, killSignal: 'SIGKILL', ...opts }, (err, stdout, stderr) =>
    (err ? reject(new Error(`${cmd}: ${err.killed ? 'timed out' : String(stderr).trim() || err.message}`)) : resolve(stdout)));
});

async function main() {
  const a = args();
  const renderers = await loadRenderers();
  const texRenderers = Object.entries(latex.renderers).map(([name, render]) => ({ name, render }));
  const { cases, scans } = plan(a, renderers, texRenderers);
  for (const half of ['tuning', 'heldout']) fs.mkdirSync(path.join(a.out, half), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-generate-'));
  // moment (in some themes) warns on every non-ISO date; the warnings are noise here.
  console.warn = () => {};
  const started = Date.now();
  let failed = 0;
  const counts = {}, secs = {};
  const made = new Set();
  const save = (c, resume, country, extra = {}) => {
    const base = path.join(a.out, c.half, c.id);
    fs.writeFileSync(`${base}.resume.json`, JSON.stringify(resume, null, 1));
    fs.writeFileSync(`${base}.truth.json`, JSON.stringify({ ...truthOf(resume), renderer: extra.renderer || c.renderer.name,
                                                            medium: c.medium, country: country.code, ...extra }, null, 1));
    const name = extra.renderer || c.renderer.name;
    counts[name] = (counts[name] || 0) + 1;
    made.add(c.id);
  };
  const fail = (c, e) => { ++failed; process.stderr.write(`${c.id}: ${e.message}\n`); };
  const phase = async (name, f) => { const t = Date.now(); await f(); secs[name] = Number(((Date.now() - t) / 1000).toFixed(1)); };

  // HTML through Chromium, two pages at a time (one browser).
  await phase('html', async () => {
    const htmlCases = cases.filter((c) => c.medium === 'html');
    if (!htmlCases.length) return;
    const puppeteer = require('puppeteer-core');
    const browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      userDataDir: path.join(tmp, 'chromium'),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync'],
    });
    const pages = [];
    for (let p = 0; p < a.jobs; ++p) {
      const page = await browser.newPage();
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        const url = req.url();
        if (url.startsWith('data:') || url === 'about:blank') return req.continue();
        const local = localAsset(url);
        if (local && fs.existsSync(local[0])) return req.respond({ status: 200, contentType: local[1], body: fs.readFileSync(local[0]) });
        return req.abort();
      });
      pages.push(page);
    }
    await pool(htmlCases, a.jobs, async (c, w) => {
      const page = pages[w];
      // Each case has its own stream, so a case does not change when the count does.
      const rnd = random(c.seed);
      const { resume, country } = makeResume(rnd);
      try {
        // A copy: some themes rewrite the document they are given (summaries as <p>…</p>).
        const html = await c.renderer.render(structuredClone(resume), rnd);
        await page.setContent(html, { waitUntil: 'load', timeout: 20000 });
        await page.pdf({ path: path.join(a.out, c.half, `${c.id}.pdf`), format: rnd.chance(0.5) ? 'A4' : 'Letter', printBackground: true });
        save(c, resume, country);
      } catch (e) { fail(c, e); }
    });
    await browser.close();
  });

  // LaTeX with LuaLaTeX, `jobs` compiles at a time after a first one alone (on a new machine it
  // builds luaotfload's font database, which two compiles should not both write).
  await phase('latex', async () => {
    const texCases = cases.filter((c) => c.medium === 'latex');
    const one = async (c) => {
      const rnd = random(c.seed);
      const { resume, country } = makeResume(rnd);
      try {
        await latex.compile(c.renderer.render(resume, rnd), path.join(a.out, c.half, `${c.id}.pdf`), { tmp });
        save(c, resume, country);
      } catch (e) { fail(c, e); }
    };
    if (texCases.length) await one(texCases[0]);
    await pool(texCases.slice(1), a.jobs, one);
  });

  // Scans: pdftoppm renders the source's first pages in grey (two for a PDF scan, one for a
  // photo), gt_scan (scan.cpp, built here with Leptonica) rotates them and adds noise.
  await phase('scans', async () => {
    if (!scans.length) return;
    const tool = path.join(tmp, 'gt_scan');
    const lept = execFileSync('pkg-config', ['--cflags', '--libs', 'lept']).toString().trim().split(/\s+/);
    execFileSync('g++', ['-std=c++17', '-O2', '-o', tool, path.join(__dirname, 'scan.cpp'), ...lept]);
    await pool(scans, a.jobs, async (s) => {
      if (!made.has(s.source.id)) return fail(s, new Error(`its source ${s.source.id} was not made`));
      const rnd = random(s.seed);
      const dpi = rnd.pick([150, 200, 200, 300]);
      const angle = (rnd.chance(0.5) ? -1 : 1) * (0.4 + 1.1 * rnd.next());
      const noise = 4 + 10 * rnd.next();
      const work = fs.mkdtempSync(path.join(tmp, 'scan-'));
      const srcBase = path.join(a.out, s.half, s.source.id);
      const ext = { pdf: 'pdf', png: 'png', jpeg: 'jpg' }[s.format];
      try {
        await run('pdftoppm', ['-r', String(dpi), '-gray', '-f', '1', '-l', s.format === 'pdf' ? '2' : '1', `${srcBase}.pdf`, path.join(work, 'p')]);
        const pageFiles = fs.readdirSync(work).filter((f) => f.endsWith('.pgm')).sort().map((f) => path.join(work, f));
        await run(tool, ['--out', path.join(a.out, s.half, `${s.id}.${ext}`), '--format', s.format, '--dpi', String(dpi),
                         '--angle', angle.toFixed(2), '--noise', noise.toFixed(1), '--seed', String(s.seed >>> 0),
                         '--quality', String(rnd.int(60, 90)), '--gradient', s.format === 'pdf' ? '0' : (0.05 + 0.2 * rnd.next()).toFixed(2),
                         ...pageFiles]);
        const resume = JSON.parse(fs.readFileSync(`${srcBase}.resume.json`, 'utf8'));
        const srcTruth = JSON.parse(fs.readFileSync(`${srcBase}.truth.json`, 'utf8'));
        save(s, resume, { code: srcTruth.country }, { renderer: `scan-${s.source.renderer.name}`, scan: s.format,
                                                       scan_of: s.source.id, scan_pages: pageFiles.length, dpi });
      } catch (e) { fail(s, e); } finally { fs.rmSync(work, { recursive: true, force: true }); }
    });
  });
  fs.rmSync(tmp, { recursive: true, force: true });
  const total = cases.length + scans.length;
  const took = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${total - failed} résumés in ${took} s (${JSON.stringify(secs)}; ${failed} failed): ${JSON.stringify(counts)}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });

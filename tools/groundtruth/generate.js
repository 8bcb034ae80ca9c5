#!/usr/bin/env node
// Writes a ground-truth set for the built-in parser: JSON Resume documents drawn from a seeded
// random source, each rendered to PDF through an npm JSON Resume theme or one of our own layouts
// with headless Chromium. The truth is exact by construction: it is the document that was
// rendered. Usage:
//   node generate.js --out DIR [--count N] [--seed S] [--jobs J]
// writes DIR/tuning/ and DIR/heldout/ (cases alternate between them, every renderer in both),
// each case as <id>.pdf, <id>.resume.json and <id>.truth.json (the corpus truth format:
// name, email, phone, urls, employers, schools; plus renderer and country).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const P = require('./people');
const layouts = require('./layouts');

function args() {
  const a = { out: null, count: 200, seed: 20240610, jobs: 2 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
  if (!a.out) throw new Error('usage: generate.js --out DIR [--count N] [--seed S] [--jobs J]');
  a.count = Number(a.count); a.seed = Number(a.seed); a.jobs = Number(a.jobs);
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

async function main() {
  const a = args();
  const puppeteer = require('puppeteer-core');
  const renderers = await loadRenderers();
  for (const half of ['tuning', 'heldout']) fs.mkdirSync(path.join(a.out, half), { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rp-groundtruth-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    userDataDir: profile,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  // moment (in some themes) warns on every non-ISO date; the warnings are noise here.
  console.warn = () => {};
  const started = Date.now();
  let next = 0, failed = 0;
  const counts = {};
  async function worker() {
    const page = await browser.newPage();
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const url = req.url();
      if (url.startsWith('data:') || url === 'about:blank') return req.continue();
      const local = localAsset(url);
      if (local && fs.existsSync(local[0])) return req.respond({ status: 200, contentType: local[1], body: fs.readFileSync(local[0]) });
      return req.abort();
    });
    while (next < a.count) {
      const i = next++;
      // Each case has its own stream, so a case does not change when the count does.
      const rnd = random(a.seed * 1000003 + i);
      const renderer = renderers[i % renderers.length];
      const half = Math.floor(i / renderers.length) % 2 === 0 ? 'tuning' : 'heldout';
      const id = `gt${String(i).padStart(5, '0')}_${renderer.name}`;
      const { resume, country } = makeResume(rnd);
      const base = path.join(a.out, half, id);
      try {
        const html = await renderer.render(resume, rnd);
        await page.setContent(html, { waitUntil: 'load', timeout: 20000 });
        await page.pdf({ path: `${base}.pdf`, format: rnd.chance(0.5) ? 'A4' : 'Letter', printBackground: true });
        fs.writeFileSync(`${base}.resume.json`, JSON.stringify(resume, null, 1));
        fs.writeFileSync(`${base}.truth.json`, JSON.stringify({ ...truthOf(resume), renderer: renderer.name, country: country.code }, null, 1));
        counts[renderer.name] = (counts[renderer.name] || 0) + 1;
      } catch (e) {
        ++failed;
        process.stderr.write(`${id}: ${e.message}\n`);
      }
    }
    await page.close();
  }
  await Promise.all(Array.from({ length: a.jobs }, worker));
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${a.count - failed} résumés in ${secs} s (${failed} failed): ${JSON.stringify(counts)}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });

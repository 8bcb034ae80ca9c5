// Layouts of our own, next to the npm themes: the arrangements themes rarely produce and real
// résumés often do (organisation after the title, organisation and dates on one line, education
// in a second column, dates in a left column, section order varied). Each takes a JSON Resume
// document and the case's random source and returns HTML.
'use strict';

const esc = (s) => String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const { fmtDate } = require('./dates');

function range(e, style, dash) {
  return `${fmtDate(e.startDate, style)}${dash}${e.endDate ? fmtDate(e.endDate, style) : fmtDate(null, style)}`;
}
function place(e) { return e.location || ''; }
function contactItems(b) {
  const items = [];
  const loc = b.location || {};
  if (loc.address) items.push(`${loc.address}, ${loc.postalCode} ${loc.city}`);
  else if (loc.city) items.push(loc.city);
  if (b.email) items.push(b.email);
  if (b.phone) items.push(b.phone);
  if (b.url) items.push(b.url);
  for (const p of b.profiles || []) items.push(p.url);
  return items;
}
const css = `body{font-family:"DejaVu Sans",sans-serif;font-size:10.5pt;margin:28px 36px;color:#222}
h1{font-size:22pt;margin:0 0 4px}h2{font-size:12pt;text-transform:uppercase;border-bottom:1px solid #888;margin:16px 0 6px}
.row{display:flex;justify-content:space-between}.muted{color:#555}.entry{margin-bottom:9px}ul{margin:3px 0 0 18px;padding:0}`;

function bullets(e) {
  const h = e.highlights || [];
  return h.length ? `<ul>${h.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';
}

// Title first, then "Organisation · City" on its own line, dates to the right of the title.
function titleFirst(r, rnd) {
  const style = rnd.pick(['short', 'long', 'numeric', 'year', 'dotted']);
  const dash = rnd.pick([' – ', ' - ', ' — ', ' to ']);
  const sep = rnd.pick([' · ', ', ', ' | ']);
  const work = (r.work || []).map((e) => `<div class="entry"><div class="row"><b>${esc(e.position)}</b><span>${esc(range(e, style, dash))}</span></div>
    <div class="muted">${esc(e.name)}${place(e) ? esc(sep + place(e)) : ''}</div>${bullets(e)}</div>`).join('');
  const edu = (r.education || []).map((e) => `<div class="entry"><div class="row"><b>${esc(e.studyType)} in ${esc(e.area)}</b><span>${esc(range(e, style, dash))}</span></div>
    <div class="muted">${esc(e.institution)}</div></div>`).join('');
  const contact = contactItems(r.basics).map(esc).join(rnd.pick([' | ', ' · ', ' &nbsp; ']));
  const sections = [`<h2>${rnd.pick(['Experience', 'Work Experience', 'Professional Experience', 'Employment History'])}</h2>${work}`,
                    `<h2>${rnd.pick(['Education', 'Academic Background', 'Education & Training'])}</h2>${edu}`];
  if (rnd.chance(0.3)) sections.reverse();
  return `<html><head><meta charset="utf-8"><style>${css}</style></head><body><h1>${esc(r.basics.name)}</h1>
    ${r.basics.label ? `<div>${esc(r.basics.label)}</div>` : ''}<div class="muted">${contact}</div>
    ${r.basics.summary ? `<h2>Summary</h2><p>${esc(r.basics.summary)}</p>` : ''}${sections.join('')}
    <h2>Skills</h2><p>${(r.skills || []).map((s) => `${esc(s.name)}: ${s.keywords.map(esc).join(', ')}`).join('<br>')}</p></body></html>`;
}

// Everything on one line: "Title, Organisation, City    dates" or "Organisation — Title    dates".
function oneLine(r, rnd) {
  const style = rnd.pick(['short', 'numeric', 'year', 'iso', 'long']);
  const dash = rnd.pick([' – ', ' - ', '–']);
  const orgFirst = rnd.chance(0.5);
  const joiner = orgFirst ? rnd.pick([' — ', ' | ', ', ']) : rnd.pick([', ', ' at ', ' @ ', ' | ']);
  const datesLeft = rnd.chance(0.3);
  const line = (left, e) => datesLeft
    ? `<div class="entry"><span class="muted">${esc(range(e, style, dash))}</span> &nbsp; ${left}${bullets(e)}</div>`
    : `<div class="entry"><div class="row"><span>${left}</span><span class="muted">${esc(range(e, style, dash))}</span></div>${bullets(e)}</div>`;
  const work = (r.work || []).map((e) => {
    const left = orgFirst ? `<b>${esc(e.name)}</b>${esc(joiner)}${esc(e.position)}`
      : `<b>${esc(e.position)}</b>${esc(joiner)}${esc(e.name)}`;
    return line(left + (rnd.chance(0.4) && place(e) ? esc(', ' + place(e)) : ''), e);
  }).join('');
  const edu = (r.education || []).map((e) => line(rnd.chance(0.5)
    ? `<b>${esc(e.institution)}</b>, ${esc(e.studyType)} ${esc(e.area)}`
    : `${esc(e.studyType)} in ${esc(e.area)}, <b>${esc(e.institution)}</b>`, e)).join('');
  const b = r.basics;
  const contact = contactItems(b).map((x) => `<div>${esc(x)}</div>`).join('');
  return `<html><head><meta charset="utf-8"><style>${css}</style></head><body>
    <div class="row"><div><h1>${esc(b.name)}</h1><div>${esc(b.label || '')}</div></div><div style="text-align:right">${contact}</div></div>
    <h2>${rnd.pick(['Experience', 'Work History', 'Career'])}</h2>${work}<h2>${rnd.pick(['Education', 'Studies'])}</h2>${edu}</body></html>`;
}

// Two columns: a sidebar with contact details, education and skills; work in the main column.
function sidebar(r, rnd) {
  const style = rnd.pick(['short', 'numeric', 'year', 'long']);
  const dash = rnd.pick([' – ', ' - ']);
  const b = r.basics;
  const work = (r.work || []).map((e) => rnd.chance(0.5)
    ? `<div class="entry"><b>${esc(e.name)}</b><div>${esc(e.position)}</div><div class="muted">${esc(range(e, style, dash))}</div>${bullets(e)}</div>`
    : `<div class="entry"><div class="muted">${esc(range(e, style, dash))}</div><b>${esc(e.position)}</b><div>${esc(e.name)}</div>${bullets(e)}</div>`).join('');
  const edu = (r.education || []).map((e) => `<div class="entry"><b>${esc(e.institution)}</b><div>${esc(e.studyType)}, ${esc(e.area)}</div>
    <div class="muted">${esc(range(e, style, dash))}</div></div>`).join('');
  const side = `<h2>Contact</h2>${contactItems(b).map((x) => `<div>${esc(x)}</div>`).join('')}<h2>Education</h2>${edu}
    <h2>Skills</h2>${(r.skills || []).map((s) => `<div>${s.keywords.map(esc).join(', ')}</div>`).join('')}`;
  const main = `<h2>${rnd.pick(['Experience', 'Work Experience'])}</h2>${work}`;
  const left = rnd.chance(0.5);
  return `<html><head><meta charset="utf-8"><style>${css}
    .cols{display:flex;gap:24px}.side{width:32%;background:#eef}.main{width:68%}</style></head><body>
    <h1>${esc(b.name)}</h1><div>${esc(b.label || '')}</div><div class="cols">
    ${left ? `<div class="side">${side}</div><div class="main">${main}</div>` : `<div class="main">${main}</div><div class="side">${side}</div>`}
    </div></body></html>`;
}

// Dates in a left column (a table), the entry to the right, organisation second.
function dateColumn(r, rnd) {
  const style = rnd.pick(['numeric', 'year', 'short', 'dotted']);
  const dash = rnd.pick([' – ', ' - ']);
  const b = r.basics;
  const rows = (list, f) => `<table style="width:100%">${list.map((e) => `<tr><td style="width:22%;vertical-align:top">${esc(range(e, style, dash))}</td><td>${f(e)}</td></tr>`).join('')}</table>`;
  const work = rows(r.work || [], (e) => `<b>${esc(e.position)}</b><br>${esc(e.name)}${place(e) ? esc(', ' + place(e)) : ''}${bullets(e)}`);
  const edu = rows(r.education || [], (e) => `<b>${esc(e.studyType)} ${esc(e.area)}</b><br>${esc(e.institution)}`);
  return `<html><head><meta charset="utf-8"><style>${css}</style></head><body><h1>${esc(b.name)}</h1>
    <div class="muted">${contactItems(b).map(esc).join(' • ')}</div>
    <h2>${rnd.pick(['Berufserfahrung', 'Experience', 'Expérience professionnelle', 'Work Experience'])}</h2>${work}
    <h2>${rnd.pick(['Ausbildung', 'Education', 'Formation'])}</h2>${edu}</body></html>`;
}

module.exports = { titleFirst, oneLine, sidebar, dateColumn };

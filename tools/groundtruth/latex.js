// LaTeX renderers for the generated ground truth: the same JSON Resume document written as a
// .tex file for a CV class from Debian's TeX Live (moderncv in three styles, europecv, and an
// article with the currvita package) and compiled with LuaLaTeX in a temporary directory, with
// a timeout and no shell escape. Fonts are Noto (fonts-noto-core); names and organisations in CJK
// or Arabic script get a fallback font (fonts-noto-cjk, Noto Sans Arabic) and Arabic runs are
// set right to left, so every culture of people.js can be typeset. Needs texlive-latex-extra
// and texlive-luatex (tools/groundtruth/README.md).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile } = require('child_process');
const { fmtDate } = require('./dates');

const NOTO = '/usr/share/fonts/truetype/noto/';
const ARABIC = /[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]/;
const ARABIC_RUN = /[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF](?:[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF\s]*[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF])?/g;
const CJK = /[\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7AF\u1100-\u11FF\u3130-\u318F\uFF00-\uFFEF]/;

// Text → LaTeX: the ten special characters escaped, an apostrophe kept as typed (TeX ligatures,
// which the classes rely on for their dashes, would print O'Connor as O’Connor and the truth
// would no longer be the text), Arabic runs set right to left.
function tex(s) {
  const out = String(s ?? '').replace(/[\\{}$&#^_%~]/g, (c) => ({
    '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', $: '\\$', '&': '\\&', '#': '\\#', '^': '\\textasciicircum{}',
    _: '\\_', '%': '\\%', '~': '\\textasciitilde{}',
  })[c]).replace(/['`]/g, (q) => `{\\addfontfeature{Ligatures=TeXOff}${q}}`);
  return out.replace(ARABIC_RUN, (run) => `{\\textdir TRT ${run}}`);
}

const dates = (e, style) => `${fmtDate(e.startDate, style)}\u2013${fmtDate(e.endDate, style)}`;
const bare = (url) => String(url).replace(/^https?:\/\//, '');

// Noto; a fallback for CJK and Arabic only when the document has them
// (loading the CJK font costs a second and a half a compile).
function fonts(resume, rnd) {
  const text = JSON.stringify(resume);
  const family = rnd.pick(['NotoSans', 'NotoSerif']);
  const fallback = [];
  if (CJK.test(text)) fallback.push('"NotoSansCJK-Regular.ttc:mode=harf;"');
  if (ARABIC.test(text)) fallback.push('"NotoSansArabic-Regular.ttf:mode=harf;"');
  const opts = `Path=${NOTO},Extension=.ttf,UprightFont=*-Regular,BoldFont=*-Bold,ItalicFont=*-Italic,` +
    `BoldItalicFont=*-BoldItalic${fallback.length ? ',RawFeature={fallback=rpfallback}' : ''}`;
  return [
    '\\usepackage{fontspec}',
    fallback.length ? `\\directlua{luaotfload.add_fallback("rpfallback", {${fallback.join(', ')}})}` : '',
    `\\setmainfont{${family}}[${opts}]`,
    `\\setsansfont{${family}}[${opts}]`,
    // No hyphenation: a truth value broken across lines ("Bright-wave") would not be in the text.
    '\\hyphenpenalty=10000 \\exhyphenpenalty=10000',
  ].filter(Boolean).join('\n');
}

function addressLine(loc) {
  if (!loc) return '';
  return [loc.address, [loc.postalCode, loc.city].filter(Boolean).join(' '), loc.countryCode].filter(Boolean).join(', ');
}

function splitName(name) {
  const i = name.lastIndexOf(' ');
  return i < 0 ? [name, ''] : [name.slice(0, i), name.slice(i + 1)];
}

function moderncv(style) {
  return (resume, rnd) => {
    const b = resume.basics;
    const dateStyle = rnd.pick(['short', 'long', 'numeric', 'iso', 'year']);
    const paper = rnd.chance(0.5) ? 'a4paper' : 'letterpaper';
    const [first, last] = splitName(b.name);
    const L = [];
    L.push(`\\documentclass[11pt,${paper},${rnd.pick(['sans', 'roman'])},nosymbols]{moderncv}`);
    L.push(`\\moderncvstyle{${style}}`, `\\moderncvcolor{${rnd.pick(['blue', 'green', 'grey', 'orange', 'red', 'burgundy'])}}`);
    L.push(`\\usepackage[scale=${rnd.pick(['0.75', '0.8', '0.85'])}]{geometry}`, fonts(resume, rnd));
    L.push(`\\name{${tex(first)}}{${tex(last)}}`);
    if (b.label) L.push(`\\title{${tex(b.label)}}`);
    const loc = b.location || {};
    if (loc.address) L.push(`\\address{${tex(loc.address)}}{${tex([loc.postalCode, loc.city].filter(Boolean).join(' '))}}{${tex(loc.countryCode)}}`);
    if (b.phone) L.push(`\\phone[${rnd.pick(['mobile', 'fixed'])}]{${tex(b.phone)}}`);
    L.push(`\\email{${tex(b.email)}}`);
    if (b.url) L.push(`\\homepage{${tex(bare(b.url))}}`);
    // Profiles: moderncv prints the user name of \social (the URL is only the link), or the URL
    // written out as extra information.
    const fullUrls = rnd.chance(0.5);
    for (const p of b.profiles || []) {
      if (fullUrls) continue;
      L.push(`\\social[${p.network.toLowerCase()}]{${tex(p.username)}}`);
    }
    if (fullUrls && (b.profiles || []).length) L.push(`\\extrainfo{${(b.profiles || []).map((p) => tex(bare(p.url))).join(' \\textbullet{} ')}}`);
    L.push('\\begin{document}', '\\makecvtitle');
    if (b.summary) L.push(`\\section{${rnd.pick(['Summary', 'Profile', 'About me'])}}`, `\\cvitem{}{${tex(b.summary)}}`);
    const work = () => {
      L.push(`\\section{${rnd.pick(['Experience', 'Professional experience', 'Work experience', 'Employment'])}}`);
      for (const w of resume.work) {
        const hl = (w.highlights || []).length
          ? `\\begin{itemize}${w.highlights.map((h) => `\\item ${tex(h)}`).join('')}\\end{itemize}` : '';
        const desc = [w.summary ? tex(w.summary) : '', hl].filter(Boolean).join('\\newline{}');
        L.push(`\\cventry{${tex(dates(w, dateStyle))}}{${tex(w.position)}}{${tex(w.name)}}{${tex(w.location || '')}}{}{${desc}}`);
      }
    };
    const education = () => {
      L.push(`\\section{${rnd.pick(['Education', 'Education and training', 'Studies'])}}`);
      for (const e of resume.education)
        L.push(`\\cventry{${tex(dates(e, dateStyle))}}{${tex(`${e.studyType} in ${e.area}`)}}{${tex(e.institution)}}{}{}{}`);
    };
    if (rnd.chance(0.25)) { education(); work(); } else { work(); education(); }
    if (resume.skills.length) {
      L.push('\\section{Skills}');
      for (const s of resume.skills) L.push(`\\cvitem{${tex(s.name)}}{${tex(s.keywords.join(', '))}}`);
    }
    L.push('\\section{Languages}');
    for (const l of resume.languages) L.push(`\\cvitemwithcomment{${tex(l.language)}}{${tex(l.fluency)}}{}`);
    L.push('\\end{document}');
    return L.join('\n') + '\n';
  };
}

// The Europass CV of the 2000s (europecv): labels in a left column, the name in the document's
// own order (not "Surname, Name": the truth is the name as the document gives it).
function europecv(resume, rnd) {
  const b = resume.basics;
  const dateStyle = rnd.pick(['numeric', 'long', 'year', 'short']);
  const paper = rnd.chance(0.5) ? 'a4paper' : 'letterpaper';
  const L = [];
  L.push(`\\documentclass[english,${paper},nologo,${rnd.pick(['noflag', 'flagWB', 'flagBW'])}]{europecv}`);
  L.push(`\\usepackage[${paper},top=1.5cm,left=1cm,right=1.5cm,bottom=1.5cm]{geometry}`, fonts(resume, rnd));
  L.push('\\usepackage{graphicx}', '\\usepackage{hyperref}');  // europecv loads it at \begin{document}, too late for LaTeX 2022
  L.push(`\\ecvname{${tex(b.name)}}`, `\\ecvfootername{${tex(b.name)}}`);
  if (b.location) L.push(`\\ecvaddress{${tex(addressLine(b.location))}}`);
  if (b.phone) L.push(`\\ecvtelephone{${tex(b.phone)}}`);
  L.push(`\\ecvemail{${tex(b.email)}}`);
  const urls = [b.url, ...(b.profiles || []).map((p) => p.url)].filter(Boolean);
  if (urls.length) L.push(`\\ecvhomepage{${urls.map((u) => tex(rnd.chance(0.5) ? u : bare(u))).join(', ')}}`);
  L.push('\\begin{document}', '\\begin{europecv}', '\\ecvpersonalinfo');
  if (b.label) L.push(`\\ecvitem{Desired employment}{${tex(b.label)}}`);
  L.push('\\ecvsection{Work experience}');
  for (const w of resume.work) {
    L.push(`\\ecvitem{\\large Dates}{\\large ${tex(dates(w, dateStyle))}}`);
    L.push(`\\ecvitem{Occupation or position held}{${tex(w.position)}}`);
    if (w.summary || (w.highlights || []).length)
      L.push(`\\ecvitem{Main activities and responsibilities}{${[w.summary, ...(w.highlights || [])].filter(Boolean).map(tex).join(' ')}}`);
    L.push(`\\ecvitem{Name and address of employer}{${tex([w.name, w.location].filter(Boolean).join(', '))}}`);
    L.push('\\ecvitem{}{}');
  }
  L.push('\\ecvsection{Education and training}');
  for (const e of resume.education) {
    L.push(`\\ecvitem{\\large Dates}{\\large ${tex(dates(e, dateStyle))}}`);
    L.push(`\\ecvitem{Title of qualification awarded}{${tex(e.studyType)}}`);
    L.push(`\\ecvitem{Principal subjects}{${tex(e.area)}}`);
    L.push(`\\ecvitem{Name and type of organisation providing education and training}{${tex(e.institution)}}`);
    L.push('\\ecvitem{}{}');
  }
  L.push('\\ecvsection{Personal skills and competences}');
  L.push(`\\ecvitem{Mother tongue(s)}{${tex(resume.languages[0].language)}}`);
  for (const s of resume.skills) L.push(`\\ecvitem{${tex(s.name)}}{${tex(s.keywords.join(', '))}}`);
  L.push('\\end{europecv}', '\\end{document}');
  return L.join('\n') + '\n';
}

// A plain article with the currvita package: the name as the CV's heading, contact lines under
// it, dated lists with the dates as labels.
function currvita(resume, rnd) {
  const b = resume.basics;
  const dateStyle = rnd.pick(['short', 'numeric', 'iso', 'year', 'long']);
  const paper = rnd.chance(0.5) ? 'a4paper' : 'letterpaper';
  const L = [];
  L.push(`\\documentclass[${rnd.pick(['10pt', '11pt'])},${paper}]{article}`);
  L.push(`\\usepackage[${paper},margin=${rnd.pick(['2cm', '2.5cm', '1in'])}]{geometry}`, fonts(resume, rnd));
  L.push(`\\usepackage[${rnd.pick(['LabelsAligned', 'TextAligned'])},NoDate]{currvita}`, '\\pagestyle{empty}');
  L.push('\\begin{document}', `\\begin{cv}{${tex(b.name)}}`);
  const contact = [addressLine(b.location), b.phone, b.email, b.url && bare(b.url), ...(b.profiles || []).map((p) => p.url)]
    .filter(Boolean).map(tex);
  L.push(`\\begin{center}${b.label ? `\\textit{${tex(b.label)}}\\\\[2pt]` : ''}${contact.join(rnd.chance(0.5) ? ' \\textbullet{} ' : '\\\\')}\\end{center}`);
  if (b.summary) L.push(`\\noindent ${tex(b.summary)}\\par`);
  const work = () => {
    L.push(`\\begin{cvlist}{${rnd.pick(['Experience', 'Employment', 'Career'])}}`);
    for (const w of resume.work) {
      const first = rnd.chance(0.5) ? `\\textbf{${tex(w.position)}}, ${tex(w.name)}` : `\\textbf{${tex(w.name)}}, ${tex(w.position)}`;
      const more = [w.summary, ...(w.highlights || [])].filter(Boolean).map(tex).join(' ');
      L.push(`\\item[${tex(dates(w, dateStyle))}] ${first}${w.location ? `, ${tex(w.location)}` : ''}${more ? `\\\\ ${more}` : ''}`);
    }
    L.push('\\end{cvlist}');
  };
  const education = () => {
    L.push(`\\begin{cvlist}{${rnd.pick(['Education', 'Studies'])}}`);
    for (const e of resume.education)
      L.push(`\\item[${tex(dates(e, dateStyle))}] ${tex(e.studyType)} in ${tex(e.area)}\\\\ ${tex(e.institution)}`);
    L.push('\\end{cvlist}');
  };
  if (rnd.chance(0.3)) { education(); work(); } else { work(); education(); }
  if (resume.skills.length) {
    L.push('\\begin{cvlist}{Skills}');
    for (const s of resume.skills) L.push(`\\item[${tex(s.name)}] ${tex(s.keywords.join(', '))}`);
    L.push('\\end{cvlist}');
  }
  L.push('\\end{cv}', '\\end{document}');
  return L.join('\n') + '\n';
}

const renderers = {
  'moderncv-classic': moderncv('classic'),
  'moderncv-banking': moderncv('banking'),
  'moderncv-oldstyle': moderncv('oldstyle'),
  europecv,
  currvita,
};

// Compiles a .tex source to `pdfPath` with LuaLaTeX in a fresh directory under `tmp`: no shell
// escape, a minute at most. Rejects with LaTeX's first error lines when it fails.
function compile(source, pdfPath, { timeout = 60000, tmp = os.tmpdir() } = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, 'latex-'));
  fs.writeFileSync(path.join(dir, 'cv.tex'), source);
  return new Promise((resolve, reject) => {
    execFile('lualatex', ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', 'cv.tex'],
      { cwd: dir, timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20, env: { ...process.env, max_print_line: '1000' } },
      (err, stdout) => {
        try {
          if (err) {
            const log = String(stdout).split('\n').filter((l) => l.startsWith('!')).slice(0, 5).join(' | ');
            throw new Error(`lualatex ${err.killed ? 'timed out' : 'failed'}: ${log || err.message}`);
          }
          fs.copyFileSync(path.join(dir, 'cv.pdf'), pdfPath);
          resolve();
        } catch (e) {
          reject(e);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
  });
}

module.exports = { renderers, compile, tex };

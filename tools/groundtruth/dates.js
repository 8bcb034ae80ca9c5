// Dates as the own layouts and the LaTeX renderers print them.
'use strict';

const monthsEn = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthsLong = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
                    'November', 'December'];

// One date in one of several styles; an ISO date without a month prints its year.
function fmtDate(iso, style) {
  if (!iso) return style === 'de' ? 'heute' : 'Present';
  const [y, m] = iso.split('-');
  if (!m) return y;
  const mi = Number(m) - 1;
  switch (style) {
    case 'short': return `${monthsEn[mi]} ${y}`;
    case 'long': return `${monthsLong[mi]} ${y}`;
    case 'numeric': return `${m}/${y}`;
    case 'dotted': return `${m}.${y}`;
    case 'iso': return `${y}-${m}`;
    case 'year': return y;
    default: return `${monthsEn[mi]}. ${y}`;
  }
}

module.exports = { fmtDate };

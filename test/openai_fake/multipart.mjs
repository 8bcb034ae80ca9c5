// multipart/form-data parsing (RFC 7578 over RFC 2046) for the OpenAI stand-in's file upload.
// Node 20, node: modules only. Accepts what real clients send: curl -F, Python requests/urllib3,
// httpx (the openai SDK), browsers: quoted or bare parameters, backslash escapes in quoted
// strings, the HTML5 percent-escapes of `"`, CR and LF in names and filenames, RFC 5987
// `filename*=UTF-8''…`, a preamble and an epilogue, transport padding after a delimiter.

// A Content-Type header's media type (lower-cased) and parameters; boundary is null when absent.
export function contentTypeOf(header) {
    if (typeof header !== 'string') return { type: null, boundary: null, params: {} };
    const [type, params] = parseHeaderValue(header);
    return { type, boundary: params.boundary ?? null, params };
}

// "form-data; name=\"file\"; filename=\"a.jsonl\"" -> ["form-data", {name: "file", filename: "a.jsonl"}].
// Parameter names are lower-cased; values are unquoted and unescaped.
export function parseHeaderValue(value) {
    let i = 0;
    const s = String(value);
    const skipWs = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
    skipWs();
    let start = i;
    while (i < s.length && s[i] !== ';') i++;
    const main = s.slice(start, i).trim().toLowerCase();
    const params = {};
    while (i < s.length) {
        i++;   // the ';'
        skipWs();
        start = i;
        while (i < s.length && s[i] !== '=' && s[i] !== ';') i++;
        const name = s.slice(start, i).trim().toLowerCase();
        if (s[i] !== '=') { if (name) params[name] = ''; continue; }
        i++;   // the '='
        skipWs();
        let val;
        if (s[i] === '"') {
            i++;
            val = '';
            while (i < s.length && s[i] !== '"') {
                if (s[i] === '\\' && i + 1 < s.length) i++;   // quoted-pair
                val += s[i++];
            }
            i++;   // the closing quote
            while (i < s.length && s[i] !== ';') i++;
            val = html5Unescape(val);
        } else {
            start = i;
            while (i < s.length && s[i] !== ';') i++;
            val = s.slice(start, i).trim();
        }
        if (name) params[name] = val;
    }
    // RFC 5987/8187 extended value (filename*=UTF-8''na%C3%AFve.jsonl) wins over the plain one.
    for (const key of Object.keys(params)) {
        if (!key.endsWith('*')) continue;
        const m = /^([A-Za-z0-9!#$&+\-^_`{}~]*)'[^']*'(.*)$/.exec(params[key]);
        if (!m) continue;
        try {
            const bytes = Buffer.from(m[2].replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
            params[key.slice(0, -1)] = /^utf-?8$/i.test(m[1]) || m[1] === '' ? bytes.toString('utf8') : bytes.toString('latin1');
        } catch { /* keep the plain one */ }
    }
    return [main, params];
}

// HTML5 form encoding escapes only `"` (%22), CR (%0D) and LF (%0A) in names and filenames
// (curl since 7.81, urllib3 2, httpx); any other % stays as it is.
function html5Unescape(v) {
    return v.replace(/%22|%0D|%0A/gi, (m) => ({ '%22': '"', '%0d': '\r', '%0a': '\n' })[m.toLowerCase()]);
}

export class MultipartError extends Error {}

// Parses a multipart body (a Buffer) with BOUNDARY. Returns the parts in order:
// [{name, filename (or null), contentType (or null), headers: {lower-case name: value}, data: Buffer}].
// Throws MultipartError when the body is not a well-formed multipart body.
export function parseMultipart(body, boundary) {
    if (typeof boundary !== 'string' || boundary.length < 1 || boundary.length > 70) {
        throw new MultipartError('the boundary is missing or longer than 70 characters');
    }
    const dash = Buffer.from(`--${boundary}`);
    const crlfDash = Buffer.from(`\r\n--${boundary}`);
    // A delimiter is "--boundary" at the very start or after CRLF, followed by "--" (the close
    // delimiter), or by optional spaces/tabs and CRLF. The same bytes followed by anything else
    // are part of the content.
    const delimiterEnd = (at) => {   // at: index just after "--boundary"; returns {close, next} or null
        if (body[at] === 0x2d && body[at + 1] === 0x2d) return { close: true, next: at + 2 };
        let j = at;
        while (body[j] === 0x20 || body[j] === 0x09) j++;
        if (body[j] === 0x0d && body[j + 1] === 0x0a) return { close: false, next: j + 2 };
        if (body[j] === 0x0a) return { close: false, next: j + 1 };   // bare LF: tolerated
        return null;
    };
    let d = null;
    if (body.length >= dash.length && body.subarray(0, dash.length).equals(dash)) d = delimiterEnd(dash.length);
    if (!d) {
        let from = 0;
        for (;;) {   // after a preamble
            const k = body.indexOf(crlfDash, from);
            if (k < 0) throw new MultipartError(`no boundary "${boundary}" in the body`);
            d = delimiterEnd(k + crlfDash.length);
            if (d) break;
            from = k + 1;
        }
    }
    const parts = [];
    while (!d.close) {
        const start = d.next;
        // Headers, up to an empty line (a part may have none: it then starts with CRLF).
        let headerEnd;
        let contentStart;
        if (body[start] === 0x0d && body[start + 1] === 0x0a) { headerEnd = start; contentStart = start + 2; }
        else {
            headerEnd = body.indexOf('\r\n\r\n', start, 'latin1');
            if (headerEnd < 0) throw new MultipartError('a part has no end of headers (an empty line)');
            contentStart = headerEnd + 4;
        }
        const headers = {};
        const headerText = body.subarray(start, headerEnd).toString('utf8');
        for (const line of headerText.split(/\r\n(?![ \t])/)) {   // folded lines continue with a space
            if (line.trim() === '') continue;
            const colon = line.indexOf(':');
            if (colon <= 0) throw new MultipartError(`a malformed part header: ${JSON.stringify(line.slice(0, 80))}`);
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).replace(/\r\n[ \t]+/g, ' ').trim();
        }
        // Content, up to the next delimiter.
        let from = contentStart;
        let end;
        for (;;) {
            const k = body.indexOf(crlfDash, from);
            if (k < 0) throw new MultipartError('the body ends inside a part (no closing boundary)');
            d = delimiterEnd(k + crlfDash.length);
            if (d) { end = k; break; }
            from = k + 1;
        }
        const disposition = headers['content-disposition'];
        if (disposition === undefined) throw new MultipartError('a part has no Content-Disposition header');
        const [dispType, params] = parseHeaderValue(disposition);
        if (dispType !== 'form-data') throw new MultipartError(`a part's Content-Disposition is ${dispType}, not form-data`);
        if (params.name === undefined) throw new MultipartError('a part has no name');
        parts.push({
            name: params.name,
            filename: params.filename ?? null,
            contentType: headers['content-type'] ?? null,
            headers,
            data: body.subarray(contentStart, end),
        });
    }
    return parts;
}

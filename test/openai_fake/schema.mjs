// JSON Schema support for the OpenAI stand-in: the strict-mode check of structured outputs
// (what the real API refuses with a 400), a small validator (what a client must check in an
// answer), and the generator that walks a request's schema to build an answer from facts found
// in the résumé text. Only node: built-ins; no dependencies.

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

// Keywords strict mode accepts (WIRE.md §1). Anything else (allOf, not, if/then/else, oneOf,
// minLength, maxLength, uniqueItems, patternProperties, propertyNames, ...) gets
// "'X' is not permitted.". The annotations title, $comment, default and examples change nothing
// in the output grammar and are accepted here; whether the real API accepts all of them is
// unverified.
const ALLOWED = new Set([
    'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'anyOf',
    'description', 'title', '$comment', 'default', 'examples', '$defs', 'definitions', '$ref', '$schema', '$id',
    'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
    'multipleOf', 'minItems', 'maxItems',
]);
const FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);
const MAX_DEPTH = 10;
const MAX_PROPERTIES = 5000;
const MAX_ENUM = 1000;
const MAX_NAME_CHARS = 120000;

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Python tuple repr, as the real API prints the context: (), ('items',), ('properties', 'a').
function ctxRepr(path) {
    const parts = path.map((p) => (typeof p === 'number' ? String(p) : `'${p}'`));
    if (parts.length === 0) return '()';
    if (parts.length === 1) return `(${parts[0]},)`;
    return `(${parts.join(', ')})`;
}

function typesOf(s) {
    if (!isObj(s)) return [];
    if (Array.isArray(s.type)) return s.type;
    if (typeof s.type === 'string') return [s.type];
    if (s.properties !== undefined) return ['object'];
    if (s.items !== undefined) return ['array'];
    return [];
}

export function resolveRef(ref, root) {
    if (ref === '#') return root;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
    let node = root;
    for (const raw of ref.slice(2).split('/')) {
        const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (!isObj(node) || !(part in node)) return undefined;
        node = node[part];
    }
    return node;
}

// Returns null when `schema` is a valid strict schema, else the message the real API would give
// (after "Invalid schema for response_format '<name>': ").
export function strictSchemaError(schema) {
    if (!isObj(schema)) return "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'.";
    if (schema.anyOf !== undefined || schema.type !== 'object') {
        const t = schema.anyOf !== undefined ? 'None' : JSON.stringify(schema.type ?? null).replace(/"/g, '');
        return `schema must be a JSON Schema of 'type: "object"', got 'type: "${t}"'.`;
    }
    const stats = { properties: 0, chars: 0 };
    return walkStrict(schema, schema, [], 1, stats);
}

function walkStrict(node, root, path, depth, stats) {
    const at = `In context=${ctxRepr(path)}, `;
    if (!isObj(node)) return `${at}schema must be a JSON object, got ${JSON.stringify(node)}.`;
    for (const k of Object.keys(node)) {
        if (!ALLOWED.has(k)) return `${at}'${k}' is not permitted.`;
    }
    if (node.$ref !== undefined) {
        if (resolveRef(node.$ref, root) === undefined) {
            return `${at}reference to component '${node.$ref}' which was not found in the schema.`;
        }
    }
    for (const defsKey of ['$defs', 'definitions']) {
        if (node[defsKey] === undefined) continue;
        if (!isObj(node[defsKey])) return `${at}'${defsKey}' must be an object.`;
        for (const [name, def] of Object.entries(node[defsKey])) {
            const err = walkStrict(def, root, [...path, defsKey, name], depth, stats);
            if (err) return err;
        }
    }
    if (node.anyOf !== undefined) {
        if (!Array.isArray(node.anyOf) || node.anyOf.length === 0) return `${at}'anyOf' must be a non-empty array.`;
        for (let i = 0; i < node.anyOf.length; i++) {
            const err = walkStrict(node.anyOf[i], root, [...path, 'anyOf', i], depth, stats);
            if (err) return err;
        }
    }
    if (node.enum !== undefined) {
        if (!Array.isArray(node.enum) || node.enum.length === 0) return `${at}'enum' must be a non-empty array.`;
        if (node.enum.length > MAX_ENUM) return `${at}'enum' has ${node.enum.length} values, more than the ${MAX_ENUM} allowed.`;
        for (const v of node.enum) if (typeof v === 'string') stats.chars += v.length;
    }
    if (typeof node.const === 'string') stats.chars += node.const.length;
    if (node.format !== undefined && !FORMATS.has(node.format)) {
        return `${at}'format' value '${node.format}' is not supported.`;
    }
    if (node.pattern !== undefined) {
        try { new RegExp(node.pattern, 'u'); } catch { return `${at}'pattern' is not a valid regular expression.`; }
    }
    if (node.type === undefined && node.$ref === undefined && node.anyOf === undefined &&
        node.enum === undefined && node.const === undefined) {
        return `${at}schema must have a 'type' key.`;
    }
    if (node.type !== undefined) {
        const list = Array.isArray(node.type) ? node.type : [node.type];
        if (list.length === 0 || !list.every((t) => typeof t === 'string' && TYPES.has(t))) {
            return `${at}'type' must be one of ${[...TYPES].join(', ')} or a list of them, got ${JSON.stringify(node.type)}.`;
        }
    }
    const types = typesOf(node);
    if (types.includes('object') || node.properties !== undefined) {
        if (depth > MAX_DEPTH) return `${at}object schemas are nested ${depth} levels deep, more than the ${MAX_DEPTH} allowed.`;
        const props = node.properties ?? {};
        if (!isObj(props)) return `${at}'properties' must be an object.`;
        if (node.additionalProperties !== false) {
            return `${at}'additionalProperties' is required to be supplied and to be false.`;
        }
        const keys = Object.keys(props);
        const required = node.required;
        const missing = Array.isArray(required) ? keys.filter((k) => !required.includes(k)) : keys;
        if (!Array.isArray(required) || missing.length > 0) {
            const m = missing.length > 0 ? ` Missing '${missing[0]}'.` : '';
            return `${at}'required' is required to be supplied and to be an array including every key in properties.${m}`;
        }
        const extra = required.find((k) => !keys.includes(k));
        if (extra !== undefined) return `${at}Extra required key '${extra}' supplied.`;
        stats.properties += keys.length;
        if (stats.properties > MAX_PROPERTIES) return `${at}the schema has more than ${MAX_PROPERTIES} properties.`;
        for (const k of keys) {
            stats.chars += k.length;
            const err = walkStrict(props[k], root, [...path, 'properties', k], depth + 1, stats);
            if (err) return err;
        }
    }
    if (types.includes('array')) {
        if (node.items === undefined) return `${at}'items' is required to be supplied for an array schema.`;
        const err = walkStrict(node.items, root, [...path, 'items'], depth, stats);
        if (err) return err;
    }
    if (stats.chars > MAX_NAME_CHARS) {
        return `${at}property names, enum and const values total more than ${MAX_NAME_CHARS} characters.`;
    }
    return null;
}

// Validates `value` against `schema`; returns a list of error strings (empty when valid).
export function validate(value, schema, root = schema, path = '$', errors = [], seen = 0) {
    if (seen > 64) return errors;
    if (schema === true || schema === undefined) return errors;
    if (schema === false) { errors.push(`${path}: no value allowed`); return errors; }
    if (schema.$ref !== undefined) {
        const target = resolveRef(schema.$ref, root);
        if (target === undefined) errors.push(`${path}: unresolved $ref ${schema.$ref}`);
        else validate(value, target, root, path, errors, seen + 1);
    }
    if (schema.anyOf !== undefined) {
        if (!schema.anyOf.some((s) => validate(value, s, root, path, [], seen + 1).length === 0)) {
            errors.push(`${path}: matches no anyOf branch`);
        }
    }
    if (schema.const !== undefined && JSON.stringify(value) !== JSON.stringify(schema.const)) {
        errors.push(`${path}: is not the const ${JSON.stringify(schema.const)}`);
    }
    if (schema.enum !== undefined && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
        errors.push(`${path}: ${JSON.stringify(value)} is not one of the enum values`);
    }
    const types = Array.isArray(schema.type) ? schema.type : typeof schema.type === 'string' ? [schema.type] : null;
    if (types) {
        const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
        const ok = types.some((t) => t === actual || (t === 'integer' && actual === 'number' && Number.isInteger(value)) ||
            (t === 'number' && actual === 'number'));
        if (!ok) { errors.push(`${path}: expected ${types.join('|')}, got ${actual}`); return errors; }
    }
    if (isObj(value) && (schema.properties !== undefined || schema.additionalProperties !== undefined || schema.required !== undefined)) {
        const props = schema.properties ?? {};
        for (const k of schema.required ?? []) if (!(k in value)) errors.push(`${path}: missing required key '${k}'`);
        for (const [k, v] of Object.entries(value)) {
            if (k in props) validate(v, props[k], root, `${path}.${k}`, errors, seen + 1);
            else if (schema.additionalProperties === false) errors.push(`${path}: unexpected key '${k}'`);
            else if (isObj(schema.additionalProperties)) validate(v, schema.additionalProperties, root, `${path}.${k}`, errors, seen + 1);
        }
    }
    if (Array.isArray(value)) {
        if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path}: fewer than ${schema.minItems} items`);
        if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${path}: more than ${schema.maxItems} items`);
        if (schema.items !== undefined) value.forEach((v, i) => validate(v, schema.items, root, `${path}[${i}]`, errors, seen + 1));
    }
    if (typeof value === 'number') {
        if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below minimum ${schema.minimum}`);
        if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above maximum ${schema.maximum}`);
        if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) errors.push(`${path}: not above ${schema.exclusiveMinimum}`);
        if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) errors.push(`${path}: not below ${schema.exclusiveMaximum}`);
        if (schema.multipleOf !== undefined && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9) {
            errors.push(`${path}: not a multiple of ${schema.multipleOf}`);
        }
    }
    if (typeof value === 'string' && schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
        errors.push(`${path}: does not match pattern ${schema.pattern}`);
    }
    return errors;
}

// ---- Generation: fill a schema from facts found in the text --------------------------------

const norm = (k) => String(k ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
const KEYS = {
    name: ['name', 'fullname', 'candidatename', 'personname', 'candidate'],
    email: ['email', 'mail', 'emailaddress', 'emailaddr'],
    phone: ['phone', 'phonenumber', 'telephone', 'tel', 'mobile', 'cell'],
    url: ['url', 'website', 'homepage', 'link', 'portfolio', 'blog', 'web'],
    label: ['label', 'headline', 'title', 'position', 'role', 'jobtitle', 'currenttitle', 'occupation'],
    summary: ['summary', 'about', 'profile', 'objective', 'bio', 'overview', 'description'],
    location: ['location', 'city', 'address', 'place'],
    region: ['region', 'state', 'province'],
    network: ['network', 'site', 'service'],
    username: ['username', 'user', 'handle', 'login'],
};
const ARRAY_KEYS = {
    skills: ['skills', 'keywords', 'technologies', 'tech', 'techstack', 'tools', 'competencies'],
    urls: ['urls', 'links', 'websites', 'profiles', 'socialprofiles', 'sites'],
    emails: ['emails', 'emailaddresses'],
    phones: ['phones', 'phonenumbers'],
};
const NUM_KEYS = {
    years: ['years', 'yearsexperience', 'yearsofexperience', 'experienceyears', 'totalyears', 'experience'],
    score: ['score', 'rating', 'fit', 'match', 'matchscore', 'fitscore', 'confidence'],
};
function kind(key, table) {
    const k = norm(key);
    for (const [name, list] of Object.entries(table)) if (list.includes(k)) return name;
    return null;
}

function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
}

// generate(schema, facts): a value that validates against `schema`, taking strings from facts
// (see extractFacts in server.mjs) where a property's name says what it holds.
export function generate(schema, facts) {
    const root = schema;
    const gen = (s, key, item, depth, nullable) => {
        if (!isObj(s)) return null;
        if (s.$ref !== undefined) {
            const target = resolveRef(s.$ref, root);
            const merged = { ...target, ...s };
            delete merged.$ref;
            if (target === undefined) return null;
            return gen(merged, key, item, depth + 1, nullable);
        }
        if (s.const !== undefined) return s.const;
        if (s.anyOf !== undefined) {
            const isNull = (b) => isObj(b) && (b.type === 'null' || (Array.isArray(b.type) && b.type.length === 1 && b.type[0] === 'null'));
            const nonNull = s.anyOf.filter((b) => !isNull(b));
            const allowNull = nullable || nonNull.length < s.anyOf.length;
            if (nonNull.length === 0) return null;
            return gen(nonNull[0], key, item, depth + 1, allowNull);
        }
        const types = typesOf(s);
        const allowNull = nullable || types.includes('null') || (s.enum ?? []).includes(null);
        const primary = types.find((t) => t !== 'null') ?? (s.enum ? typeof s.enum.find((v) => v !== null) : undefined);
        if (s.enum !== undefined) {
            const derived = stringFor(key, item, s);
            if (derived !== null && s.enum.includes(derived)) return derived;
            const first = s.enum.find((v) => v !== null);
            return first === undefined ? null : first;
        }
        // Recursion ends in null or an empty array, before the schema is walked too deep.
        if (depth > 24) return allowNull ? null : primary === 'array' ? [] : primary === 'string' ? '' : primary === 'object' ? {} : 0;
        switch (primary) {
            case 'object': {
                const out = {};
                for (const [k, sub] of Object.entries(s.properties ?? {})) out[k] = gen(sub, k, item, depth + 1, false);
                return out;
            }
            case 'array': return genArray(s, key, item, depth);
            case 'string': {
                const v = stringFor(key, item, s);
                if (v !== null && (s.pattern === undefined || new RegExp(s.pattern, 'u').test(v))) return v;
                if (allowNull) return null;
                return fallbackString(s);
            }
            case 'integer':
            case 'number': {
                let v = numberFor(key, item, s);
                if (v === null) {
                    if (allowNull) return null;
                    v = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
                }
                if (s.maximum !== undefined) v = Math.min(v, s.maximum);
                if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) v = s.exclusiveMaximum - 1;
                if (s.multipleOf !== undefined) v = Math.round(v / s.multipleOf) * s.multipleOf;
                return primary === 'integer' ? Math.round(v) : v;
            }
            case 'boolean': return false;
            default: return null;
        }
    };
    const genArray = (s, key, item, depth) => {
        const min = s.minItems ?? 0;
        const max = s.maxItems ?? 10;
        const itemSchema = s.items;
        const arrKind = kind(key, ARRAY_KEYS);
        // Only arrays the text fills (skills, urls, emails, phones) get items taken from it;
        // every other array is empty, or holds its minItems of generic items.
        let seeds = [];
        if (item === null) {
            if (arrKind === 'skills') seeds = facts.skills.map((sk) => ({ name: sk, value: sk }));
            if (arrKind === 'urls') seeds = facts.urls.map((u) => ({ url: u, value: u, network: networkOf(u), username: usernameOf(u) }));
            if (arrKind === 'emails') seeds = facts.emails.map((e) => ({ email: e, value: e }));
            if (arrKind === 'phones') seeds = facts.phones.map((p) => ({ phone: p, value: p }));
        }
        seeds = seeds.slice(0, max);
        while (seeds.length < min) seeds.push({});
        return seeds.map((seed) => gen(itemSchema, null, seed, depth + 1, false));
    };
    const stringFor = (key, item, s) => {
        if (item !== null) {
            if (key === null) return item.value ?? null;
            const k = kind(key, KEYS);
            return (k && item[k]) ?? null;
        }
        if (s.format === 'email') return facts.email;
        switch (kind(key, KEYS)) {
            case 'name': return facts.name;
            case 'email': return facts.email;
            case 'phone': return facts.phone;
            case 'url': return facts.urls[0] ?? null;
            case 'label': return facts.label;
            case 'summary': return facts.summary;
            case 'location': return facts.city;
            case 'region': return facts.region;
            default: return null;
        }
    };
    const numberFor = (key, item, s) => {
        if (item !== null) return null;
        switch (kind(key, NUM_KEYS)) {
            case 'years': return facts.years;
            case 'score': {
                const lo = s.minimum ?? 0;
                const hi = s.maximum ?? 100;
                return lo + (hash(facts.text) % 1000) / 1000 * (hi - lo);
            }
            default: return null;
        }
    };
    return gen(schema, null, null, 0, false);
}

function fallbackString(s) {
    switch (s.format) {
        case 'date': return '1970-01-01';
        case 'date-time': return '1970-01-01T00:00:00Z';
        case 'time': return '00:00:00';
        case 'duration': return 'P0D';
        case 'email': return 'unknown@example.invalid';
        case 'hostname': return 'example.invalid';
        case 'ipv4': return '192.0.2.1';
        case 'ipv6': return '2001:db8::1';
        case 'uuid': return '00000000-0000-4000-8000-000000000000';
        default: return '';
    }
}

export function networkOf(url) {
    const m = /^(?:https?:\/\/)?(?:www\.)?([^/]+)/i.exec(url);
    if (!m) return null;
    const host = m[1].toLowerCase();
    const known = { 'linkedin.com': 'LinkedIn', 'github.com': 'GitHub', 'gitlab.com': 'GitLab', 'twitter.com': 'Twitter', 'x.com': 'X', 'stackoverflow.com': 'Stack Overflow' };
    for (const [h, n] of Object.entries(known)) if (host === h || host.endsWith(`.${h}`)) return n;
    return host;
}

export function usernameOf(url) {
    const m = /^(?:https?:\/\/)?[^/]+\/(?:in\/|u\/|users\/)?([^/?#]+)/i.exec(url);
    return m ? m[1] : null;
}

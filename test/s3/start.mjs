// The S3 stand-in for the tests: @20minutes/s3rver (it verifies SigV4 signatures, unlike
// s3rver 3.x), path-style only, bucket "resumes" created at start, objects kept in a directory.
//
//   node --openssl-legacy-provider test/s3/start.mjs --directory DIR [--port N] [--bucket NAME]...
//
// Port 0 (the default) takes a free port. Prints one line, "port=N", once it listens. The one
// key pair it accepts comes from S3_ACCESS_KEY / S3_SECRET_KEY (default rp-test-access /
// rp-test-secret); s3rver's built-in S3RVER/S3RVER pair is revoked. It stops on SIGTERM or
// SIGINT, and by itself when the process that started it goes away.
import { createCipheriv } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const S3rver = require('@20minutes/s3rver')
// s3rver 5 keeps credentials in a registry of accounts rather than in its options.
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account')

function parseArgs(argv) {
    const args = { port: 0, directory: null, buckets: [] }
    for (let i = 0; i < argv.length; i++) {
        const value = argv[i + 1]
        switch (argv[i]) {
            case '--port': args.port = Number(value); i++; break
            case '--directory': args.directory = value; i++; break
            case '--bucket': args.buckets.push(value); i++; break
            default: throw new Error(`unknown argument ${argv[i]}`)
        }
    }
    if (!args.directory) throw new Error('--directory DIR is required')
    if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('bad --port')
    if (args.buckets.length === 0) args.buckets.push('resumes')
    return args
}

// s3rver's continuation tokens are DES-encrypted; OpenSSL 3 keeps DES in its legacy provider,
// which Node 20 loads only with --openssl-legacy-provider (ListObjectsV2 paging fails otherwise).
try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8))
} catch {
    process.stderr.write('start.mjs: DES unavailable; run node --openssl-legacy-provider test/s3/start.mjs\n')
    process.exit(2)
}

const args = parseArgs(process.argv.slice(2))
const accessKey = process.env.S3_ACCESS_KEY || 'rp-test-access'
const secretKey = process.env.S3_SECRET_KEY || 'rp-test-secret'
DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey)

mkdirSync(args.directory, { recursive: true })
const server = new S3rver({
    address: '127.0.0.1',
    port: args.port,
    directory: args.directory,
    silent: !process.env.S3RVER_LOG,
    vhostBuckets: false,
    allowMismatchedSignatures: false,
    configureBuckets: args.buckets.map((name) => ({ name })),
})

const parent = process.ppid
let stopping = false
async function stop(code) {
    if (stopping) return
    stopping = true
    // close() waits for open connections; idle keep-alive ones are dropped, and whatever is
    // left gets a second before the process leaves anyway.
    setTimeout(() => process.exit(code), 1000).unref()
    try {
        server.httpServer?.closeAllConnections()
        await server.close()
    } catch {
        // not listening yet, or already closed
    }
    process.exit(code)
}
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
// An orphan is re-parented (to init or a subreaper): then whoever started it is gone.
setInterval(() => {
    if (process.ppid !== parent) stop(0)
}, 500).unref()

try {
    const { port } = await server.run()
    process.stdout.write(`port=${port}\n`)
    // Keep the loop alive after unref'd timers: the HTTP server does that already.
} catch (err) {
    process.stderr.write(`s3rver did not start: ${err.message}\n`)
    process.exit(1)
}

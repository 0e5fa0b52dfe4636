// Every variable PWS reads, with its built-in default and its meaning: the source of .env.example
// and of the README's table (a test keeps .env.example in step).

export interface Variable {
  name: string;
  fallback: string;
  meaning: string;
}

/** Every variable PWS reads, with its default and meaning. */
export const VARIABLES: readonly Variable[] = [
  { name: 'PORT', fallback: '9000', meaning: 'TCP port to listen on (0 picks a free one)' },
  { name: 'HOST', fallback: '', meaning: 'interface to bind; empty binds all interfaces' },
  { name: 'STATIC_DIR', fallback: './static', meaning: 'folder to serve, relative to the working directory' },
  { name: 'WORKERS', fallback: 'auto', meaning: 'worker processes; auto = one per CPU' },
  {
    name: 'RUN_USER',
    fallback: '',
    meaning: 'started as root (to bind 80 and 443): workers run as this user (name or id); the primary keeps root only to bind',
  },
  { name: 'RUN_GROUP', fallback: '', meaning: "with RUN_USER: the workers' group, name or id (default: the user's primary group)" },
  {
    name: 'REUSE_PORT',
    fallback: 'auto',
    meaning:
      'each worker listens with SO_REUSEPORT: auto = where Node (22.12+) has it and the kernel keeps queued connections on reload (net.ipv4.tcp_migrate_req=1)',
  },
  { name: 'MAX_URI_BYTES', fallback: '8192', meaning: 'longest request-target; longer gets 414' },
  { name: 'MAX_HEADER_BYTES', fallback: '16384', meaning: 'largest header section; larger gets 431' },
  { name: 'MAX_HEADERS', fallback: '100', meaning: 'most header fields in a request; more gets 431' },
  { name: 'MAX_BODY_BYTES', fallback: '1048576', meaning: 'largest request body read and discarded; larger gets 413' },
  { name: 'HEADERS_TIMEOUT_MS', fallback: '10000', meaning: 'time to receive a whole request head; then 408' },
  { name: 'KEEP_ALIVE_TIMEOUT_MS', fallback: '5000', meaning: 'idle keep-alive connections close after this' },
  { name: 'SEND_TIMEOUT_MS', fallback: '30000', meaning: 'a client that accepts no bytes for this long is dropped' },
  { name: 'SHUTDOWN_TIMEOUT_MS', fallback: '10000', meaning: 'graceful drain deadline on reload or shutdown' },
  {
    name: 'LAME_DUCK_MS',
    fallback: '0',
    meaning:
      'behind a load balancer: on a stop (SIGTERM, SIGINT, pm2 stop or reload), HEALTH_PATH says 503 and PWS keeps serving this long before it drains; a SIGHUP rolling restart does not wait',
  },
  { name: 'CACHE_CONTROL', fallback: 'no-cache', meaning: 'Cache-Control of file responses (no-cache: caches keep them but revalidate every time)' },
  { name: 'IMMUTABLE_PATTERN', fallback: '', meaning: 'glob (or /regex/) of hashed assets cached for a year as immutable' },
  { name: 'SPA_FALLBACK', fallback: '', meaning: 'file served for unknown extension-less paths that accept HTML, e.g. index.html' },
  { name: 'CLEAN_URLS', fallback: 'off', meaning: 'on: /about serves about.html, and /about.html redirects (301) to /about' },
  {
    name: 'TRAILING_SLASH',
    fallback: 'auto',
    meaning: 'auto: folders end in / and pages do not; always: every page URL ends in /; never: none does (others get 301)',
  },
  { name: 'DIRECTORY_LISTING', fallback: 'off', meaning: 'on: list folders without index.html (HTML, or ?format=json)' },
  { name: 'CORS', fallback: '', meaning: '* or a comma-separated list of allowed origins; empty is off' },
  { name: 'HEADERS_FILE', fallback: '', meaning: 'JSON file of extra response headers by path glob' },
  { name: 'COMPRESSION', fallback: 'on', meaning: 'on: compress text types on the fly (brotli or gzip), cached per file version' },
  { name: 'COMPRESSION_MIN_BYTES', fallback: '1024', meaning: 'smallest file compressed on the fly' },
  { name: 'COMPRESSION_MAX_BYTES', fallback: '8388608', meaning: 'largest file compressed on the fly' },
  { name: 'COMPRESSION_CACHE_BYTES', fallback: '67108864', meaning: 'memory per worker for reused compressed results' },
  { name: 'MAX_RANGES', fallback: '16', meaning: 'most ranges honoured in one request; more sends the whole file' },
  { name: 'MAX_CONNECTIONS', fallback: '2048', meaning: 'connections per worker; past it new ones get 503 and are closed' },
  { name: 'OUTPUT_QUEUE_BYTES', fallback: '262144', meaning: 'reply bytes queued per connection before PWS stops reading its next request' },
  { name: 'MAX_REQUESTS_PER_CONNECTION', fallback: '0', meaning: 'requests on one connection before it closes; 0 = unlimited' },
  { name: 'ACCESS_LOG', fallback: 'stdout', meaning: 'stdout, off, or a file to append access lines to' },
  { name: 'LOG_FORMAT', fallback: 'combined', meaning: 'access log format: combined (nginx default) or json' },
  {
    name: 'CACHE_MAX_BYTES',
    fallback: '75497472',
    meaning: 'memory per worker for cached small-file responses, keys and overhead included; 0 turns the cache off',
  },
  { name: 'CACHE_MAX_FILE_BYTES', fallback: '262144', meaning: 'largest file whose response is cached (and read whole); larger ones stream' },
  { name: 'CACHE_VALIDATE_MS', fallback: '1000', meaning: 'a cached response is used this long before the file is checked again' },
  { name: 'TLS_CERT', fallback: '', meaning: 'PEM certificate file; with TLS_KEY, PWS serves HTTPS (TLS 1.2+)' },
  { name: 'TLS_KEY', fallback: '', meaning: 'PEM private key file of TLS_CERT' },
  { name: 'HTTP2', fallback: 'on', meaning: 'with TLS: offer HTTP/2 (ALPN h2) besides HTTP/1.1 on the TLS port' },
  { name: 'HTTP_REDIRECT_PORT', fallback: '', meaning: 'with TLS: a plain-HTTP port that redirects (308) every request to HTTPS' },
  {
    name: 'METRICS_PATH',
    fallback: '',
    meaning: 'path answered with Prometheus metrics of the whole server (all workers), e.g. /metrics; empty is off',
  },
  { name: 'METRICS_PORT', fallback: '', meaning: 'with METRICS_PATH: serve the metrics on this port only (not on PORT), e.g. on a private interface' },
  { name: 'METRICS_HOST', fallback: '', meaning: 'with METRICS_PORT: the interface it listens on (default: HOST)' },
  { name: 'HEALTH_PATH', fallback: '', meaning: 'path answered 200 ok (503 while draining) for load balancers, e.g. /healthz' },
  {
    name: 'TRUSTED_PROXIES',
    fallback: '',
    meaning: 'load balancers (addresses, CIDR blocks) whose X-Forwarded-For or PROXY header names the client',
  },
  {
    name: 'PROXY_PROTOCOL',
    fallback: 'off',
    meaning: 'on: every connection comes from TRUSTED_PROXIES and starts with a PROXY protocol header (v1 or v2); others are closed',
  },
  { name: 'ACCESS_LOG_BUFFER_BYTES', fallback: '1048576', meaning: 'access lines buffered per worker; past it lines are dropped and counted' },
];

/*
 * limits.h -- every bound gitstore enforces, in one place.
 *
 * Each limit can be overridden at build time with -DNAME=value; the
 * _Static_asserts keep overrides inside ranges the code was written for.
 * Untrusted input (HTTP requests, hook messages, pushed refs) is checked
 * against these before anything is written.
 */
#ifndef GS_LIMITS_H
#define GS_LIMITS_H

/* Request line + headers that always fit; MHD answers 431 a little above
 * it (~36 KiB: the connection pool is sized from this, http/server.c). */
#ifndef GS_MAX_HTTP_HEADER_BYTES
#define GS_MAX_HTTP_HEADER_BYTES (32 * 1024)
#endif

/* Concurrent HTTP connections (each holds one thread). */
#ifndef GS_MAX_HTTP_CONNECTIONS
#define GS_MAX_HTTP_CONNECTIONS 256
#endif

/* Seconds an idle HTTP connection may stay open (slowloris guard).
 * GITSTORE_HTTP_IDLE_TIMEOUT_S overrides it (tests). */
#ifndef GS_HTTP_IDLE_TIMEOUT_S
#define GS_HTTP_IDLE_TIMEOUT_S 60
#endif

/* Seconds a client has to send a request's line and headers, counted from
 * the connection's start or the end of its previous request (keep-alive).
 * The idle timeout alone lets a client that sends one byte a minute hold
 * a connection (and its thread) forever. The connection is then closed.
 * GITSTORE_HTTP_HEADER_TIMEOUT_S overrides it (tests). */
#ifndef GS_HTTP_HEADER_TIMEOUT_S
#define GS_HTTP_HEADER_TIMEOUT_S 30
#endif

/* Concurrent HTTP connections from one client address, so that one
 * client cannot take every connection; more are closed at once.
 * GITSTORE_MAX_CONNECTIONS_PER_IP overrides it, 0 turning it off (behind
 * a reverse proxy every client has the proxy's address). */
#ifndef GS_MAX_HTTP_CONNECTIONS_PER_IP
#define GS_MAX_HTTP_CONNECTIONS_PER_IP 64
#endif

/* A receive-pack body (commands + pack), after gzip decoding. Pushes are
 * streamed to git, never buffered; this only bounds disk use. */
#ifndef GS_MAX_PUSH_BYTES
#define GS_MAX_PUSH_BYTES (2LL * 1024 * 1024 * 1024)
#endif

/* An upload-pack request body (wants/haves), after gzip decoding. */
#ifndef GS_MAX_UPLOAD_REQUEST_BYTES
#define GS_MAX_UPLOAD_REQUEST_BYTES (64LL * 1024 * 1024)
#endif

/* Ref update commands in one push. Every one of them gets its event. */
#ifndef GS_MAX_REFS_PER_PUSH
#define GS_MAX_REFS_PER_PUSH 20000
#endif

/* Longest ref name accepted (git itself allows ~4 KiB paths). */
#ifndef GS_MAX_REF_NAME
#define GS_MAX_REF_NAME 1024
#endif

/* One framed message on the hook socket (a push of GS_MAX_REFS_PER_PUSH
 * refs is ~2.2 MB of JSON). */
#ifndef GS_MAX_HOOK_MSG_BYTES
#define GS_MAX_HOOK_MSG_BYTES (16 * 1024 * 1024)
#endif

/* Seconds `gitstore serve` waits for run/serve.lock, held by the daemon
 * running on the same data directory (one daemon per data directory: its
 * start-up recovery removes ref lock files a killed git left behind). */
#ifndef GS_SERVE_LOCK_WAIT_S
#define GS_SERVE_LOCK_WAIT_S 60
#endif

/* Seconds a hook waits for the daemon's answer before failing closed. */
#ifndef GS_HOOK_TIMEOUT_S
#define GS_HOOK_TIMEOUT_S 60
#endif

/* Output git writes while we are still feeding it the request body;
 * kept in memory until the response starts. */
#ifndef GS_MAX_EARLY_OUTPUT_BYTES
#define GS_MAX_EARLY_OUTPUT_BYTES (8 * 1024 * 1024)
#endif

/* Events per page of GET /api/v1/events. */
#ifndef GS_MAX_EVENTS_PAGE
#define GS_MAX_EVENTS_PAGE 1000
#endif
#define GS_DEFAULT_EVENTS_PAGE 100

/* Durable consumers (events/consumer.h, DESIGN 6). */
#ifndef GS_MAX_CONSUMERS
#define GS_MAX_CONSUMERS 256                 /* per daemon, built-ins included */
#endif
#define GS_MAX_CONSUMER_NAME 64
#define GS_MAX_CONSUMER_TYPES 32             /* filter.types entries */
#ifndef GS_MAX_CONSUMER_PENDING
#define GS_MAX_CONSUMER_PENDING 10000        /* unsettled per consumer: pulling stops there */
#endif
#define GS_MAX_CONSUMER_FETCH 1000           /* events per fetch (?max=) */
#define GS_MAX_CONSUMER_SETTLE 1000          /* logseqs per ack/nak/term call */
#define GS_MAX_CONSUMER_FETCH_WAIT_S 60      /* long-poll (?wait=) */
#define GS_MAX_CONSUMER_ACK_WAIT_S 43200     /* ackWaitSeconds: 1 s .. 12 h */
#define GS_CONSUMER_DEFAULT_ACK_WAIT_S 30    /* as JetStream's default */
#define GS_MAX_CONSUMER_DELIVER 1000         /* maxDeliver: 0 (unlimited) .. this */
#define GS_CONSUMER_DEFAULT_MAX_DELIVER 5
#define GS_MAX_CONSUMER_NAK_DELAY_S 3600     /* nak delaySeconds */
#define GS_MAX_CONSUMER_BODY 65536           /* request bodies of the consumer API */

/* Retention (serve --retention-days): events removed per transaction, how
 * often the pruner runs, and the longest retention accepted. */
#define GS_PRUNE_BATCH 10000
#define GS_PRUNE_INTERVAL_S 3600
#define GS_MAX_RETENTION_DAYS 36500

/* A serialised event; CloudEvents intermediaries must forward 64 KiB. */
#ifndef GS_MAX_EVENT_BYTES
#define GS_MAX_EVENT_BYTES (64 * 1024)
#endif

/* Bytes of ref lists inlined in push-completed / push-rejected; past it
 * the list stops and refsTruncated/refCount say so (events < 64 KiB). */
#ifndef GS_MAX_INLINE_REFS_BYTES
#define GS_MAX_INLINE_REFS_BYTES (40 * 1024)
#endif

/* Seconds a git response may go silent while git works (a large push
 * applies thousands of refs before it reports); replaces the idle
 * timeout once the request body is complete. */
#ifndef GS_GIT_RESPONSE_TIMEOUT_S
#define GS_GIT_RESPONSE_TIMEOUT_S 3600
#endif

/* Concurrent SSE followers. */
#ifndef GS_MAX_SSE_CLIENTS
#define GS_MAX_SSE_CLIENTS 128
#endif

/* Heartbeat interval of the SSE stream, milliseconds. */
/* A live event stream more than GS_SSE_MAX_LAG_EVENTS behind the log
 * head for GS_SSE_SLOW_MS on end is a client too slow to keep up: it is
 * disconnected with a final comment (a burst a client drains does not
 * count). Each stream holds at most one batch in memory regardless. */
#ifndef GS_SSE_MAX_LAG_EVENTS
#define GS_SSE_MAX_LAG_EVENTS 10000
#endif
#ifndef GS_SSE_SLOW_MS
#define GS_SSE_SLOW_MS 30000
#endif
#define GS_SSE_SNDBUF_BYTES (256 * 1024)  /* kernel send buffer of a stream */

#ifndef GS_SSE_HEARTBEAT_MS
#define GS_SSE_HEARTBEAT_MS 15000
#endif

/* Commits counted for data.commits before stopping (the count is then a
 * lower bound and data.commitsTruncated is true). */
#ifndef GS_MAX_COMMIT_COUNT
#define GS_MAX_COMMIT_COUNT 100000
#endif

/* ---- catalog files (untrusted: pushed by any writer) ---- */

/* A resource file (front-matter + body). Larger files are refused with
 * file_too_large before any parsing. */
#ifndef GS_MAX_RESOURCE_FILE_BYTES
#define GS_MAX_RESOURCE_FILE_BYTES (1024 * 1024)
#endif

/* One YAML scalar (a title, a description, a CEL expression). */
#ifndef GS_MAX_YAML_SCALAR_BYTES
#define GS_MAX_YAML_SCALAR_BYTES (64 * 1024)
#endif

/* Nesting of mappings/sequences in front-matter. */
#ifndef GS_MAX_YAML_DEPTH
#define GS_MAX_YAML_DEPTH 32
#endif

/* Nodes (scalars, mappings, sequences) in one front-matter document. */
#ifndef GS_MAX_YAML_NODES
#define GS_MAX_YAML_NODES 20000
#endif

/* Error records kept per file; the rest are counted, not listed. */
#ifndef GS_MAX_CATALOG_ERRORS
#define GS_MAX_CATALOG_ERRORS 64
#endif

/* Namespace and repository names are DNS labels. */
#define GS_MAX_NAME 63

/* Roles on one token. */
#ifndef GS_MAX_TOKEN_ROLES
#define GS_MAX_TOKEN_ROLES 64
#endif

_Static_assert(GS_MAX_YAML_SCALAR_BYTES <= GS_MAX_RESOURCE_FILE_BYTES, "scalar fits a file");
_Static_assert(GS_MAX_YAML_DEPTH >= 8 && GS_MAX_YAML_DEPTH <= 256, "yaml depth");
_Static_assert(GS_MAX_HTTP_HEADER_BYTES >= 4096, "headers too small for git clients");
_Static_assert(GS_HTTP_HEADER_TIMEOUT_S >= 5 && GS_HTTP_HEADER_TIMEOUT_S <= GS_HTTP_IDLE_TIMEOUT_S,
	       "header deadline: slow links need seconds; longer than idle is moot");
_Static_assert(GS_MAX_HTTP_CONNECTIONS_PER_IP >= 8 && GS_MAX_HTTP_CONNECTIONS_PER_IP <= GS_MAX_HTTP_CONNECTIONS,
	       "connections per address");
_Static_assert(GS_MAX_REFS_PER_PUSH >= 1000, "must accept a 1,000-ref push");
_Static_assert(GS_MAX_HOOK_MSG_BYTES >= GS_MAX_REFS_PER_PUSH * 110, "hook msg too small for max refs");
_Static_assert(GS_MAX_EVENTS_PAGE >= GS_DEFAULT_EVENTS_PAGE, "page bounds");
_Static_assert(GS_MAX_EVENT_BYTES <= 1024 * 1024, "events are kept small");
_Static_assert(GS_MAX_INLINE_REFS_BYTES + 8192 < GS_MAX_EVENT_BYTES, "inline refs must fit an event");

/* Stored resources whose conditions one ref event may re-evaluate
 * because something they refer to changed (the rest wait for their own
 * next version). */
#define GS_MAX_RECHECK 1000

/* AdmissionReview JSON (POST /api/v1/admission/review): request.uid is
 * echoed up to this many bytes (Kubernetes sends a 36-byte UUID), and the
 * renderer of request.object walks at most this much nesting (the YAML
 * parse stops at GS_MAX_YAML_DEPTH anyway; this bounds its recursion). */
#define GS_MAX_REVIEW_UID_BYTES 128
#define GS_MAX_REVIEW_DEPTH 256

/* ValidatingAdmissionPolicies applied per namespace (the rest are
 * ignored with a warning in the log) and CEL expressions per policy. */
#define GS_MAX_POLICIES 100
#define GS_MAX_POLICY_EXPRESSIONS 64

/* How long an API write waits for the catalog worker to admit its
 * commit before answering 202 (admission still pending). */
#define GS_API_ADMISSION_WAIT_MS 10000

/* How long an API write waits for the catalog worker to catch up with
 * the draft branch before checking If-Match against stored versions. */
#define GS_API_CATCHUP_WAIT_MS 5000

/* ---- NATS JetStream relay (src/events/relay.c; gitstore serve --nats) ---- */

/* Events read from the log per relay pass. Each is copied (<= 64 KiB)
 * until acknowledged, so this bounds the relay's memory (~1 MB typical,
 * 32 MB worst case), and the cursor is written once per pass. */
#ifndef GS_RELAY_BATCH
#define GS_RELAY_BATCH 512
#endif

/* Publishes sent but not yet acknowledged by JetStream. One round trip
 * per event would cap the rate at ~1/RTT; a window keeps the pipe full
 * while staying well under JetStream's default max_ack_pending and the
 * client's pending-message limit (65,536). */
#ifndef GS_RELAY_MAX_INFLIGHT
#define GS_RELAY_MAX_INFLIGHT 256
#endif

/* Reconnect backoff: first delay, doubling on each failure up to the
 * ceiling, minus up to 20% jitter so that several daemons restarted
 * together do not reconnect in lock step. */
#ifndef GS_RELAY_BACKOFF_MIN_MS
#define GS_RELAY_BACKOFF_MIN_MS 100
#endif
#ifndef GS_RELAY_BACKOFF_MAX_MS
#define GS_RELAY_BACKOFF_MAX_MS 5000
#endif

/* No acknowledgement for this long while publishes are outstanding is a
 * failure: the connection is dropped and the unacknowledged suffix is
 * published again (the broker drops what it already has). */
#ifndef GS_RELAY_PUBLISH_TIMEOUT_MS
#define GS_RELAY_PUBLISH_TIMEOUT_MS 5000
#endif

/* TCP connect + NATS handshake, and each JetStream API request (stream
 * lookup/creation). Bounds how long shutdown can wait on a dead server. */
#ifndef GS_RELAY_CONNECT_TIMEOUT_MS
#define GS_RELAY_CONNECT_TIMEOUT_MS 2000
#endif

_Static_assert(GS_RELAY_BATCH >= 1 && GS_RELAY_BATCH <= GS_MAX_EVENTS_PAGE, "relay batch within a log page");
_Static_assert(GS_RELAY_MAX_INFLIGHT >= 1 && GS_RELAY_MAX_INFLIGHT <= GS_RELAY_BATCH, "relay window within a batch");
_Static_assert(GS_RELAY_BACKOFF_MIN_MS >= 10 && GS_RELAY_BACKOFF_MIN_MS <= GS_RELAY_BACKOFF_MAX_MS, "relay backoff");
_Static_assert(GS_RELAY_BACKOFF_MAX_MS <= 60000, "relay retries at least once a minute");
_Static_assert(GS_RELAY_PUBLISH_TIMEOUT_MS >= 500, "relay ack timeout");

/* ---- CEL expressions (src/cel; untrusted: written by policy authors) ---- */

/* Source text of one expression. */
#ifndef GS_CEL_MAX_EXPR_BYTES
#define GS_CEL_MAX_EXPR_BYTES (32 * 1024)
#endif

/* AST nodes after macro expansion (a node is ~64 bytes). */
#ifndef GS_CEL_MAX_AST_NODES
#define GS_CEL_MAX_AST_NODES 10000
#endif

/* AST nesting; the evaluator recurses once per level, so this bounds
 * its stack use (~200 bytes a level). CEL requires 32. */
#ifndef GS_CEL_MAX_AST_DEPTH
#define GS_CEL_MAX_AST_DEPTH 128
#endif

/* Cost units per evaluation: one per node evaluated, one per element
 * visited or compared, one per 64 bytes scanned or allocated. A typical
 * policy rule costs 10-50; 1e6 is ~10-50 ms of CPU. */
#ifndef GS_CEL_COST_LIMIT
#define GS_CEL_COST_LIMIT 1000000
#endif

/* Bytes one evaluation may allocate (its arena). */
#ifndef GS_CEL_MAX_EVAL_BYTES
#define GS_CEL_MAX_EVAL_BYTES (16 * 1024 * 1024)
#endif

/* Longest string or bytes value an evaluation may produce. */
#ifndef GS_CEL_MAX_STRING_BYTES
#define GS_CEL_MAX_STRING_BYTES (1024 * 1024)
#endif

/* Most elements (list) or entries (map) a value produced may have. */
#ifndef GS_CEL_MAX_LIST_LEN
#define GS_CEL_MAX_LIST_LEN 100000
#endif

/* Longest regular expression accepted by matches(), and the PCRE2 match
 * limit (backtracking steps) per call. */
#ifndef GS_CEL_MAX_REGEX_BYTES
#define GS_CEL_MAX_REGEX_BYTES 4096
#endif
#ifndef GS_CEL_REGEX_MATCH_LIMIT
#define GS_CEL_REGEX_MATCH_LIMIT 100000
#endif

/* Nesting of a typed (cel.expr.Value JSON) binding or of a result
 * converted back to JSON. */
#ifndef GS_CEL_MAX_VALUE_DEPTH
#define GS_CEL_MAX_VALUE_DEPTH 256
#endif

_Static_assert(GS_CEL_MAX_EXPR_BYTES >= 1024 && GS_CEL_MAX_EXPR_BYTES <= GS_MAX_YAML_SCALAR_BYTES, "cel expr");
_Static_assert(GS_CEL_MAX_AST_DEPTH >= 32 && GS_CEL_MAX_AST_DEPTH <= 512, "cel depth: spec needs 32");
_Static_assert(GS_CEL_MAX_AST_NODES >= 1000 && GS_CEL_MAX_AST_NODES <= 1000000, "cel nodes");
_Static_assert(GS_CEL_COST_LIMIT >= 10000, "cel cost too small for real policies");
_Static_assert(GS_CEL_MAX_STRING_BYTES <= GS_CEL_MAX_EVAL_BYTES, "a string fits the arena");
_Static_assert(GS_CEL_MAX_LIST_LEN * 48LL <= GS_CEL_MAX_EVAL_BYTES, "a full map fits the arena");

#endif

// Package api is the node's local HTTP API, as ZeroTier One 1.14.1 serves
// it on its primary port (PROTOCOL.md part 1 §12, part 2 §11), plus a few
// ztx extensions under /ztx/. It is an http.Handler with no sockets of its
// own: the daemon serves it, feeds it the node and forwards the node's
// ECHO replies to Service.EchoReply.
//
// Authentication, as the reference does it:
//
//   - The client must be on a loopback address or inside one of
//     AllowManagementFrom; otherwise 401.
//   - The first token present is the only one checked: header X-ZT1-Auth,
//     else query parameter auth, else header "Authorization: Bearer <token>"
//     (scheme case-insensitive, exactly two parts). It must equal AuthToken.
//   - /health needs no token. /metrics takes AuthToken or MetricsToken and,
//     like the reference, skips the source address check (so that a
//     Prometheus server elsewhere can scrape it with the metrics token).
//   - A refusal is status 401 with the body {}.
//
// Responses are application/json, {} when empty; with the query parameter
// jsonp=<fn> they are <fn>(<json>); as application/javascript.
//
// Endpoints:
//
//	GET         /status              node status (§12.3)
//	GET         /health              online flag, version, clock (no token)
//	GET         /peer                peers sorted by address (§12.4)
//	GET         /peer/<10 hex>       one peer, or {}
//	GET         /moon                moons orbited (§12.5)
//	GET         /moon/<10 hex>       one moon, or {}
//	POST, PUT   /moon/<10 hex>       orbit; body {"seed":"<address>"}
//	DELETE      /moon/<10 hex>       deorbit; {"result":true}
//	GET         /network             joined networks, sorted by ID
//	GET         /network/<16 hex>    one network; 404 with {} if not joined
//	POST, PUT   /network/<16 hex>    join, apply the settings in the body
//	                                 (allowManaged, allowGlobal,
//	                                 allowDefault, allowDNS); the network
//	DELETE      /network/<16 hex>    leave; {"result":true}, or {} if it
//	                                 was not joined
//	GET         /metrics             Prometheus exposition
//	GET         /ztx/peer            peers with link state and path latencies
//	GET         /ztx/peer/<10 hex>   one of those, or {}
//	POST        /ztx/ping/<10 hex>   ECHO round trip (?size=N&timeout=ms)
//
// The /network endpoints need Service.Networks (the VL2 side); without it
// they answer 503.
//
// Where ztx is stricter than the reference (the reference answers 404 to a
// malformed address or network ID, treats an unreadable orbit body as "no
// seed", and ignores an unreadable network settings body or settings that
// are not booleans), errors are 4xx with {"error": <status>,
// "description": "..."}.
package api

// Package controller is a ZeroTier network controller (PROTOCOL.md part 2
// §10): typed network and member records with the reference controller's
// JSON form and defaults, a Store interface with an embedded file database
// laid out like the reference's controller.d, managed IP assignment, the
// /controller HTTP API, and the processing of NETWORK_CONFIG_REQUESTs.
//
// # Requests and pushes
//
// Controller.Request computes the answer to one request: a signed-credential
// network config, an error code, or nothing. It does no network I/O and takes
// the time as an argument; the VL2 core sends the answer. What the controller
// sends on its own goes through a Pusher: a fresh config to every online
// member (one that requested within OnlineWindow) when its network is saved,
// to one member when its record is saved, and a COM revocation to every
// online member when a member loses its authorization, is deleted, its
// network is deleted, or its SSO authentication expires (Background). The
// Pusher is called with no controller lock held.
//
// # On-disk layout (FileStore)
//
//	<dir>/network/<16-hex nwid>.json                  network object
//	<dir>/network/<16-hex nwid>/member/<10-hex>.json  member objects
//	<dir>/trace/                                      created, unused
//
// Every file is compact JSON with keys in sorted order, as the reference
// writes it. Writes go to a temporary file that is synced and then renamed
// over the target, and the directory is synced, so an acknowledged write
// survives a crash.
package controller

// Package controller is the storage and HTTP API layer of a ZeroTier
// network controller (PROTOCOL.md part 2 §10): typed network and member
// records with the reference controller's JSON form and defaults, a Store
// interface with an embedded file database laid out like the reference's
// controller.d, managed IP assignment, and the /controller HTTP API.
//
// The part that answers NETWORK_CONFIG_REQUESTs over VL2 is not here; it
// builds on Controller, Store and Assign.
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

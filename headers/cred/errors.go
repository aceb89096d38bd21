package cred

import (
	"errors"
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
)

// Errors, wrapped with context; test with errors.Is.
var (
	ErrTruncated = errors.New("cred: truncated")
	ErrInvalid   = errors.New("cred: invalid")

	// Verification failures.
	ErrUnsigned  = errors.New("cred: not signed")
	ErrIssuer    = errors.New("cred: signer is not the network's controller")
	ErrSigner    = errors.New("cred: identity given is not the signer")
	ErrSignature = errors.New("cred: bad signature")
	ErrChain     = errors.New("cred: bad chain of custody")
)

// UnknownSignerError is returned by Capability.Verify when the Resolver
// does not know a signer. A node asks for the identity (WHOIS) and tries
// again later.
type UnknownSignerError struct {
	Address identity.Address
}

func (e *UnknownSignerError) Error() string {
	return fmt.Sprintf("cred: signer %s is not known", e.Address)
}

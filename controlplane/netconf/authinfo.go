package netconf

import (
	"fmt"

	"github.com/ztx/ztx/headers/dict"
)

// Keys of the auth-info dictionary in ERROR(NETWORK_AUTHENTICATION_REQUIRED) (PROTOCOL.md
// part 2 §3.4).
const (
	AuthKeyVersion    = "aV"
	AuthKeyURL        = "aU"    // version 0
	AuthKeyIssuerURL  = "iU"    // version 1 ...
	AuthKeyCentralURL = "aCU"   //
	AuthKeyNonce      = "aN"    //
	AuthKeyState      = "aS"    //
	AuthKeyClientID   = "aCID"  //
	AuthKeyProvider   = "aSSOp" // not sent by the 1.14.1 controller
)

// Sizes of the member's buffers for auth-info text (values are cut to one byte less).
const (
	authNonceSize    = 64
	authStateSize    = 128
	authClientIDSize = 256
	authProviderSize = 64
)

// AuthInfo is what a controller tells a member that must authenticate (SSO) before it gets
// a config.
type AuthInfo struct {
	Version uint64 // 0: AuthURL only; 1: OIDC fields; others carry nothing a member reads
	AuthURL string // version 0

	IssuerURL  string // version 1
	CentralURL string
	Nonce      string
	State      string
	ClientID   string
	Provider   string // DefaultSSOProvider when absent
}

// ParseAuthInfo reads an auth-info dictionary as a 1.14.1 member does (it must fit
// dict.AuthInfoCapacity).
func ParseAuthInfo(b []byte) (AuthInfo, error) {
	d, err := dict.ParseLimit(b, dict.AuthInfoCapacity)
	if err != nil {
		return AuthInfo{}, fmt.Errorf("netconf: auth info: %w", err)
	}
	a := AuthInfo{Version: d.Uint(AuthKeyVersion, 0)}
	switch a.Version {
	case 0:
		a.AuthURL = text(d, AuthKeyURL, URLSize)
	case 1:
		a.IssuerURL = text(d, AuthKeyIssuerURL, URLSize)
		a.CentralURL = text(d, AuthKeyCentralURL, URLSize)
		a.Nonce = text(d, AuthKeyNonce, authNonceSize)
		a.State = text(d, AuthKeyState, authStateSize)
		a.ClientID = text(d, AuthKeyClientID, authClientIDSize)
		if a.Provider = text(d, AuthKeyProvider, authProviderSize); a.Provider == "" {
			a.Provider = DefaultSSOProvider
		}
	}
	return a, nil
}

// AppendMarshal appends the dictionary as the 1.14.1 controller writes it: version 0 is
// aV, aU; version 1 is aV, iU, aCU, aN, aS, aCID, then aSSOp only if Provider is set to
// something other than DefaultSSOProvider. Other versions write aV alone.
func (a *AuthInfo) AppendMarshal(dst []byte) ([]byte, error) {
	w := writer{d: dict.New(dict.AuthInfoCapacity)}
	w.uint(AuthKeyVersion, a.Version)
	switch a.Version {
	case 0:
		w.str(AuthKeyURL, a.AuthURL, URLSize)
	case 1:
		w.str(AuthKeyIssuerURL, a.IssuerURL, URLSize)
		w.str(AuthKeyCentralURL, a.CentralURL, URLSize)
		w.str(AuthKeyNonce, a.Nonce, authNonceSize)
		w.str(AuthKeyState, a.State, authStateSize)
		w.str(AuthKeyClientID, a.ClientID, authClientIDSize)
		if a.Provider != "" && a.Provider != DefaultSSOProvider {
			w.str(AuthKeyProvider, a.Provider, authProviderSize)
		}
	}
	if w.err != nil {
		return dst, fmt.Errorf("netconf: writing auth info: %w", w.err)
	}
	return w.d.AppendMarshal(dst), nil
}

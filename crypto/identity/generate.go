package identity

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/ztx/ztx/crypto/c25519"
)

// Generate makes a new identity. About one key in 15 hashes to a usable
// address, so it tries keys on every CPU at once until one does.
func Generate(rand io.Reader) (*Identity, error) {
	var (
		mu     sync.Mutex // guards rand, found and err
		found  *Identity
		err    error
		wg     sync.WaitGroup
		done   = make(chan struct{})
		closed bool
	)
	finish := func(id *Identity, e error) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		found, err, closed = id, e, true
		close(done)
	}
	next := func(priv *[64]byte) error {
		mu.Lock()
		defer mu.Unlock()
		_, e := io.ReadFull(rand, priv[:])
		return e
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				priv := new([64]byte)
				if e := next(priv); e != nil {
					finish(nil, fmt.Errorf("identity: reading random bytes: %w", e))
					return
				}
				pub := c25519.PublicFromPrivate(priv)
				d := memoryHardHash(&pub)
				if a, ok := hashAccepts(&d); ok {
					finish(&Identity{Address: a, Public: pub, Private: priv}, nil)
					return
				}
			}
		}()
	}
	wg.Wait()
	return found, err
}

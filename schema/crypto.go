package schema

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const (
	keySize = 32 // AES-256

	// sealVersion prefixes every sealed value so that the format can change
	// without guessing.
	sealVersion byte = 1
)

var (
	// ErrNoKey is returned when tokens are saved or read but the store was
	// opened without WithTokenKey.
	ErrNoKey = errors.New("no token encryption key: set VELQBO_SECRET_KEY (32 random bytes, base64: openssl rand -base64 32)")
	// ErrBadKey is returned when stored tokens do not decrypt with the key
	// the store was opened with.
	ErrBadKey = errors.New("cannot decrypt stored tokens: VELQBO_SECRET_KEY differs from the one that stored them")
	// errCorrupt is returned for a sealed value that is not in our format.
	errCorrupt = errors.New("stored token is corrupt")
)

// DecodeKey decodes a base64 (standard or URL alphabet, padded or not)
// 32-byte token key, as found in VELQBO_SECRET_KEY. The error never contains
// the key.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != keySize {
				return nil, fmt.Errorf("token key must decode to %d bytes, got %d (generate one with: openssl rand -base64 32)", keySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("token key is not valid base64 (generate one with: openssl rand -base64 32)")
}

// sealer encrypts and decrypts token fields with AES-256-GCM. The
// additional data binds a ciphertext to its realm and column, so a sealed
// value copied to another row or column does not decrypt.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, ErrNoKey
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("token key must be %d bytes, got %d", keySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func aad(realm, column string) []byte {
	return []byte("velqbo/tokens/" + column + "\x00" + realm)
}

// seal returns version || nonce || ciphertext+tag, with a fresh random nonce.
func (c *sealer) seal(realm, column string, plain []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+c.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return c.aead.Seal(out, out[1:1+ns], plain, aad(realm, column)), nil
}

// open reverses seal. A well-formed value that fails authentication means a
// different key (or tampering): ErrBadKey.
func (c *sealer) open(realm, column string, sealed []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	if len(sealed) < 1+ns+c.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errCorrupt
	}
	plain, err := c.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad(realm, column))
	if err != nil {
		return nil, ErrBadKey
	}
	return plain, nil
}

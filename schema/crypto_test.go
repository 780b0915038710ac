package schema

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func TestDecodeKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{0xfb}, 32)
	for name, tc := range map[string]struct {
		in      string
		wantErr bool
	}{
		"Std":       {base64.StdEncoding.EncodeToString(key), false},
		"RawURL":    {base64.RawURLEncoding.EncodeToString(key), false},
		"Newline":   {base64.StdEncoding.EncodeToString(key) + "\n", false},
		"TooShort":  {base64.StdEncoding.EncodeToString(key[:16]), true},
		"NotBase64": {"not base64!!", true},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeKey(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got err %v; want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !bytes.Equal(got, key) {
				t.Errorf("got key %x; want %x", got, key)
			}
		})
	}
}

func TestSealer(t *testing.T) {
	t.Parallel()
	c, err := newSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.seal("r1", colRefresh, []byte("tok"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.seal("r1", colRefresh, []byte("tok"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are equal; want a fresh nonce each time")
	}
	if got, err := c.open("r1", colRefresh, a); err != nil || string(got) != "tok" {
		t.Errorf("open: got %q, %v; want tok, nil", got, err)
	}
	if _, err := c.open("r2", colRefresh, a); !errors.Is(err, ErrBadKey) {
		t.Errorf("open under another realm: got %v; want ErrBadKey", err)
	}
	if _, err := c.open("r1", colRefresh, a[:5]); !errors.Is(err, errCorrupt) {
		t.Errorf("open truncated: got %v; want errCorrupt", err)
	}
}

// FuzzOpenSealed feeds arbitrary bytes to token decryption: it must never
// panic, never "succeed" on garbage, and round-trip what it sealed.
func FuzzOpenSealed(f *testing.F) {
	c, err := newSealer(testKey)
	if err != nil {
		f.Fatal(err)
	}
	// A deterministic valid value (fixed nonce), so that every fuzz worker
	// process computes the same one.
	nonce := bytes.Repeat([]byte{9}, c.aead.NonceSize())
	good := c.aead.Seal(append([]byte{sealVersion}, nonce...), nonce, []byte("access-token"), aad("realm", colAccess))
	f.Add(good, "realm")
	f.Add([]byte{}, "")
	f.Add([]byte{sealVersion}, "realm")
	f.Add(bytes.Repeat([]byte{sealVersion}, 40), "realm")
	f.Add(append([]byte{2}, good[1:]...), "realm")
	f.Fuzz(func(t *testing.T, data []byte, realm string) {
		plain, err := c.open(realm, colAccess, data)
		if err == nil && !(realm == "realm" && bytes.Equal(data, good)) {
			// Forging a GCM tag by chance is out of reach; a success means
			// the authentication is not being checked.
			t.Fatalf("open(%x) succeeded with %q; want an error", data, plain)
		}
		if err != nil && !errors.Is(err, ErrBadKey) && !errors.Is(err, errCorrupt) {
			t.Fatalf("open: got %v; want ErrBadKey or errCorrupt", err)
		}
		sealed, err := c.seal(realm, colAccess, data)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.open(realm, colAccess, sealed)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("round trip: got %x, %v; want %x", back, err, data)
		}
	})
}

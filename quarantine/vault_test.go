package quarantine_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"kyoyu/quarantine"
)

func vault(t *testing.T, b byte) *quarantine.Vault {
	t.Helper()
	v, err := quarantine.NewVault(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVaultSealsAndChecks(t *testing.T) {
	v := vault(t, 1)
	plain := []byte("X5O!P%@AP[4\\PZX54(P^)7CC)7}$ live sample")
	sum := sha256.Sum256(plain)
	hash := hex.EncodeToString(sum[:])
	sealed, err := v.Seal(plain, hash)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain[:8]) {
		t.Fatal("sealed sample contains the plaintext")
	}
	again, _ := v.Seal(plain, hash)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one sample are equal: the nonce is not random")
	}
	got, err := v.Open(sealed, hash)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %v", err)
	}
	// Another record's hash, a flipped bit, another key: all refused.
	other := sha256.Sum256([]byte("other"))
	if _, err := v.Open(sealed, hex.EncodeToString(other[:])); !errors.Is(err, quarantine.ErrIntegrity) {
		t.Fatalf("wrong hash: %v", err)
	}
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)/2] ^= 1
	if _, err := v.Open(flipped, hash); !errors.Is(err, quarantine.ErrIntegrity) {
		t.Fatalf("flipped bit: %v", err)
	}
	if _, err := vault(t, 2).Open(sealed, hash); !errors.Is(err, quarantine.ErrIntegrity) {
		t.Fatalf("other key: %v", err)
	}
	// A record whose hash was sealed wrongly never opens.
	bad, _ := v.Seal(plain, hex.EncodeToString(other[:]))
	if _, err := v.Open(bad, hex.EncodeToString(other[:])); !errors.Is(err, quarantine.ErrIntegrity) {
		t.Fatalf("plaintext not matching its hash: %v", err)
	}
	if vault(t, 1).KeyID() != v.KeyID() || vault(t, 2).KeyID() == v.KeyID() {
		t.Fatal("key ids do not tell keys apart")
	}
	if _, err := quarantine.NewVault(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key accepted")
	}
}

func TestPasswords(t *testing.T) {
	v := vault(t, 1)
	n := quarantine.NewNonce()
	if !quarantine.ValidNonce(n) || quarantine.ValidNonce("short") || quarantine.ValidNonce(strings.Repeat("a", 26)) {
		t.Fatal("nonce check")
	}
	p := v.Password(7, 9, n)
	if len(p) != quarantine.PasswordLength || strings.ContainsAny(p, "0O1I") {
		t.Fatalf("password %q", p)
	}
	if v.Password(7, 9, n) != p {
		t.Fatal("the same offer gives another password")
	}
	for _, q := range []string{v.Password(8, 9, n), v.Password(7, 10, n), v.Password(7, 9, quarantine.NewNonce()), vault(t, 2).Password(7, 9, n)} {
		if q == p {
			t.Fatal("different offers share a password")
		}
	}
}

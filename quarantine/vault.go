// Package quarantine keeps samples (検体: received e-mails, attached files,
// logs — possibly live malware) out of harm's way: encrypted at rest, so the
// raw bytes never sit in the database, its backups or a scanner's path, and
// handed out only inside a password-protected archive (WinZip AES-256), as
// the handbook asks for samples passed between organisations.
package quarantine

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the size of the secret key every server on one database shares.
const KeySize = 32

// ErrIntegrity means a stored sample did not decrypt to the bytes whose
// hash was recorded: tampered with, truncated, or sealed under another key.
var ErrIntegrity = errors.New("quarantine: the sample does not match its recorded SHA-256")

// Vault seals samples with AES-256-GCM under a key derived from the
// server's secret key, and derives archive passwords. Subkeys are separate
// per purpose, so the secret key itself never touches data.
type Vault struct {
	aead  cipher.AEAD
	pwKey []byte
	keyID string
}

// sealVersion prefixes the additional data, so a later format can never be
// mistaken for this one.
const sealVersion = "kyoyu-sample-v1"

// NewVault derives the vault's keys from a 32-byte secret key.
func NewVault(secret []byte) (*Vault, error) {
	if len(secret) != KeySize {
		return nil, fmt.Errorf("quarantine: the secret key must be %d bytes, not %d", KeySize, len(secret))
	}
	enc, err := hkdf.Key(sha256.New, secret, nil, "kyoyu quarantine encryption v1", 32)
	if err != nil {
		return nil, err
	}
	pw, err := hkdf.Key(sha256.New, secret, nil, "kyoyu quarantine archive password v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The key id names the key without revealing it, so a server with the
	// wrong key says so instead of failing obscurely.
	m := hmac.New(sha256.New, enc)
	m.Write([]byte("key id"))
	return &Vault{aead: aead, pwKey: pw, keyID: hex.EncodeToString(m.Sum(nil)[:8])}, nil
}

// KeyID identifies the key samples are sealed under.
func (v *Vault) KeyID() string { return v.keyID }

// Seal encrypts a sample: a random 12-byte nonce, then the ciphertext and
// tag. The SHA-256 of the plaintext is bound in as additional data, so a
// sealed sample cannot be swapped for another under the same record.
func (v *Vault) Seal(plain []byte, sha256Hex string) ([]byte, error) {
	nonce := make([]byte, v.aead.NonceSize(), v.aead.NonceSize()+len(plain)+v.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return v.aead.Seal(nonce, nonce, plain, v.ad(sha256Hex)), nil
}

// Open decrypts a sealed sample and checks it against its recorded SHA-256.
func (v *Vault) Open(sealed []byte, sha256Hex string) ([]byte, error) {
	n := v.aead.NonceSize()
	if len(sealed) < n+v.aead.Overhead() {
		return nil, ErrIntegrity
	}
	plain, err := v.aead.Open(nil, sealed[:n], sealed[n:], v.ad(sha256Hex))
	if err != nil {
		return nil, ErrIntegrity
	}
	sum := sha256.Sum256(plain)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(sha256Hex)) != 1 {
		return nil, ErrIntegrity
	}
	return plain, nil
}

func (v *Vault) ad(sha256Hex string) []byte { return []byte(sealVersion + ":" + sha256Hex) }

// passwordAlphabet has 32 characters and none that look alike (0/O, 1/I),
// because the password is read out over the telephone or typed from paper.
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// PasswordLength is the length of an archive password: 20 characters of a
// 32-letter alphabet, 100 bits.
const PasswordLength = 20

// Password derives the archive password for one offer (who, which sample,
// and a random nonce the offer page carries). Deriving it, rather than
// generating and keeping it, means it is never stored, and it cannot be
// chosen by whoever posts the form: only the server holds the key.
func (v *Vault) Password(personID, attachmentID int64, nonce string) string {
	m := hmac.New(sha256.New, v.pwKey)
	fmt.Fprintf(m, "%d|%d|%s", personID, attachmentID, nonce)
	sum := m.Sum(nil)
	out := make([]byte, PasswordLength)
	for i := range out {
		// 32 letters: 5 bits a character, with no bias.
		out[i] = passwordAlphabet[sum[i]&31]
	}
	return string(out)
}

// NewNonce returns a fresh random offer nonce.
func NewNonce() string { return rand.Text() }

// ValidNonce reports whether s looks like a nonce NewNonce made.
func ValidNonce(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

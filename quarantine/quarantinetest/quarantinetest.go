// Package quarantinetest reads the archives package quarantine writes,
// for tests: an implementation of the WinZip AES specification kept apart
// from the writer (its own parsing, counter and checks), so a test that
// opens an archive with it checks the writer against the specification
// rather than against itself.
package quarantinetest

import (
	"bytes"
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
)

// Open is a reader for one stored WinZip AES (AE-2, AES-256) archive,
// written from the specification independently of the writer: it walks
// the end record and the central directory to the local header, checks
// every field the specification fixes, checks the password verification
// value and the authentication code, and decrypts with its own counter.
func Open(archive []byte, password string) (name string, plain []byte, err error) {
	defer func() {
		// Offsets come from the archive: a wrong one is a malformed archive.
		if r := recover(); r != nil {
			name, plain, err = "", nil, fmt.Errorf("malformed archive: %v", r)
		}
	}()
	le := binary.LittleEndian
	eocd := bytes.LastIndex(archive, []byte{'P', 'K', 5, 6})
	if eocd < 0 || len(archive) < eocd+22 {
		return "", nil, errors.New("no end of central directory record")
	}
	if n := le.Uint16(archive[eocd+10:]); n != 1 {
		return "", nil, fmt.Errorf("%d entries, want 1", n)
	}
	cd := int(le.Uint32(archive[eocd+16:]))
	c := archive[cd:]
	if le.Uint32(c) != 0x02014b50 {
		return "", nil, errors.New("no central directory header")
	}
	if m := le.Uint16(c[10:]); m != 99 {
		return "", nil, fmt.Errorf("central method %d, want 99", m)
	}
	if f := le.Uint16(c[8:]); f&1 == 0 {
		return "", nil, errors.New("central header: encrypted bit not set")
	}
	if crc := le.Uint32(c[16:]); crc != 0 {
		return "", nil, fmt.Errorf("AE-2 must store no CRC, found %08x", crc)
	}
	cnameLen, cextraLen := int(le.Uint16(c[28:])), int(le.Uint16(c[30:]))
	if err := checkExtra(c[46+cnameLen : 46+cnameLen+cextraLen]); err != nil {
		return "", nil, fmt.Errorf("central: %w", err)
	}
	local := int(le.Uint32(c[42:]))
	l := archive[local:]
	if le.Uint32(l) != 0x04034b50 {
		return "", nil, errors.New("no local header")
	}
	if v := le.Uint16(l[4:]); v != 51 {
		return "", nil, fmt.Errorf("version needed %d, want 51", v)
	}
	if le.Uint16(l[6:])&1 == 0 || le.Uint16(l[8:]) != 99 || le.Uint32(l[14:]) != 0 {
		return "", nil, errors.New("local header: not an AE-2 entry")
	}
	csize, usize := int(le.Uint32(l[18:])), int(le.Uint32(l[22:]))
	nameLen, extraLen := int(le.Uint16(l[26:])), int(le.Uint16(l[28:]))
	name = string(l[30 : 30+nameLen])
	if err := checkExtra(l[30+nameLen : 30+nameLen+extraLen]); err != nil {
		return "", nil, fmt.Errorf("local: %w", err)
	}
	data := l[30+nameLen+extraLen : 30+nameLen+extraLen+csize]
	salt, verifier := data[:16], data[16:18]
	body, code := data[18:len(data)-10], data[len(data)-10:]
	if len(body) != usize {
		return "", nil, fmt.Errorf("ciphertext %d bytes, uncompressed size %d", len(body), usize)
	}
	keys, err := pbkdf2.Key(sha1.New, password, salt, 1000, 66)
	if err != nil {
		return "", nil, err
	}
	if !bytes.Equal(keys[64:], verifier) {
		return "", nil, errors.New("wrong password (verification value)")
	}
	m := hmac.New(sha1.New, keys[32:64])
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:10], code) {
		return "", nil, errors.New("authentication code does not match")
	}
	block, err := aes.NewCipher(keys[:32])
	if err != nil {
		return "", nil, err
	}
	plain = make([]byte, len(body))
	var ctr, ks [16]byte
	for i := 0; i < len(body); i += 16 {
		binary.LittleEndian.PutUint64(ctr[:8], uint64(i/16+1))
		block.Encrypt(ks[:], ctr[:])
		for j := i; j < i+16 && j < len(body); j++ {
			plain[j] = body[j] ^ ks[j-i]
		}
	}
	return name, plain, nil
}

func checkExtra(x []byte) error {
	le := binary.LittleEndian
	for len(x) >= 4 {
		id, n := le.Uint16(x), int(le.Uint16(x[2:]))
		if id == 0x9901 {
			f := x[4 : 4+n]
			switch {
			case n != 7:
				return fmt.Errorf("AES extra size %d", n)
			case le.Uint16(f) != 2:
				return fmt.Errorf("vendor version %d, want 2 (AE-2)", le.Uint16(f))
			case string(f[2:4]) != "AE":
				return fmt.Errorf("vendor id %q", f[2:4])
			case f[4] != 3:
				return fmt.Errorf("strength %d, want 3 (AES-256)", f[4])
			case le.Uint16(f[5:]) != 0:
				return fmt.Errorf("real method %d, want 0 (stored)", le.Uint16(f[5:]))
			}
			return nil
		}
		x = x[4+n:]
	}
	return errors.New("no 0x9901 extra field")
}

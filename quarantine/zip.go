package quarantine

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// The archive follows WinZip's "AES Encryption Information: Encryption
// Specification AE-1 and AE-2" (document version 1.04), as 7-Zip, WinZip,
// libarchive (bsdtar), Keka and The Unarchiver read it:
//
//   - compression method 99 in both headers, the real method (0, stored) in
//     an extra field 0x9901: data size 7, vendor version 2 (AE-2), vendor
//     id "AE", strength 3 (AES-256), real method;
//   - general purpose bit 0 (encrypted) set;
//   - AE-2 stores no CRC (zero), so the plaintext's CRC never leaks; the
//     authentication code protects the data instead;
//   - file data = salt (16 bytes, random per entry) ‖ password verification
//     value (2 bytes) ‖ AES-256-CTR ciphertext ‖ HMAC-SHA1-80 code;
//   - keys from PBKDF2-HMAC-SHA1(password, salt, 1000 iterations, 66 bytes):
//     32 bytes AES key, 32 bytes HMAC key, 2 bytes verification value;
//   - CTR mode with a 16-byte little-endian counter starting at 1, no nonce;
//   - the HMAC is computed over the ciphertext only.
//
// Entries are stored, not compressed: the sample's bytes arrive exactly as
// they were received, and the recipient's tool needs nothing but AES.
const (
	methodStore   = 0
	methodAES     = 99
	aesExtraID    = 0x9901
	aesVendorAE2  = 2
	aesStrength   = 3 // AES-256
	saltSize      = 16
	keySize       = 32
	verifierSize  = 2
	macSize       = 10
	pbkdf2Rounds  = 1000
	versionAES    = 51 // 5.1: the version WinZip AES entries declare as needed
	flagEncrypted = 0x0001
	flagUTF8      = 0x0800
	entryOverhead = saltSize + verifierSize + macSize
	maxUint32     = 1<<32 - 1
	creatorUnix   = 3
)

// Writer writes a ZIP archive whose entries are encrypted with WinZip
// AES-256 (AE-2) under one password. It writes straight through, so the
// target need not seek; Close writes the central directory.
type Writer struct {
	w        io.Writer
	password string
	offset   int64
	entries  []entry
	comment  string
	err      error
	closed   bool
}

type entry struct {
	name       string
	time, date uint16
	csize      uint32
	usize      uint32
	offset     uint32
}

// NewWriter starts an archive on w whose entries open with password.
func NewWriter(w io.Writer, password string) *Writer {
	return &Writer{w: w, password: password}
}

// SetComment sets the archive comment, which is not encrypted: tools show
// it before asking for the password. ASCII only, so every tool shows it.
func (z *Writer) SetComment(c string) error {
	for i := 0; i < len(c); i++ {
		if c[i] < 0x20 && c[i] != '\n' || c[i] > 0x7e {
			return errors.New("quarantine: the archive comment must be printable ASCII")
		}
	}
	if len(c) > 0xffff {
		return errors.New("quarantine: the archive comment is too long")
	}
	z.comment = c
	return nil
}

// Add encrypts data into the archive under name, dated modified (ZIP keeps
// local time without a zone: pass it in the zone the recipient reads it in).
// Names are flat: a name with a path separator or a dot-dot is refused, so
// extracting the archive can only ever create that one file.
func (z *Writer) Add(name string, modified time.Time, data []byte) error {
	if z.err != nil {
		return z.err
	}
	if z.closed {
		return errors.New("quarantine: archive already closed")
	}
	if err := checkName(z.password, name); err != nil {
		return err
	}
	if int64(len(data)) > maxUint32-entryOverhead || z.offset > maxUint32 || len(z.entries) >= 0xffff {
		return errors.New("quarantine: too large for a ZIP archive without ZIP64")
	}
	e := entry{name: name, usize: uint32(len(data)), csize: uint32(len(data) + entryOverhead), offset: uint32(z.offset)}
	e.time, e.date = dosTime(modified)

	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return z.fail(err)
	}
	keys, err := pbkdf2.Key(sha1.New, z.password, salt, pbkdf2Rounds, 2*keySize+verifierSize)
	if err != nil {
		return z.fail(err)
	}
	block, err := aes.NewCipher(keys[:keySize])
	if err != nil {
		return z.fail(err)
	}
	mac := hmac.New(sha1.New, keys[keySize:2*keySize])

	var hdr []byte
	hdr = binary.LittleEndian.AppendUint32(hdr, 0x04034b50)
	hdr = binary.LittleEndian.AppendUint16(hdr, versionAES)
	hdr = binary.LittleEndian.AppendUint16(hdr, flagEncrypted|flagUTF8)
	hdr = binary.LittleEndian.AppendUint16(hdr, methodAES)
	hdr = binary.LittleEndian.AppendUint16(hdr, e.time)
	hdr = binary.LittleEndian.AppendUint16(hdr, e.date)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0) // AE-2: no CRC
	hdr = binary.LittleEndian.AppendUint32(hdr, e.csize)
	hdr = binary.LittleEndian.AppendUint32(hdr, e.usize)
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(name)))
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(aesExtra())))
	hdr = append(hdr, name...)
	hdr = append(hdr, aesExtra()...)
	hdr = append(hdr, salt...)
	hdr = append(hdr, keys[2*keySize:]...)
	if err := z.write(hdr); err != nil {
		return err
	}
	ctr := newCTR(block)
	buf := make([]byte, 32<<10)
	for rest := data; len(rest) > 0; {
		n := copy(buf, rest)
		rest = rest[n:]
		ctr.xor(buf[:n], buf[:n])
		mac.Write(buf[:n])
		if err := z.write(buf[:n]); err != nil {
			return err
		}
	}
	if err := z.write(mac.Sum(nil)[:macSize]); err != nil {
		return err
	}
	z.entries = append(z.entries, e)
	return nil
}

// Close writes the central directory and the end record. It does not
// close the underlying writer.
func (z *Writer) Close() error {
	if z.err != nil {
		return z.err
	}
	if z.closed {
		return nil
	}
	z.closed = true
	start := z.offset
	if start > maxUint32 {
		return z.fail(errors.New("quarantine: too large for a ZIP archive without ZIP64"))
	}
	for _, e := range z.entries {
		var b []byte
		b = binary.LittleEndian.AppendUint32(b, 0x02014b50)
		b = binary.LittleEndian.AppendUint16(b, creatorUnix<<8|versionAES)
		b = binary.LittleEndian.AppendUint16(b, versionAES)
		b = binary.LittleEndian.AppendUint16(b, flagEncrypted|flagUTF8)
		b = binary.LittleEndian.AppendUint16(b, methodAES)
		b = binary.LittleEndian.AppendUint16(b, e.time)
		b = binary.LittleEndian.AppendUint16(b, e.date)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, e.csize)
		b = binary.LittleEndian.AppendUint32(b, e.usize)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name)))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(aesExtra())))
		b = binary.LittleEndian.AppendUint16(b, 0) // file comment
		b = binary.LittleEndian.AppendUint16(b, 0) // disk
		b = binary.LittleEndian.AppendUint16(b, 0) // internal attributes
		// A regular file, rw-r--r--: never marked executable.
		b = binary.LittleEndian.AppendUint32(b, 0o100644<<16)
		b = binary.LittleEndian.AppendUint32(b, e.offset)
		b = append(b, e.name...)
		b = append(b, aesExtra()...)
		if err := z.write(b); err != nil {
			return err
		}
	}
	size := z.offset - start
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 0x06054b50)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(z.entries)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(z.entries)))
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = binary.LittleEndian.AppendUint32(b, uint32(start))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(z.comment)))
	b = append(b, z.comment...)
	return z.write(b)
}

func (z *Writer) write(b []byte) error {
	n, err := z.w.Write(b)
	z.offset += int64(n)
	if err != nil {
		return z.fail(err)
	}
	return nil
}

func (z *Writer) fail(err error) error {
	if z.err == nil {
		z.err = fmt.Errorf("quarantine: write archive: %w", err)
	}
	return z.err
}

// aesExtra is the 0x9901 extra field of an AE-2, AES-256, stored entry.
func aesExtra() []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, aesExtraID)
	b = binary.LittleEndian.AppendUint16(b, 7)
	b = binary.LittleEndian.AppendUint16(b, aesVendorAE2)
	b = append(b, 'A', 'E')
	b = append(b, aesStrength)
	b = binary.LittleEndian.AppendUint16(b, methodStore)
	return b
}

func checkName(password, name string) error {
	switch {
	case password == "":
		return errors.New("quarantine: an archive needs a password")
	case name == "" || len(name) > 0xffff || !utf8.ValidString(name):
		return fmt.Errorf("quarantine: unusable entry name %q", name)
	case strings.ContainsAny(name, "/\\\x00") || name == "." || name == "..":
		return fmt.Errorf("quarantine: entry name %q must be a plain file name", name)
	}
	return nil
}

// dosTime is t as MS-DOS date and time (two-second precision, 1980–2107).
func dosTime(t time.Time) (tm, date uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, t.Location())
	} else if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, t.Location())
	}
	tm = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	date = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	return tm, date
}

// ctr is AES in counter mode as WinZip uses it: the whole 16-byte block is
// a little-endian counter, starting at 1 (NIST's CTR counts big-endian,
// so crypto/cipher's CTR does not fit).
type ctr struct {
	block   cipher.Block
	counter [aes.BlockSize]byte
	stream  [aes.BlockSize]byte
	used    int
}

func newCTR(b cipher.Block) *ctr { return &ctr{block: b, used: aes.BlockSize} }

func (c *ctr) xor(dst, src []byte) {
	for i := range src {
		if c.used == aes.BlockSize {
			for j := range c.counter {
				c.counter[j]++
				if c.counter[j] != 0 {
					break
				}
			}
			c.block.Encrypt(c.stream[:], c.counter[:])
			c.used = 0
		}
		dst[i] = src[i] ^ c.stream[c.used]
		c.used++
	}
}

package quarantine_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kyoyu/quarantine"
	"kyoyu/quarantine/quarantinetest"
)

func sample() []byte {
	// An EICAR-like marker and every byte value, over several counter blocks.
	var b bytes.Buffer
	b.WriteString("From: attacker@example.com\r\nSubject: 請求書\r\n\r\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$-TEST-SAMPLE\r\n")
	for i := 0; i < 1000; i++ {
		b.WriteByte(byte(i))
	}
	return b.Bytes()
}

func archive(t *testing.T, name, password string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := quarantine.NewWriter(&buf, password)
	if err := z.SetComment("Quarantined sample: may be live malware."); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 11, 20, 9, 30, 4, 0, time.FixedZone("JST", 9*3600))
	if err := z.Add(name, mod, data); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestArchiveOpensWithItsPassword(t *testing.T) {
	data := sample()
	for _, size := range []int{1, 15, 16, 17, len(data)} {
		a := archive(t, "不審メール.eml", "CORRECT-HORSE-2345", data[:size])
		name, got, err := quarantinetest.Open(a, "CORRECT-HORSE-2345")
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if name != "不審メール.eml" || !bytes.Equal(got, data[:size]) {
			t.Fatalf("size %d: got %q, %d bytes", size, name, len(got))
		}
		if _, _, err := quarantinetest.Open(a, "wrong password"); err == nil {
			t.Fatalf("size %d: opens with a wrong password", size)
		}
		if bytes.Contains(a, data[:size]) && size > 4 {
			t.Fatalf("size %d: the plaintext is in the archive", size)
		}
	}
}

func TestArchiveIsAZipFile(t *testing.T) {
	data := sample()
	a := archive(t, "ログ.txt", "PW23456789ABCDEFGHJK", data)
	r, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.File) != 1 || r.Comment != "Quarantined sample: may be live malware." {
		t.Fatalf("files %d, comment %q", len(r.File), r.Comment)
	}
	f := r.File[0]
	if f.Name != "ログ.txt" || f.Method != 99 || f.Flags&1 == 0 || f.NonUTF8 || f.UncompressedSize64 != uint64(len(data)) ||
		f.CompressedSize64 != uint64(len(data)+28) {
		t.Fatalf("entry %+v", f.FileHeader)
	}
	if f.Mode()&0o111 != 0 || !f.Mode().IsRegular() {
		t.Fatalf("mode %v: a sample must never be executable", f.Mode())
	}
	if m := f.Modified; m.Hour() != 9 || m.Minute() != 30 || m.Second() != 4 || m.Day() != 20 {
		t.Fatalf("modified %v", m)
	}
	// Nothing can read it without the password.
	if rc, err := f.Open(); err == nil {
		rc.Close()
		t.Fatal("archive/zip opened an encrypted entry")
	}
}

func TestWriterRefusesUnsafeNames(t *testing.T) {
	for _, name := range []string{"", "../x", "a/b", `a\b`, "..", "x\x00y"} {
		z := quarantine.NewWriter(&bytes.Buffer{}, "pw")
		if err := z.Add(name, time.Now(), []byte("x")); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	z := quarantine.NewWriter(&bytes.Buffer{}, "")
	if err := z.Add("x", time.Now(), []byte("x")); err == nil {
		t.Error("archive without a password accepted")
	}
}

// Test7Zip opens the archive with 7-Zip, the tool the documentation
// recommends. It runs when 7z is installed (KYOYU_REQUIRE_7Z=1 makes it
// mandatory).
func Test7Zip(t *testing.T) {
	sevenZip, err := exec.LookPath("7z")
	if err != nil {
		if os.Getenv("KYOYU_REQUIRE_7Z") == "1" {
			t.Fatal("7z is not installed and KYOYU_REQUIRE_7Z=1")
		}
		t.Skip("7z is not installed")
	}
	dir := t.TempDir()
	data := sample()
	password := "ABCDEFGHJKLMN2345678"
	path := filepath.Join(dir, "sample.zip")
	if err := os.WriteFile(path, archive(t, "不審メール.eml", password, data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sevenZip, "l", "-slt", "-p"+password, path).CombinedOutput()
	if err != nil {
		t.Fatalf("7z l: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "AES-256") || !strings.Contains(string(out), "Encrypted = +") {
		t.Fatalf("7z does not list an AES-256 entry:\n%s", out)
	}
	if out, err := exec.Command(sevenZip, "t", "-pwrong", path).CombinedOutput(); err == nil {
		t.Fatalf("7z accepted a wrong password:\n%s", out)
	}
	outDir := filepath.Join(dir, "out")
	if out, err := exec.Command(sevenZip, "x", "-y", "-p"+password, "-o"+outDir, path).CombinedOutput(); err != nil {
		t.Fatalf("7z x: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(outDir, "不審メール.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("7z extracted %d bytes, want %d equal bytes", len(got), len(data))
	}
}

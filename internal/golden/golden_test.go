package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadNormalisesCRLF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(p, []byte("a\r\nb\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(Read(t, p, []byte("ignored"))); got != "a\nb\n" {
		t.Errorf("Read = %q, want CRLF turned into LF", got)
	}
}

func TestCheckFailsOnDifference(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(p, []byte("want\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ft := &testing.T{}
	Check(ft, p, []byte("got\n"))
	if !ft.Failed() {
		t.Error("Check passed although the file differs")
	}
}

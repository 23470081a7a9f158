package audit

import (
	"errors"
	"testing"
	"time"
)

func chain(n int) []Entry {
	var es []Entry
	prev := Genesis
	for i := 1; i <= n; i++ {
		e := Entry{Seq: int64(i), At: time.Date(2026, 4, 1, 9, 0, i, 0, time.UTC), Action: "test", Outcome: OK, PersonEmail: "a@example.jp"}
		e.Seal(prev)
		prev = e.Hash
		es = append(es, e)
	}
	return es
}

func verify(es []Entry, headSeq int64, headHash string) error {
	v := NewVerifier()
	for _, e := range es {
		if err := v.Next(e); err != nil {
			return err
		}
	}
	return v.End(headSeq, headHash)
}

func TestVerifyNamesFirstBrokenEntry(t *testing.T) {
	good := chain(5)
	head := good[4]
	if err := verify(good, 5, head.Hash); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	cases := map[string]struct {
		mutate func([]Entry) []Entry
		seq    int64
	}{
		"altered detail": {func(es []Entry) []Entry { es[2].Detail = "x"; return es }, 3},
		"altered time":   {func(es []Entry) []Entry { es[1].At = es[1].At.Add(time.Millisecond); return es }, 2},
		"removed middle": {func(es []Entry) []Entry { return append(es[:1], es[2:]...) }, 2},
		"removed last":   {func(es []Entry) []Entry { return es[:4] }, 5},
		"resealed after edit": {func(es []Entry) []Entry {
			es[1].Detail = "forged"
			es[1].Seal(es[0].Hash) // a forger recomputes this hash, the next link breaks
			return es
		}, 3},
	}
	for name, c := range cases {
		es := append([]Entry(nil), good...)
		err := verify(c.mutate(es), 5, head.Hash)
		var p *Problem
		if !errors.As(err, &p) {
			t.Errorf("%s: want a Problem, got %v", name, err)
			continue
		}
		if p.Seq != c.seq {
			t.Errorf("%s: named entry %d, want %d (%v)", name, p.Seq, c.seq, err)
		}
	}
}

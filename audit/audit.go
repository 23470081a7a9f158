// Package audit is the hash-chained audit log: what an entry is, how it is
// sealed, and how a chain is verified. Entries are written by the store in
// the same transaction as the change they record.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Outcomes of an audited action.
const (
	OK     = "ok"     // done
	Denied = "denied" // refused: bad credentials, forbidden, CSRF …
	Failed = "failed" // attempted, failed for another reason
)

// Genesis is the prev_hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one line of the audit log: who (person and organisation), what
// (action on an object), when, from where, and how it ended.
type Entry struct {
	Seq              int64     `json:"seq"`
	At               time.Time `json:"at"`
	PersonID         int64     `json:"person_id,omitempty"`
	PersonEmail      string    `json:"person_email,omitempty"`
	OrganisationID   int64     `json:"organisation_id,omitempty"`
	OrganisationName string    `json:"organisation_name,omitempty"`
	Action           string    `json:"action"`
	ObjectType       string    `json:"object_type,omitempty"`
	ObjectID         string    `json:"object_id,omitempty"`
	// ItemID is the shareable item (case, advisory) the entry is about, so
	// audit views can show it only to those the sharing-range rule allows.
	ItemID   int64  `json:"item_id,omitempty"`
	Outcome  string `json:"outcome"`
	Detail   string `json:"detail,omitempty"`
	IP       string `json:"ip,omitempty"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Seal sets e.PrevHash and e.Hash, chaining e after prev.
func (e *Entry) Seal(prevHash string) {
	e.PrevHash = prevHash
	e.Hash = e.compute()
}

// compute hashes every field but Hash itself, in a fixed order, with the
// time in UTC milliseconds so both databases give back the same bytes.
func (e *Entry) compute() string {
	fields := []any{
		e.Seq, e.At.UTC().Format("2006-01-02T15:04:05.000Z"),
		e.PersonID, e.PersonEmail, e.OrganisationID, e.OrganisationName,
		e.Action, e.ObjectType, e.ObjectID, e.Outcome, e.Detail, e.IP, e.PrevHash, e.ItemID,
	}
	b, _ := json.Marshal(fields) // cannot fail on these types
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Verifier checks a chain fed to it in order of seq.
type Verifier struct {
	prev    string
	nextSeq int64
	Checked int64
}

// NewVerifier starts at the genesis of the chain.
func NewVerifier() *Verifier { return &Verifier{prev: Genesis, nextSeq: 1} }

// Problem names the first entry that breaks the chain and how.
type Problem struct {
	Seq    int64
	Reason string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("audit entry %d: %s", p.Seq, p.Reason)
}

// Next checks one entry; it returns a *Problem at the first break.
func (v *Verifier) Next(e Entry) error {
	switch {
	case e.Seq > v.nextSeq:
		return &Problem{Seq: v.nextSeq, Reason: fmt.Sprintf("removed (the chain jumps from %d to %d)", v.nextSeq-1, e.Seq)}
	case e.Seq < v.nextSeq:
		return &Problem{Seq: e.Seq, Reason: "duplicated or out of order"}
	case e.PrevHash != v.prev:
		return &Problem{Seq: e.Seq, Reason: "its link to the entry before was changed, or the entry before was removed"}
	case e.compute() != e.Hash:
		return &Problem{Seq: e.Seq, Reason: "altered (its content no longer matches its hash)"}
	}
	v.prev = e.Hash
	v.nextSeq++
	v.Checked++
	return nil
}

// End checks the recorded head of the chain against what was read, which
// catches the removal of the newest entries.
func (v *Verifier) End(headSeq int64, headHash string) error {
	last := v.nextSeq - 1
	switch {
	case headSeq > last:
		return &Problem{Seq: last + 1, Reason: fmt.Sprintf("removed (the log ends at %d but its head records %d)", last, headSeq)}
	case headSeq < last:
		return &Problem{Seq: headSeq + 1, Reason: "added after the recorded head"}
	case headSeq > 0 && headHash != v.prev:
		return &Problem{Seq: last, Reason: "altered (does not match the recorded head)"}
	}
	return nil
}

package kyoyu

import "time"

// AdvisoryReason is why NISC issues an advisory (seed 003 §3.1).
type AdvisoryReason string

const (
	// ReasonVulnerability: ① a security hole or bug that threatens others.
	ReasonVulnerability AdvisoryReason = "vulnerability"
	// ReasonAttack: ② an attack occurs or is announced, or disaster damage is expected.
	ReasonAttack AdvisoryReason = "attack"
	// ReasonOther: ③ it otherwise helps operators' security.
	ReasonOther AdvisoryReason = "other"
)

// Valid reports whether r is one of the three triggers.
func (r AdvisoryReason) Valid() bool {
	return r == ReasonVulnerability || r == ReasonAttack || r == ReasonOther
}

// RecipientPair names a recipient ministry and the sector it receives for
// (情報提供先: 所管省庁名及び分野名).
type RecipientPair struct {
	MinistryID int64  `json:"ministry_id"`
	Sector     string `json:"sector"`
}

// AdvisoryForm is figure 7 of the handbook (情報提供様式).
type AdvisoryForm struct {
	Reason      AdvisoryReason  `json:"reason"`
	Importance  string          `json:"importance"` // warning, advisory, info
	Recipients  []RecipientPair `json:"recipients"`
	TLP         string          `json:"tlp"`
	TLPNote     string          `json:"tlp_note"`
	Title       string          `json:"title"`
	Summary     string          `json:"summary"` // ① 概要
	Targets     string          `json:"targets"` // ② 対象
	Actions     string          `json:"actions"` // ③ 対処方針 (recommended actions)
	Other       string          `json:"other"`   // ④ その他
	Contact     Contact         `json:"contact"` // NISC contact
	SourceCases []int64         `json:"source_cases"`
	// Additional named recipients (※1) and exclusions carried from sources.
	ExtraRecipients []int64 `json:"extra_recipients"`
	Excluded        []int64 `json:"excluded"`
	// Resolved lists the highlighted strings (addresses, URLs …) the editor
	// checked and kept on purpose; publishing waits until every one is.
	Resolved []string `json:"resolved"`
}

// Advisory is an advisory (情報提供) with its latest version's form.
type Advisory struct {
	ID           int64        `json:"id"`
	ItemID       int64        `json:"-"`
	Number       string       `json:"advisory_number,omitempty"` // 識別番号, e.g. T2026-0001
	Status       string       `json:"status"`                    // draft, published
	ReportNumber int          `json:"report_number"`             // 第N報 of the latest version
	IssuerOrgID  int64        `json:"issuer_org_id"`
	TLP          string       `json:"tlp"`
	Form         AdvisoryForm `json:"form"`
	VersionID    int64        `json:"version_id"`
	PublishedAt  *time.Time   `json:"published_at,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
}

// Delivery is one organisation's receipt of an advisory on its way down:
// which stage, from whom, and whether it acknowledged (受領確認).
type Delivery struct {
	ID             int64      `json:"id"`
	AdvisoryID     int64      `json:"advisory_id"`
	OrgID          int64      `json:"org_id"`
	OrgName        string     `json:"org_name"`
	Stage          string     `json:"stage"` // ministry, ceptoar, operator
	FromOrgID      int64      `json:"from_org_id"`
	TLP            string     `json:"tlp"` // the range it was passed on with
	DeliveredAt    time.Time  `json:"delivered_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy int64      `json:"acknowledged_by,omitempty"`
	AckVia         string     `json:"ack_via,omitempty"` // ui, email
	RemindedAt     *time.Time `json:"reminded_at,omitempty"`
}

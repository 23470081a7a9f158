package kyoyu

import "time"

// Route is how a report travels from its origin to NISC (seed 003 §2.1).
type Route string

const (
	// RouteMinistry: operator → competent ministry → NISC.
	RouteMinistry Route = "ministry"
	// RouteCEPTOAR: operator → CEPTOAR secretariat (anonymises) → ministry → NISC.
	RouteCEPTOAR Route = "ceptoar"
	// RouteMinistryOrigin: the ministry originates the report, possibly on
	// behalf of an operator who phoned or faxed.
	RouteMinistryOrigin Route = "ministry_origin"
)

// Valid reports whether r is a known route.
func (r Route) Valid() bool {
	return r == RouteMinistry || r == RouteCEPTOAR || r == RouteMinistryOrigin
}

// Stage is which party produced a version of a report.
type Stage string

const (
	StageOperator    Stage = "operator"
	StageSecretariat Stage = "ceptoar"
	StageMinistry    Stage = "ministry"
)

// VersionStatus is where a version stands.
type VersionStatus string

const (
	VersionDraft     VersionStatus = "draft"     // being written; only its organisation sees it
	VersionSubmitted VersionStatus = "submitted" // sent to the next hop; immutable
)

// CaseStatus says where the newest report of a case is.
type CaseStatus string

const (
	CaseDraft      CaseStatus = "draft"       // nothing sent yet
	CaseAtCEPTOAR  CaseStatus = "at_ceptoar"  // with the CEPTOAR secretariat
	CaseAtMinistry CaseStatus = "at_ministry" // with the competent ministry
	CaseAtNISC     CaseStatus = "at_nisc"     // received by NISC
)

// Case is an incident (事案): the reports about it (第1報, 第2報 …) share
// its identifier, assigned by NISC on receipt of the first.
type Case struct {
	ID         int64      `json:"id"`
	ItemID     int64      `json:"-"`
	CaseNumber string     `json:"case_number,omitempty"` // 識別番号
	Route      Route      `json:"route"`
	Status     CaseStatus `json:"status"`
	TLP        string     `json:"tlp"`
	// Operator is what the viewer may know of the operator concerned: its
	// name, or its label (e.g. 電力事業者A) when the report was anonymised
	// and the viewer is not entitled to the source.
	Operator         string `json:"operator"`
	OperatorName     string `json:"-"` // the real name; set on creation
	OperatorLabel    string `json:"operator_label,omitempty"`
	OperatorOrgID    int64  `json:"operator_org_id,omitempty"` // only when the source is visible
	Anonymised       bool   `json:"anonymised"`
	OriginatorOrgID  int64  `json:"originator_org_id"`
	SecretariatOrgID int64  `json:"secretariat_org_id,omitempty"`
	MinistryOrgID    int64  `json:"ministry_org_id"`
	Channel          string `json:"channel"`  // web, email, phone, fax
	TakenBy          string `json:"taken_by"` // who took a phoned or faxed report

	// The newest released report's classification, for lists and filters.
	ReportCount  int        `json:"report_count"`
	Sector       string     `json:"sector,omitempty"`
	Importance   string     `json:"importance,omitempty"`
	EventClass   string     `json:"event_class,omitempty"`
	SystemStatus string     `json:"system_status,omitempty"`
	Outlook      string     `json:"outlook,omitempty"`
	Title        string     `json:"title,omitempty"`
	ReceivedAt   *time.Time `json:"received_at,omitempty"`
	LastReportAt *time.Time `json:"last_report_at,omitempty"`
	FollowUpDue  *time.Time `json:"follow_up_due_at,omitempty"`
	Overdue      bool       `json:"overdue"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// ReportVersion is one immutable version of a report (or the open draft):
// the form as one party wrote it at one hop.
type ReportVersion struct {
	ID           int64         `json:"id"`
	CaseID       int64         `json:"case_id"`
	ReportNumber int           `json:"report_number"` // 第N報
	Revision     int           `json:"revision"`      // order within the case
	Stage        Stage         `json:"stage"`
	Status       VersionStatus `json:"status"`
	OrgID        int64         `json:"org_id"`
	AuthorID     int64         `json:"author_id"`
	ToOrgID      int64         `json:"to_org_id,omitempty"`
	Released     bool          `json:"released"`    // reached NISC
	SourceOnly   bool          `json:"source_only"` // written before anonymisation
	Form         ReportForm    `json:"form"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	SubmittedAt  *time.Time    `json:"submitted_at,omitempty"`
}

// Contact is the sender block of the form (情報連絡元).
type Contact struct {
	Organisation string `json:"organisation"` // 省庁名 / 組織名
	Department   string `json:"department"`   // 部局名
	Name         string `json:"name"`         // 担当者名
	Phone        string `json:"phone"`
	Fax          string `json:"fax"`
	Email        string `json:"email"`
}

// TimelineRow is one line of ⑦ (日時, 事象・対応状況等).
type TimelineRow struct {
	At    string `json:"at"` // as written: a time, or "10/3 午前"
	Event string `json:"event"`
}

// Impact holds the figures that decide a service-level deviation.
type Impact struct {
	UsersAffected   *int `json:"users_affected,omitempty"`
	DurationMinutes *int `json:"duration_minutes,omitempty"`
	KWLost          *int `json:"kw_lost,omitempty"`
	HouseholdsCut   *int `json:"households_cut,omitempty"`
}

// ReportForm is figure 4 of the handbook (情報連絡様式). Only TLP and the
// sender are mandatory (with the number and date the system sets): speed
// beats completeness, the rest may follow in a later report.
type ReportForm struct {
	ClassificationVersion string        `json:"classification_version"`
	ReportedAt            *time.Time    `json:"reported_at,omitempty"` // 情報連絡日時
	Reporter              Contact       `json:"reporter"`
	TLP                   string        `json:"tlp"`
	TLPNote               string        `json:"tlp_note"` // 特記事項
	Importance            string        `json:"importance"`
	EventClass            string        `json:"event_class"` // ① exactly one
	Causes                []string      `json:"causes"`      // ② any number
	Sector                string        `json:"sector"`      // ③
	OperatorName          string        `json:"operator_name"`
	DiscoveredAt          *time.Time    `json:"discovered_at,omitempty"` // ⑤ 判明日時
	OccurredAt            *time.Time    `json:"occurred_at,omitempty"`   // 発生日時
	AffectedSystem        string        `json:"affected_system"`
	Description           string        `json:"description"`
	SystemStatus          string        `json:"system_status"`
	ServiceLevelDeviation *bool         `json:"service_level_deviation,omitempty"` // ⑥
	SpilloverPossible     *bool         `json:"spillover_possible,omitempty"`
	Impact                Impact        `json:"impact"`
	Timeline              []TimelineRow `json:"timeline"` // ⑦
	Supplementary         string        `json:"supplementary"`
	Press                 string        `json:"press"` // done, planned, none
	PressAt               *time.Time    `json:"press_at,omitempty"`
	PressTitle            string        `json:"press_title"`
	OtherBodiesNotified   string        `json:"other_bodies_notified"`
	Outlook               string        `json:"outlook"` // ⑧
	Lessons               string        `json:"lessons"` // ⑨
	// Sharing beyond the range and exceptions to it.
	ConcernedSectors []string `json:"concerned_sectors"` // further directly concerned sectors
	Recipients       []int64  `json:"recipients"`        // named additional recipients (※1)
	Excluded         []int64  `json:"excluded"`          // organisations that must never see it
}

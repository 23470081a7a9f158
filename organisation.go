package kyoyu

// OrgKind is a kind of party of the framework (関係主体). One organisation can
// hold several kinds: 総務省 is both a ministry and a security_ministry.
type OrgKind string

const (
	KindNISC             OrgKind = "nisc"              // 内閣サイバーセキュリティセンター
	KindMinistry         OrgKind = "ministry"          // 重要インフラ所管省庁
	KindSecurityMinistry OrgKind = "security_ministry" // 情報セキュリティ関係省庁
	KindResponseMinistry OrgKind = "response_ministry" // 事案対処省庁
	KindDisasterMinistry OrgKind = "disaster_ministry" // 防災関係府省庁
	KindSecurityAgency   OrgKind = "security_agency"   // 情報セキュリティ関係機関
	KindCyberVendor      OrgKind = "cyber_vendor"      // サイバー空間関連事業者
	KindEventOrg         OrgKind = "event_org"         // オリパラ関係組織 and successors
	KindCEPTOAR          OrgKind = "ceptoar"           // セプター事務局
	KindOperator         OrgKind = "operator"          // 重要インフラ事業者等
	KindCEPTOARCouncil   OrgKind = "ceptoar_council"   // セプターカウンシル
	KindCouncil          OrgKind = "council"           // サイバーセキュリティ協議会
)

// OrgKinds lists every kind, in the order forms show them.
var OrgKinds = []OrgKind{
	KindNISC, KindMinistry, KindSecurityMinistry, KindResponseMinistry,
	KindDisasterMinistry, KindSecurityAgency, KindCyberVendor, KindEventOrg,
	KindCEPTOAR, KindOperator, KindCEPTOARCouncil, KindCouncil,
}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	for _, v := range OrgKinds {
		if v == k {
			return true
		}
	}
	return false
}

// Organisation is a party of the framework: NISC, a ministry, a CEPTOAR's
// secretariat, an operator, an agency …
type Organisation struct {
	ID     int64  `json:"id"`
	Code   string `json:"code,omitempty"` // stable code for directory organisations
	NameJA string `json:"name_ja"`
	NameEN string `json:"name_en"`
	// Kinds, Sectors and CEPTOARs are what the sharing-range rule reads.
	Kinds    []OrgKind `json:"kinds"`
	Sectors  []string  `json:"sectors"`
	CEPTOARs []string  `json:"ceptoars"` // codes of the CEPTOARs it is a member of
}

// Has reports whether the organisation holds kind k.
func (o *Organisation) Has(k OrgKind) bool {
	for _, v := range o.Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Name returns the organisation's name in the given language, falling back
// to Japanese, the language of record.
func (o *Organisation) Name(lang string) string {
	if lang == "en" && o.NameEN != "" {
		return o.NameEN
	}
	return o.NameJA
}

// Sector is one of the critical-infrastructure sectors (重要インフラ分野).
type Sector struct {
	Code         string    `json:"code"`
	NameJA       string    `json:"name_ja"`
	NameEN       string    `json:"name_en"`
	MinistryCode string    `json:"ministry"` // competent ministry (所管省庁)
	Revision     string    `json:"revision"` // directory revision that added it
	Services     []Service `json:"services"`
}

// Service is a critical-infrastructure service of a sector with its
// service-maintenance level (サービス維持レベル, table 2 of the handbook).
type Service struct {
	SectorCode     string `json:"sector"`
	Code           string `json:"code"`
	NameJA         string `json:"name_ja"`
	NameEN         string `json:"name_en"`
	LawJA          string `json:"law_ja"`
	ServiceLevelJA string `json:"service_level_ja"`
	ServiceLevelEN string `json:"service_level_en"`
	// Threshold is the machine-readable level: keys such as users,
	// minutes, kw, households, any_outage.
	Threshold map[string]any `json:"threshold"`
}

// CEPTOAR is a sector's capability for information sharing and analysis;
// its secretariat is an Organisation of kind ceptoar.
type CEPTOAR struct {
	Code           string   `json:"code"`
	NameJA         string   `json:"name_ja"`
	NameEN         string   `json:"name_en"`
	OrganisationID int64    `json:"organisation_id"` // the secretariat
	SecretariatJA  string   `json:"secretariat_ja"`
	SecretariatEN  string   `json:"secretariat_en"`
	Sectors        []string `json:"sectors"`
	MemberCount    *int     `json:"member_count"` // as published (seed 001)
	MembersNoteJA  string   `json:"members_note_ja"`
	Channels       []string `json:"channels"`
	FiscalYear     int      `json:"fiscal_year"`
}

// DirectoryRevision is a versioned change of the framework's reference data,
// such as the 2024 addition of the ports sector.
type DirectoryRevision struct {
	Code    string `json:"code"`
	TitleJA string `json:"title_ja"`
	TitleEN string `json:"title_en"`
	Applied bool   `json:"applied"`
}

// RevisionData is the content of one directory revision as the directory
// package reads it from its embedded files and the store applies it.
type RevisionData struct {
	Code          string        `json:"revision"`
	TitleJA       string        `json:"title_ja"`
	TitleEN       string        `json:"title_en"`
	Requires      string        `json:"requires"`
	Sectors       []Sector      `json:"sectors"`
	Organisations []OrgSpec     `json:"organisations"`
	CEPTOARs      []CEPTOARSpec `json:"ceptoars"`
}

// OrgSpec describes a directory organisation, or (with AddSectors only)
// a change to one that an earlier revision created.
type OrgSpec struct {
	Code       string    `json:"code"`
	NameJA     string    `json:"name_ja"`
	NameEN     string    `json:"name_en"`
	Kinds      []OrgKind `json:"kinds"`
	Sectors    []string  `json:"sectors"`
	AddSectors []string  `json:"add_sectors"`
}

// CEPTOARSpec is a CEPTOAR as the directory files give it: its secretariat
// is named by organisation code.
type CEPTOARSpec struct {
	CEPTOAR
	SecretariatCode string `json:"secretariat_code"`
}

// Classification is one value of a versioned classification of the report
// form (kind: importance, event_class, cause, system_status, outlook, press,
// tlp); Group is the cause group for causes.
type Classification struct {
	Version string         `json:"version"`
	Kind    string         `json:"kind"`
	Code    string         `json:"code"`
	Group   string         `json:"group,omitempty"`
	NameJA  string         `json:"name_ja"`
	NameEN  string         `json:"name_en"`
	Data    map[string]any `json:"data,omitempty"`
}

package e2e

import (
	"slices"

	"kyoyu"
	"kyoyu/policy"
)

// The oracle is the sharing-range rule written a second time, straight from
// the handbook (seed 003: 表4 情報共有範囲 for reports, 図7 情報提供様式 for
// advisories) and the product decisions, without looking at package policy's
// code. It is deliberately shaped like the handbook — one row per form and
// range, naming the parties the row names — so that a reader can hold each
// line against the page it comes from.

// party is one class of organisation a row of the handbook names.
type party struct {
	name string // the handbook's wording
	in   func(v policy.Viewer, it policy.Item) bool
}

func hasKind(v policy.Viewer, k kyoyu.OrgKind) bool { return slices.Contains(v.Kinds, k) }

// concerned: the viewer's organisation works in one of the item's sectors
// (直接関係する分野 for reports, 情報提供先の分野 for advisories).
func concerned(v policy.Viewer, it policy.Item) bool {
	for _, s := range v.Sectors {
		if slices.Contains(it.Sectors, s) {
			return true
		}
	}
	return false
}

// memberOperator: an operator that belongs to at least one CEPTOAR
// (セプターを構成する重要インフラ事業者等).
func memberOperator(v policy.Viewer) bool {
	return hasKind(v, kyoyu.KindOperator) && len(v.CEPTOARs) > 0
}

func kindParty(name string, k kyoyu.OrgKind) party {
	return party{name, func(v policy.Viewer, _ policy.Item) bool { return hasKind(v, k) }}
}

var (
	pNISC              = kindParty("NISC (重要インフラ防護担当)", kyoyu.KindNISC)
	pMinistry          = kindParty("重要インフラ所管省庁", kyoyu.KindMinistry)
	pResponseMinistry  = kindParty("事案対処省庁", kyoyu.KindResponseMinistry)
	pSecurityMinistry  = kindParty("情報セキュリティ関係省庁", kyoyu.KindSecurityMinistry)
	pDisasterMinistry  = kindParty("防災関係府省庁", kyoyu.KindDisasterMinistry)
	pSecurityAgency    = kindParty("情報セキュリティ関係機関", kyoyu.KindSecurityAgency)
	pEventOrg          = kindParty("オリパラ関係組織", kyoyu.KindEventOrg)
	pCyberVendor       = kindParty("サイバー空間関連事業者", kyoyu.KindCyberVendor)
	pCEPTOAR           = kindParty("セプター", kyoyu.KindCEPTOAR)
	pCEPTOARMember     = party{"セプターを構成する重要インフラ事業者等", func(v policy.Viewer, _ policy.Item) bool { return memberOperator(v) }}
	pConcernedMinistry = party{"重要インフラ所管省庁 (直接関係する分野)", func(v policy.Viewer, it policy.Item) bool {
		return hasKind(v, kyoyu.KindMinistry) && concerned(v, it)
	}}
	pConcernedCEPTOAR = party{"セプター (直接関係する分野)", func(v policy.Viewer, it policy.Item) bool {
		return hasKind(v, kyoyu.KindCEPTOAR) && concerned(v, it)
	}}
	pConcernedMember = party{"セプターを構成する重要インフラ事業者等 (直接関係する分野)", func(v policy.Viewer, it policy.Item) bool {
		return memberOperator(v) && concerned(v, it)
	}}
	// The advisory form names its recipients as ministry + sector pairs
	// (情報提供先* 所管省庁名及び分野名); the ministries are named one by one.
	pRecipientMinistry = party{"情報提供先の重要インフラ所管省庁", func(v policy.Viewer, it policy.Item) bool {
		return slices.Contains(it.RecipientMinistries, v.OrgID)
	}}
)

// rangeRow is one row of the handbook: who the range reaches besides the
// originator, the organisations on the route (holders) and the ※1/※2
// additions, which every row shares and the oracle handles once.
type rangeRow struct {
	parties    []party
	needToKnow bool // 関係者限り: only staff who handle incident information
	public     bool // 公開情報: anyone, signed in or not
}

var sharingRanges = map[policy.Kind]map[policy.TLP]rangeRow{
	// 表4 情報共有範囲 (情報連絡). Header 「情報共有可能な範囲 (※1)」.
	policy.Report: {
		// Red 宛先限り: 「・NISC (重要インフラ防護担当)※2 ・重要インフラ所管省庁
		// (情報提供先又は情報提供元の所管省庁)」, 定義「情報発信者と、情報受信者の
		// 2者間に限定する。」 The definition is the rule: sender and receiver only.
		// The two parties listed are those two on the normal route — the ministry
		// it came from or went to, and NISC as its addressee (「宛先限り、即ち NISC
		// 重要インフラ防護担当限り」) — and both are holders once it reached them.
		// So no class of organisation is added here: another organisation of
		// kind nisc that was not the addressee is not one of the 2者.
		policy.Red: {needToKnow: true},
		// Amber 特定分野・関係者限り: 「・NISC (重要インフラ防護担当)※2
		// ・重要インフラ所管省庁 (直接関係する分野) ・セプター (直接関係する分野)
		// ・セプターを構成する重要インフラ事業者等 (直接関係する分野)」,
		// 定義「…で、かつ業務の遂行にあたって、その情報を知る必要がある者に限る。」
		policy.Amber: {parties: []party{pNISC, pConcernedMinistry, pConcernedCEPTOAR, pConcernedMember}, needToKnow: true},
		// Green 重要インフラ関係主体限り: 「・NISC ・重要インフラ所管省庁 ・事案対処省庁
		// ・情報セキュリティ関係省庁 ・防災関係府省庁 ・情報セキュリティ関係機関
		// ・オリパラ関係組織 ・サイバー空間関連事業者 ・セプター
		// ・セプターを構成する重要インフラ事業者等」
		policy.Green: {parties: []party{pNISC, pMinistry, pResponseMinistry, pSecurityMinistry, pDisasterMinistry,
			pSecurityAgency, pEventOrg, pCyberVendor, pCEPTOAR, pCEPTOARMember}},
		// White 公開情報: 「・限定なし」「要機密情報としての扱いは要さない。」
		policy.White: {public: true},
	},
	// 図7 情報提供様式, 情報共有範囲*. NISC is the sender (情報発信者) of
	// advisories, not a party of any row: it sees them as originator or holder.
	policy.Advisory: {
		// 「Red = 宛先限り (情報提供先の重要インフラ所管省庁限り)」
		policy.Red: {parties: []party{pRecipientMinistry}, needToKnow: true},
		// (The form prints セクター; セプター is meant, as in 表4.)
		// 「Amber=特定分野・関係者限り (情報提供先の重要インフラ所管省庁及びセクター
		// (セクターを構成する重要インフラ事業者等を含む。)に属する者のうち、関係者限り)」
		policy.Amber: {parties: []party{pRecipientMinistry, pConcernedCEPTOAR, pConcernedMember}, needToKnow: true},
		// 「Green=重要インフラ関係主体限り (重要インフラ所管省庁及びセクター(セクターを
		// 構成する重要インフラ事業者等を含む。)に属する者限り)」 — all of them, not only
		// the recipients: the form drops 「情報提供先の」 here. The addressees stay
		// in: a wider range never loses the recipients of the narrower ones.
		policy.Green: {parties: []party{pRecipientMinistry, pMinistry, pCEPTOAR, pCEPTOARMember}},
		// 「White=公開情報」
		policy.White: {public: true},
	},
}

// oracle says what v may see of it.
func oracle(v policy.Viewer, it policy.Item) policy.Decision {
	see, _ := oracleWhy(v, it)
	// Product decision: an anonymised item's real source is for the originator
	// and SourceOrgs only, and only with the item. A source that was never
	// hidden is seen by whoever sees the item.
	source := see && (!it.Anonymised ||
		(!v.Anonymous && (v.OrgID == it.Originator || slices.Contains(it.SourceOrgs, v.OrgID))))
	return policy.Decision{See: see, SeeSource: source}
}

// oracleWhy decides whether v sees it and names the step that decided, so
// that failures say why and the test can show every step was taken.
func oracleWhy(v policy.Viewer, it policy.Item) (bool, string) {
	row, ok := sharingRanges[it.Kind][it.TLP]
	if !ok {
		// An item of unknown form or range is shown to nobody but its
		// originator: fail closed.
		return !v.Anonymous && v.OrgID == it.Originator, "unknown form or range"
	}
	if v.Anonymous {
		// WHITE items are public once shared; nothing else is for visitors.
		return row.public && it.Shared, "anonymous visitor"
	}
	// The originating organisation always sees its own item, whoever in it
	// looks (need to know is not asked of the item's own organisation).
	if v.OrgID == it.Originator {
		return true, "originator"
	}
	// Exclusion beats everything else.
	if slices.Contains(it.Excluded, v.OrgID) {
		return false, "excluded"
	}
	// 関係者限り (product decision: RED and AMBER alike).
	if row.needToKnow && !v.NeedToKnow {
		return false, "no need to know"
	}
	// Organisations on the route: 「情報発信者と、情報受信者」, also before sharing.
	if slices.Contains(it.Holders, v.OrgID) {
		return true, "holder"
	}
	if !it.Shared {
		return false, "not yet shared"
	}
	if row.public {
		return true, "公開情報"
	}
	// ※1「情報発信者が、上記の情報共有範囲に含まれない対象の追加を求める場合は、
	// 当該対象を共有範囲に含めることができるものとする。」
	if slices.Contains(it.Recipients, v.OrgID) {
		return true, "※1 recipient"
	}
	// ※2「情報の集約・分析のため、必要に応じ、あらかじめ連携を要請した情報
	// セキュリティ関係機関との間で情報共有を行う。」
	if slices.Contains(it.Partners, v.OrgID) {
		return true, "※2 partner"
	}
	for _, p := range row.parties {
		if p.in(v, it) {
			return true, string(it.Kind) + "/" + string(it.TLP) + ": " + p.name
		}
	}
	return false, "outside the range"
}

// oracleSteps lists every step oracleWhy can name for valid items.
func oracleSteps() []string {
	steps := []string{"anonymous visitor", "originator", "excluded", "no need to know", "holder",
		"not yet shared", "公開情報", "※1 recipient", "※2 partner", "outside the range"}
	for kind, rows := range sharingRanges {
		for tlp, row := range rows {
			for _, p := range row.parties {
				steps = append(steps, string(kind)+"/"+string(tlp)+": "+p.name)
			}
		}
	}
	return steps
}

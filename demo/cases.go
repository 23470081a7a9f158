package demo

import (
	"context"
	"fmt"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/report"
	"kyoyu/store"
)

// extraPeople report the demo cases of operators other than 東和電力.
var extraPeople = []Account{
	{"reporter@mizuho-electric.demo.kyoyu.jp", kyoyu.RoleOperatorReporter, "demo_electricity_2", "瑞穂 報告者", true},
}

// LoadCases walks a few reports through every route, so the inbox and the
// case pages have something to show. It runs after Load, on the database
// Load filled, with the server's configuration (case number format …).
func LoadCases(ctx context.Context, db *store.DB, cfg kyoyu.Config, argon account.Argon2) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	hash, err := argon.HashPassword(Password)
	if err != nil {
		return err
	}
	for _, a := range extraPeople {
		org, err := db.OrganisationByCode(ctx, a.Organisation)
		if err != nil {
			return err
		}
		if err := db.CreatePerson(ctx, kyoyu.Actor{}, &kyoyu.Person{OrganisationID: org.ID, Email: a.Email, Name: a.Name, Role: a.Role, HandlesIncidents: true, PasswordHash: hash}); err != nil {
			return err
		}
	}
	pr := func(email string) (*account.Principal, error) {
		p, err := db.PersonByEmail(ctx, email)
		if err != nil {
			return nil, err
		}
		o, err := db.Organisation(ctx, p.OrganisationID)
		if err != nil {
			return nil, err
		}
		return &account.Principal{Person: p, Organisation: o}, nil
	}
	towa, err := pr("reporter@operator.demo.kyoyu.jp")
	if err != nil {
		return err
	}
	mizuho, err := pr(extraPeople[0].Email)
	if err != nil {
		return err
	}
	secretariat, err := pr("secretariat@ceptoar.demo.kyoyu.jp")
	if err != nil {
		return err
	}
	meti, err := pr("liaison@meti.demo.kyoyu.jp")
	if err != nil {
		return err
	}
	svc := report.New(db, cfg)
	const ip = "demo"
	at := func(d time.Duration) *time.Time { t := db.Now().Add(-d); return &t }
	// through submits a draft and has each hop take it up and pass it on.
	through := func(owner *account.Principal, draft *kyoyu.ReportVersion, hops ...*account.Principal) error {
		ver, _, err := svc.Submit(ctx, owner, ip, draft.ID)
		if err != nil {
			return fmt.Errorf("demo report: %w", err)
		}
		for _, h := range hops {
			next, err := svc.TakeUp(ctx, h, ip, ver.ID)
			if err != nil {
				return fmt.Errorf("demo report: %w", err)
			}
			if ver, _, err = svc.Submit(ctx, h, ip, next.ID); err != nil {
				return fmt.Errorf("demo report: %w", err)
			}
		}
		return nil
	}

	// 1. 東和電力 → 経済産業省 → NISC, AMBER, with a follow-up.
	f := kyoyu.ReportForm{
		TLP: "amber", Importance: "advisory", EventClass: "intrusion", Causes: []string{"vulnerability"}, Sector: "electricity",
		DiscoveredAt: at(30 * time.Hour), OccurredAt: at(34 * time.Hour),
		AffectedSystem: "本社VPN装置（リモート保守用）",
		Description:    "VPN装置の既知の脆弱性を突いた不正アクセスにより、保守用セグメントへの侵入を確認した。制御系への影響は現時点で確認されていない。",
		SystemStatus:   "partial", Outlook: "investigating",
		Reporter: kyoyu.Contact{Organisation: "東和電力株式会社", Department: "情報セキュリティ室", Name: "東和 報告者", Phone: "03-0000-0001"},
		Timeline: []kyoyu.TimelineRow{{At: "前日 05:10", Event: "VPN装置で不審なログインを検知"}, {At: "前日 09:00", Event: "保守用セグメントを遮断"}},
	}
	c, draft, err := svc.Start(ctx, towa, ip, report.StartInput{Route: kyoyu.RouteMinistry, Form: f})
	if err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	if err := through(towa, draft, meti); err != nil {
		return err
	}
	fu, err := svc.FollowUp(ctx, towa, ip, c.ID)
	if err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	f = fu.Form
	f.SystemStatus, f.Outlook = "recovered", "completed"
	f.Lessons = "保守用VPNの多要素認証化と、脆弱性情報の確認手順を見直した。"
	if _, err := svc.SaveDraft(ctx, towa, ip, fu.ID, f); err != nil {
		return err
	}
	if err := through(towa, fu, meti); err != nil {
		return err
	}

	// 2. 瑞穂電力 → 電力セプター事務局（匿名化）→ 経済産業省 → NISC, GREEN.
	g := kyoyu.ReportForm{
		TLP: "green", Importance: "info", EventClass: "malware_infection", Causes: []string{"suspicious_email"}, Sector: "electricity",
		DiscoveredAt: at(6 * time.Hour),
		Description:  "瑞穂電力の事務用端末1台で、取引先を装った不審メールの添付ファイルを開いたことによるマルウェア感染を確認した。情報の漏えいは確認されていない。",
		SystemStatus: "recovered", Outlook: "considering",
		Reporter: kyoyu.Contact{Organisation: "瑞穂電力株式会社", Name: "瑞穂 報告者", Email: extraPeople[0].Email},
	}
	_, draft, err = svc.Start(ctx, mizuho, ip, report.StartInput{Route: kyoyu.RouteCEPTOAR, Form: g})
	if err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	if err := through(mizuho, draft, secretariat, meti); err != nil {
		return err
	}

	// 3. 経済産業省 originates, for a gas operator that phoned in, RED.
	h := kyoyu.ReportForm{
		TLP: "red", Importance: "warning", EventClass: "availability", Causes: []string{"dos"}, Sector: "gas",
		DiscoveredAt: at(2 * time.Hour), Description: "ガス事業者の顧客向けWebサイトがDDoS攻撃を受け、閲覧しにくい状態が続いている。",
		SystemStatus: "partial", Outlook: "ongoing",
		Reporter: kyoyu.Contact{Organisation: "経済産業省", Department: "商務情報政策局", Name: "経産 連絡官", Phone: "03-0000-0002"},
	}
	gas, err := db.OrganisationByCode(ctx, "demo_gas_1")
	if err != nil {
		return err
	}
	_, draft, err = svc.Start(ctx, meti, ip, report.StartInput{Route: kyoyu.RouteMinistryOrigin, OperatorOrgID: gas.ID, Channel: "phone", TakenBy: "経産 連絡官", Form: h})
	if err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	return through(meti, draft)
}

// Package demo fills an empty database with a small, believable community:
// every ministry, NISC and CEPTOAR from the directory, a few operators in
// each sector, JPCERT/CC and IPA as analysis partners, and one account per role.
package demo

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/store"
)

// Password is the password of every demo account. Demo data is for trying
// Kyoyu out, never for production.
const Password = "kyoyu-demo-2026"

// Account is a demo account as the README and `serve --demo` list it.
type Account struct {
	Email        string
	Role         kyoyu.Role
	Organisation string // organisation code
	Name         string
	Handles      bool
}

// Accounts are the demo accounts, one per role.
var Accounts = []Account{
	{"analyst@nisc.demo.kyoyu.jp", kyoyu.RoleNISCAnalyst, "nisc", "内閣 分析官", true},
	{"liaison@meti.demo.kyoyu.jp", kyoyu.RoleMinistryLiaison, "meti", "経産 連絡官", true},
	{"secretariat@ceptoar.demo.kyoyu.jp", kyoyu.RoleCEPTOARSecretariat, "", "電力 事務局員", true},
	{"reporter@operator.demo.kyoyu.jp", kyoyu.RoleOperatorReporter, "demo_electricity_1", "東和 報告者", true},
	{"admin@operator.demo.kyoyu.jp", kyoyu.RoleOrgAdmin, "demo_electricity_1", "東和 管理者", false},
	{"sysadmin@nisc.demo.kyoyu.jp", kyoyu.RoleSystemAdmin, "nisc", "システム 管理者", false},
}

var sectorSuffix = map[string]string{
	"info_comm": "通信株式会社", "finance": "銀行", "aviation": "航空株式会社", "airport": "空港ビル株式会社",
	"railway": "鉄道株式会社", "electricity": "電力株式会社", "gas": "ガス株式会社", "government": "市役所",
	"medical": "総合病院", "water": "市水道局", "logistics": "運輸株式会社", "chemical": "化学工業株式会社",
	"credit": "カード株式会社", "petroleum": "石油株式会社", "port": "港湾運送株式会社",
}

var prefixes = []struct{ ja, en string }{{"東和", "Towa"}, {"瑞穂", "Mizuho-no-Kuni"}, {"青葉", "Aoba"}}

// Load adds the demo community to a database that has the directory but no
// people yet. It is a no-op on a database that already has people.
func Load(ctx context.Context, db *store.DB, argon account.Argon2) ([]Account, error) {
	people, err := db.People(ctx, 0)
	if err != nil {
		return nil, err
	}
	if len(people) > 0 {
		return nil, nil
	}
	ceptoars, err := db.CEPTOARs(ctx)
	if err != nil {
		return nil, err
	}
	sectors, err := db.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	actor := kyoyu.Actor{}
	// A few operators per sector, each a member of its sector's first CEPTOAR.
	secretariatOf := map[string]int64{}
	for _, s := range sectors {
		var member []string
		for _, c := range ceptoars {
			for _, cs := range c.Sectors {
				if cs == s.Code && len(member) == 0 {
					member = []string{c.Code}
					secretariatOf[s.Code] = c.OrganisationID
				}
			}
		}
		for i, p := range prefixes {
			o := &kyoyu.Organisation{
				Code:     fmt.Sprintf("demo_%s_%d", s.Code, i+1),
				NameJA:   p.ja + sectorSuffix[s.Code],
				NameEN:   fmt.Sprintf("%s %s (demo)", p.en, s.NameEN),
				Kinds:    []kyoyu.OrgKind{kyoyu.KindOperator},
				Sectors:  []string{s.Code},
				CEPTOARs: member,
			}
			if err := db.CreateOrganisation(ctx, actor, o); err != nil {
				return nil, fmt.Errorf("demo operator %s: %w", o.NameJA, err)
			}
		}
	}
	// Parties the directory cannot name (the seeds name none): one of each.
	for _, o := range []*kyoyu.Organisation{
		{Code: "demo_vendor", NameJA: "桜セキュリティ株式会社", NameEN: "Sakura Security (demo)", Kinds: []kyoyu.OrgKind{kyoyu.KindCyberVendor}},
		{Code: "demo_event", NameJA: "国際競技大会組織委員会（デモ）", NameEN: "International Games Organising Committee (demo)", Kinds: []kyoyu.OrgKind{kyoyu.KindEventOrg}},
	} {
		if err := db.CreateOrganisation(ctx, actor, o); err != nil {
			return nil, fmt.Errorf("demo organisation %s: %w", o.NameJA, err)
		}
	}
	hash, err := argon.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	var out []Account
	for _, a := range Accounts {
		var org *kyoyu.Organisation
		if a.Organisation == "" { // the electricity CEPTOAR's secretariat
			org, err = db.Organisation(ctx, secretariatOf["electricity"])
		} else {
			org, err = db.OrganisationByCode(ctx, a.Organisation)
		}
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", a.Email, err)
		}
		p := &kyoyu.Person{OrganisationID: org.ID, Email: a.Email, Name: a.Name, Role: a.Role, HandlesIncidents: a.Handles, PasswordHash: hash}
		if err := db.CreatePerson(ctx, actor, p); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", a.Email, err)
		}
		a.Organisation = org.NameJA
		out = append(out, a)
	}
	return out, nil
}

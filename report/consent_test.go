package report_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
)

// forwarded walks an operator's report through the ministry, which sends
// it to NISC under tlp, and returns the case id.
func (w *world) forwarded(t *testing.T, opTLP, tlp string) int64 {
	t.Helper()
	ctx := context.Background()
	c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: form(opTLP)})
	if err != nil {
		t.Fatal(err)
	}
	ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.forward(t, ver.ID, tlp)
	return c.ID
}

// forward has the ministry take up a version and send it to NISC under tlp.
func (w *world) forward(t *testing.T, versionID int64, tlp string) *kyoyu.ReportVersion {
	t.Helper()
	ctx := context.Background()
	mine, err := w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", versionID)
	if err != nil {
		t.Fatal(err)
	}
	f := mine.Form
	f.TLP = tlp
	if _, err := w.svc.SaveDraft(ctx, w.liaison, "192.0.2.2", mine.ID, f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); err != nil {
		t.Fatal(err)
	}
	return mine
}

func mustSee(t *testing.T, db *store.DB, p *account.Principal, caseID int64) *kyoyu.Case {
	t.Helper()
	c, _, err := db.Case(context.Background(), view(p), caseID)
	if err != nil {
		t.Fatalf("%s does not see case %d: %v", p.Person.Email, caseID, err)
	}
	return c
}

func notified(t *testing.T, db *store.DB, p *account.Principal, kind string) bool {
	t.Helper()
	ns, err := db.Notifications(context.Background(), view(p), 50)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ns, func(n store.Notification) bool { return n.Kind == kind })
}

func audited(t *testing.T, db *store.DB, action string) int {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// staff adds a person to an organisation (by code) and returns them as a principal.
func staff(t *testing.T, db *store.DB, code, email string, role kyoyu.Role, handles bool) *account.Principal {
	t.Helper()
	ctx := context.Background()
	org, err := db.OrganisationByCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	p := &kyoyu.Person{OrganisationID: org.ID, Email: email, Name: email, Role: role, HandlesIncidents: handles, PasswordHash: "x"}
	if err := db.CreatePerson(ctx, kyoyu.Actor{}, p); err != nil {
		t.Fatal(err)
	}
	return principal(t, db, email)
}

// The ministry narrows a report to AMBER, then asks the operator to widen
// it to GREEN; only the operator's consent lets a gas operator see it.
func TestConsentWidensRange(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		id := w.forwarded(t, "green", "amber")
		mustNotSee(t, db, w.other, id)

		ask := report.WideningRequest{ToTLP: "green", Reason: "他分野の事業者にも同種の攻撃が想定されるため"}
		// Not holders: the secretariat sees the AMBER electricity case but
		// did not hold it; the gas operator does not see it at all.
		mustSee(t, db, w.secretariat, id)
		if _, err := w.svc.RequestWidening(ctx, w.secretariat, "192.0.2.3", id, ask); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("secretariat asks: %v", err)
		}
		if _, err := w.svc.RequestWidening(ctx, w.other, "192.0.2.9", id, ask); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("gas operator asks: %v", err)
		}
		// The originator does not ask itself.
		if _, err := w.svc.RequestWidening(ctx, w.reporter, "192.0.2.1", id, ask); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("originator asks: %v", err)
		}
		// Nothing wider, narrower, no reason.
		for _, bad := range []report.WideningRequest{
			{ToTLP: "amber", Reason: "x"}, {ToTLP: "red", Reason: "x"}, {ToTLP: "green"}, {ToTLP: "black", Reason: "x"},
			{AddSectors: []string{"electricity"}, Reason: "x"}, {AddSectors: []string{"moon"}, Reason: "x"},
		} {
			if _, err := w.svc.RequestWidening(ctx, w.liaison, "192.0.2.2", id, bad); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
				t.Errorf("request %+v: %v", bad, err)
			}
		}

		req, err := w.svc.RequestWidening(ctx, w.liaison, "192.0.2.2", id, ask)
		if err != nil {
			t.Fatal(err)
		}
		if req.Status != store.ConsentPending || req.FromTLP != "amber" || req.ToTLP != "green" || req.RequestedByOrg != w.liaison.Organisation.ID {
			t.Errorf("request %+v", req)
		}
		if _, err := w.svc.RequestWidening(ctx, w.liaison, "192.0.2.2", id, ask); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Errorf("second pending request: %v", err)
		}
		if !notified(t, db, w.reporter, "notify.consent_requested") {
			t.Error("the operator was not told of the request")
		}
		// Before the answer nothing changed.
		mustNotSee(t, db, w.other, id)
		if c := mustSee(t, db, w.analyst, id); c.TLP != "amber" {
			t.Errorf("range before the answer: %s", c.TLP)
		}
		// The parties see the request; NISC, a holder but not a party, does not.
		for p, want := range map[*account.Principal]int{w.reporter: 1, w.liaison: 1, w.analyst: 0} {
			rs, err := w.svc.ConsentRequests(ctx, p, id)
			if err != nil || len(rs) != want {
				t.Errorf("%s sees %d requests (%v), want %d", p.Person.Email, len(rs), err, want)
			}
		}
		if _, err := w.svc.ConsentRequests(ctx, w.other, id); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("gas operator lists requests: %v", err)
		}
		// Only the originating organisation answers: to anyone else the request does not exist.
		for _, p := range []*account.Principal{w.liaison, w.analyst, w.secretariat, w.other} {
			if _, err := w.svc.AnswerConsent(ctx, p, "192.0.2.9", req.ID, true, ""); !errors.Is(err, kyoyu.ErrNotFound) {
				t.Errorf("%s answers: %v", p.Person.Email, err)
			}
		}
		if _, err := w.svc.ConsentRequest(ctx, w.reporter, id+1000, req.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("request read through another case: %v", err)
		}

		got, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", req.ID, true, "了承します")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.ConsentGranted || got.AnswerNote != "了承します" || got.AnsweredAt == nil || got.AnsweredByPerson != w.reporter.Person.ID {
			t.Errorf("answer %+v", got)
		}
		if c := mustSee(t, db, w.other, id); c.TLP != "green" {
			t.Errorf("gas operator sees range %s", c.TLP)
		}
		if _, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", req.ID, false, ""); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Errorf("second answer: %v", err)
		}
		if !notified(t, db, w.liaison, "notify.consent_answered") {
			t.Error("the ministry was not told of the answer")
		}
		if audited(t, db, "consent.request") != 1 || audited(t, db, "consent.grant") != 1 {
			t.Error("request and grant are not both in the audit log")
		}
		if _, err := db.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
		// Someone who now sees the case but never held it still may not ask.
		if _, err := w.svc.RequestWidening(ctx, w.other, "192.0.2.9", id, report.WideningRequest{ToTLP: "white", Reason: "x"}); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("non-holder asks: %v", err)
		}
		// The originator's next report starts from the granted range, so
		// sending it does not take the consent back.
		fu, err := w.svc.FollowUp(ctx, w.reporter, "192.0.2.1", id)
		if err != nil {
			t.Fatal(err)
		}
		if fu.Form.TLP != "green" {
			t.Errorf("follow-up starts at %s, want the granted green", fu.Form.TLP)
		}
	})
}

func TestConsentRefusedChangesNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		id := w.forwarded(t, "amber", "amber")
		gas, err := db.OrganisationByCode(ctx, "demo_gas_1")
		if err != nil {
			t.Fatal(err)
		}
		req, err := w.svc.RequestWidening(ctx, w.analyst, "192.0.2.4", id, report.WideningRequest{
			AddSectors: []string{"gas"}, AddRecipients: []int64{gas.ID}, Reason: "ガス分野でも同じ装置が使われている"})
		if err != nil {
			t.Fatal(err)
		}
		if req.FromTLP != "amber" || req.ToTLP != "amber" || !slices.Equal(req.AddSectors, []string{"gas"}) || !slices.Equal(req.AddRecipients, []int64{gas.ID}) {
			t.Errorf("request %+v", req)
		}
		itemID := mustSee(t, db, w.analyst, id).ItemID
		before, err := db.ItemState(ctx, itemID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", req.ID, false, "取引先の特定につながるため")
		if err != nil || got.Status != store.ConsentRefused {
			t.Fatalf("refuse: %+v %v", got, err)
		}
		after, err := db.ItemState(ctx, itemID)
		if err != nil || after.TLP != before.TLP || !slices.Equal(after.Recipients, before.Recipients) || !slices.Equal(after.Sectors, before.Sectors) {
			t.Errorf("a refusal changed the item: %+v → %+v (%v)", before, after, err)
		}
		mustNotSee(t, db, w.other, id)
		if audited(t, db, "consent.refuse") != 1 {
			t.Error("refusal not audited")
		}
		if !notified(t, db, w.analyst, "notify.consent_answered") {
			t.Error("NISC was not told of the refusal")
		}
		// A new request may follow a refusal; withdrawn, it changes nothing either.
		again, err := w.svc.RequestWidening(ctx, w.analyst, "192.0.2.4", id, report.WideningRequest{AddSectors: []string{"gas"}, Reason: "再度の依頼"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.WithdrawConsent(ctx, w.liaison, "192.0.2.2", again.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("another holder withdraws: %v", err)
		}
		if got, err := w.svc.WithdrawConsent(ctx, w.analyst, "192.0.2.4", again.ID); err != nil || got.Status != store.ConsentWithdrawn {
			t.Fatalf("withdraw: %+v %v", got, err)
		}
		if _, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", again.ID, true, ""); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Errorf("grant after withdrawal: %v", err)
		}
		mustNotSee(t, db, w.other, id)
		// Granted, the sector and the recipient widen the AMBER range to the gas operator.
		third, err := w.svc.RequestWidening(ctx, w.analyst, "192.0.2.4", id, report.WideningRequest{AddSectors: []string{"gas"}, Reason: "三度目"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", third.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if c := mustSee(t, db, w.other, id); c.TLP != "amber" {
			t.Errorf("range %s", c.TLP)
		}
	})
}

// A forwarder's wider range is refused until the originator consents, and
// accepted after.
func TestForwardingWithinGrantedRange(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		id := w.forwarded(t, "amber", "amber")
		fu, err := w.svc.FollowUp(ctx, w.reporter, "192.0.2.1", id)
		if err != nil {
			t.Fatal(err)
		}
		ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", fu.ID)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
		if err != nil {
			t.Fatal(err)
		}
		f := mine.Form
		f.TLP = "green"
		f.ConcernedSectors = []string{"gas"}
		if _, err := w.svc.SaveDraft(ctx, w.liaison, "192.0.2.2", mine.ID, f); err != nil {
			t.Fatal(err)
		}
		var ke *kyoyu.Error
		_, _, err = w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID)
		if !errors.As(err, &ke) || ke.Fields["tlp"] != "widens" || ke.Fields["concerned_sectors"] != "widens" {
			t.Fatalf("wider range before consent: %v", err)
		}
		req, err := w.svc.RequestWidening(ctx, w.liaison, "192.0.2.2", id, report.WideningRequest{ToTLP: "green", AddSectors: []string{"gas"}, Reason: "広く共有したい"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", req.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); err != nil {
			t.Fatalf("consented range refused: %v", err)
		}
		if c := mustSee(t, db, w.other, id); c.TLP != "green" || c.ReportCount != 2 {
			t.Errorf("after 第2報: %+v", c)
		}
		// WHITE was never consented to.
		fu, err = w.svc.FollowUp(ctx, w.reporter, "192.0.2.1", id)
		if err != nil {
			t.Fatal(err)
		}
		f = fu.Form
		f.TLP = "green"
		if _, err := w.svc.SaveDraft(ctx, w.reporter, "192.0.2.1", fu.ID, f); err != nil {
			t.Fatal(err)
		}
		ver, _, err = w.svc.Submit(ctx, w.reporter, "192.0.2.1", fu.ID)
		if err != nil {
			t.Fatal(err)
		}
		mine, err = w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
		if err != nil {
			t.Fatal(err)
		}
		f = mine.Form
		f.TLP = "white"
		if _, err := w.svc.SaveDraft(ctx, w.liaison, "192.0.2.2", mine.ID, f); err != nil {
			t.Fatal(err)
		}
		if _, _, err = w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); !errors.As(err, &ke) || ke.Fields["tlp"] != "widens" {
			t.Fatalf("WHITE without consent: %v", err)
		}
	})
}

// NISC engages IPA for a RED case: IPA's incident handlers see it, IPA's
// other staff do not, JPCERT/CC (not engaged) never does, and opting out
// ends it.
func TestAnalysisPartners(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		id := w.forwarded(t, "red", "red")
		ipaHandler := staff(t, db, "ipa", "handler@ipa.example.jp", kyoyu.RoleOrgAdmin, true)
		ipaOther := staff(t, db, "ipa", "clerk@ipa.example.jp", kyoyu.RoleOrgAdmin, false)
		jpcert := staff(t, db, "jpcert", "handler@jpcert.example.jp", kyoyu.RoleOrgAdmin, true)
		for _, p := range []*account.Principal{ipaHandler, ipaOther, jpcert} {
			mustNotSee(t, db, p, id)
		}
		ipa := ipaHandler.Organisation.ID
		// Only NISC's analysts choose partners; others are answered as if the case were not there.
		if _, err := w.svc.SetPartners(ctx, w.liaison, "192.0.2.2", id, []int64{ipa}); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("ministry engages a partner: %v", err)
		}
		if _, err := w.svc.SetPartners(ctx, w.other, "192.0.2.9", id, []int64{ipa}); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("gas operator engages a partner: %v", err)
		}
		// Only security agencies.
		if _, err := w.svc.SetPartners(ctx, w.analyst, "192.0.2.4", id, []int64{w.other.Organisation.ID}); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Errorf("an operator as partner: %v", err)
		}
		got, err := w.svc.SetPartners(ctx, w.analyst, "192.0.2.4", id, []int64{ipa})
		if err != nil || len(got) != 1 || got[0].ID != ipa {
			t.Fatalf("engage IPA: %+v %v", got, err)
		}
		if c := mustSee(t, db, ipaHandler, id); c.TLP != "red" {
			t.Errorf("IPA sees %+v", c)
		}
		mustNotSee(t, db, ipaOther, id)
		mustNotSee(t, db, jpcert, id)
		if !notified(t, db, ipaHandler, "notify.partner_engaged") {
			t.Error("IPA's handler was not told")
		}
		// Everyone who sees the case sees the partners.
		for _, p := range []*account.Principal{w.reporter, w.liaison, ipaHandler} {
			ps, err := w.svc.Partners(ctx, p, id)
			if err != nil || len(ps) != 1 || ps[0].ID != ipa {
				t.Errorf("%s sees partners %+v (%v)", p.Person.Email, ps, err)
			}
		}
		if _, err := w.svc.Partners(ctx, jpcert, id); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("JPCERT/CC reads partners: %v", err)
		}
		// A follow-up keeps the partners.
		fu, err := w.svc.FollowUp(ctx, w.reporter, "192.0.2.1", id)
		if err != nil {
			t.Fatal(err)
		}
		ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", fu.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.forward(t, ver.ID, "red")
		mustSee(t, db, ipaHandler, id)
		mustNotSee(t, db, jpcert, id)
		// Opting out ends it.
		if got, err := w.svc.SetPartners(ctx, w.analyst, "192.0.2.4", id, nil); err != nil || len(got) != 0 {
			t.Fatalf("opt out: %+v %v", got, err)
		}
		mustNotSee(t, db, ipaHandler, id)
		if audited(t, db, "case.partners") != 2 {
			t.Errorf("partner changes audited %d times", audited(t, db, "case.partners"))
		}
	})
}

// On an anonymised report the request reaches the operator, but nothing
// the ministry reads of it names who answered.
func TestConsentKeepsSourceHidden(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteCEPTOAR, Form: form("amber")})
		if err != nil {
			t.Fatal(err)
		}
		w.submitThrough(t, draft, w.secretariat, w.liaison)
		req, err := w.svc.RequestWidening(ctx, w.liaison, "192.0.2.2", c.ID, report.WideningRequest{ToTLP: "green",
			AddRecipients: []int64{w.reporter.Organisation.ID}, Reason: "広く共有したい"})
		if err != nil {
			t.Fatal(err)
		}
		// Named like any other organisation: refusing it would tell the
		// ministry which one is the source.
		if !slices.Equal(req.AddRecipients, []int64{w.reporter.Organisation.ID}) {
			t.Errorf("recipients %+v", req.AddRecipients)
		}
		if _, err := w.svc.AnswerConsent(ctx, w.reporter, "192.0.2.1", req.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		for p, named := range map[*account.Principal]bool{w.liaison: false, w.reporter: true} {
			rs, err := w.svc.ConsentRequests(ctx, p, c.ID)
			if err != nil || len(rs) != 1 || rs[0].Status != store.ConsentGranted || (rs[0].AnsweredByPerson != 0) != named {
				t.Errorf("%s reads %+v (%v)", p.Person.Email, rs, err)
			}
		}
		if c := mustSee(t, db, w.other, c.ID); c.TLP != "green" || c.OriginatorOrgID != 0 {
			t.Errorf("gas operator sees %+v", c)
		}
	})
}

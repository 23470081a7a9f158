package outbox_test

import (
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/internal/testkit"
	"kyoyu/outbox"
	"kyoyu/store"
)

// TestAdvisoryMailCarriesOwnAckLink publishes a GREEN and an AMBER
// advisory and passes both down to the CEPTOAR and its members; every
// person told receives, from a real SMTP server, a message carrying their
// own single-use acknowledgement link, which acknowledges in one click.
// The AMBER messages carry that link and nothing else: no title, no number.
func TestAdvisoryMailCarriesOwnAckLink(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := runCtx(t)
		port, dir := freePort(t), t.TempDir()
		startSink(t, port, dir)
		w := setup(t, db, port)
		english := w.person(t, "meti", "english@meti.example.go.jp", "en")
		analyst := principal(t, db, "analyst@nisc.demo.kyoyu.jp")
		secretariat := principal(t, db, "secretariat@ceptoar.demo.kyoyu.jp")
		svc := advisory.New(db, w.cfg)

		const title = "VPN装置の脆弱性に関する注意喚起"
		const summary = "広く使われているVPN装置に認証回避の脆弱性があり、悪用が確認された。"
		type published struct {
			tlp, number string
			itemID      int64
		}
		var advisories []published
		for _, tlp := range []string{"green", "amber"} {
			a, err := svc.Draft(ctx, analyst, "192.0.2.9", kyoyu.AdvisoryForm{
				Reason: kyoyu.ReasonVulnerability, Importance: "advisory", TLP: tlp, Title: title, Summary: summary,
				Actions:    "修正版を適用すること。",
				Recipients: []kyoyu.RecipientPair{{MinistryID: w.liaison.Organisation.ID, Sector: "electricity"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			number, err := svc.Publish(ctx, analyst, "192.0.2.9", a.VersionID)
			if err != nil {
				t.Fatalf("publish %s: %v", tlp, err)
			}
			if _, err := svc.Forward(ctx, w.liaison, "192.0.2.2", a.ID, advisory.ForwardInput{AllCEPTOARs: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Forward(ctx, secretariat, "192.0.2.3", a.ID, advisory.ForwardInput{AllMembers: true}); err != nil {
				t.Fatal(err)
			}
			advisories = append(advisories, published{tlp, number, a.ItemID})
		}

		if err := w.worker(db, "w1").RunUntilIdle(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := byMessageID(readMail(t, dir))
		links := map[string]string{} // ack link → the person it was sent to
		told := map[string]int{}     // person → messages
		var oneLink string
		for _, e := range emailJobs(t, db) {
			j, n, p := e.job, e.n, e.person
			got := msgs[outbox.MessageID(w.cfg, j)]
			if j.Status != store.JobDone || len(got) != 1 {
				t.Errorf("job %d for %s: %s, %d messages", j.ID, p.Email, j.Status, len(got))
				continue
			}
			m := got[0]
			if m.Rcpt != p.Email || n.Kind != "notify.advisory_received" || !strings.HasPrefix(n.Link, "/ack/") {
				t.Errorf("job %d: %s to %s, link %q", j.ID, n.Kind, m.Rcpt, n.Link)
				continue
			}
			if prev, dup := links[n.Link]; dup {
				t.Errorf("%s and %s were sent the same link %s", prev, p.Email, n.Link)
			}
			links[n.Link] = p.Email
			told[p.Email]++
			oneLink = strings.TrimPrefix(n.Link, "/ack/")
			link := w.cfg.BaseURL + n.Link
			if !strings.Contains(m.Body, link) {
				t.Errorf("mail to %s lacks its own link %s:\n%s", p.Email, link, m.Body)
			}
			var adv published
			for _, a := range advisories {
				if a.itemID == n.ItemID {
					adv = a
				}
			}
			for _, leak := range []string{title, summary, "VPN", adv.number} {
				if strings.Contains(m.Subject+m.Body, leak) {
					t.Errorf("%s mail to %s carries %q:\n%s\n%s", adv.tlp, p.Email, leak, m.Subject, m.Body)
				}
			}
			switch adv.tlp {
			case "green":
				want := "【Kyoyu】情報提供が届きました。受領確認をお願いします"
				if p.Locale == "en" {
					want = "[Kyoyu] An advisory has arrived; please acknowledge it"
				}
				if m.Subject != want {
					t.Errorf("GREEN subject to %s: %q, want %q", p.Email, m.Subject, want)
				}
			case "amber":
				want := "【Kyoyu】お知らせがあります"
				if p.Locale == "en" {
					want = "[Kyoyu] You have a new notification"
				}
				if m.Subject != want {
					t.Errorf("AMBER subject to %s: %q, want %q", p.Email, m.Subject, want)
				}
				// Nothing but the link: the generic lines, the link, the footer.
				for _, line := range strings.Split(m.Body, "\r\n") {
					if strings.Contains(line, "情報提供") || strings.Contains(line, "advisory") || strings.Contains(line, "/ack/") && line != link {
						t.Errorf("AMBER mail to %s says more than the link: %q", p.Email, line)
					}
				}
			default:
				t.Errorf("mail to %s about item %d, which is neither advisory", p.Email, n.ItemID)
			}
		}
		// Every hop's people heard of both advisories.
		for _, email := range []string{w.liaison.Person.Email, english.Person.Email, secretariat.Person.Email, w.reporter.Person.Email} {
			if told[email] != 2 {
				t.Errorf("%s received %d advisory messages, want 2", email, told[email])
			}
		}
		// The link in the mail acknowledges once.
		d, err := svc.AckByLink(ctx, oneLink, "198.51.100.1")
		if err != nil || d.AcknowledgedAt == nil || d.AckVia != "email" {
			t.Fatalf("ack by the mailed link: %+v %v", d, err)
		}
		if _, err := svc.AckByLink(ctx, oneLink, "198.51.100.1"); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Errorf("the mailed link worked twice: %v", err)
		}
	})
}
